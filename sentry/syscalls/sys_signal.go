package syscalls

import (
	"encoding/binary"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// signalSyscalls are the signal syscalls.
var signalSyscalls = map[uintptr]kernel.Syscall{
	13:  {Name: "rt_sigaction", Fn: RtSigaction, Support: kernel.SupportFull},
	14:  {Name: "rt_sigprocmask", Fn: RtSigprocmask, Support: kernel.SupportFull},
	15:  {Name: "rt_sigreturn", Fn: RtSigreturn, Support: kernel.SupportFull},
	34:  {Name: "pause", Fn: Pause, Support: kernel.SupportFull},
	62:  {Name: "kill", Fn: Kill, Support: kernel.SupportFull},
	127: {Name: "rt_sigpending", Fn: RtSigpending, Support: kernel.SupportFull},
	128: {Name: "rt_sigtimedwait", Fn: RtSigtimedwait, Support: kernel.SupportFull},
	129: {Name: "rt_sigqueueinfo", Fn: RtSigqueueinfo, Support: kernel.SupportFull},
	130: {Name: "rt_sigsuspend", Fn: RtSigsuspend, Support: kernel.SupportFull},
	131: {Name: "sigaltstack", Fn: Sigaltstack, Support: kernel.SupportFull},
	200: {Name: "tkill", Fn: Tkill, Support: kernel.SupportFull},
	219: {Name: "restart_syscall", Fn: RestartSyscall, Support: kernel.SupportFull},
	234: {Name: "tgkill", Fn: Tgkill, Support: kernel.SupportFull},
	297: {Name: "rt_tgsigqueueinfo", Fn: RtTgsigqueueinfo, Support: kernel.SupportFull},
}

// sigsetSize is sizeof(sigset_t) in the kernel ABI.
const sigsetSize = 8

// saUnsupported is SA_UNSUPPORTED: probing bit that rt_sigaction clears.
const saUnsupported = 0x400

func copyInSigset(t *kernel.Task, addr hostarch.Addr) (kernel.SignalSet, error) {
	var b [8]byte
	if _, err := t.CopyInBytes(addr, b[:]); err != nil {
		return 0, errno.EFAULT
	}
	return kernel.SignalSet(binary.LittleEndian.Uint64(b[:])), nil
}

func copyOutSigset(t *kernel.Task, addr hostarch.Addr, s kernel.SignalSet) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(s))
	if _, err := t.CopyOutBytes(addr, b[:]); err != nil {
		return errno.EFAULT
	}
	return nil
}

