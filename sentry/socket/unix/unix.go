// Package unix implements AF_UNIX sockets (unix(7)) in the sentry: stream,
// datagram and seqpacket sockets, socketpair, filesystem and abstract
// addresses, SCM_RIGHTS and SCM_CREDENTIALS. No host socket is involved.
//
// Locking: one package-wide mutex, mu, protects the state of every AF_UNIX
// socket, their receive queues and the two address namespaces. An
// operation often touches two sockets (a send changes the peer's queue and
// the sender's writability), and one lock keeps that simple and free of
// lock-order rules; contention is bounded by the guest's own sockets.
//
// Two rules keep mu a leaf lock:
//   - Wait queues are notified only after mu is released (a waiter's
//     callback, epoll's, may call Readiness, which takes mu). Operations
//     collect their wake-ups in a wakeups value and fire them after Unlock.
//   - File references (SCM_RIGHTS in flight) are dropped only after mu is
//     released: dropping the last reference of a socket file calls its
//     Release, which takes mu.
//
// Namespaces: a filesystem address is a socket inode created with
// vfs.MknodAt, and the bound socket is found from the inode (bindings, keyed
// by the vfs.Inode, like Linux's inode->i_socket). Abstract addresses
// ("\0name") live in abstractNames, one namespace for the whole sentry
// process: runsc-lite runs one sandbox per process, which matches Linux's
// per-network-namespace abstract namespace.
//
// Sockets kept alive only by cycles of SCM_RIGHTS messages are collected
// (gc.go).
package unix

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
	"github.com/runsc-lite/runsc-lite/sentry/socket/ifioctl"
)

// Buffer sizes, as net.core.{w,r}mem_{default,max} and include/net/sock.h
// on x86-64.
const (
	defaultBuf   = 212992
	maxBufSet    = 212992 // {w,r}mem_max: the most SO_SNDBUF may ask for (doubled).
	minSndBuf    = 4608   // SOCK_MIN_SNDBUF
	minRcvBuf    = 2304   // SOCK_MIN_RCVBUF
	dgramQLen    = 10     // net.unix.max_dgram_qlen
	dgramOverhed = 32     // unix_dgram_sendmsg: len > sk_sndbuf - 32 is EMSGSIZE.
)

// EventRdHUp is POLLRDHUP: the peer shut down writing.
const EventRdHUp vfs.EventMask = 0x2000

// Shutdown bits, as include/net/sock.h's RCV_SHUTDOWN and SEND_SHUTDOWN.
const (
	rcvShutdown  = 1
	sendShutdown = 2
	shutdownMask = rcvShutdown | sendShutdown
)

var (
	// mu protects every Socket's mutable state and the namespaces below.
	mu sync.Mutex
	// abstractNames maps an abstract name (abstractKey: type and name) to the
	// socket bound to it. Protected by mu.
	abstractNames = map[string]*Socket{}
	// bindings maps a socket inode to the socket bound to it. Protected
	// by mu.
	bindings = map[vfs.Inode]*Socket{}
	// autobindNext numbers autobound names. Protected by mu.
	autobindNext uint32

	nextIno atomic.Uint64
)

func init() {
	socket.Register(linux.AF_UNIX, provider{})
}

// message is one unit of a receive queue: a datagram or seqpacket
// record, or a run of stream bytes.
type message struct {
	data []byte
	// from is the sender's address when it was sent (nil if unnamed).
	from []byte
	// rights are SCM_RIGHTS files; the queue owns their references.
	rights []*vfs.FileDescription
	// cred is the sender's identity (SCM_CREDENTIALS).
	cred linux.UCred
}

