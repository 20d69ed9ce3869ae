package mm

import (
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/platform"
)

// Users returns the number of tasks using the address space.
func (mm *MemoryManager) Users() int32 { return mm.users.Load() }

// Fork returns a copy of the address space in as, for fork(2). Private
// memory is copied now (only the parts of the memory file that hold data,
// so untouched pages stay free); shared anonymous memory is shared.
//
// sandbox-divergence: copy-on-write through write faults is the plan once
// benchmarks show fork is the bottleneck (DESIGN.md, Decisions); until
// then fork copies, which costs time in proportion to the memory the
// parent has touched.
func (mm *MemoryManager) Fork(as platform.AddressSpace) (*MemoryManager, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	n := &MemoryManager{
		mf:       mm.mf,
		as:       as,
		minAddr:  mm.minAddr,
		maxAddr:  mm.maxAddr,
		mmapBase: mm.mmapBase,
		brkStart: mm.brkStart,
		brk:      mm.brk,
		argv:     mm.argv,
		envv:     mm.envv,
		auxv:     append([]uint64(nil), mm.auxv...),
	}
	n.users.Store(1)
	fail := func(err error) (*MemoryManager, error) {
		n.users.Store(1)
		n.mu.Lock()
		for _, v := range n.vmas {
			n.releaseVMALocked(v)
		}
		n.vmas = nil
		n.mu.Unlock()
		as.Release()
		return nil, err
	}
	for _, v := range mm.vmas {
		c := *v
		if v.mappable != nil {
			// A shared file mapping maps the same file pages in the child;
			// faults map them.
			v.file.IncRef()
			n.vmas = append(n.vmas, &c)
			c.mappable.AddMapping(n, c.rangeOf(), c.fileOff, c.maxPerms.Write)
			continue
		}
		if v.shared != nil {
			// MAP_SHARED anonymous memory: both processes see one copy.
			v.shared.refs.Add(1)
		} else {
			off, err := mm.mf.Allocate(v.length())
			if err != nil {
				return fail(err)
			}
			c.mfOff = off
			mm.copyData(v.mfOff, off, v.length())
		}
		if v.file != nil {
			v.file.IncRef()
			c.filled = append([]bool(nil), v.filled...)
		}
		n.vmas = append(n.vmas, &c)
		var err error
		if c.filled == nil {
			err = n.mapHostLocked(&c, c.start, c.end)
		} else {
			err = n.remapFilledLocked(&c)
		}
		if err != nil {
			return fail(err)
		}
	}
	return n, nil
}

// copyData copies [src, src+n) of the memory file to dst, skipping holes so
// that pages never touched are not allocated in the copy.
func (mm *MemoryManager) copyData(src, dst, n uint64) {
	fd := mm.mf.FD()
	end := src + n
	for off := src; off < end; {
		data, err := unix.Seek(fd, int64(off), unix.SEEK_DATA)
		if err != nil || uint64(data) >= end {
			return // ENXIO: no data after off.
		}
		hole, err := unix.Seek(fd, data, unix.SEEK_HOLE)
		if err != nil {
			hole = int64(end)
		}
		h := min(uint64(hole), end)
		d := uint64(data)
		copy(mm.mf.Slice(dst+(d-src), h-d), mm.mf.Slice(d, h-d))
		off = h
	}
}
