package seccomptrap

import (
	"encoding/binary"
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
// it, and its trampolines fall back to a trapping `syscall`.

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
const TrampolineSize = 76

// Trampoline offsets; see Trampoline.
const (
	trDisplaced = 8
	trCheck     = 13
	trSyscall   = 38
	trRetQuad   = 53
	trFast      = 61
)

// TrappedSyscall implements platform.SyscallPatcher.
func (c *context) TrappedSyscall() bool {
	return c.p.patching && c.h != nil && !c.tramp
}

// Trampoline implements platform.SyscallPatcher. The code, at addr:
//
//	+0   .quad addr+8            the patched site's `jmp *abs32` reads this
//	+8   <displaced instruction> 5 bytes, run as it would have run in place
//	+13  rdgsbase %rcx           rcx and r11 are free: `syscall` clobbers them
//	+18  mov $32, %r11d
//	+24  shrx %r11, %rcx, %rcx
//	+29  lea -(stubAddr>>32)(%rcx), %rcx
//	+36  jrcxz +61               GS is in the stub's 4 GiB: it is our slot
//	+38  syscall                 otherwise trap as the site would have,
//	+40  mov +53(%rip), %rcx     leave rcx as the site's syscall would,
//	+47  jmp *0(%rip)            and go back
//	+53  .quad ret
//	+61  mov +53(%rip), %rcx     rcx = ret, as `syscall` leaves it
//	+68  jmp *%gs:Entry          into the stub's trampoline path
//
// Every instruction leaves the flags alone, and none touches the guest's
// stack, which may hold live data below rsp (the red zone).
func (c *context) Trampoline(addr uint64, displaced []byte, ret uint64) []byte {
	if len(displaced) != trCheck-trDisplaced {
		return nil
	}
	le := binary.LittleEndian
	b := make([]byte, TrampolineSize)
	le.PutUint64(b[0:], addr+trDisplaced)
	copy(b[trDisplaced:], displaced)
	code := b[trCheck:trCheck]
	code = append(code, 0xf3, 0x48, 0x0f, 0xae, 0xc9) // rdgsbase %rcx
	code = append(code, 0x41, 0xbb, 32, 0, 0, 0)      // mov $32, %r11d
	code = append(code, 0xc4, 0xe2, 0xa3, 0xf7, 0xc9) // shrx %r11, %rcx, %rcx
	code = append(code, 0x48, 0x8d, 0x89)             // lea disp32(%rcx), %rcx
	stubHigh := -int32(stubAddr >> 32)
	code = le.AppendUint32(code, uint32(stubHigh))
	code = append(code, 0xe3, trFast-trSyscall) // jrcxz
	code = append(code, 0x0f, 0x05)             // syscall
	code = append(code, 0x48, 0x8b, 0x0d)       // mov rel32(%rip), %rcx
	slowRel := int32(trRetQuad - (trSyscall + 2 + 7))
	code = le.AppendUint32(code, uint32(slowRel))
	code = append(code, 0xff, 0x25, 0, 0, 0, 0) // jmp *0(%rip)
	code = le.AppendUint64(code, ret)
	code = append(code, 0x48, 0x8b, 0x0d) // mov rel32(%rip), %rcx
	retRel := int32(trRetQuad - (trFast + 7))
	code = le.AppendUint32(code, uint32(retRel))
	code = append(code, 0x65, 0xff, 0x24, 0x25) // jmp *%gs:disp32
	code = le.AppendUint32(code, stEntry)
	if trCheck+len(code) != TrampolineSize {
		panic("seccomptrap: trampoline layout")
	}
	return b
}
