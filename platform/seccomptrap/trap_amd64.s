// The stub's signal-handling code, and two tiny helpers for the sentry.
//
// stubCode is never executed in the Go process: its bytes are copied into
// the stub page of every stub process (see trap_unsafe.go). It must be
// position independent, use no Go ABI, no stack frame set up by the
// assembler (NOFRAME), no FP/SSE registers (the guest's FP state lives in
// the signal frame and is restored by rt_sigreturn untouched) and only
// relative jumps inside the one symbol. Entry points are found by scanning
// for markers: `ud2` followed by "RSL" and an id byte. Markers are only ever
// placed after an unconditional jump, return or syscall that does not
// return, so they are never executed.
//
// The constants below must match slot.go (TestAsmConstants checks them).

#include "textflag.h"

// Per-thread slot layout (struct slotHeader in slot.go).
#define SLOT_MASK   $-65536
#define SLOT_SIZE   0x10000
#define ST_STATE    0x00
#define ST_CMD      0x04
#define ST_SIGINFO  0x08
#define ST_GREGS    0x28
#define ST_FPSTATE  0xe0
#define ST_FSBASE   0xe8
#define ST_GSBASE   0xf0
#define ST_CURFS    0xf8
#define ST_CURGS    0x100
#define ST_SPIN     0x108
#define ST_FLAGS    0x110
#define ST_UCONTEXT 0x118
#define ST_EVENTS   0x120
#define ST_EVTSC    0x128
#define ST_VIA      0x130
#define ST_KICK     0x134
#define ST_ENTRY    0x138
#define ST_STEP     0x140
#define ST_SELF     0x148

// Saved registers, by REG_* index (<sys/ucontext.h>).
#define G_R8  (ST_GREGS+0*8)
#define G_R9  (ST_GREGS+1*8)
#define G_R10 (ST_GREGS+2*8)
#define G_R11 (ST_GREGS+3*8)
#define G_R12 (ST_GREGS+4*8)
#define G_R13 (ST_GREGS+5*8)
#define G_R14 (ST_GREGS+6*8)
#define G_R15 (ST_GREGS+7*8)
#define G_RDI (ST_GREGS+8*8)
#define G_RSI (ST_GREGS+9*8)
#define G_RBP (ST_GREGS+10*8)
#define G_RBX (ST_GREGS+11*8)
#define G_RDX (ST_GREGS+12*8)
#define G_RAX (ST_GREGS+13*8)
#define G_RCX (ST_GREGS+14*8)
#define G_RSP (ST_GREGS+15*8)
#define G_RIP (ST_GREGS+16*8)
#define G_EFL (ST_GREGS+17*8)

// State word values.
#define STATE_RUN         1
#define STATE_EVENT       2
#define STATE_SENTRY_WAIT 3
#define STATE_STUB_WAIT   4

#define CMD_EXIT  1
#define CMD_FRAME 2
#define FLAG_FSGSBASE 1

// How the event in the slot was made (slotHeader.Via).
#define VIA_SIGNAL  0
#define VIA_SYSCALL 1
#define VIA_KICK    2

// struct ucontext (x86-64): uc_mcontext.gregs at 40, fpstate after the 23
// gregs, uc_sigmask after the 256-byte sigcontext.
#define UC_GREGS   40
#define UC_RSP     160
#define UC_RIP     168
#define UC_EFL     176
#define UC_FPSTATE 224
#define UC_SIGMASK 296

// Number of gregs copied in (all 23) and out (r8 ... eflags: the kernel
// owns cs/ss, err, trapno, oldmask and cr2).
#define NGREGS_IN  23
#define NGREGS_OUT 18

#define SIGTRAP 5
#define SIGCHLD 17
#define SI_CODE 8
#define EFLAGS_TF 0x100

// Placeholders for the trampoline path's bounds, replaced in the copied
// code by their stub addresses (stubBlob.bounds).
#define CRITLO_PLACEHOLDER 0x52534c0000000001
#define TAILLO_PLACEHOLDER 0x52534c0000000002
#define TAILHI_PLACEHOLDER 0x52534c0000000003

#define SYS_rt_sigreturn 15
#define SYS_exit         60
#define SYS_arch_prctl   158
#define SYS_futex        202
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002

#define MARKER(id) BYTE $0x0f; BYTE $0x0b; BYTE $0x52; BYTE $0x53; BYTE $0x4c; BYTE $id

// The Go assembler insists on balanced PUSH/POP in a function, so the
// flag moves are spelled out.
#define PUSHF BYTE $0x9c
#define POPF  BYTE $0x9d
#define POPAX BYTE $0x58

