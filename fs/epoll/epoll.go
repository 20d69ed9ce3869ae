// Package epoll implements epoll instances: interest lists of files whose
// readiness is checked when a waiter asks, with level- and edge-triggered
// and one-shot reporting.
package epoll

import (
	"sync"
	"sync/atomic"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// Event flags from <linux/eventpoll.h>.
const (
	EPOLLIN        = 0x1
	EPOLLPRI       = 0x2
	EPOLLOUT       = 0x4
	EPOLLERR       = 0x8
	EPOLLHUP       = 0x10
	EPOLLRDNORM    = 0x40
	EPOLLRDBAND    = 0x80
	EPOLLWRNORM    = 0x100
	EPOLLWRBAND    = 0x200
	EPOLLMSG       = 0x400
	EPOLLRDHUP     = 0x2000
	EPOLLEXCLUSIVE = 1 << 28
	EPOLLWAKEUP    = 1 << 29
	EPOLLONESHOT   = 1 << 30
	EPOLLET        = 1 << 31

	EPOLL_CTL_ADD = 1
	EPOLL_CTL_DEL = 2
	EPOLL_CTL_MOD = 3

	// EpollEventSize is sizeof(struct epoll_event) on x86-64 (packed).
	EpollEventSize = 12
)

// Event is one reported event.
type Event struct {
	Events uint32
	Data   uint64
}

type key struct {
	fd   int32
	file *vfs.FileDescription
}

type entry struct {
	key
	events uint32
	data   uint64
	waiter *vfs.Waiter
	// triggered records a notification since the last report, for
	// edge-triggered entries.
	triggered atomic.Bool
	// disabled is set once a one-shot entry reported.
	disabled bool
}

// Epoll is an epoll instance's file implementation.
type Epoll struct {
	vfs.FileDescriptionDefaultImpl
	vfs.WaitQueue

	// ready wakes epoll_wait callers; a token may be stale.
	ready chan struct{}

	// mu protects the fields below.
	mu      sync.Mutex
	entries map[key]*entry
	// order keeps reports in insertion order, round-robin across waits.
	order []*entry
}

// New returns a new epoll file.
func New(flags uint32) *vfs.FileDescription {
	ep := &Epoll{ready: make(chan struct{}, 1), entries: map[key]*entry{}}
	return vfs.NewFileDescription(ep, linux.O_RDWR|flags, vfs.VirtualDentry{}, vfs.FileDescriptionOptions{Stream: true, Name: "anon_inode:[eventpoll]"})
}

// FromFile returns the Epoll behind f, or nil.
func FromFile(f *vfs.FileDescription) *Epoll {
	ep, _ := f.Impl().(*Epoll)
	return ep
}

// Ready returns a channel that receives a token when an entry may have
// become ready.
func (ep *Epoll) Ready() <-chan struct{} { return ep.ready }

func (ep *Epoll) wake() {
	select {
	case ep.ready <- struct{}{}:
	default:
	}
}

func toMask(events uint32) vfs.EventMask {
	m := vfs.EventMask(events & (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDHUP))
	if events&(EPOLLRDNORM|EPOLLRDBAND) != 0 {
		m |= vfs.EventIn
	}
	if events&(EPOLLWRNORM|EPOLLWRBAND) != 0 {
		m |= vfs.EventOut
	}
	return m
}

// fromMask turns readiness into the events the entry asked for (plus ERR
// and HUP, which are always reported).
func fromMask(ready vfs.EventMask, want uint32) uint32 {
	ev := uint32(ready) & (want | EPOLLERR | EPOLLHUP)
	if ready&vfs.EventIn != 0 {
		ev |= want & (EPOLLRDNORM | EPOLLRDBAND)
	}
	if ready&vfs.EventOut != 0 {
		ev |= want & (EPOLLWRNORM | EPOLLWRBAND)
	}
	return ev &^ (EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP)
}

// Ctl implements epoll_ctl(2) for fd, which refers to file.
func (ep *Epoll) Ctl(op int, fd int32, file *vfs.FileDescription, events uint32, data uint64) error {
	if file.Impl() == vfs.FileDescriptionImpl(ep) {
		return errno.EINVAL
	}
	if _, ok := file.Impl().(vfs.Waitable); !ok {
		// "EPERM The target file fd does not support epoll. This error can
		// occur if fd refers to, for example, a regular file or a
		// directory." - epoll_ctl(2).
		return errno.EPERM
	}
	k := key{fd, file}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	e := ep.entries[k]
	switch op {
	case EPOLL_CTL_ADD:
		if e != nil {
			return errno.EEXIST
		}
		if other := FromFile(file); other != nil && other.watches(ep, 0) {
			// A loop of epoll instances.
			return errno.ELOOP
		}
		e = &entry{key: k, events: events, data: data}
		e.waiter = vfs.NewWaiterFunc(toMask(events), func(vfs.EventMask) {
			e.triggered.Store(true)
			ep.wake()
			ep.Notify(vfs.EventIn)
		})
		e.triggered.Store(true) // Report the current state once.
		ep.entries[k] = e
		ep.order = append(ep.order, e)
		// The entry holds a reference; it is dropped when the guest closes
		// every other reference (see Collect) or deletes the entry.
		file.IncRef()
		file.EventRegister(e.waiter)
		ep.wake()
	case EPOLL_CTL_MOD:
		if e == nil {
			return errno.ENOENT
		}
		// "EINVAL ... EPOLLEXCLUSIVE was specified in event and fd refers
		// to an epoll instance" and MOD may not use EPOLLEXCLUSIVE.
		if events&EPOLLEXCLUSIVE != 0 || e.events&EPOLLEXCLUSIVE != 0 {
			return errno.EINVAL
		}
		file.EventUnregister(e.waiter)
		e.events, e.data, e.disabled = events, data, false
		e.waiter = vfs.NewWaiterFunc(toMask(events), func(vfs.EventMask) {
			e.triggered.Store(true)
			ep.wake()
			ep.Notify(vfs.EventIn)
		})
		e.triggered.Store(true)
		file.EventRegister(e.waiter)
		ep.wake()
	case EPOLL_CTL_DEL:
		if e == nil {
			return errno.ENOENT
		}
		ep.removeLocked(e)
	default:
		return errno.EINVAL
	}
	return nil
}

func (ep *Epoll) removeLocked(e *entry) {
	e.file.EventUnregister(e.waiter)
	e.file.DecRef()
	delete(ep.entries, e.key)
	for i, o := range ep.order {
		if o == e {
			ep.order = append(ep.order[:i], ep.order[i+1:]...)
			break
		}
	}
}

// watches reports whether ep (transitively) has target in its interest
// list, bounded in depth as Linux's EP_MAX_NESTS.
func (ep *Epoll) watches(target *Epoll, depth int) bool {
	if depth > 4 {
		return true
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	for _, e := range ep.order {
		if o := FromFile(e.file); o != nil && (o == target || o.watches(target, depth+1)) {
			return true
		}
	}
	return false
}

// Collect returns up to max ready events without blocking. Entries whose
// file the guest closed are removed first, as Linux removes an entry when
// its file is released.
func (ep *Epoll) Collect(max int) []Event {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	var out []Event
	var reported []*entry
	for _, e := range append([]*entry(nil), ep.order...) {
		if e.file.Refs() <= 1 {
			// Only the interest list holds it: the guest closed every fd,
			// and Linux drops the entry with the file.
			ep.removeLocked(e)
		}
	}
	for _, e := range ep.order {
		if len(out) >= max {
			break
		}
		if e.disabled {
			continue
		}
		ready := e.file.Readiness(toMask(e.events) | vfs.EventErr | vfs.EventHUp)
		ev := fromMask(ready, e.events)
		edge := e.events&EPOLLET != 0
		if ev == 0 {
			if !edge {
				e.triggered.Store(false)
			}
			continue
		}
		if edge && !e.triggered.Swap(false) {
			continue
		}
		out = append(out, Event{Events: ev, Data: e.data})
		reported = append(reported, e)
		if e.events&EPOLLONESHOT != 0 {
			e.disabled = true
		}
	}
	// Rotate reported entries to the back so one busy fd can't starve the
	// others when max is small.
	if len(reported) > 0 && len(reported) < len(ep.order) {
		rest := ep.order[:0:0]
		for _, e := range ep.order {
			found := false
			for _, r := range reported {
				if r == e {
					found = true
					break
				}
			}
			if !found {
				rest = append(rest, e)
			}
		}
		ep.order = append(rest, reported...)
	}
	return out
}

// Readiness implements vfs.FileDescriptionImpl: an epoll fd is readable
// when an entry is ready.
func (ep *Epoll) Readiness(mask vfs.EventMask) vfs.EventMask {
	ep.mu.Lock()
	entries := append([]*entry(nil), ep.order...)
	ep.mu.Unlock()
	for _, e := range entries {
		if e.disabled {
			continue
		}
		if e.file.Readiness(toMask(e.events)|vfs.EventErr|vfs.EventHUp) != 0 {
			return mask & vfs.EventIn
		}
	}
	return 0
}

// Release implements vfs.FileDescriptionImpl: the interest list lets its
// files go.
func (ep *Epoll) Release() {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	for _, e := range ep.order {
		e.file.EventUnregister(e.waiter)
		e.file.DecRef()
	}
	ep.entries, ep.order = nil, nil
}

// Read implements vfs.FileDescriptionImpl.
func (ep *Epoll) Read(vfs.Context, []byte, int64) (int, error) { return 0, errno.EINVAL }

// Write implements vfs.FileDescriptionImpl.
func (ep *Epoll) Write(vfs.Context, []byte, int64) (int, error) { return 0, errno.EINVAL }

// Stat implements vfs.FileDescriptionImpl.
func (ep *Epoll) Stat(vfs.Context) (linux.Statx, error) {
	return linux.Statx{Mask: linux.STATX_BASIC_STATS, Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}
