package mm

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/sentry/memmap"
)

// fakeAS records the host view: which pages are mapped with which access
// and which memory file offset.
type fakeAS struct {
	pages    map[hostarch.Addr]fakePage
	released bool
}

type fakePage struct {
	off uint64
	at  hostarch.AccessType
}

func (f *fakeAS) MapFile(addr hostarch.Addr, off, n uint64, at hostarch.AccessType) error {
	for i := uint64(0); i < n; i += hostarch.PageSize {
		f.pages[addr+hostarch.Addr(i)] = fakePage{off + i, at}
	}
	return nil
}

func (f *fakeAS) Unmap(addr hostarch.Addr, n uint64) error {
	for i := uint64(0); i < n; i += hostarch.PageSize {
		delete(f.pages, addr+hostarch.Addr(i))
	}
	return nil
}

func (f *fakeAS) Release() { f.released = true }

type fakePlatform struct{}

func (fakePlatform) Name() string                                    { return "fake" }
func (fakePlatform) NewAddressSpace() (platform.AddressSpace, error) { return nil, nil }
func (fakePlatform) NewContext() platform.Context                    { return nil }
func (fakePlatform) MinUserAddress() hostarch.Addr                   { return 0x10000 }
func (fakePlatform) MaxUserAddress() hostarch.Addr                   { return 0x7ff000000000 }

// fakeFile is a file whose byte i is byte(i*7), with a reference count.
type fakeFile struct {
	size int64
	refs int
}

