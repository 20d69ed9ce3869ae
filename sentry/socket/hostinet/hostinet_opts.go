package hostinet

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// optKey names a socket option.
type optKey struct{ level, name int }

// optSpec says how an option passes through to the host.
type optSpec struct {
	// size is the most bytes passed either way: the value is cut to it
	// before setsockopt, and getsockopt's buffer is at most this long.
	// The host checks the lengths as Linux does (short ints are EINVAL,
	// or a byte for some IP options).
	size int
	// get and set say which directions are allowed.
	get, set bool
}

// sizeofInt is sizeof(int).
const sizeofInt = 4

// intOpt is an int option that may be read and set.
var intOpt = optSpec{size: sizeofInt, get: true, set: true}

// getOnly is an int option that may only be read.
var getOnly = optSpec{size: sizeofInt, get: true}

// hostOpts is the allowlist of options passed to the host. Everything
// else is ENOPROTOOPT. Left out on purpose: options whose value holds a
// pointer (SO_ATTACH_FILTER), that need privileges the sentry may have
// and the guest not (SO_MARK, SO_DEBUG, IP_TRANSPARENT, TCP_REPAIR), that
// load kernel code paths the guest should not reach (TCP_ULP, TCP_MD5SIG),
// and that produce control messages or error-queue entries RecvMsg does
// not pass on (SO_TIMESTAMPING, SO_ZEROCOPY, UDP_GRO, TCP_INQ).
var hostOpts = map[optKey]optSpec{
	{linux.SOL_SOCKET, linux.SO_TYPE}:             getOnly,
	{linux.SOL_SOCKET, linux.SO_DOMAIN}:           getOnly,
	{linux.SOL_SOCKET, linux.SO_PROTOCOL}:         getOnly,
	{linux.SOL_SOCKET, linux.SO_ERROR}:            getOnly,
	{linux.SOL_SOCKET, linux.SO_ACCEPTCONN}:       getOnly,
	{linux.SOL_SOCKET, linux.SO_SNDLOWAT}:         getOnly,
	{linux.SOL_SOCKET, linux.SO_INCOMING_CPU}:     getOnly,
	{linux.SOL_SOCKET, linux.SO_BINDTOIFINDEX}:    getOnly,
	{linux.SOL_SOCKET, linux.SO_REUSEADDR}:        intOpt,
	{linux.SOL_SOCKET, linux.SO_REUSEPORT}:        intOpt,
	{linux.SOL_SOCKET, linux.SO_KEEPALIVE}:        intOpt,
	{linux.SOL_SOCKET, linux.SO_BROADCAST}:        intOpt,
	{linux.SOL_SOCKET, linux.SO_DONTROUTE}:        intOpt,
	{linux.SOL_SOCKET, linux.SO_OOBINLINE}:        intOpt,
	{linux.SOL_SOCKET, linux.SO_NO_CHECK}:         intOpt,
	{linux.SOL_SOCKET, linux.SO_PRIORITY}:         intOpt,
	{linux.SOL_SOCKET, linux.SO_RCVLOWAT}:         intOpt,
	{linux.SOL_SOCKET, linux.SO_SNDBUF}:           intOpt,
	{linux.SOL_SOCKET, linux.SO_RCVBUF}:           intOpt,
	{linux.SOL_SOCKET, linux.SO_SNDBUFFORCE}:      {size: sizeofInt, set: true},
	{linux.SOL_SOCKET, linux.SO_RCVBUFFORCE}:      {size: sizeofInt, set: true},
	{linux.SOL_SOCKET, linux.SO_PASSCRED}:         intOpt,
	{linux.SOL_SOCKET, linux.SO_LINGER}:           {size: linux.SizeofLinger, get: true, set: true},
	{linux.SOL_SOCKET, linux.SO_BINDTODEVICE}:     {size: linux.IFNAMSIZ, get: true, set: true},
	{linux.SOL_SOCKET, linux.SO_TIMESTAMP}:        intOpt,
	{linux.SOL_SOCKET, linux.SO_TIMESTAMPNS}:      intOpt,
	{linux.SOL_TCP, linux.TCP_NODELAY}:            intOpt,
	{linux.SOL_TCP, linux.TCP_MAXSEG}:             intOpt,
	{linux.SOL_TCP, linux.TCP_CORK}:               intOpt,
	{linux.SOL_TCP, linux.TCP_KEEPIDLE}:           intOpt,
	{linux.SOL_TCP, linux.TCP_KEEPINTVL}:          intOpt,
	{linux.SOL_TCP, linux.TCP_KEEPCNT}:            intOpt,
	{linux.SOL_TCP, linux.TCP_SYNCNT}:             intOpt,
	{linux.SOL_TCP, linux.TCP_LINGER2}:            intOpt,
	{linux.SOL_TCP, linux.TCP_DEFER_ACCEPT}:       intOpt,
	{linux.SOL_TCP, linux.TCP_WINDOW_CLAMP}:       intOpt,
	{linux.SOL_TCP, linux.TCP_QUICKACK}:           intOpt,
	{linux.SOL_TCP, linux.TCP_USER_TIMEOUT}:       intOpt,
	{linux.SOL_TCP, linux.TCP_FASTOPEN}:           intOpt,
	{linux.SOL_TCP, linux.TCP_NOTSENT_LOWAT}:      intOpt,
	{linux.SOL_TCP, linux.TCP_INFO}:               {size: 512, get: true}, // struct tcp_info grows; the host cuts to its own.
	{linux.SOL_TCP, linux.TCP_CONGESTION}:         {size: 16, get: true},  // TCP_CA_NAME_MAX; setting may need linux.CAP_NET_ADMIN.
	{linux.SOL_UDP, linux.UDP_CORK}:               intOpt,
	{linux.SOL_UDP, linux.UDP_SEGMENT}:            intOpt,
	{linux.SOL_IP, linux.IP_TOS}:                  intOpt,
	{linux.SOL_IP, linux.IP_TTL}:                  intOpt,
	{linux.SOL_IP, linux.IP_MTU_DISCOVER}:         intOpt,
	{linux.SOL_IP, linux.IP_PKTINFO}:              intOpt,
	{linux.SOL_IP, linux.IP_RECVERR}:              intOpt,
	{linux.SOL_IP, linux.IP_RECVTTL}:              intOpt,
	{linux.SOL_IP, linux.IP_RECVTOS}:              intOpt,
	{linux.SOL_IP, linux.IP_RECVORIGDSTADDR}:      intOpt,
	{linux.SOL_IP, linux.IP_MTU}:                  getOnly,
	{linux.SOL_IP, linux.IP_FREEBIND}:             intOpt,
	{linux.SOL_IP, linux.IP_BIND_ADDRESS_NO_PORT}: intOpt,
	{linux.SOL_IP, linux.IP_MULTICAST_IF}:         {size: 12, get: true, set: true}, // struct ip_mreqn
	{linux.SOL_IP, linux.IP_MULTICAST_TTL}:        intOpt,
	{linux.SOL_IP, linux.IP_MULTICAST_LOOP}:       intOpt,
	{linux.SOL_IP, linux.IP_MULTICAST_ALL}:        intOpt,
	{linux.SOL_IP, linux.IP_ADD_MEMBERSHIP}:       {size: 12, set: true}, // struct ip_mreqn
	{linux.SOL_IP, linux.IP_DROP_MEMBERSHIP}:      {size: 12, set: true},
	{linux.SOL_IPV6, linux.IPV6_UNICAST_HOPS}:     intOpt,
	{linux.SOL_IPV6, linux.IPV6_MULTICAST_IF}:     intOpt,
	{linux.SOL_IPV6, linux.IPV6_MULTICAST_HOPS}:   intOpt,
	{linux.SOL_IPV6, linux.IPV6_MULTICAST_LOOP}:   intOpt,
	{linux.SOL_IPV6, linux.IPV6_ADD_MEMBERSHIP}:   {size: 20, set: true}, // struct ipv6_mreq
	{linux.SOL_IPV6, linux.IPV6_DROP_MEMBERSHIP}:  {size: 20, set: true},
	{linux.SOL_IPV6, linux.IPV6_MTU_DISCOVER}:     intOpt,
	{linux.SOL_IPV6, linux.IPV6_MTU}:              intOpt,
	{linux.SOL_IPV6, linux.IPV6_V6ONLY}:           intOpt,
	{linux.SOL_IPV6, linux.IPV6_TCLASS}:           intOpt,
	{linux.SOL_IPV6, linux.IPV6_RECVERR}:          intOpt,
	{linux.SOL_IPV6, linux.IPV6_RECVPKTINFO}:      intOpt,
	{linux.SOL_IPV6, linux.IPV6_RECVHOPLIMIT}:     intOpt,
	{linux.SOL_IPV6, linux.IPV6_RECVTCLASS}:       intOpt,
}

