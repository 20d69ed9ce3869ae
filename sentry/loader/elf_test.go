package loader

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// testELF describes a hand-made ELF file.
type testELF struct {
	ident     [16]byte
	typ       uint16
	machine   uint16
	entry     uint64
	phoff     uint64
	phentsize uint16
	phnum     uint16
	phdrs     []progHeader
	size      int               // total file size
	extra     map[uint64][]byte // bytes placed at file offsets
}

// encode returns the file's bytes. The body is filled with 0xaa so that an
// unzeroed bss is visible.
func (e *testELF) encode() []byte {
	b := bytes.Repeat([]byte{0xaa}, e.size)
	copy(b, e.ident[:])
	le := binary.LittleEndian
	le.PutUint16(b[16:], e.typ)
	le.PutUint16(b[18:], e.machine)
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[24:], e.entry)
	le.PutUint64(b[32:], e.phoff)
	le.PutUint64(b[40:], 0)
	le.PutUint32(b[48:], 0)
	le.PutUint16(b[52:], 64)
	le.PutUint16(b[54:], e.phentsize)
	le.PutUint16(b[56:], e.phnum)
	for i, p := range e.phdrs {
		if e.phoff > uint64(len(b)) {
			break // Headers deliberately out of the file.
		}
		o := int(e.phoff) + i*56
		if o+56 > len(b) {
			break
		}
		le.PutUint32(b[o:], p.typ)
		le.PutUint32(b[o+4:], p.flags)
		le.PutUint64(b[o+8:], p.offset)
		le.PutUint64(b[o+16:], p.vaddr)
		le.PutUint64(b[o+24:], p.vaddr)
		le.PutUint64(b[o+32:], p.filesz)
		le.PutUint64(b[o+40:], p.memsz)
		le.PutUint64(b[o+48:], p.align)
	}
	for off, data := range e.extra {
		copy(b[off:], data)
	}
	return b
}

// defaultELF is a small static ET_EXEC: a text segment holding the headers
// and a data segment with a bss that starts mid-page.
func defaultELF() *testELF {
	e := &testELF{
		typ:       uint16(linux.ET_EXEC),
		machine:   linux.EM_X86_64,
		entry:     0x401000,
		phoff:     64,
		phentsize: 56,
		size:      0x3000,
		phdrs: []progHeader{
			{typ: linux.PT_LOAD, flags: linux.PF_R | linux.PF_X, offset: 0, vaddr: 0x400000, filesz: 0x1100, memsz: 0x1100, align: 0x1000},
			{typ: linux.PT_LOAD, flags: linux.PF_R | linux.PF_W, offset: 0x2000, vaddr: 0x402000, filesz: 0x80, memsz: 0x2000, align: 0x1000},
		},
	}
	copy(e.ident[:], linux.ELFMAG)
	e.ident[linux.EI_CLASS] = linux.ELFCLASS64
	e.ident[linux.EI_DATA] = linux.ELFDATA2LSB
	e.ident[linux.EI_VERSION] = linux.EV_CURRENT
	e.phnum = uint16(len(e.phdrs))
	return e
}

// minimalELF returns defaultELF's bytes after mutate (which may be nil).
func minimalELF(t testing.TB, mutate func(e *testELF)) []byte {
	t.Helper()
	e := defaultELF()
	if mutate != nil {
		mutate(e)
	}
	return e.encode()
}

// withInterp adds a PT_INTERP naming path, stored at offset 0x1200.
func withInterp(path string) func(e *testELF) {
	return func(e *testELF) {
		e.phdrs = append(e.phdrs, progHeader{typ: linux.PT_INTERP, flags: linux.PF_R, offset: 0x1200, vaddr: 0x401200, filesz: uint64(len(path) + 1), memsz: uint64(len(path) + 1), align: 1})
		e.phnum = uint16(len(e.phdrs))
		e.extra = map[uint64][]byte{0x1200: append([]byte(path), 0)}
	}
}

// dynInterp is a minimal ET_DYN interpreter linked at 0 with its entry at
// 0x1010.
func dynInterp(t testing.TB) []byte {
	return minimalELF(t, func(e *testELF) {
		e.typ = uint16(linux.ET_DYN)
		e.entry = 0x1010
		e.phdrs[0].vaddr, e.phdrs[1].vaddr = 0, 0x2000
	})
}

