// Package mm is the guest memory manager. A MemoryManager keeps the guest's
// view of its address space (vmas) and builds the host view (windows of the
// sandbox memfd in the stub) from it.
//
// Every vma owns a range of the memory file: anonymous memory is allocated
// there (sparse, so it costs nothing until touched) and mapped into the
// stub at once; private file mappings are copied into it lazily, a chunk at
// a time, when the guest faults on them or the sentry reads them. The
// sentry reads and writes guest memory through its own mapping of the
// memory file, after checking the vmas and their permissions, so a bad
// guest pointer is EFAULT and never a sentry crash.
//
// Lock order: MemoryManager.mu, then memfile's lock.
package mm

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/sentry/memmap"
)

// fileChunkPages is how many pages of a private file mapping are read at
// once on a fault: enough to make sequential faults rare, small enough not
// to read much that is never used.
const fileChunkPages = 16

// MemoryManager is one guest address space.
type MemoryManager struct {
	mf *memfile.MemoryFile
	as platform.AddressSpace

	// minAddr and maxAddr bound guest mappings; mmapBase is where top-down
	// searches for free space start. Immutable.
	minAddr, maxAddr, mmapBase hostarch.Addr

	// users counts the tasks using the address space.
	users atomic.Int32

	// mu protects the fields below.
	mu sync.Mutex
	// vmas is sorted by start; vmas do not overlap.
	vmas []*vma
	// brkStart is the start of the heap; brk is the current break.
	brkStart, brk hostarch.Addr
	// argv, envv and auxv are recorded by the loader for /proc.
	argv, envv hostarch.AddrRange
	auxv       []uint64
	// unpatchable caches syscall sites that PatchSyscall found it cannot
	// rewrite (usertrap.go).
	unpatchable map[hostarch.Addr]struct{}
}

// vma is one guest mapping.
type vma struct {
	start, end      hostarch.Addr
	perms, maxPerms hostarch.AccessType
	private         bool
	growsDown       bool
	// name labels anonymous mappings ("[heap]", "[stack]").
	name string

	// mfOff is the memory file offset backing start; the vma owns
	// [mfOff, mfOff+len) unless shared is set.
	mfOff uint64
	// shared, for MAP_SHARED anonymous memory, is the memory file range the
	// vma is part of, shared with other vmas (pieces of a split mapping, or
	// the same mapping in forked processes).
	shared *sharedRange

	// mappable, for a MAP_SHARED file mapping, serves the file's pages
	// (at fileOff) from the memory file; the vma owns no memory file range
	// then, and filled is nil.
	mappable memmap.Mappable

	// file backs the mapping at fileOff; nil for anonymous memory. filled
	// says which pages hold the file's data (and are mapped in the stub);
	// it is nil for anonymous memory, which is always mapped.
	file    File
	fileOff uint64
	filled  []bool
	dev     uint64
	ino     uint64
	path    string
}

// sharedRange is a memory file range used by several vmas, possibly in
// different MemoryManagers (after fork), so its count is atomic.
type sharedRange struct {
	off, length uint64
	refs        atomic.Int32
}

func (v *vma) rangeOf() hostarch.AddrRange { return hostarch.AddrRange{Start: v.start, End: v.end} }

func (v *vma) length() uint64 { return uint64(v.end - v.start) }

func (v *vma) pages() int { return int(v.length() >> hostarch.PageShift) }

// New returns an empty address space backed by mf and hosted in as.
func New(mf *memfile.MemoryFile, as platform.AddressSpace, p platform.Platform) *MemoryManager {
	mm := &MemoryManager{
		mf:      mf,
		as:      as,
		minAddr: p.MinUserAddress(),
		maxAddr: p.MaxUserAddress(),
	}
	// Leave room for the stack (and its growth) below the top, as Linux's
	// mmap_base leaves the stack rlimit plus a gap.
	mm.mmapBase = mm.maxAddr - hostarch.PageSize - 128<<20
	mm.users.Store(1)
	return mm
}

// IncUsers adds a user (a task sharing the address space).
func (mm *MemoryManager) IncUsers() { mm.users.Add(1) }

// DecUsers drops a user; the last one releases the address space.
func (mm *MemoryManager) DecUsers() {
	if mm.users.Add(-1) > 0 {
		return
	}
	mm.mu.Lock()
	for _, v := range mm.vmas {
		mm.releaseVMALocked(v)
	}
	mm.vmas = nil
	mm.mu.Unlock()
	mm.as.Release()
}

// AddressSpace returns the host address space.
func (mm *MemoryManager) AddressSpace() platform.AddressSpace { return mm.as }

func (mm *MemoryManager) releaseVMALocked(v *vma) {
	if v.mappable != nil {
		v.mappable.RemoveMapping(mm, v.rangeOf(), v.fileOff, v.maxPerms.Write)
	} else if v.shared != nil {
		if v.shared.refs.Add(-1) == 0 {
			mm.mf.Free(v.shared.off, v.shared.length)
		}
	} else {
		mm.mf.Free(v.mfOff, v.length())
	}
	if v.file != nil {
		v.file.DecRef()
	}
}

