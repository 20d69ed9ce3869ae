package loader

import (
	"bytes"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// FuzzLoad feeds arbitrary bytes to the loader as the executable (with a
// valid ET_DYN interpreter at /lib/ld.so and an arbitrary one at /lib/fuzz)
// and requires an errno or a sane image, never a panic.
func FuzzLoad(f *testing.F) {
	f.Add(minimalELF(f, nil))
	f.Add(minimalELF(f, withInterp("/lib/ld.so")))
	f.Add(minimalELF(f, withInterp("/lib/fuzz")))
	f.Add(minimalELF(f, func(e *testELF) { e.typ = 3 }))
	f.Add([]byte("#!/lib/ld.so -x\n"))
	f.Add([]byte("#!/bin/fuzz\n"))
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs := &testFS{files: map[string][]byte{
			"/bin/fuzz":  data,
			"/lib/fuzz":  data,
			"/lib/ld.so": dynInterp(t),
		}}
		mem := newFakeMemory()
		img, err := Load(mem, testArgs(fs, "/bin/fuzz", []string{"fuzz", "arg"}, []string{"E=1"}))
		if err != nil {
			if _, ok := err.(errno.Errno); !ok {
				t.Fatalf("Load returned a non-errno error %T: %v", err, err)
			}
			if img != nil {
				t.Fatalf("Load returned an image with error %v", err)
			}
		} else {
			if img.Stack%16 != 0 || img.Entry >= testMaxAddr {
				t.Fatalf("image %+v", img)
			}
			for _, m := range mem.maps {
				if m.r.Start < testMinAddr || m.r.End > testMaxAddr {
					t.Fatalf("mapping %v outside the usable range", m.r)
				}
			}
			if s := readInitialStack(t, mem, img.Stack); s.argc < 2 {
				t.Fatalf("argc = %d", s.argc)
			}
			img.Executable.DecRef()
		}
		mem.release()
		fs.checkRefs(t)
	})
}

// FuzzParseHeader checks the header parser alone, on inputs of any size.
func FuzzParseHeader(f *testing.F) {
	f.Add(minimalELF(f, nil)[:64])
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := parseHeader(data)
		if err != nil {
			return
		}
		size := uint64(h.phnum) * 56
		if h.phentsize != 56 || size == 0 || size > maxPhdrBytes || h.phoff+size < h.phoff {
			t.Fatalf("accepted header %+v", h)
		}
		// Whatever program headers follow must decode without panicking.
		phdrs := parseProgHeaders(bytes.Repeat([]byte{0xff}, int(size)), int(h.phnum))
		for i := range phdrs {
			_ = checkLoad(&phdrs[i])
		}
		_ = hostarch.Addr(h.entry)
	})
}
