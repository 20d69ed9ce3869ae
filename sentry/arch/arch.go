// Package arch holds a task's architectural state (registers and FP state)
// and the decoding of syscall arguments.
package arch

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// State is a task's user register state. It is owned by the task goroutine.
type State struct {
	Regs linux.PtraceRegs
	// FPValid reports that FP holds state that must be loaded into the host
	// thread before the next switch (for example, after a signal return).
	FPValid bool
	// FP is the fxsave/xsave image of the task's FP state.
	FP []byte
}

// SyscallNo returns the number of the syscall being made.
func (s *State) SyscallNo() uintptr { return uintptr(s.Regs.Orig_rax) }

// SyscallArgs returns the six syscall arguments in ABI order.
func (s *State) SyscallArgs() SyscallArguments {
	r := &s.Regs
	return SyscallArguments{
		{uintptr(r.Rdi)}, {uintptr(r.Rsi)}, {uintptr(r.Rdx)},
		{uintptr(r.R10)}, {uintptr(r.R8)}, {uintptr(r.R9)},
	}
}

// SetReturn sets the syscall return value.
func (s *State) SetReturn(v uintptr) { s.Regs.Rax = uint64(v) }

// Return returns the syscall return register.
func (s *State) Return() uintptr { return uintptr(s.Regs.Rax) }

// IP returns the instruction pointer.
func (s *State) IP() hostarch.Addr { return hostarch.Addr(s.Regs.Rip) }

// SetIP sets the instruction pointer.
func (s *State) SetIP(a hostarch.Addr) { s.Regs.Rip = uint64(a) }

// Stack returns the stack pointer.
func (s *State) Stack() hostarch.Addr { return hostarch.Addr(s.Regs.Rsp) }

// SetStack sets the stack pointer.
func (s *State) SetStack(a hostarch.Addr) { s.Regs.Rsp = uint64(a) }

// RestartSyscall rewinds the task to re-execute the syscall instruction.
func (s *State) RestartSyscall() {
	s.Regs.Rip -= 2 // len("syscall") == 2
	s.Regs.Rax = s.Regs.Orig_rax
}

// Fresh-thread register values for amd64 user mode: flat 64-bit code and
// data segments from arch/x86/include/asm/segment.h (__USER_CS, __USER_DS),
// and eflags with only IF and the reserved bit 1 set.
const (
	UserCS     = 0x33
	UserDS     = 0x2b
	InitEflags = 0x202
)

// NewState returns the register state of a thread entering a fresh image.
func NewState(entry, stack hostarch.Addr) State {
	var s State
	s.Regs.Rip = uint64(entry)
	s.Regs.Rsp = uint64(stack)
	s.Regs.Cs = UserCS
	s.Regs.Ss = UserDS
	s.Regs.Eflags = InitEflags
	// orig_rax = -1: no syscall is in progress, so nothing may be restarted.
	s.Regs.Orig_rax = ^uint64(0)
	return s
}

// SyscallArgument is one raw syscall argument.
type SyscallArgument struct {
	Value uintptr
}

// SyscallArguments are the six arguments of a syscall.
type SyscallArguments [6]SyscallArgument

// Pointer returns the argument as a guest address.
func (a SyscallArgument) Pointer() hostarch.Addr { return hostarch.Addr(a.Value) }

// Int returns the argument as a C int.
func (a SyscallArgument) Int() int32 { return int32(a.Value) }

// Uint returns the argument as a C unsigned int.
func (a SyscallArgument) Uint() uint32 { return uint32(a.Value) }

// Int64 returns the argument as a 64-bit signed value.
func (a SyscallArgument) Int64() int64 { return int64(a.Value) }

// Uint64 returns the argument as a 64-bit unsigned value.
func (a SyscallArgument) Uint64() uint64 { return uint64(a.Value) }

// SizeT returns the argument as a size_t.
func (a SyscallArgument) SizeT() uint { return uint(a.Value) }

// ModeT returns the argument as a mode_t.
func (a SyscallArgument) ModeT() uint32 { return uint32(a.Value) }
