package kernel

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// exitGroupStatus ends every task of t's process with status.
func (t *Task) exitGroupStatus(status WaitStatus) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	t.tg.killLocked(status)
}

// ExitGroup ends t's process with exit code code (exit_group(2)).
func (t *Task) ExitGroup(code int) { t.exitGroupStatus(ExitStatus(code)) }

// ExitThread ends t alone with exit code code (exit(2)).
func (t *Task) ExitThread(code int) {
	t.exiting = true
	t.exitStatus = ExitStatus(code)
}

// exit releases the task's resources after its run loop ends. The last
// task of a process makes it a zombie for its parent to reap.
func (t *Task) exit() {
	t.pc.Release()
	t.releaseChildTID()
	if t.vforkDone != nil {
		close(t.vforkDone)
		t.vforkDone = nil
	}
	t.mm.DecUsers()
	t.fdTable.DecUsers()

	k, tg := t.k, t.tg
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(tg.tasks, t)
	t.exited = true
	u, s := t.CPUTime()
	tg.exitedUser += u
	tg.exitedSys += s
	if t.tid != tg.pid {
		// A thread's id is free at once; the leader's stays with the
		// process until it is reaped.
		delete(k.tasks, t.tid)
	}
	tg.notifyThreadsChangedLocked()
	if len(tg.tasks) > 0 {
		return
	}
	status := t.exitStatus
	if tg.exiting {
		status = tg.groupStatus
	}
	tg.exitLocked(status)
	go tg.stopTimers() // Not under k.mu: a firing timer takes it.
}

// releaseChildTID does CLONE_CHILD_CLEARTID's work: "When a thread whose
// clear_child_tid is not NULL terminates, then, if the thread is sharing
// memory with other threads, then 0 is written at the address ... and the
// kernel performs FUTEX_WAKE" - set_tid_address(2).
func (t *Task) releaseChildTID() {
	if t.clearChildTID == 0 || t.mm.Users() < 2 {
		return
	}
	addr := hostarch.Addr(t.clearChildTID)
	if _, err := t.mm.CopyOut(addr, []byte{0, 0, 0, 0}); err == nil {
		t.FutexWakeKey(addr, false /* private */, 1, ^uint32(0))
	}
	t.walkRobustList()
}

// notifyThreadsChangedLocked wakes an execve waiting for the other threads
// to go.
func (tg *ThreadGroup) notifyThreadsChangedLocked() {
	if tg.threadsChanged != nil {
		close(tg.threadsChanged)
		tg.threadsChanged = nil
	}
}

// exitLocked makes tg a zombie: children go to the reaper, the parent is
// told, and init's exit ends the sandbox.
//
// Preconditions: k.mu is held; tg has no tasks left.
func (tg *ThreadGroup) exitLocked(status WaitStatus) {
	k := tg.k
	tg.zombie = true
	tg.status = status
	tg.stopped = false
	tg.sessionLeaderExitLocked()

	if tg.parent == nil {
		// "If the init process of a PID namespace terminates, the kernel
		// terminates all of the processes in the namespace via a SIGKILL
		// signal." - pid_namespaces(7).
		for _, o := range k.threadGroups {
			if o != tg && !o.zombie {
				o.killLocked(SignalStatus(linux.SIGKILL))
			}
		}
	}
	tg.signalChildrenParentDeathLocked()
	reaper := tg.reaperLocked()
	for c := range tg.children {
		delete(tg.children, c)
		if reaper == nil {
			// init itself is gone: its orphans die with it and nobody reaps
			// them; drop them from the tables when they exit.
			c.parent = nil
			continue
		}
		c.parent = reaper
		reaper.children[c] = struct{}{}
		if c.zombie {
			reaper.notifyChildEventLocked()
			reaper.sendSignalLocked(c.exitInfoLocked())
		}
	}
	if p := tg.parent; p != nil {
		sa := p.handlers.actions[linux.SIGCHLD]
		if tg.exitSignal > 0 {
			info := tg.exitInfoLocked()
			info.Signo = int32(tg.exitSignal)
			p.sendSignalLocked(info)
		}
		// "POSIX.1-2001 specifies that if the disposition of SIGCHLD is set
		// to SIG_IGN or the SA_NOCLDWAIT flag is set for SIGCHLD, then
		// children that terminate do not become zombies" - wait(2).
		if tg.exitSignal == linux.SIGCHLD && (sa.Handler == SIG_IGN || sa.Flags&SA_NOCLDWAIT != 0) {
			tg.reapLocked()
		}
		p.notifyChildEventLocked()
	} else if tg.pid != 1 {
		// An orphan of a dead init: nobody will reap it.
		tg.reapLocked()
	}
	close(tg.exitedCh)
}

// exitInfoLocked returns the SIGCHLD siginfo for tg's exit.
func (tg *ThreadGroup) exitInfoLocked() *linux.SignalInfo {
	info := &linux.SignalInfo{Signo: linux.SIGCHLD, Pid: int32(tg.pid)}
	switch {
	case tg.status.Exited():
		info.Code, info.Status = linux.CLD_EXITED, int32(tg.status.ExitCode())
	case tg.status.CoreDumped():
		info.Code, info.Status = linux.CLD_DUMPED, int32(tg.status.Signal())
	default:
		info.Code, info.Status = linux.CLD_KILLED, int32(tg.status.Signal())
	}
	return info
}

// reaperLocked returns the process that adopts tg's children: the nearest
// living subreaper ancestor, else init; nil if tg is init.
func (tg *ThreadGroup) reaperLocked() *ThreadGroup {
	for p := tg.parent; p != nil; p = p.parent {
		if p.subreaper && !p.zombie {
			return p
		}
	}
	if init := tg.k.threadGroups[1]; init != nil && init != tg && !init.zombie {
		return init
	}
	return nil
}

// reapLocked removes a zombie from the process tree and the pid tables.
func (tg *ThreadGroup) reapLocked() {
	k := tg.k
	tg.reaped = true
	if tg.parent != nil {
		delete(tg.parent.children, tg)
		// A reaped child's time, and its own children's, go to the parent.
		tg.parent.childUser += tg.exitedUser + tg.childUser
		tg.parent.childSys += tg.exitedSys + tg.childSys
	}
	delete(k.threadGroups, tg.pid)
	delete(k.tasks, tg.pid)
	tg.leavePgrpLocked()
}

// SetSubreaper sets PR_SET_CHILD_SUBREAPER.
func (tg *ThreadGroup) SetSubreaper(on bool) {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	tg.subreaper = on
}

// Subreaper returns PR_GET_CHILD_SUBREAPER.
func (tg *ThreadGroup) Subreaper() bool {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.subreaper
}

// Kill ends the process as if by signal signo (used for signals that
// reach runsc-lite itself when they can't be forwarded).
func (tg *ThreadGroup) Kill(signo int) {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	tg.killLocked(SignalStatus(signo))
}
