package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/vdso"
)

// timeSyscalls are the clock syscalls.
var timeSyscalls = map[uintptr]kernel.Syscall{
	96:  {Name: "gettimeofday", Fn: Gettimeofday, Support: kernel.SupportFull},
	201: {Name: "time", Fn: Time, Support: kernel.SupportFull},
	228: {Name: "clock_gettime", Fn: ClockGettime, Support: kernel.SupportFull},
	229: {Name: "clock_getres", Fn: ClockGetres, Support: kernel.SupportFull},
}

// now reads clock id. Wall, monotonic and boot clocks are the guest clock
// that the vDSO also serves (sentry/vdso: the same formula, so the guest
// sees one clock whether it traps or not) and, until the vDSO publishes
// one, the host's. The other clocks come from the host (through Go's
// runtime, which uses the sentry's own vDSO) or from task accounting; the
// guest cannot reach any of them itself.
func now(t *kernel.Task, id int32) (linux.Timespec, error) {
	var hostID int32
	guest := vdso.Clock(-1)
	switch id {
	case linux.CLOCK_REALTIME, linux.CLOCK_REALTIME_COARSE, linux.CLOCK_REALTIME_ALARM:
		hostID, guest = unix.CLOCK_REALTIME, vdso.Realtime
	case linux.CLOCK_TAI:
		hostID = unix.CLOCK_TAI
	case linux.CLOCK_MONOTONIC, linux.CLOCK_MONOTONIC_COARSE:
		hostID, guest = unix.CLOCK_MONOTONIC, vdso.Monotonic
	case linux.CLOCK_MONOTONIC_RAW:
		hostID = unix.CLOCK_MONOTONIC_RAW
	case linux.CLOCK_BOOTTIME, linux.CLOCK_BOOTTIME_ALARM:
		hostID, guest = unix.CLOCK_BOOTTIME, vdso.Boottime
	case linux.CLOCK_PROCESS_CPUTIME_ID:
		u, s := t.ThreadGroup().CPUTime()
		return durationTimespec(u + s), nil
	case linux.CLOCK_THREAD_CPUTIME_ID:
		u, s := t.CPUTime()
		return durationTimespec(u + s), nil
	default:
		// Dynamic (fd- or pid-based) clocks are negative ids: not offered.
		return linux.Timespec{}, errno.EINVAL
	}
	if v := t.Kernel().VDSO; v != nil && guest >= 0 {
		if ns, ok := v.Now(guest); ok {
			return linux.Timespec{Sec: ns / 1e9, Nsec: ns % 1e9}, nil
		}
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(hostID, &ts); err != nil {
		return linux.Timespec{}, errno.EINVAL
	}
	return linux.Timespec{Sec: ts.Sec, Nsec: ts.Nsec}, nil
}

func copyOutTimespec(t *kernel.Task, addr hostarch.Addr, ts linux.Timespec) error {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(ts.Sec))
	binary.LittleEndian.PutUint64(b[8:], uint64(ts.Nsec))
	if _, err := t.CopyOutBytes(addr, b[:]); err != nil {
		return errno.EFAULT
	}
	return nil
}

// ClockGettime implements Linux syscall clock_gettime(2).
func ClockGettime(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	id, addr := args[0].Int(), args[1].Pointer()
	ts, err := now(t, id)
	if err != nil {
		return 0, err
	}
	return 0, copyOutTimespec(t, addr, ts)
}

// ClockGetres implements Linux syscall clock_getres(2).
func ClockGetres(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	id, addr := args[0].Int(), args[1].Pointer()
	if _, err := now(t, id); err != nil {
		return 0, err
	}
	if addr == 0 {
		return 0, nil
	}
	res := linux.Timespec{Nsec: 1}
	if id == linux.CLOCK_REALTIME_COARSE || id == linux.CLOCK_MONOTONIC_COARSE {
		res.Nsec = 4000000 // One jiffy at CONFIG_HZ=250.
	}
	return 0, copyOutTimespec(t, addr, res)
}

// Gettimeofday implements Linux syscall gettimeofday(2).
func Gettimeofday(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	tv, tz := args[0].Pointer(), args[1].Pointer()
	if tv != 0 {
		ts, _ := now(t, linux.CLOCK_REALTIME)
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], uint64(ts.Sec))
		binary.LittleEndian.PutUint64(b[8:], uint64(ts.Nsec/1000))
		if _, err := t.CopyOutBytes(tv, b[:]); err != nil {
			return 0, errno.EFAULT
		}
	}
	if tz != 0 {
		// struct timezone: the sandbox is on UTC, with no DST.
		var b [8]byte
		if _, err := t.CopyOutBytes(tz, b[:]); err != nil {
			return 0, errno.EFAULT
		}
	}
	return 0, nil
}

// Time implements Linux syscall time(2).
func Time(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	ts, _ := now(t, linux.CLOCK_REALTIME)
	if addr := args[0].Pointer(); addr != 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(ts.Sec))
		if _, err := t.CopyOutBytes(addr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
	}
	return uintptr(ts.Sec), nil
}
