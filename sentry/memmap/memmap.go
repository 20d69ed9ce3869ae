// Package memmap is the contract between the memory manager and files
// that can be mapped MAP_SHARED (tmpfs files, memfds): their pages live in
// the sandbox memory file, so a shared mapping maps those very pages and
// every process, and read/write through the sentry's own mapping, see the
// same bytes. It is a leaf package so that mm and fs need not import each
// other.
package memmap

import "github.com/runsc-lite/runsc-lite/hostarch"

// Translation says that [FileOff, FileOff+Len) of a file is backed by
// [MemOff, MemOff+Len) of the sandbox memory file.
type Translation struct {
	FileOff uint64
	MemOff  uint64
	Len     uint64
}

// MappingSpace is an address space with shared mappings of a Mappable
// (implemented by *mm.MemoryManager).
type MappingSpace interface {
	// Invalidate drops the host windows of [ar.Start, ar.End) so that the
	// next access faults and translates again (after a truncate). It must
	// not call back into the Mappable, and may be called with the
	// Mappable's locks held.
	Invalidate(ar hostarch.AddrRange)
}

// Mappable is a file whose pages can be mapped shared.
type Mappable interface {
	// Translate returns the memory file ranges backing [off, off+n) of the
	// file, allocating pages as needed. The result may cover less than n
	// (for example at the end of the file). An offset at or beyond the end
	// of the file fails: the memory manager turns it into SIGBUS.
	Translate(off, n uint64, at hostarch.AccessType) ([]Translation, error)
	// AddMapping records that ms maps [off, off+ar.Length()) of the file
	// at ar; RemoveMapping undoes it. writable says whether the mapping
	// may write (tmpfs uses it for its own accounting only).
	AddMapping(ms MappingSpace, ar hostarch.AddrRange, off uint64, writable bool)
	RemoveMapping(ms MappingSpace, ar hostarch.AddrRange, off uint64, writable bool)
}
