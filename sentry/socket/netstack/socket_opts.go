package netstack

import (
	"encoding/binary"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// sizeofTCPInfo is how much of struct tcp_info TCP_INFO returns: the
// fields up to tcpi_total_retrans and the 64-bit counters after them, zero
// where netstack keeps no count.
const sizeofTCPInfo = 232

// GetSockOpt implements socket.Socket. The whole value is returned; the
// syscall layer cuts it to the caller's length.
func (s *Socket) GetSockOpt(ctx socket.Context, level, name int, outLen int) ([]byte, error) {
	switch level {
	case linux.SOL_SOCKET:
		return s.getSocketOpt(name)
	case linux.SOL_TCP:
		if !s.isStream() {
			return nil, errno.EOPNOTSUPP
		}
		return s.getTCPOpt(name)
	case linux.SOL_IP:
		if s.family != linux.AF_INET && name != linux.IP_TOS && name != linux.IP_TTL {
			return nil, errno.ENOPROTOOPT
		}
		return s.getIPOpt(name)
	case linux.SOL_IPV6:
		if s.family != linux.AF_INET6 {
			return nil, errno.ENOPROTOOPT
		}
		return s.getIPv6Opt(name)
	case linux.SOL_UDP:
		if s.isStream() {
			return nil, errno.EOPNOTSUPP
		}
		return nil, errno.ENOPROTOOPT
	}
	return nil, errno.ENOPROTOOPT
}

func (s *Socket) getSocketOpt(name int) ([]byte, error) {
	so := s.ep.SocketOptions()
	switch name {
	case linux.SO_TYPE:
		return socket.Int32Bytes(int32(s.typ)), nil
	case linux.SO_DOMAIN:
		return socket.Int32Bytes(int32(s.family)), nil
	case linux.SO_PROTOCOL:
		return socket.Int32Bytes(int32(s.protocol)), nil
	case linux.SO_ERROR:
		return socket.Int32Bytes(int32(s.takeError())), nil
	case linux.SO_ACCEPTCONN:
		return socket.BoolBytes(s.isStream() && tcp.EndpointState(s.ep.State()) == tcp.StateListen), nil
	case linux.SO_REUSEADDR:
		return socket.BoolBytes(so.GetReuseAddress()), nil
	case linux.SO_REUSEPORT:
		return socket.BoolBytes(so.GetReusePort()), nil
	case linux.SO_KEEPALIVE:
		return socket.BoolBytes(so.GetKeepAlive()), nil
	case linux.SO_BROADCAST:
		return socket.BoolBytes(so.GetBroadcast()), nil
	case linux.SO_PASSCRED:
		return socket.BoolBytes(so.GetPassCred()), nil
	case linux.SO_NO_CHECK:
		return socket.BoolBytes(so.GetNoChecksum()), nil
	case linux.SO_SNDBUF:
		return socket.Int32Bytes(int32(so.GetSendBufferSize())), nil
	case linux.SO_RCVBUF:
		return socket.Int32Bytes(int32(so.GetReceiveBufferSize())), nil

	case linux.SO_SNDLOWAT:
		return socket.Int32Bytes(1), nil
	case linux.SO_LINGER:
		l := so.GetLinger()
		return append(socket.BoolBytes(l.Enabled), socket.Int32Bytes(int32(l.Timeout/time.Second))...), nil
	case linux.SO_RCVTIMEO, linux.SO_SNDTIMEO:
		rcv, snd := s.timeouts()
		if name == linux.SO_RCVTIMEO {
			return socket.TimevalBytes(rcv), nil
		}
		return socket.TimevalBytes(snd), nil
	case linux.SO_PEERCRED:
		// An IP peer has no credentials: pid 0 and ids -1
		// (net/core/sock.c:cred_to_ucred with no peer).
		b := socket.Int32Bytes(0)
		b = binary.LittleEndian.AppendUint32(b, ^uint32(0))
		return binary.LittleEndian.AppendUint32(b, ^uint32(0)), nil
	case linux.SO_MARK:
		return socket.Int32Bytes(int32(so.GetMark())), nil
	case linux.SO_BINDTODEVICE:
		return nil, errno.ENOPROTOOPT
	case linux.SO_COOKIE:
		return binary.LittleEndian.AppendUint64(nil, s.ino), nil
	case linux.SO_INCOMING_CPU, linux.SO_BUSY_POLL:
		return socket.Int32Bytes(0), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch name {
	case linux.SO_PRIORITY:
		return socket.Int32Bytes(s.priority), nil
	case linux.SO_RCVLOWAT:
		return socket.Int32Bytes(s.rcvLowat), nil
	case linux.SO_DONTROUTE:
		return socket.BoolBytes(s.dontRoute), nil
	case linux.SO_OOBINLINE:
		return socket.BoolBytes(s.oobInline), nil
	case linux.SO_TIMESTAMP:
		return socket.BoolBytes(s.timestamp), nil
	case linux.SO_TIMESTAMPNS:
		return socket.BoolBytes(s.timestampNS), nil
	}
	return nil, errno.ENOPROTOOPT
}

// takeError reads and clears the socket's pending error (SO_ERROR). A TCP
// endpoint may hold two (a hard error and the last soft one) where Linux
// has one sk_err, so both are cleared and the first is reported.
func (s *Socket) takeError() int {
	first := errnoValue(s.ep.LastError())
	if first != 0 {
		for i := 0; i < 2 && s.ep.LastError() != nil; i++ {
		}
	}
	return first
}

// errnoValue is SO_ERROR's value for a pending netstack error.
func errnoValue(err tcpip.Error) int {
	if err == nil {
		return 0
	}
	if e, ok := errnoOf(err).(errno.Errno); ok {
		return int(e)
	}
	return int(errno.EINVAL)
}

func (s *Socket) getTCPOpt(name int) ([]byte, error) {
	so := s.ep.SocketOptions()
	switch name {
	case linux.TCP_NODELAY:
		return socket.BoolBytes(!so.GetDelayOption()), nil
	case linux.TCP_CORK:
		return socket.BoolBytes(so.GetCorkOption()), nil
	case linux.TCP_QUICKACK:
		return socket.BoolBytes(so.GetQuickAck()), nil
	case linux.TCP_KEEPIDLE:
		var v tcpip.KeepaliveIdleOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int32Bytes(int32(time.Duration(v) / time.Second)), nil
	case linux.TCP_KEEPINTVL:
		var v tcpip.KeepaliveIntervalOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int32Bytes(int32(time.Duration(v) / time.Second)), nil
	case linux.TCP_USER_TIMEOUT:
		var v tcpip.TCPUserTimeoutOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int32Bytes(int32(time.Duration(v) / time.Millisecond)), nil
	case linux.TCP_LINGER2:
		var v tcpip.TCPLingerTimeoutOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int32Bytes(int32(time.Duration(v) / time.Second)), nil
	case linux.TCP_DEFER_ACCEPT:
		var v tcpip.TCPDeferAcceptOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int32Bytes(int32(time.Duration(v) / time.Second)), nil
	case linux.TCP_CONGESTION:
		var v tcpip.CongestionControlOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return nil, errnoOf(err)
		}
		// TCP_CA_NAME_MAX bytes, NUL-padded.
		b := make([]byte, 16)
		copy(b, v)
		return b, nil
	case linux.TCP_KEEPCNT, linux.TCP_MAXSEG, linux.TCP_SYNCNT, linux.TCP_WINDOW_CLAMP:
		opt := map[int]tcpip.SockOptInt{linux.TCP_KEEPCNT: tcpip.KeepaliveCountOption, linux.TCP_MAXSEG: tcpip.MaxSegOption,
			linux.TCP_SYNCNT: tcpip.TCPSynCountOption, linux.TCP_WINDOW_CLAMP: tcpip.TCPWindowClampOption}[name]
		v, err := s.ep.GetSockOptInt(opt)
		if err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int32Bytes(int32(v)), nil
	case linux.TCP_INFO:
		var v tcpip.TCPInfoOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return nil, errnoOf(err)
		}
		b := make([]byte, sizeofTCPInfo)
		le := binary.LittleEndian
		b[0] = tcpState(tcp.EndpointState(v.State))
		b[1] = uint8(v.CcState)
		le.PutUint32(b[8:], uint32(v.RTO/time.Microsecond))
		if mss, err := s.ep.GetSockOptInt(tcpip.MaxSegOption); err == nil {
			le.PutUint32(b[16:], uint32(mss)) // tcpi_snd_mss
			le.PutUint32(b[20:], uint32(mss)) // tcpi_rcv_mss
			le.PutUint32(b[84:], uint32(mss)) // tcpi_advmss
		}
		le.PutUint32(b[60:], loopbackMTU) // tcpi_pmtu
		le.PutUint32(b[68:], uint32(v.RTT/time.Microsecond))
		le.PutUint32(b[72:], uint32(v.RTTVar/time.Microsecond))
		le.PutUint32(b[76:], v.SndSsthresh)
		le.PutUint32(b[80:], v.SndCwnd)
		if v.ReorderSeen {
			le.PutUint32(b[88:], 1)
		}
		return b, nil
	case linux.TCP_FASTOPEN, linux.TCP_NOTSENT_LOWAT:
		return socket.Int32Bytes(0), nil
	}
	return nil, errno.ENOPROTOOPT
}