func TestLoadMinimalMappings(t *testing.T) {
	fs := &testFS{files: map[string][]byte{"/bin/x": minimalELF(t, nil)}}
	img, mem, err := load(t, fs, testArgs(fs, "/bin/x", []string{"x"}, nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if img.Entry != 0x401000 || img.Name != "x" || img.ExecPath != "/bin/x" {
		t.Errorf("image = %+v", img)
	}
	f := img.Executable
	rx := hostarch.AccessType{Read: true, Execute: true}
	want := []mm.MMapOpts{
		{Addr: 0x400000, Length: 0x1100, Fixed: true, Private: true, File: f, Offset: 0, Perms: rx, MaxPerms: hostarch.AnyAccess},
		{Addr: 0x402000, Length: 0x80, Fixed: true, Private: true, File: f, Offset: 0x2000, Perms: hostarch.ReadWrite, MaxPerms: hostarch.AnyAccess},
		{Addr: 0x403000, Length: 0x1000, Fixed: true, Private: true, Perms: hostarch.ReadWrite, MaxPerms: hostarch.AnyAccess},
	}
	if len(mem.maps) != len(want)+1 {
		t.Fatalf("got %d mappings, want %d + stack: %+v", len(mem.maps), len(want), mem.maps)
	}
	for i, w := range want {
		if mem.maps[i].opts != w {
			t.Errorf("mapping %d = %+v, want %+v", i, mem.maps[i].opts, w)
		}
	}
	// padzero: the file has 0xaa after p_filesz; the guest must see zeros.
	bss, _ := mem.read(0x402080, 0x1f80)
	if bytes.IndexFunc(bss, func(r rune) bool { return r != 0 }) >= 0 {
		t.Errorf("bss tail of the file page not zeroed")
	}
	if data, _ := mem.read(0x40207f, 1); data[0] != 0xaa {
		t.Errorf("last data byte = %#x, want 0xaa", data[0])
	}
	if mem.brk != 0x404000 {
		t.Errorf("brk = %v, want 0x404000", mem.brk)
	}
	s := readInitialStack(t, mem, img.Stack)
	if got := s.aux(t, linux.AT_PHDR); got != 0x400040 {
		t.Errorf("AT_PHDR = %#x, want 0x400040", got)
	}
}

func TestLoadSegmentVariants(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutate  func(e *testELF)
		lenient bool // CopyOut ignores permissions
		check   func(t *testing.T, mem *fakeMemory, s *initialStack)
	}{
		{
			name: "read-only bss",
			mutate: func(e *testELF) {
				e.phdrs[1].flags = linux.PF_R
			},
			check: func(t *testing.T, mem *fakeMemory, s *initialStack) {
				// As on Linux, padzero failing on a read-only page is
				// ignored: the file's bytes stay, the anonymous part
				// reads as zeros.
				if b, _ := mem.read(0x402080, 1); b[0] != 0xaa {
					t.Errorf("file page tail = %x, want the file's 0xaa", b)
				}
				if b, _ := mem.read(0x403000, 8); !bytes.Equal(b, make([]byte, 8)) {
					t.Errorf("anonymous bss = %x", b)
				}
			},
		},
		{
			name: "read-only bss, mm without write checks",
			mutate: func(e *testELF) {
				e.phdrs[1].flags = linux.PF_R
			},
			lenient: true,
			check: func(t *testing.T, mem *fakeMemory, s *initialStack) {
				if b, _ := mem.read(0x402080, 0x1f80); bytes.IndexFunc(b, func(r rune) bool { return r != 0 }) >= 0 {
					t.Errorf("bss not zeroed")
				}
			},
		},
		{
			name: "bss-only segment",
			mutate: func(e *testELF) {
				e.phdrs[1].filesz = 0
				e.phdrs[1].vaddr = 0x402100
				e.phdrs[1].offset = 0x2100
			},
			check: func(t *testing.T, mem *fakeMemory, s *initialStack) {
				m := mem.maps[1]
				if m.opts.File != nil || m.r != (hostarch.AddrRange{Start: 0x402000, End: 0x405000}) {
					t.Errorf("bss-only mapping = %v %+v", m.r, m.opts)
				}
			},
		},
		{
			name: "executable stack",
			mutate: func(e *testELF) {
				e.phdrs = append(e.phdrs, progHeader{typ: linux.PT_GNU_STACK, flags: linux.PF_R | linux.PF_W | linux.PF_X})
				e.phnum++
			},
			check: func(t *testing.T, mem *fakeMemory, s *initialStack) {
				if st := mem.maps[len(mem.maps)-1]; st.opts.Name != "[stack]" || !st.opts.Perms.Execute {
					t.Errorf("stack = %+v, want executable", st.opts)
				}
			},
		},
		{
			name: "headers outside every segment: PT_PHDR",
			mutate: func(e *testELF) {
				e.phoff = 0x1100 // Just past the text segment's p_filesz.
				e.phdrs = append(e.phdrs, progHeader{typ: linux.PT_PHDR, flags: linux.PF_R, offset: 0x1100, vaddr: 0x401100, filesz: 168, memsz: 168, align: 8})
				e.phnum++
			},
			check: func(t *testing.T, mem *fakeMemory, s *initialStack) {
				if got := s.aux(t, linux.AT_PHDR); got != 0x401100 {
					t.Errorf("AT_PHDR = %#x, want PT_PHDR's 0x401100", got)
				}
			},
		},
		{
			name: "zero-size segment ignored",
			mutate: func(e *testELF) {
				e.phdrs = append(e.phdrs, progHeader{typ: linux.PT_LOAD, flags: linux.PF_R, offset: 0, vaddr: 0x7fe000000000})
				e.phnum++
			},
			check: func(t *testing.T, mem *fakeMemory, s *initialStack) {
				if len(mem.maps) != 4 {
					t.Errorf("got %d mappings, want 4", len(mem.maps))
				}
			},
		},
		{
			name: "2 MiB aligned PIE",
			mutate: func(e *testELF) {
				e.typ = uint16(linux.ET_DYN)
				e.entry = 0x1000
				e.phdrs[0].vaddr, e.phdrs[1].vaddr = 0, 0x2000
				e.phdrs[0].align = 0x200000
			},
			check: func(t *testing.T, mem *fakeMemory, s *initialStack) {
				if got := s.aux(t, linux.AT_ENTRY); got != 0x555555400000+0x1000 {
					t.Errorf("AT_ENTRY = %#x, want ELF_ET_DYN_BASE aligned down to 2 MiB + 0x1000", got)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := &testFS{files: map[string][]byte{"/bin/x": minimalELF(t, tc.mutate)}}
			mem := newFakeMemory()
			mem.writeChecks = !tc.lenient
			img, err := Load(mem, testArgs(fs, "/bin/x", []string{"x"}, nil))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tc.check(t, mem, readInitialStack(t, mem, img.Stack))
			img.Executable.DecRef()
			mem.release()
			fs.checkRefs(t)
		})
	}
}

func TestLoadInterpreter(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mainELF  func(e *testELF)
		wantBase uint64
	}{
		{
			name:     "below the mmap base",
			mainELF:  withInterp("/lib/ld.so"),
			wantBase: uint64(testMaxAddr - 0x1000 - 128<<20 - 0x4000),
		},
		{
			// An ET_EXEC linked where the interpreter would go: the
			// interpreter moves below it.
			name: "below a main binary in the way",
			mainELF: func(e *testELF) {
				withInterp("/lib/ld.so")(e)
				for i := range e.phdrs {
					e.phdrs[i].vaddr += uint64(testMaxAddr-0x1000-128<<20) - 0x400000 - 0x2000
				}
				e.entry += uint64(testMaxAddr-0x1000-128<<20) - 0x400000 - 0x2000
			},
			wantBase: uint64(testMaxAddr-0x1000-128<<20) - 0x2000 - 0x4000,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The interpreter's own PT_INTERP names a missing file: it must
			// be ignored, as Linux does.
			interp := minimalELF(t, func(e *testELF) {
				withInterp("/missing")(e)
				e.typ = uint16(linux.ET_DYN)
				e.entry = 0x1010
				e.phdrs[0].vaddr, e.phdrs[1].vaddr = 0, 0x2000
			})
			fs := &testFS{files: map[string][]byte{
				"/bin/x":     minimalELF(t, tc.mainELF),
				"/lib/ld.so": interp,
			}}
			img, mem, err := load(t, fs, testArgs(fs, "/bin/x", []string{"x"}, nil))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			s := readInitialStack(t, mem, img.Stack)
			base := s.aux(t, linux.AT_BASE)
			if base != tc.wantBase || img.Entry != hostarch.Addr(base+0x1010) {
				t.Errorf("AT_BASE = %#x, Entry = %v; want %#x, %#x", base, img.Entry, tc.wantBase, tc.wantBase+0x1010)
			}
			if img.ExecPath != "/bin/x" {
				t.Errorf("ExecPath = %q", img.ExecPath)
			}
			ld := mem.mappingsOf("/lib/ld.so")
			exe := mem.mappingsOf("/bin/x")
			if len(ld) != 2 || len(exe) != 2 {
				t.Fatalf("mappings: ld.so %d, exe %d", len(ld), len(exe))
			}
			for _, a := range ld {
				for _, b := range exe {
					if a.r.Overlaps(b.r) {
						t.Errorf("interpreter %v overlaps executable %v", a.r, b.r)
					}
				}
			}
		})
	}
}

