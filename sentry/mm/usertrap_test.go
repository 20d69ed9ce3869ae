package mm

import (
	"bytes"
	"encoding/binary"
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
	for _, tc := range []struct {
		name  string
		code  []byte
		sysno uint64
		want  bool
	}{
		{"mov-eax", movEAX, 39, true},
		{"mov-r9", movR9, 110, true},
		{"wrong-number", movEAX, 40, false},
		{"rex-prefix", []byte{0x41, 0xb8, 39, 0, 0, 0, 0x0f, 0x05}, 39, false},
		{"not-syscall", []byte{0x90, 0xb8, 39, 0, 0, 0, 0x0f, 0x0b}, 39, false},
		{"other-instruction", []byte{0x90, 0x48, 0x89, 0xc7, 0x90, 0x90, 0x0f, 0x05}, 39, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mm := codeMM(t, tc.code)
			ret := hostarch.Addr(0x400000 + len(tc.code))
			p := &fakePatcher{}
			if got := mm.PatchSyscall(ret, tc.sysno, p); got != tc.want {
				t.Fatalf("PatchSyscall = %v, want %v", got, tc.want)
			}
			site := ret - patchLen
			code := readCode(t, mm, 0x400000, len(tc.code))
			if !tc.want {
				if !bytes.Equal(code, tc.code) {
					t.Errorf("unpatchable site changed: % x", code)
				}
				if _, _, ok := mm.PatchedSiteFault(site + 5); ok {
					t.Errorf("PatchedSiteFault found an unpatched site")
				}
				return
			}
			if !bytes.Equal(code[1:4], jmpAbs[:]) || code[6] != 0x06 || code[7] != 0 {
				t.Fatalf("patched site: % x", code)
			}
			entry := hostarch.Addr(binary.LittleEndian.Uint32(code[4:]))
			if entry < usertrapStart+usertrapEntry || entry >= usertrapEnd || entry%usertrapEntry != 0 {
				t.Fatalf("trampoline at %#x", entry)
			}
			tramp := readCode(t, mm, entry, 21)
			if binary.LittleEndian.Uint64(tramp) != uint64(entry) || !bytes.Equal(tramp[8:13], tc.code[1:6]) ||
				binary.LittleEndian.Uint64(tramp[13:]) != uint64(ret) {
				t.Errorf("trampoline: % x", tramp)
			}
			if got, at, ok := mm.PatchedSiteFault(site + 5); !ok || got != site || !at {
				t.Errorf("PatchedSiteFault(site+5) = %#x, %v, %v", got, at, ok)
			}
			if got, at, ok := mm.PatchedSiteFault(site); !ok || got != site || at {
				t.Errorf("PatchedSiteFault(site) = %#x, %v, %v", got, at, ok)
			}
			if _, _, ok := mm.PatchedSiteFault(site + 4); ok {
				t.Errorf("PatchedSiteFault(site+4) matched")
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