func (s *Socket) getIPOpt(name int) ([]byte, error) {
	so := s.ep.SocketOptions()
	switch name {
	case linux.IP_TOS:
		v, err := s.ep.GetSockOptInt(tcpip.IPv4TOSOption)
		if err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int32Bytes(int32(v)), nil
	case linux.IP_TTL:
		v, err := s.ep.GetSockOptInt(tcpip.IPv4TTLOption)
		if err != nil {
			return nil, errnoOf(err)
		}
		if v == 0 {
			v = 64 // The route's default (net.ipv4.ip_default_ttl).
		}
		return socket.Int32Bytes(int32(v)), nil
	case linux.IP_MULTICAST_TTL:
		v, err := s.ep.GetSockOptInt(tcpip.MulticastTTLOption)
		if err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int32Bytes(int32(v)), nil
	case linux.IP_MULTICAST_LOOP:
		return socket.BoolBytes(so.GetMulticastLoop()), nil
	case linux.IP_MULTICAST_IF:
		var v tcpip.MulticastInterfaceOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return nil, errnoOf(err)
		}
		b := make([]byte, 4)
		if v.InterfaceAddr.Len() == 4 {
			copy(b, v.InterfaceAddr.AsSlice())
		}
		return b, nil
	case linux.IP_MULTICAST_ALL:
		return socket.Int32Bytes(1), nil
	case linux.IP_RECVTOS:
		return socket.BoolBytes(so.GetReceiveTOS()), nil
	case linux.IP_RECVTTL:
		return socket.BoolBytes(so.GetReceiveTTL()), nil
	case linux.IP_PKTINFO:
		return socket.BoolBytes(so.GetReceivePacketInfo()), nil
	case linux.IP_RECVERR:
		return socket.BoolBytes(so.GetIPv4RecvError()), nil
	case linux.IP_HDRINCL:
		return socket.BoolBytes(so.GetHeaderIncluded()), nil
	case linux.IP_MTU_DISCOVER:
		v, err := s.ep.GetSockOptInt(tcpip.MTUDiscoverOption)
		if err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int32Bytes(int32(v)), nil
	case linux.IP_MTU:
		if _, err := s.ep.GetRemoteAddress(); err != nil {
			return nil, errno.ENOTCONN
		}
		return socket.Int32Bytes(loopbackMTU), nil
	case linux.IP_FREEBIND, linux.IP_RECVOPTS, linux.IP_RETOPTS:
		return socket.Int32Bytes(0), nil
	case linux.IP_OPTIONS:
		return nil, nil
	}
	return nil, errno.ENOPROTOOPT
}

