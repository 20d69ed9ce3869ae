package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// The test program. Its contents don't matter (nothing runs it here), but a
// real libc start-up gives realistic segments, TLS and a bss.
const testProgram = `
#include <stdio.h>
int counter[4096];
int main(int argc, char **argv) { counter[argc] = 1; printf("%s\n", argv[0]); return 0; }
`

// buildProgram compiles testProgram with gcc and the given flags into a
// temporary directory and returns its path.
func buildProgram(t *testing.T, name string, flags ...string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not found; skipping tests that load real binaries")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "prog.c")
	if err := os.WriteFile(src, []byte(testProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command(gcc, append(flags, "-O2", "-o", out, src)...)
	cmd.Dir = dir
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc %v: %v\n%s", flags, err, msg)
	}
	return out
}

// wantAuxvKeys is the auxv order of fs/binfmt_elf.c:create_elf_tables
// without AT_SYSINFO_EHDR and AT_RSEQ_*.
var wantAuxvKeys = []uint64{
	linux.AT_MINSIGSTKSZ, linux.AT_HWCAP, linux.AT_PAGESZ, linux.AT_CLKTCK,
	linux.AT_PHDR, linux.AT_PHENT, linux.AT_PHNUM, linux.AT_BASE, linux.AT_FLAGS,
	linux.AT_ENTRY, linux.AT_UID, linux.AT_EUID, linux.AT_GID, linux.AT_EGID,
	linux.AT_SECURE, linux.AT_RANDOM, linux.AT_HWCAP2, linux.AT_EXECFN,
	linux.AT_PLATFORM,
}

// checkLoadedELF checks everything about a loaded image that can be derived
// from the ELF file at binPath (parsed with debug/elf, which is fine for
// trusted test inputs) and the expected main-binary bias.
func checkLoadedELF(t *testing.T, mem *fakeMemory, img *Image, args LoadArgs, binPath string, wantBias uint64) *initialStack {
	t.Helper()
	ef, err := elf.Open(binPath)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	raw, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}

	if img.Stack%16 != 0 {
		t.Errorf("Stack %v not 16-byte aligned", img.Stack)
	}
	s := readInitialStack(t, mem, img.Stack)
	if s.argc != uint64(len(img.Argv)) || !slices.Equal(s.argv, img.Argv) {
		t.Errorf("stack argv = %d %q, want %q", s.argc, s.argv, img.Argv)
	}
	wantEnv := args.Envv
	if wantEnv == nil {
		wantEnv = []string{}
	}
	if !slices.Equal(s.envv, wantEnv) && !(len(s.envv) == 0 && len(wantEnv) == 0) {
		t.Errorf("stack envv = %q, want %q", s.envv, wantEnv)
	}

	var keys []uint64
	var flat []uint64
	for _, kv := range s.auxv {
		keys = append(keys, kv[0])
		flat = append(flat, kv[0], kv[1])
	}
	if !slices.Equal(keys, wantAuxvKeys) {
		t.Errorf("auxv keys = %v, want %v", keys, wantAuxvKeys)
	}
	if !slices.Equal(mem.auxv, append(flat, 0, 0)) {
		t.Errorf("SetAuxv = %v, want the stack's auxv %v plus AT_NULL", mem.auxv, flat)
	}
	if s.has(linux.AT_SYSINFO_EHDR) {
		t.Errorf("auxv has AT_SYSINFO_EHDR")
	}
	for _, c := range []struct {
		key  uint64
		want uint64
	}{
		{linux.AT_PAGESZ, hostarch.PageSize},
		{linux.AT_PHENT, 56},
		{linux.AT_PHNUM, uint64(len(ef.Progs))},
		{linux.AT_CLKTCK, 100},
		{linux.AT_FLAGS, 0},
		{linux.AT_UID, uint64(args.UID)},
		{linux.AT_EUID, uint64(args.EUID)},
		{linux.AT_GID, uint64(args.GID)},
		{linux.AT_EGID, uint64(args.EGID)},
		{linux.AT_SECURE, 0},
		{linux.AT_HWCAP, args.HWCap},
		{linux.AT_HWCAP2, 0},
		{linux.AT_ENTRY, ef.Entry + wantBias},
	} {
		if got := s.aux(t, c.key); got != c.want {
			t.Errorf("auxv[%d] = %#x, want %#x", c.key, got, c.want)
		}
	}
	rnd, err := mem.read(hostarch.Addr(s.aux(t, linux.AT_RANDOM)), 16)
	if err != nil || !bytes.Equal(rnd, testRandom) {
		t.Errorf("AT_RANDOM bytes = %q, %v; want %q", rnd, err, testRandom)
	}
	execfnAddr := hostarch.Addr(s.aux(t, linux.AT_EXECFN))
	if got := mem.cstring(t, execfnAddr); got != args.Path {
		t.Errorf("AT_EXECFN = %q, want %q", got, args.Path)
	}
	if got := mem.cstring(t, hostarch.Addr(s.aux(t, linux.AT_PLATFORM))); got != "x86_64" {
		t.Errorf("AT_PLATFORM = %q", got)
	}

	// AT_PHDR must point at the program headers, mapped from the file.
	phoff := binary.LittleEndian.Uint64(raw[32:]) // e_phoff; debug/elf hides it.
	phdrs, err := mem.read(hostarch.Addr(s.aux(t, linux.AT_PHDR)), len(ef.Progs)*56)
	if err != nil || !bytes.Equal(phdrs, raw[phoff:phoff+uint64(len(ef.Progs))*56]) {
		t.Errorf("AT_PHDR %#x does not hold the program headers (%v)", s.aux(t, linux.AT_PHDR), err)
	}

	// The argv/envp ranges for /proc/self/{cmdline,environ}.
	if mem.argv.Start != s.argvPtrs[0] || mem.argv.End != mem.envv.Start || mem.envv.End != execfnAddr {
		t.Errorf("argv range %v / envv range %v inconsistent with argv[0] at %v, AT_EXECFN at %v",
			mem.argv, mem.envv, s.argvPtrs[0], execfnAddr)
	}
	var cmdline []byte
	for _, a := range img.Argv {
		cmdline = append(append(cmdline, a...), 0)
	}
	if got, err := mem.read(mem.argv.Start, int(mem.argv.Length())); err != nil || !bytes.Equal(got, cmdline) {
		t.Errorf("argv range holds %q, want %q", got, cmdline)
	}

	// Segments: file bytes where the file has them, zeros in the bss, and
	// brk just past the highest segment.
	var end uint64
	for _, p := range ef.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		end = max(end, p.Vaddr+p.Memsz)
		va := hostarch.Addr(p.Vaddr + wantBias)
		got, err := mem.read(va, int(p.Filesz))
		if err != nil || !bytes.Equal(got, raw[p.Off:p.Off+p.Filesz]) {
			t.Errorf("segment at %v: contents differ from the file (%v)", va, err)
		}
		bss, err := mem.read(va+hostarch.Addr(p.Filesz), int(p.Memsz-p.Filesz))
		if err != nil || bytes.IndexFunc(bss, func(r rune) bool { return r != 0 }) >= 0 {
			t.Errorf("segment at %v: bss not zero (%v)", va, err)
		}
		for _, fm := range mem.maps {
			if fm.r.Contains(va) && fm.opts.File != nil {
				want := hostarch.AccessType{Read: p.Flags&elf.PF_R != 0, Write: p.Flags&elf.PF_W != 0, Execute: p.Flags&elf.PF_X != 0}
				if fm.opts.Perms != want || !fm.opts.Private || fm.opts.MaxPerms != hostarch.AnyAccess {
					t.Errorf("segment at %v mapped %+v, want perms %v", va, fm.opts, want)
				}
			}
		}
	}
	wantBrk, _ := hostarch.Addr(end + wantBias).RoundUp()
	if mem.brk != wantBrk {
		t.Errorf("brk = %v, want %v", mem.brk, wantBrk)
	}

	// The stack mapping, and everything inside the usable range.
	var stack *fakeMapping
	for i, fm := range mem.maps {
		if fm.r.Start < testMinAddr || fm.r.End > testMaxAddr {
			t.Errorf("mapping %v outside [%v, %v)", fm.r, testMinAddr, testMaxAddr)
		}
		if fm.opts.Name == "[stack]" {
			stack = &mem.maps[i]
		}
	}
	if stack == nil {
		t.Fatalf("no [stack] mapping")
	}
	wantStack := hostarch.AddrRange{Start: testMaxAddr - 0x1000 - 8<<20, End: testMaxAddr - 0x1000}
	if stack.r != wantStack || !stack.opts.GrowsDown || stack.opts.Perms != hostarch.ReadWrite || stack.opts.File != nil {
		t.Errorf("stack mapping %v %+v, want %v RW GrowsDown", stack.r, stack.opts, wantStack)
	}
	if !stack.r.Contains(img.Stack) {
		t.Errorf("Stack %v outside the stack mapping %v", img.Stack, stack.r)
	}
	return s
}