TEXT ·stubCode(SB), NOSPLIT|NOFRAME, $0
	MARKER(0x01)
	// restorer: the handler returns here (SA_RESTORER), with rsp just
	// past the return address, where rt_sigreturn expects the frame.
	MOVL $SYS_rt_sigreturn, AX
	SYSCALL
	// rt_sigreturn does not return; if it failed the kernel already
	// raised SIGSEGV.
	BYTE $0x0f; BYTE $0x0b

	MARKER(0x02)
	// handler(signo DI, siginfo SI, ucontext DX), on the thread's
	// alternate stack, which lies inside the thread's 64 KiB-aligned slot:
	// rounding rsp down finds the slot. All registers are scratch: the
	// kernel restores the guest's from the frame on rt_sigreturn.
	MOVQ SP, R12
	ANDQ SLOT_MASK, R12
	MOVQ DX, R13

	// A signal that lands in the trampoline path (see "Syscall patching"
	// in README.md) must not clobber the slot, which holds that path's
	// state: [CRITLO, TAILLO) is the path up to the point where all the
	// guest's registers are back, [TAILLO, TAILHI) the last instructions
	// of the return to the guest.
	// The bounds are immediates in this read-only page, written by the
	// sentry when it builds the stub (trap_unsafe.go): the guest can
	// write the slot, and forged bounds in it would let it swallow every
	// kick.
	MOVQ UC_RIP(R13), AX
	MOVQ $CRITLO_PLACEHOLDER, BX
	CMPQ AX, BX
	JCS save
	MOVQ $TAILLO_PLACEHOLDER, BX
	CMPQ AX, BX
	JCS crit
	MOVQ $TAILHI_PLACEHOLDER, BX
	CMPQ AX, BX
	JCC save
	// In the tail every register but rsp, rip and eflags is the guest's:
	// finish the return in the frame and report the signal as if it had
	// hit the guest.
	MOVQ G_RIP(R12), AX
	MOVQ AX, UC_RIP(R13)
	MOVQ G_RSP(R12), AX
	MOVQ AX, UC_RSP(R13)
	MOVQ G_EFL(R12), AX
	MOVQ AX, UC_EFL(R13)
	JMP save

crit:
	// A single-step trap (the guest set TF): step over the path with TF
	// clear. The path puts TF back into the saved flags (ST_STEP), the
	// tail's popf restores it, and the trap after the return reaches the
	// guest as it would after a real syscall.
	CMPL DI, $SIGTRAP
	JNE critfault
	ANDQ $~EFLAGS_TF, UC_EFL(R13)
	MOVL $1, ST_STEP(R12)
	RET
critfault:
	// Another fault raised by the path itself is reported (it can only
	// come from a guest that broke its own slot). A kick is remembered:
	// the path reports it before it returns to the guest, or the event it
	// is about to post reaches the sentry anyway. Other signals from the
	// host are dropped, as the sentry would drop them.
	CMPL SI_CODE(SI), $0
	JGT save
	CMPL DI, $SIGCHLD
	JNE critret
	MOVL $1, ST_KICK(R12)
critret:
	RET

save:
	MOVL $VIA_SIGNAL, ST_VIA(R12)
	MOVQ DX, ST_UCONTEXT(R12)

	// siginfo's first 32 bytes: signo, errno, code, and the union's
	// si_addr / si_call_addr+si_syscall+si_arch / si_pid+si_uid.
	MOVQ 0(SI), AX
	MOVQ AX, (ST_SIGINFO+0)(R12)
	MOVQ 8(SI), AX
	MOVQ AX, (ST_SIGINFO+8)(R12)
	MOVQ 16(SI), AX
	MOVQ AX, (ST_SIGINFO+16)(R12)
	MOVQ 24(SI), AX
	MOVQ AX, (ST_SIGINFO+24)(R12)

	// The guest's general registers. The kernel cleared DF for the
	// handler, so MOVSQ copies upwards.
	LEAQ UC_GREGS(R13), SI
	LEAQ ST_GREGS(R12), DI
	MOVL $NGREGS_IN, CX
	REP; MOVSQ
	MOVQ UC_FPSTATE(R13), AX
	MOVQ AX, ST_FPSTATE(R12)

	// With FSGSBASE the guest can change its bases without a syscall, so
	// read them; otherwise they are what the stub last set.
	TESTQ $FLAG_FSGSBASE, ST_FLAGS(R12)
	JZ post
	RDFSBASEQ AX
	MOVQ AX, ST_CURFS(R12)
	RDGSBASEQ AX
	MOVQ AX, ST_CURGS(R12)
	JMP post

	MARKER(0x03)
	// The trampoline path. A patched syscall site's trampoline (written by
	// the sentry into guest memory, see usertrap.go) jumps here with the
	// GS base checked to be this thread's slot, the syscall number in
	// eax, the return address in rcx and r11 free: `syscall` would have
	// clobbered both. Nothing has touched the flags. The registers go into
	// the slot as the handler would save them, rcx and r11 as `syscall`
	// leaves them.
	// The slot's own address is read through GS, not with RDGSBASE,
	// which CPUs without FSGSBASE lack.
	MOVQ ST_SELF(GS), R11
	MOVQ R8, G_R8(R11)
	MOVQ R9, G_R9(R11)
	MOVQ R10, G_R10(R11)
	MOVQ R12, G_R12(R11)
	MOVQ R13, G_R13(R11)
	MOVQ R14, G_R14(R11)
	MOVQ R15, G_R15(R11)
	MOVQ DI, G_RDI(R11)
	MOVQ SI, G_RSI(R11)
	MOVQ BP, G_RBP(R11)
	MOVQ BX, G_RBX(R11)
	MOVQ DX, G_RDX(R11)
	MOVQ AX, G_RAX(R11)
	MOVQ CX, G_RCX(R11)
	MOVQ CX, G_RIP(R11)
	MOVQ SP, G_RSP(R11)
	// The guest's stack is never touched (it may have live data in its
	// red zone): the flags go through the top of the slot.
	LEAQ SLOT_SIZE(R11), SP
	PUSHF
	POPAX
	// A single-step trap at the entry cleared TF (see crit): the guest's
	// flags have it.
	CMPL ST_STEP(R11), $0
	JEQ 3(PC)
	ORQ $EFLAGS_TF, AX
	MOVL $0, ST_STEP(R11)
	MOVQ AX, G_EFL(R11)
	MOVQ AX, G_R11(R11)
	MOVQ R11, R12
	MOVL $VIA_SYSCALL, ST_VIA(R12)