func (s *Socket) getIPv6Opt(name int) ([]byte, error) {
	so := s.ep.SocketOptions()
	switch name {
	case linux.IPV6_V6ONLY:
		return socket.BoolBytes(so.GetV6Only()), nil
	case linux.IPV6_TCLASS:
		v, err := s.ep.GetSockOptInt(tcpip.IPv6TrafficClassOption)
		if err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int32Bytes(int32(v)), nil
	case linux.IPV6_UNICAST_HOPS:
		v, err := s.ep.GetSockOptInt(tcpip.IPv6HopLimitOption)
		if err != nil {
			return nil, errnoOf(err)
		}
		if v < 0 {
			v = 64
		}
		return socket.Int32Bytes(int32(v)), nil
	case linux.IPV6_MULTICAST_HOPS:
		v, err := s.ep.GetSockOptInt(tcpip.MulticastTTLOption)
		if err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int32Bytes(int32(v)), nil
	case linux.IPV6_MULTICAST_LOOP:
		return socket.BoolBytes(so.GetMulticastLoop()), nil
	case linux.IPV6_MULTICAST_IF:
		var v tcpip.MulticastInterfaceOption
		if err := s.ep.GetSockOpt(&v); err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int32Bytes(int32(v.NIC)), nil
	case linux.IPV6_RECVPKTINFO:
		return socket.BoolBytes(so.GetIPv6ReceivePacketInfo()), nil
	case linux.IPV6_RECVTCLASS:
		return socket.BoolBytes(so.GetReceiveTClass()), nil
	case linux.IPV6_RECVHOPLIMIT:
		return socket.BoolBytes(so.GetReceiveHopLimit()), nil
	case linux.IPV6_RECVERR:
		return socket.BoolBytes(so.GetIPv6RecvError()), nil
	case linux.IPV6_MTU_DISCOVER:
		v, err := s.ep.GetSockOptInt(tcpip.MTUDiscoverOption)
		if err != nil {
			return nil, errnoOf(err)
		}
		return socket.Int32Bytes(int32(v)), nil
	}
	return nil, errno.ENOPROTOOPT
}

