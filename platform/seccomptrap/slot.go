package seccomptrap

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
)

// Each stub thread owns one slot of its address space's control memfd,
// mapped MAP_SHARED both in the stub (at ctlAddr) and in the sentry. A slot
// is slotSize bytes, aligned to slotSize, so the handler finds its slot by
// rounding its stack pointer down:
//
//	0x0000 slotHeader: the state word and the saved event (see README.md)
//	0x0200 stack_t for the thread's sigaltstack (setup only)
//	0x0400 the thread's seccomp program (setup only)
//	0x1000 .. slotSize: the alternate signal stack
//
// Everything in a slot is writable by guest code in the same stub, so the
// sentry treats its contents as guest-controlled data.
const (
	slotSize    = 0x10000
	slotSSOff   = 0x200
	slotProgOff = 0x400
	slotAltOff  = 0x1000
	slotAltSize = slotSize - slotAltOff
)

// Byte offsets of slotHeader fields; trap_amd64.s uses the same numbers.
const (
	stState    = 0x00
	stCmd      = 0x04
	stSiginfo  = 0x08
	stGregs    = 0x28
	stFpstate  = 0xe0
	stFSBase   = 0xe8
	stGSBase   = 0xf0
	stCurFS    = 0xf8
	stCurGS    = 0x100
	stSpin     = 0x108
	stFlags    = 0x110
	stUcontext = 0x118
	stEvents   = 0x120
	stEvTSC    = 0x128
	stVia      = 0x130
	stKick     = 0x134
	stEntry    = 0x138
	stStep     = 0x140
	stSelf     = 0x148
)

// State word values. The word is also the futex both sides sleep on, and
// the clear_child_tid of the stub thread, so 0 means "thread gone".
const (
	stateDead       = 0
	stateRun        = 1 // the guest runs (or is about to); the stub owns the slot
	stateEvent      = 2 // the handler saved an event; the sentry owns the slot
	stateSentryWait = 3 // like stateRun, and the sentry sleeps on the futex
	stateStubWait   = 4 // like stateEvent, and the stub sleeps on the futex
	stateSetup      = 5 // the thread is being created
)

// Commands from the sentry, read by the handler when it is released.
const (
	cmdNone = 0
	cmdExit = 1
	// cmdFrame, to a thread parked in the trampoline path, makes it fault
	// on purpose so that its FP state lands in a signal frame.
	cmdFrame = 2
)

// slotHeader.Via: how the event was made.
const (
	viaSignal  = 0 // by the signal handler, which is parked in its frame
	viaSyscall = 1 // by a patched syscall site's trampoline
	viaKick    = 2 // by the trampoline path, for a kick that came as it returned
)

// slotFlags bits.
const flagFSGSBase = 1

// slotHeader is the start of a slot. Its layout is fixed by trap_amd64.s.
type slotHeader struct {
	State uint32
	Cmd   uint32
	// Siginfo is the first 32 bytes of the event's siginfo_t.
	Siginfo [4]uint64
	// Gregs are the guest's registers in ucontext order (REG_R8 ...
	// REG_CR2). The handler saves all 23 and restores the first 18.
	Gregs [23]uint64
	// Fpstate is the address of the FP state in the signal frame.
	Fpstate uint64
	// FSBase and GSBase are the bases the guest must run with; the handler
	// applies them when they differ from CurFS/CurGS.
	FSBase, GSBase uint64
	// CurFS and CurGS are the thread's current bases.
	CurFS, CurGS uint64
	// Spin is the stub's spin budget in TSC ticks.
	Spin  uint64
	Flags uint64
	// Ucontext is the frame's address (for debugging).
	Ucontext uint64
	// Events counts handler entries (for debugging and tests).
	Events uint64
	// EvTSC is the TSC when the handler posted the last event.
	EvTSC uint64
	// Via says which path posted the event (via*), and Kick that an
	// interrupt kick arrived while the trampoline path ran.
	Via, Kick uint32
	// Entry is the trampoline path's entry in the stub page; trampolines
	// jump to it through %gs.
	Entry uint64
	// Step says that the handler cleared the guest's TF on the way into
	// the trampoline path.
	Step uint32
	_    uint32
	// Self is the slot's address in the stub, where the trampoline path
	// reads it through %gs.
	Self uint64
}

// Indexes into slotHeader.Gregs, from <sys/ucontext.h> (REG_*).
const (
	regR8 = iota
	regR9
	regR10
	regR11
	regR12
	regR13
	regR14
	regR15
	regRDI
	regRSI
	regRBP
	regRBX
	regRDX
	regRAX
	regRCX
	regRSP
	regRIP
	regEFL
	regCSGSFS
	regERR
	regTRAPNO
	regOLDMASK
	regCR2
)

// putRegs stores the guest registers the handler restores.
func (h *slotHeader) putRegs(r *linux.PtraceRegs) {
	g := &h.Gregs
	g[regR8], g[regR9], g[regR10], g[regR11] = r.R8, r.R9, r.R10, r.R11
	g[regR12], g[regR13], g[regR14], g[regR15] = r.R12, r.R13, r.R14, r.R15
	g[regRDI], g[regRSI], g[regRBP], g[regRBX] = r.Rdi, r.Rsi, r.Rbp, r.Rbx
	g[regRDX], g[regRAX], g[regRCX], g[regRSP] = r.Rdx, r.Rax, r.Rcx, r.Rsp
	g[regRIP], g[regEFL] = r.Rip, r.Eflags
	h.FSBase, h.GSBase = r.Fs_base, r.Gs_base
}

// getRegs loads the registers the handler saved. Orig_rax is the caller's
// business (it depends on the event).
func (h *slotHeader) getRegs(r *linux.PtraceRegs) {
	g := &h.Gregs
	r.R8, r.R9, r.R10, r.R11 = g[regR8], g[regR9], g[regR10], g[regR11]
	r.R12, r.R13, r.R14, r.R15 = g[regR12], g[regR13], g[regR14], g[regR15]
	r.Rdi, r.Rsi, r.Rbp, r.Rbx = g[regRDI], g[regRSI], g[regRBP], g[regRBX]
	r.Rdx, r.Rax, r.Rcx, r.Rsp = g[regRDX], g[regRAX], g[regRCX], g[regRSP]
	r.Rip, r.Eflags = g[regRIP], g[regEFL]
	// cs, gs, fs, ss as four 16-bit fields (struct sigcontext_64).
	csgsfs := g[regCSGSFS]
	r.Cs, r.Ss = csgsfs&0xffff, csgsfs>>48
	r.Fs_base, r.Gs_base = h.CurFS, h.CurGS
}

// siginfo accessors. Offsets are those of siginfo_t on x86-64.
func (h *slotHeader) signo() int32 { return int32(uint32(h.Siginfo[0])) }
func (h *slotHeader) code() int32  { return int32(uint32(h.Siginfo[1])) }

// addr is si_addr (faults) or si_call_addr (SIGSYS).
func (h *slotHeader) addr() uint64 { return h.Siginfo[2] }

// sysno is si_syscall for SIGSYS.
func (h *slotHeader) sysno() int32 { return int32(uint32(h.Siginfo[3])) }

// arch is si_arch for SIGSYS.
func (h *slotHeader) arch() uint32 { return uint32(h.Siginfo[3] >> 32) }

// senderPID is si_pid for signals sent with kill/tgkill.
func (h *slotHeader) senderPID() int32 { return int32(uint32(h.Siginfo[2])) }
