package strace

import (
	"strconv"
	"strings"
)

// flagName names one bit pattern of a flags word. Value may have several bits
// (O_SYNC, O_TMPFILE); such entries must come before their sub-patterns so
// that the longest match wins.
type flagName struct {
	Value uint64
	Name  string
}

// formatFlags prints v as NAME|NAME|0xrest, in table order. Zero prints as
// zero, the way strace does when no flag name has the value 0.
func formatFlags(v uint64, names []flagName) string {
	if v == 0 {
		return "0"
	}
	var parts []string
	rest := v
	for _, f := range names {
		if f.Value != 0 && rest&f.Value == f.Value {
			parts = append(parts, f.Name)
			rest &^= f.Value
		}
	}
	if rest != 0 {
		parts = append(parts, "0x"+strconv.FormatUint(rest, 16))
	}
	return strings.Join(parts, "|")
}

// formatEnum prints v by name, or as a decimal number if it has none.
func formatEnum(v int64, names map[int64]string) string {
	if n, ok := names[v]; ok {
		return n
	}
	return strconv.FormatInt(v, 10)
}

// From <asm-generic/fcntl.h> (x86-64 values).
const (
	oAccMode = 0x3
	oCreat   = 0x40
	oDSync   = 0x1000
	oTmpfile = 0x400000 // __O_TMPFILE, without O_DIRECTORY
)

var openAccessModes = map[int64]string{0: "O_RDONLY", 1: "O_WRONLY", 2: "O_RDWR"}

// openFlags excludes the access mode, which formatOpenFlags prints first.
var openFlags = []flagName{
	{0x101000, "O_SYNC"}, // __O_SYNC|O_DSYNC
	{0x410000, "O_TMPFILE"},
	{oCreat, "O_CREAT"},
	{0x80, "O_EXCL"},
	{0x100, "O_NOCTTY"},
	{0x200, "O_TRUNC"},
	{0x400, "O_APPEND"},
	{0x800, "O_NONBLOCK"},
	{oDSync, "O_DSYNC"},
	{0x2000, "O_ASYNC"},
	{0x4000, "O_DIRECT"},
	{0x8000, "O_LARGEFILE"},
	{0x10000, "O_DIRECTORY"},
	{0x20000, "O_NOFOLLOW"},
	{0x40000, "O_NOATIME"},
	{0x80000, "O_CLOEXEC"},
	{0x200000, "O_PATH"},
}

// formatOpenFlags prints open(2) flags as strace does: the access mode
// always comes first, even when it is O_RDONLY (zero).
func formatOpenFlags(v uint64) string {
	s := formatEnum(int64(v&oAccMode), openAccessModes)
	if rest := v &^ oAccMode; rest != 0 {
		s += "|" + formatFlags(rest, openFlags)
	}
	return s
}

// From <asm-generic/mman-common.h>.
var mmapProt = []flagName{
	{0x1, "PROT_READ"},
	{0x2, "PROT_WRITE"},
	{0x4, "PROT_EXEC"},
	{0x01000000, "PROT_GROWSDOWN"},
	{0x02000000, "PROT_GROWSUP"},
}

func formatMmapProt(v uint64) string {
	if v == 0 {
		return "PROT_NONE"
	}
	return formatFlags(v, mmapProt)
}

// mapType is MAP_TYPE: the sharing type occupies the low four bits.
const mapType = 0xf

var mmapTypes = map[int64]string{1: "MAP_SHARED", 2: "MAP_PRIVATE", 3: "MAP_SHARED_VALIDATE"}

// From <asm-generic/mman-common.h> and <asm/mman.h> (x86-64).
var mmapFlags = []flagName{
	{0x10, "MAP_FIXED"},
	{0x20, "MAP_ANONYMOUS"},
	{0x40, "MAP_32BIT"},
	{0x100, "MAP_GROWSDOWN"},
	{0x800, "MAP_DENYWRITE"},
	{0x1000, "MAP_EXECUTABLE"},
	{0x2000, "MAP_LOCKED"},
	{0x4000, "MAP_NORESERVE"},
	{0x8000, "MAP_POPULATE"},
	{0x10000, "MAP_NONBLOCK"},
	{0x20000, "MAP_STACK"},
	{0x40000, "MAP_HUGETLB"},
	{0x80000, "MAP_SYNC"},
	{0x100000, "MAP_FIXED_NOREPLACE"},
}

