package loader

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"sort"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// Test address range: what the lead passes in production.
const (
	testMinAddr = hostarch.Addr(0x10000)
	testMaxAddr = hostarch.Addr(0x7ff000000000)
)

// testRandom is what the fake AT_RANDOM source returns.
var testRandom = []byte("0123456789abcdef")

// fakeMapping is one MMap call.
type fakeMapping struct {
	r    hostarch.AddrRange
	opts mm.MMapOpts
}

// fakeMemory is a Memory that records mappings and keeps written bytes in a
// sparse page map; unwritten file-backed pages read through to the file.
type fakeMemory struct {
	maps  []fakeMapping
	pages map[hostarch.Addr]*[hostarch.PageSize]byte
	// writeChecks makes CopyOut fail on pages without write permission, as
	// mm.MemoryManager.CopyOut does (copy_to_user semantics). On by
	// default.
	writeChecks bool

	brk        hostarch.Addr
	argv, envv hostarch.AddrRange
	auxv       []uint64
}

func newFakeMemory() *fakeMemory {
	return &fakeMemory{pages: make(map[hostarch.Addr]*[hostarch.PageSize]byte), writeChecks: true}
}

// MMap implements Memory.MMap. Only fixed mappings are supported: the loader
// chooses every address itself.
func (m *fakeMemory) MMap(opts mm.MMapOpts) (hostarch.Addr, error) {
	if !opts.Fixed || !opts.Addr.IsPageAligned() || opts.Length == 0 {
		return 0, errno.EINVAL
	}
	length, ok := hostarch.PageRoundUp(opts.Length)
	if !ok {
		return 0, errno.ENOMEM
	}
	end, ok := opts.Addr.AddLength(length)
	if !ok {
		return 0, errno.ENOMEM
	}
	r := hostarch.AddrRange{Start: opts.Addr, End: end}
	// A fixed mapping replaces the contents of whatever it covers.
	for pa := range m.pages {
		if r.Contains(pa) {
			delete(m.pages, pa)
		}
	}
	if opts.File != nil {
		opts.File.IncRef()
	}
	m.maps = append(m.maps, fakeMapping{r: r, opts: opts})
	return opts.Addr, nil
}

// find returns the newest mapping containing addr.
func (m *fakeMemory) find(addr hostarch.Addr) *fakeMapping {
	for i := len(m.maps) - 1; i >= 0; i-- {
		if m.maps[i].r.Contains(addr) {
			return &m.maps[i]
		}
	}
	return nil
}

// page returns the contents of the page at pa, materializing it from its
// mapping if it hasn't been written.
func (m *fakeMemory) page(pa hostarch.Addr, materialize bool) (*[hostarch.PageSize]byte, error) {
	if p, ok := m.pages[pa]; ok {
		return p, nil
	}
	fm := m.find(pa)
	if fm == nil {
		return nil, errno.EFAULT
	}
	p := new([hostarch.PageSize]byte)
	if fm.opts.File != nil {
		off := fm.opts.Offset + uint64(pa-fm.r.Start)
		_, err := fm.opts.File.ReadAt(p[:], int64(off))
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
	}
	if materialize {
		m.pages[pa] = p
	}
	return p, nil
}

// CopyOut implements Memory.CopyOut.
func (m *fakeMemory) CopyOut(addr hostarch.Addr, src []byte) (int, error) {
	done := 0
	for done < len(src) {
		a := addr + hostarch.Addr(done)
		if m.writeChecks {
			if fm := m.find(a); fm != nil && !fm.opts.Perms.Write {
				return done, errno.EFAULT
			}
		}
		p, err := m.page(a.RoundDown(), true)
		if err != nil {
			return done, err
		}
		done += copy(p[a-a.RoundDown():], src[done:])
	}
	return done, nil
}

// read returns n bytes of guest memory at addr.
func (m *fakeMemory) read(addr hostarch.Addr, n int) ([]byte, error) {
	out := make([]byte, 0, n)
	for len(out) < n {
		a := addr + hostarch.Addr(len(out))
		p, err := m.page(a.RoundDown(), false)
		if err != nil {
			return nil, err
		}
		want := min(n-len(out), int(hostarch.PageSize-(a-a.RoundDown())))
		out = append(out, p[a-a.RoundDown():][:want]...)
	}
	return out, nil
}

// word reads a little-endian uint64 at addr.
func (m *fakeMemory) word(t *testing.T, addr hostarch.Addr) uint64 {
	t.Helper()
	b, err := m.read(addr, 8)
	if err != nil {
		t.Fatalf("reading word at %v: %v", addr, err)
	}
	return binary.LittleEndian.Uint64(b)
}

// cstring reads a NUL-terminated string at addr.
func (m *fakeMemory) cstring(t *testing.T, addr hostarch.Addr) string {
	t.Helper()
	var s []byte
	for {
		b, err := m.read(addr+hostarch.Addr(len(s)), 1)
		if err != nil {
			t.Fatalf("reading string at %v: %v", addr, err)
		}
		if b[0] == 0 {
			return string(s)
		}
		s = append(s, b[0])
		if len(s) > 1<<20 {
			t.Fatalf("unterminated string at %v", addr)
		}
	}
}

func (m *fakeMemory) SetBrkStart(addr hostarch.Addr)    { m.brk = addr }
func (m *fakeMemory) SetArgvRange(r hostarch.AddrRange) { m.argv = r }
func (m *fakeMemory) SetEnvvRange(r hostarch.AddrRange) { m.envv = r }
func (m *fakeMemory) SetAuxv(auxv []uint64)             { m.auxv = auxv }

