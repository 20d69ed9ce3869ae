package kernel

import (
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
)

// SyscallFn is the shape of every syscall handler. It returns the value for
// rax, or an errno.Errno (including the internal ERESTART* codes).
type SyscallFn func(t *Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error)

// SupportLevel says how completely a syscall is implemented.
type SupportLevel int

// Support levels, from least to most.
const (
	SupportUnimplemented SupportLevel = iota // ENOSYS (or Errno) and a log line.
	SupportPartial                           // Implemented, with documented gaps.
	SupportFull                              // Implemented with Linux's semantics.
)

// String implements fmt.Stringer.
func (s SupportLevel) String() string {
	switch s {
	case SupportFull:
		return "supported"
	case SupportPartial:
		return "partial"
	default:
		return "unimplemented"
	}
}

// Syscall is one entry of the syscall table.
type Syscall struct {
	Name    string
	Fn      SyscallFn // nil: return Errno without doing anything.
	Support SupportLevel
	Errno   errno.Errno // returned when Fn is nil (ENOSYS if zero).
	Note    string
}

// SyscallTable maps syscall numbers to entries.
type SyscallTable struct {
	// Table is indexed by syscall number; entries without a Name are unknown
	// numbers.
	Table []Syscall
	// Strace, when non-nil, is called before and after each syscall.
	Strace Strace
}

// Strace observes syscalls for --strace.
type Strace interface {
	Enter(t *Task, sysno uintptr, args arch.SyscallArguments) any
	Exit(t *Task, sysno uintptr, args arch.SyscallArguments, cookie any, rv uintptr, err error)
}

// Lookup returns the entry for sysno, or nil for an out-of-range number.
func (st *SyscallTable) Lookup(sysno uintptr) *Syscall {
	if sysno >= uintptr(len(st.Table)) {
		return nil
	}
	return &st.Table[sysno]
}
