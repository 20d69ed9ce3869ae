package loader

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// Address layout parameters. ASLR is off (DESIGN.md, Pitfalls 13), so these
// are the addresses Linux uses with randomization disabled, moved below the
// stub.
const (
	// stackSize is the initial stack mapping, _STK_LIM (the default
	// RLIMIT_STACK) from include/uapi/linux/resource.h.
	stackSize = 8 << 20
	// stackGuard separates the stack top from the stub at MaxAddr, so that
	// nothing the loader writes can ever be adjacent to stub code.
	stackGuard = hostarch.PageSize
	// mmapGap is MIN_GAP from arch/x86/mm/mmap.c: mmap_base sits at least
	// 128 MiB below the stack top. The interpreter ends at mmap_base, as
	// it would when Linux maps it top-down without ASLR.
	mmapGap = 128 << 20
	// elfETDynBase is ELF_ET_DYN_BASE from arch/x86/include/asm/elf.h
	// (2/3 of the 47-bit window), where PIE main binaries load.
	elfETDynBase = 0x555555554000
)

// layout is the address plan for one exec.
type layout struct {
	min         hostarch.Addr // lowest usable address
	max         hostarch.Addr // MaxAddr: exclusive, the stub
	stackBottom hostarch.Addr // [stackBottom, stackTop) is the stack mapping
	stackTop    hostarch.Addr
	mmapTop     hostarch.Addr // the interpreter ends at or below this
	dynBase     hostarch.Addr // ET_DYN main binaries start here
}

// newLayout plans the address space for [lo, hi).
func newLayout(lo, hi hostarch.Addr) (layout, error) {
	lo, ok := lo.RoundUp()
	if !ok {
		return layout{}, errno.ENOMEM
	}
	hi = hi.RoundDown()
	// The stack must fit with room below it for at least a page of program.
	if hi < lo || hi-lo < stackGuard+stackSize+hostarch.PageSize {
		return layout{}, errno.ENOMEM
	}
	l := layout{min: lo, max: hi, stackTop: hi - stackGuard}
	l.stackBottom = l.stackTop - stackSize
	l.mmapTop = l.stackBottom
	if l.stackTop-lo > mmapGap {
		l.mmapTop = l.stackTop - mmapGap
	}
	l.dynBase = elfETDynBase
	if l.dynBase < lo || l.dynBase >= l.mmapTop {
		// A small address space: keep Linux's 2/3 rule for the window.
		l.dynBase = (lo + (l.mmapTop-lo)/3*2).RoundDown()
	}
	return l, nil
}

// fits returns [start, start+size) if it lies in [min, stackBottom).
func (l *layout) fits(start, size uint64) (hostarch.AddrRange, bool) {
	s := hostarch.Addr(start)
	if s < l.min {
		return hostarch.AddrRange{}, false
	}
	e, ok := s.AddLength(size)
	if !ok || e > l.stackBottom {
		return hostarch.AddrRange{}, false
	}
	return hostarch.AddrRange{Start: s, End: e}, true
}

// placeMain chooses the main binary's load bias, as
// fs/binfmt_elf.c:load_elf_binary does without ASLR: none for ET_EXEC, and
// ELF_ET_DYN_BASE (aligned to the largest p_align) for ET_DYN. Unlike
// Linux, a static-pie (ET_DYN without PT_INTERP) also goes to
// ELF_ET_DYN_BASE rather than the mmap area, which leaves its brk heap room
// to grow.
//
// Bias arithmetic wraps like the kernel's unsigned longs: a binary linked
// above dynBase gets a "negative" bias, and only start+bias matters.
func (l *layout) placeMain(e *elfFile) (bias uint64, r hostarch.AddrRange, err error) {
	size := e.end - e.start
	if e.typ == linux.ET_DYN {
		base := uint64(l.dynBase) &^ (e.align - 1)
		bias = base - e.start
	}
	r, ok := l.fits(e.start+bias, size)
	if !ok {
		return 0, r, errno.ENOMEM
	}
	return bias, r, nil
}

// placeInterp chooses the interpreter's load bias: an ET_DYN interpreter
// ends just below mmapTop (or, if that would overlap the main binary, just
// below the main binary), like a top-down mmap in
// fs/binfmt_elf.c:load_elf_interp.
func (l *layout) placeInterp(e *elfFile, main hostarch.AddrRange) (uint64, error) {
	size := e.end - e.start
	if e.typ != linux.ET_DYN {
		r, ok := l.fits(e.start, size)
		if !ok || r.Overlaps(main) {
			return 0, errno.ENOMEM
		}
		return 0, nil
	}
	for _, top := range []hostarch.Addr{l.mmapTop, main.Start} {
		if top < l.min || uint64(top-l.min) < size {
			continue
		}
		start := (uint64(top) - size) &^ (e.align - 1)
		if r, ok := l.fits(start, size); ok && !r.Overlaps(main) {
			return start - e.start, nil
		}
	}
	return 0, errno.ENOMEM
}

// placeVDSO chooses where the vvar page and the vDSO go: just below the
// interpreter (below mmapTop without one), where Linux's top-down search in
// arch_setup_additional_pages finds room after load_elf_binary has mapped
// it, and never over the main binary.
func (l *layout) placeVDSO(size uint64, main, interp hostarch.AddrRange) (hostarch.Addr, error) {
	tops := []hostarch.Addr{l.mmapTop}
	if interp.Length() > 0 {
		tops = []hostarch.Addr{interp.Start}
	}
	tops = append(tops, main.Start)
	for _, top := range tops {
		if top < l.min || uint64(top-l.min) < size {
			continue
		}
		r, ok := l.fits(uint64(top)-size, size)
		if ok && !r.Overlaps(main) && !r.Overlaps(interp) {
			return r.Start, nil
		}
	}
	return 0, errno.ENOMEM
}
