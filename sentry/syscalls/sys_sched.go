package syscalls

import (
	"encoding/binary"
	"runtime"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// schedSyscalls are prctl, scheduling and accounting.
var schedSyscalls = map[uintptr]kernel.Syscall{
	98:  {Name: "getrusage", Fn: Getrusage, Support: kernel.SupportPartial, Note: "CPU times only; memory and I/O counters are zero."},
	100: {Name: "times", Fn: Times, Support: kernel.SupportFull},
	140: {Name: "getpriority", Fn: Getpriority, Support: kernel.SupportFull},
	141: {Name: "setpriority", Fn: Setpriority, Support: kernel.SupportPartial, Note: "Recorded and reported; the host schedules the sandbox as a whole."},
	142: {Name: "sched_setparam", Fn: SchedSetparam, Support: kernel.SupportPartial, Note: "Only SCHED_OTHER's priority 0."},
	143: {Name: "sched_getparam", Fn: SchedGetparam, Support: kernel.SupportFull},
	144: {Name: "sched_setscheduler", Fn: SchedSetscheduler, Support: kernel.SupportPartial, Note: "Only SCHED_OTHER, SCHED_BATCH and SCHED_IDLE."},
	145: {Name: "sched_getscheduler", Fn: SchedGetscheduler, Support: kernel.SupportFull},
	146: {Name: "sched_get_priority_max", Fn: SchedGetPriorityMax, Support: kernel.SupportFull},
	147: {Name: "sched_get_priority_min", Fn: SchedGetPriorityMin, Support: kernel.SupportFull},
	157: {Name: "prctl", Fn: Prctl, Support: kernel.SupportPartial, Note: "Names, PDEATHSIG, CHILD_SUBREAPER, NO_NEW_PRIVS, DUMPABLE, KEEPCAPS, CAPBSET_READ; others EINVAL."},
	203: {Name: "sched_setaffinity", Fn: SchedSetaffinity, Support: kernel.SupportPartial, Note: "Recorded and reported; placement is the host's."},
	204: {Name: "sched_getaffinity", Fn: SchedGetaffinity, Support: kernel.SupportFull},
	309: {Name: "getcpu", Fn: Getcpu, Support: kernel.SupportFull},
}

// Getrusage implements Linux syscall getrusage(2).
func Getrusage(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	who, addr := args[0].Int(), args[1].Pointer()
	const rusageSelf, rusageChildren, rusageThread = 0, -1, 1
	var u, s time.Duration
	switch who {
	case rusageSelf:
		u, s = t.ThreadGroup().CPUTime()
	case rusageChildren:
		u, s = t.ThreadGroup().ChildrenCPUTime()
	case rusageThread:
		u, s = t.CPUTime()
	default:
		return 0, errno.EINVAL
	}
	b := make([]byte, rusageSize)
	putTimeval(b[0:], u)
	putTimeval(b[16:], s)
	if _, err := t.CopyOutBytes(addr, b); err != nil {
		return 0, errno.EFAULT
	}
	return 0, nil
}

// ticks converts a duration to clock ticks (USER_HZ).
func ticks(d time.Duration) uint64 { return uint64(d / (time.Second / clockTicks)) }

// clockTicks is sysconf(_SC_CLK_TCK), USER_HZ.
const clockTicks = 100

// Times implements Linux syscall times(2).
func Times(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	if addr := args[0].Pointer(); addr != 0 {
		u, s := t.ThreadGroup().CPUTime()
		cu, cs := t.ThreadGroup().ChildrenCPUTime()
		var b [32]byte
		for i, d := range []time.Duration{u, s, cu, cs} {
			binary.LittleEndian.PutUint64(b[8*i:], ticks(d))
		}
		if _, err := t.CopyOutBytes(addr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
	}
	// The return value is clock ticks since an arbitrary point: boot.
	return uintptr(t.Kernel().Uptime() / (time.Second / clockTicks)), nil
}

// prctl(2) options from <linux/prctl.h>.
const (
	prSetPdeathsig      = 1
	prGetPdeathsig      = 2
	prGetDumpable       = 3
	prSetDumpable       = 4
	prGetKeepcaps       = 7
	prSetKeepcaps       = 8
	prGetTimerslack     = 30
	prSetTimerslack     = 29
	prSetName           = 15
	prGetName           = 16
	prCapbsetRead       = 23
	prCapbsetDrop       = 24
	prSetChildSubreaper = 36
	prGetChildSubreaper = 37
	prSetNoNewPrivs     = 38
	prGetNoNewPrivs     = 39
	prSetVMA            = 0x53564d41
	prGetSeccomp        = 21
	prSetSeccomp        = 22
)

// Prctl implements Linux syscall prctl(2).
func Prctl(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	opt, arg2 := args[0].Int(), args[1]
	switch opt {
	case prSetName:
		name, err := t.CopyInString(arg2.Pointer(), 16)
		if err == errno.ENAMETOOLONG {
			// Longer names are silently truncated to 15 bytes.
			b := make([]byte, 15)
			if _, err := t.CopyInBytes(arg2.Pointer(), b); err != nil {
				return 0, errno.EFAULT
			}
			name, err = string(b), nil
		}
		if err != nil {
			return 0, err
		}
		t.SetName(name)
		return 0, nil
	case prGetName:
		b := make([]byte, 16)
		copy(b, t.Name())
		if _, err := t.CopyOutBytes(arg2.Pointer(), b); err != nil {
			return 0, errno.EFAULT
		}
		return 0, nil
	case prSetPdeathsig:
		sig := int(arg2.Int())
		if sig < 0 || sig >= linux.NSIG {
			return 0, errno.EINVAL
		}
		t.SetParentDeathSignal(sig)
		return 0, nil
	case prGetPdeathsig:
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(t.ParentDeathSignal()))
		if _, err := t.CopyOutBytes(arg2.Pointer(), b[:]); err != nil {
			return 0, errno.EFAULT
		}
		return 0, nil
	case prGetDumpable:
		return 1, nil // SUID_DUMP_USER
	case prSetDumpable:
		if arg2.Uint64() > 1 {
			return 0, errno.EINVAL
		}
		return 0, nil
	case prGetKeepcaps:
		if t.KeepCaps() {
			return 1, nil
		}
		return 0, nil
	case prSetKeepcaps:
		if arg2.Uint64() > 1 {
			return 0, errno.EINVAL
		}
		t.SetKeepCaps(arg2.Uint64() == 1)
		return 0, nil
	case prSetChildSubreaper:
		t.ThreadGroup().SetSubreaper(arg2.Uint64() != 0)
		return 0, nil
	case prGetChildSubreaper:
		var b [4]byte
		if t.ThreadGroup().Subreaper() {
			b[0] = 1
		}
		if _, err := t.CopyOutBytes(arg2.Pointer(), b[:]); err != nil {
			return 0, errno.EFAULT
		}
		return 0, nil
	case prSetNoNewPrivs:
		// "arg2 must be 1, and arg3, arg4, arg5 must be zero" - prctl(2).
		// Every sandbox process is already no_new_privs: setuid bits are
		// ignored by execve.
		if arg2.Uint64() != 1 || args[2].Uint64() != 0 || args[3].Uint64() != 0 || args[4].Uint64() != 0 {
			return 0, errno.EINVAL
		}
		return 0, nil
	case prGetNoNewPrivs:
		return 1, nil
	case prCapbsetRead:
		c := arg2.Uint64()
		if c > 40 {
			return 0, errno.EINVAL
		}
		if t.Credentials().BoundingCaps&(1<<c) != 0 {
			return 1, nil
		}
		return 0, nil
	case prGetTimerslack:
		return 50000, nil
	case prSetTimerslack:
		return 0, nil
	case prSetVMA:
		// Naming anonymous memory is cosmetic.
		return 0, nil
	case prGetSeccomp:
		return uintptr(t.SeccompMode()), nil
	case prSetSeccomp:
		switch arg2.Uint64() {
		case 1:
			return 0, t.SetSeccompStrict()
		case 2:
			return 0, installFilter(t, args[2].Pointer(), 0)
		}
		return 0, errno.EINVAL
	}
	return 0, errno.EINVAL
}

// checkPID fails with ESRCH unless pid (0: the caller) names a thread; a
// negative pid is EINVAL for the sched_*param/scheduler calls.
func checkPID(t *kernel.Task, pid int32) error {
	if pid < 0 {
		return errno.EINVAL
	}
	_, err := taskByPID(t, pid)
	return err
}

// taskByPID returns the thread pid names (0: the caller), or ESRCH. The
// affinity calls fail negative pids with ESRCH, as find_process_by_pid
// finds nothing.
func taskByPID(t *kernel.Task, pid int32) (*kernel.Task, error) {
	if pid == 0 {
		return t, nil
	}
	if pid > 0 {
		if o := t.Kernel().TaskByID(kernel.ThreadID(pid)); o != nil {
			return o, nil
		}
	}
	return nil, errno.ESRCH
}

// SchedGetaffinity implements Linux syscall sched_getaffinity(2).
func SchedGetaffinity(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pid, size, addr := args[0].Int(), args[1].SizeT(), args[2].Pointer()
	target, err := taskByPID(t, pid)
	if err != nil {
		return 0, err
	}
	n := runtime.NumCPU()
	need := uint((n + 63) / 64 * 8)
	// "EINVAL ... cpusetsize is smaller than the size of the affinity
	// mask used by the kernel" or not a multiple of sizeof(long).
	if size < need || size%8 != 0 {
		return 0, errno.EINVAL
	}
	b := make([]byte, need)
	mask := target.Affinity()
	for i := 0; i < n; i++ {
		if mask == nil || (i/8 < len(mask) && mask[i/8]&(1<<(i%8)) != 0) {
			b[i/8] |= 1 << (i % 8)
		}
	}
	if _, err := t.CopyOutBytes(addr, b); err != nil {
		return 0, errno.EFAULT
	}
	return uintptr(need), nil
}

// SchedSetaffinity implements Linux syscall sched_setaffinity(2).
func SchedSetaffinity(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pid, size, addr := args[0].Int(), args[1].SizeT(), args[2].Pointer()
	target, err := taskByPID(t, pid)
	if err != nil {
		return 0, err
	}
	b := make([]byte, min(size, 1024))
	if _, err := t.CopyInBytes(addr, b); err != nil {
		return 0, errno.EFAULT
	}
	n := runtime.NumCPU()
	for i := 0; i < n && i/8 < len(b); i++ {
		if b[i/8]&(1<<(i%8)) != 0 {
			target.SetAffinity(append([]byte(nil), b...))
			return 0, nil
		}
	}
	// "EINVAL The affinity bit mask mask contains no processors that are
	// currently physically on the system".
	return 0, errno.EINVAL
}

// Getcpu implements Linux syscall getcpu(2).
func Getcpu(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	var b [4]byte
	for _, a := range []arch.SyscallArgument{args[0], args[1]} {
		if a.Pointer() != 0 {
			if _, err := t.CopyOutBytes(a.Pointer(), b[:]); err != nil {
				return 0, errno.EFAULT
			}
		}
	}
	return 0, nil
}

// Scheduling policies from <linux/sched.h>.
const (
	schedOther = 0
	schedFIFO  = 1
	schedRR    = 2
	schedBatch = 3
	schedIdle  = 5
)

// SchedGetscheduler implements Linux syscall sched_getscheduler(2).
func SchedGetscheduler(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return schedOther, checkPID(t, args[0].Int())
}

// SchedSetscheduler implements Linux syscall sched_setscheduler(2).
func SchedSetscheduler(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	if err := checkPID(t, args[0].Int()); err != nil {
		return 0, err
	}
	switch args[1].Int() &^ 0x40000000 { // SCHED_RESET_ON_FORK
	case schedOther, schedBatch, schedIdle:
		return 0, nil
	case schedFIFO, schedRR:
		return 0, errno.EPERM
	}
	return 0, errno.EINVAL
}

// SchedGetparam implements Linux syscall sched_getparam(2).
func SchedGetparam(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	if err := checkPID(t, args[0].Int()); err != nil {
		return 0, err
	}
	if _, err := t.CopyOutBytes(args[1].Pointer(), make([]byte, 4)); err != nil {
		return 0, errno.EFAULT
	}
	return 0, nil
}

// SchedSetparam implements Linux syscall sched_setparam(2).
func SchedSetparam(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	if err := checkPID(t, args[0].Int()); err != nil {
		return 0, err
	}
	var b [4]byte
	if _, err := t.CopyInBytes(args[1].Pointer(), b[:]); err != nil {
		return 0, errno.EFAULT
	}
	if binary.LittleEndian.Uint32(b[:]) != 0 {
		return 0, errno.EINVAL
	}
	return 0, nil
}

// SchedGetPriorityMax implements Linux syscall sched_get_priority_max(2).
func SchedGetPriorityMax(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	switch args[0].Int() {
	case schedFIFO, schedRR:
		return 99, nil
	case schedOther, schedBatch, schedIdle:
		return 0, nil
	}
	return 0, errno.EINVAL
}

// SchedGetPriorityMin implements Linux syscall sched_get_priority_min(2).
func SchedGetPriorityMin(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	switch args[0].Int() {
	case schedFIFO, schedRR:
		return 1, nil
	case schedOther, schedBatch, schedIdle:
		return 0, nil
	}
	return 0, errno.EINVAL
}

// priority(2) "which" values.
const (
	prioProcess = 0
	prioPgrp    = 1
	prioUser    = 2
)

// prioTargets returns the processes getpriority/setpriority address.
func prioTargets(t *kernel.Task, which, who int32) ([]*kernel.ThreadGroup, error) {
	k := t.Kernel()
	switch which {
	case prioProcess:
		if who == 0 {
			return []*kernel.ThreadGroup{t.ThreadGroup()}, nil
		}
		if o := k.TaskByID(kernel.ThreadID(who)); o != nil {
			return []*kernel.ThreadGroup{o.ThreadGroup()}, nil
		}
		return nil, errno.ESRCH
	case prioPgrp:
		pg, _ := t.Getpgid(0)
		if who != 0 {
			pg = kernel.ThreadID(who)
		}
		var out []*kernel.ThreadGroup
		for _, tg := range k.ThreadGroups() {
			if p, _ := tg.ProcessGroupAndSession(); p == pg {
				out = append(out, tg)
			}
		}
		if len(out) == 0 {
			return nil, errno.ESRCH
		}
		return out, nil
	case prioUser:
		uid := uint32(t.Credentials().RealKUID)
		if who != 0 {
			uid = uint32(who)
		}
		var out []*kernel.ThreadGroup
		for _, tg := range k.ThreadGroups() {
			if l := tg.Leader(); l != nil && uint32(l.Credentials().RealKUID) == uid {
				out = append(out, tg)
			}
		}
		if len(out) == 0 {
			return nil, errno.ESRCH
		}
		return out, nil
	}
	return nil, errno.EINVAL
}

// Getpriority implements Linux syscall getpriority(2). The raw syscall
// returns 20 - nice of the highest-priority process addressed.
func Getpriority(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	tgs, err := prioTargets(t, args[0].Int(), args[1].Int())
	if err != nil {
		return 0, err
	}
	best := 19
	for _, tg := range tgs {
		best = min(best, tg.Nice())
	}
	return uintptr(20 - best), nil
}

// capSysNice is CAP_SYS_NICE.
const capSysNice = 23

// Setpriority implements Linux syscall setpriority(2).
func Setpriority(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	tgs, err := prioTargets(t, args[0].Int(), args[1].Int())
	if err != nil {
		return 0, err
	}
	nice := max(-20, min(19, int(args[2].Int())))
	for _, tg := range tgs {
		// "EACCES The caller attempted to set a lower nice value (i.e., a
		// higher process priority), but did not have the required
		// privilege" - setpriority(2).
		if nice < tg.Nice() && !t.Credentials().HasCapability(capSysNice) {
			return 0, errno.EACCES
		}
		tg.SetNice(nice)
	}
	return 0, nil
}
