package hostinet

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// addrFamily returns the sa_family of a raw sockaddr; the caller checked
// that it has two bytes.
func addrFamily(addr []byte) int {
	return int(binary.LittleEndian.Uint16(addr))
}

// addrPort returns the port of a sockaddr_in or sockaddr_in6 (the same
// offset in both), in host order.
func addrPort(addr []byte) int {
	return int(binary.BigEndian.Uint16(addr[2:]))
}

// unspecAddr is the address connect(2) takes to dissolve an association.
var unspecAddr = []byte{linux.AF_UNSPEC, 0}

// inet4 returns addr as a sockaddr_in for the host: its first 16 bytes
// (Linux reads no more), in a copy of the sentry's.
func inet4(addr []byte) []byte {
	return append([]byte(nil), addr[:linux.SizeofSockAddrInet]...)
}

// inet6 returns addr as a sockaddr_in6 for the host: at most 28 bytes.
func inet6(addr []byte) []byte {
	return append([]byte(nil), addr[:min(len(addr), linux.SizeofSockAddrInet6)]...)
}

// isZero4 reports whether a sockaddr_in's sin_addr is INADDR_ANY.
func isZero4(addr []byte) bool {
	return binary.LittleEndian.Uint32(addr[4:]) == 0
}

// bindAddress validates bind(2)'s address, as net/ipv4/af_inet.c:inet_bind
// (and ping_check_bind_addr) and net/ipv6/af_inet6.c:inet6_bind: EINVAL if
// short, EAFNOSUPPORT for another family, except that IPv4 still takes
// AF_UNSPEC with INADDR_ANY "for backward compatibility".
func (s *Socket) bindAddress(addr []byte) ([]byte, error) {
	if s.family == linux.AF_INET {
		if len(addr) < linux.SizeofSockAddrInet {
			return nil, errno.EINVAL
		}
		if f := addrFamily(addr); f != linux.AF_INET && !(f == linux.AF_UNSPEC && isZero4(addr)) {
			return nil, errno.EAFNOSUPPORT
		}
		return inet4(addr), nil
	}
	if len(addr) < linux.SIN6_LEN_RFC2133 {
		return nil, errno.EINVAL
	}
	if addrFamily(addr) != linux.AF_INET6 {
		return nil, errno.EAFNOSUPPORT
	}
	return inet6(addr), nil
}

// connectAddress validates connect(2)'s address, as
// net/ipv4/af_inet.c:inet_{stream,dgram}_connect, tcp_v4_connect,
// ip4_datagram_connect, tcp_v6_connect and ip6_datagram_connect.
// AF_UNSPEC dissolves the association. An IPv6 datagram socket also takes
// an IPv4 address (for IPv4-mapped use), ping sockets excepted.
func (s *Socket) connectAddress(addr []byte) ([]byte, error) {
	if len(addr) < 2 {
		return nil, errno.EINVAL
	}
	f := addrFamily(addr)
	if f == linux.AF_UNSPEC {
		return unspecAddr, nil
	}
	if s.family == linux.AF_INET6 && s.typ == linux.SOCK_DGRAM && s.protocol == linux.IPPROTO_UDP && f == linux.AF_INET {
		if len(addr) < linux.SizeofSockAddrInet {
			return nil, errno.EINVAL
		}
		return inet4(addr), nil
	}
	return s.peerAddress(addr, f)
}

// peerAddress checks a peer address of s's own family: EINVAL if short,
// EAFNOSUPPORT for another family.
func (s *Socket) peerAddress(addr []byte, f int) ([]byte, error) {
	if s.family == linux.AF_INET {
		if len(addr) < linux.SizeofSockAddrInet {
			return nil, errno.EINVAL
		}
		if f != linux.AF_INET {
			return nil, errno.EAFNOSUPPORT
		}
		return inet4(addr), nil
	}
	if len(addr) < linux.SIN6_LEN_RFC2133 {
		return nil, errno.EINVAL
	}
	if f != linux.AF_INET6 {
		return nil, errno.EAFNOSUPPORT
	}
	return inet6(addr), nil
}

// sendAddress validates a datagram's destination, as udp_sendmsg,
// udpv6_sendmsg, ping_v4_sendmsg and ping_v6_sendmsg. nil means the
// connected peer (AF_UNSPEC on an IPv6 UDP socket is "no address").
func (s *Socket) sendAddress(addr []byte) ([]byte, error) {
	if len(addr) < 2 {
		return nil, errno.EINVAL
	}
	f := addrFamily(addr)
	switch {
	case s.protocol == linux.IPPROTO_ICMPV6:
		// ping_v6_sendmsg wants a whole sockaddr_in6.
		if len(addr) < linux.SizeofSockAddrInet6 {
			return nil, errno.EINVAL
		}
		if f != linux.AF_INET6 {
			return nil, errno.EAFNOSUPPORT
		}
		return inet6(addr), nil
	case s.family == linux.AF_INET && s.protocol == linux.IPPROTO_UDP:
		if len(addr) < linux.SizeofSockAddrInet {
			return nil, errno.EINVAL
		}
		if f != linux.AF_INET && f != linux.AF_UNSPEC {
			return nil, errno.EAFNOSUPPORT
		}
		return inet4(addr), nil
	case s.family == linux.AF_INET6 && s.protocol == linux.IPPROTO_UDP:
		switch f {
		case linux.AF_INET6:
			if len(addr) < linux.SIN6_LEN_RFC2133 {
				return nil, errno.EINVAL
			}
			return inet6(addr), nil
		case linux.AF_INET:
			if len(addr) < linux.SizeofSockAddrInet {
				return nil, errno.EINVAL
			}
			return inet4(addr), nil
		case linux.AF_UNSPEC:
			return nil, nil
		}
		return nil, errno.EINVAL
	}
	return s.peerAddress(addr, f)
}

