package mm

import (
	"bytes"
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/platform"
)

// Syscall patching. On a platform that can enter the sentry without a host
// trap (platform.SyscallPatcher), a syscall site, some instructions of a
// known shape followed by `syscall`, is rewritten, the first time it traps,
// into the 7-byte
//
//	jmp *abs32
//
// through a pointer to a trampoline that the sentry writes into a table it
// maps at a fixed low address. The trampoline runs the site's instructions
// and enters the sentry. Two shapes are recognised (siteShapes):
//
//   - glibc's wrappers, `mov $imm32, %eax; syscall` with imm32 the trapped
//     number, and a load from the stack, `mov disp8(%rsp), %reg64;
//     syscall`, as in glibc's syscall(2) and Go's rawSyscallNoError: 7
//     bytes, instructions at +0 and +5 (the `syscall`). The pointer is the
//     first quad of the trampoline, in the table at [0x60000, 0x70000).
//   - Go's internal/runtime/syscall.Syscall6, through which the Go runtime
//     and package syscall make most of their calls: `mov %rsi, %r10; mov
//     %rdi, %rdx; mov %rcx, %rsi; mov %rbx, %rdi; syscall`. The last 8
//     bytes are the site (the two movs before it must be there too, so
//     that the site is known to be that function): instructions at +0, +3
//     and +6 (the `syscall`), and the 8th byte, the `syscall`'s second, is
//     left alone. Its pointers live in a page of their own at 0x60000000,
//     at offsets 6, 0x106, 0x206, ...: see below.
//
// Other threads may be running the site while it changes, and a thread may
// have stopped at any of its instruction starts, to resume there later, so
// every intermediate and the final state must be harmless at each of them.
// The pointer's address is chosen so that each byte of the jmp that lands
// on an instruction start after +0 is an invalid opcode in 64-bit mode:
// 0x06 (`push %es`) or 0x60 (`pusha`). For glibc's shape that is +5, the
// address's third byte, 0x06 for every address in the table. For Go's, +3
// and +6, the address's first and fourth bytes: 0x06 and 0x60. The site
// is written in steps, each a separate write: the invalid bytes at the
// later instruction starts, last first (a thread about to run one now
// faults with SIGILL), 0x06 at +0 (a thread arriving at the site faults
// before it decodes anything else), the rest of the jmp after +0, then
// the jmp's first byte. A SIGILL at a patched site's +0 or at one of its
// inner instruction starts is restarted at the site, which reruns
// instructions the thread had already run: harmless for these shapes,
// whose inputs are not changed until the `syscall`. A SIGILL at the
// site's `syscall` runs the syscall with the registers as they are
// (PatchedSiteFault). (Writing +0 last without the +0 step would be safe
// for `b8 imm32`, whose length does not change, but not for `4c 8b 4c 24
// 08`, whose first byte is only a prefix.)
//
// The guest can see the rewritten bytes if it reads its own code, and a
// jump straight to the `syscall` of a patched site with a different number
// in eax would run the site's number instead; gVisor's systrap makes the
// same trade.
const (
	usertrapStart = hostarch.Addr(0x60000)
	usertrapEnd   = hostarch.Addr(0x70000)
	// usertrapEntry is the size of one trampoline slot. Slot 0 holds the
	// number of the next free slot.
	usertrapEntry = 128
	usertrapName  = "[usertrap]"
	// goPtrStart is the page of Go-shape pointers: pointer j is at
	// goPtrStart + j*goPtrStride + goPtrOff. The page's first word counts
	// the pointers handed out.
	goPtrStart  = hostarch.Addr(0x60000000)
	goPtrStride = 0x100
	goPtrOff    = 6
	goPtrMax    = hostarch.PageSize / goPtrStride
	// jmpLen is the length of the rewritten part of a site.
	jmpLen = 7
	// maxUnpatchable bounds the cache of sites found not to match.
	maxUnpatchable = 4096
)

// jmpAbs is the opcode of `jmp *disp32` (absolute, no base register).
var jmpAbs = [3]byte{0xff, 0x24, 0x25}

// invalidOpcode is `push %es`, invalid in 64-bit mode: the third byte of
// every table address, and the first of every Go-shape pointer's.
const invalidOpcode = 0x06