// formatMmapFlags prints the sharing type first, as strace does.
func formatMmapFlags(v uint64) string {
	s := formatEnum(int64(v&mapType), mmapTypes)
	if rest := v &^ mapType; rest != 0 {
		s += "|" + formatFlags(rest, mmapFlags)
	}
	return s
}

// From <linux/mman.h>.
var mremapFlags = []flagName{
	{0x1, "MREMAP_MAYMOVE"},
	{0x2, "MREMAP_FIXED"},
	{0x4, "MREMAP_DONTUNMAP"},
}

// From <asm-generic/mman-common.h>.
var madviseAdvice = map[int64]string{
	0: "MADV_NORMAL", 1: "MADV_RANDOM", 2: "MADV_SEQUENTIAL", 3: "MADV_WILLNEED",
	4: "MADV_DONTNEED", 8: "MADV_FREE", 9: "MADV_REMOVE", 10: "MADV_DONTFORK",
	11: "MADV_DOFORK", 12: "MADV_MERGEABLE", 13: "MADV_UNMERGEABLE",
	14: "MADV_HUGEPAGE", 15: "MADV_NOHUGEPAGE", 16: "MADV_DONTDUMP", 17: "MADV_DODUMP",
}

// From <linux/fcntl.h>. AT_EACCESS shares 0x200 with AT_REMOVEDIR; the
// latter is far more common in traces (unlinkat).
var atFlags = []flagName{
	{0x100, "AT_SYMLINK_NOFOLLOW"},
	{0x200, "AT_REMOVEDIR"},
	{0x400, "AT_SYMLINK_FOLLOW"},
	{0x800, "AT_NO_AUTOMOUNT"},
	{0x1000, "AT_EMPTY_PATH"},
	{0x2000, "AT_STATX_FORCE_SYNC"},
	{0x4000, "AT_STATX_DONT_SYNC"},
	{0x8000, "AT_RECURSIVE"},
}

// atFDCWD is AT_FDCWD, the dirfd meaning "the working directory".
const atFDCWD = -100

// From <unistd.h>: access(2) modes.
var accessModes = []flagName{
	{4, "R_OK"},
	{2, "W_OK"},
	{1, "X_OK"},
}

func formatAccessMode(v uint64) string {
	if v == 0 {
		return "F_OK"
	}
	return formatFlags(v, accessModes)
}

// From <linux/fs.h>.
var whenceNames = map[int64]string{0: "SEEK_SET", 1: "SEEK_CUR", 2: "SEEK_END", 3: "SEEK_DATA", 4: "SEEK_HOLE"}

// From <asm-generic/fcntl.h> and <linux/fcntl.h>.
var fcntlCmds = map[int64]string{
	0: "F_DUPFD", 1: "F_GETFD", 2: "F_SETFD", 3: "F_GETFL", 4: "F_SETFL",
	5: "F_GETLK", 6: "F_SETLK", 7: "F_SETLKW", 8: "F_SETOWN", 9: "F_GETOWN",
	10: "F_SETSIG", 11: "F_GETSIG", 15: "F_SETOWN_EX", 16: "F_GETOWN_EX",
	1024: "F_SETLEASE", 1025: "F_GETLEASE", 1026: "F_NOTIFY",
	1030: "F_DUPFD_CLOEXEC", 1031: "F_SETPIPE_SZ", 1032: "F_GETPIPE_SZ",
	1033: "F_ADD_SEALS", 1034: "F_GET_SEALS",
}

// From <asm-generic/signal-defs.h>.
var sigprocmaskHow = map[int64]string{0: "SIG_BLOCK", 1: "SIG_UNBLOCK", 2: "SIG_SETMASK"}

// From <asm/signal.h> (x86-64).
var signalNames = map[int64]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
	7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
	13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD",
	18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU",
	23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF",
	28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
}