// release drops the mappings' file references.
func (m *fakeMemory) release() {
	for _, fm := range m.maps {
		if fm.opts.File != nil {
			fm.opts.File.DecRef()
		}
	}
	m.maps = nil
}

// mappingsOf returns the mappings backed by a file with the given name,
// sorted by address.
func (m *fakeMemory) mappingsOf(name string) []fakeMapping {
	var out []fakeMapping
	for _, fm := range m.maps {
		if fm.opts.File != nil {
			if _, _, n := fm.opts.File.MappingIdentity(); n == name {
				out = append(out, fm)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].r.Start < out[j].r.Start })
	return out
}

// memFile is an in-memory File with a checked reference count.
type memFile struct {
	name string
	data []byte
	refs int
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(f.data).ReadAt(p, off)
}

func (f *memFile) MappingIdentity() (dev, ino uint64, name string) { return 1, 1, f.name }

func (f *memFile) IncRef() {
	if f.refs <= 0 {
		panic("IncRef on a released file " + f.name)
	}
	f.refs++
}

func (f *memFile) DecRef() {
	if f.refs <= 0 {
		panic("DecRef on a released file " + f.name)
	}
	f.refs--
}

// testFS is the sandbox filesystem seen by LoadArgs.Open: in-memory files
// first, then (if hostFallback) the host's files, read-only.
type testFS struct {
	files        map[string][]byte
	hostFallback bool
	opened       []*memFile
}

func (fs *testFS) open(path string) (File, error) {
	data, ok := fs.files[path]
	if !ok {
		if !fs.hostFallback {
			return nil, errno.ENOENT
		}
		st, err := os.Stat(path)
		if err != nil {
			return nil, errno.ENOENT
		}
		// Exec permission, as the lead's Open checks it.
		if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
			return nil, errno.EACCES
		}
		if data, err = os.ReadFile(path); err != nil {
			return nil, errno.EIO
		}
	}
	f := &memFile{name: path, data: data, refs: 1}
	fs.opened = append(fs.opened, f)
	return f, nil
}

// checkRefs fails the test if any opened file still holds a reference.
func (fs *testFS) checkRefs(t *testing.T) {
	t.Helper()
	for _, f := range fs.opened {
		if f.refs != 0 {
			t.Errorf("file %s: %d references leaked", f.name, f.refs)
		}
	}
}

// testArgs returns LoadArgs for path with the standard test values.
func testArgs(fs *testFS, path string, argv, envv []string) LoadArgs {
	return LoadArgs{
		Path:     path,
		Argv:     argv,
		Envv:     envv,
		Open:     fs.open,
		Random:   bytes.NewReader(testRandom),
		UID:      1001,
		EUID:     1002,
		GID:      1003,
		EGID:     1004,
		MinAddr:  testMinAddr,
		MaxAddr:  testMaxAddr,
		HWCap:    0x178bfbff,
		Platform: "x86_64",
	}
}

// load runs Load on a fresh fake memory and arranges for the references to
// be checked when the test ends.
func load(t *testing.T, fs *testFS, args LoadArgs) (*Image, *fakeMemory, error) {
	t.Helper()
	mem := newFakeMemory()
	img, err := Load(mem, args)
	t.Cleanup(func() {
		if img != nil {
			img.Executable.DecRef()
		}
		mem.release()
		fs.checkRefs(t)
	})
	return img, mem, err
}

// initialStack is the decoded initial stack.
type initialStack struct {
	argc       uint64
	argv, envv []string
	argvPtrs   []hostarch.Addr
	auxv       [][2]uint64 // AT_NULL excluded
}

// aux returns the value of key, failing if it is absent.
func (s *initialStack) aux(t *testing.T, key uint64) uint64 {
	t.Helper()
	for _, kv := range s.auxv {
		if kv[0] == key {
			return kv[1]
		}
	}
	t.Fatalf("auxv has no key %d", key)
	return 0
}

// has reports whether key is in the auxv.
func (s *initialStack) has(key uint64) bool {
	for _, kv := range s.auxv {
		if kv[0] == key {
			return true
		}
	}
	return false
}

// readInitialStack decodes the stack at sp as a C runtime's _start would.
func readInitialStack(t *testing.T, m *fakeMemory, sp hostarch.Addr) *initialStack {
	t.Helper()
	s := &initialStack{argc: m.word(t, sp)}
	p := sp + 8
	for i := uint64(0); i < s.argc; i++ {
		a := hostarch.Addr(m.word(t, p))
		s.argvPtrs = append(s.argvPtrs, a)
		s.argv = append(s.argv, m.cstring(t, a))
		p += 8
	}
	if m.word(t, p) != 0 {
		t.Fatalf("argv not NULL-terminated")
	}
	p += 8
	for a := m.word(t, p); a != 0; a = m.word(t, p) {
		s.envv = append(s.envv, m.cstring(t, hostarch.Addr(a)))
		p += 8
	}
	p += 8
	for {
		k, v := m.word(t, p), m.word(t, p+8)
		p += 16
		if k == linux.AT_NULL {
			break
		}
		s.auxv = append(s.auxv, [2]uint64{k, v})
		if len(s.auxv) > 64 {
			t.Fatalf("auxv not terminated")
		}
	}
	return s
}