func (f *fakeFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for ; n < len(p) && off+int64(n) < f.size; n++ {
		p[n] = byte((off + int64(n)) * 7)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
func (f *fakeFile) MappingIdentity() (uint64, uint64, string) { return 0x801, 42, "/lib/fake.so" }
func (f *fakeFile) IncRef()                                   { f.refs++ }
func (f *fakeFile) DecRef()                                   { f.refs-- }

func newMM(t *testing.T) (*MemoryManager, *fakeAS) {
	t.Helper()
	mf, err := memfile.New(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mf.Release)
	as := &fakeAS{pages: map[hostarch.Addr]fakePage{}}
	return New(mf, as, fakePlatform{}), as
}

func anon(addr hostarch.Addr, n uint64, fixed bool) MMapOpts {
	return MMapOpts{Addr: addr, Length: n, Fixed: fixed, Perms: hostarch.ReadWrite, MaxPerms: hostarch.AnyAccess, Private: true}
}

func TestMMapAnonymousAndCopy(t *testing.T) {
	mm, as := newMM(t)
	a, err := mm.MMap(anon(0, 3*hostarch.PageSize, false))
	if err != nil {
		t.Fatal(err)
	}
	if len(as.pages) != 3 || as.pages[a].at != hostarch.ReadWrite {
		t.Fatalf("host view after mmap: %v", as.pages)
	}
	msg := []byte("hello, guest")
	if n, err := mm.CopyOut(a+hostarch.PageSize-4, msg); err != nil || n != len(msg) {
		t.Fatalf("CopyOut across pages: %d %v", n, err)
	}
	got := make([]byte, len(msg))
	if _, err := mm.CopyIn(a+hostarch.PageSize-4, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("CopyIn: %q %v", got, err)
	}
	// Reading past the end stops at the boundary with EFAULT.
	buf := make([]byte, 16)
	n, err := mm.CopyIn(a+3*hostarch.PageSize-8, buf)
	if n != 8 || err != errno.EFAULT {
		t.Fatalf("CopyIn past end: %d %v, want 8 EFAULT", n, err)
	}
	if _, err := mm.CopyIn(0x1000, buf); err != errno.EFAULT {
		t.Fatalf("CopyIn of unmapped: %v", err)
	}
}

func TestMMapFixedNoReplaceAndUnmapSplit(t *testing.T) {
	mm, as := newMM(t)
	const base = 0x400000
	if _, err := mm.MMap(anon(base, 4*hostarch.PageSize, true)); err != nil {
		t.Fatal(err)
	}
	o := anon(base+hostarch.PageSize, hostarch.PageSize, false)
	o.NoReplace = true
	if _, err := mm.MMap(o); err != errno.EEXIST {
		t.Fatalf("MAP_FIXED_NOREPLACE over a mapping: %v, want EEXIST", err)
	}
	if err := mm.MUnmap(base+hostarch.PageSize, hostarch.PageSize); err != nil {
		t.Fatal(err)
	}
	if len(mm.vmas) != 2 || len(as.pages) != 3 {
		t.Fatalf("after punching a hole: %d vmas, %d host pages", len(mm.vmas), len(as.pages))
	}
	if err := mm.HandleFault(base+hostarch.PageSize, hostarch.Read); !isFault(err, SEGV_MAPERR) {
		t.Fatalf("fault in the hole: %v, want SEGV_MAPERR", err)
	}
	if err := mm.MUnmap(base+1, hostarch.PageSize); err != errno.EINVAL {
		t.Fatalf("unaligned munmap: %v", err)
	}
	// MAP_FIXED replaces what was there.
	if _, err := mm.MMap(anon(base, 4*hostarch.PageSize, true)); err != nil || len(mm.vmas) != 1 {
		t.Fatalf("MAP_FIXED over mappings: %v, %d vmas", err, len(mm.vmas))
	}
}

func isFault(err error, code int32) bool {
	var fe *FaultError
	return errors.As(err, &fe) && fe.Code == code
}

func TestMProtect(t *testing.T) {
	mm, as := newMM(t)
	a, _ := mm.MMap(anon(0, 3*hostarch.PageSize, false))
	if err := mm.MProtect(a+hostarch.PageSize, hostarch.PageSize, hostarch.Read); err != nil {
		t.Fatal(err)
	}
	if as.pages[a+hostarch.PageSize].at != hostarch.Read || as.pages[a].at != hostarch.ReadWrite {
		t.Fatalf("host permissions after mprotect: %v", as.pages)
	}
	if _, err := mm.CopyOut(a+hostarch.PageSize, []byte{1}); err != errno.EFAULT {
		t.Fatalf("write to read-only page: %v, want EFAULT", err)
	}
	if err := mm.HandleFault(a+hostarch.PageSize, hostarch.Write); !isFault(err, SEGV_ACCERR) {
		t.Fatalf("fault on read-only page: %v, want SEGV_ACCERR", err)
	}
	if err := mm.MProtect(a, 8*hostarch.PageSize, hostarch.Read); err != errno.ENOMEM {
		t.Fatalf("mprotect over unmapped pages: %v, want ENOMEM", err)
	}
	if err := mm.MProtect(a+1, hostarch.PageSize, hostarch.Read); err != errno.EINVAL {
		t.Fatalf("unaligned mprotect: %v, want EINVAL", err)
	}
}

func TestPrivateFileMappingIsLazy(t *testing.T) {
	mm, as := newMM(t)
	f := &fakeFile{size: 20000}
	a, err := mm.MMap(MMapOpts{Length: 40 * hostarch.PageSize, Perms: hostarch.Read, MaxPerms: hostarch.AnyAccess, Private: true, File: f, Offset: hostarch.PageSize})
	if err != nil {
		t.Fatal(err)
	}
	if f.refs != 1 || len(as.pages) != 0 {
		t.Fatalf("after mmap: refs %d, host pages %d (want 1, 0)", f.refs, len(as.pages))
	}
	if err := mm.HandleFault(a+2*hostarch.PageSize+5, hostarch.Read); err != nil {
		t.Fatal(err)
	}
	if len(as.pages) != fileChunkPages {
		t.Fatalf("one fault mapped %d pages, want %d", len(as.pages), fileChunkPages)
	}
	b := make([]byte, 3)
	if _, err := mm.CopyIn(a+10, b); err != nil || b[0] != byte(uint64(hostarch.PageSize+10)*7%256) {
		t.Fatalf("file contents: %v %v", b, err)
	}
	// Beyond EOF the pages read as zeros.
	if _, err := mm.CopyIn(a+8*hostarch.PageSize, b); err != nil || b[0] != 0 {
		t.Fatalf("beyond EOF: %v %v", b, err)
	}
	if !strings.Contains(mm.Maps(), "00001000 08:01 42") || !strings.Contains(mm.Maps(), "/lib/fake.so") {
		t.Fatalf("maps: %s", mm.Maps())
	}
	mm.MUnmap(a, 40*hostarch.PageSize)
	if f.refs != 0 {
		t.Fatalf("refs after munmap: %d", f.refs)
	}
}

func TestBrk(t *testing.T) {
	mm, _ := newMM(t)
	mm.SetBrkStart(0x600000)
	if got := mm.Brk(0x600000 + 10000); got != 0x600000+10000 {
		t.Fatalf("grow brk: %#x", got)
	}
	if _, err := mm.CopyOut(0x600000+9000, []byte{1}); err != nil {
		t.Fatalf("write to heap: %v", err)
	}
	if got := mm.Brk(0x500000); got != 0x600000+10000 {
		t.Fatalf("brk below start must fail and return the old break: %#x", got)
	}
	if got := mm.Brk(0x600000); got != 0x600000 {
		t.Fatalf("shrink brk: %#x", got)
	}
	if _, err := mm.CopyOut(0x600000+9000, []byte{1}); err != errno.EFAULT {
		t.Fatalf("write past shrunk heap: %v", err)
	}
	if !strings.Contains(mm.Maps(), "") {
		t.Fatal()
	}
}

func TestMRemap(t *testing.T) {
	mm, _ := newMM(t)
	a, _ := mm.MMap(anon(0, 2*hostarch.PageSize, false))
	mm.CopyOut(a, []byte("keep"))
	// Block growth in place, so the mapping must move.
	mm.MMap(anon(a+2*hostarch.PageSize, hostarch.PageSize, true))
	if _, err := mm.MRemap(a, 2*hostarch.PageSize, 4*hostarch.PageSize, 0, 0); err != errno.ENOMEM {
		t.Fatalf("grow without MAYMOVE: %v, want ENOMEM", err)
	}
	b, err := mm.MRemap(a, 2*hostarch.PageSize, 4*hostarch.PageSize, MREMAP_MAYMOVE, 0)
	if err != nil || b == a {
		t.Fatalf("move: %#x %v", b, err)
	}
	got := make([]byte, 4)
	if _, err := mm.CopyIn(b, got); err != nil || string(got) != "keep" {
		t.Fatalf("moved contents: %q %v", got, err)
	}
	if _, err := mm.CopyIn(a, got); err != errno.EFAULT {
		t.Fatalf("old range still mapped: %v", err)
	}
	if c, err := mm.MRemap(b, 4*hostarch.PageSize, hostarch.PageSize, 0, 0); err != nil || c != b {
		t.Fatalf("shrink: %#x %v", c, err)
	}
	if _, err := mm.MRemap(a, hostarch.PageSize, hostarch.PageSize, 0, 0); err != errno.EFAULT {
		t.Fatalf("remap of unmapped: %v", err)
	}
}

func TestMAdviseDontNeed(t *testing.T) {
	mm, _ := newMM(t)
	a, _ := mm.MMap(anon(0, hostarch.PageSize, false))
	mm.CopyOut(a, []byte{9})
	if err := mm.MAdviseDontNeed(a, hostarch.PageSize); err != nil {
		t.Fatal(err)
	}
	b := []byte{1}
	if _, err := mm.CopyIn(a, b); err != nil || b[0] != 0 {
		t.Fatalf("after DONTNEED: %v %v, want zero", b, err)
	}
}

func TestCopyInString(t *testing.T) {
	mm, _ := newMM(t)
	a, _ := mm.MMap(anon(0, hostarch.PageSize, false))
	// A string that ends at the very end of the mapping.
	mm.CopyOut(a+hostarch.PageSize-4, []byte("abc\x00"))
	if s, err := mm.CopyInString(a+hostarch.PageSize-4, 100); err != nil || s != "abc" {
		t.Fatalf("%q %v", s, err)
	}
	mm.CopyOut(a+hostarch.PageSize-3, []byte("xyz"))
	if _, err := mm.CopyInString(a+hostarch.PageSize-3, 100); err != errno.EFAULT {
		t.Fatalf("unterminated at end of mapping: %v, want EFAULT", err)
	}
	if _, err := mm.CopyInString(a+hostarch.PageSize-3, 2); err != errno.ENAMETOOLONG {
		t.Fatalf("too long: %v", err)
	}
}

func TestReleaseFreesEverything(t *testing.T) {
	mm, as := newMM(t)
	for i := 0; i < 4; i++ {
		mm.MMap(anon(0, 5*hostarch.PageSize, false))
	}
	if mm.mf.Allocated() == 0 {
		t.Fatal("nothing allocated")
	}
	mm.DecUsers()
	if got := mm.mf.Allocated(); got != 0 || !as.released {
		t.Fatalf("after release: %d bytes allocated, released %v", got, as.released)
	}
}

// fakeMappable serves a file of size bytes from pages of the memory file,
// allocated on first translation.
type fakeMappable struct {
	mf    *memfile.MemoryFile
	size  uint64
	pages map[uint64]uint64 // file page -> memory file offset
	maps  map[memmap.MappingSpace]int
}

func (f *fakeMappable) Translate(off, n uint64, at hostarch.AccessType) ([]memmap.Translation, error) {
	if off >= f.size {
		return nil, errno.EFAULT
	}
	var out []memmap.Translation
	for p := off &^ (hostarch.PageSize - 1); p < off+n && p < f.size; p += hostarch.PageSize {
		mo, ok := f.pages[p]
		if !ok {
			var err error
			if mo, err = f.mf.Allocate(hostarch.PageSize); err != nil {
				return nil, err
			}
			f.pages[p] = mo
		}
		out = append(out, memmap.Translation{FileOff: p, MemOff: mo, Len: hostarch.PageSize})
	}
	return out, nil
}

func (f *fakeMappable) AddMapping(ms memmap.MappingSpace, ar hostarch.AddrRange, off uint64, w bool) {
	f.maps[ms]++
}

func (f *fakeMappable) RemoveMapping(ms memmap.MappingSpace, ar hostarch.AddrRange, off uint64, w bool) {
	f.maps[ms]--
}

func TestSharedFileMapping(t *testing.T) {
	mm, as := newMM(t)
	fm := &fakeMappable{mf: mm.mf, size: 3 * hostarch.PageSize, pages: map[uint64]uint64{}, maps: map[memmap.MappingSpace]int{}}
	file := &fakeFile{size: int64(fm.size)}
	opts := MMapOpts{Length: 4 * hostarch.PageSize, Perms: hostarch.ReadWrite, MaxPerms: hostarch.AnyAccess, File: file, Mappable: fm}
	a, err := mm.MMap(opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := mm.MMap(opts)
	if err != nil {
		t.Fatal(err)
	}
	// A write through one mapping is seen through the other.
	if _, err := mm.CopyOut(a+hostarch.PageSize+5, []byte("shared")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 6)
	if _, err := mm.CopyIn(b+hostarch.PageSize+5, got); err != nil || string(got) != "shared" {
		t.Fatalf("through the second mapping: %q %v", got, err)
	}
	if err := mm.HandleFault(a, hostarch.Write); err != nil || as.pages[a].off != fm.pages[0] {
		t.Fatalf("fault: %v; host page %+v, file page at %#x", err, as.pages[a], fm.pages[0])
	}
	// The fourth page is beyond the end of the file: SIGBUS.
	var fe *FaultError
	if err := mm.HandleFault(a+3*hostarch.PageSize, hostarch.Read); !errors.As(err, &fe) || !fe.Bus {
		t.Fatalf("fault beyond EOF: %v, want SIGBUS", err)
	}
	// Splitting keeps the registration balanced, and unmapping drops it.
	if err := mm.MUnmap(a+hostarch.PageSize, hostarch.PageSize); err != nil {
		t.Fatal(err)
	}
	mm.MUnmap(a, 4*hostarch.PageSize)
	mm.MUnmap(b, 4*hostarch.PageSize)
	if fm.maps[mm] != 0 || file.refs != 0 {
		t.Fatalf("after unmapping: %d mappings registered, %d file refs", fm.maps[mm], file.refs)
	}
}
