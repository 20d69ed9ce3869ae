// Package platform defines how the sentry runs guest code: an AddressSpace
// is a host process whose memory is windows of the sandbox memfd, and a
// Context runs one guest thread in an AddressSpace until the next event.
package platform

import (
	"errors"

	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
)

// Platform creates address spaces and contexts.
type Platform interface {
	// Name is the --platform name.
	Name() string
	// NewAddressSpace starts a new, empty host address space (a stub).
	NewAddressSpace() (AddressSpace, error)
	// NewContext returns a context for one task. It is used only from the
	// task goroutine.
	NewContext() Context
	// MinUserAddress and MaxUserAddress bound where the guest may map.
	MinUserAddress() hostarch.Addr
	MaxUserAddress() hostarch.Addr
}

// AddressSpace is the host view of a guest address space.
type AddressSpace interface {
	// MapFile maps [off, off+n) of the memfd at addr with MAP_SHARED|MAP_FIXED
	// and the given access, replacing anything there.
	MapFile(addr hostarch.Addr, off, n uint64, at hostarch.AccessType) error
	// Unmap removes [addr, addr+n).
	Unmap(addr hostarch.Addr, n uint64) error
	// Release kills the stub. The AddressSpace must not be used afterwards.
	Release()
}

// EventKind says why Switch returned.
type EventKind int

// Event kinds.
const (
	// EventSyscall: the guest made a syscall; its number and arguments are
	// in the state, and the instruction pointer is past the instruction.
	EventSyscall EventKind = iota
	// EventFault: a synchronous fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
	// SIGTRAP). Signo, Code, Addr and Access describe it.
	EventFault
	// EventInterrupted: Interrupt was called.
	EventInterrupted
)

// Event describes why the guest stopped.
type Event struct {
	Kind   EventKind
	Signo  int32
	Code   int32
	Addr   hostarch.Addr
	Access hostarch.AccessType
}

// ErrStubDied is returned by Switch when the stub process died under the
// guest (for example, killed from the host).
var ErrStubDied = errors.New("platform: stub process died")

// Context runs one guest thread.
type Context interface {
	// Switch loads st into a host thread of as, runs the guest until the next
	// event, saves the registers back into st and returns the event. It
	// blocks the calling goroutine while the guest runs.
	Switch(as AddressSpace, st *arch.State) (Event, error)
	// Interrupt makes a current or next Switch return EventInterrupted. It
	// may be called from any goroutine.
	Interrupt()
	// Release frees the host threads held by the context.
	Release()
}

// FPContext is implemented by contexts that can read the live FP state of
// the thread they run. The kernel needs it for signal frames and fork.
// Writing works through arch.State: when FPValid is set, Switch loads FP
// into the thread before running it and clears FPValid.
type FPContext interface {
	// PullFPState fills st.FP with the thread's FP state (the xsave area),
	// unless st.FPValid already holds newer state. It leaves st.FP nil if
	// the context has no thread yet (the state is the initial one).
	PullFPState(st *arch.State) error
}

// OSThreadBound is implemented by platforms whose Contexts must always be
// used from one OS thread (ptrace: only the tracer thread may ptrace). The
// kernel then locks each task goroutine to its thread for life; otherwise
// task goroutines move freely, which makes waking them much cheaper.
type OSThreadBound interface {
	NeedsOSThread() bool
}

// SleepNoter is implemented by contexts that tune themselves on how long
// the sentry takes to answer an event (seccomptrap's spin budgets): the
// kernel tells them when the task slept while serving the current one (a
// blocking read, a wait), so that time waiting for another task is not
// taken for a slow sentry.
type SleepNoter interface {
	NoteSlept()
}

// SyscallPatcher is implemented by contexts that can run a rewritten
// syscall site without a host trap (seccomptrap). The kernel rewrites a
// site `<5-byte instruction>; syscall` into `jmp *abs32` to a trampoline
// from Trampoline (sentry/mm/usertrap.go).
type SyscallPatcher interface {
	// TrappedSyscall reports whether the last EventSyscall came from a
	// host trap at a `syscall` instruction, so that patching its site
	// would pay off.
	TrappedSyscall() bool
	// Trampoline returns the code of the trampoline for one site, to be
	// placed at addr: it runs displaced (the 5-byte instruction before the
	// `syscall`) and then enters the sentry as that `syscall` would have,
	// returning to ret. It returns nil if displaced cannot be used.
	Trampoline(addr uint64, displaced []byte, ret uint64) []byte
}