// Real-time signal range; glibc reserves the first two, but strace prints
// them relative to the kernel's SIGRTMIN, and so do we.
const (
	sigRTMin = 32
	sigRTMax = 64
)

func formatSignal(v int64) string {
	if n, ok := signalNames[v]; ok {
		return n
	}
	if v > sigRTMin && v <= sigRTMax {
		return "SIGRTMIN+" + strconv.FormatInt(v-sigRTMin, 10)
	}
	if v == sigRTMin {
		return "SIGRTMIN"
	}
	return strconv.FormatInt(v, 10)
}

// From <linux/time.h>.
var clockIDs = map[int64]string{
	0: "CLOCK_REALTIME", 1: "CLOCK_MONOTONIC", 2: "CLOCK_PROCESS_CPUTIME_ID",
	3: "CLOCK_THREAD_CPUTIME_ID", 4: "CLOCK_MONOTONIC_RAW", 5: "CLOCK_REALTIME_COARSE",
	6: "CLOCK_MONOTONIC_COARSE", 7: "CLOCK_BOOTTIME", 8: "CLOCK_REALTIME_ALARM",
	9: "CLOCK_BOOTTIME_ALARM", 11: "CLOCK_TAI",
}

// From <linux/futex.h>.
const (
	futexCmdMask      = 0x7f
	futexPrivateFlag  = 0x80
	futexClockRealtim = 0x100
)

var futexOps = map[int64]string{
	0: "FUTEX_WAIT", 1: "FUTEX_WAKE", 2: "FUTEX_FD", 3: "FUTEX_REQUEUE",
	4: "FUTEX_CMP_REQUEUE", 5: "FUTEX_WAKE_OP", 6: "FUTEX_LOCK_PI", 7: "FUTEX_UNLOCK_PI",
	8: "FUTEX_TRYLOCK_PI", 9: "FUTEX_WAIT_BITSET", 10: "FUTEX_WAKE_BITSET",
	11: "FUTEX_WAIT_REQUEUE_PI", 12: "FUTEX_CMP_REQUEUE_PI", 13: "FUTEX_LOCK_PI2",
}

// formatFutexOp prints FUTEX_WAIT_PRIVATE-style names, as strace does.
func formatFutexOp(v uint64) string {
	s := formatEnum(int64(v&futexCmdMask), futexOps)
	if v&futexPrivateFlag != 0 {
		s += "_PRIVATE"
	}
	if v&futexClockRealtim != 0 {
		s = "FUTEX_CLOCK_REALTIME|" + s
	}
	if rest := v &^ (futexCmdMask | futexPrivateFlag | futexClockRealtim); rest != 0 {
		s += "|0x" + strconv.FormatUint(rest, 16)
	}
	return s
}

// From <asm/prctl.h>.
var archPrctlCodes = map[int64]string{
	0x1001: "ARCH_SET_GS", 0x1002: "ARCH_SET_FS", 0x1003: "ARCH_GET_FS",
	0x1004: "ARCH_GET_GS", 0x1011: "ARCH_GET_CPUID", 0x1012: "ARCH_SET_CPUID",
}

// From <linux/sched.h>. The low byte (CSIGNAL) is the exit signal, which
// formatCloneFlags prints by name.
const cloneSignalMask = 0xff

var cloneFlags = []flagName{
	{0x100, "CLONE_VM"},
	{0x200, "CLONE_FS"},
	{0x400, "CLONE_FILES"},
	{0x800, "CLONE_SIGHAND"},
	{0x1000, "CLONE_PIDFD"},
	{0x2000, "CLONE_PTRACE"},
	{0x4000, "CLONE_VFORK"},
	{0x8000, "CLONE_PARENT"},
	{0x10000, "CLONE_THREAD"},
	{0x20000, "CLONE_NEWNS"},
	{0x40000, "CLONE_SYSVSEM"},
	{0x80000, "CLONE_SETTLS"},
	{0x100000, "CLONE_PARENT_SETTID"},
	{0x200000, "CLONE_CHILD_CLEARTID"},
	{0x400000, "CLONE_DETACHED"},
	{0x800000, "CLONE_UNTRACED"},
	{0x1000000, "CLONE_CHILD_SETTID"},
	{0x2000000, "CLONE_NEWCGROUP"},
	{0x4000000, "CLONE_NEWUTS"},
	{0x8000000, "CLONE_NEWIPC"},
	{0x10000000, "CLONE_NEWUSER"},
	{0x20000000, "CLONE_NEWPID"},
	{0x40000000, "CLONE_NEWNET"},
	{0x80000000, "CLONE_IO"},
}