func TestLoadStatic(t *testing.T) {
	bin := buildProgram(t, "static", "-static")
	fs := &testFS{hostFallback: true}
	args := testArgs(fs, bin, []string{"static", "arg1"}, []string{"HOME=/", "A=b"})
	img, mem, err := load(t, fs, args)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	ef, _ := elf.Open(bin)
	defer ef.Close()
	if ef.Type != elf.ET_EXEC {
		t.Fatalf("gcc -static built %v, want ET_EXEC", ef.Type)
	}
	s := checkLoadedELF(t, mem, img, args, bin, 0)
	if img.Entry != hostarch.Addr(ef.Entry) {
		t.Errorf("Entry = %v, want %#x", img.Entry, ef.Entry)
	}
	if s.aux(t, linux.AT_BASE) != 0 {
		t.Errorf("AT_BASE = %#x for a static binary", s.aux(t, linux.AT_BASE))
	}
	if img.ExecPath != bin || img.Name != "static" || !slices.Equal(img.Argv, args.Argv) {
		t.Errorf("image %q %q %q", img.ExecPath, img.Name, img.Argv)
	}
}

func TestLoadStaticPIE(t *testing.T) {
	bin := buildProgram(t, "static-pie", "-static-pie")
	fs := &testFS{hostFallback: true}
	args := testArgs(fs, bin, []string{"static-pie"}, nil)
	img, mem, err := load(t, fs, args)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	ef, _ := elf.Open(bin)
	defer ef.Close()
	if ef.Type != elf.ET_DYN {
		t.Fatalf("gcc -static-pie built %v, want ET_DYN", ef.Type)
	}
	const bias = 0x555555554000
	s := checkLoadedELF(t, mem, img, args, bin, bias)
	if img.Entry != hostarch.Addr(ef.Entry+bias) {
		t.Errorf("Entry = %v, want %#x", img.Entry, ef.Entry+bias)
	}
	if s.aux(t, linux.AT_BASE) != 0 {
		t.Errorf("AT_BASE = %#x without an interpreter", s.aux(t, linux.AT_BASE))
	}
}