func TestLoadMalformed(t *testing.T) {
	valid := minimalELF(t, nil)
	type tc struct {
		name  string
		file  []byte
		files map[string][]byte
		want  errno.Errno
	}
	cases := []tc{
		{name: "bad magic", file: minimalELF(t, func(e *testELF) { e.ident[1] = 'X' }), want: errno.ENOEXEC},
		{name: "ELFCLASS32", file: minimalELF(t, func(e *testELF) { e.ident[linux.EI_CLASS] = 1 }), want: errno.ENOEXEC},
		{name: "big-endian", file: minimalELF(t, func(e *testELF) { e.ident[linux.EI_DATA] = 2 }), want: errno.ENOEXEC},
		{name: "EM_386", file: minimalELF(t, func(e *testELF) { e.machine = 3 }), want: errno.ENOEXEC},
		{name: "ET_REL", file: minimalELF(t, func(e *testELF) { e.typ = uint16(linux.ET_REL) }), want: errno.ENOEXEC},
		{name: "ET_CORE", file: minimalELF(t, func(e *testELF) { e.typ = uint16(linux.ET_CORE) }), want: errno.ENOEXEC},
		{name: "phentsize 0", file: minimalELF(t, func(e *testELF) { e.phentsize = 0 }), want: errno.ENOEXEC},
		{name: "phentsize 32", file: minimalELF(t, func(e *testELF) { e.phentsize = 32 }), want: errno.ENOEXEC},
		{name: "phentsize 64", file: minimalELF(t, func(e *testELF) { e.phentsize = 64 }), want: errno.ENOEXEC},
		{name: "phnum 0", file: minimalELF(t, func(e *testELF) { e.phnum = 0 }), want: errno.ENOEXEC},
		{name: "phnum 0xffff", file: minimalELF(t, func(e *testELF) { e.phnum = 0xffff }), want: errno.ENOEXEC},
		{name: "phnum 1170 past EOF", file: minimalELF(t, func(e *testELF) { e.phnum = 1170 }), want: errno.ENOEXEC},
		{name: "phoff past EOF", file: minimalELF(t, func(e *testELF) { e.phoff = 0x10000 }), want: errno.ENOEXEC},
		{name: "phoff huge", file: minimalELF(t, func(e *testELF) { e.phoff = 1 << 63 }), want: errno.ENOEXEC},
		{name: "phoff wraps", file: minimalELF(t, func(e *testELF) { e.phoff = ^uint64(0) - 8 }), want: errno.ENOEXEC},
		{name: "filesz > memsz", file: minimalELF(t, func(e *testELF) { e.phdrs[1].filesz = 0x3000 }), want: errno.ENOEXEC},
		{name: "vaddr+memsz overflows", file: minimalELF(t, func(e *testELF) {
			e.phdrs[1].vaddr, e.phdrs[1].offset = 0xfffffffffffff000, 0
			e.phdrs[1].memsz = 0x2000
		}), want: errno.ENOEXEC},
		{name: "segment end rounds up past 2^64", file: minimalELF(t, func(e *testELF) {
			e.phdrs[1].vaddr, e.phdrs[1].offset = 0xffffffffffffff00, 0xf00
			e.phdrs[1].filesz, e.phdrs[1].memsz = 0x10, 0x10
		}), want: errno.ENOEXEC},
		{name: "offset+filesz overflows", file: minimalELF(t, func(e *testELF) {
			e.phdrs[1].offset = 0x7ffffffffffff000
			e.phdrs[1].filesz, e.phdrs[1].memsz = 0x2000, 0x2000
		}), want: errno.ENOEXEC},
		{name: "offset and vaddr disagree within a page", file: minimalELF(t, func(e *testELF) { e.phdrs[1].offset = 0x2010 }), want: errno.ENOEXEC},
		{name: "no PT_LOAD", file: minimalELF(t, func(e *testELF) { e.phdrs[0].typ, e.phdrs[1].typ = linux.PT_NOTE, linux.PT_NOTE }), want: errno.ENOEXEC},
		{name: "only empty PT_LOADs", file: minimalELF(t, func(e *testELF) {
			e.phdrs[0].filesz, e.phdrs[0].memsz, e.phdrs[1].filesz, e.phdrs[1].memsz = 0, 0, 0, 0
		}), want: errno.ENOEXEC},
		{name: "segment above MaxAddr", file: minimalELF(t, func(e *testELF) { e.phdrs[1].vaddr = uint64(testMaxAddr) }), want: errno.ENOMEM},
		{name: "segment in the stack", file: minimalELF(t, func(e *testELF) { e.phdrs[1].vaddr = uint64(testMaxAddr - 0x100000) }), want: errno.ENOMEM},
		{name: "segment at 0", file: minimalELF(t, func(e *testELF) { e.phdrs[0].vaddr = 0 }), want: errno.ENOMEM},
		{name: "huge PIE", file: minimalELF(t, func(e *testELF) {
			e.typ = uint16(linux.ET_DYN)
			e.phdrs[1].memsz = 1 << 46
		}), want: errno.ENOMEM},
		{name: "entry above MaxAddr", file: minimalELF(t, func(e *testELF) { e.entry = uint64(testMaxAddr) }), want: errno.EINVAL},
		{name: "PT_INTERP too short", file: minimalELF(t, func(e *testELF) {
			withInterp("/lib/ld.so")(e)
			e.phdrs[2].filesz = 1
		}), want: errno.ENOEXEC},
		{name: "PT_INTERP too long", file: minimalELF(t, func(e *testELF) {
			withInterp("/lib/ld.so")(e)
			e.phdrs[2].filesz = 4097
		}), want: errno.ENOEXEC},
		{name: "PT_INTERP not NUL-terminated", file: minimalELF(t, func(e *testELF) {
			withInterp("/lib/ld.so")(e)
			e.phdrs[2].filesz--
		}), want: errno.ENOEXEC},
		{name: "PT_INTERP past EOF", file: minimalELF(t, func(e *testELF) {
			withInterp("/lib/ld.so")(e)
			e.phdrs[2].offset = 0x2ff0
			e.phdrs[2].filesz = 0x100
		}), want: errno.ENOEXEC},
		{name: "interpreter missing", file: minimalELF(t, withInterp("/lib/ld.so")), want: errno.ENOENT},
		{name: "interpreter is a script", file: minimalELF(t, withInterp("/lib/ld.so")),
			files: map[string][]byte{"/lib/ld.so": []byte("#!/bin/x\n")}, want: errno.ENOEXEC},
		{name: "interpreter truncated", file: minimalELF(t, withInterp("/lib/ld.so")),
			files: map[string][]byte{"/lib/ld.so": dynInterp(t)[:40]}, want: errno.ENOEXEC},
		{name: "interpreter ET_REL", file: minimalELF(t, withInterp("/lib/ld.so")),
			files: map[string][]byte{"/lib/ld.so": minimalELF(t, func(e *testELF) { e.typ = uint16(linux.ET_REL) })}, want: errno.ENOEXEC},
		{name: "interpreter with a bad segment", file: minimalELF(t, withInterp("/lib/ld.so")),
			files: map[string][]byte{"/lib/ld.so": minimalELF(t, func(e *testELF) { e.phdrs[0].filesz = 1 << 40 })}, want: errno.ENOEXEC},
	}
	// Every truncation of the headers.
	for n := 0; n < 64+2*56; n++ {
		cases = append(cases, tc{name: "truncated", file: valid[:n], want: errno.ENOEXEC})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := &testFS{files: map[string][]byte{"/bin/x": c.file}}
			for k, v := range c.files {
				fs.files[k] = v
			}
			img, _, err := load(t, fs, testArgs(fs, "/bin/x", []string{"x"}, nil))
			if err != c.want || img != nil {
				t.Errorf("Load = %v, %v; want %v", img, err, c.want)
			}
		})
	}
}
