package kernel

import (
	"fmt"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// Execve replaces t's image with the program at filename. On failure the
// old image is untouched and the error is returned to the caller. On
// success, the caller must return ErrNoSyscallReturn: the registers are
// the new image's.
func (t *Task) Execve(filename string, argv, envv []string) error {
	if t.tg.NumThreads() != 1 {
		// sandbox-divergence: de-threading arrives with multi-threaded
		// processes; until then there is never more than one thread.
		return errno.EAGAIN
	}
	as, err := t.k.Platform.NewAddressSpace()
	if err != nil {
		t.k.Log.Warn("execve: create address space", "err", err)
		return errno.ENOMEM
	}
	old, oldState, oldName := t.mm, t.st, t.name
	t.mm = mm.New(t.k.MemFile, as, t.k.Platform)
	oldExe := t.tg.ExePath()
	if err := t.load(filename, argv, envv); err != nil {
		t.mm.DecUsers()
		t.mm, t.st, t.name = old, oldState, oldName
		t.tg.mu.Lock()
		t.tg.exePath = oldExe
		t.tg.mu.Unlock()
		return err
	}
	old.DecUsers()
	// "By default, file descriptors remain open across an execve(). File
	// descriptors that are marked close-on-exec are closed" - execve(2).
	t.fdTable.CloseOnExec()
	return nil
}

// ExitGroup ends t's process with exit code code (exit_group(2)).
func (t *Task) ExitGroup(code int) { t.exitGroup(ExitStatus(code)) }

// ExitThread ends t alone with exit code code (exit(2)).
func (t *Task) ExitThread(code int) { t.exitThread(ExitStatus(code)) }

// SetClearChildTID records set_tid_address's address.
func (t *Task) SetClearChildTID(addr uintptr) { t.clearChildTID = addr }

// SetRobustList records set_robust_list's head.
func (t *Task) SetRobustList(head uintptr) { t.robustList = head }

// RobustList returns the robust list head.
func (t *Task) RobustList() uintptr { return t.robustList }

// String formats t for logs.
func (t *Task) String() string { return fmt.Sprintf("task %d", t.tid) }
