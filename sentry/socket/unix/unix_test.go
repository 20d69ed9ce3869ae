package unix

import (
	"errors"
	"github.com/runsc-lite/runsc-lite/sentry/inet"
	"testing"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/pipe"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// fakeCtx is a socket.Context with no file system that blocks on channels
// with no signals.
type fakeCtx struct{ pid int32 }

func (fakeCtx) Credentials() *auth.Credentials { return auth.NewCredentials(1000, 1000) }
func (c fakeCtx) PID() int32                   { return c.pid }
func (fakeCtx) NetworkStack() inet.Stack       { return nil }
func (fakeCtx) Umask() uint32                  { return 0o22 }
func (fakeCtx) PathOperation(string, bool) (vfs.PathOperation, *vfs.VirtualFilesystem, bool) {
	return vfs.PathOperation{}, nil, false
}
func (fakeCtx) BlockUntil(ch <-chan struct{}, deadline time.Time, has bool) error {
	var timeout <-chan time.Time
	if has {
		tm := time.NewTimer(time.Until(deadline))
		defer tm.Stop()
		timeout = tm.C
	}
	select {
	case <-ch:
		return nil
	case <-timeout:
		return errno.ETIMEDOUT
	}
}

var ctx = fakeCtx{pid: 7}

func pair(t *testing.T, typ int) (*Socket, *Socket) {
	t.Helper()
	a, b, err := socket.NewPair(ctx, linux.AF_UNIX, typ, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.DecRef(); b.DecRef() })
	return a.Impl().(*Socket), b.Impl().(*Socket)
}

func abstract(name string) []byte {
	return append([]byte{linux.AF_UNIX, 0, 0}, name...)
}

