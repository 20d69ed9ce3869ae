package host

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// poller makes a host fd a vfs.Waitable: while anyone waits, a goroutine
// polls the fd and notifies the waiters of the events that came up.
type poller struct {
	vfs.WaitQueue
	fd int

	// mu protects the fields below.
	mu sync.Mutex
	// masks counts the registered waiters by the events they want.
	masks map[*vfs.Waiter]vfs.EventMask
	// running is set while the polling goroutine runs.
	running bool
	stopped bool
}

// pollInterval bounds how long the polling goroutine sleeps in poll(2)
// before it looks at its waiters again.
const pollInterval = 100 * time.Millisecond

// EventRegister implements vfs.Waitable.
func (p *poller) EventRegister(w *vfs.Waiter) {
	p.WaitQueue.EventRegister(w)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.masks == nil {
		p.masks = map[*vfs.Waiter]vfs.EventMask{}
	}
	p.masks[w] = w.Mask()
	if !p.running && !p.stopped {
		p.running = true
		go p.loop()
	}
}

// EventUnregister implements vfs.Waitable.
func (p *poller) EventUnregister(w *vfs.Waiter) {
	p.WaitQueue.EventUnregister(w)
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.masks, w)
}

func (p *poller) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
}

func (p *poller) loop() {
	for {
		p.mu.Lock()
		var want vfs.EventMask
		for _, m := range p.masks {
			want |= m
		}
		if len(p.masks) == 0 || p.stopped {
			p.running = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		fds := []unix.PollFd{{Fd: int32(p.fd), Events: int16(want & (vfs.EventIn | vfs.EventOut | vfs.EventPri))}}
		n, err := unix.Poll(fds, int(pollInterval/time.Millisecond))
		if err != nil && err != unix.EINTR {
			return
		}
		if n > 0 && fds[0].Revents != 0 {
			p.Notify(vfs.EventMask(fds[0].Revents))
			// The fd stays ready until someone reads it; give the woken
			// waiters time to, instead of spinning.
			time.Sleep(time.Millisecond)
		}
	}
}
