package kernel

import (
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// ThreadID is a thread or process id in the sandbox's pid namespace.
type ThreadID int32

// Task is a guest thread. One goroutine, the task goroutine, runs each task
// (see task_run.go).
//
// Field ownership: "owned by the task goroutine" means only the task
// goroutine reads or writes the field, so it needs no lock. "Protected by
// mu" names the mutex that guards the field.
type Task struct {
	k  *Kernel
	tg *ThreadGroup

	// tid is this task's id in the sandbox pid namespace. Immutable.
	tid ThreadID

	// st is the task's register state. Owned by the task goroutine.
	st arch.State

	// pc runs the task on the platform. Owned by the task goroutine.
	pc platform.Context

	// mm is the task's address space. Owned by the task goroutine (it
	// changes only on execve).
	mm *mm.MemoryManager

	// fdTable and fsContext are the task's files and filesystem context.
	// Owned by the task goroutine.
	fdTable   *FDTable
	fsContext *FSContext

	// creds are the task's credentials. Owned by the task goroutine.
	creds *auth.Credentials

	// name is the task's comm (PR_SET_NAME), at most 15 bytes. Owned by the
	// task goroutine.
	name string

	// clearChildTID is set_tid_address's address; robustList is
	// set_robust_list's head. Owned by the task goroutine.
	clearChildTID uintptr
	robustList    uintptr

	// sigMask is the blocked signal set; altStack* are sigaltstack's
	// state. Owned by the task goroutine.
	sigMask       SignalSet
	altStackSP    uint64
	altStackSize  uint64
	altStackFlags int32

	// interruptCh is signalled (non-blocking send) when something wants the
	// task goroutine's attention while it blocks in the sentry.
	interruptCh chan struct{}

	// exitStatus is the task's status once exitRequested is set. Owned by
	// the task goroutine.
	exiting    bool
	exitStatus WaitStatus
}

// Kernel returns the kernel t runs in.
func (t *Task) Kernel() *Kernel { return t.k }

// ThreadGroup returns t's thread group (process).
func (t *Task) ThreadGroup() *ThreadGroup { return t.tg }

// TID returns t's thread id in the sandbox.
func (t *Task) TID() ThreadID { return t.tid }

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

// Name returns t's comm.
func (t *Task) Name() string { return t.name }

// SetName sets t's comm, truncated to 15 bytes as Linux's TASK_COMM_LEN-1.
func (t *Task) SetName(n string) {
	if len(n) > 15 {
		n = n[:15]
	}
	t.name = n
}
