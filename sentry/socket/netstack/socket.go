package netstack

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/inet"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
	"github.com/runsc-lite/runsc-lite/sentry/socket/ifioctl"
)

// EventRdHUp is POLLRDHUP.
const EventRdHUp vfs.EventMask = 0x2000

// allEvents are the events the bridge forwards from netstack.
const allEvents = waiter.EventIn | waiter.EventPri | waiter.EventOut | waiter.EventErr | waiter.EventHUp |
	waiter.EventRdNorm | waiter.EventWrNorm | waiter.EventRdHUp

var nextIno atomic.Uint64

func init() {
	// Distinct from AF_UNIX's inode numbers in /proc/net: start high.
	nextIno.Store(1 << 20)
}

// Socket is an AF_INET or AF_INET6 socket over a netstack endpoint. It is
// the implementation of its file.
type Socket struct {
	vfs.FileDescriptionDefaultImpl
	// WaitQueue has the socket's events for poll, epoll and blocked
	// calls; netstack's queue feeds it through bridge.
	vfs.WaitQueue

	st *Stack
	// family, typ and protocol are socket(2)'s, with the protocol made
	// explicit (IPPROTO_TCP for a SOCK_STREAM created with 0). Immutable.
	family, typ, protocol int
	ep                    tcpip.Endpoint
	wq                    *waiter.Queue
	bridge                waiter.Entry
	// ino, ctime, uid and gid are for fstat and /proc/net. Immutable.
	ino      uint64
	ctime    time.Time
	uid, gid uint32
	// file is the socket's file description (no reference: the file
	// owns the socket). Set before the socket is published.
	file *vfs.FileDescription

	// mu protects the options the sentry keeps itself.
	mu       sync.Mutex
	rcvTimeo time.Duration
	sndTimeo time.Duration
	// Stored options that have no effect on a loopback stack but read
	// back as set.
	priority    int32
	rcvLowat    int32
	dontRoute   bool
	oobInline   bool
	timestamp   bool
	timestampNS bool
}

// NotifyEvent implements waiter.EventListener: netstack's notifications
// reach the socket's own waiters. netstack calls it from its goroutines
// with its queue locked; vfs waiters only signal channels or queue epoll
// items, so this never blocks.
func (s *Socket) NotifyEvent(mask waiter.EventMask) {
	s.WaitQueue.Notify(vfs.EventMask(mask.ToLinux()))
}

// provider creates the sockets of one family on a stack.
type provider struct {
	st     *Stack
	family int
}

// transport picks the netstack transport for socket(2)'s type and
// protocol, as net/ipv4/af_inet.c:inet_create does from its switch table:
// an unknown type is ESOCKTNOSUPPORT, a protocol the type does not carry
// EPROTONOSUPPORT.
func (p provider) transport(typ, protocol int) (tcpip.TransportProtocolNumber, int, error) {
	switch typ {
	case linux.SOCK_STREAM:
		if protocol == linux.IPPROTO_IP || protocol == linux.IPPROTO_TCP {
			return tcp.ProtocolNumber, linux.IPPROTO_TCP, nil
		}
		return 0, 0, errno.EPROTONOSUPPORT
	case linux.SOCK_DGRAM:
		switch {
		case protocol == linux.IPPROTO_IP || protocol == linux.IPPROTO_UDP:
			return udp.ProtocolNumber, linux.IPPROTO_UDP, nil
		case protocol == linux.IPPROTO_ICMP && p.family == linux.AF_INET:
			return icmp.ProtocolNumber4, linux.IPPROTO_ICMP, nil
		case protocol == linux.IPPROTO_ICMPV6 && p.family == linux.AF_INET6:
			return icmp.ProtocolNumber6, linux.IPPROTO_ICMPV6, nil
		}
		return 0, 0, errno.EPROTONOSUPPORT
	case linux.SOCK_RAW:
		// Raw sockets need CAP_NET_RAW, which the sandbox's guests do
		// not get; ping(8) falls back to ping sockets.
		return 0, 0, errno.EPERM
	}
	return 0, 0, errno.ESOCKTNOSUPPORT
}

