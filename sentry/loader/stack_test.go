package loader

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// TestBuildStackLayout checks every address of a small stack against a
// layout worked out by hand from fs/binfmt_elf.c:create_elf_tables.
func TestBuildStackLayout(t *testing.T) {
	var rnd [16]byte
	copy(rnd[:], testRandom)
	var gotExecfn, gotPlatform, gotRandom hostarch.Addr
	img, err := buildStack(stackArgs{
		top:      0x10000,
		argv:     []string{"a", "bc"},
		envv:     []string{"X=1"},
		execfn:   "/p",
		platform: "x86_64",
		random:   rnd,
		auxv: func(execfn, platform, random hostarch.Addr) []uint64 {
			gotExecfn, gotPlatform, gotRandom = execfn, platform, random
			return []uint64{linux.AT_PAGESZ, 4096, linux.AT_RANDOM, uint64(random)}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// top-8 NULL; "/p\0" at 0xfff5; "X=1\0" at 0xfff1; "a\0bc\0" at 0xffec;
	// align to 0xffe0; "x86_64\0" at 0xffd9; random at 0xffc9; 6 auxv
	// words and 6 pointer words below that, aligned: sp = 0xff60.
	if gotExecfn != 0xfff5 || gotPlatform != 0xffd9 || gotRandom != 0xffc9 {
		t.Errorf("execfn %v platform %v random %v", gotExecfn, gotPlatform, gotRandom)
	}
	if img.sp != 0xff60 || len(img.data) != 0x10000-0xff60 {
		t.Fatalf("sp = %v, %d bytes", img.sp, len(img.data))
	}
	if img.argv != (hostarch.AddrRange{Start: 0xffec, End: 0xfff1}) || img.envv != (hostarch.AddrRange{Start: 0xfff1, End: 0xfff5}) {
		t.Errorf("argv %v envv %v", img.argv, img.envv)
	}
	words := make([]uint64, 12)
	for i := range words {
		words[i] = binary.LittleEndian.Uint64(img.data[i*8:])
	}
	want := []uint64{2, 0xffec, 0xffee, 0, 0xfff1, 0, linux.AT_PAGESZ, 4096, linux.AT_RANDOM, 0xffc9, 0, 0}
	if !slices.Equal(words, want) {
		t.Errorf("words at sp = %#x, want %#x", words, want)
	}
	at := func(a hostarch.Addr, n int) []byte { return img.data[a-img.sp:][:n] }
	for _, c := range []struct {
		addr hostarch.Addr
		want string
	}{
		{0xffec, "a\x00bc\x00X=1\x00/p\x00\x00\x00\x00\x00\x00\x00\x00\x00"},
		{0xffd9, "x86_64\x00"},
		{0xffc9, string(testRandom)},
	} {
		if got := at(c.addr, len(c.want)); string(got) != c.want {
			t.Errorf("bytes at %v = %q, want %q", c.addr, got, c.want)
		}
	}
	if !slices.Equal(img.auxv, []uint64{linux.AT_PAGESZ, 4096, linux.AT_RANDOM, 0xffc9, 0, 0}) {
		t.Errorf("auxv = %v", img.auxv)
	}
}

// TestStackAlignment checks that rsp is 16-byte aligned for every parity of
// argc/envc and string length.
func TestStackAlignment(t *testing.T) {
	for argc := 0; argc < 4; argc++ {
		for envc := 0; envc < 4; envc++ {
			for extra := 0; extra < 16; extra++ {
				argv := slices.Repeat([]string{strings.Repeat("a", extra)}, argc)
				envv := slices.Repeat([]string{"E=" + strings.Repeat("b", extra)}, envc)
				img, err := buildStack(stackArgs{
					top: 0x7fffff000, argv: argv, envv: envv, execfn: "/x",
					auxv: func(execfn, platform, random hostarch.Addr) []uint64 {
						return []uint64{linux.AT_RANDOM, uint64(random)}
					},
				})
				if err != nil || img.sp%16 != 0 {
					t.Fatalf("argc %d envc %d extra %d: sp %v, %v", argc, envc, extra, img.sp, err)
				}
			}
		}
	}
}

func TestArgLimits(t *testing.T) {
	longest := strings.Repeat("x", maxArgStrlen-1)
	for _, tc := range []struct {
		name       string
		argv, envv []string
		path       string
		want       error
	}{
		{name: "longest string", argv: []string{"x", longest}, path: "/x"},
		{name: "string too long", argv: []string{"x", longest + "x"}, path: "/x", want: errno.E2BIG},
		{name: "env string too long", argv: []string{"x"}, envv: []string{longest + "x"}, path: "/x", want: errno.E2BIG},
		// 15 strings of 128 KiB = 1.875 MiB fit in 2 MiB; 16 don't.
		{name: "near the total", argv: slices.Repeat([]string{longest}, 15), path: "/x"},
		{name: "over the total", argv: slices.Repeat([]string{longest}, 16), path: "/x", want: errno.E2BIG},
		{name: "pointers alone too many", argv: make([]string, argLimit/8), path: "/x", want: errno.E2BIG},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := checkArgLimits(tc.argv, tc.envv, tc.path); err != tc.want {
				t.Errorf("checkArgLimits = %v, want %v", err, tc.want)
			}
			// And through Load, which must also fit the result on the stack.
			fs := &testFS{files: map[string][]byte{"/x": minimalELF(t, nil)}}
			img, mem, err := load(t, fs, testArgs(fs, "/x", tc.argv, tc.envv))
			if err != tc.want {
				t.Fatalf("Load = %v, want %v", err, tc.want)
			}
			if err == nil {
				if got := readInitialStack(t, mem, img.Stack); len(got.argv) != len(tc.argv) {
					t.Errorf("argc = %d, want %d", len(got.argv), len(tc.argv))
				}
			}
		})
	}
}

// TestEmptyArgv checks fs/exec.c:do_execveat_common's argc == 0 fix-up.
func TestEmptyArgv(t *testing.T) {
	fs := &testFS{files: map[string][]byte{"/x": minimalELF(t, nil)}}
	img, mem, err := load(t, fs, testArgs(fs, "/x", nil, []string{"A=1"}))
	if err != nil {
		t.Fatal(err)
	}
	s := readInitialStack(t, mem, img.Stack)
	if s.argc != 1 || s.argv[0] != "" || !slices.Equal(img.Argv, []string{""}) || !slices.Equal(s.envv, []string{"A=1"}) {
		t.Errorf("argv %q (argc %d), image %q, envv %q", s.argv, s.argc, img.Argv, s.envv)
	}
}

// TestLoadDoesNotAliasArgv makes sure script rewriting leaves the caller's
// slice alone.
func TestLoadDoesNotAliasArgv(t *testing.T) {
	fs := &testFS{files: map[string][]byte{
		"/bin/sh": minimalELF(t, nil),
		"/s":      []byte("#!/bin/sh -e\n"),
	}}
	argv := make([]string, 2, 10)
	argv[0], argv[1] = "s", "a"
	img, _, err := load(t, fs, testArgs(fs, "/s", argv, nil))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(argv, []string{"s", "a"}) || !slices.Equal(img.Argv, []string{"/bin/sh", "-e", "/s", "a"}) {
		t.Errorf("argv %q, image argv %q", argv, img.Argv)
	}
	if img.ExecPath != "/bin/sh" || img.Name != "s" {
		t.Errorf("ExecPath %q Name %q", img.ExecPath, img.Name)
	}
}

// TestRandomFailure checks that a failing AT_RANDOM source fails the exec.
func TestRandomFailure(t *testing.T) {
	fs := &testFS{files: map[string][]byte{"/x": minimalELF(t, nil)}}
	args := testArgs(fs, "/x", []string{"x"}, nil)
	args.Random = bytes.NewReader(testRandom[:8])
	if _, _, err := load(t, fs, args); err != errno.EIO {
		t.Errorf("Load = %v, want EIO", err)
	}
}
