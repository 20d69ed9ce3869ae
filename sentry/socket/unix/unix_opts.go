package unix

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// capNetAdmin is CAP_NET_ADMIN from <linux/capability.h>.
const capNetAdmin = 12

// GetSockOpt implements socket.Socket, as net/core/sock.c:sk_getsockopt.
// The whole value is returned; the syscall layer truncates it to the
// caller's length. AF_UNIX has no options beyond SOL_SOCKET's.
func (s *Socket) GetSockOpt(ctx socket.Context, level, name int, outLen int) ([]byte, error) {
	if level != linux.SOL_SOCKET {
		return nil, errno.EOPNOTSUPP
	}
	mu.Lock()
	defer mu.Unlock()
	o := &s.opts
	switch name {
	case linux.SO_TYPE:
		return socket.Int32Bytes(int32(s.typ)), nil
	case linux.SO_DOMAIN:
		return socket.Int32Bytes(linux.AF_UNIX), nil
	case linux.SO_PROTOCOL:
		return socket.Int32Bytes(0), nil
	case linux.SO_ERROR:
		e := s.soErr
		s.soErr = 0
		return socket.Int32Bytes(int32(e)), nil
	case linux.SO_ACCEPTCONN:
		return socket.BoolBytes(s.listening), nil
	case linux.SO_PASSCRED:
		return socket.BoolBytes(o.passCred), nil
	case linux.SO_REUSEADDR:
		return socket.BoolBytes(o.reuseAddr), nil
	case linux.SO_KEEPALIVE:
		return socket.BoolBytes(o.keepAlive), nil
	case linux.SO_BROADCAST:
		return socket.BoolBytes(o.broadcast), nil
	case linux.SO_DONTROUTE:
		return socket.BoolBytes(o.dontRoute), nil
	case linux.SO_OOBINLINE:
		return socket.BoolBytes(o.oobInline), nil
	case linux.SO_PRIORITY:
		return socket.Int32Bytes(o.priority), nil
	case linux.SO_RCVLOWAT:
		return socket.Int32Bytes(o.rcvLowat), nil
	case linux.SO_SNDLOWAT:
		return socket.Int32Bytes(1), nil
	case linux.SO_SNDBUF:
		return socket.Int32Bytes(int32(o.sndBuf)), nil
	case linux.SO_RCVBUF:
		return socket.Int32Bytes(int32(o.rcvBuf)), nil
	case linux.SO_RCVTIMEO:
		return socket.TimevalBytes(o.rcvTimeo), nil
	case linux.SO_SNDTIMEO:
		return socket.TimevalBytes(o.sndTimeo), nil
	case linux.SO_LINGER:
		b := socket.BoolBytes(o.lingerOn)
		return append(b, socket.Int32Bytes(o.linger)...), nil
	case linux.SO_PEERCRED:
		// Unconnected: pid 0 and ids -1 (net/core/sock.c:cred_to_ucred).
		c := linux.UCred{UID: ^uint32(0), GID: ^uint32(0)}
		if s.hasPeerCred {
			c = s.peerCred
		}
		b := socket.Int32Bytes(c.PID)
		b = binary.LittleEndian.AppendUint32(b, c.UID)
		return binary.LittleEndian.AppendUint32(b, c.GID), nil
	}
	return nil, errno.ENOPROTOOPT
}

// SetSockOpt implements socket.Socket, as net/core/sock.c:sk_setsockopt.
func (s *Socket) SetSockOpt(ctx socket.Context, level, name int, val []byte) error {
	if level != linux.SOL_SOCKET {
		return errno.EOPNOTSUPP
	}
	switch name {
	case linux.SO_RCVTIMEO, linux.SO_SNDTIMEO:
		d, err := socket.ParseTimeval(val)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if name == linux.SO_RCVTIMEO {
			s.opts.rcvTimeo = d
		} else {
			s.opts.sndTimeo = d
		}
		return nil
	case linux.SO_LINGER:
		if len(val) < linux.SizeofLinger {
			return errno.EINVAL
		}
		on := int32(binary.LittleEndian.Uint32(val)) != 0
		secs := int32(binary.LittleEndian.Uint32(val[4:]))
		mu.Lock()
		defer mu.Unlock()
		s.opts.lingerOn = on
		if on {
			s.opts.linger = max(secs, 0)
		}
		return nil
	}
	// The rest take an int: "optlen < sizeof(int)" is EINVAL.
	if len(val) < 4 {
		return errno.EINVAL
	}
	v := int32(binary.LittleEndian.Uint32(val))
	mu.Lock()
	defer mu.Unlock()
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
	case linux.SO_DONTROUTE:
		o.dontRoute = v != 0
	case linux.SO_OOBINLINE:
		o.oobInline = v != 0
	case linux.SO_PRIORITY:
		if v < 0 || v > 6 {
			if !ctx.Credentials().HasCapability(capNetAdmin) {
				return errno.EPERM
			}
		}
		o.priority = v
	case linux.SO_RCVLOWAT:
		o.rcvLowat = max(v, 1)
	case linux.SO_SNDBUF, linux.SO_SNDBUFFORCE:
		if name == linux.SO_SNDBUFFORCE && !ctx.Credentials().HasCapability(capNetAdmin) {
			return errno.EPERM
		}
		// "The kernel doubles this value ... The minimum (doubled) value
		// for this option is 2048" - socket(7); the request is capped
		// at wmem_max first (compared unsigned).
		u := uint32(v)
		if name == linux.SO_SNDBUF {
			u = min(u, maxBufSet)
		}
		o.sndBuf = max(int(min(u, 1<<30))*2, minSndBuf)
	case linux.SO_RCVBUF, linux.SO_RCVBUFFORCE:
		if name == linux.SO_RCVBUFFORCE && !ctx.Credentials().HasCapability(capNetAdmin) {
			return errno.EPERM
		}
		u := uint32(v)
		if name == linux.SO_RCVBUF {
			u = min(u, maxBufSet)
		}
		o.rcvBuf = max(int(min(u, 1<<30))*2, minRcvBuf)
	default:
		return errno.ENOPROTOOPT
	}
	return nil
}
