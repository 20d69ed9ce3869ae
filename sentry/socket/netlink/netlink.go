// Package netlink implements AF_NETLINK sockets (netlink(7)) of protocol
// NETLINK_ROUTE (rtnetlink(7)) in the sentry: the requests that read the
// sandbox's interfaces, addresses and routes (RTM_GETLINK, RTM_GETADDR,
// RTM_GETROUTE), answered from the caller's inet.Stack, which is what
// iproute2's "ip addr/link/route", glibc's getifaddrs(3) and Go's
// net.Interfaces use. Requests that would change the network fail: EPERM
// without CAP_NET_ADMIN (as rtnetlink_rcv_msg checks before anything
// else), EOPNOTSUPP with it. No host socket is involved.
//
// A request is answered synchronously in sendmsg, as the kernel runs
// rtnetlink in the sender's context, and the answers wait in the socket's
// receive queue as datagrams. A dump is taken whole when it is requested
// and handed out one datagram at a time, each filled up to the size
// net/netlink/af_netlink.c:netlink_dump would allocate, as the reader
// drains the queue; it ends with NLMSG_DONE.
//
// Locking: each Socket's mu protects its state; portsMu protects the
// port-id table and is taken inside Socket.mu (bind). Wait queues are
// notified only after mu is released, because a waiter's callback
// (epoll's) may call Readiness.
package netlink

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
	"github.com/runsc-lite/runsc-lite/sentry/socket/ifioctl"
)

// Buffer sizes, as net.core.{r,w}mem_{default,max} and include/net/sock.h
// on x86-64.
const (
	defaultBuf = 212992
	maxBufSet  = 212992 // {r,w}mem_max: the most SO_RCVBUF may ask for (doubled).
	minSndBuf  = 4608   // SOCK_MIN_SNDBUF
	minRcvBuf  = 2304   // SOCK_MIN_RCVBUF
	// sndOverhead: netlink_sendmsg fails with EMSGSIZE when "len >
	// sk->sk_sndbuf - 32".
	sndOverhead = 32
)

// Dump datagram sizes. netlink_dump allocates NLMSG_GOODSIZE, a page less
// the sk_buff's shared info (SKB_WITH_OVERHEAD(PAGE_SIZE): 4096 - 320 on
// x86-64), or the largest buffer the reader has received with, which
// netlink_recvmsg caps at SKB_WITH_OVERHEAD(32768). A reader with a page
// (Go's syscall.NetlinkRIB) therefore never gets MSG_TRUNC.
const (
	nlmsgGoodSize = 4096 - 320
	maxRecvmsgLen = 32768 - 320
)

// capNetAdmin and capNetBroadcast are from <linux/capability.h>.
const (
	capNetAdmin     = 12
	capNetBroadcast = 11
)

// nextIno numbers the sockets for fstat and /proc/[pid]/fd; it starts
// far from AF_UNIX's and netstack's numbers, which count on their own.
var nextIno atomic.Uint64

func init() {
	nextIno.Store(1 << 24)
	socket.Register(linux.AF_NETLINK, provider{})
}

var (
	// portsMu protects ports and rover.
	portsMu sync.Mutex
	// ports maps a bound port id to its socket: one NETLINK_ROUTE
	// namespace for the sentry process, which runs one sandbox, as Linux
	// has one per network namespace and protocol.
	ports = map[uint32]*Socket{}
	// rover is the next port id to try after the thread-group id is
	// taken. Linux starts it at a random point below -4096
	// (netlink_autobind); counting down from -4097 keeps the same range.
	rover = int32(-4097)
)

// datagram is one unit of the receive queue (an sk_buff).
type datagram struct {
	data []byte
	// from is the sender's port id (0: the kernel).
	from uint32
}

// dump is a dump in progress: its remaining messages, then NLMSG_DONE.
type dump struct {
	msgs [][]byte
	done []byte
}

