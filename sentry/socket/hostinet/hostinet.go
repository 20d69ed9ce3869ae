// Package hostinet implements AF_INET and AF_INET6 sockets for
// --network=host: each guest socket is a host socket that the sentry owns
// (stream and datagram sockets, and ICMP "ping" sockets). It is gVisor's
// pkg/sentry/socket/hostinet in miniature.
//
// The guest never holds the host fd. The sentry validates what reaches the
// host: socket types and protocols (no raw sockets), sockaddrs (family and
// length, as Linux checks them), socket options (an allowlist, with the
// capability checks made against the guest's credentials, since the
// sentry's own may be larger) and ioctls (a few read-only requests, with
// their structures copied through sentry memory).
//
// Blocking happens in the sentry, never in the host: every host socket is
// SOCK_NONBLOCK, and one host epoll instance (notifier.go), waited on by
// one goroutine, turns the host's readiness edges into notifications of
// the socket's vfs.WaitQueue. A blocking operation tries the host call,
// and on EAGAIN waits on the queue with the task's BlockUntil, so signals
// and SO_RCVTIMEO/SO_SNDTIMEO (kept in the sentry) work as for AF_UNIX.
//
// What Linux does with the options and with the connection itself is the
// host's business: the package passes calls through rather than modelling
// TCP. Differences from Linux are noted where they arise: no raw sockets,
// no ancillary data on send (the syscall layer passes only SOL_SOCKET's),
// and SO_LINGER's close waits in the background instead of in close(2).
package hostinet

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// sockAddrMax is the largest address the sentry passes or accepts:
// sizeof(struct sockaddr_storage).
const sockAddrMax = linux.SizeofSockAddrStorage

// maxRecv bounds the sentry buffer of one receive, as the syscall layer's
// ioChunk bounds a read: a longer stream read is short, which recv(2)
// allows, and no datagram is longer.
const maxRecv = 1 << 20

// EventRdHUp is POLLRDHUP: the peer shut down writing.
const EventRdHUp vfs.EventMask = 0x2000

// allEvents are the events the notifier reports and a state change wakes.
const allEvents = vfs.EventIn | vfs.EventPri | vfs.EventOut | vfs.EventErr | vfs.EventHUp | EventRdHUp

// inoBase starts this package's inode numbers well away from AF_UNIX's,
// which count from 1: sockfs numbers all sockets in one space.
const inoBase = 1 << 32

var nextIno atomic.Uint64

// hostConfig is what Register reads from the host's sysctls, before the
// sandbox's wall goes up.
var hostConfig struct {
	// unprivPortStart is net.ipv4.ip_unprivileged_port_start: binding a
	// lower port needs linux.CAP_NET_BIND_SERVICE.
	unprivPortStart atomic.Int32
	// pingLow and pingHigh are net.ipv4.ping_group_range: the groups that
	// may create ICMP sockets.
	pingLow, pingHigh atomic.Uint32
}

func init() {
	hostConfig.unprivPortStart.Store(1024)
	hostConfig.pingLow.Store(1) // "1 0": nobody, the kernel's default.
	hostConfig.pingHigh.Store(0)
}

// Register makes this package the provider of AF_INET and AF_INET6 sockets
// (--network=host). It reads the host sysctls it needs first, so it must
// run before the sentry's own filesystem view is taken away.
func Register() {
	readHostConfig()
	socket.Register(linux.AF_INET, provider{family: linux.AF_INET})
	socket.Register(linux.AF_INET6, provider{family: linux.AF_INET6})
}

// readHostConfig reads the sysctls in hostConfig; the defaults stay when
// one cannot be read.
func readHostConfig() {
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start"); err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			hostConfig.unprivPortStart.Store(int32(v))
		}
	}
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			lo, err1 := strconv.ParseUint(f[0], 10, 32)
			hi, err2 := strconv.ParseUint(f[1], 10, 32)
			if err1 == nil && err2 == nil {
				hostConfig.pingLow.Store(uint32(lo))
				hostConfig.pingHigh.Store(uint32(hi))
			}
		}
	}
}

// errnoErr returns a host errno as an error, nil for 0.
func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// hostErr converts a host error to the guest's: host and guest are both
// Linux x86-64, so the numbers are the same.
func hostErr(err error) error {
	if e, ok := err.(unix.Errno); ok {
		return errno.Errno(e)
	}
	return err
}

