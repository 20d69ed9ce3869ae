package hostinet

import (
	"log/slog"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// The notifier is the sentry's one host epoll instance for host sockets,
// created with the first socket. Every socket is added edge-triggered for
// all its events, and one goroutine waits in epoll_wait(2) and passes each
// edge on to the socket's WaitQueue. Task goroutines never wait in the
// host: they wait on the WaitQueue, and then retry their non-blocking call.
//
// An fd is removed from the epoll set and the map before it is closed, so
// a host fd number found in the map is the socket's own. An event read
// just before the removal may reach a new socket that reuses the number;
// a spurious wake-up is harmless, since waiters retry and wait again.
var notifier struct {
	// mu protects the fields below and serializes epoll_ctl(2).
	mu sync.Mutex
	// epfd is the epoll fd; 0 until the first socket.
	epfd int
	// sockets maps a watched host fd to its socket.
	sockets map[int32]*Socket
}

// watchEvents are the host events watched: all of a socket's, edge
// triggered.
const watchEvents = unix.EPOLLIN | unix.EPOLLPRI | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLERR | unix.EPOLLHUP | unix.EPOLLET

// watch starts reporting s's host events to s.WaitQueue, creating the
// epoll instance and its goroutine the first time.
func watch(s *Socket) error {
	notifier.mu.Lock()
	defer notifier.mu.Unlock()
	if notifier.epfd == 0 {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			return hostErr(err)
		}
		notifier.epfd = epfd
		notifier.sockets = map[int32]*Socket{}
		go notifyLoop(epfd)
	}
	ev := unix.EpollEvent{Events: watchEvents, Fd: int32(s.fd)}
	if err := unix.EpollCtl(notifier.epfd, unix.EPOLL_CTL_ADD, s.fd, &ev); err != nil {
		return hostErr(err)
	}
	notifier.sockets[int32(s.fd)] = s
	return nil
}

// unwatch stops reporting s's events. It must be called before s.fd is
// closed.
func unwatch(s *Socket) {
	notifier.mu.Lock()
	defer notifier.mu.Unlock()
	if notifier.sockets[int32(s.fd)] != s {
		return
	}
	delete(notifier.sockets, int32(s.fd))
	unix.EpollCtl(notifier.epfd, unix.EPOLL_CTL_DEL, s.fd, nil)
}

// notifyLoop waits for host events on epfd forever and notifies the
// sockets they belong to.
func notifyLoop(epfd int) {
	events := make([]unix.EpollEvent, 128)
	var ready []*Socket
	var masks []vfs.EventMask
	for {
		n, err := unix.EpollWait(epfd, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			// Only a bad epfd or events buffer fails, which would be a
			// sentry bug; blocked sockets would then wait forever.
			slog.Error("hostinet: epoll_wait failed", "err", err)
			return
		}
		ready, masks = ready[:0], masks[:0]
		notifier.mu.Lock()
		for _, ev := range events[:n] {
			if s := notifier.sockets[ev.Fd]; s != nil {
				ready = append(ready, s)
				masks = append(masks, vfs.EventMask(ev.Events)&allEvents)
			}
		}
		notifier.mu.Unlock()
		// Notify without mu: a waiter's callback (epoll's) may call
		// Readiness, and a wake-up may lead to Release.
		for i, s := range ready {
			s.Notify(masks[i])
		}
		clear(ready)
	}
}
