package kernel

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"sync"
	"sync/atomic"
)

// WaitStatus is a wait(2) status word: exit code << 8, or the terminating
// signal number (| 0x80 for a core dump).
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

// ThreadGroup is a guest process.
type ThreadGroup struct {
	k *Kernel

	// pid is the thread group id (the leader's tid). Immutable.
	pid ThreadID

	// killSignal, when non-zero, is a signal that must end every task of
	// the process at its next check (SIGKILL semantics).
	killSignal atomic.Int32

	// mu protects the fields below.
	mu sync.Mutex
	// exiting is set by exit_group or a fatal signal; status is then final.
	exiting bool
	// tasks are the live threads.
	tasks map[*Task]struct{}
	// leader is the thread group leader.
	leader *Task
	// parent is the parent process, nil for init.
	parent *ThreadGroup
	// actions are the signal dispositions, indexed by signal number.
	actions [linux.NSIG]SigAction
	// limits are the resource limits.
	limits LimitSet
	// exePath is the guest path of the executable, for /proc/[pid]/exe.
	exePath string
	// exited is set once the last task has exited; status is its status.
	exited bool
	status WaitStatus
	// exitedCh is closed when the thread group has exited.
	exitedCh chan struct{}
}

// PID returns the thread group's id in the sandbox.
func (tg *ThreadGroup) PID() ThreadID { return tg.pid }

// PPID returns the parent's id, or 0 for init.
func (tg *ThreadGroup) PPID() ThreadID {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.parent == nil {
		return 0
	}
	return tg.parent.pid
}

// Leader returns the thread group leader.
func (tg *ThreadGroup) Leader() *Task {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.leader
}

// ExePath returns the guest path of the executable.
func (tg *ThreadGroup) ExePath() string {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.exePath
}

// NumThreads returns the number of live threads.
func (tg *ThreadGroup) NumThreads() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return len(tg.tasks)
}

// Exited returns a channel closed when the process has exited, and then its
// status via ExitStatus.
func (tg *ThreadGroup) Exited() <-chan struct{} { return tg.exitedCh }

// ExitStatus returns the exit status; valid once Exited is closed.
func (tg *ThreadGroup) ExitStatus() WaitStatus {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.status
}
