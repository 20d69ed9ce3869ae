// Package vdso is the sandbox's vDSO: a small ELF image (built from src/ by
// `make vdso`) that every guest gets at AT_SYSINFO_EHDR, and the vvar page
// below it through which the sentry publishes its guest clock. With it,
// clock_gettime, gettimeofday, time and getcpu run in the guest without a
// trap; Go's runtime alone reads the clock millions of times in a build.
//
// Every guest sees one clock, whichever way it asks: the vDSO and the
// sentry's clock_gettime evaluate the same TSC-based formula from the same
// page (Clock.Now), and the sentry moves the formula towards the host's
// clocks by changing its slope, never by stepping it back.
package vdso

import (
	"bytes"
	"debug/elf"
	_ "embed"
	"fmt"

	"github.com/runsc-lite/runsc-lite/hostarch"
)

//go:embed vdso.so
var image []byte

// imageSize is the image's length rounded up to pages: what is mapped.
var imageSize = func() uint64 {
	if err := checkImage(image); err != nil {
		// The image is built and committed with the source; a bad one is
		// a build mistake that TestImage reports.
		panic(fmt.Sprintf("vdso: bad embedded image: %v", err))
	}
	n, _ := hostarch.PageRoundUp(uint64(len(image)))
	return n
}()

// checkImage checks what mapping the image as a flat file relies on: one
// PT_LOAD at offset 0 and address 0 covering the whole file with no bss, a
// dynamic section, and no relocations to apply.
func checkImage(b []byte) error {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return err
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 || f.Type != elf.ET_DYN {
		return fmt.Errorf("not an x86-64 shared object")
	}
	loads, dynamic := 0, false
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_LOAD:
			loads++
			if p.Off != 0 || p.Vaddr != 0 || p.Filesz != p.Memsz || p.Filesz > uint64(len(b)) {
				return fmt.Errorf("PT_LOAD must map the file as it is (off %#x vaddr %#x filesz %#x memsz %#x)",
					p.Off, p.Vaddr, p.Filesz, p.Memsz)
			}
			if p.Flags&elf.PF_W != 0 {
				return fmt.Errorf("PT_LOAD is writable")
			}
		case elf.PT_DYNAMIC:
			dynamic = true
		}
	}
	if loads != 1 || !dynamic {
		return fmt.Errorf("want one PT_LOAD and a PT_DYNAMIC, got %d PT_LOAD, dynamic %v", loads, dynamic)
	}
	for _, s := range f.Sections {
		if (s.Type == elf.SHT_RELA || s.Type == elf.SHT_REL) && s.Size > 0 {
			return fmt.Errorf("section %s holds relocations", s.Name)
		}
	}
	return nil
}