// Socket is an AF_NETLINK socket. It is the implementation of its file.
type Socket struct {
	vfs.FileDescriptionDefaultImpl
	// WaitQueue has the socket's events (poll, epoll, readers).
	vfs.WaitQueue

	// typ is SOCK_RAW or SOCK_DGRAM (the same to netlink). ino, ctime,
	// uid and gid are for fstat. All immutable.
	typ      int
	ino      uint64
	ctime    time.Time
	uid, gid uint32
	// file is the socket's file description (no reference: the file
	// owns the socket). Set before the socket is published.
	file *vfs.FileDescription

	mu sync.Mutex
	// portID is the bound port id; bound says whether it is set.
	// +checklocks:mu
	portID uint32
	// +checklocks:mu
	bound bool
	// groups is the multicast membership (bit n-1 for group n). No
	// notification is ever sent: the sandbox's configuration does not
	// change under it.
	// +checklocks:mu
	groups uint64
	// dstPortID and dstGroup are connect(2)'s default destination.
	// +checklocks:mu
	dstPortID, dstGroup uint32
	// rq is the receive queue and rqBytes the bytes in it.
	// +checklocks:mu
	rq []datagram
	// +checklocks:mu
	rqBytes int
	// dump is the dump being handed out, or nil.
	// +checklocks:mu
	dump *dump
	// maxRecvLen is the largest recvmsg buffer seen, capped
	// (nlk->max_recvmsg_len).
	// +checklocks:mu
	maxRecvLen int
	// soErr is the pending error (ENOBUFS after an overrun), reported
	// once by the next receive or SO_ERROR.
	// +checklocks:mu
	soErr errno.Errno
	// closed is set when the file is released.
	// +checklocks:mu
	closed bool
	// +checklocks:mu
	opts options
}

// options are the stored socket options.
type options struct {
	sndBuf, rcvBuf     int
	rcvTimeo, sndTimeo time.Duration
	passCred           bool
	reuseAddr          bool
	keepAlive          bool
	broadcast          bool
	priority           int32
	// SOL_NETLINK flags (NETLINK_F_* in af_netlink.h).
	pktInfo, broadcastError, noENOBUFS, listenAllNSID, capAck, extAck, strictChk bool
}

var _ socket.Socket = (*Socket)(nil)

// provider creates AF_NETLINK sockets.
type provider struct{}

// Socket implements socket.Provider, as net/netlink/af_netlink.c:
// netlink_create: SOCK_RAW or SOCK_DGRAM, and a protocol some kernel
// subsystem answers; here only NETLINK_ROUTE.
func (provider) Socket(ctx socket.Context, typ, protocol int, flags uint32) (*vfs.FileDescription, error) {
	if typ != linux.SOCK_RAW && typ != linux.SOCK_DGRAM {
		return nil, errno.ESOCKTNOSUPPORT
	}
	if protocol != linux.NETLINK_ROUTE {
		return nil, errno.EPROTONOSUPPORT
	}
	c := ctx.Credentials()
	s := &Socket{
		typ:   typ,
		ino:   nextIno.Add(1),
		ctime: time.Now(),
		uid:   uint32(c.EffectiveKUID),
		gid:   uint32(c.EffectiveKGID),
		opts:  options{sndBuf: defaultBuf, rcvBuf: defaultBuf},
	}
	opts := vfs.FileDescriptionOptions{Stream: true, Name: fmt.Sprintf("socket:[%d]", s.ino)}
	f := vfs.NewFileDescription(s, linux.O_RDWR|flags&linux.O_NONBLOCK, vfs.VirtualDentry{}, opts)
	s.file = f
	return f, nil
}

// Pair implements socket.Provider: netlink has no socketpair(2).
func (provider) Pair(socket.Context, int, int, uint32) (*vfs.FileDescription, *vfs.FileDescription, error) {
	return nil, nil, errno.EOPNOTSUPP
}

// Type implements socket.Socket.
func (s *Socket) Type() (family, typ, protocol int) {
	return linux.AF_NETLINK, s.typ, linux.NETLINK_ROUTE
}

