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

// State word values.
#define STATE_RUN         1
#define STATE_EVENT       2
#define STATE_SENTRY_WAIT 3
#define STATE_STUB_WAIT   4

#define CMD_EXIT 1
#define FLAG_FSGSBASE 1

// struct ucontext (x86-64): uc_mcontext.gregs at 40, fpstate after the 23
// gregs, uc_sigmask after the 256-byte sigcontext.
#define UC_GREGS   40
#define UC_FPSTATE 224
#define UC_SIGMASK 296

// Number of gregs copied in (all 23) and out (r8 ... eflags: the kernel
// owns cs/ss, err, trapno, oldmask and cr2).
#define NGREGS_IN  23
#define NGREGS_OUT 18

#define SYS_rt_sigreturn 15
#define SYS_exit         60
#define SYS_arch_prctl   158
#define SYS_futex        202
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002

#define MARKER(id) BYTE $0x0f; BYTE $0x0b; BYTE $0x52; BYTE $0x53; BYTE $0x4c; BYTE $id

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

exit:
	// Retired by the sentry. CLONE_CHILD_CLEARTID zeroes the state word
	// and wakes the sentry once the thread is gone.
	XORL DI, DI
	MOVL $SYS_exit, AX
	SYSCALL
	BYTE $0x0f; BYTE $0x0b

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
