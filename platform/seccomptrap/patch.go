package seccomptrap

import (
	"encoding/binary"
	"sync/atomic"
)

// Syscall patching (README.md, "Syscall patching"). A trap costs a seccomp
// filter run, a signal frame and an rt_sigreturn: most of a round trip. The
// sentry rewrites hot syscall sites in guest code into a jump to a
// per-site trampoline it writes into guest memory (sentry/mm/usertrap.go);
// the trampoline enters the stub's trampoline path with a plain jump, and
// the thread hands its registers to the sentry without entering the host
// kernel at all when both sides spin.
//
// The trampoline path finds the thread's slot through the GS base: while
// the guest has no GS base of its own (almost always on x86-64 Linux, where
// TLS uses FS), the stub thread runs with GS pointing at its slot and the
// guest sees a GS base of 0. A thread whose guest did set a GS base keeps
// it, and its trampolines must fall back to a trapping `syscall`. How a
// trampoline tells the two apart depends on the CPU:
//
//   - With FSGSBASE, the guest can set its GS base without the sentry
//     knowing (WRGSBASE), so each trampoline reads the base (RDGSBASE) and
//     takes the fast path only if it lies in the stub's slots.
//   - Without FSGSBASE, RDGSBASE faults, but the guest can only set a GS
//     base through arch_prctl, which the sentry handles: the sentry knows
//     every thread's base. It keeps a word per address space in the stub's
//     control memory (ctlSlowOff), which turns to 1, for good, before any
//     of its threads runs with a GS base of the guest's; the trampolines
//     take the fast path while it is 0. Guest code can write that word,
//     and so can send itself down the fast path with a GS base of its
//     own: the stub then reads its registers from and into guest memory,
//     which the guest could do anyway.

// ctlSlowOff is the offset, in the control memory's setup slot, of the
// word that sends an address space's trampolines down the trapping path
// (see above). The setup data before and after it are only used while the
// stub is made.
const ctlSlowOff = 0x180

// slowTrampolines makes every trampoline of as trap from now on.
func (as *addressSpace) slowTrampolines() {
	w := ctlWord(as.ctl, ctlSlowOff)
	if atomic.LoadUint64(w) == 0 {
		atomic.StoreUint64(w, 1)
	}
}

// hostGS is the GS base a stub thread in slot i runs with when the guest's
// is g.
func (p *Platform) hostGS(g uint64, i int) uint64 {
	if g == 0 && p.patching {
		return slotStubAddr(i)
	}
	return g
}

// guestGS is the guest's view of a stub thread's GS base h.
func guestGS(h uint64, i int) uint64 {
	if h == slotStubAddr(i) {
		return 0
	}
	return h
}

// TrampolineSize is the room one trampoline needs.
const TrampolineSize = 79

// trDisplaced is where a trampoline's displaced instructions start; see
// Trampoline.
const trDisplaced = 8

// maxDisplaced bounds the displaced instructions, so that any trampoline
// fits in TrampolineSize.
const maxDisplaced = 8

// TrappedSyscall implements platform.SyscallPatcher.
func (c *context) TrappedSyscall() bool {
	return c.p.patching && c.h != nil && !c.tramp
}

// Trampoline implements platform.SyscallPatcher. Both kinds start alike:
//
//	+0   .quad addr+8            the patched site's `jmp *abs32` reads this
//	+8   <displaced instructions> run as they would have run in place
//	     the check, which jumps to fast or falls through to slow
//
//	slow: syscall                trap as the site would have,
//	      mov retq(%rip), %rcx   leave rcx as the site's syscall would,
//	      jmp *0(%rip)           and go back
//	retq: .quad ret
//	fast: mov retq(%rip), %rcx   rcx = ret, as `syscall` leaves it
//	      jmp *%gs:Entry         into the stub's trampoline path
//
// rcx and r11 are free (`syscall` clobbers them). Every instruction leaves
// the flags alone, and none touches the guest's stack, which may hold live
// data below rsp (the red zone).
func (c *context) Trampoline(addr uint64, displaced []byte, ret uint64) []byte {
	if len(displaced) == 0 || len(displaced) > maxDisplaced {
		return nil
	}
	le := binary.LittleEndian
	b := make([]byte, trDisplaced, TrampolineSize)
	le.PutUint64(b[0:], addr+trDisplaced)
	b = append(b, displaced...)
	if c.p.fsgsbase {
		b = gsCheck(b)
	} else {
		b = flagCheck(b)
	}
	// The check ends with a jrcxz to fast, whose rel8 is filled in below.
	jrcxz := len(b) - 1
	b = append(b, 0x0f, 0x05)       // syscall
	b = append(b, 0x48, 0x8b, 0x0d) // mov rel32(%rip), %rcx
	retq := len(b) + 4 + 6
	b = le.AppendUint32(b, uint32(int32(retq-(len(b)+4))))
	b = append(b, 0xff, 0x25, 0, 0, 0, 0) // jmp *0(%rip)
	b = le.AppendUint64(b, ret)
	fast := len(b)
	b[jrcxz] = byte(fast - (jrcxz + 1))
	b = append(b, 0x48, 0x8b, 0x0d) // mov rel32(%rip), %rcx
	b = le.AppendUint32(b, uint32(int32(retq-(len(b)+4))))
	b = append(b, 0x65, 0xff, 0x24, 0x25) // jmp *%gs:disp32
	b = le.AppendUint32(b, stEntry)
	if len(b) > TrampolineSize {
		panic("seccomptrap: trampoline layout")
	}
	return b[:TrampolineSize]
}

// gsCheck appends the FSGSBASE check: is the GS base in the stub's 4 GiB?
//
//	rdgsbase %rcx
//	mov $32, %r11d
//	shrx %r11, %rcx, %rcx
//	lea -(stubAddr>>32)(%rcx), %rcx
//	jrcxz fast
func gsCheck(b []byte) []byte {
	b = append(b, 0xf3, 0x48, 0x0f, 0xae, 0xc9) // rdgsbase %rcx
	b = append(b, 0x41, 0xbb, 32, 0, 0, 0)      // mov $32, %r11d
	b = append(b, 0xc4, 0xe2, 0xa3, 0xf7, 0xc9) // shrx %r11, %rcx, %rcx
	b = append(b, 0x48, 0x8d, 0x89)             // lea disp32(%rcx), %rcx
	high := -int32(stubAddr >> 32)
	b = binary.LittleEndian.AppendUint32(b, uint32(high))
	return append(b, 0xe3, 0) // jrcxz fast
}

// flagCheck appends the check without FSGSBASE: is the address space's
// slow word 0?
//
//	movabs $ctlAddr+ctlSlowOff, %rcx
//	mov (%rcx), %rcx
//	jrcxz fast
func flagCheck(b []byte) []byte {
	b = append(b, 0x48, 0xb9) // movabs $imm64, %rcx
	b = binary.LittleEndian.AppendUint64(b, ctlAddr+ctlSlowOff)
	b = append(b, 0x48, 0x8b, 0x09) // mov (%rcx), %rcx
	return append(b, 0xe3, 0)       // jrcxz fast
}
