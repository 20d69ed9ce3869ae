// Package linux holds the guest ABI as typed Go. It is a leaf package: names
// keep their kernel spelling and values are the guest's, independent of the
// host's headers.
package linux

// PtraceRegs is struct user_regs_struct from <asm/user_64.h>, the register
// layout used by PTRACE_GETREGS and by the sentry's saved task state.
type PtraceRegs struct {
	R15      uint64
	R14      uint64
	R13      uint64
	R12      uint64
	Rbp      uint64
	Rbx      uint64
	R11      uint64
	R10      uint64
	R9       uint64
	R8       uint64
	Rax      uint64
	Rcx      uint64
	Rdx      uint64
	Rsi      uint64
	Rdi      uint64
	Orig_rax uint64
	Rip      uint64
	Cs       uint64
	Eflags   uint64
	Rsp      uint64
	Ss       uint64
	Fs_base  uint64
	Gs_base  uint64
	Ds       uint64
	Es       uint64
	Fs       uint64
	Gs       uint64
}