// siteShape is a kind of syscall site that can be patched.
type siteShape struct {
	// lead is the code that must come right before the site, unchanged.
	lead []byte
	// size is the site's length up to the end of its `syscall`.
	size int
	// inner are the offsets of the instruction starts after +0, the
	// `syscall`'s last.
	inner []int
	// match reports whether the site's instructions before its `syscall`
	// are of this shape, for a trap with number sysno.
	match func(displaced []byte, sysno uint64) bool
	// goPtr: the site's pointer lives in the Go-shape pointer page, not
	// at the start of its trampoline.
	goPtr bool
}

// syscallOff is the offset of the site's `syscall`.
func (s *siteShape) syscallOff() int { return s.size - 2 }

// isStackLoad reports whether d is `mov disp8(%rsp), %reg64`: glibc's
// syscall(2) has `mov 0x8(%rsp), %r9` before its `syscall`, and Go's
// syscall.rawSyscallNoError `mov 0x8(%rsp), %rax`. Its inputs, rsp and the
// stack, are the same in the trampoline.
func isStackLoad(d []byte) bool {
	return len(d) == 5 && (d[0] == 0x48 || d[0] == 0x4c) && d[1] == 0x8b && d[2]&0xc7 == 0x44 && d[3] == 0x24
}

var (
	glibcShape = siteShape{
		size:  7,
		inner: []int{5},
		match: func(d []byte, sysno uint64) bool {
			return d[0] == 0xb8 && uint64(binary.LittleEndian.Uint32(d[1:])) == sysno || isStackLoad(d)
		},
	}
	// goShape is the end of Go's Syscall6; see above.
	goShape = siteShape{
		lead:  []byte{0x49, 0x89, 0xf2, 0x48, 0x89, 0xfa}, // mov %rsi, %r10; mov %rdi, %rdx
		size:  8,
		inner: []int{3, 6},
		match: func(d []byte, _ uint64) bool {
			return [6]byte(d) == [6]byte{0x48, 0x89, 0xce, 0x48, 0x89, 0xdf} // mov %rcx, %rsi; mov %rbx, %rdi
		},
		goPtr: true,
	}
	siteShapes = []*siteShape{&glibcShape, &goShape}
)

// PatchSyscall rewrites the syscall site whose `syscall` ends at ret, which
// just trapped with number sysno, if its shape allows. It reports whether
// the site was patched.
func (mm *MemoryManager) PatchSyscall(ret hostarch.Addr, sysno uint64, p platform.SyscallPatcher) bool {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if _, ok := mm.unpatchable[ret]; ok {
		return false
	}
	if !mm.patchLocked(ret, sysno, p) {
		if mm.unpatchable == nil || len(mm.unpatchable) >= maxUnpatchable {
			mm.unpatchable = make(map[hostarch.Addr]struct{})
		}
		mm.unpatchable[ret] = struct{}{}
		return false
	}
	return true
}

func (mm *MemoryManager) patchLocked(ret hostarch.Addr, sysno uint64, p platform.SyscallPatcher) bool {
	for _, sh := range siteShapes {
		site := ret - hostarch.Addr(sh.size)
		if ret < hostarch.Addr(sh.size+len(sh.lead)+1) || (site >= usertrapStart && site < usertrapEnd) ||
			(site >= goPtrStart && site < goPtrStart+hostarch.PageSize) {
			continue
		}
		// The byte before, the lead, the site's instructions and
		// `syscall`.
		n := 1 + len(sh.lead) + sh.size
		code, off, ok := mm.codeLocked(ret-hostarch.Addr(n), n)
		if !ok || code[n-2] != 0x0f || code[n-1] != 0x05 {
			continue
		}
		// A prefix byte before the site would make it part of a longer
		// instruction (`41 b8 imm32` is mov to r8d): leave such sites
		// alone.
		if isPrefix(code[0]) || !bytes.Equal(code[1:1+len(sh.lead)], sh.lead) {
			continue
		}
		displaced := code[1+len(sh.lead) : n-2]
		if !sh.match(displaced, sysno) {
			continue
		}
		return mm.rewriteLocked(sh, site, off+uint64(1+len(sh.lead)), displaced, ret, p)
	}
	return false
}

