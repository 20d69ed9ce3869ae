package syscalls

import (
	"encoding/binary"
	"runtime"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// threadSyscalls create, wait for and group processes and threads.
var threadSyscalls = map[uintptr]kernel.Syscall{
	24:  {Name: "sched_yield", Fn: SchedYield, Support: kernel.SupportFull},
	56:  {Name: "clone", Fn: Clone, Support: kernel.SupportPartial, Note: "Namespace flags return EPERM; CLONE_INTO_CGROUP returns EINVAL."},
	424: {Name: "pidfd_send_signal", Fn: PidfdSendSignal, Support: kernel.SupportFull},
	434: {Name: "pidfd_open", Fn: PidfdOpen, Support: kernel.SupportFull},
	438: {Name: "pidfd_getfd", Fn: PidfdGetfd, Support: kernel.SupportFull},
	57:  {Name: "fork", Fn: Fork, Support: kernel.SupportFull},
	58:  {Name: "vfork", Fn: Vfork, Support: kernel.SupportFull},
	61:  {Name: "wait4", Fn: Wait4, Support: kernel.SupportFull},
	109: {Name: "setpgid", Fn: Setpgid, Support: kernel.SupportFull},
	111: {Name: "getpgrp", Fn: Getpgrp, Support: kernel.SupportFull},
	112: {Name: "setsid", Fn: Setsid, Support: kernel.SupportFull},
	121: {Name: "getpgid", Fn: Getpgid, Support: kernel.SupportFull},
	124: {Name: "getsid", Fn: Getsid, Support: kernel.SupportFull},
	247: {Name: "waitid", Fn: Waitid, Support: kernel.SupportPartial, Note: "P_PIDFD returns EINVAL."},
	435: {Name: "clone3", Fn: Clone3, Support: kernel.SupportPartial, Note: "As clone; set_tid and cgroup return EINVAL."},
}

// Clone implements Linux syscall clone(2). On x86-64 the arguments are
// (flags, stack, parent_tid, child_tid, tls).
func Clone(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	flags := args[0].Uint64()
	if flags&kernel.CLONE_PIDFD != 0 && flags&kernel.CLONE_PARENT_SETTID != 0 {
		// Both would use parent_tid.
		return 0, errno.EINVAL
	}
	tid, err := t.Clone(kernel.CloneOptions{
		Flags:      flags &^ kernel.CSIGNAL,
		ExitSignal: int(flags & kernel.CSIGNAL),
		Stack:      args[1].Pointer(),
		ParentTID:  args[2].Pointer(),
		ChildTID:   args[3].Pointer(),
		TLS:        args[4].Uint64(),
		PIDFD:      args[2].Pointer(),
	})
	return uintptr(tid), err
}

// Fork implements Linux syscall fork(2).
func Fork(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	tid, err := t.Clone(kernel.CloneOptions{ExitSignal: linux.SIGCHLD})
	return uintptr(tid), err
}

// Vfork implements Linux syscall vfork(2).
func Vfork(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	tid, err := t.Clone(kernel.CloneOptions{Flags: kernel.CLONE_VM | kernel.CLONE_VFORK, ExitSignal: linux.SIGCHLD})
	return uintptr(tid), err
}

// struct clone_args sizes from <linux/sched.h>.
const (
	cloneArgsSizeVer0 = 64
	cloneArgsSizeMax  = 88
)

// Clone3 implements Linux syscall clone3(2).
func Clone3(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	addr, size := args[0].Pointer(), args[1].SizeT()
	if size < cloneArgsSizeVer0 {
		return 0, errno.EINVAL
	}
	if size > hostarch.PageSize {
		return 0, errno.E2BIG
	}
	b := make([]byte, size)
	if _, err := t.CopyInBytes(addr, b); err != nil {
		return 0, errno.EFAULT
	}
	// A newer struct may be larger, as long as what we don't know is zero
	// ("copy_struct_from_user").
	for _, c := range b[min(size, cloneArgsSizeMax):] {
		if c != 0 {
			return 0, errno.E2BIG
		}
	}
	ext := make([]byte, cloneArgsSizeMax)
	copy(ext, b)
	le := binary.LittleEndian
	f := func(i int) uint64 { return le.Uint64(ext[8*i:]) }
	flags, pidfd, childTID, parentTID, exitSignal, stack, stackSize, tls := f(0), f(1), f(2), f(3), f(4), f(5), f(6), f(7)
	setTID, setTIDSize, cgroup := f(8), f(9), f(10)
	if flags&kernel.CSIGNAL != 0 || exitSignal >= linux.NSIG {
		return 0, errno.EINVAL
	}
	if setTID != 0 || setTIDSize != 0 || cgroup != 0 {
		return 0, errno.EINVAL
	}
	if (stack == 0) != (stackSize == 0) {
		return 0, errno.EINVAL
	}
	top := stack
	if stack != 0 {
		var ok bool
		end, ok := hostarch.Addr(stack).AddLength(stackSize)
		if !ok {
			return 0, errno.EINVAL
		}
		top = uint64(end)
	}
	tid, err := t.Clone(kernel.CloneOptions{
		Flags:      flags,
		ExitSignal: int(exitSignal),
		Stack:      hostarch.Addr(top),
		ParentTID:  hostarch.Addr(parentTID),
		ChildTID:   hostarch.Addr(childTID),
		TLS:        tls,
		PIDFD:      hostarch.Addr(pidfd),
	})
	return uintptr(tid), err
}

// rusageSize is sizeof(struct rusage).
const rusageSize = 144

// Wait4 implements Linux syscall wait4(2).
func Wait4(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pid, statusAddr, options, rusageAddr := kernel.ThreadID(args[0].Int()), args[1].Pointer(), int(args[2].Int()), args[3].Pointer()
	if options&^(kernel.WNOHANG|kernel.WUNTRACED|kernel.WCONTINUED|kernel.WNOTHREAD|kernel.WALL|kernel.WCLONE) != 0 {
		return 0, errno.EINVAL
	}
	o := kernel.WaitOptions{Options: options | kernel.WEXITED}
	switch {
	case pid == -1:
		o.Any = true
	case pid == 0:
		pg, _ := t.Getpgid(0)
		o.ByPgid, o.Pgid = true, pg
	case pid < -1:
		if pid == -1<<31 {
			// -INT_MIN has no process group.
			return 0, errno.ESRCH
		}
		o.ByPgid, o.Pgid = true, -pid
	default:
		o.Pid = pid
	}
	r, err := t.Wait(o)
	if err != nil {
		return 0, err
	}
	if r == nil {
		return 0, nil
	}
	if statusAddr != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(r.Status))
		if _, err := t.CopyOutBytes(statusAddr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
	}
	if rusageAddr != 0 {
		if _, err := t.CopyOutBytes(rusageAddr, make([]byte, rusageSize)); err != nil {
			return 0, errno.EFAULT
		}
	}
	return uintptr(r.Pid), nil
}

