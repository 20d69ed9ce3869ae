package tmpfs

import (
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/memmap"
)

// pageSize is the unit in which file data is allocated and accounted.
const pageSize = hostarch.PageSize

// page is one page of a regular file's data.
type page struct {
	// b is the page's bytes: a slice of the memory file's sentry mapping,
	// or of the Go heap for a filesystem without a memory file.
	b []byte
	// memOff is the page's offset in the memory file (with a memory file
	// only).
	memOff uint64
}

// fileData is a regular file's contents: a sparse set of pages and a
// size. Pages past the size are never kept, and a page that is absent
// reads as zeros (a hole). All methods need fs.mu held.
type fileData struct {
	size  uint64
	pages map[uint64]page // by page index
}

// mapping is a shared mapping of a file (memmap.Mappable.AddMapping).
type mapping struct {
	ms  memmap.MappingSpace
	ar  hostarch.AddrRange
	off uint64
}

func pageRoundUp(n uint64) uint64 { return (n + pageSize - 1) &^ (pageSize - 1) }

// allocPagesLocked gives pages [first, first+n) of i memory, accounting
// them against the filesystem's limit. Existing pages are kept.
//
// Preconditions: fs.mu is held.
func (i *Inode) allocPagesLocked(first, n uint64) error {
	fs := i.fs
	for idx := first; idx < first+n; {
		if _, ok := i.data.pages[idx]; ok {
			idx++
			continue
		}
		// Allocate the run of missing pages in one piece.
		run := uint64(1)
		for idx+run < first+n {
			if _, ok := i.data.pages[idx+run]; ok {
				break
			}
			run++
		}
		if max := fs.opts.MaxBytes; max != 0 && fs.used+run*pageSize > max {
			return errno.ENOSPC
		}
		if i.data.pages == nil {
			i.data.pages = map[uint64]page{}
		}
		if mf := fs.opts.MemoryFile; mf != nil {
			off, err := mf.Allocate(run * pageSize)
			if err != nil {
				return errno.ENOSPC
			}
			for k := uint64(0); k < run; k++ {
				m := off + k*pageSize
				i.data.pages[idx+k] = page{b: mf.Slice(m, pageSize), memOff: m}
			}
		} else {
			buf := make([]byte, run*pageSize)
			for k := uint64(0); k < run; k++ {
				i.data.pages[idx+k] = page{b: buf[k*pageSize : (k+1)*pageSize : (k+1)*pageSize]}
			}
		}
		fs.used += run * pageSize
		idx += run
	}
	return nil
}

// freePagesFromLocked frees every page at or after index first.
//
// Preconditions: fs.mu is held.
func (i *Inode) freePagesFromLocked(first uint64) {
	for idx, p := range i.data.pages {
		if idx < first {
			continue
		}
		if mf := i.fs.opts.MemoryFile; mf != nil {
			mf.Free(p.memOff, pageSize)
		}
		delete(i.data.pages, idx)
		i.fs.used -= pageSize
	}
}

// readLocked copies data at off into dst, reading holes as zeros.
//
// Preconditions: fs.mu is held.
func (i *Inode) readLocked(dst []byte, off uint64) int {
	if off >= i.data.size {
		return 0
	}
	n := min(uint64(len(dst)), i.data.size-off)
	for done := uint64(0); done < n; {
		pos := off + done
		idx, in := pos/pageSize, pos%pageSize
		chunk := min(pageSize-in, n-done)
		if p, ok := i.data.pages[idx]; ok {
			copy(dst[done:done+chunk], p.b[in:in+chunk])
		} else {
			clear(dst[done : done+chunk])
		}
		done += chunk
	}
	return int(n)
}

// writeLocked copies src to off, allocating pages and growing the file.
//
// Preconditions: fs.mu is held.
func (i *Inode) writeLocked(src []byte, off uint64) (int, error) {
	end := off + uint64(len(src))
	first, last := off/pageSize, (end-1)/pageSize
	if err := i.allocPagesLocked(first, last-first+1); err != nil {
		// Give back what was allocated past the end.
		i.freePagesFromLocked(pageRoundUp(i.data.size) / pageSize)
		return 0, err
	}
	for done := uint64(0); done < uint64(len(src)); {
		pos := off + done
		idx, in := pos/pageSize, pos%pageSize
		chunk := min(pageSize-in, uint64(len(src))-done)
		copy(i.data.pages[idx].b[in:in+chunk], src[done:done+chunk])
		done += chunk
	}
	if end > i.data.size {
		i.data.size = end
	}
	return len(src), nil
}

// truncateLocked sets the file's size. Shrinking frees the pages past the
// new end, zeroes the rest of the last page, and invalidates shared
// mappings of what is gone, so that touching them faults (SIGBUS).
//
// Preconditions: fs.mu is held.
func (i *Inode) truncateLocked(size uint64) {
	old := i.data.size
	i.data.size = size
	if size >= old {
		return
	}
	if in := size % pageSize; in != 0 {
		if p, ok := i.data.pages[size/pageSize]; ok {
			clear(p.b[in:])
		}
	}
	cut := pageRoundUp(size)
	i.freePagesFromLocked(cut / pageSize)
	for m := range i.mappings {
		mend := m.off + m.ar.Length()
		if mend <= cut {
			continue
		}
		start := m.ar.Start
		if m.off < cut {
			start += hostarch.Addr(cut - m.off)
		}
		m.ms.Invalidate(hostarch.AddrRange{Start: start, End: m.ar.End})
	}
}

// freeAllLocked drops all of the file's data.
//
// Preconditions: fs.mu is held.
func (i *Inode) freeAllLocked() {
	i.freePagesFromLocked(0)
	i.data = fileData{}
}

var _ memmap.Mappable = (*Inode)(nil)

// Translate implements memmap.Mappable.Translate.
func (i *Inode) Translate(off, n uint64, _ hostarch.AccessType) ([]memmap.Translation, error) {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if i.fs.opts.MemoryFile == nil {
		return nil, errno.ENODEV
	}
	if off >= pageRoundUp(i.data.size) {
		return nil, errno.EFAULT
	}
	start := off &^ (pageSize - 1)
	end := min(pageRoundUp(off+n), pageRoundUp(i.data.size))
	first, count := start/pageSize, (end-start)/pageSize
	if err := i.allocPagesLocked(first, count); err != nil {
		return nil, err
	}
	var ts []memmap.Translation
	for idx := first; idx < first+count; idx++ {
		p := i.data.pages[idx]
		if l := len(ts); l > 0 && ts[l-1].MemOff+ts[l-1].Len == p.memOff {
			ts[l-1].Len += pageSize
			continue
		}
		ts = append(ts, memmap.Translation{FileOff: idx * pageSize, MemOff: p.memOff, Len: pageSize})
	}
	return ts, nil
}

// AddMapping implements memmap.Mappable.AddMapping.
func (i *Inode) AddMapping(ms memmap.MappingSpace, ar hostarch.AddrRange, off uint64, _ bool) {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if i.mappings == nil {
		i.mappings = map[mapping]int{}
	}
	i.mappings[mapping{ms, ar, off}]++
}

// RemoveMapping implements memmap.Mappable.RemoveMapping.
func (i *Inode) RemoveMapping(ms memmap.MappingSpace, ar hostarch.AddrRange, off uint64, _ bool) {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	k := mapping{ms, ar, off}
	if i.mappings[k]--; i.mappings[k] <= 0 {
		delete(i.mappings, k)
	}
	i.maybeFreeLocked()
}