func TestLoadDynamic(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
		bias  uint64
	}{
		{name: "pie", flags: []string{"-pie", "-fPIE"}, bias: 0x555555554000},
		{name: "no-pie", flags: []string{"-no-pie"}, bias: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := buildProgram(t, tc.name, tc.flags...)
			ef, err := elf.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			defer ef.Close()
			var interpPath string
			for _, p := range ef.Progs {
				if p.Type == elf.PT_INTERP {
					b := make([]byte, p.Filesz)
					p.ReadAt(b, 0)
					interpPath = string(bytes.TrimRight(b, "\x00"))
				}
			}
			if interpPath == "" {
				t.Fatalf("%s has no PT_INTERP", bin)
			}
			ief, err := elf.Open(interpPath)
			if err != nil {
				t.Skipf("interpreter %s: %v", interpPath, err)
			}
			defer ief.Close()

			fs := &testFS{hostFallback: true}
			args := testArgs(fs, bin, []string{tc.name, "x"}, []string{"PATH=/bin"})
			img, mem, err := load(t, fs, args)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			s := checkLoadedELF(t, mem, img, args, bin, tc.bias)
			base := s.aux(t, linux.AT_BASE)
			if img.Entry != hostarch.Addr(ief.Entry+base) {
				t.Errorf("Entry = %v, want interpreter entry %#x + AT_BASE %#x", img.Entry, ief.Entry, base)
			}
			// ld.so ends just below the mmap base: 128 MiB under the stack top.
			lay, _ := newLayout(testMinAddr, testMaxAddr)
			maps := mem.mappingsOf(interpPath)
			if len(maps) == 0 {
				t.Fatalf("interpreter not mapped")
			}
			if base%hostarch.PageSize != 0 || hostarch.Addr(base) != maps[0].r.Start {
				t.Errorf("AT_BASE %#x is not the interpreter's first mapping %v", base, maps[0].r)
			}
			if top := maps[len(maps)-1].r.End; top > lay.mmapTop || lay.mmapTop-top >= 1<<20 {
				t.Errorf("interpreter ends at %v, want just below %v", top, lay.mmapTop)
			}
			if lay.mmapTop != testMaxAddr-0x1000-128<<20 {
				t.Errorf("mmapTop = %v", lay.mmapTop)
			}
			// The interpreter's segments hold its file's bytes.
			raw, _ := os.ReadFile(interpPath)
			for _, p := range ief.Progs {
				if p.Type == elf.PT_LOAD && p.Filesz > 0 {
					got, err := mem.read(hostarch.Addr(p.Vaddr+base), int(p.Filesz))
					if err != nil || !bytes.Equal(got, raw[p.Off:p.Off+p.Filesz]) {
						t.Errorf("interpreter segment %#x: wrong contents (%v)", p.Vaddr, err)
					}
				}
			}
		})
	}
}