// SetSockOpt implements socket.Socket.
func (s *Socket) SetSockOpt(ctx socket.Context, level, name int, val []byte) error {
	switch level {
	case linux.SOL_SOCKET:
		return s.setSocketOpt(ctx, name, val)
	case linux.SOL_TCP:
		if !s.isStream() {
			return errno.EOPNOTSUPP
		}
		return s.setTCPOpt(name, val)
	case linux.SOL_IP:
		return s.setIPOpt(name, val)
	case linux.SOL_IPV6:
		if s.family != linux.AF_INET6 {
			return errno.ENOPROTOOPT
		}
		return s.setIPv6Opt(name, val)
	case linux.SOL_UDP:
		if s.isStream() {
			return errno.EOPNOTSUPP
		}
		return errno.ENOPROTOOPT
	}
	return errno.ENOPROTOOPT
}

// intVal decodes an int option: "optlen < sizeof(int)" is EINVAL for
// most options (sk_setsockopt, do_tcp_setsockopt).
func intVal(val []byte) (int32, error) {
	if len(val) < 4 {
		return 0, errno.EINVAL
	}
	return int32(binary.LittleEndian.Uint32(val)), nil
}

// ipIntVal decodes an IP-level int option, which Linux also takes as a
// single byte (do_ip_setsockopt: "if (optlen >= sizeof(int)) ... else if
// (optlen >= sizeof(char))").
func ipIntVal(val []byte) (int32, error) {
	if len(val) >= 4 {
		return int32(binary.LittleEndian.Uint32(val)), nil
	}
	if len(val) >= 1 {
		return int32(val[0]), nil
	}
	return 0, errno.EINVAL
}

