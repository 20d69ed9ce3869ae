package kernel

import (
	"errors"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
)

// ErrNoSyscallReturn is returned by handlers that replaced the task's
// registers (execve, rt_sigreturn) or ended it (exit): the dispatcher must
// not write a return value.
var ErrNoSyscallReturn = errors.New("no syscall return")

// doSyscall runs the syscall the task stopped at. It is the hot path: it
// allocates nothing unless --strace is on or the syscall is unknown.
func (t *Task) doSyscall() {
	sysno := t.st.SyscallNo()
	args := t.st.SyscallArgs()
	table := t.k.Syscalls
	e := table.Lookup(sysno)

	var cookie any
	if table.Strace != nil {
		cookie = table.Strace.Enter(t, sysno, args)
	}
	var rv uintptr
	var err error
	if f := t.seccomp.Load(); f != nil || t.seccompStrict.Load() {
		if !t.seccompCheck(f, sysno, args) {
			if table.Strace != nil {
				table.Strace.Exit(t, sysno, args, cookie, t.st.Return(), nil)
			}
			return
		}
	}
	switch {
	case e == nil || e.Name == "":
		t.logUnimplemented(sysno, "")
		err = errno.ENOSYS
	case e.Fn == nil:
		if e.Support == SupportUnimplemented {
			t.logUnimplemented(sysno, e.Name)
		}
		err = e.Errno
		if err == errno.Errno(0) {
			err = errno.ENOSYS
		}
	default:
		rv, err = e.Fn(t, sysno, args)
	}
	if err == ErrNoSyscallReturn {
		if table.Strace != nil {
			table.Strace.Exit(t, sysno, args, cookie, 0, err)
		}
		return
	}
	if err != nil {
		en, ok := err.(errno.Errno)
		if !ok {
			// Only errno.Errno may reach here; anything else is a bug in a
			// handler. Say which, and give the guest EIO.
			name := ""
			if e != nil {
				name = e.Name
			}
			t.k.Log.Warn("syscall returned a non-errno error", "syscall", name, "err", err)
			en = errno.EIO
		}
		if en.IsRestart() {
			// Signal delivery decides between restarting the call and
			// EINTR (handleSignals); until then the guest would see EINTR.
			t.restartErr = en
		}
		err = en
		rv = errnoReturn(en)
	}
	if table.Strace != nil {
		table.Strace.Exit(t, sysno, args, cookie, rv, err)
	}
	t.st.SetReturn(rv)
}

// logUnimplemented logs an unimplemented syscall, once per number.
func (t *Task) logUnimplemented(sysno uintptr, name string) {
	if _, seen := t.k.unimplemented.LoadOrStore(sysno, true); seen {
		return
	}
	if name == "" {
		name = "unknown"
	}
	t.k.Log.Warn("unimplemented syscall", "sysno", sysno, "name", name, "tid", t.tid)
}
