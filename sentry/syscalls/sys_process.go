package syscalls

import (
	"crypto/rand"
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// processSyscalls are identity, limits and process-lifetime syscalls.
var processSyscalls = map[uintptr]kernel.Syscall{
	39:  {Name: "getpid", Fn: Getpid, Support: kernel.SupportFull},
	60:  {Name: "exit", Fn: Exit, Support: kernel.SupportFull},
	63:  {Name: "uname", Fn: Uname, Support: kernel.SupportFull},
	97:  {Name: "getrlimit", Fn: Getrlimit, Support: kernel.SupportFull},
	99:  {Name: "sysinfo", Fn: Sysinfo, Support: kernel.SupportFull},
	102: {Name: "getuid", Fn: Getuid, Support: kernel.SupportFull},
	104: {Name: "getgid", Fn: Getgid, Support: kernel.SupportFull},
	107: {Name: "geteuid", Fn: Geteuid, Support: kernel.SupportFull},
	108: {Name: "getegid", Fn: Getegid, Support: kernel.SupportFull},
	110: {Name: "getppid", Fn: Getppid, Support: kernel.SupportFull},
	115: {Name: "getgroups", Fn: Getgroups, Support: kernel.SupportFull},
	118: {Name: "getresuid", Fn: Getresuid, Support: kernel.SupportFull},
	120: {Name: "getresgid", Fn: Getresgid, Support: kernel.SupportFull},
	160: {Name: "setrlimit", Fn: Setrlimit, Support: kernel.SupportFull},
	158: {Name: "arch_prctl", Fn: ArchPrctl, Support: kernel.SupportPartial, Note: "ARCH_SET_FS/GS and ARCH_GET_FS/GS; CPUID faulting is not offered."},
	186: {Name: "gettid", Fn: Gettid, Support: kernel.SupportFull},
	218: {Name: "set_tid_address", Fn: SetTidAddress, Support: kernel.SupportFull},
	231: {Name: "exit_group", Fn: ExitGroup, Support: kernel.SupportFull},
	273: {Name: "set_robust_list", Fn: SetRobustList, Support: kernel.SupportFull},
	302: {Name: "prlimit64", Fn: Prlimit64, Support: kernel.SupportFull},
	318: {Name: "getrandom", Fn: Getrandom, Support: kernel.SupportFull},
	334: {Name: "rseq", Support: kernel.SupportPartial, Errno: errno.ENOSYS, Note: "Returns ENOSYS, as gVisor on ptrace and systrap; glibc carries on without it."},

	// Calls that would reach beyond the sandbox are refused as they are for
	// an unprivileged process.
	101: {Name: "ptrace", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused: tracing is not offered."},
	169: {Name: "reboot", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused."},
	170: {Name: "sethostname", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused: the hostname is fixed."},
	171: {Name: "setdomainname", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused: the domain name is fixed."},
	167: {Name: "swapon", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused."},
	168: {Name: "swapoff", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused."},
	175: {Name: "init_module", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused."},
	313: {Name: "finit_module", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused."},
	176: {Name: "delete_module", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused."},
	103: {Name: "syslog", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused: the host's kernel log is not the sandbox's."},
	153: {Name: "vhangup", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused."},
	155: {Name: "pivot_root", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused."},
	159: {Name: "adjtimex", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused: the clock is the host's."},
	163: {Name: "acct", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused."},
	164: {Name: "settimeofday", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused: the clock is the host's."},
	172: {Name: "iopl", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused."},
	173: {Name: "ioperm", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused."},
	179: {Name: "quotactl", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused."},
	227: {Name: "clock_settime", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused: the clock is the host's."},
	305: {Name: "clock_adjtime", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused: the clock is the host's."},
	308: {Name: "setns", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused: no namespaces inside the sandbox."},
	298: {Name: "perf_event_open", Support: kernel.SupportPartial, Errno: errno.EACCES, Note: "Refused, as with perf_event_paranoid=3."},
	321: {Name: "bpf", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused."},
	323: {Name: "userfaultfd", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused."},
	246: {Name: "kexec_load", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused."},
	320: {Name: "kexec_file_load", Support: kernel.SupportPartial, Errno: errno.EPERM, Note: "Refused."},
}

// Getpid implements Linux syscall getpid(2).
func Getpid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.ThreadGroup().PID()), nil
}

// Getppid implements Linux syscall getppid(2). The sandbox's init has no
// parent in its pid namespace, so it sees 0, as a container's init does.
func Getppid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.ThreadGroup().PPID()), nil
}

// Gettid implements Linux syscall gettid(2).
func Gettid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.TID()), nil
}

// Getuid implements Linux syscall getuid(2).
func Getuid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.Credentials().RealKUID), nil
}

// Geteuid implements Linux syscall geteuid(2).
func Geteuid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.Credentials().EffectiveKUID), nil
}

// Getgid implements Linux syscall getgid(2).
func Getgid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.Credentials().RealKGID), nil
}

// Getegid implements Linux syscall getegid(2).
func Getegid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.Credentials().EffectiveKGID), nil
}

// Getresuid implements Linux syscall getresuid(2).
func Getresuid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	c := t.Credentials()
	return 0, copyOutUint32s(t, []arch.SyscallArgument{args[0], args[1], args[2]},
		[]uint32{uint32(c.RealKUID), uint32(c.EffectiveKUID), uint32(c.SavedKUID)})
}

// Getresgid implements Linux syscall getresgid(2).
func Getresgid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	c := t.Credentials()
	return 0, copyOutUint32s(t, []arch.SyscallArgument{args[0], args[1], args[2]},
		[]uint32{uint32(c.RealKGID), uint32(c.EffectiveKGID), uint32(c.SavedKGID)})
}

func copyOutUint32s(t *kernel.Task, addrs []arch.SyscallArgument, vals []uint32) error {
	var b [4]byte
	for i, a := range addrs {
		binary.LittleEndian.PutUint32(b[:], vals[i])
		if _, err := t.CopyOutBytes(a.Pointer(), b[:]); err != nil {
			return errno.EFAULT
		}
	}
	return nil
}

// Getgroups implements Linux syscall getgroups(2).
func Getgroups(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	size, addr := args[0].Int(), args[1].Pointer()
	groups := t.Credentials().ExtraKGIDs
	if size < 0 {
		return 0, errno.EINVAL
	}
	if size == 0 {
		return uintptr(len(groups)), nil
	}
	if int(size) < len(groups) {
		return 0, errno.EINVAL
	}
	b := make([]byte, 4*len(groups))
	for i, g := range groups {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(g))
	}
	if _, err := t.CopyOutBytes(addr, b); err != nil {
		return 0, errno.EFAULT
	}
	return uintptr(len(groups)), nil
}

// Exit implements Linux syscall exit(2).
func Exit(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	t.ExitThread(int(args[0].Int()))
	return 0, kernel.ErrNoSyscallReturn
}

// ExitGroup implements Linux syscall exit_group(2).
func ExitGroup(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	t.ExitGroup(int(args[0].Int()))
	return 0, kernel.ErrNoSyscallReturn
}

// utsVersion is uname's version field.
const utsVersion = "#1 SMP PREEMPT_DYNAMIC runsc-lite"

// Uname implements Linux syscall uname(2).
func Uname(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	k := t.Kernel()
	var b [6 * linux.UTSLen]byte
	for i, s := range []string{"Linux", k.Hostname, k.Release, utsVersion, "x86_64", "(none)"} {
		copy(b[i*linux.UTSLen:(i+1)*linux.UTSLen-1], s)
	}
	if _, err := t.CopyOutBytes(args[0].Pointer(), b[:]); err != nil {
		return 0, errno.EFAULT
	}
	return 0, nil
}

// ArchPrctl implements Linux syscall arch_prctl(2).
func ArchPrctl(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	code, addr := args[0].Int(), args[1].Pointer()
	regs := &t.Arch().Regs
	max := t.Kernel().Platform.MaxUserAddress()
	var out uint64
	switch code {
	case linux.ARCH_SET_FS:
		// "EPERM addr is outside the process address space." - arch_prctl(2).
		if addr >= max {
			return 0, errno.EPERM
		}
		regs.Fs_base = uint64(addr)
		return 0, nil
	case linux.ARCH_SET_GS:
		if addr >= max {
			return 0, errno.EPERM
		}
		regs.Gs_base = uint64(addr)
		return 0, nil
	case linux.ARCH_GET_FS:
		out = regs.Fs_base
	case linux.ARCH_GET_GS:
		out = regs.Gs_base
	case linux.ARCH_GET_CPUID:
		// CPUID is not faulting: the instruction works.
		return 1, nil
	case linux.ARCH_SET_CPUID:
		// sandbox-divergence: CPUID faulting is not offered to the guest.
		return 0, errno.ENODEV
	default:
		return 0, errno.EINVAL
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], out)
	if _, err := t.CopyOutBytes(addr, b[:]); err != nil {
		return 0, errno.EFAULT
	}
	return 0, nil
}

// SetTidAddress implements Linux syscall set_tid_address(2).
func SetTidAddress(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	t.SetClearChildTID(uintptr(args[0].Pointer()))
	return uintptr(t.TID()), nil
}

// robustListHeadSize is sizeof(struct robust_list_head) on x86-64.
const robustListHeadSize = 24

// SetRobustList implements Linux syscall set_robust_list(2).
func SetRobustList(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	head, length := args[0].Pointer(), args[1].Uint64()
	if length != robustListHeadSize {
		return 0, errno.EINVAL
	}
	t.SetRobustList(uintptr(head))
	return 0, nil
}

// Getrlimit implements Linux syscall getrlimit(2).
func Getrlimit(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	res, addr := args[0].Int(), args[1].Pointer()
	if res < 0 || res >= kernel.RLIM_NLIMITS {
		return 0, errno.EINVAL
	}
	return 0, copyOutRlimit(t, addr, t.ThreadGroup().Limit(int(res)))
}

// Setrlimit implements Linux syscall setrlimit(2).
func Setrlimit(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	res, addr := args[0].Int(), args[1].Pointer()
	if res < 0 || res >= kernel.RLIM_NLIMITS {
		return 0, errno.EINVAL
	}
	l, err := copyInRlimit(t, addr)
	if err != nil {
		return 0, err
	}
	return 0, setLimit(t, int(res), l)
}

// Prlimit64 implements Linux syscall prlimit64(2).
func Prlimit64(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pid, res, newAddr, oldAddr := args[0].Int(), args[1].Int(), args[2].Pointer(), args[3].Pointer()
	if res < 0 || res >= kernel.RLIM_NLIMITS {
		return 0, errno.EINVAL
	}
	target := t
	if pid != 0 {
		if target = t.Kernel().TaskByID(kernel.ThreadID(pid)); target == nil {
			return 0, errno.ESRCH
		}
		// Another process's limits need the credentials check of
		// kernel/sys.c:check_prlimit_permission.
		if target.ThreadGroup() != t.ThreadGroup() {
			c, tc := t.Credentials(), target.Credentials()
			same := c.RealKUID == tc.RealKUID && c.RealKUID == tc.EffectiveKUID && c.RealKUID == tc.SavedKUID &&
				c.RealKGID == tc.RealKGID && c.RealKGID == tc.EffectiveKGID && c.RealKGID == tc.SavedKGID
			if !same && !c.HasCapability(capSysResource) {
				return 0, errno.EPERM
			}
		}
	}
	var nl kernel.Limit
	if newAddr != 0 {
		var err error
		if nl, err = copyInRlimit(t, newAddr); err != nil {
			return 0, err
		}
	}
	old := target.ThreadGroup().Limit(int(res))
	if newAddr != 0 {
		if err := setLimit(target, int(res), nl); err != nil {
			return 0, err
		}
	}
	if oldAddr != 0 {
		if err := copyOutRlimit(t, oldAddr, old); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// capSysResource is CAP_SYS_RESOURCE.
const capSysResource = 24

// setLimit applies setrlimit(2)'s rules: the soft limit may not exceed the
// hard one, and raising the hard limit needs CAP_SYS_RESOURCE.
func setLimit(t *kernel.Task, res int, l kernel.Limit) error {
	if l.Cur > l.Max {
		return errno.EINVAL
	}
	old := t.ThreadGroup().Limit(res)
	if l.Max > old.Max && !t.Credentials().HasCapability(capSysResource) {
		return errno.EPERM
	}
	if res == kernel.RLIMIT_NOFILE && l.Max > 1048576 {
		// fs.nr_open's default bounds RLIMIT_NOFILE.
		return errno.EPERM
	}
	t.ThreadGroup().SetLimit(res, l)
	if res == kernel.RLIMIT_NOFILE {
		t.FDTable().SetLimit(l.Cur)
	}
	return nil
}

func copyInRlimit(t *kernel.Task, addr hostarch.Addr) (kernel.Limit, error) {
	var b [16]byte
	if _, err := t.CopyInBytes(addr, b[:]); err != nil {
		return kernel.Limit{}, errno.EFAULT
	}
	return kernel.Limit{Cur: binary.LittleEndian.Uint64(b[:]), Max: binary.LittleEndian.Uint64(b[8:])}, nil
}

func copyOutRlimit(t *kernel.Task, addr hostarch.Addr, l kernel.Limit) error {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], l.Cur)
	binary.LittleEndian.PutUint64(b[8:], l.Max)
	if _, err := t.CopyOutBytes(addr, b[:]); err != nil {
		return errno.EFAULT
	}
	return nil
}

// Sysinfo implements Linux syscall sysinfo(2).
func Sysinfo(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	k := t.Kernel()
	total, free := k.MemInfo()
	var b [112]byte
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(k.Uptime().Seconds()))
	// loads[3] stay 0: the sandbox reports an idle machine.
	le.PutUint64(b[32:], total)
	le.PutUint64(b[40:], free)
	le.PutUint16(b[80:], uint16(k.NumProcesses()))
	le.PutUint32(b[104:], 1) // mem_unit
	if _, err := t.CopyOutBytes(args[0].Pointer(), b[:]); err != nil {
		return 0, errno.EFAULT
	}
	return 0, nil
}

// getrandomMax is the most one getrandom call returns (drivers/char/random.c
// caps at MAX_RW_COUNT; 32 MiB - 1 in older kernels). Any cap is allowed by
// the man page; the guest loops.
const getrandomMax = 1<<25 - 1

// Getrandom implements Linux syscall getrandom(2).
func Getrandom(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	addr, length, flags := args[0].Pointer(), args[1].SizeT(), args[2].Uint()
	if flags&^(linux.GRND_NONBLOCK|linux.GRND_RANDOM|linux.GRND_INSECURE) != 0 {
		return 0, errno.EINVAL
	}
	if flags&linux.GRND_RANDOM != 0 && flags&linux.GRND_INSECURE != 0 {
		return 0, errno.EINVAL
	}
	n := min(length, getrandomMax)
	buf := make([]byte, min(n, 1<<16))
	var done uint
	for done < n {
		chunk := buf[:min(uint(len(buf)), n-done)]
		if _, err := rand.Read(chunk); err != nil {
			return 0, errno.EIO
		}
		c, err := t.CopyOutBytes(addr+hostarch.Addr(done), chunk)
		done += uint(c)
		if err != nil {
			if done == 0 {
				return 0, errno.EFAULT
			}
			break
		}
	}
	return uintptr(done), nil
}