func (s *Socket) setSocketOpt(ctx socket.Context, name int, val []byte) error {
	so := s.ep.SocketOptions()
	switch name {
	case linux.SO_RCVTIMEO, linux.SO_SNDTIMEO:
		d, err := socket.ParseTimeval(val)
		if err != nil {
			return err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if name == linux.SO_RCVTIMEO {
			s.rcvTimeo = d
		} else {
			s.sndTimeo = d
		}
		return nil
	case linux.SO_LINGER:
		if len(val) < linux.SizeofLinger {
			return errno.EINVAL
		}
		on := int32(binary.LittleEndian.Uint32(val)) != 0
		secs := max(int32(binary.LittleEndian.Uint32(val[4:])), 0)
		so.SetLinger(tcpip.LingerOption{Enabled: on, Timeout: time.Duration(secs) * time.Second})
		return nil
	case linux.SO_BINDTODEVICE:
		return errno.EPERM
	}
	v, err := intVal(val)
	if err != nil {
		return err
	}
	switch name {
	case linux.SO_REUSEADDR:
		so.SetReuseAddress(v != 0)
	case linux.SO_REUSEPORT:
		so.SetReusePort(v != 0)
	case linux.SO_KEEPALIVE:
		so.SetKeepAlive(v != 0)
	case linux.SO_BROADCAST:
		so.SetBroadcast(v != 0)
	case linux.SO_PASSCRED:
		so.SetPassCred(v != 0)
	case linux.SO_NO_CHECK:
		so.SetNoChecksum(v != 0)
	case linux.SO_SNDBUF, linux.SO_SNDBUFFORCE, linux.SO_RCVBUF, linux.SO_RCVBUFFORCE:
		if (name == linux.SO_SNDBUFFORCE || name == linux.SO_RCVBUFFORCE) && !ctx.Credentials().HasCapability(linux.CAP_NET_ADMIN) {
			return errno.EPERM
		}
		// "The kernel doubles this value (to allow space for
		// bookkeeping overhead)" - socket(7); netstack clamps it to its
		// limits.
		n := int64(uint32(v)) * 2
		if name == linux.SO_SNDBUF || name == linux.SO_SNDBUFFORCE {
			lo, hi := so.SendBufferLimits()
			so.SetSendBufferSize(min(max(n, lo), hi), true)
		} else {
			lo, hi := so.ReceiveBufferLimits()
			so.SetReceiveBufferSize(min(max(n, lo), hi), true)
		}
	case linux.SO_RCVLOWAT:
		// Kept and reported; netstack wakes readers at one byte
		// whatever it says, which only makes them wake early.
		s.mu.Lock()
		s.rcvLowat = max(v, 1)
		s.mu.Unlock()
	case linux.SO_MARK:
		if !ctx.Credentials().HasCapability(linux.CAP_NET_ADMIN) {
			return errno.EPERM
		}
		so.SetMark(uint32(v))
	case linux.SO_PRIORITY:
		if (v < 0 || v > 6) && !ctx.Credentials().HasCapability(linux.CAP_NET_ADMIN) {
			return errno.EPERM
		}
		s.mu.Lock()
		s.priority = v
		s.mu.Unlock()
	case linux.SO_DONTROUTE, linux.SO_OOBINLINE, linux.SO_TIMESTAMP, linux.SO_TIMESTAMPNS:
		s.mu.Lock()
		switch name {
		case linux.SO_DONTROUTE:
			s.dontRoute = v != 0
		case linux.SO_OOBINLINE:
			s.oobInline = v != 0
		case linux.SO_TIMESTAMP:
			s.timestamp = v != 0
		default:
			s.timestampNS = v != 0
		}
		s.mu.Unlock()
	case linux.SO_BUSY_POLL, linux.SO_INCOMING_CPU:
	default:
		return errno.ENOPROTOOPT
	}
	return nil
}

func (s *Socket) setTCPOpt(name int, val []byte) error {
	so := s.ep.SocketOptions()
	if name == linux.TCP_CONGESTION {
		n := 0
		for n < len(val) && val[n] != 0 {
			n++
		}
		v := tcpip.CongestionControlOption(val[:n])
		if err := s.ep.SetSockOpt(&v); err != nil {
			return errno.ENOENT // tcp_set_congestion_control: unknown name.
		}
		return nil
	}
	v, err := intVal(val)
	if err != nil {
		return err
	}
	// The time options: "TCP_KEEPIDLE ... between 1 and MAX_TCP_KEEPIDLE
	// (32767)" else EINVAL (do_tcp_setsockopt).
	setDur := func(opt tcpip.SettableSocketOption) error { return errnoOf(s.ep.SetSockOpt(opt)) }
	switch name {
	case linux.TCP_NODELAY:
		so.SetDelayOption(v == 0)
	case linux.TCP_CORK:
		so.SetCorkOption(v != 0)
	case linux.TCP_QUICKACK:
		so.SetQuickAck(v != 0)
	case linux.TCP_KEEPIDLE:
		if v < 1 || v > 32767 {
			return errno.EINVAL
		}
		o := tcpip.KeepaliveIdleOption(time.Duration(v) * time.Second)
		return setDur(&o)
	case linux.TCP_KEEPINTVL:
		if v < 1 || v > 32767 {
			return errno.EINVAL
		}
		o := tcpip.KeepaliveIntervalOption(time.Duration(v) * time.Second)
		return setDur(&o)
	case linux.TCP_KEEPCNT:
		if v < 1 || v > 127 {
			return errno.EINVAL
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.KeepaliveCountOption, int(v)))
	case linux.TCP_USER_TIMEOUT:
		if v < 0 {
			return errno.EINVAL
		}
		o := tcpip.TCPUserTimeoutOption(time.Duration(v) * time.Millisecond)
		return setDur(&o)
	case linux.TCP_LINGER2:
		o := tcpip.TCPLingerTimeoutOption(time.Duration(v) * time.Second)
		return setDur(&o)
	case linux.TCP_DEFER_ACCEPT:
		o := tcpip.TCPDeferAcceptOption(time.Duration(max(v, 0)) * time.Second)
		return setDur(&o)
	case linux.TCP_MAXSEG:
		if v != 0 && (v < 88 || v > 65535-40) {
			return errno.EINVAL
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.MaxSegOption, int(v)))
	case linux.TCP_SYNCNT:
		if v < 1 || v > 127 {
			return errno.EINVAL
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.TCPSynCountOption, int(v)))
	case linux.TCP_WINDOW_CLAMP:
		return errnoOf(s.ep.SetSockOptInt(tcpip.TCPWindowClampOption, int(v)))
	case linux.TCP_FASTOPEN, linux.TCP_NOTSENT_LOWAT:
		// Accepted; loopback needs neither.
	default:
		return errno.ENOPROTOOPT
	}
	return nil
}

