package mm

import (
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/memmap"
)

// File is something that can back a private file mapping. vfs file
// descriptions implement it.
type File interface {
	// ReadAt reads file contents as io.ReaderAt does (io.EOF at the end).
	ReadAt(p []byte, off int64) (int, error)
	// MappingIdentity returns the device, inode number and guest path shown
	// for the mapping in /proc/[pid]/maps.
	MappingIdentity() (dev, ino uint64, name string)
	// IncRef and DecRef manage the mapping's reference on the file.
	IncRef()
	DecRef()
}

// MMapOpts are the options of one mapping.
type MMapOpts struct {
	// Length is the length in bytes; it is rounded up to pages.
	Length uint64
	// Addr is the hint, or the exact address with Fixed.
	Addr hostarch.Addr
	// Fixed replaces whatever is at Addr (MAP_FIXED); NoReplace fails with
	// EEXIST instead (MAP_FIXED_NOREPLACE).
	Fixed, NoReplace bool
	// Perms are the mapping's permissions, MaxPerms the most mprotect may
	// grant later.
	Perms, MaxPerms hostarch.AccessType
	// Private is MAP_PRIVATE; otherwise MAP_SHARED.
	Private bool
	// File backs the mapping at Offset; nil means anonymous memory.
	File   File
	Offset uint64
	// GrowsDown marks a MAP_GROWSDOWN (stack) mapping.
	GrowsDown bool
	// Name labels an anonymous mapping in /proc/[pid]/maps ("[stack]").
	Name string
	// Mappable, for a MAP_SHARED mapping of File, serves the file's pages
	// from the memory file, so the mapping shares them with the file and
	// every other such mapping. Without it a file mapping is a private
	// copy.
	Mappable memmap.Mappable
}

// Mapper creates mappings as mmap(2) does (implemented by
// *MemoryManager).
type Mapper interface {
	MMap(opts MMapOpts) (hostarch.Addr, error)
}
