package syscalls

import (
	"encoding/binary"
	"fmt"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// miscSyscalls are small process and memory calls.
var miscSyscalls = map[uintptr]kernel.Syscall{
	27:  {Name: "mincore", Fn: Mincore, Support: kernel.SupportPartial, Note: "Every mapped page reads as resident."},
	135: {Name: "personality", Fn: Personality, Support: kernel.SupportPartial, Note: "Only PER_LINUX."},
	148: {Name: "sched_rr_get_interval", Fn: SchedRRGetInterval, Support: kernel.SupportFull},
	149: {Name: "mlock", Fn: Mlock, Support: kernel.SupportPartial, Note: "Checked and accepted: the sandbox's memory is never swapped by the sentry."},
	150: {Name: "munlock", Fn: Mlock, Support: kernel.SupportPartial, Note: "Checked and accepted."},
	151: {Name: "mlockall", Fn: Mlockall, Support: kernel.SupportPartial, Note: "Checked and accepted."},
	152: {Name: "munlockall", Fn: Munlockall, Support: kernel.SupportFull},
	187: {Name: "readahead", Fn: Readahead, Support: kernel.SupportFull},
	272: {Name: "unshare", Fn: Unshare, Support: kernel.SupportPartial, Note: "CLONE_FILES, CLONE_FS and CLONE_SYSVSEM; namespaces return EPERM."},
	274: {Name: "get_robust_list", Fn: GetRobustList, Support: kernel.SupportPartial, Note: "Only the caller (pid 0 or its own tid)."},
	322: {Name: "execveat", Fn: Execveat, Support: kernel.SupportPartial, Note: "Paths relative to a directory fd are resolved through /proc/self/fd."},
	325: {Name: "mlock2", Fn: Mlock2, Support: kernel.SupportPartial, Note: "Checked and accepted."},
	436: {Name: "close_range", Fn: CloseRange, Support: kernel.SupportFull},
	237: {Name: "mbind", Fn: Mbind, Support: kernel.SupportPartial, Note: "One NUMA node: policies are accepted and have no effect."},
	238: {Name: "set_mempolicy", Fn: SetMempolicy, Support: kernel.SupportPartial, Note: "One NUMA node: policies are accepted and have no effect."},
	239: {Name: "get_mempolicy", Fn: GetMempolicy, Support: kernel.SupportPartial, Note: "Always MPOL_DEFAULT on node 0."},
}

// NUMA policy modes from <linux/mempolicy.h>; the sandbox is one node.
const (
	mpolDefault   = 0
	mpolLocal     = 4
	mpolMax       = 7
	mpolModeFlags = 0xe000 // MPOL_F_STATIC_NODES|RELATIVE_NODES|NUMA_BALANCING
)

// Mbind implements Linux syscall mbind(2).
func Mbind(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	addr, length, mode := args[0].Pointer(), args[1].Uint64(), args[2].Uint()
	if !addr.IsPageAligned() || mode&^mpolModeFlags >= mpolMax {
		return 0, errno.EINVAL
	}
	n, ok := hostarch.PageRoundUp(length)
	if !ok {
		return 0, errno.EINVAL
	}
	return 0, t.MemoryManager().CheckMapped(addr, n)
}

// SetMempolicy implements Linux syscall set_mempolicy(2).
func SetMempolicy(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	if args[0].Uint()&^mpolModeFlags >= mpolMax {
		return 0, errno.EINVAL
	}
	return 0, nil
}

// GetMempolicy implements Linux syscall get_mempolicy(2).
func GetMempolicy(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	modeAddr, maskAddr, maxnode, flags := args[0].Pointer(), args[1].Pointer(), args[2].Uint64(), args[4].Uint()
	const mpolFNode, mpolFAddr, mpolFMemsAllowed = 1, 2, 4
	if flags&^(mpolFNode|mpolFAddr|mpolFMemsAllowed) != 0 {
		return 0, errno.EINVAL
	}
	if modeAddr != 0 {
		// MPOL_F_NODE|MPOL_F_ADDR asks for the node of a page: node 0.
		var b [4]byte
		if _, err := t.CopyOutBytes(modeAddr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
	}
	if maskAddr != 0 && maxnode > 0 {
		b := make([]byte, (maxnode+63)/64*8)
		b[0] = 1 // node 0
		if _, err := t.CopyOutBytes(maskAddr, b); err != nil {
			return 0, errno.EFAULT
		}
	}
	return 0, nil
}

// Mincore implements Linux syscall mincore(2).
func Mincore(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	addr, length, vec := args[0].Pointer(), args[1].Uint64(), args[2].Pointer()
	if !addr.IsPageAligned() {
		return 0, errno.EINVAL
	}
	n, ok := hostarch.PageRoundUp(length)
	if !ok {
		return 0, errno.ENOMEM
	}
	if err := t.MemoryManager().CheckMapped(addr, n); err != nil {
		return 0, err
	}
	b := make([]byte, n/hostarch.PageSize)
	for i := range b {
		b[i] = 1
	}
	if _, err := t.CopyOutBytes(vec, b); err != nil {
		return 0, errno.EFAULT
	}
	return 0, nil
}

// perLinux is PER_LINUX; 0xffffffff queries.
const (
	perLinux = 0
	perQuery = 0xffffffff
)

// Personality implements Linux syscall personality(2).
func Personality(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	p := args[0].Uint()
	if p != perQuery && p&0xff != perLinux {
		// sandbox-divergence: other execution domains are not offered.
		return 0, errno.EINVAL
	}
	return perLinux, nil
}

// SchedRRGetInterval implements Linux syscall sched_rr_get_interval(2):
// SCHED_OTHER tasks report 0 (no fixed quantum), as Linux does for
// CFS tasks that run alone.
func SchedRRGetInterval(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	if err := checkPID(t, args[0].Int()); err != nil {
		return 0, err
	}
	return 0, copyOutTimespec(t, args[1].Pointer(), linux.Timespec{})
}

// Mlock implements Linux syscalls mlock(2) and munlock(2).
func Mlock(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	addr, length := args[0].Pointer(), args[1].Uint64()
	start := addr.RoundDown()
	end, ok := addr.AddLength(length)
	if !ok {
		return 0, errno.ENOMEM
	}
	e, ok := end.RoundUp()
	if !ok {
		return 0, errno.ENOMEM
	}
	return 0, t.MemoryManager().CheckMapped(start, uint64(e-start))
}

// mlock2 flags.
const mlockOnfault = 1

// Mlock2 implements Linux syscall mlock2(2).
func Mlock2(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	if args[2].Uint()&^mlockOnfault != 0 {
		return 0, errno.EINVAL
	}
	return Mlock(t, sysno, args)
}

// mlockall flags.
const (
	mclCurrent = 1
	mclFuture  = 2
	mclOnfault = 4
)

// Mlockall implements Linux syscall mlockall(2).
func Mlockall(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	f := args[0].Int()
	if f == 0 || f&^(mclCurrent|mclFuture|mclOnfault) != 0 || f == mclOnfault {
		return 0, errno.EINVAL
	}
	return 0, nil
}

// Munlockall implements Linux syscall munlockall(2).
func Munlockall(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return 0, nil
}

// Readahead implements Linux syscall readahead(2): a page cache hint.
func Readahead(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	f := t.GetFile(args[0].Int())
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	if !f.IsReadable() {
		return 0, errno.EBADF
	}
	if f.IsStream() {
		return 0, errno.EINVAL
	}
	return 0, nil
}

// Unshare implements Linux syscall unshare(2).
func Unshare(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	f := args[0].Uint64()
	const allowed = kernel.CLONE_FILES | kernel.CLONE_FS | kernel.CLONE_SYSVSEM
	if f&^(allowed|kernel.CLONE_NEWNS|kernel.CLONE_NEWCGROUP|kernel.CLONE_NEWUTS|kernel.CLONE_NEWIPC|
		kernel.CLONE_NEWUSER|kernel.CLONE_NEWPID|kernel.CLONE_NEWNET|kernel.CLONE_THREAD|kernel.CLONE_SIGHAND|kernel.CLONE_VM) != 0 {
		return 0, errno.EINVAL
	}
	if f&^allowed != 0 {
		// sandbox-divergence: no namespaces inside the sandbox.
		return 0, errno.EPERM
	}
	t.Unshare(f&kernel.CLONE_FILES != 0, f&kernel.CLONE_FS != 0)
	return 0, nil
}

// GetRobustList implements Linux syscall get_robust_list(2).
func GetRobustList(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pid, headAddr, lenAddr := args[0].Int(), args[1].Pointer(), args[2].Pointer()
	if pid != 0 && kernel.ThreadID(pid) != t.TID() {
		if t.Kernel().TaskByID(kernel.ThreadID(pid)) == nil {
			return 0, errno.ESRCH
		}
		return 0, errno.EPERM
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(t.RobustListHead()))
	if _, err := t.CopyOutBytes(headAddr, b[:]); err != nil {
		return 0, errno.EFAULT
	}
	binary.LittleEndian.PutUint64(b[:], robustListHeadSize)
	if _, err := t.CopyOutBytes(lenAddr, b[:]); err != nil {
		return 0, errno.EFAULT
	}
	return 0, nil
}

// execveat flags.
const (
	atSymlinkNofollow = 0x100
	atEmptyPath       = 0x1000
)

// Execveat implements Linux syscall execveat(2).
func Execveat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	dirfd, pathAddr, argvAddr, envvAddr, flags := args[0].Int(), args[1].Pointer(), args[2].Pointer(), args[3].Pointer(), args[4].Int()
	if flags&^(atSymlinkNofollow|atEmptyPath) != 0 {
		return 0, errno.EINVAL
	}
	path, err := t.CopyInString(pathAddr, pathMax)
	if err != nil {
		return 0, err
	}
	switch {
	case path == "" && flags&atEmptyPath == 0:
		return 0, errno.ENOENT
	case path == "" || (len(path) > 0 && path[0] != '/' && dirfd != linux.AT_FDCWD):
		f := t.GetFile(dirfd)
		if f == nil {
			return 0, errno.EBADF
		}
		f.DecRef()
		// The fd's magic link in procfs names the file (or directory) it
		// refers to inside the sandbox.
		base := fmt.Sprintf("/proc/self/fd/%d", dirfd)
		if path == "" {
			path = base
		} else {
			path = base + "/" + path
		}
	}
	argv, err := copyInStringVector(t, argvAddr)
	if err != nil {
		return 0, err
	}
	envv, err := copyInStringVector(t, envvAddr)
	if err != nil {
		return 0, err
	}
	if err := t.Execve(path, argv, envv); err != nil {
		return 0, err
	}
	return 0, kernel.ErrNoSyscallReturn
}

// close_range flags from <linux/close_range.h>.
const (
	closeRangeUnshare = 1 << 1
	closeRangeCloexec = 1 << 2
)

// CloseRange implements Linux syscall close_range(2).
func CloseRange(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	first, last, flags := args[0].Uint(), args[1].Uint(), args[2].Uint()
	if flags&^(closeRangeUnshare|closeRangeCloexec) != 0 || first > last {
		return 0, errno.EINVAL
	}
	if flags&closeRangeUnshare != 0 {
		t.Unshare(true, false)
	}
	fdt := t.FDTable()
	for _, fd := range fdt.FDs() {
		if uint32(fd) < first || uint32(fd) > last {
			continue
		}
		if flags&closeRangeCloexec != 0 {
			fdt.SetCloseOnExec(fd, true)
			continue
		}
		if f := fdt.Remove(fd); f != nil {
			f.DecRef()
		}
	}
	return 0, nil
}