func (s *Socket) setIPOpt(name int, val []byte) error {
	so := s.ep.SocketOptions()
	switch name {
	case linux.IP_ADD_MEMBERSHIP, linux.IP_DROP_MEMBERSHIP:
		return s.setMembership(name == linux.IP_ADD_MEMBERSHIP, val)
	case linux.IP_OPTIONS:
		// Options of up to 40 bytes are accepted and not sent: nothing
		// on loopback reads them.
		if len(val) > 40 {
			return errno.EINVAL
		}
		return nil
	case linux.IP_MULTICAST_IF:
		// struct in_addr, ip_mreq or ip_mreqn: the interface address (or
		// index, in an ip_mreqn).
		var o tcpip.MulticastInterfaceOption
		switch {
		case len(val) >= 12:
			o.NIC = tcpip.NICID(binary.LittleEndian.Uint32(val[8:]))
			if !isZero(val[4:8]) {
				o.InterfaceAddr = tcpip.AddrFrom4([4]byte(val[4:8]))
			}
		case len(val) >= 4:
			if !isZero(val[0:4]) {
				o.InterfaceAddr = tcpip.AddrFrom4([4]byte(val[0:4]))
			}
		default:
			return errno.EINVAL
		}
		return errnoOf(s.ep.SetSockOpt(&o))
	}
	v, err := ipIntVal(val)
	if err != nil {
		return err
	}
	switch name {
	case linux.IP_TOS:
		return errnoOf(s.ep.SetSockOptInt(tcpip.IPv4TOSOption, int(uint8(v))))
	case linux.IP_TTL:
		// -1 restores the default; otherwise 1..255 (do_ip_setsockopt).
		if v == -1 {
			v = 0
		} else if v < 1 || v > 255 {
			return errno.EINVAL
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.IPv4TTLOption, int(v)))
	case linux.IP_MULTICAST_TTL:
		if s.isStream() {
			return errno.ENOPROTOOPT
		}
		if v == -1 {
			v = 1
		} else if v < 0 || v > 255 {
			return errno.EINVAL
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.MulticastTTLOption, int(v)))
	case linux.IP_MULTICAST_LOOP:
		so.SetMulticastLoop(v != 0)
	case linux.IP_RECVTOS:
		so.SetReceiveTOS(v != 0)
	case linux.IP_RECVTTL:
		so.SetReceiveTTL(v != 0)
	case linux.IP_PKTINFO:
		so.SetReceivePacketInfo(v != 0)
	case linux.IP_RECVERR:
		so.SetIPv4RecvError(v != 0)
	case linux.IP_MTU_DISCOVER:
		if v < 0 || v > 5 {
			return errno.EINVAL
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.MTUDiscoverOption, int(v)))
	case linux.IP_FREEBIND, linux.IP_MULTICAST_ALL, linux.IP_RECVOPTS, linux.IP_RETOPTS:
		// Stored nowhere: loopback traffic carries no IP options.
	default:
		return errno.ENOPROTOOPT
	}
	return nil
}

