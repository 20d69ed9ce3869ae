// Package memfile is the sandbox's memory file: one memfd that backs all
// guest anonymous and private memory. The sentry maps the whole file once,
// so it reaches guest memory through its own mapping (DESIGN.md principle
// 3); stubs map windows of the same file.
package memfile

import (
	"fmt"
	"sort"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// DefaultSize is the memfd's size. The file is sparse: only pages the guest
// touches use memory, so a large size costs nothing but address space in
// the sentry.
const DefaultSize = 64 << 30

// MemoryFile is the sandbox memory file.
type MemoryFile struct {
	fd   int
	size uint64
	// mapping is the sentry's MAP_SHARED view of the whole file. It is never
	// unmapped or shrunk while the MemoryFile lives, so slices of it stay
	// valid (DESIGN.md pitfall 5).
	mapping []byte

	// mu protects free.
	mu sync.Mutex
	// free holds the unallocated ranges, sorted by offset and coalesced.
	free []fileRange
}

type fileRange struct{ start, end uint64 }

// New creates a memory file of the given size.
func New(size uint64) (*MemoryFile, error) {
	fd, err := unix.MemfdCreate("runsc-lite-memory", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("ftruncate memfd: %w", err)
	}
	m, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_NORESERVE)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("mmap memfd: %w", err)
	}
	return &MemoryFile{fd: fd, size: size, mapping: m, free: []fileRange{{0, size}}}, nil
}

// FD returns the memfd. Platforms pass it to stubs.
func (f *MemoryFile) FD() int { return f.fd }

// Allocate reserves n bytes (a page multiple) and returns their offset. The
// pages read as zeros.
func (f *MemoryFile) Allocate(n uint64) (uint64, error) {
	if n == 0 || n%hostarch.PageSize != 0 {
		return 0, errno.EINVAL
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// First fit from the low end keeps the file compact.
	for i, r := range f.free {
		if r.end-r.start < n {
			continue
		}
		off := r.start
		if r.end-r.start == n {
			f.free = append(f.free[:i], f.free[i+1:]...)
		} else {
			f.free[i].start += n
		}
		return off, nil
	}
	return 0, errno.ENOMEM
}

// Free returns [off, off+n) to the allocator and releases its memory.
func (f *MemoryFile) Free(off, n uint64) {
	if n == 0 {
		return
	}
	// Punching the hole gives the pages back to the host and makes them
	// read as zeros when reallocated.
	_ = unix.Fallocate(f.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(off), int64(n))
	f.mu.Lock()
	defer f.mu.Unlock()
	i := sort.Search(len(f.free), func(i int) bool { return f.free[i].start >= off })
	f.free = append(f.free, fileRange{})
	copy(f.free[i+1:], f.free[i:])
	f.free[i] = fileRange{off, off + n}
	// Coalesce with the neighbours.
	if i+1 < len(f.free) && f.free[i].end == f.free[i+1].start {
		f.free[i].end = f.free[i+1].end
		f.free = append(f.free[:i+1], f.free[i+2:]...)
	}
	if i > 0 && f.free[i-1].end == f.free[i].start {
		f.free[i-1].end = f.free[i].end
		f.free = append(f.free[:i], f.free[i+1:]...)
	}
}

// TryExtend grows the allocation [off, off+n) to off+n+extra in place if
// the following bytes are free, and reports whether it did.
func (f *MemoryFile) TryExtend(off, n, extra uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	end := off + n
	i := sort.Search(len(f.free), func(i int) bool { return f.free[i].start >= end })
	if i == len(f.free) || f.free[i].start != end || f.free[i].end-f.free[i].start < extra {
		return false
	}
	f.free[i].start += extra
	if f.free[i].start == f.free[i].end {
		f.free = append(f.free[:i], f.free[i+1:]...)
	}
	return true
}

// Slice returns the sentry's view of [off, off+n). The caller must own the
// range (it was returned by Allocate and not freed).
func (f *MemoryFile) Slice(off, n uint64) []byte {
	if off > f.size || n > f.size-off {
		panic(fmt.Sprintf("memfile: slice [%#x, +%#x) outside the file", off, n))
	}
	return f.mapping[off : off+n : off+n]
}

// Allocated returns the number of allocated bytes (for accounting).
func (f *MemoryFile) Allocated() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var free uint64
	for _, r := range f.free {
		free += r.end - r.start
	}
	return f.size - free
}

// Release unmaps and closes the file.
func (f *MemoryFile) Release() {
	unix.Munmap(f.mapping)
	unix.Close(f.fd)
}

// Decommit releases the memory of [off, off+n) without freeing the range:
// it reads as zeros afterwards (madvise(MADV_DONTNEED) on private memory).
func (f *MemoryFile) Decommit(off, n uint64) error {
	return unix.Fallocate(f.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, int64(off), int64(n))
}