// Socket is an AF_INET or AF_INET6 socket backed by a host socket. It is
// the implementation of its file.
type Socket struct {
	vfs.FileDescriptionDefaultImpl
	// WaitQueue has the socket's events, as the host reports them through
	// the notifier: poll and epoll, and the socket's own blocking calls.
	vfs.WaitQueue

	// fd is the host socket, non-blocking and close-on-exec. Immutable;
	// closed by Release.
	fd int
	// family, typ and protocol are socket(2)'s, protocol resolved (0
	// becomes linux.IPPROTO_TCP or linux.IPPROTO_UDP). Immutable.
	family, typ, protocol int
	// ino, ctime, uid and gid are for fstat. Immutable.
	ino      uint64
	ctime    time.Time
	uid, gid uint32
	// file is the socket's file description (no reference: the file owns
	// the socket). Set before the socket is published, then immutable.
	file *vfs.FileDescription

	// rcvTimeo and sndTimeo are SO_RCVTIMEO and SO_SNDTIMEO in
	// nanoseconds, 0 for none. The sentry keeps them because it, not the
	// host, does the waiting.
	rcvTimeo, sndTimeo atomic.Int64
	// lingers is set while SO_LINGER is on with a non-zero time, when the
	// host's close(2) waits for unsent data even on a non-blocking
	// socket (net/ipv4/af_inet.c:inet_release).
	lingers atomic.Bool
}

var (
	_ socket.Socket           = (*Socket)(nil)
	_ vfs.FileDescriptionImpl = (*Socket)(nil)
	_ vfs.Waitable            = (*Socket)(nil)
)

// newSocket wraps the host socket fd, which it owns from now on (closing
// it on failure), and starts watching it.
func newSocket(ctx vfs.Context, fd, family, typ, protocol int) (*Socket, error) {
	c := ctx.Credentials()
	s := &Socket{
		fd:       fd,
		family:   family,
		typ:      typ,
		protocol: protocol,
		ino:      inoBase + nextIno.Add(1),
		ctime:    time.Now(),
		uid:      uint32(c.EffectiveKUID),
		gid:      uint32(c.EffectiveKGID),
	}
	if err := watch(s); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return s, nil
}

// newFile wraps s in a file description with status flags flags.
func newFile(s *Socket, flags uint32) *vfs.FileDescription {
	opts := vfs.FileDescriptionOptions{Stream: true, Name: fmt.Sprintf("socket:[%d]", s.ino)}
	f := vfs.NewFileDescription(s, linux.O_RDWR|flags&linux.O_NONBLOCK, vfs.VirtualDentry{}, opts)
	s.file = f
	return f
}

// nonblocking reports whether s's file is O_NONBLOCK.
func (s *Socket) nonblocking() bool {
	return s.file != nil && s.file.StatusFlags()&linux.O_NONBLOCK != 0
}

// rcvTimeout and sndTimeout are SO_RCVTIMEO and SO_SNDTIMEO.
func (s *Socket) rcvTimeout() time.Duration { return time.Duration(s.rcvTimeo.Load()) }
func (s *Socket) sndTimeout() time.Duration { return time.Duration(s.sndTimeo.Load()) }

// block runs try until it reports done or fails, waiting for events in
// mask on s in between (socket.Wait): try makes one non-blocking host
// call and reports done false for EAGAIN.
func (s *Socket) block(ctx socket.Context, nonblocking bool, timeout time.Duration, mask vfs.EventMask, try func() (bool, error)) error {
	return socket.Wait(ctx, s, nonblocking, timeout, mask, try)
}

// Release implements vfs.FileDescriptionImpl: the host socket is closed.
// A lingering close would wait in the host, so it is left to a goroutine
// of its own (the guest's close(2) returns at once, where Linux's would
// wait up to the linger time).
func (s *Socket) Release() {
	unwatch(s)
	if s.lingers.Load() {
		go unix.Close(s.fd)
	} else {
		unix.Close(s.fd)
	}
	s.Notify(allEvents)
}

// Type implements socket.Socket.
func (s *Socket) Type() (family, typ, protocol int) { return s.family, s.typ, s.protocol }