// isTimeo reports whether a SOL_SOCKET option is a receive (rcv) or send
// timeout, which the sentry keeps.
func isTimeo(name int) (timeo, rcv bool) {
	switch name {
	case linux.SO_RCVTIMEO, linux.SO_RCVTIMEO_NEW:
		return true, true
	case linux.SO_SNDTIMEO, linux.SO_SNDTIMEO_NEW:
		return true, false
	}
	return false, false
}

// GetSockOpt implements socket.Socket: the timeouts and SO_PEERCRED from
// the sentry, the allowlisted options from the host, cut to outLen.
func (s *Socket) GetSockOpt(ctx socket.Context, level, name int, outLen int) ([]byte, error) {
	if outLen < 0 {
		return nil, errno.EINVAL
	}
	if level == linux.SOL_SOCKET {
		if timeo, rcv := isTimeo(name); timeo {
			if rcv {
				return socket.TimevalBytes(s.rcvTimeout()), nil
			}
			return socket.TimevalBytes(s.sndTimeout()), nil
		}
		if name == linux.SO_PEERCRED {
			// IP sockets have no peer credentials: pid 0 and ids -1
			// (net/core/sock.c:cred_to_ucred).
			b := socket.Int32Bytes(0)
			b = binary.LittleEndian.AppendUint32(b, ^uint32(0))
			return binary.LittleEndian.AppendUint32(b, ^uint32(0)), nil
		}
	}
	spec, ok := hostOpts[optKey{level, name}]
	if !ok || !spec.get {
		return nil, errno.ENOPROTOOPT
	}
	buf := make([]byte, min(outLen, spec.size))
	n, err := hostGetSockOpt(s.fd, level, name, buf)
	if err != nil {
		return nil, hostErr(err)
	}
	return buf[:n], nil
}

