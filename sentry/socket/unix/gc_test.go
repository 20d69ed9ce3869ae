package unix

import (
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// newPair makes a socket pair whose files the test releases itself.
func newPair(t *testing.T, typ int) (*vfs.FileDescription, *vfs.FileDescription) {
	t.Helper()
	a, b, err := socket.NewPair(ctx, linux.AF_UNIX, typ, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// sendFile sends f over from with SCM_RIGHTS; the message holds its own
// reference.
func sendFile(t *testing.T, from, f *vfs.FileDescription) {
	t.Helper()
	f.IncRef()
	ctrl := socket.ControlMessages{Rights: []*vfs.FileDescription{f}}
	if _, err := from.Impl().(*Socket).SendMsg(ctx, []byte("x"), nil, ctrl, 0, true); err != nil {
		t.Fatal(err)
	}
}

func closed(f *vfs.FileDescription) bool {
	s := f.Impl().(*Socket)
	mu.Lock()
	defer mu.Unlock()
	return s.closed
}

// TestGCCycles closes sockets that are only in flight in each other's
// queues (or their own): the collector must release them. Sockets that a
// live socket can still reach, or that a descriptor still holds, stay.
func TestGCCycles(t *testing.T) {
	for _, typ := range []int{linux.SOCK_STREAM, linux.SOCK_DGRAM, linux.SOCK_SEQPACKET} {
		// a sent over a itself: it sits in b's queue; b sent over b sits
		// in a's queue.
		a, b := newPair(t, typ)
		sendFile(t, a, a)
		sendFile(t, b, b)
		a.DecRef()
		if closed(a) {
			t.Fatalf("type %d: a closed while b's descriptor can reach it", typ)
		}
		b.DecRef()
		if !closed(a) || !closed(b) {
			t.Errorf("type %d: cycle not collected: a closed %v, b closed %v", typ, closed(a), closed(b))
		}

		// A chain hanging off a live socket stays: lp is held by the
		// test, c sits in lp's queue, and cp sits in c's queue, so a
		// reader of lp can still get c and then cp.
		l, lp := newPair(t, typ)
		c, cp := newPair(t, typ)
		sendFile(t, cp, cp) // cp in c's queue
		sendFile(t, l, c)   // c in lp's queue
		c.DecRef()
		cp.DecRef()
		if closed(c) || closed(cp) {
			t.Errorf("type %d: sockets reachable from a live queue were collected", typ)
		}
		l.DecRef()
		lp.DecRef()
		if !closed(c) || !closed(cp) {
			t.Errorf("type %d: sockets left after their holder closed", typ)
		}
	}
	mu.Lock()
	n := len(queuesWithRights)
	mu.Unlock()
	if n != 0 {
		// Closed sockets' queues are empty; the next collection forgets
		// them. Run one to check it does.
		collectGarbage()
		mu.Lock()
		n = len(queuesWithRights)
		mu.Unlock()
		if n != 0 {
			t.Errorf("%d queues still listed after everything closed", n)
		}
	}
}