// Readiness implements vfs.FileDescriptionImpl: poll(2) of the host
// socket with a zero timeout.
func (s *Socket) Readiness(mask vfs.EventMask) vfs.EventMask {
	want := mask | vfs.EventErr | vfs.EventHUp
	fds := []unix.PollFd{{Fd: int32(s.fd), Events: int16(want & allEvents)}}
	for {
		_, err := unix.Poll(fds, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return vfs.EventErr & want
		}
		break
	}
	return vfs.EventMask(uint16(fds[0].Revents)) & want
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

// Read implements vfs.FileDescriptionImpl: read(2) is recv(2) with no
// flags. It blocks by itself, up to SO_RCVTIMEO; EAGAIN from a blocking
// socket is that timeout, which the VFS must not wait out again.
func (s *Socket) Read(ctx vfs.Context, dst []byte, _ int64) (int, error) {
	sctx, _ := socket.ContextOf(ctx)
	nonblocking := s.nonblocking()
	res, err := s.recv(sctx, dst, 0, nonblocking, false)
	if err == errno.EAGAIN && !nonblocking && sctx != nil {
		err = vfs.ErrTimedOut
	}
	return res.N, err
}

// Write implements vfs.FileDescriptionImpl: write(2) is send(2) with no
// flags (the syscall layer sends SIGPIPE on EPIPE, for streams), waiting
// up to SO_SNDTIMEO.
func (s *Socket) Write(ctx vfs.Context, src []byte, _ int64) (int, error) {
	sctx, _ := socket.ContextOf(ctx)
	nonblocking := s.nonblocking()
	n, err := s.send(sctx, src, nil, 0, nonblocking)
	if err == errno.EAGAIN && !nonblocking && sctx != nil {
		err = vfs.ErrTimedOut
	}
	return n, err
}

// QuietEPIPE implements syscalls.QuietEPIPE: only stream sockets raise
// SIGPIPE (net/core/stream.c:sk_stream_error).
func (s *Socket) QuietEPIPE() bool { return s.typ != linux.SOCK_STREAM }

// provider creates the host-backed sockets of one family.
type provider struct {
	family int
}

// checkType validates socket(2)'s type and protocol for family, as
// net/ipv4/af_inet.c:inet_create and net/ipv6/af_inet6.c:inet6_create
// search their protocol switches, and returns the resolved protocol. Of
// Linux's protocols only TCP, UDP and ICMP echo ("ping") sockets are
// offered; raw sockets are refused whatever the guest's capabilities, as
// gVisor's hostinet does.
func checkType(family, typ, protocol int) (int, error) {
	if protocol < 0 || protocol >= linux.IPPROTO_MAX {
		return 0, errno.EINVAL
	}
	switch typ {
	case linux.SOCK_STREAM:
		if protocol == linux.IPPROTO_IP || protocol == linux.IPPROTO_TCP {
			return linux.IPPROTO_TCP, nil
		}
		// MPTCP and SCTP are not offered.
		return 0, errno.EPROTONOSUPPORT
	case linux.SOCK_DGRAM:
		switch {
		case protocol == linux.IPPROTO_IP || protocol == linux.IPPROTO_UDP:
			return linux.IPPROTO_UDP, nil
		case family == linux.AF_INET && protocol == linux.IPPROTO_ICMP,
			family == linux.AF_INET6 && protocol == linux.IPPROTO_ICMPV6:
			return protocol, nil
		}
		// UDP-Lite is not offered.
		return 0, errno.EPROTONOSUPPORT
	case linux.SOCK_RAW:
		// "EPERM ... SOCK_RAW ... without linux.CAP_NET_RAW" in Linux; here
		// for everyone.
		return 0, errno.EPERM
	case linux.SOCK_PACKET:
		if family == linux.AF_INET {
			// __sock_create turns AF_INET SOCK_PACKET into AF_PACKET,
			// which needs linux.CAP_NET_RAW; it is refused like raw sockets.
			return 0, errno.EPERM
		}
	}
	return 0, errno.ESOCKTNOSUPPORT
}

// pingAllowed is net/ipv4/ping.c:ping_init_sock: ICMP sockets are for the
// groups in net.ipv4.ping_group_range, whatever the capabilities. The
// guest's groups are checked here; the host then checks the sentry's.
func pingAllowed(c *auth.Credentials) bool {
	lo, hi := hostConfig.pingLow.Load(), hostConfig.pingHigh.Load()
	in := func(g auth.KGID) bool { return lo <= uint32(g) && uint32(g) <= hi }
	if in(c.EffectiveKGID) {
		return true
	}
	for _, g := range c.ExtraKGIDs {
		if in(g) {
			return true
		}
	}
	return false
}

// Socket implements socket.Provider.
func (p provider) Socket(ctx socket.Context, typ, protocol int, flags uint32) (*vfs.FileDescription, error) {
	protocol, err := checkType(p.family, typ, protocol)
	if err != nil {
		return nil, err
	}
	if (protocol == linux.IPPROTO_ICMP || protocol == linux.IPPROTO_ICMPV6) && !pingAllowed(ctx.Credentials()) {
		return nil, errno.EACCES
	}
	// The guest's O_NONBLOCK lives in the file's status flags; the host
	// socket never blocks.
	fd, err := unix.Socket(p.family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, protocol)
	if err != nil {
		return nil, hostErr(err)
	}
	s, err := newSocket(ctx, fd, p.family, typ, protocol)
	if err != nil {
		return nil, err
	}
	return newFile(s, flags), nil
}

// Pair implements socket.Provider: "EOPNOTSUPP The specified protocol
// does not support creation of socket pairs" - socketpair(2).
func (provider) Pair(socket.Context, int, int, uint32) (*vfs.FileDescription, *vfs.FileDescription, error) {
	return nil, nil, errno.EOPNOTSUPP
}