// Bind implements socket.Socket. A port below
// net.ipv4.ip_unprivileged_port_start needs the guest's
// linux.CAP_NET_BIND_SERVICE, whatever the sentry's own privileges ("EACCES The
// address is protected, and the user is not the superuser" - bind(2));
// an ICMP socket's "port" is its echo identifier and needs nothing.
func (s *Socket) Bind(ctx socket.Context, addr []byte) error {
	a, err := s.bindAddress(addr)
	if err != nil {
		return err
	}
	port := addrPort(a)
	reserved := port != 0 && port < int(hostConfig.unprivPortStart.Load())
	if reserved && (s.protocol == linux.IPPROTO_TCP || s.protocol == linux.IPPROTO_UDP) && !ctx.Credentials().HasCapability(linux.CAP_NET_BIND_SERVICE) {
		return errno.EACCES
	}
	return hostErr(hostBind(s.fd, a))
}

// Listen implements socket.Socket. The host clamps the backlog to its
// net.core.somaxconn.
func (s *Socket) Listen(ctx socket.Context, backlog int) error {
	return hostErr(unix.Listen(s.fd, backlog))
}

// Connect implements socket.Socket. The host connects without blocking; a
// blocking connect then waits for the socket to become writable, up to
// SO_SNDTIMEO, and reports SO_ERROR, as net/ipv4/af_inet.c:
// __inet_stream_connect. A timeout leaves the connection going on and
// returns EINPROGRESS; a later connect(2) sees EALREADY, or waits again
// when blocking.
func (s *Socket) Connect(ctx socket.Context, addr []byte, nonblocking bool) error {
	a, err := s.connectAddress(addr)
	if err != nil {
		return err
	}
	switch err := hostConnect(s.fd, a); err {
	case nil:
		s.Notify(allEvents)
		return nil
	case unix.EINPROGRESS, unix.EALREADY:
		if nonblocking {
			return hostErr(err)
		}
	default:
		return hostErr(err)
	}
	return s.waitConnect(ctx)
}

// waitConnect waits for a connection in progress to complete.
func (s *Socket) waitConnect(ctx socket.Context) error {
	err := s.block(ctx, false, s.sndTimeout(), vfs.EventOut, func() (bool, error) {
		return s.Readiness(vfs.EventOut) != 0, nil
	})
	switch err {
	case nil:
	case errno.EAGAIN:
		// "Error code is set above": the timeout leaves EINPROGRESS.
		return errno.EINPROGRESS
	default:
		return err
	}
	v, gerr := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if gerr != nil {
		return hostErr(gerr)
	}
	if v != 0 {
		return errno.Errno(v)
	}
	if _, perr := hostSockName(s.fd, true); perr != nil {
		// The socket closed without an error: "sock_error(sk) ? :
		// -ECONNABORTED".
		return errno.ECONNABORTED
	}
	return nil
}

// Accept implements socket.Socket: the host's accept4(2), waiting up to
// SO_RCVTIMEO (net/ipv4/inet_connection_sock.c:inet_csk_accept uses
// sock_rcvtimeo).
func (s *Socket) Accept(ctx socket.Context, flags uint32, nonblocking bool) (*vfs.FileDescription, []byte, error) {
	nfd := -1
	var peer []byte
	err := s.block(ctx, nonblocking, s.rcvTimeout(), vfs.EventIn, func() (bool, error) {
		fd, sa, err := hostAccept(s.fd)
		if err == unix.EAGAIN {
			return false, nil
		}
		if err != nil {
			return true, hostErr(err)
		}
		nfd, peer = fd, sa
		return true, nil
	})
	if err != nil {
		return nil, nil, err
	}
	ns, err := newSocket(ctx, nfd, s.family, s.typ, s.protocol)
	if err != nil {
		return nil, nil, err
	}
	return newFile(ns, flags), peer, nil
}

// Shutdown implements socket.Socket. Waiters are woken: a reader blocked
// on this socket sees end of file after SHUT_RD.
func (s *Socket) Shutdown(ctx socket.Context, how int) error {
	switch how {
	case linux.SHUT_RD, linux.SHUT_WR, linux.SHUT_RDWR:
	default:
		return errno.EINVAL
	}
	if err := unix.Shutdown(s.fd, how); err != nil {
		return hostErr(err)
	}
	s.Notify(allEvents)
	return nil
}

// GetSockName implements socket.Socket.
func (s *Socket) GetSockName(ctx socket.Context) ([]byte, error) {
	a, err := hostSockName(s.fd, false)
	return a, hostErr(err)
}

// GetPeerName implements socket.Socket.
func (s *Socket) GetPeerName(ctx socket.Context) ([]byte, error) {
	a, err := hostSockName(s.fd, true)
	return a, hostErr(err)
}
