package loader

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/bits"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// Limits on what we accept from an ELF file.
const (
	// maxPhdrBytes bounds e_phnum*e_phentsize, as
	// fs/binfmt_elf.c:load_elf_phdrs does ("size > 65536").
	maxPhdrBytes = 65536
	// maxInterpPath is PATH_MAX: fs/binfmt_elf.c:load_elf_binary rejects a
	// longer PT_INTERP.
	maxInterpPath = 4096
)

// progHeader is one parsed struct elf64_phdr.
type progHeader struct {
	typ, flags                          uint32
	offset, vaddr, filesz, memsz, align uint64
}

// perms returns the mapping permissions p_flags ask for.
func (p *progHeader) perms() hostarch.AccessType {
	return hostarch.AccessType{
		Read:    p.flags&linux.PF_R != 0,
		Write:   p.flags&linux.PF_W != 0,
		Execute: p.flags&linux.PF_X != 0,
	}
}

// elfFile is what the loader needs from one validated ELF file. Addresses are
// the file's own (before the load bias).
type elfFile struct {
	typ   linux.ElfType
	entry uint64
	phnum uint16
	phdrs []progHeader
	// interp is the PT_INTERP path, valid if hasInterp.
	interp    string
	hasInterp bool
	// execStack is set by a PT_GNU_STACK with PF_X.
	execStack bool
	// start and end are the page-aligned bounds of all PT_LOAD segments.
	start, end uint64
	// align is the largest power-of-two p_align of the PT_LOAD segments, at
	// least a page.
	align uint64
	// phdrAddr is where the program headers are in memory (AT_PHDR).
	phdrAddr uint64
}

// elfHeader is the part of struct elf64_hdr the loader uses.
type elfHeader struct {
	typ       linux.ElfType
	entry     uint64
	phoff     uint64
	phentsize uint16
	phnum     uint16
}

// parseHeader parses and checks an ELF header, as the checks at the top of
// fs/binfmt_elf.c:load_elf_binary and load_elf_phdrs do. Anything we cannot
// run is ENOEXEC.
func parseHeader(b []byte) (elfHeader, error) {
	if len(b) < linux.ELF64_EHDR_SIZE || string(b[:linux.SELFMAG]) != linux.ELFMAG {
		return elfHeader{}, errno.ENOEXEC
	}
	if b[linux.EI_CLASS] != linux.ELFCLASS64 || b[linux.EI_DATA] != linux.ELFDATA2LSB {
		return elfHeader{}, errno.ENOEXEC
	}
	le := binary.LittleEndian
	h := elfHeader{
		typ:       linux.ElfType(le.Uint16(b[16:])),
		entry:     le.Uint64(b[24:]),
		phoff:     le.Uint64(b[32:]),
		phentsize: le.Uint16(b[54:]),
		phnum:     le.Uint16(b[56:]),
	}
	if h.typ != linux.ET_EXEC && h.typ != linux.ET_DYN {
		return elfHeader{}, errno.ENOEXEC
	}
	if le.Uint16(b[18:]) != linux.EM_X86_64 {
		return elfHeader{}, errno.ENOEXEC
	}
	if h.phentsize != linux.ELF64_PHDR_SIZE {
		return elfHeader{}, errno.ENOEXEC
	}
	size := uint64(h.phnum) * linux.ELF64_PHDR_SIZE // At most 0xffff*56: no overflow.
	if size == 0 || size > maxPhdrBytes {
		return elfHeader{}, errno.ENOEXEC
	}
	// The read below takes an int64 offset; reject offsets it can't express.
	if h.phoff > math.MaxInt64-size {
		return elfHeader{}, errno.ENOEXEC
	}
	return h, nil
}

// parseProgHeaders decodes n program headers from b.
func parseProgHeaders(b []byte, n int) []progHeader {
	le := binary.LittleEndian
	phdrs := make([]progHeader, n)
	for i := range phdrs {
		p := b[i*linux.ELF64_PHDR_SIZE:]
		phdrs[i] = progHeader{
			typ:    le.Uint32(p[0:]),
			flags:  le.Uint32(p[4:]),
			offset: le.Uint64(p[8:]),
			vaddr:  le.Uint64(p[16:]),
			filesz: le.Uint64(p[32:]),
			memsz:  le.Uint64(p[40:]),
			align:  le.Uint64(p[48:]),
		}
	}
	return phdrs
}