// Socket is an AF_UNIX socket. It is the implementation of its file.
type Socket struct {
	vfs.FileDescriptionDefaultImpl
	// WaitQueue has the socket's own events: poll and epoll, readers,
	// accept.
	vfs.WaitQueue
	// peerWait has those waiting for room in this socket's receive queue
	// (writers to it) or in its accept backlog (connecters).
	peerWait vfs.WaitQueue

	// typ is SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET. Immutable.
	typ int
	// ino, ctime, uid and gid are for fstat. Immutable.
	ino      uint64
	ctime    time.Time
	uid, gid uint32
	// file is the socket's file description (no reference: the file
	// owns the socket). Nil for a connection not yet accepted. Set before
	// the socket is published, then immutable.
	file *vfs.FileDescription
	// inflight counts the references to file held by receive queues
	// (SCM_RIGHTS messages not yet received), for the collector (gc.go).
	inflight atomic.Int64

	// Everything below is protected by mu.

	// addr is the bound address: sun_family and sun_path as getsockname
	// returns it. Nil if unbound.
	addr []byte
	// bound is the key the socket is bound under: a string in
	// abstractNames or a vfs.Inode in bindings.
	boundAbstract string
	boundInode    vfs.Inode

	listening bool
	backlog   int
	// acceptQ holds the server ends of connections not yet accepted.
	acceptQ []*Socket

	// peer is the other end of a connection (stream, seqpacket), or a
	// datagram socket's default destination. It stays set after the
	// peer closes.
	peer *Socket
	// connected is set for a connected stream or seqpacket socket.
	connected bool

	// rq is the receive queue and rqBytes the bytes in it.
	rq      []*message
	rqBytes int

	shutdown int
	// soErr is the pending error (SO_ERROR), reported once.
	soErr errno.Errno
	// closed is set when the file is released.
	closed bool

	// peerCred is SO_PEERCRED; hasPeerCred is false before a connection.
	peerCred    linux.UCred
	hasPeerCred bool

	opts options
}

// options are the stored socket options. Protected by mu.
type options struct {
	passCred  bool
	reuseAddr bool
	keepAlive bool
	broadcast bool
	dontRoute bool
	oobInline bool
	priority  int32
	rcvLowat  int32
	sndBuf    int
	rcvBuf    int
	rcvTimeo  time.Duration
	sndTimeo  time.Duration
	lingerOn  bool
	linger    int32
}

// newSocket returns a socket of type typ owned by ctx's caller.
func newSocket(ctx vfs.Context, typ int) *Socket {
	c := ctx.Credentials()
	s := &Socket{
		typ:   typ,
		ino:   nextIno.Add(1),
		ctime: time.Now(),
		uid:   uint32(c.EffectiveKUID),
		gid:   uint32(c.EffectiveKGID),
		opts:  options{sndBuf: defaultBuf, rcvBuf: defaultBuf, rcvLowat: 1},
	}
	track(s)
	return s
}

// newFile wraps s in a file description with status flags flags.
func newFile(s *Socket, flags uint32) *vfs.FileDescription {
	opts := vfs.FileDescriptionOptions{Stream: true, Name: fmt.Sprintf("socket:[%d]", s.ino)}
	f := vfs.NewFileDescription(s, linux.O_RDWR|flags&linux.O_NONBLOCK, vfs.VirtualDentry{}, opts)
	s.file = f
	return f
}

// credOf returns the identity ctx's caller shows to a peer: "the
// credentials that were in effect at the time of the call to connect(2) or
// socketpair(2)" - unix(7); SO_PEERCRED uses the effective ids.
func credOf(ctx socket.Context) linux.UCred {
	c := ctx.Credentials()
	return linux.UCred{PID: ctx.PID(), UID: uint32(c.EffectiveKUID), GID: uint32(c.EffectiveKGID)}
}

// scmCredOf returns the identity attached to a message: scm_send uses the
// real ids (include/net/scm.h:scm_send).
func scmCredOf(ctx socket.Context) linux.UCred {
	c := ctx.Credentials()
	return linux.UCred{PID: ctx.PID(), UID: uint32(c.RealKUID), GID: uint32(c.RealKGID)}
}

// wakeups collects notifications to send once mu is released.
type wakeups []wake

type wake struct {
	q    *vfs.WaitQueue
	mask vfs.EventMask
}

