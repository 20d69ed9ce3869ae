package mm

import (
	"io"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// Fault codes for SIGSEGV's si_code, from <asm-generic/siginfo.h>.
const (
	SEGV_MAPERR = 1 // No mapping at the address.
	SEGV_ACCERR = 2 // The mapping forbids the access.
)

// BUS_ADRERR is SIGBUS's si_code for an access beyond a mapped file's end.
const BUS_ADRERR = 2

// FaultError says why a fault could not be resolved: it becomes SIGSEGV,
// or SIGBUS when Bus is set.
type FaultError struct {
	Code int32
	Bus  bool
}

// Error implements error.
func (e *FaultError) Error() string {
	if e.Code == SEGV_MAPERR {
		return "no mapping"
	}
	return "access not permitted"
}

// HandleFault resolves a guest fault at addr, by reading file pages that
// were never filled. It returns a *FaultError if the fault is the guest's:
// no mapping, or one that forbids the access.
func (mm *MemoryManager) HandleFault(addr hostarch.Addr, at hostarch.AccessType) error {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	v := mm.vmaAtLocked(addr)
	if v == nil {
		return &FaultError{Code: SEGV_MAPERR}
	}
	if !v.perms.Any() || (at.Execute && !v.perms.Execute) {
		return &FaultError{Code: SEGV_ACCERR}
	}
	if v.mappable != nil {
		return mm.faultMappableLocked(v, addr)
	}
	if !v.perms.SupersetOf(at) {
		return &FaultError{Code: SEGV_ACCERR}
	}
	if v.filled == nil || v.filled[(addr-v.start)>>hostarch.PageShift] {
		// The page is mapped with permissions that allow this access, as
		// far as the platform could tell us what it was. The fault raced
		// with another thread mapping the page (the host fault came
		// before the mapping), or the access was one ptrace can't see (a
		// write reported as a read). Map the page again and let the guest
		// retry; the kernel turns a fault that repeats at the same place
		// into SIGSEGV.
		page := addr.RoundDown()
		if err := mm.mapHostLocked(v, page, page+hostarch.PageSize); err != nil {
			return &FaultError{Code: SEGV_MAPERR}
		}
		return nil
	}
	// "SIGBUS Attempted access to a page of the buffer that lies beyond
	// the end of the mapped file." - mmap(2).
	var b [1]byte
	if n, _ := v.file.ReadAt(b[:], int64(v.fileOff+uint64(addr.RoundDown()-v.start))); n == 0 {
		return &FaultError{Code: BUS_ADRERR, Bus: true}
	}
	if err := mm.fillLocked(v, addr.RoundDown(), true); err != nil {
		return &FaultError{Code: SEGV_MAPERR}
	}
	return nil
}

// fillLocked reads the chunk of file vma v around page into the memory
// file and maps it in the stub. mapIt is false when the caller only needs
// the data in the sentry; the stub mapping is made anyway so that "filled"
// keeps meaning "filled and mapped".
func (mm *MemoryManager) fillLocked(v *vma, page hostarch.Addr, mapIt bool) error {
	first := int((page - v.start) >> hostarch.PageShift)
	first -= first % fileChunkPages
	last := min(first+fileChunkPages, len(v.filled))
	for p := first; p < last; {
		if v.filled[p] {
			p++
			continue
		}
		q := p
		for q < last && !v.filled[q] {
			q++
		}
		off := uint64(p) << hostarch.PageShift
		n := uint64(q-p) << hostarch.PageShift
		buf := mm.mf.Slice(v.mfOff+off, n)
		got, err := v.file.ReadAt(buf, int64(v.fileOff+off))
		if err != nil && err != io.EOF {
			return err
		}
		// Past the end of the file the pages stay zero. (Linux raises
		// SIGBUS for pages wholly beyond EOF; we give zeros.)
		_ = got
		for k := p; k < q; k++ {
			v.filled[k] = true
		}
		s := v.start + hostarch.Addr(off)
		if err := mm.mapHostLocked(v, s, s+hostarch.Addr(n)); err != nil {
			return err
		}
		p = q
	}
	return nil
}

// forEachLocked calls f with the memory-file bytes backing [addr,
// addr+n), in address order, after checking that each vma allows at. It
// returns how many bytes f was given before a bad address stopped it.
func (mm *MemoryManager) forEachLocked(addr hostarch.Addr, n int, at hostarch.AccessType, f func(b []byte)) (int, error) {
	done := 0
	for done < n {
		cur := addr + hostarch.Addr(done)
		if cur < addr { // Wrapped around the address space.
			return done, errno.EFAULT
		}
		v := mm.vmaAtLocked(cur)
		if v == nil || !v.perms.SupersetOf(at) {
			return done, errno.EFAULT
		}
		chunk := min(uint64(n-done), uint64(v.end-cur))
		if v.mappable != nil {
			fo := v.fileOff + uint64(cur-v.start)
			ts, err := v.mappable.Translate(fo, chunk, at)
			if err != nil {
				return done, errno.EFAULT
			}
			// Translations may start before fo (they are page-sized); use
			// only their part inside [fo, fo+chunk), in order.
			want := fo
			for _, tr := range ts {
				if tr.FileOff+tr.Len <= want || tr.FileOff > want || want >= fo+chunk {
					continue
				}
				skip := want - tr.FileOff
				n := min(tr.Len-skip, fo+chunk-want)
				f(mm.mf.Slice(tr.MemOff+skip, n))
				want += n
			}
			done += int(want - fo)
			if want < fo+chunk {
				// The file ended inside the mapping.
				return done, errno.EFAULT
			}
			continue
		}
		if v.filled != nil {
			// Make sure the pages hold the file's data.
			for p := cur.RoundDown(); p < cur+hostarch.Addr(chunk); p += hostarch.PageSize {
				if !v.filled[(p-v.start)>>hostarch.PageShift] {
					if err := mm.fillLocked(v, p, false); err != nil {
						return done, errno.EFAULT
					}
				}
			}
		}
		f(mm.mf.Slice(v.mfOff+uint64(cur-v.start), chunk))
		done += int(chunk)
	}
	return done, nil
}

// CopyIn reads len(dst) bytes of guest memory at addr. It returns the
// bytes copied and EFAULT if it stopped at a bad address.
func (mm *MemoryManager) CopyIn(addr hostarch.Addr, dst []byte) (int, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return mm.forEachLocked(addr, len(dst), hostarch.Read, func(b []byte) {
		copy(dst, b)
		dst = dst[len(b):]
	})
}

// CopyOut writes src to guest memory at addr. The mapping must be
// writable, as for the kernel's copy_to_user.
func (mm *MemoryManager) CopyOut(addr hostarch.Addr, src []byte) (int, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return mm.forEachLocked(addr, len(src), hostarch.Write, func(b []byte) {
		copy(b, src)
		src = src[len(b):]
	})
}

// ZeroOut writes n zero bytes at addr.
func (mm *MemoryManager) ZeroOut(addr hostarch.Addr, n int) (int, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return mm.forEachLocked(addr, n, hostarch.Write, func(b []byte) { clear(b) })
}

// CopyInString reads a NUL-terminated string of at most maxlen bytes
// (without the NUL). It fails with ENAMETOOLONG if no NUL comes within
// maxlen bytes, and EFAULT on a bad address.
func (mm *MemoryManager) CopyInString(addr hostarch.Addr, maxlen int) (string, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	var out []byte
	for len(out) < maxlen {
		cur := addr + hostarch.Addr(len(out))
		// Read up to the end of the page, so that a string that ends just
		// before an unmapped page is still readable.
		n := min(int(hostarch.PageSize-uint64(cur)%hostarch.PageSize), maxlen-len(out))
		found := -1
		_, err := mm.forEachLocked(cur, n, hostarch.Read, func(b []byte) {
			if found >= 0 {
				return
			}
			for i, c := range b {
				if c == 0 {
					found = i
					out = append(out, b[:i]...)
					return
				}
			}
			out = append(out, b...)
		})
		if found >= 0 {
			return string(out), nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", errno.ENAMETOOLONG
}

// faultMappableLocked maps the file pages around addr for a shared file
// mapping, or reports SIGBUS beyond the end of the file.
func (mm *MemoryManager) faultMappableLocked(v *vma, addr hostarch.Addr) error {
	start := addr.RoundDown()
	// Map a chunk at a time, as for private file mappings, within the vma.
	chunkStart := max(v.start, start-hostarch.Addr(uint64(start-v.start)%(fileChunkPages*hostarch.PageSize)))
	chunkEnd := min(v.end, chunkStart+fileChunkPages*hostarch.PageSize)
	ts, err := v.mappable.Translate(v.fileOff+uint64(chunkStart-v.start), uint64(chunkEnd-chunkStart), v.perms)
	if err != nil || len(ts) == 0 {
		// "SIGBUS Attempted access to a page of the buffer that lies beyond
		// the end of the mapped file." - mmap(2).
		return &FaultError{Code: BUS_ADRERR, Bus: true}
	}
	covered := false
	for _, tr := range ts {
		a := v.start + hostarch.Addr(tr.FileOff-v.fileOff)
		if err := mm.as.MapFile(a, tr.MemOff, tr.Len, v.perms); err != nil {
			return &FaultError{Code: SEGV_MAPERR}
		}
		if a <= addr && addr < a+hostarch.Addr(tr.Len) {
			covered = true
		}
	}
	if !covered {
		return &FaultError{Code: BUS_ADRERR, Bus: true}
	}
	return nil
}
