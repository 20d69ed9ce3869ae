package syscalls

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// signalSyscalls are the signal syscalls the foundation offers: state is
// kept, and signals a process sends itself take their default action.
var signalSyscalls = map[uintptr]kernel.Syscall{
	13:  {Name: "rt_sigaction", Fn: RtSigaction, Support: kernel.SupportPartial, Note: "Actions are recorded; handlers do not run yet."},
	14:  {Name: "rt_sigprocmask", Fn: RtSigprocmask, Support: kernel.SupportFull},
	131: {Name: "sigaltstack", Fn: Sigaltstack, Support: kernel.SupportPartial, Note: "Recorded; used once handlers run."},
	62:  {Name: "kill", Fn: Kill, Support: kernel.SupportPartial, Note: "Only the caller's own process; the signal takes its default action."},
	200: {Name: "tkill", Fn: Tkill, Support: kernel.SupportPartial, Note: "Only the caller; the signal takes its default action."},
	234: {Name: "tgkill", Fn: Tgkill, Support: kernel.SupportPartial, Note: "Only the caller; the signal takes its default action."},
}

// sigsetSize is sizeof(sigset_t) in the kernel ABI.
const sigsetSize = 8

// sa_flags bits from <asm/signal.h> that rt_sigaction accepts.
const (
	saNoCldStop = 0x1
	saNoCldWait = 0x2
	saSigInfo   = 0x4
	saUnsupport = 0x400
	saExposeTag = 0x800
	saRestorer  = 0x04000000
	saOnStack   = 0x08000000
	saRestart   = 0x10000000
	saNoDefer   = 0x40000000
	saResetHand = 0x80000000
)

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
		// Unknown flags are kept, as Linux does (it only clears them when
		// reporting, for SA_UNSUPPORTED probing).
	}
	old := t.ThreadGroup().SignalAction(signo)
	if actAddr != 0 {
		t.ThreadGroup().SetSignalAction(signo, sa)
	}
	if oldAddr != 0 {
		var b [kernel.SigActionSize]byte
		old.Flags &^= saUnsupport
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
		var b [8]byte
		if _, err := t.CopyInBytes(setAddr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
		set := kernel.SignalSet(binary.LittleEndian.Uint64(b[:]))
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
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(old))
		if _, err := t.CopyOutBytes(oldAddr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
	}
	return 0, nil
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
	if oldAddr != 0 {
		var b [24]byte
		binary.LittleEndian.PutUint64(b[0:], sp)
		binary.LittleEndian.PutUint32(b[8:], uint32(flags))
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
		nsp := binary.LittleEndian.Uint64(b[0:])
		nflags := int32(binary.LittleEndian.Uint32(b[8:]))
		nsize := binary.LittleEndian.Uint64(b[16:])
		mode := uint32(nflags) &^ ssAutoDisarm
		if mode != 0 && mode != ssDisable && mode != ssOnStack {
			return 0, errno.EINVAL
		}
		if mode == ssDisable {
			nsp, nsize = 0, 0
		} else if nsize < minSigStkSz {
			return 0, errno.ENOMEM
		}
		t.SetSignalStack(nsp, nsize, nflags)
	}
	return 0, nil
}

// Kill implements Linux syscall kill(2).
func Kill(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pid, sig := args[0].Int(), int(args[1].Int())
	if sig < 0 || sig >= linux.NSIG {
		return 0, errno.EINVAL
	}
	self := int32(t.ThreadGroup().PID())
	// pid 0 and -pgid name the caller's process group, which is just the
	// caller until processes can be created.
	if pid != self && pid != 0 && pid != -self && pid != -1 {
		return 0, errno.ESRCH
	}
	t.SendSignalToSelf(sig)
	return 0, nil
}

// Tkill implements Linux syscall tkill(2).
func Tkill(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	tid, sig := args[0].Int(), int(args[1].Int())
	if tid <= 0 || sig < 0 || sig >= linux.NSIG {
		return 0, errno.EINVAL
	}
	if kernel.ThreadID(tid) != t.TID() {
		return 0, errno.ESRCH
	}
	t.SendSignalToSelf(sig)
	return 0, nil
}

// Tgkill implements Linux syscall tgkill(2).
func Tgkill(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	tgid, tid, sig := args[0].Int(), args[1].Int(), int(args[2].Int())
	if tgid <= 0 || tid <= 0 || sig < 0 || sig >= linux.NSIG {
		return 0, errno.EINVAL
	}
	if kernel.ThreadID(tid) != t.TID() || kernel.ThreadID(tgid) != t.ThreadGroup().PID() {
		return 0, errno.ESRCH
	}
	t.SendSignalToSelf(sig)
	return 0, nil
}
