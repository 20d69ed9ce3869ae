package unix

import (
	"encoding/binary"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// capNetAdmin is CAP_NET_ADMIN from <linux/capability.h>.
const capNetAdmin = 12

func int32Bytes(v int32) []byte {
	return binary.LittleEndian.AppendUint32(nil, uint32(v))
}

func boolBytes(b bool) []byte {
	if b {
		return int32Bytes(1)
	}
	return int32Bytes(0)
}

// timevalBytes encodes d as a struct timeval.
func timevalBytes(d time.Duration) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(d/time.Second))
	return binary.LittleEndian.AppendUint64(b, uint64(d%time.Second/time.Microsecond))
}

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
		return int32Bytes(int32(s.typ)), nil
	case linux.SO_DOMAIN:
		return int32Bytes(linux.AF_UNIX), nil
	case linux.SO_PROTOCOL:
		return int32Bytes(0), nil
	case linux.SO_ERROR:
		e := s.soErr
		s.soErr = 0
		return int32Bytes(int32(e)), nil
	case linux.SO_ACCEPTCONN:
		return boolBytes(s.listening), nil
	case linux.SO_PASSCRED:
		return boolBytes(o.passCred), nil
	case linux.SO_REUSEADDR:
		return boolBytes(o.reuseAddr), nil
	case linux.SO_KEEPALIVE:
		return boolBytes(o.keepAlive), nil
	case linux.SO_BROADCAST:
		return boolBytes(o.broadcast), nil
	case linux.SO_DONTROUTE:
		return boolBytes(o.dontRoute), nil
	case linux.SO_OOBINLINE:
		return boolBytes(o.oobInline), nil
	case linux.SO_PRIORITY:
		return int32Bytes(o.priority), nil
	case linux.SO_RCVLOWAT:
		return int32Bytes(o.rcvLowat), nil
	case linux.SO_SNDLOWAT:
		return int32Bytes(1), nil
	case linux.SO_SNDBUF:
		return int32Bytes(int32(o.sndBuf)), nil
	case linux.SO_RCVBUF:
		return int32Bytes(int32(o.rcvBuf)), nil
	case linux.SO_RCVTIMEO:
		return timevalBytes(o.rcvTimeo), nil
	case linux.SO_SNDTIMEO:
		return timevalBytes(o.sndTimeo), nil
	case linux.SO_LINGER:
		b := boolBytes(o.lingerOn)
		return append(b, int32Bytes(o.linger)...), nil
	case linux.SO_PEERCRED:
		// Unconnected: pid 0 and ids -1 (net/core/sock.c:cred_to_ucred).
		c := linux.UCred{UID: ^uint32(0), GID: ^uint32(0)}
		if s.hasPeerCred {
			c = s.peerCred
		}
		b := int32Bytes(c.PID)
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
		d, err := parseTimeval(val)
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

// parseTimeval decodes SO_RCVTIMEO's struct timeval, as
// net/core/sock.c:sock_set_timeout: EINVAL if short, EDOM for bad
// microseconds; zero means no timeout, and a negative time the shortest.
func parseTimeval(val []byte) (time.Duration, error) {
	if len(val) < linux.SizeofTimeval {
		return 0, errno.EINVAL
	}
	sec := int64(binary.LittleEndian.Uint64(val))
	usec := int64(binary.LittleEndian.Uint64(val[8:]))
	if usec < 0 || usec >= 1000000 {
		return 0, errno.EDOM
	}
	if sec < 0 {
		return time.Nanosecond, nil
	}
	const maxSec = int64(1) << 32
	if sec > maxSec {
		return 0, nil // Effectively forever: no timeout.
	}
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, nil
}