func (w *wakeups) add(q *vfs.WaitQueue, mask vfs.EventMask) { *w = append(*w, wake{q, mask}) }

// fire sends the notifications. mu must not be held.
func (w wakeups) fire() {
	for _, x := range w {
		x.q.Notify(x.mask)
	}
}

// allEvents wakes everyone on a state change (close, shutdown).
const allEvents = vfs.EventIn | vfs.EventOut | vfs.EventErr | vfs.EventHUp | EventRdHUp

// stateChangedLocked wakes everything waiting on s.
func (s *Socket) stateChangedLocked(w *wakeups) {
	w.add(&s.WaitQueue, allEvents)
	w.add(&s.peerWait, allEvents)
}

// nonblocking reports whether s's file is O_NONBLOCK.
func (s *Socket) nonblocking() bool {
	return s.file != nil && s.file.StatusFlags()&linux.O_NONBLOCK != 0
}

// block runs try (with mu held) until it reports done or fails, waiting
// for events in mask on s (and on extra, if not nil) in between. A
// nonblocking call or an expired timeout fails with EAGAIN; a signal
// interrupts with ERESTARTSYS, or EINTR when a timeout is set, as
// include/net/sock.h:sock_intr_errno.
func (s *Socket) block(ctx socket.Context, nonblocking bool, timeout time.Duration, mask vfs.EventMask, extra *vfs.WaitQueue, try func(w *wakeups) (bool, error)) error {
	var (
		waiter   *vfs.Waiter
		deadline time.Time
	)
	defer func() {
		if waiter != nil {
			s.EventUnregister(waiter)
			if extra != nil {
				extra.EventUnregister(waiter)
			}
		}
	}()
	for {
		var w wakeups
		mu.Lock()
		done, err := try(&w)
		mu.Unlock()
		w.fire()
		if done || err != nil {
			return err
		}
		if nonblocking || ctx == nil {
			return errno.EAGAIN
		}
		if waiter == nil {
			// Register, then try again, so that no event is missed.
			waiter = vfs.NewWaiter(mask)
			s.EventRegister(waiter)
			if extra != nil {
				extra.EventRegister(waiter)
			}
			if timeout > 0 {
				deadline = time.Now().Add(timeout)
			}
			continue
		}
		switch err := ctx.BlockUntil(waiter.C, deadline, timeout > 0); err {
		case nil:
		case errno.ETIMEDOUT:
			return errno.EAGAIN
		case errno.ERESTARTSYS:
			if timeout > 0 {
				return errno.EINTR
			}
			return err
		default:
			return err
		}
	}
}

// Release implements vfs.FileDescriptionImpl: the socket closes, its name
// is freed, and its peer sees end of file (unix_release_sock).
func (s *Socket) Release() {
	var w wakeups
	var drop []*vfs.FileDescription
	mu.Lock()
	drop = s.closeLocked(&w, false)
	mu.Unlock()
	w.fire()
	for _, f := range drop {
		f.DecRef()
	}
}

// closeLocked closes s. embryo is set for a connection never accepted,
// whose peer then sees ECONNRESET. It returns the files to release once
// mu is dropped.
func (s *Socket) closeLocked(w *wakeups, embryo bool) []*vfs.FileDescription {
	if s.closed {
		return nil
	}
	s.closed = true
	untrack(s)
	s.unbindLocked()
	var drop []*vfs.FileDescription
	for _, c := range s.acceptQ {
		drop = append(drop, c.closeLocked(w, true)...)
	}
	s.acceptQ = nil
	if p := s.peer; p != nil && s.typ != linux.SOCK_DGRAM && s.connected {
		p.shutdown = shutdownMask
		if len(s.rq) > 0 || embryo {
			p.soErr = errno.ECONNRESET
		}
		p.stateChangedLocked(w)
	}
	var queued []*vfs.FileDescription
	for _, m := range s.rq {
		queued = append(queued, m.rights...)
	}
	noteDequeued(queued)
	drop = append(drop, queued...)
	s.rq, s.rqBytes = nil, 0
	s.stateChangedLocked(w)
	return drop
}

