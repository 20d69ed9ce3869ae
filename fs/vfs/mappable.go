package vfs

import "github.com/runsc-lite/runsc-lite/sentry/memmap"

// MappableImpl is implemented by file descriptions whose file can be
// mapped MAP_SHARED with its pages in the memory file (tmpfs regular
// files, hence memfds and the overlay's copied-up files).
type MappableImpl interface {
	Mappable() (memmap.Mappable, bool)
}

// Mappable returns the memmap.Mappable that a MAP_SHARED mapping of fd
// maps, or false if fd's file cannot be mapped shared that way (the
// memory manager then refuses a writable shared mapping).
func (fd *FileDescription) Mappable() (memmap.Mappable, bool) {
	if fd.IsPath() {
		return nil, false
	}
	if m, ok := fd.impl.(MappableImpl); ok {
		return m.Mappable()
	}
	return nil, false
}