func (p provider) netProto() tcpip.NetworkProtocolNumber {
	if p.family == linux.AF_INET6 {
		return ipv6.ProtocolNumber
	}
	return ipv4.ProtocolNumber
}

// Socket implements socket.Provider.
func (p provider) Socket(ctx socket.Context, typ, protocol int, flags uint32) (*vfs.FileDescription, error) {
	tp, proto, err := p.transport(typ, protocol)
	if err != nil {
		return nil, err
	}
	wq := new(waiter.Queue)
	ep, terr := p.st.s.NewEndpoint(tp, p.netProto(), wq)
	if terr != nil {
		return nil, errnoOf(terr)
	}
	s := p.st.newSocket(ctx, p.family, typ, proto, ep, wq)
	return s.newFile(flags), nil
}

// Pair implements socket.Provider: "EOPNOTSUPP The specified protocol
// does not support creation of socket pairs" - socketpair(2).
func (provider) Pair(socket.Context, int, int, uint32) (*vfs.FileDescription, *vfs.FileDescription, error) {
	return nil, nil, errno.EOPNOTSUPP
}

// newSocket wraps an endpoint.
func (st *Stack) newSocket(ctx vfs.Context, family, typ, protocol int, ep tcpip.Endpoint, wq *waiter.Queue) *Socket {
	s := &Socket{
		st: st, family: family, typ: typ, protocol: protocol, ep: ep, wq: wq,
		ino: nextIno.Add(1), ctime: time.Now(), rcvLowat: 1,
	}
	if ctx != nil {
		c := ctx.Credentials()
		s.uid, s.gid = uint32(c.EffectiveKUID), uint32(c.EffectiveKGID)
	}
	s.bridge.Init(s, allEvents)
	wq.EventRegister(&s.bridge)
	st.add(s)
	return s
}

// newFile wraps s in a file description with status flags flags.
func (s *Socket) newFile(flags uint32) *vfs.FileDescription {
	opts := vfs.FileDescriptionOptions{Stream: true, Name: fmt.Sprintf("socket:[%d]", s.ino)}
	f := vfs.NewFileDescription(s, linux.O_RDWR|flags&linux.O_NONBLOCK, vfs.VirtualDentry{}, opts)
	s.file = f
	return f
}

// Release implements vfs.FileDescriptionImpl: the endpoint closes. A TCP
// connection then finishes in the background (FIN, TIME_WAIT) as in
// Linux, or is reset at once with SO_LINGER and a zero timeout, which
// netstack's Close implements.
func (s *Socket) Release() {
	s.wq.EventUnregister(&s.bridge)
	s.ep.Close()
	s.st.remove(s)
}

// Type implements socket.Socket.
func (s *Socket) Type() (family, typ, protocol int) { return s.family, s.typ, s.protocol }

// isStream reports whether s is a TCP socket.
func (s *Socket) isStream() bool { return s.typ == linux.SOCK_STREAM }