// unbindLocked frees s's name.
func (s *Socket) unbindLocked() {
	if s.boundInode != nil {
		if bindings[s.boundInode] == s {
			delete(bindings, s.boundInode)
		}
		s.boundInode = nil
	}
	if s.boundAbstract != "" {
		if abstractNames[s.boundAbstract] == s {
			delete(abstractNames, s.boundAbstract)
		}
		s.boundAbstract = ""
	}
}

// Type implements socket.Socket.
func (s *Socket) Type() (family, typ, protocol int) { return linux.AF_UNIX, s.typ, 0 }

// Readiness implements vfs.FileDescriptionImpl, as net/unix/af_unix.c:
// unix_poll (streams) and unix_dgram_poll (datagrams and seqpackets).
func (s *Socket) Readiness(mask vfs.EventMask) vfs.EventMask {
	mu.Lock()
	defer mu.Unlock()
	var ev vfs.EventMask
	if s.soErr != 0 {
		ev |= vfs.EventErr
	}
	if s.shutdown == shutdownMask {
		ev |= vfs.EventHUp
	}
	if s.shutdown&rcvShutdown != 0 {
		ev |= EventRdHUp | vfs.EventIn
	}
	if len(s.rq) > 0 || len(s.acceptQ) > 0 {
		ev |= vfs.EventIn
	}
	if s.typ != linux.SOCK_DGRAM && !s.connected && !s.listening {
		// An unconnected connection-mode socket is TCP_CLOSE.
		ev |= vfs.EventHUp
		if s.typ == linux.SOCK_SEQPACKET {
			return ev & (mask | vfs.EventErr | vfs.EventHUp)
		}
	}
	if s.writableLocked() {
		ev |= vfs.EventOut
	}
	return ev & (mask | vfs.EventErr | vfs.EventHUp)
}

// writableLocked is unix_writable: not listening, and what s has in flight
// in its peer's queue is at most a quarter of its send buffer.
func (s *Socket) writableLocked() bool {
	if s.listening {
		return false
	}
	p := s.peer
	if p == nil || p.closed {
		return true
	}
	if s.typ == linux.SOCK_DGRAM && p.peer != s && len(p.rq) > dgramQLen {
		return false
	}
	return p.rqBytes*4 <= s.opts.sndBuf
}

// Stat implements vfs.FileDescriptionImpl: a socket is an S_IFSOCK inode of
// sockfs.
func (s *Socket) Stat(vfs.Context) (linux.Statx, error) {
	ts := linux.StatxTimestamp{Sec: s.ctime.Unix(), Nsec: uint32(s.ctime.Nanosecond())}
	return linux.Statx{
		Mask:    linux.STATX_BASIC_STATS,
		Blksize: 4096,
		Nlink:   1,
		Mode:    uint16(linux.S_IFSOCK | 0o777),
		UID:     s.uid,
		GID:     s.gid,
		Ino:     s.ino,
		Atime:   ts, Ctime: ts, Mtime: ts,
		DevMinor: 8, // sockfs's anonymous device
	}, nil
}

// Ioctl implements vfs.FileDescriptionImpl: SIOCINQ (FIONREAD) and
// SIOCOUTQ, as unix_ioctl.
func (s *Socket) Ioctl(ctx vfs.Context, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	var n int
	mu.Lock()
	switch cmd {
	case linux.SIOCINQ:
		if s.listening {
			mu.Unlock()
			return 0, errno.EINVAL
		}
		// unix_inq_len: all bytes for a stream, the next message's
		// length otherwise.
		if s.typ == linux.SOCK_STREAM {
			n = s.rqBytes
		} else if len(s.rq) > 0 {
			n = len(s.rq[0].data)
		}
	case linux.SIOCOUTQ:
		if p := s.peer; p != nil && !p.closed && s.typ != linux.SOCK_DGRAM {
			n = p.rqBytes
		}
	default:
		mu.Unlock()
		// The interface requests (dev_ioctl) work on any socket: glibc's
		// if_nametoindex(3) asks an AF_UNIX one.
		if sctx, ok := socket.ContextOf(ctx); ok {
			if r, handled, err := ifioctl.DevIoctl(sctx.NetworkStack(), mem, cmd, arg); handled {
				return r, err
			}
		}
		return 0, errno.ENOTTY
	}
	mu.Unlock()
	b := []byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}
	if _, err := mem.CopyOutBytes(hostarch.Addr(arg), b); err != nil {
		return 0, errno.EFAULT
	}
	return 0, nil
}