// rewriteLocked writes the trampoline of a site of shape sh at site (at
// memory-file offset siteOff) and then the site's jmp.
func (mm *MemoryManager) rewriteLocked(sh *siteShape, site hostarch.Addr, siteOff uint64, displaced []byte, ret hostarch.Addr, p platform.SyscallPatcher) bool {
	entry, toff, ok := mm.newTrampolineLocked()
	if !ok {
		return false
	}
	ptr := entry
	var ptrOff uint64
	if sh.goPtr {
		if ptr, ptrOff, ok = mm.newGoPointerLocked(); !ok {
			return false
		}
	}
	tramp := p.Trampoline(uint64(entry), displaced, uint64(ret))
	if tramp == nil || len(tramp) > usertrapEntry {
		return false
	}
	fd := mm.mf.FD()
	if _, err := unix.Pwrite(fd, tramp, int64(toff)); err != nil {
		return false
	}
	if sh.goPtr {
		// The trampoline's own first quad points past itself.
		if _, err := unix.Pwrite(fd, tramp[:8], int64(ptrOff)); err != nil {
			return false
		}
	}
	var jmp [jmpLen]byte
	copy(jmp[:], jmpAbs[:])
	binary.LittleEndian.PutUint32(jmp[3:], uint32(ptr))
	type step struct {
		at int
		b  []byte
	}
	var steps []step
	for i := len(sh.inner) - 1; i >= 0; i-- {
		if at := sh.inner[i]; at < jmpLen {
			if !isInvalidOpcode(jmp[at]) {
				panic("usertrap: a pointer whose bytes are valid opcodes")
			}
			steps = append(steps, step{at, jmp[at : at+1]})
		}
	}
	steps = append(steps, step{0, []byte{invalidOpcode}}, step{1, jmp[1:]}, step{0, jmp[:1]})
	for _, st := range steps {
		if _, err := unix.Pwrite(fd, st.b, int64(siteOff)+int64(st.at)); err != nil {
			return false
		}
	}
	return true
}

// isInvalidOpcode reports whether b, as the first byte of an instruction,
// raises #UD in 64-bit mode (the ones the pointers use).
func isInvalidOpcode(b byte) bool { return b == 0x06 || b == 0x60 }

// isPrefix reports whether b is a REX or legacy instruction prefix.
func isPrefix(b byte) bool {
	switch {
	case b >= 0x40 && b <= 0x4f:
		return true
	case b == 0x66, b == 0x67, b == 0xf0, b == 0xf2, b == 0xf3,
		b == 0x26, b == 0x2e, b == 0x36, b == 0x3e, b == 0x64, b == 0x65:
		return true
	}
	return false
}

// codeLocked returns a copy of the n bytes of guest code at addr and the
// memory-file offset of addr, if they lie in one page of a private,
// executable mapping whose pages the sandbox owns.
func (mm *MemoryManager) codeLocked(addr hostarch.Addr, n int) ([]byte, uint64, bool) {
	end := addr + hostarch.Addr(n)
	if end < addr || addr.RoundDown() != (end-1).RoundDown() {
		return nil, 0, false
	}
	v := mm.vmaAtLocked(addr)
	if v == nil || end > v.end || !v.private || v.mappable != nil || v.shared != nil || !v.perms.Execute {
		return nil, 0, false
	}
	page := int((addr.RoundDown() - v.start) >> hostarch.PageShift)
	if v.filled != nil && !v.filled[page] {
		if err := mm.fillLocked(v, addr.RoundDown(), true); err != nil {
			return nil, 0, false
		}
	}
	off := v.mfOff + uint64(addr-v.start)
	return append([]byte(nil), mm.mf.Slice(off, uint64(n))...), off, true
}