func TestStreamCoalescesAndEOF(t *testing.T) {
	a, b := pair(t, linux.SOCK_STREAM)
	for _, s := range []string{"ab", "cd"} {
		if n, err := a.SendMsg(ctx, []byte(s), nil, socket.ControlMessages{}, 0, true); n != 2 || err != nil {
			t.Fatalf("send %q: %d %v", s, n, err)
		}
	}
	data, _, err := b.RecvMsg(ctx, 10, linux.MSG_PEEK, true, false)
	if string(data) != "abcd" || err != nil {
		t.Fatalf("peek: %q %v", data, err)
	}
	data, _, err = b.RecvMsg(ctx, 10, 0, true, false)
	if string(data) != "abcd" || err != nil {
		t.Fatalf("recv: %q %v", data, err)
	}
	if _, _, err := b.RecvMsg(ctx, 10, 0, true, false); err != errno.EAGAIN {
		t.Fatalf("empty recv: %v", err)
	}
	if err := a.Shutdown(ctx, linux.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if data, _, err := b.RecvMsg(ctx, 10, 0, true, false); len(data) != 0 || err != nil {
		t.Fatalf("recv after SHUT_WR: %q %v", data, err)
	}
	if _, err := a.SendMsg(ctx, []byte("x"), nil, socket.ControlMessages{}, 0, true); err != errno.EPIPE {
		t.Fatalf("send after SHUT_WR: %v", err)
	}
	if got := b.Readiness(vfs.EventIn | EventRdHUp); got != vfs.EventIn|EventRdHUp {
		t.Errorf("readiness after peer SHUT_WR: %#x", got)
	}
}

func TestDatagramBoundariesAndTruncation(t *testing.T) {
	a, b := pair(t, linux.SOCK_DGRAM)
	for _, s := range []string{"hello", "", "xy"} {
		if _, err := a.SendMsg(ctx, []byte(s), nil, socket.ControlMessages{}, 0, true); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []struct {
		data   string
		msgLen int
	}{{"he", 5}, {"", 0}, {"xy", 2}} {
		data, res, err := b.RecvMsg(ctx, 2, 0, true, false)
		if err != nil || string(data) != want.data || res.MsgLen != want.msgLen {
			t.Errorf("recv: %q %d %v, want %q %d", data, res.MsgLen, err, want.data, want.msgLen)
		}
	}
	if _, err := a.SendMsg(ctx, make([]byte, defaultBuf), nil, socket.ControlMessages{}, 0, true); err != errno.EMSGSIZE {
		t.Errorf("oversized datagram: %v", err)
	}
}

func TestBufferBoundsBlockAndWake(t *testing.T) {
	a, b := pair(t, linux.SOCK_STREAM)
	big := make([]byte, 1<<20)
	n, err := a.SendMsg(ctx, big, nil, socket.ControlMessages{}, 0, true)
	if err != nil || n != defaultBuf {
		t.Fatalf("non-blocking fill: %d %v", n, err)
	}
	if a.Readiness(vfs.EventOut) != 0 {
		t.Error("full socket is writable")
	}
	done := make(chan int)
	go func() {
		n, _ := a.SendMsg(ctx, []byte("more"), nil, socket.ControlMessages{}, 0, false)
		done <- n
	}()
	total := 0
	for total < defaultBuf+4 {
		data, _, err := b.RecvMsg(ctx, 1<<16, 0, false, false)
		if err != nil {
			t.Fatal(err)
		}
		total += len(data)
	}
	select {
	case n := <-done:
		if n != 4 {
			t.Errorf("blocked send: %d", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("blocked writer never woke")
	}
}

func TestAbstractBindConnectAccept(t *testing.T) {
	l, err := socket.New(ctx, linux.AF_UNIX, linux.SOCK_STREAM, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.DecRef()
	ls := l.Impl().(*Socket)
	addr := abstract("unit-test-listener")
	if err := ls.Listen(ctx, 1); err != errno.EINVAL {
		t.Errorf("listen unbound: %v", err)
	}
	if err := ls.Bind(ctx, addr); err != nil {
		t.Fatal(err)
	}
	c, _ := socket.New(ctx, linux.AF_UNIX, linux.SOCK_STREAM, 0, 0)
	defer c.DecRef()
	cs := c.Impl().(*Socket)
	if err := cs.Bind(ctx, addr); err != errno.EADDRINUSE {
		t.Errorf("bind taken: %v", err)
	}
	if err := cs.Connect(ctx, addr, true); err != errno.ECONNREFUSED {
		t.Errorf("connect before listen: %v", err)
	}
	if err := ls.Listen(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := cs.Connect(ctx, addr, true); err != nil {
		t.Fatal(err)
	}
	if ls.Readiness(vfs.EventIn) != vfs.EventIn {
		t.Error("listener with a pending connection is not readable")
	}
	f, peer, err := ls.Accept(ctx, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef()
	if string(peer) != string(unnamed) {
		t.Errorf("peer address %q", peer)
	}
	got, _ := f.Impl().(*Socket).GetSockName(ctx)
	if string(got) != string(addr) {
		t.Errorf("accepted socket's name %q", got)
	}
	b, _ := cs.GetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_PEERCRED, 12)
	if len(b) != 12 || b[0] != 7 {
		t.Errorf("SO_PEERCRED %v", b)
	}
	// Another type has its own abstract namespace.
	d, _ := socket.New(ctx, linux.AF_UNIX, linux.SOCK_DGRAM, 0, 0)
	defer d.DecRef()
	if err := d.Impl().(*Socket).Bind(ctx, addr); err != nil {
		t.Errorf("dgram bind of a stream's name: %v", err)
	}
}

func TestRightsPassAndRelease(t *testing.T) {
	a, b := pair(t, linux.SOCK_DGRAM)
	r, w := pipe.New(0)
	defer w.DecRef()
	r.IncRef()
	if _, err := a.SendMsg(ctx, []byte("f"), nil, socket.ControlMessages{Rights: []*vfs.FileDescription{r}}, 0, true); err != nil {
		t.Fatal(err)
	}
	_, res, err := b.RecvMsg(ctx, 1, linux.MSG_PEEK, true, true)
	if err != nil || len(res.Control.Rights) != 1 || res.Control.Rights[0] != r {
		t.Fatalf("peek rights: %v %v", res.Control.Rights, err)
	}
	res.Control.Release()
	_, res, err = b.RecvMsg(ctx, 1, 0, true, false)
	if err != nil || len(res.Control.Rights) != 0 || !res.CtrlTrunc {
		t.Fatalf("recv without control: %v %v %v", res.Control.Rights, res.CtrlTrunc, err)
	}
	if got := r.Refs(); got != 1 {
		t.Errorf("passed file has %d references after being dropped, want 1", got)
	}
	r.DecRef()
}

func TestOptions(t *testing.T) {
	a, _ := pair(t, linux.SOCK_STREAM)
	for _, tc := range []struct {
		name    string
		opt     int
		set     []byte
		wantErr error
		want    []byte
	}{
		{name: "sndbuf doubled", opt: linux.SO_SNDBUF, set: socket.Int32Bytes(8192), want: socket.Int32Bytes(16384)},
		{name: "sndbuf floor", opt: linux.SO_SNDBUF, set: socket.Int32Bytes(1), want: socket.Int32Bytes(minSndBuf)},
		{name: "sndbuf capped", opt: linux.SO_SNDBUF, set: socket.Int32Bytes(1 << 30), want: socket.Int32Bytes(2 * maxBufSet)},
		{name: "short int", opt: linux.SO_REUSEADDR, set: []byte{1}, wantErr: errno.EINVAL},
		{name: "rcvtimeo", opt: linux.SO_RCVTIMEO, set: socket.TimevalBytes(1500 * time.Millisecond), want: socket.TimevalBytes(1500 * time.Millisecond)},
		{name: "rcvtimeo short", opt: linux.SO_RCVTIMEO, set: socket.Int32Bytes(1), wantErr: errno.EINVAL},
		{name: "rcvtimeo edom", opt: linux.SO_RCVTIMEO, set: append(socket.TimevalBytes(0)[:8], 0x80, 0x84, 0x1e, 0, 0, 0, 0, 0), wantErr: errno.EDOM},
		{name: "unknown", opt: 999, set: socket.Int32Bytes(1), wantErr: errno.ENOPROTOOPT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := a.SetSockOpt(ctx, linux.SOL_SOCKET, tc.opt, tc.set)
			if !errors.Is(err, tc.wantErr) && err != tc.wantErr {
				t.Fatalf("set: %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			got, err := a.GetSockOpt(ctx, linux.SOL_SOCKET, tc.opt, 64)
			if err != nil || string(got) != string(tc.want) {
				t.Errorf("get: %v %v, want %v", got, err, tc.want)
			}
		})
	}
}

func TestRecvTimeout(t *testing.T) {
	a, _ := pair(t, linux.SOCK_STREAM)
	a.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_RCVTIMEO, socket.TimevalBytes(50*time.Millisecond))
	start := time.Now()
	if _, _, err := a.RecvMsg(ctx, 1, 0, false, false); err != errno.EAGAIN {
		t.Fatalf("recv with timeout: %v", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("timed out after %v", d)
	}
}

func TestPeerCloseResets(t *testing.T) {
	a, b, _ := socket.NewPair(ctx, linux.AF_UNIX, linux.SOCK_STREAM, 0, 0)
	defer a.DecRef()
	as := a.Impl().(*Socket)
	as.SendMsg(ctx, []byte("unread"), nil, socket.ControlMessages{}, 0, true)
	b.DecRef()
	if _, _, err := as.RecvMsg(ctx, 10, 0, true, false); err != errno.ECONNRESET {
		t.Errorf("first recv: %v", err)
	}
	if data, _, err := as.RecvMsg(ctx, 10, 0, true, false); len(data) != 0 || err != nil {
		t.Errorf("second recv: %q %v", data, err)
	}
	if _, err := as.SendMsg(ctx, []byte("x"), nil, socket.ControlMessages{}, 0, true); err != errno.EPIPE {
		t.Errorf("send to closed peer: %v", err)
	}
}