// Readiness implements vfs.FileDescriptionImpl: netstack's own readiness,
// which follows tcp_poll and datagram_poll.
func (s *Socket) Readiness(mask vfs.EventMask) vfs.EventMask {
	want := mask | vfs.EventErr | vfs.EventHUp
	ev := vfs.EventMask(s.ep.Readiness(waiter.EventMaskFromLinux(uint32(want))).ToLinux()) & want
	if s.isStream() {
		// netstack calls a closed endpoint "ready for anything"; tcp_poll
		// reports POLLPRI only for urgent data, which netstack never
		// has, and POLLERR only with an error pending (a reset or a
		// refused connection leave the endpoint in its error state; a
		// graceful close does not).
		ev &^= vfs.EventPri
		if ev&vfs.EventErr != 0 {
			switch tcp.EndpointState(s.ep.State()) {
			case tcp.StateError:
			case tcp.StateClose, tcp.StateTimeWait:
				// Closed by a reset (an error is pending) or
				// gracefully (none is).
				if !s.errorPending() {
					ev &^= vfs.EventErr
				}
			default:
				ev &^= vfs.EventErr
			}
		}
	}
	return ev
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

// nonblocking reports whether s's file is O_NONBLOCK.
func (s *Socket) nonblocking() bool {
	return s.file != nil && s.file.StatusFlags()&linux.O_NONBLOCK != 0
}

// timeouts returns SO_RCVTIMEO and SO_SNDTIMEO.
func (s *Socket) timeouts() (rcv, snd time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcvTimeo, s.sndTimeo
}

// block runs try until it returns anything but EAGAIN, waiting for events
// in mask in between (socket.Wait).
func (s *Socket) block(ctx socket.Context, nonblocking bool, timeout time.Duration, mask vfs.EventMask, try func() error) error {
	return socket.Wait(ctx, s, nonblocking, timeout, mask, func() (bool, error) {
		if err := try(); err != errno.EAGAIN {
			return true, err
		}
		return false, nil
	})
}

// Read implements vfs.FileDescriptionImpl: read(2) is recv(2) with no
// flags. EAGAIN from a blocking socket is its SO_RCVTIMEO, which the VFS
// must not wait out again.
func (s *Socket) Read(ctx vfs.Context, dst []byte, _ int64) (int, error) {
	sctx, _ := socket.ContextOf(ctx)
	nonblocking := s.nonblocking()
	b := &bufSink{buf: dst}
	_, err := s.recv(sctx, b, 0, nonblocking)
	n := b.n
	if err == errno.EAGAIN && !nonblocking && sctx != nil {
		err = vfs.ErrTimedOut
	}
	return n, err
}

// Write implements vfs.FileDescriptionImpl: write(2) is send(2) with no
// flags; the syscall layer raises SIGPIPE on a TCP socket's EPIPE.
func (s *Socket) Write(ctx vfs.Context, src []byte, _ int64) (int, error) {
	sctx, _ := socket.ContextOf(ctx)
	nonblocking := s.nonblocking()
	n, err := s.send(sctx, bytes.NewReader(src), nil, 0, nonblocking)
	if err == errno.EAGAIN && !nonblocking && sctx != nil && n == 0 {
		err = vfs.ErrTimedOut
	}
	return n, err
}

// QuietEPIPE implements syscalls.QuietEPIPE: only TCP raises SIGPIPE
// (tcp_sendmsg's sk_stream_error; UDP has no EPIPE to raise it for).
func (s *Socket) QuietEPIPE() bool { return !s.isStream() }

// Ioctl implements vfs.FileDescriptionImpl: the queue sizes
// (SIOCINQ/FIONREAD, SIOCOUTQ) and the interface requests.
func (s *Socket) Ioctl(ctx vfs.Context, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	var n int
	switch cmd {
	case linux.SIOCINQ:
		if s.isStream() && tcp.EndpointState(s.ep.State()) == tcp.StateListen {
			// tcp_ioctl: "if (sk->sk_state == TCP_LISTEN) return -EINVAL".
			return 0, errno.EINVAL
		}
		v, err := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption)
		if err != nil {
			return 0, errnoOf(err)
		}
		n = v
	case linux.SIOCOUTQ:
		if s.isStream() && tcp.EndpointState(s.ep.State()) == tcp.StateListen {
			return 0, errno.EINVAL
		}
		v, err := s.ep.GetSockOptInt(tcpip.SendQueueSizeOption)
		if err != nil {
			return 0, errnoOf(err)
		}
		n = v
	default:
		var stack inet.Stack
		if sctx, ok := socket.ContextOf(ctx); ok {
			stack = sctx.NetworkStack()
		}
		// The address requests (SIOCGIFADDR and its kin) are
		// inet_ioctl's, so only AF_INET sockets answer them; the rest
		// are dev_ioctl's, which every socket reaches.
		ioctl := ifioctl.DevIoctl
		if s.family == linux.AF_INET {
			ioctl = ifioctl.Ioctl
		}
		if r, handled, err := ioctl(stack, mem, cmd, arg); handled {
			return r, err
		}
		return 0, errno.ENOTTY
	}
	b := []byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}
	if _, err := mem.CopyOutBytes(hostarch.Addr(arg), b); err != nil {
		return 0, errno.EFAULT
	}
	return 0, nil
}

