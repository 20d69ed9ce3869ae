package syscalls

import (
	"encoding/binary"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// futexSyscalls are the futex syscalls.
var futexSyscalls = map[uintptr]kernel.Syscall{
	202: {Name: "futex", Fn: Futex, Support: kernel.SupportPartial, Note: "Priority-inheritance operations return ENOSYS."},
}

// futex(2) operations and flags from <linux/futex.h>.
const (
	futexWait          = 0
	futexWake          = 1
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWakeOp        = 5
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexPrivateFlag   = 128
	futexClockRealtime = 256
	futexBitsetAny     = 0xffffffff
)

// Futex implements Linux syscall futex(2).
func Futex(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	addr, op, val, timeout, val3 := args[0].Pointer(), args[1].Int(), args[2].Uint(), args[3].Pointer(), args[5].Uint()
	cmd := op &^ (futexPrivateFlag | futexClockRealtime)
	private := op&futexPrivateFlag != 0
	realtime := op&futexClockRealtime != 0
	if realtime && cmd != futexWaitBitset {
		// Only the bitset wait takes an absolute CLOCK_REALTIME timeout.
		return 0, errno.ENOSYS
	}
	switch cmd {
	case futexWait, futexWaitBitset:
		bitset := uint32(futexBitsetAny)
		if cmd == futexWaitBitset {
			if val3 == 0 {
				return 0, errno.EINVAL
			}
			bitset = val3
		}
		var deadline time.Time
		has := timeout != 0
		if has {
			var b [16]byte
			if _, err := t.CopyInBytes(timeout, b[:]); err != nil {
				return 0, errno.EFAULT
			}
			sec, nsec := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
			if sec < 0 || nsec < 0 || nsec >= 1e9 {
				return 0, errno.EINVAL
			}
			d := time.Duration(sec)*time.Second + time.Duration(nsec)
			if cmd == futexWait {
				// FUTEX_WAIT's timeout is relative.
				deadline = time.Now().Add(d)
			} else if realtime {
				deadline = time.Unix(sec, nsec)
			} else {
				// Absolute CLOCK_MONOTONIC: convert through the current
				// monotonic reading.
				ts, _ := now(t, 1)
				mono := time.Duration(ts.Sec)*time.Second + time.Duration(ts.Nsec)
				deadline = time.Now().Add(d - mono)
			}
		}
		err := t.FutexWait(addr, private, val, bitset, deadline, has)
		if err == errno.ERESTARTSYS && cmd == futexWait && has {
			// A relative wait can't just restart with the same timeout.
			err = errno.EINTR
		}
		return 0, err
	case futexWake, futexWakeBitset:
		bitset := uint32(futexBitsetAny)
		if cmd == futexWakeBitset {
			if val3 == 0 {
				return 0, errno.EINVAL
			}
			bitset = val3
		}
		n, err := t.FutexWakeKey(addr, private, int(int32(val)), bitset)
		return uintptr(n), err
	case futexRequeue, futexCmpRequeue:
		// The timeout argument carries val2, the number to requeue.
		nWake, nRequeue := int(int32(val)), int(int32(args[3].Value))
		if nWake < 0 || nRequeue < 0 {
			return 0, errno.EINVAL
		}
		n, err := t.FutexRequeue(addr, args[4].Pointer(), private, nWake, nRequeue, cmd == futexCmpRequeue, val3)
		return uintptr(n), err
	case futexWakeOp:
		n, err := t.FutexWakeOp(addr, args[4].Pointer(), private, int(int32(val)), int(int32(args[3].Value)), val3)
		return uintptr(n), err
	}
	return 0, errno.ENOSYS
}