// SetSockOpt implements socket.Socket: the timeouts in the sentry, the
// allowlisted options on the host. Checks that Linux makes against the
// caller's capabilities are made here against the guest's, since the host
// would make them against the sentry's.
func (s *Socket) SetSockOpt(ctx socket.Context, level, name int, val []byte) error {
	if level == linux.SOL_SOCKET {
		if timeo, rcv := isTimeo(name); timeo {
			d, err := socket.ParseTimeval(val)
			if err != nil {
				return err
			}
			if rcv {
				s.rcvTimeo.Store(int64(d))
			} else {
				s.sndTimeo.Store(int64(d))
			}
			return nil
		}
	}
	spec, ok := hostOpts[optKey{level, name}]
	if !ok || !spec.set {
		return errno.ENOPROTOOPT
	}
	if err := s.checkSetPrivilege(ctx, level, name, val); err != nil {
		return err
	}
	if err := hostSetSockOpt(s.fd, level, name, val[:min(len(val), spec.size)]); err != nil {
		return hostErr(err)
	}
	if level == linux.SOL_SOCKET && name == linux.SO_LINGER && len(val) >= linux.SizeofLinger {
		on := binary.LittleEndian.Uint32(val) != 0
		secs := int32(binary.LittleEndian.Uint32(val[4:]))
		s.lingers.Store(on && secs > 0)
	}
	return nil
}

// checkSetPrivilege makes sk_setsockopt's capability checks against the
// guest's credentials.
func (s *Socket) checkSetPrivilege(ctx socket.Context, level, name int, val []byte) error {
	if level != linux.SOL_SOCKET {
		return nil
	}
	c := ctx.Credentials()
	switch name {
	case linux.SO_SNDBUFFORCE, linux.SO_RCVBUFFORCE:
		if !c.HasCapability(linux.CAP_NET_ADMIN) {
			return errno.EPERM
		}
	case linux.SO_PRIORITY:
		// "Setting a priority outside the range 0 to 6 requires the
		// linux.CAP_NET_ADMIN capability" - socket(7).
		if len(val) >= sizeofInt {
			v := int32(binary.LittleEndian.Uint32(val))
			if (v < 0 || v > 6) && !c.HasCapability(linux.CAP_NET_ADMIN) {
				return errno.EPERM
			}
		}
	case linux.SO_BINDTODEVICE:
		// sock_setbindtodevice_locked: changing an existing binding
		// needs linux.CAP_NET_RAW. A host too old for linux.SO_BINDTOIFINDEX
		// (before 5.1) cannot say, and the guest then needs it always.
		if c.HasCapability(linux.CAP_NET_RAW) {
			return nil
		}
		if idx, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_BINDTOIFINDEX); err != nil || idx != 0 {
			return errno.EPERM
		}
	}
	return nil
}
