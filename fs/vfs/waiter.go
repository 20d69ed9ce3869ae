package vfs

import "sync"

// Waiter is one party waiting for events on files: its channel receives a
// (coalesced) token whenever a registered file reports an event in mask.
type Waiter struct {
	C    chan struct{}
	mask EventMask
	// cb, if set, is called (with the queue's lock held: it must not
	// block or take locks that a notifier may hold) on every event.
	cb func(EventMask)
}

// NewWaiterFunc returns a waiter that calls cb with the events on every
// notification, instead of (as well as) signalling C. epoll uses it to
// learn which file became ready.
func NewWaiterFunc(mask EventMask, cb func(EventMask)) *Waiter {
	w := NewWaiter(mask)
	w.cb = cb
	return w
}

// NewWaiter returns a waiter for the events in mask. EventErr and EventHUp
// always wake it, as poll(2) reports them whether asked or not.
func NewWaiter(mask EventMask) *Waiter {
	return &Waiter{C: make(chan struct{}, 1), mask: mask | EventErr | EventHUp}
}

// Mask returns the events the waiter wakes for.
func (w *Waiter) Mask() EventMask { return w.mask }

func (w *Waiter) notify(mask EventMask) {
	if w.cb != nil {
		w.cb(mask)
	}
	select {
	case w.C <- struct{}{}:
	default:
	}
}

// WaitQueue is embedded by files whose readiness changes (pipes, sockets,
// eventfds). It is safe for concurrent use.
type WaitQueue struct {
	mu      sync.Mutex
	waiters map[*Waiter]struct{}
}

// EventRegister implements Waitable.
func (q *WaitQueue) EventRegister(w *Waiter) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.waiters == nil {
		q.waiters = map[*Waiter]struct{}{}
	}
	q.waiters[w] = struct{}{}
}

// EventUnregister implements Waitable.
func (q *WaitQueue) EventUnregister(w *Waiter) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.waiters, w)
}

// Notify wakes the waiters interested in any event of mask.
func (q *WaitQueue) Notify(mask EventMask) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for w := range q.waiters {
		if w.mask&mask != 0 {
			w.notify(mask)
		}
	}
}

// Waitable is implemented by files that report readiness changes. Files
// that don't are always ready (regular files).
type Waitable interface {
	EventRegister(w *Waiter)
	EventUnregister(w *Waiter)
}

// Blocker is implemented by contexts that can sleep (a task): Block waits
// for ch and fails with a restart code when a signal interrupts it.
type Blocker interface {
	Block(ch <-chan struct{}) error
}

// waitReady blocks until fd may have an event in mask. It returns EAGAIN
// at once for non-blocking files and for contexts that cannot sleep.
func (fd *FileDescription) waitReady(ctx Context, mask EventMask) error {
	wt, ok := fd.impl.(Waitable)
	b, ok2 := ctx.(Blocker)
	if !ok || !ok2 || fd.flags.Load()&nonblockFlag != 0 {
		return errAgain
	}
	w := NewWaiter(mask)
	wt.EventRegister(w)
	defer wt.EventUnregister(w)
	if fd.impl.Readiness(w.mask) != 0 {
		return nil
	}
	return b.Block(w.C)
}

// EventRegister registers w with fd's file if it reports readiness; it
// reports whether it did.
func (fd *FileDescription) EventRegister(w *Waiter) bool {
	if wt, ok := fd.impl.(Waitable); ok {
		wt.EventRegister(w)
		return true
	}
	return false
}

// EventUnregister undoes EventRegister.
func (fd *FileDescription) EventUnregister(w *Waiter) {
	if wt, ok := fd.impl.(Waitable); ok {
		wt.EventUnregister(w)
	}
}
