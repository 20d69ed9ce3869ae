package mm

import (
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// MMap creates a mapping and returns its address.
func (mm *MemoryManager) MMap(opts MMapOpts) (hostarch.Addr, error) {
	length, ok := hostarch.PageRoundUp(opts.Length)
	if !ok || length == 0 {
		return 0, errno.ENOMEM
	}
	if opts.File != nil && opts.Offset%hostarch.PageSize != 0 {
		return 0, errno.EINVAL
	}
	if opts.File != nil && opts.Offset+length < opts.Offset {
		return 0, errno.EOVERFLOW
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()

	var addr hostarch.Addr
	if opts.Fixed || opts.NoReplace {
		if !opts.Addr.IsPageAligned() {
			return 0, errno.EINVAL
		}
		end, ok := opts.Addr.AddLength(length)
		if !ok || opts.Addr < mm.minAddr || end > mm.maxAddr {
			return 0, errno.ENOMEM
		}
		r := hostarch.AddrRange{Start: opts.Addr, End: end}
		if !mm.isFreeLocked(r) {
			if opts.NoReplace {
				return 0, errno.EEXIST
			}
			if err := mm.unmapLocked(r); err != nil {
				return 0, errno.ENOMEM
			}
		}
		addr = opts.Addr
	} else {
		// A hint is used if the range is free, as Linux does.
		hint := opts.Addr.RoundDown()
		if end, ok := hint.AddLength(length); ok && hint >= mm.minAddr && end <= mm.maxAddr &&
			mm.isFreeLocked(hostarch.AddrRange{Start: hint, End: end}) {
			addr = hint
		} else if addr, ok = mm.findGapLocked(length); !ok {
			return 0, errno.ENOMEM
		}
	}

	if opts.Mappable != nil && !opts.Private {
		v := &vma{
			start: addr, end: addr + hostarch.Addr(length),
			perms: opts.Perms, maxPerms: opts.MaxPerms,
			file: opts.File, fileOff: opts.Offset, mappable: opts.Mappable,
		}
		opts.File.IncRef()
		v.dev, v.ino, v.path = opts.File.MappingIdentity()
		mm.insertLocked(v)
		// Pages are mapped on the first fault, when Translate allocates them.
		v.mappable.AddMapping(mm, v.rangeOf(), v.fileOff, v.maxPerms.Write)
		return addr, nil
	}
	off, err := mm.mf.Allocate(length)
	if err != nil {
		return 0, errno.ENOMEM
	}
	v := &vma{
		start:     addr,
		end:       addr + hostarch.Addr(length),
		perms:     opts.Perms,
		maxPerms:  opts.MaxPerms,
		private:   opts.Private,
		growsDown: opts.GrowsDown,
		name:      opts.Name,
		mfOff:     off,
	}
	if opts.File == nil && !opts.Private {
		v.shared = &sharedRange{off: off, length: length}
		v.shared.refs.Store(1)
	}
	if opts.File != nil {
		opts.File.IncRef()
		v.file, v.fileOff = opts.File, opts.Offset
		v.filled = make([]bool, v.pages())
		v.dev, v.ino, v.path = opts.File.MappingIdentity()
	}
	mm.insertLocked(v)
	if v.file == nil {
		if err := mm.mapHostLocked(v, v.start, v.end); err != nil {
			mm.unmapLocked(hostarch.AddrRange{Start: v.start, End: v.end})
			return 0, errno.ENOMEM
		}
	}
	return addr, nil
}

// MUnmap implements munmap(2).
func (mm *MemoryManager) MUnmap(addr hostarch.Addr, length uint64) error {
	if !addr.IsPageAligned() || length == 0 {
		return errno.EINVAL
	}
	length, ok := hostarch.PageRoundUp(length)
	if !ok {
		return errno.EINVAL
	}
	end, ok := addr.AddLength(length)
	if !ok || end > mm.maxAddr {
		return errno.EINVAL
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if err := mm.unmapLocked(hostarch.AddrRange{Start: addr, End: end}); err != nil {
		return errno.ENOMEM
	}
	return nil
}

// MProtect implements mprotect(2).
func (mm *MemoryManager) MProtect(addr hostarch.Addr, length uint64, at hostarch.AccessType) error {
	if !addr.IsPageAligned() {
		return errno.EINVAL
	}
	length, ok := hostarch.PageRoundUp(length)
	if !ok {
		return errno.ENOMEM
	}
	if length == 0 {
		return nil
	}
	end, ok := addr.AddLength(length)
	if !ok {
		return errno.ENOMEM
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	r := hostarch.AddrRange{Start: addr, End: end}
	// "ENOMEM: Addresses in the range [addr, addr+len-1] are invalid for
	// the address space of the process, or specify one or more pages that
	// are not mapped." - mprotect(2). Check before changing anything.
	next := addr
	for i := mm.findLocked(addr); next < end; i++ {
		if i >= len(mm.vmas) || mm.vmas[i].start > next {
			return errno.ENOMEM
		}
		if !mm.vmas[i].maxPerms.SupersetOf(at) {
			return errno.EACCES
		}
		next = mm.vmas[i].end
	}
	i, j := mm.isolateLocked(r)
	for _, v := range mm.vmas[i:j] {
		v.perms = at
		if v.mappable != nil {
			// Faults map the file's pages again with the new permissions.
			if err := mm.as.Unmap(v.start, v.length()); err != nil {
				return errno.ENOMEM
			}
			continue
		}
		if v.filled == nil {
			if err := mm.mapHostLocked(v, v.start, v.end); err != nil {
				return errno.ENOMEM
			}
			continue
		}
		if err := mm.remapFilledLocked(v); err != nil {
			return errno.ENOMEM
		}
	}
	return nil
}

// remapFilledLocked re-maps the filled runs of a file vma with its current
// permissions.
func (mm *MemoryManager) remapFilledLocked(v *vma) error {
	for p := 0; p < len(v.filled); {
		if !v.filled[p] {
			p++
			continue
		}
		q := p
		for q < len(v.filled) && v.filled[q] {
			q++
		}
		s := v.start + hostarch.Addr(p)<<hostarch.PageShift
		e := v.start + hostarch.Addr(q)<<hostarch.PageShift
		if err := mm.mapHostLocked(v, s, e); err != nil {
			return err
		}
		p = q
	}
	return nil
}

// SetBrkStart sets the start of the heap (the loader calls it).
func (mm *MemoryManager) SetBrkStart(addr hostarch.Addr) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	mm.brkStart, mm.brk = addr, addr
}

// Brk implements brk(2): it returns the new break, or the old one if the
// request can't be met ("On failure, the system call returns the current
// break." - brk(2)).
func (mm *MemoryManager) Brk(addr hostarch.Addr) hostarch.Addr {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	if addr < mm.brkStart {
		return mm.brk
	}
	oldEnd, _ := mm.brk.RoundUp()
	newEnd, ok := addr.RoundUp()
	if !ok || newEnd > mm.mmapBase {
		return mm.brk
	}
	switch {
	case newEnd > oldEnd:
		r := hostarch.AddrRange{Start: oldEnd, End: newEnd}
		if !mm.isFreeLocked(r) {
			return mm.brk
		}
		off, err := mm.mf.Allocate(r.Length())
		if err != nil {
			return mm.brk
		}
		v := &vma{start: r.Start, end: r.End, perms: hostarch.ReadWrite, maxPerms: hostarch.AnyAccess,
			private: true, name: "[heap]", mfOff: off}
		mm.insertLocked(v)
		if err := mm.mapHostLocked(v, v.start, v.end); err != nil {
			mm.unmapLocked(r)
			return mm.brk
		}
	case newEnd < oldEnd:
		if err := mm.unmapLocked(hostarch.AddrRange{Start: newEnd, End: oldEnd}); err != nil {
			return mm.brk
		}
	}
	mm.brk = addr
	return addr
}

// mremap(2) flags from <linux/mman.h>.
const (
	MREMAP_MAYMOVE   = 1
	MREMAP_FIXED     = 2
	MREMAP_DONTUNMAP = 4
)

// MRemap implements mremap(2) for private and anonymous mappings.
func (mm *MemoryManager) MRemap(old hostarch.Addr, oldSize, newSize uint64, flags int, newAddr hostarch.Addr) (hostarch.Addr, error) {
	if !old.IsPageAligned() || flags&^(MREMAP_MAYMOVE|MREMAP_FIXED|MREMAP_DONTUNMAP) != 0 {
		return 0, errno.EINVAL
	}
	if flags&MREMAP_FIXED != 0 && flags&MREMAP_MAYMOVE == 0 {
		return 0, errno.EINVAL
	}
	if flags&MREMAP_DONTUNMAP != 0 {
		// sandbox-divergence: MREMAP_DONTUNMAP is not implemented.
		return 0, errno.EINVAL
	}
	oldSize, ok1 := hostarch.PageRoundUp(oldSize)
	newSize, ok2 := hostarch.PageRoundUp(newSize)
	if !ok1 || !ok2 || newSize == 0 {
		return 0, errno.EINVAL
	}
	if oldSize == 0 {
		// Duplicating a shared mapping is not supported; for private
		// mappings Linux fails the same way.
		return 0, errno.EINVAL
	}
	oldEnd, ok := old.AddLength(oldSize)
	if !ok {
		return 0, errno.EINVAL
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	v := mm.vmaAtLocked(old)
	// "EFAULT: Some address in the range old_address to
	// old_address+old_size is an invalid virtual memory address for this
	// process." - mremap(2). The old range must be within one mapping.
	if v == nil || oldEnd > v.end {
		return 0, errno.EFAULT
	}
	fixed := flags&MREMAP_FIXED != 0
	if fixed {
		if !newAddr.IsPageAligned() {
			return 0, errno.EINVAL
		}
		ne, ok := newAddr.AddLength(newSize)
		if !ok || newAddr < mm.minAddr || ne > mm.maxAddr {
			return 0, errno.EINVAL
		}
		if (hostarch.AddrRange{Start: newAddr, End: ne}).Overlaps(hostarch.AddrRange{Start: old, End: oldEnd}) {
			return 0, errno.EINVAL
		}
	}
	if !fixed {
		if newSize <= oldSize {
			if newSize < oldSize {
				if err := mm.unmapLocked(hostarch.AddrRange{Start: old + hostarch.Addr(newSize), End: oldEnd}); err != nil {
					return 0, errno.ENOMEM
				}
			}
			return old, nil
		}
		// Grow in place when the range ends the vma, the addresses after it
		// are free and the memory file can extend the vma's range.
		grow := newSize - oldSize
		newEnd, ok := old.AddLength(newSize)
		if ok && oldEnd == v.end && newEnd <= mm.maxAddr && v.shared == nil && v.mappable == nil &&
			mm.isFreeLocked(hostarch.AddrRange{Start: oldEnd, End: newEnd}) &&
			mm.mf.TryExtend(v.mfOff, v.length(), grow) {
			v.end = newEnd
			if v.filled != nil {
				v.filled = append(v.filled, make([]bool, grow>>hostarch.PageShift)...)
				return old, nil
			}
			if err := mm.mapHostLocked(v, oldEnd, newEnd); err != nil {
				return 0, errno.ENOMEM
			}
			return old, nil
		}
		if flags&MREMAP_MAYMOVE == 0 {
			return 0, errno.ENOMEM
		}
	}
	if v.mappable != nil {
		return mm.moveMappableLocked(v, old, oldEnd, newAddr, newSize)
	}
	if v.shared != nil {
		// sandbox-divergence: moving shared anonymous memory would need the
		// new range to stay shared; not offered yet.
		return 0, errno.ENOMEM
	}
	// Move: copy the old range into a new vma with the same attributes.
	if fixed {
		if err := mm.unmapLocked(hostarch.AddrRange{Start: newAddr, End: newAddr + hostarch.Addr(newSize)}); err != nil {
			return 0, errno.ENOMEM
		}
		// The unmap may have split or removed vmas; find v again.
		if v = mm.vmaAtLocked(old); v == nil {
			return 0, errno.EFAULT
		}
	} else {
		var ok bool
		if newAddr, ok = mm.findGapLocked(newSize); !ok {
			return 0, errno.ENOMEM
		}
	}
	off, err := mm.mf.Allocate(newSize)
	if err != nil {
		return 0, errno.ENOMEM
	}
	delta := uint64(old - v.start)
	n := &vma{
		start: newAddr, end: newAddr + hostarch.Addr(newSize),
		perms: v.perms, maxPerms: v.maxPerms, private: v.private, growsDown: v.growsDown,
		name: v.name, mfOff: off, file: v.file, fileOff: v.fileOff + delta,
		dev: v.dev, ino: v.ino, path: v.path,
	}
	keep := min(oldSize, newSize)
	if v.filled != nil {
		n.file.IncRef()
		n.filled = make([]bool, n.pages())
		copy(n.filled, v.filled[delta>>hostarch.PageShift:])
		n.filled = n.filled[:n.pages()]
		for p := int(keep >> hostarch.PageShift); p < len(n.filled); p++ {
			n.filled[p] = false
		}
	}
	copy(mm.mf.Slice(off, keep), mm.mf.Slice(v.mfOff+delta, keep))
	if err := mm.unmapLocked(hostarch.AddrRange{Start: old, End: oldEnd}); err != nil {
		return 0, errno.ENOMEM
	}
	mm.insertLocked(n)
	if n.filled == nil {
		err = mm.mapHostLocked(n, n.start, n.end)
	} else {
		err = mm.remapFilledLocked(n)
	}
	if err != nil {
		return 0, errno.ENOMEM
	}
	return newAddr, nil
}

// madvise(2) advice values from <asm-generic/mman-common.h> that the memory
// manager acts on.
const (
	MADV_DONTNEED = 4
	MADV_FREE     = 8
)

// MAdviseDontNeed implements madvise(MADV_DONTNEED): private pages read as
// zeros (anonymous) or as the file's contents (file-backed) afterwards.
func (mm *MemoryManager) MAdviseDontNeed(addr hostarch.Addr, length uint64) error {
	if !addr.IsPageAligned() {
		return errno.EINVAL
	}
	length, ok := hostarch.PageRoundUp(length)
	if !ok {
		return errno.EINVAL
	}
	end, ok := addr.AddLength(length)
	if !ok {
		return errno.EINVAL
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	r := hostarch.AddrRange{Start: addr, End: end}
	for i := mm.findLocked(addr); i < len(mm.vmas) && mm.vmas[i].start < end; i++ {
		v := mm.vmas[i]
		p := hostarch.AddrRange{Start: v.start, End: v.end}.Intersect(r)
		if p.Length() == 0 || !v.private {
			// Shared memory keeps its contents.
			continue
		}
		if err := mm.mf.Decommit(v.mfOff+uint64(p.Start-v.start), p.Length()); err != nil {
			return errno.ENOMEM
		}
		if v.filled != nil {
			// Drop the copies: the next touch reads the file again.
			for k := int((p.Start - v.start) >> hostarch.PageShift); k < int((p.End-v.start)>>hostarch.PageShift); k++ {
				v.filled[k] = false
			}
			if err := mm.as.Unmap(p.Start, p.Length()); err != nil {
				return errno.ENOMEM
			}
		}
	}
	return nil
}

// moveMappableLocked moves (and maybe grows) the part [old, oldEnd) of the
// shared file mapping v to newAddr: nothing is copied, the new vma maps the
// same file pages.
func (mm *MemoryManager) moveMappableLocked(v *vma, old, oldEnd, newAddr hostarch.Addr, newSize uint64) (hostarch.Addr, error) {
	n := &vma{
		start: newAddr, end: newAddr + hostarch.Addr(newSize),
		perms: v.perms, maxPerms: v.maxPerms,
		file: v.file, fileOff: v.fileOff + uint64(old-v.start), mappable: v.mappable,
		dev: v.dev, ino: v.ino, path: v.path,
	}
	n.file.IncRef()
	if err := mm.unmapLocked(hostarch.AddrRange{Start: old, End: oldEnd}); err != nil {
		n.file.DecRef()
		return 0, errno.ENOMEM
	}
	mm.insertLocked(n)
	n.mappable.AddMapping(mm, n.rangeOf(), n.fileOff, n.maxPerms.Write)
	return newAddr, nil
}