// readFull reads exactly len(buf) bytes at off; a short file is ENOEXEC (a
// truncated executable is malformed, whatever the read error says).
func readFull(f File, buf []byte, off uint64) error {
	// The whole range must be expressible as int64 file offsets, or a
	// hostile offset could surface as EINVAL from the file system.
	if off > math.MaxInt64-uint64(len(buf)) {
		return errno.ENOEXEC
	}
	n, err := f.ReadAt(buf, int64(off))
	if n == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return errno.ENOEXEC
	}
	return toErrno(err, errno.EIO)
}

// parseELF reads and validates the ELF file f whose first bytes are head.
// isMain says whether PT_INTERP is honoured: an interpreter's own PT_INTERP
// is ignored, as in fs/binfmt_elf.c:load_elf_interp.
func parseELF(f File, head []byte, isMain bool) (*elfFile, error) {
	h, err := parseHeader(head)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, int(h.phnum)*linux.ELF64_PHDR_SIZE)
	if err := readFull(f, buf, h.phoff); err != nil {
		return nil, err
	}
	e := &elfFile{
		typ:   h.typ,
		entry: h.entry,
		phnum: h.phnum,
		phdrs: parseProgHeaders(buf, int(h.phnum)),
		align: hostarch.PageSize,
	}
	var phdrFromPT uint64
	var havePT, havePHDR, haveLoad bool
	for i := range e.phdrs {
		p := &e.phdrs[i]
		switch p.typ {
		case linux.PT_LOAD:
			if err := checkLoad(p); err != nil {
				return nil, err
			}
			// fs/binfmt_elf.c:load_elf_binary: "Figure out which segment
			// in the file contains the Program Header table, and map to
			// the associated memory address." The last match wins, as
			// there.
			if p.offset <= h.phoff && h.phoff-p.offset < p.filesz {
				e.phdrAddr = h.phoff - p.offset + p.vaddr
				havePHDR = true
			}
			if p.align > e.align && bits.OnesCount64(p.align) == 1 {
				e.align = p.align
			}
			if p.memsz == 0 {
				continue // Maps nothing (fs/binfmt_elf.c:elf_load).
			}
			start := p.vaddr &^ (hostarch.PageSize - 1)
			end, _ := hostarch.PageRoundUp(p.vaddr + p.memsz) // checkLoad ruled out overflow.
			if !haveLoad || start < e.start {
				e.start = start
			}
			if !haveLoad || end > e.end {
				e.end = end
			}
			haveLoad = true
		case linux.PT_INTERP:
			if !isMain || e.hasInterp {
				continue // Linux uses the first PT_INTERP only.
			}
			path, err := readInterpPath(f, p)
			if err != nil {
				return nil, err
			}
			e.interp, e.hasInterp = path, true
		case linux.PT_GNU_STACK:
			e.execStack = p.flags&linux.PF_X != 0
		case linux.PT_PHDR:
			if !havePT {
				phdrFromPT, havePT = p.vaddr, true
			}
		}
	}
	if !haveLoad {
		return nil, errno.ENOEXEC // Nothing to run.
	}
	// Linux leaves AT_PHDR at the bias alone when no PT_LOAD holds the
	// headers; PT_PHDR is a better guess, and what ld.so trusts anyway.
	if !havePHDR && havePT {
		e.phdrAddr = phdrFromPT
	}
	return e, nil
}

// checkLoad rejects PT_LOAD segments that cannot be mapped as asked.
func checkLoad(p *progHeader) error {
	if p.filesz > p.memsz {
		return errno.ENOEXEC
	}
	// The segment's end, rounded up to a page, must not wrap; nor may the
	// file range.
	if end, ok := hostarch.Addr(p.vaddr).AddLength(p.memsz); !ok {
		return errno.ENOEXEC
	} else if _, ok := end.RoundUp(); !ok {
		return errno.ENOEXEC
	}
	if p.offset > math.MaxInt64 || p.filesz > math.MaxInt64-p.offset {
		return errno.ENOEXEC
	}
	// mmap maps whole pages, so the file offset and the address must agree
	// within a page (else Linux's elf_map would fail with EINVAL).
	if p.offset%hostarch.PageSize != p.vaddr%hostarch.PageSize {
		return errno.ENOEXEC
	}
	return nil
}

// readInterpPath reads the PT_INTERP path as fs/binfmt_elf.c:load_elf_binary
// does: between 2 and PATH_MAX bytes, NUL-terminated.
func readInterpPath(f File, p *progHeader) (string, error) {
	if p.filesz < 2 || p.filesz > maxInterpPath {
		return "", errno.ENOEXEC
	}
	buf := make([]byte, p.filesz)
	if err := readFull(f, buf, p.offset); err != nil {
		return "", err
	}
	if buf[len(buf)-1] != 0 {
		return "", errno.ENOEXEC
	}
	return cstr(buf), nil
}
