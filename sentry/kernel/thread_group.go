package kernel

import (
	"sync"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// WaitStatus is a wait(2) status word: exit code << 8, or the terminating
// signal number (| 0x80 for a core dump), or 0x7f | signo << 8 for a stop.
type WaitStatus uint32

// ExitStatus returns a status for exit(code).
func ExitStatus(code int) WaitStatus { return WaitStatus(code&0xff) << 8 }

// SignalStatus returns a status for death by signal signo.
func SignalStatus(signo int) WaitStatus { return WaitStatus(signo & 0x7f) }

// Exited reports whether the status is a normal exit.
func (w WaitStatus) Exited() bool { return w&0x7f == 0 }

// ExitCode returns the exit code of a normal exit.
func (w WaitStatus) ExitCode() int { return int(w>>8) & 0xff }

// Signaled reports whether a signal ended the process.
func (w WaitStatus) Signaled() bool { return w&0x7f != 0 && w&0x7f != 0x7f }

// Signal returns the terminating signal.
func (w WaitStatus) Signal() int { return int(w & 0x7f) }

// CoreDumped reports whether the core bit is set.
func (w WaitStatus) CoreDumped() bool { return w&0x80 != 0 }

// SignalHandlers are the signal dispositions, shared by the processes and
// threads created with CLONE_SIGHAND. Protected by Kernel.mu.
type SignalHandlers struct {
	actions [linux.NSIG]SigAction
}

// copy returns an unshared copy.
func (sh *SignalHandlers) copy() *SignalHandlers {
	n := *sh
	return &n
}

// ThreadGroup is a guest process.
//
// Fields marked "protected by k.mu" are guarded by the kernel's task set
// mutex, which also guards the process tree and all signal state.
type ThreadGroup struct {
	k *Kernel

	// pid is the thread group id (the leader's tid). Immutable.
	pid ThreadID

	// The fields below are protected by k.mu.

	// tasks are the live threads; leader is the thread group leader (which
	// may have exited while others run).
	tasks  map[*Task]struct{}
	leader *Task
	// parent is the parent process, nil for init; children are the
	// processes whose parent this is.
	parent   *ThreadGroup
	children map[*ThreadGroup]struct{}
	// handlers are the signal dispositions.
	handlers *SignalHandlers
	// pending are process-directed signals.
	pending sigQueue
	// exitSignal is sent to the parent when the process ends (SIGCHLD, or
	// clone's low byte).
	exitSignal int
	// exiting is set by exit_group, a fatal signal or execve's de-thread;
	// then every other task ends at its next check. groupStatus is the
	// status exit_group or the signal chose.
	exiting     bool
	groupStatus WaitStatus
	// execer is the task that called execve while it de-threads.
	execer *Task
	// zombie is set once every task has exited and until the parent reaps
	// the process; status is the exit status then.
	zombie bool
	reaped bool
	status WaitStatus
	// Group stop (SIGSTOP and friends): stopped is set while the process is
	// stopped; stopSignal is the signal that stopped it. stopReported and
	// continueReported say whether wait(WUNTRACED/WCONTINUED) has seen the
	// last change; continued is set by SIGCONT until reported.
	stopped          bool
	stopSignal       int
	stopReported     bool
	continued        bool
	continueReported bool
	// continueCh is closed when a stopped process is continued.
	continueCh chan struct{}
	// childEvents is closed (and replaced) whenever a child changes state,
	// waking wait(2) callers.
	childEvents chan struct{}
	// exitedUser/Sys are the CPU time of threads that exited;
	// childUser/Sys that of reaped children (wait(2) adds them).
	exitedUser, exitedSys time.Duration
	childUser, childSys   time.Duration
	// pgrp is the process group.
	pgrp *ProcessGroup
	// subreaper is PR_SET_CHILD_SUBREAPER.
	subreaper bool
	// threadsChanged, when set, is closed when a task leaves (execve waits
	// on it while de-threading).
	threadsChanged chan struct{}
	// vforkDone is closed when a vfork child execs or exits.
	vforkDone chan struct{}
	// signalWaiters are signalfds waiting for signals to arrive.
	signalWaiters vfs.WaitQueue
	// exitedCh is closed when the process becomes a zombie.
	exitedCh chan struct{}

	// mu protects the fields below (process attributes that are not part
	// of the task set).
	mu sync.Mutex
	// limits are the resource limits.
	limits LimitSet
	// exePath is the guest path of the executable, for /proc/[pid]/exe.
	exePath string
	// nice is the process's nice value.
	nice int
	// itimers are setitimer's timers; timers are timer_create's.
	itimers [3]*IntervalTimer
	timers  map[int32]*PosixTimer
}

func (k *Kernel) newThreadGroupLocked(pid ThreadID, parent *ThreadGroup, handlers *SignalHandlers, limits LimitSet) *ThreadGroup {
	tg := &ThreadGroup{
		k:           k,
		pid:         pid,
		tasks:       map[*Task]struct{}{},
		children:    map[*ThreadGroup]struct{}{},
		parent:      parent,
		handlers:    handlers,
		exitSignal:  linux.SIGCHLD,
		childEvents: make(chan struct{}),
		exitedCh:    make(chan struct{}),
		limits:      limits,
	}
	if parent != nil {
		parent.children[tg] = struct{}{}
	}
	k.threadGroups[pid] = tg
	return tg
}

// PID returns the thread group's id in the sandbox.
func (tg *ThreadGroup) PID() ThreadID { return tg.pid }

// PPID returns the parent's id, or 0 for init.
func (tg *ThreadGroup) PPID() ThreadID {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	if tg.parent == nil {
		return 0
	}
	return tg.parent.pid
}

// Leader returns the thread group leader.
func (tg *ThreadGroup) Leader() *Task {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.leader
}

// ExePath returns the guest path of the executable.
func (tg *ThreadGroup) ExePath() string {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.exePath
}

func (tg *ThreadGroup) setExePath(p string) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.exePath = p
}

// NumThreads returns the number of live threads.
func (tg *ThreadGroup) NumThreads() int {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return len(tg.tasks)
}

// Exited returns a channel closed when the process has exited; its status
// is then ExitStatus.
func (tg *ThreadGroup) Exited() <-chan struct{} { return tg.exitedCh }

// ExitStatus returns the exit status; valid once Exited is closed.
func (tg *ThreadGroup) ExitStatus() WaitStatus {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.status
}

// notifyChildEventLocked wakes the process's wait(2) callers.
//
// Preconditions: k.mu is held.
func (tg *ThreadGroup) notifyChildEventLocked() {
	close(tg.childEvents)
	tg.childEvents = make(chan struct{})
}