// setMembership joins or leaves an IPv4 multicast group: ip_mreq
// (group, interface address) or ip_mreqn (group, address, index).
func (s *Socket) setMembership(join bool, val []byte) error {
	if len(val) < 8 {
		return errno.EINVAL
	}
	m := tcpip.MembershipOption{MulticastAddr: tcpip.AddrFrom4([4]byte(val[0:4]))}
	if !isZero(val[4:8]) {
		m.InterfaceAddr = tcpip.AddrFrom4([4]byte(val[4:8]))
	}
	if len(val) >= 12 {
		m.NIC = tcpip.NICID(binary.LittleEndian.Uint32(val[8:]))
	}
	if join {
		o := tcpip.AddMembershipOption(m)
		return errnoOf(s.ep.SetSockOpt(&o))
	}
	o := tcpip.RemoveMembershipOption(m)
	return errnoOf(s.ep.SetSockOpt(&o))
}

func (s *Socket) setIPv6Opt(name int, val []byte) error {
	so := s.ep.SocketOptions()
	if name == linux.IPV6_ADD_MEMBERSHIP || name == linux.IPV6_DROP_MEMBERSHIP {
		// struct ipv6_mreq: the group and an interface index.
		if len(val) < 20 {
			return errno.EINVAL
		}
		m := tcpip.MembershipOption{MulticastAddr: tcpip.AddrFrom16([16]byte(val[0:16])), NIC: tcpip.NICID(binary.LittleEndian.Uint32(val[16:]))}
		if name == linux.IPV6_ADD_MEMBERSHIP {
			o := tcpip.AddMembershipOption(m)
			return errnoOf(s.ep.SetSockOpt(&o))
		}
		o := tcpip.RemoveMembershipOption(m)
		return errnoOf(s.ep.SetSockOpt(&o))
	}
	v, err := intVal(val)
	if err != nil {
		return err
	}
	switch name {
	case linux.IPV6_V6ONLY:
		// "IPV6_V6ONLY ... cannot be changed once the socket is bound"
		// (do_ipv6_setsockopt: EINVAL when sk->sk_num is set).
		if a, err := s.ep.GetLocalAddress(); err == nil && a.Port != 0 {
			return errno.EINVAL
		}
		so.SetV6Only(v != 0)
	case linux.IPV6_TCLASS:
		if v < -1 || v > 255 {
			return errno.EINVAL
		}
		if v == -1 {
			v = 0
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.IPv6TrafficClassOption, int(v)))
	case linux.IPV6_UNICAST_HOPS:
		if v < -1 || v > 255 {
			return errno.EINVAL
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.IPv6HopLimitOption, int(v)))
	case linux.IPV6_MULTICAST_HOPS:
		if s.isStream() {
			return errno.ENOPROTOOPT
		}
		if v < -1 || v > 255 {
			return errno.EINVAL
		}
		if v == -1 {
			v = 1
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.MulticastTTLOption, int(v)))
	case linux.IPV6_MULTICAST_LOOP:
		so.SetMulticastLoop(v != 0)
	case linux.IPV6_MULTICAST_IF:
		if v != 0 && !s.st.s.CheckNIC(tcpip.NICID(v)) {
			return errno.ENODEV
		}
		o := tcpip.MulticastInterfaceOption{NIC: tcpip.NICID(v)}
		return errnoOf(s.ep.SetSockOpt(&o))
	case linux.IPV6_RECVPKTINFO:
		so.SetIPv6ReceivePacketInfo(v != 0)
	case linux.IPV6_RECVTCLASS:
		so.SetReceiveTClass(v != 0)
	case linux.IPV6_RECVHOPLIMIT:
		so.SetReceiveHopLimit(v != 0)
	case linux.IPV6_RECVERR:
		so.SetIPv6RecvError(v != 0)
	case linux.IPV6_MTU_DISCOVER:
		if v < 0 || v > 5 {
			return errno.EINVAL
		}
		return errnoOf(s.ep.SetSockOptInt(tcpip.MTUDiscoverOption, int(v)))
	default:
		return errno.ENOPROTOOPT
	}
	return nil
}