// Release implements vfs.FileDescriptionImpl: the port id is freed.
func (s *Socket) Release() {
	s.mu.Lock()
	s.closed = true
	if s.bound {
		portsMu.Lock()
		if ports[s.portID] == s {
			delete(ports, s.portID)
		}
		portsMu.Unlock()
	}
	s.rq, s.rqBytes, s.dump = nil, 0, nil
	s.mu.Unlock()
	s.Notify(vfs.EventIn | vfs.EventOut | vfs.EventErr | vfs.EventHUp)
}

// Stat implements vfs.FileDescriptionImpl: a socket is an S_IFSOCK inode
// of sockfs.
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

// Readiness implements vfs.FileDescriptionImpl, as
// net/core/datagram.c:datagram_poll: readable with a datagram queued,
// always writable (a send to the kernel never waits), EPOLLERR with an
// error pending.
func (s *Socket) Readiness(mask vfs.EventMask) vfs.EventMask {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := vfs.EventOut
	if len(s.rq) > 0 {
		ev |= vfs.EventIn
	}
	if s.soErr != 0 {
		ev |= vfs.EventErr
	}
	return ev & (mask | vfs.EventErr | vfs.EventHUp)
}

// Ioctl implements vfs.FileDescriptionImpl: netlink_ioctl knows no
// request, so sock_do_ioctl passes the interface ones to dev_ioctl
// (SIOCGIFCONF, SIOCGIFINDEX, ...); anything else is ENOTTY, FIONREAD
// included.
func (s *Socket) Ioctl(ctx vfs.Context, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	sctx, ok := socket.ContextOf(ctx)
	if !ok {
		return 0, errno.ENOTTY
	}
	if r, handled, err := ifioctl.DevIoctl(sctx.NetworkStack(), mem, cmd, arg); handled {
		return r, err
	}
	return 0, errno.ENOTTY
}

// nonblocking reports whether s's file is O_NONBLOCK.
func (s *Socket) nonblocking() bool {
	return s.file != nil && s.file.StatusFlags()&linux.O_NONBLOCK != 0
}

// Read implements vfs.FileDescriptionImpl: read(2) is recv(2) with no
// flags. It blocks by itself, up to SO_RCVTIMEO; EAGAIN from a blocking
// socket is that timeout, which the VFS must not wait out again.
func (s *Socket) Read(ctx vfs.Context, dst []byte, _ int64) (int, error) {
	sctx, _ := socket.ContextOf(ctx)
	nonblocking := s.nonblocking()
	data, _, err := s.RecvMsg(sctx, len(dst), 0, nonblocking, false)
	n := copy(dst, data)
	if err == errno.EAGAIN && !nonblocking && sctx != nil {
		err = vfs.ErrTimedOut
	}
	return n, err
}

// Write implements vfs.FileDescriptionImpl: write(2) is send(2) to the
// connected destination (the kernel, unless connect(2) said otherwise).
func (s *Socket) Write(ctx vfs.Context, src []byte, _ int64) (int, error) {
	sctx, _ := socket.ContextOf(ctx)
	return s.SendMsg(sctx, src, nil, socket.ControlMessages{}, 0, s.nonblocking())
}

// parseAddress decodes a struct sockaddr_nl: EINVAL if short or of
// another family, as netlink_bind, netlink_connect and netlink_sendmsg
// check.
func parseAddress(addr []byte) (linux.SockAddrNetlink, error) {
	var a linux.SockAddrNetlink
	if len(addr) < linux.SizeofSockAddrNetlink {
		return a, errno.EINVAL
	}
	a.UnmarshalBytes(addr)
	if a.Family != linux.AF_NETLINK {
		return a, errno.EINVAL
	}
	return a, nil
}

// autobindLocked gives s a port id if it has none (netlink_autobind): the
// caller's thread-group id if free ("the kernel assigns the process ID to
// the first netlink socket the process opens" - netlink(7)), else an
// unused negative number.
//
// Preconditions: s.mu is held.
func (s *Socket) autobindLocked(ctx socket.Context) {
	if s.bound {
		return
	}
	portsMu.Lock()
	defer portsMu.Unlock()
	id := uint32(0)
	if ctx != nil {
		id = uint32(ctx.PID())
	}
	for _, taken := ports[id]; taken || id == 0; _, taken = ports[id] {
		id = uint32(rover)
		rover--
		if rover >= -4096 {
			// Wrapped around: start again below -4096.
			rover = -4097
		}
	}
	ports[id] = s
	s.portID, s.bound = id, true
}