tpost:
	// Kicks that came before this point are covered by the event.
	MOVL $0, ST_KICK(R12)
	MOVQ R12, ST_CURGS(R12)
	// Without FSGSBASE the guest cannot change its FS base but through
	// the sentry, so CurFS stands. (The guest's flags are saved: these
	// instructions may change them.)
	TESTQ $FLAG_FSGSBASE, ST_FLAGS(R12)
	JZ post
	RDFSBASEQ AX
	MOVQ AX, ST_CURFS(R12)
	JMP post

kicked:
	// A kick arrived while the trampoline path was returning: report it
	// with the registers the guest was about to get, which are still in
	// the slot.
	MOVQ ST_SELF(GS), R12
	LEAQ SLOT_SIZE(R12), SP
	MOVL $VIA_KICK, ST_VIA(R12)
	JMP tpost

post:
	INCQ ST_EVENTS(R12)
	// Stamp the event so that the sentry can tell how long we waited.
	RDTSC
	SHLQ $32, DX
	ORQ AX, DX
	MOVQ DX, ST_EVTSC(R12)
	// Publish the event. XCHG is a full barrier, so the registers above
	// are visible before the state flips.
	MOVL $STATE_EVENT, AX
	XCHGL AX, ST_STATE(R12)
	CMPL AX, $STATE_SENTRY_WAIT
	JNE spin
	LEAQ ST_STATE(R12), DI
	MOVL $FUTEX_WAKE, SI
	MOVL $1, DX
	MOVL $SYS_futex, AX
	SYSCALL

spin:
	// Spin for ST_SPIN TSC ticks waiting for STATE_RUN.
	RDTSC
	SHLQ $32, DX
	ORQ AX, DX
	MOVQ DX, R14
	ADDQ ST_SPIN(R12), R14

spinloop:
	// Released means stateRun, or stateSentryWait if the sentry already
	// went to sleep waiting for the guest's next event.
	MOVL ST_STATE(R12), AX
	CMPL AX, $STATE_RUN
	JEQ resume
	CMPL AX, $STATE_SENTRY_WAIT
	JEQ resume
	PAUSE
	RDTSC
	SHLQ $32, DX
	ORQ AX, DX
	CMPQ DX, R14
	JCS spinloop

	// Announce that we sleep, unless the sentry released us meanwhile.
	MOVL $STATE_EVENT, AX
	MOVL $STATE_STUB_WAIT, CX
	LOCK
	CMPXCHGL CX, ST_STATE(R12)
	JNE check

sleep:
	LEAQ ST_STATE(R12), DI
	MOVL $FUTEX_WAIT, SI
	MOVL $STATE_STUB_WAIT, DX
	XORL R10, R10
	MOVL $SYS_futex, AX
	SYSCALL

check:
	MOVL ST_STATE(R12), AX
	CMPL AX, $STATE_RUN
	JEQ resume
	CMPL AX, $STATE_SENTRY_WAIT
	JEQ resume
	CMPL AX, $STATE_STUB_WAIT
	JEQ sleep
	JMP spin