// waitid(2) id types.
const (
	pAll   = 0
	pPid   = 1
	pPgid  = 2
	pPidfd = 3
)

// Waitid implements Linux syscall waitid(2).
func Waitid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	idtype, id, infoAddr, options, rusageAddr := args[0].Int(), kernel.ThreadID(args[1].Int()), args[2].Pointer(), int(args[3].Int()), args[4].Pointer()
	if options&^(kernel.WNOHANG|kernel.WSTOPPED|kernel.WEXITED|kernel.WCONTINUED|kernel.WNOWAIT|kernel.WNOTHREAD|kernel.WALL|kernel.WCLONE) != 0 {
		return 0, errno.EINVAL
	}
	if options&(kernel.WEXITED|kernel.WSTOPPED|kernel.WCONTINUED) == 0 {
		return 0, errno.EINVAL
	}
	o := kernel.WaitOptions{Options: options}
	switch idtype {
	case pAll:
		o.Any = true
	case pPid:
		if id <= 0 {
			return 0, errno.EINVAL
		}
		o.Pid = id
	case pPgid:
		if id < 0 {
			return 0, errno.EINVAL
		}
		if id == 0 {
			id, _ = t.Getpgid(0)
		}
		o.ByPgid, o.Pgid = true, id
	case pPidfd:
		f := t.GetFile(int32(id))
		if f == nil {
			return 0, errno.EBADF
		}
		tg := kernel.PIDFDFromFile(f)
		f.DecRef()
		if tg == nil {
			return 0, errno.EINVAL
		}
		o.Pid = tg.PID()
	default:
		return 0, errno.EINVAL
	}
	r, err := t.Wait(o)
	if err != nil {
		return 0, err
	}
	if infoAddr != 0 {
		var b [linux.SignalInfoSize]byte
		if r != nil {
			info := linux.SignalInfo{Signo: linux.SIGCHLD, Code: r.Code, Pid: int32(r.Pid), UID: r.UID}
			switch r.Code {
			case linux.CLD_EXITED:
				info.Status = int32(r.Status.ExitCode())
			case linux.CLD_STOPPED:
				info.Status = int32(r.Status >> 8 & 0xff)
			case linux.CLD_CONTINUED:
				info.Status = linux.SIGCONT
			default:
				info.Status = int32(r.Status.Signal())
			}
			info.Marshal(b[:])
		}
		if _, err := t.CopyOutBytes(infoAddr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
	}
	if rusageAddr != 0 {
		if _, err := t.CopyOutBytes(rusageAddr, make([]byte, rusageSize)); err != nil {
			return 0, errno.EFAULT
		}
	}
	return 0, nil
}

