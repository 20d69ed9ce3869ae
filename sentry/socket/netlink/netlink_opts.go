package netlink

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// GetSockOpt implements socket.Socket: SOL_SOCKET options as
// net/core/sock.c:sk_getsockopt, SOL_NETLINK ones as netlink_getsockopt.
// The whole value is returned; the syscall layer truncates it.
func (s *Socket) GetSockOpt(ctx socket.Context, level, name int, outLen int) ([]byte, error) {
	switch level {
	case linux.SOL_SOCKET:
		return s.getSocketOpt(name)
	case linux.SOL_NETLINK:
		return s.getNetlinkOpt(name, outLen)
	}
	// netlink_getsockopt: "if (level != SOL_NETLINK) return -ENOPROTOOPT".
	return nil, errno.ENOPROTOOPT
}

func (s *Socket) getSocketOpt(name int) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := &s.opts
	switch name {
	case linux.SO_TYPE:
		return socket.Int32Bytes(int32(s.typ)), nil
	case linux.SO_DOMAIN:
		return socket.Int32Bytes(linux.AF_NETLINK), nil
	case linux.SO_PROTOCOL:
		return socket.Int32Bytes(linux.NETLINK_ROUTE), nil
	case linux.SO_ERROR:
		e := s.soErr
		s.soErr = 0
		return socket.Int32Bytes(int32(e)), nil
	case linux.SO_ACCEPTCONN:
		return socket.BoolBytes(false), nil
	case linux.SO_PASSCRED:
		return socket.BoolBytes(o.passCred), nil
	case linux.SO_REUSEADDR:
		return socket.BoolBytes(o.reuseAddr), nil
	case linux.SO_KEEPALIVE:
		return socket.BoolBytes(o.keepAlive), nil
	case linux.SO_BROADCAST:
		return socket.BoolBytes(o.broadcast), nil
	case linux.SO_PRIORITY:
		return socket.Int32Bytes(o.priority), nil
	case linux.SO_RCVLOWAT, linux.SO_SNDLOWAT:
		return socket.Int32Bytes(1), nil
	case linux.SO_SNDBUF:
		return socket.Int32Bytes(int32(o.sndBuf)), nil
	case linux.SO_RCVBUF:
		return socket.Int32Bytes(int32(o.rcvBuf)), nil
	case linux.SO_RCVTIMEO:
		return socket.TimevalBytes(o.rcvTimeo), nil
	case linux.SO_SNDTIMEO:
		return socket.TimevalBytes(o.sndTimeo), nil
	case linux.SO_PEERCRED:
		// No peer process: pid 0 and ids -1 (cred_to_ucred).
		b := socket.Int32Bytes(0)
		b = binary.LittleEndian.AppendUint32(b, ^uint32(0))
		return binary.LittleEndian.AppendUint32(b, ^uint32(0)), nil
	}
	return nil, errno.ENOPROTOOPT
}

// netlinkFlag returns the stored flag of a boolean SOL_NETLINK option, or
// nil if name is not one.
//
// Preconditions: s.mu is held.
func (s *Socket) netlinkFlag(name int) *bool {
	o := &s.opts
	switch name {
	case linux.NETLINK_PKTINFO:
		// Accepted, but no NETLINK_PKTINFO control message is built:
		// the socket layer carries only SOL_SOCKET ones. Every message
		// here is unicast, for which it would say group 0.
		return &o.pktInfo
	case linux.NETLINK_BROADCAST_ERROR:
		return &o.broadcastError
	case linux.NETLINK_NO_ENOBUFS:
		return &o.noENOBUFS
	case linux.NETLINK_LISTEN_ALL_NSID:
		return &o.listenAllNSID
	case linux.NETLINK_CAP_ACK:
		return &o.capAck
	case linux.NETLINK_EXT_ACK:
		// Errors here carry no message or attribute offset, so an
		// extended ack has no TLVs to add.
		return &o.extAck
	case linux.NETLINK_GET_STRICT_CHK:
		// Requests are parsed liberally either way; dumps are not
		// filtered by the request's header, which iproute2 also
		// filters on its side.
		return &o.strictChk
	}
	return nil
}