func TestLoadErrnos(t *testing.T) {
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "text")
	if err := os.WriteFile(text, []byte("just text\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	missingInterp := filepath.Join(dir, "missing-interp")
	if err := os.WriteFile(missingInterp, []byte("#!/nonexistent/sh -x\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path string
		want errno.Errno
	}{
		{"missing", filepath.Join(dir, "nope"), errno.ENOENT},
		{"not executable", noexec, errno.EACCES},
		{"directory", dir, errno.EACCES},
		{"plain text", text, errno.ENOEXEC},
		{"empty file", empty, errno.ENOEXEC},
		{"missing script interpreter", missingInterp, errno.ENOENT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := &testFS{hostFallback: true}
			_, _, err := load(t, fs, testArgs(fs, tc.path, []string{"x"}, nil))
			if err != tc.want {
				t.Errorf("Load(%s) = %v, want %v", tc.path, err, tc.want)
			}
		})
	}
}

func TestLoadBadLayout(t *testing.T) {
	fs := &testFS{files: map[string][]byte{"/bin/x": minimalELF(t, nil)}}
	for _, tc := range []struct {
		name     string
		min, max hostarch.Addr
	}{
		{"empty", 0x10000, 0x10000},
		{"inverted", 0x7ff000000000, 0x10000},
		{"no room below the stack", 0x10000, 0x10000 + 8<<20},
		{"binary below MinAddr", 0x500000, testMaxAddr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := testArgs(fs, "/bin/x", []string{"x"}, nil)
			args.MinAddr, args.MaxAddr = tc.min, tc.max
			if _, _, err := load(t, fs, args); err != errno.ENOMEM {
				t.Errorf("Load = %v, want ENOMEM", err)
			}
		})
	}
}