// findLocked returns the index of the first vma that ends after addr.
func (mm *MemoryManager) findLocked(addr hostarch.Addr) int {
	return sort.Search(len(mm.vmas), func(i int) bool { return mm.vmas[i].end > addr })
}

// vmaAtLocked returns the vma containing addr, or nil.
func (mm *MemoryManager) vmaAtLocked(addr hostarch.Addr) *vma {
	i := mm.findLocked(addr)
	if i < len(mm.vmas) && mm.vmas[i].start <= addr {
		return mm.vmas[i]
	}
	return nil
}

// isFreeLocked reports whether no vma overlaps r.
func (mm *MemoryManager) isFreeLocked(r hostarch.AddrRange) bool {
	i := mm.findLocked(r.Start)
	return i == len(mm.vmas) || mm.vmas[i].start >= r.End
}

// findGapLocked finds length free bytes, searching down from below
// mmapBase as Linux's top-down allocator does.
func (mm *MemoryManager) findGapLocked(length uint64) (hostarch.Addr, bool) {
	top := mm.mmapBase
	for i := len(mm.vmas) - 1; i >= -1; i-- {
		lo := mm.minAddr
		if i >= 0 {
			lo = mm.vmas[i].end
		}
		if lo >= top {
			if i >= 0 {
				top = min(top, mm.vmas[i].start)
			}
			continue
		}
		if uint64(top-lo) >= length {
			return top - hostarch.Addr(length), true
		}
		if i >= 0 {
			top = min(top, mm.vmas[i].start)
		}
	}
	return 0, false
}

// insertLocked adds v, which must not overlap any vma.
func (mm *MemoryManager) insertLocked(v *vma) {
	i := mm.findLocked(v.start)
	mm.vmas = append(mm.vmas, nil)
	copy(mm.vmas[i+1:], mm.vmas[i:])
	mm.vmas[i] = v
}

// splitLocked splits the vma at index i at addr (strictly inside it), so
// that vmas[i] ends at addr and vmas[i+1] starts there.
func (mm *MemoryManager) splitLocked(i int, addr hostarch.Addr) {
	v := mm.vmas[i]
	delta := uint64(addr - v.start)
	n := *v
	n.start = addr
	n.mfOff = v.mfOff + delta
	n.fileOff = v.fileOff + delta
	if v.filled != nil {
		k := int(delta >> hostarch.PageShift)
		n.filled = append([]bool(nil), v.filled[k:]...)
		v.filled = v.filled[:k:k]
	}
	if n.file != nil {
		n.file.IncRef()
	}
	if n.shared != nil {
		n.shared.refs.Add(1)
	}
	if v.mappable != nil {
		// The file tracks its mappings by range: re-register both halves.
		v.mappable.RemoveMapping(mm, v.rangeOf(), v.fileOff, v.maxPerms.Write)
		v.mappable.AddMapping(mm, hostarch.AddrRange{Start: v.start, End: addr}, v.fileOff, v.maxPerms.Write)
		v.mappable.AddMapping(mm, n.rangeOf(), n.fileOff, n.maxPerms.Write)
	}
	v.end = addr
	mm.vmas = append(mm.vmas, nil)
	copy(mm.vmas[i+2:], mm.vmas[i+1:])
	mm.vmas[i+1] = &n
}

// isolateLocked splits vmas so that r's boundaries are vma boundaries and
// returns the index range [first, last) of the vmas inside r.
func (mm *MemoryManager) isolateLocked(r hostarch.AddrRange) (int, int) {
	i := mm.findLocked(r.Start)
	if i < len(mm.vmas) && mm.vmas[i].start < r.Start {
		mm.splitLocked(i, r.Start)
		i++
	}
	j := i
	for j < len(mm.vmas) && mm.vmas[j].start < r.End {
		if mm.vmas[j].end > r.End {
			mm.splitLocked(j, r.End)
		}
		j++
	}
	return i, j
}

// unmapLocked removes every mapping in r.
func (mm *MemoryManager) unmapLocked(r hostarch.AddrRange) error {
	i, j := mm.isolateLocked(r)
	if i == j {
		return nil
	}
	for _, v := range mm.vmas[i:j] {
		mm.releaseVMALocked(v)
	}
	mm.vmas = append(mm.vmas[:i], mm.vmas[j:]...)
	return mm.as.Unmap(r.Start, r.Length())
}

// Invalidate implements memmap.MappingSpace: the host windows of ar go, and
// the next access faults and translates the file again. It doesn't take
// mm.mu: the file calls it with its own locks held.
func (mm *MemoryManager) Invalidate(ar hostarch.AddrRange) {
	mm.as.Unmap(ar.Start, ar.Length())
}

// mapHostLocked makes [start, end) of v visible in the stub with v's
// permissions.
func (mm *MemoryManager) mapHostLocked(v *vma, start, end hostarch.Addr) error {
	if !v.perms.Any() {
		return mm.as.Unmap(start, uint64(end-start))
	}
	return mm.as.MapFile(start, v.mfOff+uint64(start-v.start), uint64(end-start), v.perms)
}
