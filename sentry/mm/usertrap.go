package mm

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/platform"
)

// Syscall patching. On a platform that can enter the sentry without a host
// trap (platform.SyscallPatcher), a syscall site
//
//	<5-byte instruction>; syscall
//
// is rewritten, the first time it traps, into the 7-byte
//
//	jmp *abs32
//
// through a slot of a trampoline table that the sentry maps at a fixed low
// address. The trampoline runs the displaced instruction and enters the
// sentry. Two displaced instructions are recognised: `mov $imm32, %eax`
// (glibc's syscall wrappers; imm32 must be the syscall number) and
// `mov 0x8(%rsp), %r9` (glibc's syscall(2)).
//
// Other threads may be running the site while it changes, so every
// intermediate state must be harmless. The table lies in [0x60000,
// 0x70000), so the jmp's fourth address byte, which replaces the
// `syscall`'s first byte, is always 0x06: an invalid opcode in 64-bit mode.
// The site is written in four steps, each a separate write: 0x06 at +5 (a
// thread that has already run the old first instruction now faults with
// SIGILL instead of trapping), 0x06 at +0 (a thread arriving at the site
// faults before it decodes anything else), then bytes +1..+6, then the
// jmp's first byte at +0. A SIGILL at a patched site's +0 or +5 is
// restarted at the site (PatchedSiteFault). (Writing +0 last without the
// second step would be safe for `b8 imm32`, whose length does not change,
// but not for `4c 8b 4c 24 08`, whose first byte is only a prefix.)
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
	// patchLen is the length of the rewritten site.
	patchLen = 7
	// maxUnpatchable bounds the cache of sites found not to match.
	maxUnpatchable = 4096
)

// jmpAbs is the opcode of `jmp *disp32` (absolute, no base register).
var jmpAbs = [3]byte{0xff, 0x24, 0x25}

// invalidOpcode is `push %es`, invalid in 64-bit mode: the third byte of
// every trampoline address.
const invalidOpcode = 0x06

// movR9 is `mov 0x8(%rsp), %r9`, the instruction before glibc syscall(2)'s
// `syscall`.
var movR9 = [5]byte{0x4c, 0x8b, 0x4c, 0x24, 0x08}

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
	site := ret - patchLen
	if ret < patchLen+1 || (site >= usertrapStart && site < usertrapEnd) {
		return false
	}
	// The byte before the site, the displaced instruction and `syscall`.
	code, off, ok := mm.codeLocked(site-1, patchLen+1)
	if !ok || code[6] != 0x0f || code[7] != 0x05 {
		return false
	}
	// A prefix byte before the site would make it part of a longer
	// instruction (`41 b8 imm32` is mov to r8d): leave such sites alone.
	if isPrefix(code[0]) {
		return false
	}
	displaced := code[1:6]
	switch {
	case displaced[0] == 0xb8 && uint64(binary.LittleEndian.Uint32(displaced[1:])) == sysno:
	case [5]byte(displaced) == movR9:
	default:
		return false
	}
	entry, toff, ok := mm.newTrampolineLocked()
	if !ok {
		return false
	}
	tramp := p.Trampoline(uint64(entry), displaced, uint64(ret))
	if tramp == nil || len(tramp) > usertrapEntry {
		return false
	}
	fd := mm.mf.FD()
	if _, err := unix.Pwrite(fd, tramp, int64(toff)); err != nil {
		return false
	}
	var jmp [patchLen]byte
	copy(jmp[:], jmpAbs[:])
	binary.LittleEndian.PutUint32(jmp[3:], uint32(entry))
	// The four steps, each its own write so that they land in order.
	siteOff := int64(off + 1)
	bad := []byte{invalidOpcode}
	for _, step := range []struct {
		at int
		b  []byte
	}{{5, bad}, {0, bad}, {1, jmp[1:]}, {0, jmp[:1]}} {
		if _, err := unix.Pwrite(fd, step.b, siteOff+int64(step.at)); err != nil {
			return false
		}
	}
	return true
}

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

// tableLocked returns the trampoline table's vma, mapping it on first use.
// It fails if the guest has something else there.
func (mm *MemoryManager) tableLocked() *vma {
	if v := mm.vmaAtLocked(usertrapStart); v != nil {
		if v.name == usertrapName && v.start == usertrapStart && v.end == usertrapEnd && v.file == nil && v.shared == nil {
			return v
		}
		return nil
	}
	r := hostarch.AddrRange{Start: usertrapStart, End: usertrapEnd}
	if usertrapStart < mm.minAddr || !mm.isFreeLocked(r) {
		return nil
	}
	off, err := mm.mf.Allocate(uint64(usertrapEnd - usertrapStart))
	if err != nil {
		return nil
	}
	v := &vma{
		start: usertrapStart, end: usertrapEnd,
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
	v := mm.tableLocked()
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

// PatchedSiteFault looks at a SIGILL at ip. If ip is a patched site, or
// the fifth byte of one (the 0x06 that replaced `syscall`), it returns the
// site's address, and atSyscall for the latter. The thread met a site while
// it was being rewritten, or was sent back to the `syscall` to restart it;
// either way it must run the site again from its start.
func (mm *MemoryManager) PatchedSiteFault(ip hostarch.Addr) (site hostarch.Addr, atSyscall bool, ok bool) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if mm.isPatchedSiteLocked(ip) {
		return ip, false, true
	}
	if ip >= 5 && mm.isPatchedSiteLocked(ip-5) {
		return ip - 5, true, true
	}
	return 0, false, false
}

// isPatchedSiteLocked reports whether a rewritten site starts at site.
func (mm *MemoryManager) isPatchedSiteLocked(site hostarch.Addr) bool {
	code, _, ok := mm.codeLocked(site, patchLen)
	if !ok || [3]byte(code[:3]) != jmpAbs {
		return false
	}
	a := hostarch.Addr(binary.LittleEndian.Uint32(code[3:]))
	return a >= usertrapStart+usertrapEntry && a < usertrapEnd && a%usertrapEntry == 0 && mm.tableLocked() != nil
}