// info describes s for /proc/net.
func (s *Socket) info() inet.SocketInfo {
	i := inet.SocketInfo{Family: s.family, Type: s.typ, Protocol: s.protocol, UID: s.uid, Inode: s.ino}
	if a, err := s.ep.GetLocalAddress(); err == nil {
		i.LocalAddr, i.LocalPort = addrBytes(s.family, a.Addr), a.Port
	}
	if a, err := s.ep.GetRemoteAddress(); err == nil {
		i.RemoteAddr, i.RemotePort = addrBytes(s.family, a.Addr), a.Port
	}
	if s.isStream() {
		i.State = tcpState(tcp.EndpointState(s.ep.State()))
	} else if i.RemotePort != 0 {
		i.State = inet.TCP_ESTABLISHED
	} else {
		i.State = inet.TCP_CLOSE
	}
	if v, err := s.ep.GetSockOptInt(tcpip.ReceiveQueueSizeOption); err == nil {
		i.RxQueue = uint32(v)
	}
	if v, err := s.ep.GetSockOptInt(tcpip.SendQueueSizeOption); err == nil {
		i.TxQueue = uint32(v)
	}
	return i
}

// addrBytes returns a in the family's length (4 or 16 bytes).
func addrBytes(family int, a tcpip.Address) []byte {
	sa := sockaddr(family, tcpip.FullAddress{Addr: a})
	if family == linux.AF_INET {
		return sa[4:8]
	}
	return sa[8:24]
}

// tcpState maps netstack's TCP states to Linux's; netstack's own states
// before a connection (initial, bound, connecting, error) are TCP_CLOSE
// or TCP_SYN_SENT in Linux.
func tcpState(st tcp.EndpointState) uint8 {
	switch st {
	case tcp.StateEstablished, tcp.StateSynSent, tcp.StateSynRecv, tcp.StateFinWait1, tcp.StateFinWait2,
		tcp.StateTimeWait, tcp.StateClose, tcp.StateCloseWait, tcp.StateLastAck, tcp.StateListen, tcp.StateClosing:
		// The same numbers as include/net/tcp_states.h.
		return uint8(st)
	case tcp.StateConnecting:
		return inet.TCP_SYN_SENT
	}
	return inet.TCP_CLOSE
}

// errorPending reports whether the endpoint holds an error for SO_ERROR.
// netstack has no way to look without taking it, so it is put back (as
// the soft error, which SO_ERROR reports the same way).
func (s *Socket) errorPending() bool {
	err := s.ep.LastError()
	if err == nil {
		return false
	}
	s.ep.SocketOptions().SetLastError(err)
	return true
}

// inherit gives a newly accepted socket the listener's options, as
// sk_clone_lock copies the listening sock: netstack copies only some.
func (s *Socket) inherit(l *Socket) {
	lo, so := l.ep.SocketOptions(), s.ep.SocketOptions()
	so.SetKeepAlive(lo.GetKeepAlive())
	so.SetDelayOption(lo.GetDelayOption())
	so.SetCorkOption(lo.GetCorkOption())
	so.SetLinger(lo.GetLinger())
	so.SetReuseAddress(lo.GetReuseAddress())
	so.SetReusePort(lo.GetReusePort())
	so.SetBroadcast(lo.GetBroadcast())
	l.mu.Lock()
	rcvTimeo, sndTimeo, prio, lowat, dontRoute, oob, ts, tsNS := l.rcvTimeo, l.sndTimeo, l.priority, l.rcvLowat, l.dontRoute, l.oobInline, l.timestamp, l.timestampNS
	l.mu.Unlock()
	s.mu.Lock()
	s.rcvTimeo, s.sndTimeo, s.priority, s.rcvLowat, s.dontRoute, s.oobInline, s.timestamp, s.timestampNS = rcvTimeo, sndTimeo, prio, lowat, dontRoute, oob, ts, tsNS
	s.mu.Unlock()
}