// RtSigaction implements Linux syscall rt_sigaction(2).
func RtSigaction(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	signo, actAddr, oldAddr, size := int(args[0].Int()), args[1].Pointer(), args[2].Pointer(), args[3].SizeT()
	if size != sigsetSize || signo < 1 || signo >= linux.NSIG {
		return 0, errno.EINVAL
	}
	var sa kernel.SigAction
	if actAddr != 0 {
		// "EINVAL An attempt was made to change the action for SIGKILL or
		// SIGSTOP" - sigaction(2).
		if signo == linux.SIGKILL || signo == linux.SIGSTOP {
			return 0, errno.EINVAL
		}
		var b [kernel.SigActionSize]byte
		if _, err := t.CopyInBytes(actAddr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
		sa.Unmarshal(b[:])
		sa.Mask &^= uint64(kernel.SignalSetOf(linux.SIGKILL) | kernel.SignalSetOf(linux.SIGSTOP))
		sa.Flags &^= saUnsupported
	}
	var old kernel.SigAction
	if actAddr != 0 {
		old = t.SetSignalAction(signo, sa)
	} else {
		old = t.SignalAction(signo)
	}
	if oldAddr != 0 {
		var b [kernel.SigActionSize]byte
		old.Marshal(b[:])
		if _, err := t.CopyOutBytes(oldAddr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
	}
	return 0, nil
}

// sigprocmask(2) how values.
const (
	sigBlock   = 0
	sigUnblock = 1
	sigSetmask = 2
)

// RtSigprocmask implements Linux syscall rt_sigprocmask(2).
func RtSigprocmask(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	how, setAddr, oldAddr, size := args[0].Int(), args[1].Pointer(), args[2].Pointer(), args[3].SizeT()
	if size != sigsetSize {
		return 0, errno.EINVAL
	}
	old := t.SignalMask()
	if setAddr != 0 {
		set, err := copyInSigset(t, setAddr)
		if err != nil {
			return 0, err
		}
		switch how {
		case sigBlock:
			t.SetSignalMask(old | set)
		case sigUnblock:
			t.SetSignalMask(old &^ set)
		case sigSetmask:
			t.SetSignalMask(set)
		default:
			return 0, errno.EINVAL
		}
	}
	if oldAddr != 0 {
		if err := copyOutSigset(t, oldAddr, old); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// RtSigreturn implements Linux syscall rt_sigreturn(2).
func RtSigreturn(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	mask, alt, err := t.Arch().SignalRestore(t.MemoryManager())
	if err != nil {
		// "If the frame is bad, the task gets SIGSEGV" -
		// arch/x86/kernel/signal_64.c:SYSCALL_DEFINE0(rt_sigreturn).
		t.ForceSignal(&linux.SignalInfo{Signo: linux.SIGSEGV, Code: linux.SI_KERNEL})
		return 0, kernel.ErrNoSyscallReturn
	}
	t.SetSignalMask(kernel.SignalSet(mask))
	// restore_altstack: a bad stack_t is ignored, as Linux does.
	if alt.Flags&ssDisable != 0 {
		t.SetSignalStack(0, 0, ssDisable)
	} else if !t.OnSignalStack() && alt.Size >= minSigStkSz {
		t.SetSignalStack(alt.SP, alt.Size, alt.Flags&^ssOnStack)
	}
	return 0, kernel.ErrNoSyscallReturn
}

// Pause implements Linux syscall pause(2).
func Pause(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	t.Block(nil)
	return 0, errno.ERESTARTNOHAND
}

// RtSigpending implements Linux syscall rt_sigpending(2).
func RtSigpending(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	addr, size := args[0].Pointer(), args[1].SizeT()
	if size != sigsetSize {
		return 0, errno.EINVAL
	}
	return 0, copyOutSigset(t, addr, t.PendingSignals()&t.SignalMask())
}

// RtSigsuspend implements Linux syscall rt_sigsuspend(2).
func RtSigsuspend(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	addr, size := args[0].Pointer(), args[1].SizeT()
	if size != sigsetSize {
		return 0, errno.EINVAL
	}
	mask, err := copyInSigset(t, addr)
	if err != nil {
		return 0, err
	}
	t.SetSavedSignalMask(t.SignalMask())
	t.SetSignalMask(mask)
	t.Block(nil)
	// "sigsuspend() always returns -1, with errno set to EINTR"; the
	// handler runs first, and the old mask comes back after it.
	return 0, errno.ERESTARTNOHAND
}

// RtSigtimedwait implements Linux syscall rt_sigtimedwait(2).
func RtSigtimedwait(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	setAddr, infoAddr, tsAddr, size := args[0].Pointer(), args[1].Pointer(), args[2].Pointer(), args[3].SizeT()
	if size != sigsetSize {
		return 0, errno.EINVAL
	}
	set, err := copyInSigset(t, setAddr)
	if err != nil {
		return 0, err
	}
	set &^= kernel.SignalSetOf(linux.SIGKILL) | kernel.SignalSetOf(linux.SIGSTOP)
	var deadline time.Time
	has := tsAddr != 0
	if has {
		d, err := copyInDuration(t, tsAddr)
		if err != nil {
			return 0, err
		}
		deadline = time.Now().Add(d)
	}
	info := t.DequeueSignal(set)
	if info == nil {
		// Wait with the awaited signals unblocked, so that they wake us;
		// then take one before delivery could run it.
		var err error
		t.WaitForSignals(set, func() {
			err = t.BlockUntil(nil, deadline, has)
			info = t.DequeueSignal(set)
		})
		if info == nil {
			if err == errno.ETIMEDOUT {
				return 0, errno.EAGAIN
			}
			return 0, errno.EINTR
		}
	}
	if infoAddr != 0 {
		var b [linux.SignalInfoSize]byte
		info.Marshal(b[:])
		if _, err := t.CopyOutBytes(infoAddr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
	}
	return uintptr(info.Signo), nil
}

// copyInDuration reads a relative struct timespec.
func copyInDuration(t *kernel.Task, addr hostarch.Addr) (time.Duration, error) {
	var b [16]byte
	if _, err := t.CopyInBytes(addr, b[:]); err != nil {
		return 0, errno.EFAULT
	}
	sec, nsec := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, errno.EINVAL
	}
	if sec > int64((1<<63-1)/time.Second)-1 {
		return 1<<63 - 1, nil
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec), nil
}

func copyInSiginfo(t *kernel.Task, signo int, addr hostarch.Addr) (*linux.SignalInfo, error) {
	var raw [128]byte
	if _, err := t.CopyInBytes(addr, raw[:]); err != nil {
		return nil, errno.EFAULT
	}
	binary.LittleEndian.PutUint32(raw[0:], uint32(signo))
	le := binary.LittleEndian
	// The guest's siginfo is passed on as is; the fields signalfd reports
	// (the sigqueue layout: pid, uid, value) are decoded too.
	return &linux.SignalInfo{
		Signo: int32(signo), Code: int32(le.Uint32(raw[8:])),
		Pid: int32(le.Uint32(raw[16:])), UID: le.Uint32(raw[20:]), Value: le.Uint64(raw[24:]),
		Raw: &raw,
	}, nil
}

// RtSigqueueinfo implements Linux syscall rt_sigqueueinfo(2).
func RtSigqueueinfo(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pid, sig, addr := kernel.ThreadID(args[0].Int()), int(args[1].Int()), args[2].Pointer()
	if sig < 0 || sig >= linux.NSIG {
		return 0, errno.EINVAL
	}
	info, err := copyInSiginfo(t, sig, addr)
	if err != nil {
		return 0, err
	}
	if sig == 0 {
		return 0, t.Kill(pid, 0)
	}
	return 0, t.QueueSignal(pid, 0, info)
}

// RtTgsigqueueinfo implements Linux syscall rt_tgsigqueueinfo(2).
func RtTgsigqueueinfo(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	tgid, tid, sig, addr := kernel.ThreadID(args[0].Int()), kernel.ThreadID(args[1].Int()), int(args[2].Int()), args[3].Pointer()
	if tgid <= 0 || tid <= 0 || sig < 0 || sig >= linux.NSIG {
		return 0, errno.EINVAL
	}
	info, err := copyInSiginfo(t, sig, addr)
	if err != nil {
		return 0, err
	}
	if sig == 0 {
		return 0, t.Tgkill(tgid, tid, 0)
	}
	return 0, t.QueueSignal(tgid, tid, info)
}

// stack_t flags and limits from <asm/signal.h>.
const (
	ssOnStack    = 1
	ssDisable    = 2
	ssAutoDisarm = 1 << 31
	minSigStkSz  = 2048
)

// Sigaltstack implements Linux syscall sigaltstack(2).
func Sigaltstack(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	ssAddr, oldAddr := args[0].Pointer(), args[1].Pointer()
	sp, size, flags := t.SignalStack()
	onStack := t.OnSignalStack()
	if oldAddr != 0 {
		var b [24]byte
		of := flags
		if size == 0 {
			of = ssDisable
		} else if onStack {
			of |= ssOnStack
		}
		binary.LittleEndian.PutUint64(b[0:], sp)
		binary.LittleEndian.PutUint32(b[8:], uint32(of))
		binary.LittleEndian.PutUint64(b[16:], size)
		if _, err := t.CopyOutBytes(oldAddr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
	}
	if ssAddr != 0 {
		var b [24]byte
		if _, err := t.CopyInBytes(ssAddr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
		// "EPERM An attempt was made to change the alternate signal stack
		// while it was active" - sigaltstack(2).
		if onStack {
			return 0, errno.EPERM
		}
		nsp := binary.LittleEndian.Uint64(b[0:])
		nflags := binary.LittleEndian.Uint32(b[8:])
		nsize := binary.LittleEndian.Uint64(b[16:])
		mode := nflags &^ ssAutoDisarm
		if mode != 0 && mode != ssDisable && mode != ssOnStack {
			return 0, errno.EINVAL
		}
		if mode == ssDisable {
			t.SetSignalStack(0, 0, ssDisable)
		} else {
			if nsize < minSigStkSz {
				return 0, errno.ENOMEM
			}
			t.SetSignalStack(nsp, nsize, int32(nflags&ssAutoDisarm))
		}
	}
	return 0, nil
}

// Kill implements Linux syscall kill(2).
func Kill(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.Kill(kernel.ThreadID(args[0].Int()), int(args[1].Int()))
}

// Tkill implements Linux syscall tkill(2).
func Tkill(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.Tgkill(0, kernel.ThreadID(args[0].Int()), int(args[1].Int()))
}

// Tgkill implements Linux syscall tgkill(2).
func Tgkill(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	tgid := kernel.ThreadID(args[0].Int())
	if tgid <= 0 {
		return 0, errno.EINVAL
	}
	return 0, t.Tgkill(tgid, kernel.ThreadID(args[1].Int()), int(args[2].Int()))
}

// RestartSyscall implements Linux syscall restart_syscall(2).
func RestartSyscall(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return t.RunRestartBlock()
}
