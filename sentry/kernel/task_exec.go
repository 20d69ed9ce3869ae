package kernel

import (
	"fmt"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// Execve replaces t's image with the program at filename. On failure
// before the point of no return the old image is untouched and the error
// is returned. On success, the caller must return ErrNoSyscallReturn: the
// registers are the new image's.
func (t *Task) Execve(filename string, argv, envv []string) error {
	as, err := t.k.newAddressSpace()
	if err != nil {
		t.k.Log.Warn("execve: create address space", "err", err)
		return errno.ENOMEM
	}
	old, oldState, oldName := t.mm, t.st, t.name
	oldExe := t.tg.ExePath()
	t.mm = mm.New(t.k.MemFile, as, t.k.Platform)
	if err := t.load(filename, argv, envv); err != nil {
		t.k.Log.Debug("execve: load failed", "path", filename, "err", err)
		t.mm.DecUsers()
		t.mm, t.st, t.name = old, oldState, oldName
		t.tg.setExePath(oldExe)
		return err
	}
	// Point of no return: the other threads go (execve(2): "All threads
	// other than the calling thread are destroyed").
	if !t.dethread() {
		// Killed while waiting: the new image never runs.
		newMM := t.mm
		t.mm = old
		newMM.DecUsers()
		return ErrNoSyscallReturn
	}
	old.DecUsers()
	// "By default, file descriptors remain open across an execve(). File
	// descriptors that are marked close-on-exec are closed" - execve(2).
	t.fdTable.CloseOnExec()
	t.resetSignalsForExec()
	if t.vforkDone != nil {
		close(t.vforkDone)
		t.vforkDone = nil
	}
	return nil
}

// dethread ends every other thread of t's process and makes t the leader.
// It returns false if the process was killed meanwhile.
func (t *Task) dethread() bool {
	k, tg := t.k, t.tg
	k.mu.Lock()
	if len(tg.tasks) > 1 {
		tg.execer = t
		for o := range tg.tasks {
			if o != t {
				o.interruptLocked()
			}
		}
	}
	for len(tg.tasks) > 1 {
		if tg.exiting {
			tg.execer = nil
			k.mu.Unlock()
			return false
		}
		ch := make(chan struct{})
		tg.threadsChanged = ch
		k.mu.Unlock()
		t.blockUnlessKilled(ch)
		k.mu.Lock()
	}
	tg.execer = nil
	if tg.exiting {
		k.mu.Unlock()
		return false
	}
	if t.tid != tg.pid {
		// "The thread that calls execve takes the thread group leader's
		// PID" - execve(2).
		delete(k.tasks, t.tid)
		t.tid = tg.pid
		k.tasks[t.tid] = t
		tg.leader = t
	}
	k.mu.Unlock()
	return true
}

// resetSignalsForExec applies execve's signal rules: caught signals go
// back to their default, ignored ones stay ignored; the mask and pending
// signals are kept; the alternate stack is cleared.
func (t *Task) resetSignalsForExec() {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	h := t.tg.handlers.copy()
	for i := range h.actions {
		if h.actions[i].Handler != SIG_IGN {
			h.actions[i] = SigAction{}
		} else {
			h.actions[i] = SigAction{Handler: SIG_IGN}
		}
	}
	t.tg.handlers = h
	t.altStack = arch.SignalStack{}
	t.haveSavedMask = false
	t.restartBlock = nil
}

// SetClearChildTID records set_tid_address's address.
func (t *Task) SetClearChildTID(addr uintptr) { t.clearChildTID = addr }

// SetRobustList records set_robust_list's head.
func (t *Task) SetRobustList(head uintptr) { t.robustList = head }

// RobustList returns the robust list head.
func (t *Task) RobustList() uintptr { return t.robustList }

// String formats t for logs.
func (t *Task) String() string { return fmt.Sprintf("task %d", t.tid) }

// Unshare implements unshare(2) for the resources a task can stop sharing
// with its threads: the fd table and the filesystem context.
func (t *Task) Unshare(files, fs bool) {
	if files {
		n := t.fdTable.Fork()
		t.fdTable.DecUsers()
		t.fdTable = n
	}
	if fs {
		t.fsContext = t.fsContext.Fork()
	}
}

// RobustListHead returns set_robust_list's head for get_robust_list.
func (t *Task) RobustListHead() uintptr { return t.robustList }