// Setsid implements Linux syscall setsid(2).
func Setsid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	sid, err := t.Setsid()
	return uintptr(sid), err
}

// Setpgid implements Linux syscall setpgid(2).
func Setpgid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.Setpgid(kernel.ThreadID(args[0].Int()), kernel.ThreadID(args[1].Int()))
}

// Getpgid implements Linux syscall getpgid(2).
func Getpgid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pg, err := t.Getpgid(kernel.ThreadID(args[0].Int()))
	return uintptr(pg), err
}

// Getpgrp implements Linux syscall getpgrp(2).
func Getpgrp(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pg, err := t.Getpgid(0)
	return uintptr(pg), err
}

// Getsid implements Linux syscall getsid(2).
func Getsid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	sid, err := t.Getsid(kernel.ThreadID(args[0].Int()))
	return uintptr(sid), err
}

// SchedYield implements Linux syscall sched_yield(2).
func SchedYield(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	runtime.Gosched()
	return 0, nil
}

// PidfdOpen implements Linux syscall pidfd_open(2).
func PidfdOpen(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pid, flags := kernel.ThreadID(args[0].Int()), args[1].Uint()
	if flags&^linux.O_NONBLOCK != 0 {
		return 0, errno.EINVAL
	}
	tg, err := t.PIDFDOpen(pid)
	if err != nil {
		return 0, err
	}
	f := kernel.NewPIDFD(tg, flags)
	defer f.DecRef()
	// "The close-on-exec flag is set on the file descriptor."
	fd, err := t.FDTable().NewFD(0, f, true)
	return uintptr(fd), err
}

// PidfdSendSignal implements Linux syscall pidfd_send_signal(2).
func PidfdSendSignal(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, sig, infoAddr, flags := args[0].Int(), int(args[1].Int()), args[2].Pointer(), args[3].Uint()
	if flags != 0 {
		return 0, errno.EINVAL
	}
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	tg := kernel.PIDFDFromFile(f)
	if tg == nil {
		return 0, errno.EBADF
	}
	var info *linux.SignalInfo
	if infoAddr != 0 {
		var err error
		if info, err = copyInSiginfo(t, sig, infoAddr); err != nil {
			return 0, err
		}
	}
	if sig == 0 {
		return 0, t.SignalProcess(tg, 0, nil)
	}
	return 0, t.SignalProcess(tg, sig, info)
}

// PidfdGetfd implements Linux syscall pidfd_getfd(2): a duplicate of
// another sandbox process's fd, with kill(2)'s permission rule standing in
// for ptrace's.
func PidfdGetfd(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pidfd, targetFD, flags := args[0].Int(), args[1].Int(), args[2].Uint()
	if flags != 0 {
		return 0, errno.EINVAL
	}
	f := t.GetFile(pidfd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	tg := kernel.PIDFDFromFile(f)
	if tg == nil {
		return 0, errno.EBADF
	}
	leader := tg.Leader()
	if leader == nil || tg != t.ThreadGroup() && !t.Credentials().HasCapability(19 /* CAP_SYS_PTRACE */) {
		return 0, errno.EPERM
	}
	file, _ := leader.FDTable().Get(targetFD)
	if file == nil {
		return 0, errno.EBADF
	}
	defer file.DecRef()
	nfd, err := t.FDTable().NewFD(0, file, true)
	return uintptr(nfd), err
}
