package socket

import (
	"encoding/binary"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// Wait runs try until it reports done or fails, waiting for events in
// mask on q in between. A nonblocking call (or a caller that cannot
// sleep) fails with EAGAIN at once; a timeout (SO_RCVTIMEO, SO_SNDTIMEO)
// ends the wait with EAGAIN; a signal interrupts it with ERESTARTSYS, or
// EINTR when a timeout is set (include/net/sock.h:sock_intr_errno). The
// waiter is registered before try runs again, so no event is missed
// between a failed try and the sleep.
func Wait(ctx Context, q vfs.Waitable, nonblocking bool, timeout time.Duration, mask vfs.EventMask, try func() (done bool, err error)) error {
	var (
		w        *vfs.Waiter
		deadline time.Time
	)
	defer func() {
		if w != nil {
			q.EventUnregister(w)
		}
	}()
	for {
		done, err := try()
		if done || err != nil {
			return err
		}
		if nonblocking || ctx == nil {
			return errno.EAGAIN
		}
		if w == nil {
			w = vfs.NewWaiter(mask)
			q.EventRegister(w)
			if timeout > 0 {
				deadline = time.Now().Add(timeout)
			}
			continue
		}
		switch err := ctx.BlockUntil(w.C, deadline, timeout > 0); err {
		case nil:
		case errno.ETIMEDOUT:
			return errno.EAGAIN
		case errno.ERESTARTSYS:
			if timeout > 0 {
				return errno.EINTR
			}
			return err
		default:
			return err
		}
	}
}

// Int32Bytes encodes an int option value.
func Int32Bytes(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }

// BoolBytes encodes a boolean option value as an int, 0 or 1.
func BoolBytes(b bool) []byte {
	if b {
		return Int32Bytes(1)
	}
	return Int32Bytes(0)
}

// TimevalBytes encodes d as a struct timeval (SO_RCVTIMEO's value).
func TimevalBytes(d time.Duration) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(d/time.Second))
	return binary.LittleEndian.AppendUint64(b, uint64(d%time.Second/time.Microsecond))
}

// ParseTimeval decodes SO_RCVTIMEO's and SO_SNDTIMEO's struct timeval, as
// net/core/sock.c:sock_set_timeout: EINVAL if short, EDOM for bad
// microseconds; zero means no timeout, and a negative time the shortest.
func ParseTimeval(val []byte) (time.Duration, error) {
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
	if sec > int64(1)<<32 {
		return 0, nil // Effectively forever: no timeout.
	}
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, nil
}
