package kernel

import (
	"sync/atomic"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
	"github.com/runsc-lite/runsc-lite/sentry/seccomp"
)

// ThreadID is a thread or process id in the sandbox's pid namespace.
type ThreadID int32

// Task is a guest thread. One goroutine, the task goroutine, runs each task
// (see task_run.go).
//
// Field ownership: "owned by the task goroutine" means only the task
// goroutine reads or writes the field, so it needs no lock. "Protected by
// k.mu" means the kernel's task set mutex guards it.
type Task struct {
	k *Kernel

	// tg is t's process. Immutable.
	tg *ThreadGroup

	// tid is this task's id in the sandbox pid namespace. Protected by k.mu
	// (execve's de-thread may change it to the leader's).
	tid ThreadID

	// st is the task's register state. Owned by the task goroutine.
	st arch.State

	// pc runs the task on the platform. Immutable; Interrupt may be called
	// from any goroutine.
	pc platform.Context

	// mm is the task's address space. Owned by the task goroutine.
	mm *mm.MemoryManager

	// fdTable and fsContext are the task's files and filesystem context.
	// Owned by the task goroutine.
	fdTable   *FDTable
	fsContext *FSContext

	// creds are the task's credentials. Owned by the task goroutine;
	// replaced, never modified.
	creds *auth.Credentials

	// name is the task's comm (PR_SET_NAME), at most 15 bytes. Owned by the
	// task goroutine.
	name string

	// clearChildTID is set_tid_address's address; robustList is
	// set_robust_list's head. Owned by the task goroutine.
	clearChildTID uintptr
	robustList    uintptr

	// sigMask is the blocked signal set. Protected by k.mu (senders read it
	// to choose a thread); written only by the task goroutine.
	sigMask SignalSet
	// realBlocked is the mask in force before sigtimedwait unblocked the
	// signals it waits for. Protected by k.mu.
	realBlocked SignalSet
	// savedMask is restored after a signal handler returns from
	// sigsuspend/ppoll/pselect; haveSavedMask says it is set. Owned by the
	// task goroutine.
	savedMask     SignalSet
	haveSavedMask bool
	// pending are thread-directed signals. Protected by k.mu.
	pending sigQueue
	// altStack is sigaltstack's state. Owned by the task goroutine.
	altStack arch.SignalStack

	// restartErr is the ERESTART* code of the syscall the task just
	// returned from, until signal delivery decides between restarting it
	// and EINTR. Owned by the task goroutine.
	restartErr errno.Errno
	// restartBlock re-runs an interrupted call that restart_syscall(2)
	// must continue (nanosleep's remaining time). Owned by the task
	// goroutine.
	restartBlock func(t *Task) (uintptr, error)

	// interruptCh is signalled (non-blocking send) when something wants the
	// task goroutine's attention while it blocks in the sentry.
	interruptCh chan struct{}

	// exiting is set when the task must leave its run loop; exitStatus is
	// its status (exit(2)'s code). Owned by the task goroutine.
	exiting    bool
	exitStatus WaitStatus
	// exited is set once the task has left the task set. Protected by k.mu.
	exited bool

	// seccomp is the task's seccomp filter stack (nil: none), read on every
	// syscall; TSYNC may set it from another thread. seccompStrict is
	// SECCOMP_MODE_STRICT.
	seccomp       atomic.Pointer[seccomp.Filters]
	seccompStrict atomic.Bool

	// utime and stime are the task's CPU time in nanoseconds: time in the
	// guest, and time in the sentry serving it (sleeps excluded; slept
	// counts those). Written by the task goroutine, read by anyone.
	utime, stime atomic.Int64
	slept        int64

	// start is when the task was created. Immutable.
	start time.Time

	// lastFault is the last fault resolved without a signal, to tell a
	// fault that repeats (a real protection fault ptrace reported as a
	// read) from a race. Owned by the task goroutine.
	lastFault faultSite

	// blocked is set while the task sleeps in BlockUntil (procfs state S;
	// otherwise it runs or is in the guest: R).
	blocked atomic.Bool

	// keepCaps is PR_SET_KEEPCAPS. Owned by the task goroutine.
	keepCaps bool

	// affinity is sched_setaffinity's mask (nil: every CPU). Protected by
	// k.mu.
	affinity []byte

	// pdeathSignal is PR_SET_PDEATHSIG's signal. Protected by k.mu.
	pdeathSignal int

	// vforkDone, when set, is released when this task execs or exits.
	// Owned by the task goroutine.
	vforkDone chan struct{}
}

// Kernel returns the kernel t runs in.
func (t *Task) Kernel() *Kernel { return t.k }

// ThreadGroup returns t's thread group (process).
func (t *Task) ThreadGroup() *ThreadGroup { return t.tg }

// TID returns t's thread id in the sandbox.
func (t *Task) TID() ThreadID {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.tid
}

// Arch returns t's register state. Only the task goroutine may use it.
func (t *Task) Arch() *arch.State { return &t.st }

// MemoryManager returns t's address space.
func (t *Task) MemoryManager() *mm.MemoryManager { return t.mm }

// FDTable returns t's file descriptor table.
func (t *Task) FDTable() *FDTable { return t.fdTable }

// FSContext returns t's root, working directory and umask.
func (t *Task) FSContext() *FSContext { return t.fsContext }

// Credentials returns t's credentials. Callers must not modify them.
func (t *Task) Credentials() *auth.Credentials { return t.creds }

// SetCredentials replaces t's credentials.
func (t *Task) SetCredentials(c *auth.Credentials) { t.creds = c }

// Name returns t's comm.
func (t *Task) Name() string { return t.name }

// SetName sets t's comm, truncated to 15 bytes as Linux's TASK_COMM_LEN-1.
func (t *Task) SetName(n string) {
	if len(n) > 15 {
		n = n[:15]
	}
	t.name = n
}

// SetParentDeathSignal sets PR_SET_PDEATHSIG.
func (t *Task) SetParentDeathSignal(sig int) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	t.pdeathSignal = sig
}

// ParentDeathSignal returns PR_GET_PDEATHSIG.
func (t *Task) ParentDeathSignal() int {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.pdeathSignal
}

// StartTime returns when t was created (procfs's starttime).
func (t *Task) StartTime() time.Time { return t.start }
