package netstack

import (
	"encoding/binary"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/waiter"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// somaxconn is net.core.somaxconn: listen(2)'s backlog is capped at it.
const somaxconn = 4096

// Bind implements socket.Socket.
func (s *Socket) Bind(ctx socket.Context, addr []byte) error {
	a, err := parseAddr(s.family, addr, useBind, !s.isStream())
	if err != nil {
		return err
	}
	return bindErr(s.ep.Bind(a))
}

// Listen implements socket.Socket: "If the backlog argument is greater
// than the value in /proc/sys/net/core/somaxconn, then it is silently
// capped to that value" - listen(2); a negative one is taken unsigned,
// so it is capped too.
func (s *Socket) Listen(ctx socket.Context, backlog int) error {
	if !s.isStream() {
		return errno.EOPNOTSUPP
	}
	if uint32(backlog) > somaxconn {
		backlog = somaxconn
	}
	return errnoOf(s.ep.Listen(backlog))
}

// Connect implements socket.Socket. A blocking TCP connect waits for the
// handshake up to SO_SNDTIMEO (then EINPROGRESS, as inet_stream_connect);
// a signal makes it ERESTARTSYS, and the restarted call waits again.
func (s *Socket) Connect(ctx socket.Context, addr []byte, nonblocking bool) error {
	if len(addr) >= 2 && binary.LittleEndian.Uint16(addr) == linux.AF_UNSPEC {
		// "Connectionless sockets may dissolve the association by
		// connecting to an address with the sa_family member of sockaddr
		// set to AF_UNSPEC" - connect(2).
		if err := s.ep.Disconnect(); err != nil {
			if _, ok := err.(*tcpip.ErrNotSupported); ok {
				return errno.EAFNOSUPPORT
			}
			return errnoOf(err)
		}
		return nil
	}
	a, err := parseAddr(s.family, addr, useConnect, !s.isStream())
	if err != nil {
		return err
	}
	if s.family == linux.AF_INET6 && s.ep.SocketOptions().GetV6Only() && a.Addr.Len() == 16 && header.IsV4MappedAddress(a.Addr) {
		// A V6ONLY socket has no route to IPv4 (ip6_datagram_connect
		// and tcp_v6_connect fail with ENETUNREACH).
		return errno.ENETUNREACH
	}
	if !s.isStream() {
		return connectErr(s.ep.Connect(a), false)
	}
	// Register before connecting, so that the handshake's completion is
	// not missed.
	w := vfs.NewWaiter(vfs.EventOut)
	s.EventRegister(w)
	defer s.EventUnregister(w)
	terr := s.ep.Connect(a)
	switch terr.(type) {
	case *tcpip.ErrConnectStarted, *tcpip.ErrAlreadyConnecting:
	default:
		return connectErr(terr, true)
	}
	if nonblocking {
		return errnoOf(terr)
	}
	_, timeout := s.timeouts()
	hasDeadline, deadline := timeout > 0, ctxDeadline(timeout)
	for {
		if err := ctx.BlockUntil(w.C, deadline, hasDeadline); err != nil {
			switch err {
			case errno.ETIMEDOUT:
				return errno.EINPROGRESS
			case errno.ERESTARTSYS:
				if hasDeadline {
					return errno.EINTR
				}
			}
			return err
		}
		// Connect again for the result.
		terr = s.ep.Connect(a)
		if _, ok := terr.(*tcpip.ErrAlreadyConnecting); !ok {
			if terr != nil {
				// connect(2) reported the error; it is no longer
				// pending (SO_ERROR reads 0), as sk_err is taken by
				// inet_wait_for_connect's caller.
				s.takeError()
			}
			return connectErr(terr, true)
		}
	}
}

// Accept implements socket.Socket: the new socket is a file with status
// flags flags; the peer's address comes with it.
func (s *Socket) Accept(ctx socket.Context, flags uint32, nonblocking bool) (*vfs.FileDescription, []byte, error) {
	if !s.isStream() {
		return nil, nil, errno.EOPNOTSUPP
	}
	var (
		nep  tcpip.Endpoint
		nwq  *waiter.Queue
		peer tcpip.FullAddress
	)
	timeout, _ := s.timeouts()
	err := s.block(ctx, nonblocking, timeout, vfs.EventIn, func() error {
		ep, wq, terr := s.ep.Accept(&peer)
		if terr != nil {
			return errnoOf(terr)
		}
		nep, nwq = ep, wq
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	ns := s.st.newSocket(ctx, s.family, s.typ, s.protocol, nep, nwq)
	ns.inherit(s)
	return ns.newFile(flags), sockaddr(s.family, peer), nil
}

// Shutdown implements socket.Socket.
func (s *Socket) Shutdown(ctx socket.Context, how int) error {
	var f tcpip.ShutdownFlags
	switch how {
	case linux.SHUT_RD:
		f = tcpip.ShutdownRead
	case linux.SHUT_WR:
		f = tcpip.ShutdownWrite
	case linux.SHUT_RDWR:
		f = tcpip.ShutdownRead | tcpip.ShutdownWrite
	default:
		return errno.EINVAL
	}
	return errnoOf(s.ep.Shutdown(f))
}

// GetSockName implements socket.Socket.
func (s *Socket) GetSockName(socket.Context) ([]byte, error) {
	a, err := s.ep.GetLocalAddress()
	if err != nil {
		return nil, errnoOf(err)
	}
	return sockaddr(s.family, a), nil
}

// GetPeerName implements socket.Socket.
func (s *Socket) GetPeerName(socket.Context) ([]byte, error) {
	a, err := s.ep.GetRemoteAddress()
	if err != nil {
		return nil, errnoOf(err)
	}
	return sockaddr(s.family, a), nil
}

// ctxDeadline is the deadline of a wait with timeout (zero: none).
func ctxDeadline(timeout time.Duration) time.Time {
	if timeout <= 0 {
		return time.Time{}
	}
	return time.Now().Add(timeout)
}
