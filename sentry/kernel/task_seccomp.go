package kernel

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/seccomp"
)

// Syscalls SECCOMP_MODE_STRICT allows: read, write, exit, rt_sigreturn.
var strictAllowed = map[uintptr]bool{0: true, 1: true, 60: true, 15: true}

// seccompCheck runs t's seccomp filters on the syscall about to run and
// applies the verdict. It returns false if the syscall must not run (the
// return value, if any, is already set).
func (t *Task) seccompCheck(f *seccomp.Filters, sysno uintptr, args arch.SyscallArguments) bool {
	if t.seccompStrict.Load() && !strictAllowed[sysno] {
		t.exitGroupStatus(SignalStatus(linux.SIGKILL))
		return false
	}
	if f == nil {
		return true
	}
	d := seccomp.Data{Nr: int32(sysno), Arch: seccomp.AuditArchX86_64, InstructionPointer: t.st.Regs.Rip}
	for i, a := range args {
		d.Args[i] = uint64(a.Value)
	}
	v := f.Evaluate(&d)
	data := v & seccomp.RetData
	switch v & seccomp.RetActionFull {
	case seccomp.RetAllow, seccomp.RetLog:
		return true
	case seccomp.RetErrno:
		// "the value in SECCOMP_RET_DATA is returned as the errno", capped
		// at MAX_ERRNO.
		t.st.SetReturn(errnoReturn(errno.Errno(min(data, 4095))))
		return false
	case seccomp.RetTrap:
		// "the syscall is rolled back": rax holds the syscall number again,
		// so the SIGSYS handler can emulate it (syscall_rollback).
		t.st.SetReturn(sysno)
		t.ForceSignal(&linux.SignalInfo{
			Signo: linux.SIGSYS, Code: linux.SYS_SECCOMP, Errno: int32(data),
			Addr: t.st.Regs.Rip, Syscall: int32(sysno), Arch: seccomp.AuditArchX86_64,
		})
		return false
	case seccomp.RetTrace, seccomp.RetUserNotif:
		// No tracer and no listener: "the system call is not executed and
		// ... returns ENOSYS" - seccomp(2).
		t.st.SetReturn(errnoReturn(errno.ENOSYS))
		return false
	case seccomp.RetKillThread:
		t.st.SetReturn(errnoReturn(errno.ENOSYS))
		t.exiting, t.exitStatus = true, SignalStatus(linux.SIGSYS)
		if t.ThreadGroup().NumThreads() == 1 {
			// The last thread dying of SIGSYS is the process's death.
			t.exitGroupStatus(SignalStatus(linux.SIGSYS))
		}
		return false
	default: // SECCOMP_RET_KILL_PROCESS and unknown actions.
		t.st.SetReturn(errnoReturn(errno.ENOSYS))
		t.exitGroupStatus(SignalStatus(linux.SIGSYS))
		return false
	}
}

// seccomp(2) operations and flags from <linux/seccomp.h>.
const (
	SECCOMP_SET_MODE_STRICT  = 0
	SECCOMP_SET_MODE_FILTER  = 1
	SECCOMP_GET_ACTION_AVAIL = 2
	SECCOMP_GET_NOTIF_SIZES  = 3

	SECCOMP_FILTER_FLAG_TSYNC        = 1
	SECCOMP_FILTER_FLAG_LOG          = 2
	SECCOMP_FILTER_FLAG_SPEC_ALLOW   = 4
	SECCOMP_FILTER_FLAG_NEW_LISTENER = 8
	SECCOMP_FILTER_FLAG_TSYNC_ESRCH  = 16
)

// SetSeccompStrict implements SECCOMP_SET_MODE_STRICT.
func (t *Task) SetSeccompStrict() error {
	if t.seccomp.Load() != nil {
		return errno.EINVAL
	}
	t.seccompStrict.Store(true)
	return nil
}

// AddSeccompFilter implements SECCOMP_SET_MODE_FILTER.
func (t *Task) AddSeccompFilter(p *seccomp.Program, flags uint32) error {
	if t.seccompStrict.Load() {
		return errno.EINVAL
	}
	f := t.seccomp.Load().Push(p, flags&SECCOMP_FILTER_FLAG_LOG != 0)
	if f.Len() > 512 {
		// MAX_INSNS_PER_PATH bounds the total; a count of filters is the
		// sentry's simpler guard against unbounded growth.
		return errno.ENOMEM
	}
	if flags&SECCOMP_FILTER_FLAG_TSYNC == 0 {
		t.seccomp.Store(f)
		return nil
	}
	// TSYNC: every thread of the process gets the new stack.
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	for o := range t.tg.tasks {
		o.seccomp.Store(f)
	}
	return nil
}

// SeccompMode returns PR_GET_SECCOMP's answer: 0, 1 (strict) or 2 (filter).
func (t *Task) SeccompMode() int {
	switch {
	case t.seccompStrict.Load():
		return 1
	case t.seccomp.Load() != nil:
		return 2
	}
	return 0
}