// Read implements vfs.FileDescriptionImpl: read(2) is recv(2) with no
// flags. It blocks by itself, up to SO_RCVTIMEO; EAGAIN from a blocking
// socket is that timeout, which the VFS must not wait out again.
func (s *Socket) Read(ctx vfs.Context, dst []byte, _ int64) (int, error) {
	sctx, _ := socket.ContextOf(ctx)
	nonblocking := s.nonblocking()
	data, _, err := s.recv(sctx, len(dst), 0, nonblocking, false)
	n := copy(dst, data)
	if err == errno.EAGAIN && !nonblocking && sctx != nil {
		err = vfs.ErrTimedOut
	}
	return n, err
}

// Write implements vfs.FileDescriptionImpl: write(2) is send(2) with no
// flags (the syscall layer sends SIGPIPE on EPIPE, for streams), waiting
// up to SO_SNDTIMEO.
func (s *Socket) Write(ctx vfs.Context, src []byte, _ int64) (int, error) {
	sctx, _ := socket.ContextOf(ctx)
	nonblocking := s.nonblocking()
	n, err := s.send(sctx, src, nil, socket.ControlMessages{}, 0, nonblocking)
	if err == errno.EAGAIN && !nonblocking && sctx != nil {
		err = vfs.ErrTimedOut
	}
	return n, err
}

// QuietEPIPE implements syscalls.QuietEPIPE: only stream sockets raise
// SIGPIPE (net/unix/af_unix.c: unix_stream_sendmsg).
func (s *Socket) QuietEPIPE() bool { return s.typ != linux.SOCK_STREAM }

// provider creates AF_UNIX sockets.
type provider struct{}

// checkType validates socket(2)'s type and protocol for AF_UNIX
// (net/unix/af_unix.c:unix_create).
func checkType(typ, protocol int) (int, error) {
	if protocol != 0 && protocol != linux.AF_UNIX {
		return 0, errno.EPROTONOSUPPORT
	}
	switch typ {
	case linux.SOCK_STREAM, linux.SOCK_DGRAM, linux.SOCK_SEQPACKET:
		return typ, nil
	case linux.SOCK_RAW:
		// "Believe it or not BSD has AF_UNIX, SOCK_RAW though no one
		// uses it" - unix_create maps it to SOCK_DGRAM.
		return linux.SOCK_DGRAM, nil
	}
	return 0, errno.ESOCKTNOSUPPORT
}

// Socket implements socket.Provider.
func (provider) Socket(ctx socket.Context, typ, protocol int, flags uint32) (*vfs.FileDescription, error) {
	typ, err := checkType(typ, protocol)
	if err != nil {
		return nil, err
	}
	return newFile(newSocket(ctx, typ), flags), nil
}

// Pair implements socket.Provider.
func (provider) Pair(ctx socket.Context, typ, protocol int, flags uint32) (*vfs.FileDescription, *vfs.FileDescription, error) {
	typ, err := checkType(typ, protocol)
	if err != nil {
		return nil, nil, err
	}
	a, b := newSocket(ctx, typ), newSocket(ctx, typ)
	cred := credOf(ctx)
	a.peer, b.peer = b, a
	a.connected, b.connected = typ != linux.SOCK_DGRAM, typ != linux.SOCK_DGRAM
	a.peerCred, b.peerCred = cred, cred
	a.hasPeerCred, b.hasPeerCred = true, true
	return newFile(a, flags), newFile(b, flags), nil
}