// regionLocked returns the vma of the patching region [start, end) (the
// trampoline table or the Go-shape pointer page), mapping it on first use.
// It fails if the guest has something else there.
func (mm *MemoryManager) regionLocked(start, end hostarch.Addr) *vma {
	if v := mm.vmaAtLocked(start); v != nil {
		if v.name == usertrapName && v.start == start && v.end == end && v.file == nil && v.shared == nil {
			return v
		}
		return nil
	}
	r := hostarch.AddrRange{Start: start, End: end}
	if start < mm.minAddr || !mm.isFreeLocked(r) {
		return nil
	}
	off, err := mm.mf.Allocate(uint64(end - start))
	if err != nil {
		return nil
	}
	v := &vma{
		start: start, end: end,
		perms:    hostarch.AccessType{Read: true, Execute: true},
		maxPerms: hostarch.AccessType{Read: true, Write: true, Execute: true},
		private:  true,
		name:     usertrapName,
		mfOff:    off,
	}
	mm.insertLocked(v)
	if err := mm.mapHostLocked(v, v.start, v.end); err != nil {
		mm.unmapLocked(r)
		return nil
	}
	return v
}

// newTrampolineLocked allocates a trampoline slot and returns its address
// and memory-file offset. The count lives in the table itself, so that a
// forked child, which copies the table, goes on from where its parent was.
func (mm *MemoryManager) newTrampolineLocked() (hostarch.Addr, uint64, bool) {
	v := mm.regionLocked(usertrapStart, usertrapEnd)
	if v == nil {
		return 0, 0, false
	}
	hdr := mm.mf.Slice(v.mfOff, 8)
	next := binary.LittleEndian.Uint64(hdr)
	if next == 0 {
		next = 1
	}
	if next >= uint64(usertrapEnd-usertrapStart)/usertrapEntry {
		return 0, 0, false
	}
	binary.LittleEndian.PutUint64(hdr, next+1)
	off := next * usertrapEntry
	return usertrapStart + hostarch.Addr(off), v.mfOff + off, true
}

// newGoPointerLocked allocates a Go-shape pointer and returns its address
// and memory-file offset; the count is in the page, as for the table.
func (mm *MemoryManager) newGoPointerLocked() (hostarch.Addr, uint64, bool) {
	v := mm.regionLocked(goPtrStart, goPtrStart+hostarch.PageSize)
	if v == nil {
		return 0, 0, false
	}
	hdr := mm.mf.Slice(v.mfOff, 4)
	next := binary.LittleEndian.Uint32(hdr)
	if next >= goPtrMax {
		return 0, 0, false
	}
	binary.LittleEndian.PutUint32(hdr, next+1)
	off := uint64(next)*goPtrStride + goPtrOff
	return goPtrStart + hostarch.Addr(off), v.mfOff + off, true
}

// PatchedSiteFault looks at a SIGILL at ip. If ip is a patched site, or an
// instruction start inside one, it returns the site's address. The thread
// met a site while it was being rewritten, or stopped inside one before it
// was and resumed after, or was sent back to the `syscall` to restart it.
// At the `syscall` (atSyscall) the thread has run the site's instructions
// and must make the syscall with its registers as they are (restarts set
// rax back to the number); anywhere else it must run the site again from
// its start.
func (mm *MemoryManager) PatchedSiteFault(ip hostarch.Addr) (site hostarch.Addr, atSyscall bool, ok bool) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if mm.siteShapeLocked(ip) != nil {
		return ip, false, true
	}
	for _, sh := range siteShapes {
		for _, at := range sh.inner {
			a := hostarch.Addr(at)
			if ip >= a && mm.siteShapeLocked(ip-a) == sh {
				return ip - a, at == sh.syscallOff(), true
			}
		}
	}
	return 0, false, false
}

// siteShapeLocked returns the shape of the rewritten site at site, or nil
// if there is none.
func (mm *MemoryManager) siteShapeLocked(site hostarch.Addr) *siteShape {
	code, _, ok := mm.codeLocked(site, jmpLen)
	if !ok || [3]byte(code[:3]) != jmpAbs {
		return nil
	}
	a := hostarch.Addr(binary.LittleEndian.Uint32(code[3:]))
	switch {
	case a >= usertrapStart+usertrapEntry && a < usertrapEnd && a%usertrapEntry == 0 &&
		mm.regionLocked(usertrapStart, usertrapEnd) != nil:
		return &glibcShape
	case a >= goPtrStart && a < goPtrStart+hostarch.PageSize && a%goPtrStride == goPtrOff &&
		mm.regionLocked(goPtrStart, goPtrStart+hostarch.PageSize) != nil:
		return &goShape
	}
	return nil
}