// Bind implements socket.Socket, as netlink_bind: a port id of 0 asks for
// one (autobind); a bound socket may only "rebind" to its own id; groups
// (the first 32) are joined, which NETLINK_ROUTE lets anyone do.
func (s *Socket) Bind(ctx socket.Context, addr []byte) error {
	a, err := parseAddress(addr)
	if err != nil {
		return err
	}
	groups := uint64(a.Groups) & (1<<linux.RTNLGRP_MAX - 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bound {
		if a.PID != s.portID {
			return errno.EINVAL
		}
	} else if a.PID != 0 {
		portsMu.Lock()
		if _, taken := ports[a.PID]; taken {
			portsMu.Unlock()
			return errno.EADDRINUSE
		}
		ports[a.PID] = s
		portsMu.Unlock()
		s.portID, s.bound = a.PID, true
	} else {
		s.autobindLocked(ctx)
	}
	// nl_groups replaces the membership in the first 32 groups.
	s.groups = s.groups&^0xffffffff | groups
	return nil
}

// GetSockName implements socket.Socket (netlink_getname): the port id,
// 0 before one is bound, and the first 32 groups.
func (s *Socket) GetSockName(socket.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sockaddr(s.portID, uint32(s.groups)), nil
}

// GetPeerName implements socket.Socket (netlink_getname with peer): the
// default destination, which is the kernel (0) unless connected; it never
// fails.
func (s *Socket) GetPeerName(socket.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sockaddr(s.dstPortID, groupMask(s.dstGroup)), nil
}

// groupMask is netlink_group_mask: the nl_groups bit of group n.
func groupMask(n uint32) uint32 {
	if n == 0 || n > 32 {
		return 0
	}
	return 1 << (n - 1)
}

// firstGroup is ffs(groups): the lowest group in a mask, 0 for none.
func firstGroup(groups uint32) uint32 {
	for i := uint32(0); i < 32; i++ {
		if groups&(1<<i) != 0 {
			return i + 1
		}
	}
	return 0
}

// Connect implements socket.Socket, as netlink_connect: AF_UNSPEC
// dissolves the default destination; a destination other than the
// kernel needs CAP_NET_ADMIN (NETLINK_ROUTE lacks NL_CFG_F_NONROOT_SEND).
// The socket is bound if it was not.
func (s *Socket) Connect(ctx socket.Context, addr []byte, _ bool) error {
	if len(addr) < 2 {
		return errno.EINVAL
	}
	if int(addr[0])|int(addr[1])<<8 == linux.AF_UNSPEC {
		s.mu.Lock()
		s.dstPortID, s.dstGroup = 0, 0
		s.mu.Unlock()
		return nil
	}
	a, err := parseAddress(addr)
	if err != nil {
		return err
	}
	if (a.PID != 0 || a.Groups != 0) && !hasCap(ctx, capNetAdmin) {
		return errno.EPERM
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.autobindLocked(ctx)
	s.dstPortID, s.dstGroup = a.PID, firstGroup(a.Groups)
	return nil
}

// hasCap reports whether ctx's caller has capability c.
func hasCap(ctx socket.Context, c uint) bool {
	return ctx != nil && ctx.Credentials().HasCapability(c)
}

// Listen implements socket.Socket: netlink has no listen (sock_no_listen).
func (s *Socket) Listen(socket.Context, int) error { return errno.EOPNOTSUPP }

// Accept implements socket.Socket: netlink has no accept (sock_no_accept).
func (s *Socket) Accept(socket.Context, uint32, bool) (*vfs.FileDescription, []byte, error) {
	return nil, nil, errno.EOPNOTSUPP
}

// Shutdown implements socket.Socket: netlink has no shutdown
// (sock_no_shutdown).
func (s *Socket) Shutdown(socket.Context, int) error { return errno.EOPNOTSUPP }