func formatCloneFlags(v uint64) string {
	var parts []string
	if rest := v &^ cloneSignalMask; rest != 0 {
		parts = append(parts, formatFlags(rest, cloneFlags))
	}
	if sig := v & cloneSignalMask; sig != 0 {
		parts = append(parts, formatSignal(int64(sig)))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

// From <linux/wait.h>.
var waitOptions = []flagName{
	{0x1, "WNOHANG"},
	{0x2, "WUNTRACED"},
	{0x4, "WEXITED"},
	{0x8, "WCONTINUED"},
	{0x1000000, "WNOWAIT"},
	{0x20000000, "__WNOTHREAD"},
	{0x40000000, "__WALL"},
	{0x80000000, "__WCLONE"},
}

// From <linux/resource.h>.
var rlimitResources = map[int64]string{
	0: "RLIMIT_CPU", 1: "RLIMIT_FSIZE", 2: "RLIMIT_DATA", 3: "RLIMIT_STACK",
	4: "RLIMIT_CORE", 5: "RLIMIT_RSS", 6: "RLIMIT_NPROC", 7: "RLIMIT_NOFILE",
	8: "RLIMIT_MEMLOCK", 9: "RLIMIT_AS", 10: "RLIMIT_LOCKS", 11: "RLIMIT_SIGPENDING",
	12: "RLIMIT_MSGQUEUE", 13: "RLIMIT_NICE", 14: "RLIMIT_RTPRIO", 15: "RLIMIT_RTTIME",
}

// From <linux/prctl.h>: the options seen in ordinary traces.
var prctlOptions = map[int64]string{
	1: "PR_SET_PDEATHSIG", 2: "PR_GET_PDEATHSIG", 3: "PR_GET_DUMPABLE", 4: "PR_SET_DUMPABLE",
	15: "PR_SET_NAME", 16: "PR_GET_NAME", 22: "PR_SET_SECCOMP", 21: "PR_GET_SECCOMP",
	23: "PR_CAPBSET_READ", 36: "PR_SET_CHILD_SUBREAPER", 37: "PR_GET_CHILD_SUBREAPER",
	38: "PR_SET_NO_NEW_PRIVS", 39: "PR_GET_NO_NEW_PRIVS", 47: "PR_CAP_AMBIENT",
	0x53564d41: "PR_SET_VMA",
}

// From <linux/ptrace.h>: the requests seen in ordinary traces.
var ptraceRequests = map[int64]string{
	0: "PTRACE_TRACEME", 1: "PTRACE_PEEKTEXT", 2: "PTRACE_PEEKDATA", 3: "PTRACE_PEEKUSER",
	4: "PTRACE_POKETEXT", 5: "PTRACE_POKEDATA", 6: "PTRACE_POKEUSER", 7: "PTRACE_CONT",
	8: "PTRACE_KILL", 9: "PTRACE_SINGLESTEP", 12: "PTRACE_GETREGS", 13: "PTRACE_SETREGS",
	16: "PTRACE_ATTACH", 17: "PTRACE_DETACH", 24: "PTRACE_SYSCALL", 31: "PTRACE_SYSEMU",
	0x4200: "PTRACE_SETOPTIONS", 0x4206: "PTRACE_SEIZE", 0x4207: "PTRACE_INTERRUPT",
}

// From <linux/random.h>.
var getrandomFlags = []flagName{
	{0x1, "GRND_NONBLOCK"},
	{0x2, "GRND_RANDOM"},
	{0x4, "GRND_INSECURE"},
}