resume:
	CMPL ST_CMD(R12), $CMD_EXIT
	JEQ exit
	CMPL ST_VIA(R12), $VIA_SIGNAL
	JEQ hresume

	// Back to the guest from the trampoline path. The sentry asks for a
	// signal frame (CMD_FRAME) when it needs the FP state or a new GS
	// base; otherwise only FS may have changed.
	CMPL ST_CMD(R12), $CMD_FRAME
	JEQ frame
	MOVQ ST_FSBASE(R12), AX
	CMPQ AX, ST_CURFS(R12)
	JEQ tregs
	// Without FSGSBASE the sentry moves the thread into a signal frame
	// before it changes the FS base (Switch); only a guest that broke
	// its own slot gets here, and it gets the frame's fault.
	TESTQ $FLAG_FSGSBASE, ST_FLAGS(R12)
	JZ frame
	MOVQ AX, ST_CURFS(R12)
	WRFSBASEQ AX

tregs:
	LEAQ (SLOT_SIZE-8)(R12), SP
	MOVQ G_EFL(R12), AX
	MOVQ AX, 0(SP)
	MOVQ G_R8(R12), R8
	MOVQ G_R9(R12), R9
	MOVQ G_R10(R12), R10
	MOVQ G_R11(R12), R11
	MOVQ G_R13(R12), R13
	MOVQ G_R14(R12), R14
	MOVQ G_R15(R12), R15
	MOVQ G_RDI(R12), DI
	MOVQ G_RSI(R12), SI
	MOVQ G_RBP(R12), BP
	MOVQ G_RBX(R12), BX
	MOVQ G_RDX(R12), DX
	MOVQ G_RAX(R12), AX
	MOVQ G_RCX(R12), CX
	MOVQ G_R12(R12), R12
	JMP tail

frame:
	// CMD_FRAME: fault on purpose, so that the kernel saves the thread's
	// FP state in a signal frame and the handler parks the thread in it.
	// The sentry then uses that frame exactly as for a SIGSYS. (Inside
	// the critical range, so that no stray signal gets in first.)
	JMP framefault
	MARKER(0x04)
framefault:
	BYTE $0x0f; BYTE $0x0b

exit:
	// Retired by the sentry. CLONE_CHILD_CLEARTID zeroes the state word
	// and wakes the sentry once the thread is gone. (It lies in the
	// critical range, so a signal cannot catch it in the handler.)
	XORL DI, DI
	MOVL $SYS_exit, AX
	SYSCALL
	BYTE $0x0f; BYTE $0x0b

	MARKER(0x05)
tail:
	// Every register but rsp, rip and eflags is the guest's now; the
	// handler finishes the return itself if a signal lands here.
	CMPL ST_KICK(GS), $0
	JNE kicked
	POPF
	MOVQ G_RSP(GS), SP
	JMP G_RIP(GS)

	MARKER(0x06)

hresume:
	// The sentry's registers for the guest go back into the frame.
	LEAQ ST_GREGS(R12), SI
	LEAQ UC_GREGS(R13), DI
	MOVL $NGREGS_OUT, CX
	REP; MOVSQ
	// Nothing stays blocked in the guest: a mask smuggled in by a forged
	// frame must not outlive this return.
	MOVQ $0, UC_SIGMASK(R13)

	MOVQ ST_FSBASE(R12), AX
	CMPQ AX, ST_CURFS(R12)
	JEQ gs
	MOVQ AX, ST_CURFS(R12)
	TESTQ $FLAG_FSGSBASE, ST_FLAGS(R12)
	JZ fsprctl
	WRFSBASEQ AX
	JMP gs

fsprctl:
	MOVQ AX, SI
	MOVL $ARCH_SET_FS, DI
	MOVL $SYS_arch_prctl, AX
	SYSCALL

gs:
	MOVQ ST_GSBASE(R12), AX
	CMPQ AX, ST_CURGS(R12)
	JEQ done
	MOVQ AX, ST_CURGS(R12)
	TESTQ $FLAG_FSGSBASE, ST_FLAGS(R12)
	JZ gsprctl
	WRGSBASEQ AX
	JMP done

gsprctl:
	MOVQ AX, SI
	MOVL $ARCH_SET_GS, DI
	MOVL $SYS_arch_prctl, AX
	SYSCALL

done:
	// Return to the restorer, which calls rt_sigreturn.
	RET

	MARKER(0xff)

// func rdtsc() uint64
TEXT ·rdtsc(SB), NOSPLIT, $0-8
	RDTSC
	SHLQ $32, DX
	ORQ DX, AX
	MOVQ AX, ret+0(FP)
	RET

// func spinPause()
TEXT ·spinPause(SB), NOSPLIT, $0-0
	PAUSE
	RET

// stubCodeAddr holds the ABI0 address of stubCode, so that Go can read
// its bytes.
DATA ·stubCodeAddr+0(SB)/8, $·stubCode(SB)
GLOBL ·stubCodeAddr(SB), RODATA, $8
