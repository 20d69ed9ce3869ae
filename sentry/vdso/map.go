package vdso

import (
	"io"

	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/memmap"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// Size is the address space one mapping takes: the vvar page, then the
// image.
func (v *VDSO) Size() uint64 { return hostarch.PageSize + imageSize }

// Map maps the vvar page at addr and the image just above it, the layout
// the image was linked for, and returns the image's address (the value of
// AT_SYSINFO_EHDR). addr must be page aligned and [addr, addr+Size()) free.
//
// The vvar page is the sandbox's one page, shared and read-only (mprotect
// can't make it writable, so no guest can skew another's clock). The
// image is a private copy, like any file mapping, so a debugger's
// breakpoints stay in one process.
func (v *VDSO) Map(mem mm.Mapper, addr hostarch.Addr) (hostarch.Addr, error) {
	v.Start()
	if _, err := mem.MMap(mm.MMapOpts{
		Length:   hostarch.PageSize,
		Addr:     addr,
		Fixed:    true,
		Perms:    hostarch.Read,
		MaxPerms: hostarch.Read,
		File:     vvarFile{},
		Mappable: vvarMappable{off: v.off},
	}); err != nil {
		return 0, err
	}
	text := addr + hostarch.PageSize
	if _, err := mem.MMap(mm.MMapOpts{
		Length:   imageSize,
		Addr:     text,
		Fixed:    true,
		Perms:    hostarch.AccessType{Read: true, Execute: true},
		MaxPerms: hostarch.AnyAccess,
		Private:  true,
		File:     imageFile{},
	}); err != nil {
		return 0, err
	}
	return text, nil
}

// imageFile backs the image's mappings. It is static: no references.
type imageFile struct{}

func (imageFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(image)) {
		return 0, io.EOF
	}
	n := copy(p, image[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (imageFile) MappingIdentity() (dev, ino uint64, name string) { return 0, 0, "[vdso]" }
func (imageFile) IncRef()                                         {}
func (imageFile) DecRef()                                         {}

// vvarFile names the vvar mapping; its page comes from vvarMappable.
type vvarFile struct{}

func (vvarFile) ReadAt(p []byte, off int64) (int, error)         { return 0, io.EOF }
func (vvarFile) MappingIdentity() (dev, ino uint64, name string) { return 0, 0, "[vvar]" }
func (vvarFile) IncRef()                                         {}
func (vvarFile) DecRef()                                         {}

// vvarMappable serves the one vvar page of the memory file at off.
type vvarMappable struct{ off uint64 }

func (m vvarMappable) Translate(off, n uint64, at hostarch.AccessType) ([]memmap.Translation, error) {
	if off >= hostarch.PageSize || at.Write {
		return nil, io.EOF
	}
	return []memmap.Translation{{FileOff: 0, MemOff: m.off, Len: hostarch.PageSize}}, nil
}

func (vvarMappable) AddMapping(memmap.MappingSpace, hostarch.AddrRange, uint64, bool)    {}
func (vvarMappable) RemoveMapping(memmap.MappingSpace, hostarch.AddrRange, uint64, bool) {}
