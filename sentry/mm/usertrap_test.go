package mm

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/runsc-lite/runsc-lite/hostarch"
)

// fakePatcher makes recognisable trampolines.
type fakePatcher struct{ calls int }

func (p *fakePatcher) TrappedSyscall() bool { return true }
func (p *fakePatcher) Trampoline(addr uint64, displaced []byte, ret uint64) []byte {
	p.calls++
	b := binary.LittleEndian.AppendUint64(nil, addr)
	b = append(b, displaced...)
	return binary.LittleEndian.AppendUint64(b, ret)
}

// codeMM maps one r-x page at 0x400000 holding code.
func codeMM(t *testing.T, code []byte) *MemoryManager {
	t.Helper()
	mm, _ := newMM(t)
	a, err := mm.MMap(anon(0x400000, hostarch.PageSize, true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mm.CopyOut(a, code); err != nil {
		t.Fatal(err)
	}
	if err := mm.MProtect(a, hostarch.PageSize, hostarch.AccessType{Read: true, Execute: true}); err != nil {
		t.Fatal(err)
	}
	return mm
}

func readCode(t *testing.T, mm *MemoryManager, a hostarch.Addr, n int) []byte {
	t.Helper()
	mm.mu.Lock()
	defer mm.mu.Unlock()
	b := make([]byte, n)
	if _, err := mm.forEachLocked(a, n, hostarch.Read, func(s []byte) { b = append(b[:0:0], s...) }); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPatchSyscall(t *testing.T) {
	movEAX := []byte{0x90, 0xb8, 39, 0, 0, 0, 0x0f, 0x05}           // nop; mov $39, %eax; syscall
	movR9 := []byte{0x90, 0x4c, 0x8b, 0x4c, 0x24, 0x08, 0x0f, 0x05} // nop; mov 8(%rsp), %r9; syscall
	// Go's Syscall6: mov %rsi,%r10; mov %rdi,%rdx; mov %rcx,%rsi; mov %rbx,%rdi; syscall
	goSys := []byte{0x90, 0x49, 0x89, 0xf2, 0x48, 0x89, 0xfa, 0x48, 0x89, 0xce, 0x48, 0x89, 0xdf, 0x0f, 0x05}
	goTail := append([]byte{0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90}, goSys[7:]...)
	for _, tc := range []struct {
		name  string
		code  []byte
		sysno uint64
		want  *siteShape
	}{
		{"mov-eax", movEAX, 39, &glibcShape},
		{"mov-r9", movR9, 110, &glibcShape},
		{"mov-rax-stack", []byte{0x90, 0x48, 0x8b, 0x44, 0x24, 0x08, 0x0f, 0x05}, 110, &glibcShape},
		{"mov-rax-rbp", []byte{0x90, 0x48, 0x8b, 0x45, 0x08, 0x90, 0x0f, 0x05}, 110, nil},
		{"go", goSys, 72, &goShape},
		{"wrong-number", movEAX, 40, nil},
		{"rex-prefix", []byte{0x41, 0xb8, 39, 0, 0, 0, 0x0f, 0x05}, 39, nil},
		{"not-syscall", []byte{0x90, 0xb8, 39, 0, 0, 0, 0x0f, 0x0b}, 39, nil},
		{"other-instruction", []byte{0x90, 0x48, 0x89, 0xc7, 0x90, 0x90, 0x0f, 0x05}, 39, nil},
		{"go-without-lead", goTail, 72, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mm := codeMM(t, tc.code)
			ret := hostarch.Addr(0x400000 + len(tc.code))
			p := &fakePatcher{}
			if got := mm.PatchSyscall(ret, tc.sysno, p); got != (tc.want != nil) {
				t.Fatalf("PatchSyscall = %v, want %v", got, tc.want != nil)
			}
			code := readCode(t, mm, 0x400000, len(tc.code))
			if tc.want == nil {
				if !bytes.Equal(code, tc.code) {
					t.Errorf("unpatchable site changed: % x", code)
				}
				for _, at := range []hostarch.Addr{2, 3, 5, 6, 7} {
					if _, _, ok := mm.PatchedSiteFault(ret - at); ok {
						t.Errorf("PatchedSiteFault found an unpatched site at ret-%d", at)
					}
				}
				return
			}
			sh := tc.want
			site := ret - hostarch.Addr(sh.size)
			s := int(site - 0x400000)
			if !bytes.Equal(code[:s], tc.code[:s]) || !bytes.Equal(code[s:s+3], jmpAbs[:]) ||
				!bytes.Equal(code[s+jmpLen:], tc.code[s+jmpLen:]) {
				t.Fatalf("patched site: % x", code)
			}
			ptr := hostarch.Addr(binary.LittleEndian.Uint32(code[s+3:]))
			for _, at := range sh.inner {
				if at < jmpLen && !isInvalidOpcode(code[s+at]) {
					t.Errorf("byte %#x at inner instruction start +%d is valid", code[s+at], at)
				}
			}
			entry := ptr
			if sh.goPtr {
				if ptr < goPtrStart || ptr >= goPtrStart+hostarch.PageSize || ptr%goPtrStride != goPtrOff {
					t.Fatalf("pointer at %#x", ptr)
				}
				entry = hostarch.Addr(binary.LittleEndian.Uint64(readCode(t, mm, ptr, 8)))
			}
			if entry < usertrapStart+usertrapEntry || entry >= usertrapEnd || entry%usertrapEntry != 0 {
				t.Fatalf("trampoline at %#x", entry)
			}
			n := sh.size - 2
			tramp := readCode(t, mm, entry, 16+n)
			if binary.LittleEndian.Uint64(tramp) != uint64(entry) || !bytes.Equal(tramp[8:8+n], tc.code[s:s+n]) ||
				binary.LittleEndian.Uint64(tramp[8+n:]) != uint64(ret) {
				t.Errorf("trampoline: % x", tramp)
			}
			for at := 0; at < sh.size; at++ {
				got, atSys, ok := mm.PatchedSiteFault(site + hostarch.Addr(at))
				want := at == 0 || slices.Contains(sh.inner, at)
				if ok != want || ok && (got != site || atSys != (at == sh.syscallOff())) {
					t.Errorf("PatchedSiteFault(site+%d) = %#x, %v, %v", at, got, atSys, ok)
				}
			}
			// Trapping again at the same site (another thread that was
			// already past it) must not patch twice.
			if mm.PatchSyscall(ret, tc.sysno, p) || p.calls != 1 {
				t.Errorf("second PatchSyscall patched again (%d trampolines)", p.calls)
			}
		})
	}
}

func TestPatchSyscallTableTakenAndFork(t *testing.T) {
	code := append(append([]byte{}, 0x90, 0xb8, 39, 0, 0, 0, 0x0f, 0x05), 0x90, 0xb8, 110, 0, 0, 0, 0x0f, 0x05)
	mm := codeMM(t, code)
	if _, err := mm.MMap(anon(usertrapStart+hostarch.PageSize, hostarch.PageSize, true)); err != nil {
		t.Fatal(err)
	}
	if mm.PatchSyscall(0x400008, 39, &fakePatcher{}) {
		t.Fatal("patched with the guest's mapping in the table's place")
	}

	mm = codeMM(t, code)
	if !mm.PatchSyscall(0x400008, 39, &fakePatcher{}) {
		t.Fatal("first site not patched")
	}
	child, err := mm.Fork(&fakeAS{pages: map[hostarch.Addr]fakePage{}})
	if err != nil {
		t.Fatal(err)
	}
	if !child.PatchSyscall(0x400010, 110, &fakePatcher{}) {
		t.Fatal("child's site not patched")
	}
	first := binary.LittleEndian.Uint32(readCode(t, child, 0x400004, 4))
	second := binary.LittleEndian.Uint32(readCode(t, child, 0x40000c, 4))
	if first == second {
		t.Errorf("the child reused its parent's trampoline %#x", first)
	}
	if parent := readCode(t, mm, 0x400008, 8); !bytes.Equal(parent, code[8:]) {
		t.Errorf("the child's patch reached the parent: % x", parent)
	}
}