func (s *Socket) getNetlinkOpt(name int, outLen int) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == linux.NETLINK_LIST_MEMBERSHIPS {
		// The membership bitmap in __u32 words: RTNLGRP_MAX bits.
		words := (linux.RTNLGRP_MAX + 31) / 32
		var b []byte
		for i := 0; i < words; i++ {
			b = binary.LittleEndian.AppendUint32(b, uint32(s.groups>>(32*i)))
		}
		return b, nil
	}
	f := s.netlinkFlag(name)
	if f == nil {
		return nil, errno.ENOPROTOOPT
	}
	// "if (len < sizeof(int)) return -EINVAL".
	if outLen < 4 {
		return nil, errno.EINVAL
	}
	return socket.BoolBytes(*f), nil
}

// SetSockOpt implements socket.Socket: SOL_SOCKET options as
// sk_setsockopt, SOL_NETLINK ones as netlink_setsockopt.
func (s *Socket) SetSockOpt(ctx socket.Context, level, name int, val []byte) error {
	switch level {
	case linux.SOL_SOCKET:
		return s.setSocketOpt(ctx, name, val)
	case linux.SOL_NETLINK:
		return s.setNetlinkOpt(ctx, name, val)
	}
	return errno.ENOPROTOOPT
}

func (s *Socket) setSocketOpt(ctx socket.Context, name int, val []byte) error {
	if name == linux.SO_RCVTIMEO || name == linux.SO_SNDTIMEO {
		d, err := socket.ParseTimeval(val)
		if err != nil {
			return err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if name == linux.SO_RCVTIMEO {
			s.opts.rcvTimeo = d
		} else {
			s.opts.sndTimeo = d
		}
		return nil
	}
	// The rest take an int: "optlen < sizeof(int)" is EINVAL.
	if len(val) < 4 {
		return errno.EINVAL
	}
	v := int32(binary.LittleEndian.Uint32(val))
	s.mu.Lock()
	defer s.mu.Unlock()
	o := &s.opts
	switch name {
	case linux.SO_PASSCRED:
		o.passCred = v != 0
	case linux.SO_REUSEADDR:
		o.reuseAddr = v != 0
	case linux.SO_KEEPALIVE:
		o.keepAlive = v != 0
	case linux.SO_BROADCAST:
		o.broadcast = v != 0
	case linux.SO_PRIORITY:
		if (v < 0 || v > 6) && !hasCap(ctx, capNetAdmin) {
			return errno.EPERM
		}
		o.priority = v
	case linux.SO_SNDBUF, linux.SO_SNDBUFFORCE, linux.SO_RCVBUF, linux.SO_RCVBUFFORCE:
		force := name == linux.SO_SNDBUFFORCE || name == linux.SO_RCVBUFFORCE
		if force && !hasCap(ctx, capNetAdmin) {
			return errno.EPERM
		}
		// "The kernel doubles this value ... The minimum (doubled)
		// value for this option is 2048" - socket(7); the request is
		// capped at {w,r}mem_max first (compared unsigned).
		u := uint32(v)
		if !force {
			u = min(u, maxBufSet)
		}
		n := int(min(u, 1<<30)) * 2
		if name == linux.SO_SNDBUF || name == linux.SO_SNDBUFFORCE {
			o.sndBuf = max(n, minSndBuf)
		} else {
			o.rcvBuf = max(n, minRcvBuf)
		}
	default:
		return errno.ENOPROTOOPT
	}
	return nil
}

func (s *Socket) setNetlinkOpt(ctx socket.Context, name int, val []byte) error {
	// netlink_setsockopt reads an int only if optlen holds one; a
	// shorter value counts as 0.
	var v uint32
	if len(val) >= 4 {
		v = binary.LittleEndian.Uint32(val)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch name {
	case linux.NETLINK_ADD_MEMBERSHIP, linux.NETLINK_DROP_MEMBERSHIP:
		// "if (!val || val - 1 >= nlk->ngroups) return -EINVAL".
		if v == 0 || v-1 >= linux.RTNLGRP_MAX {
			return errno.EINVAL
		}
		bit := uint64(1) << (v - 1)
		if name == linux.NETLINK_ADD_MEMBERSHIP {
			s.groups |= bit
		} else {
			s.groups &^= bit
		}
		return nil
	case linux.NETLINK_LISTEN_ALL_NSID:
		if !hasCap(ctx, capNetBroadcast) {
			return errno.EPERM
		}
	}
	f := s.netlinkFlag(name)
	if f == nil {
		// NETLINK_RX_RING and NETLINK_TX_RING (mmap) are gone since
		// Linux 4.6.
		return errno.ENOPROTOOPT
	}
	*f = v != 0
	return nil
}
