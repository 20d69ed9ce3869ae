package mm

import (
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// SharedKey returns the identity of the futex word at addr for a shared
// (non-private) futex: for MAP_SHARED memory (anonymous, or a file whose
// pages the sandbox owns, like a POSIX semaphore in /dev/shm) it is the
// memory file offset, the same in every process mapping it; otherwise the
// word is private to this address space and ok is false. addr must be
// mapped.
func (mm *MemoryManager) SharedKey(addr hostarch.Addr) (off uint64, ok bool, err error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	v := mm.vmaAtLocked(addr)
	if v == nil {
		return 0, false, errno.EFAULT
	}
	switch {
	case v.shared != nil:
		return v.mfOff + uint64(addr-v.start), true, nil
	case v.mappable != nil:
		page := addr.RoundDown()
		fo := v.fileOff + uint64(page-v.start)
		ts, err := v.mappable.Translate(fo, hostarch.PageSize, hostarch.Read)
		for _, tr := range ts {
			if tr.FileOff <= fo && fo < tr.FileOff+tr.Len {
				return tr.MemOff + (fo - tr.FileOff) + uint64(addr-page), true, nil
			}
		}
		if err != nil {
			return 0, false, errno.EFAULT
		}
		// Beyond the end of the file: Linux would fault (SIGBUS).
		return 0, false, errno.EFAULT
	}
	return 0, false, nil
}

// AtomicUpdate32 applies f to the aligned 32-bit word at addr atomically
// with respect to other sentry updates through this function, and returns
// the old value. (Guest threads run concurrently on other CPUs; the kernel's
// futex ops are atomic against them too, which the sentry gets by using a
// compare-and-swap on the shared mapping.)
func (mm *MemoryManager) AtomicUpdate32(addr hostarch.Addr, f func(uint32) uint32) (uint32, error) {
	if addr%4 != 0 {
		return 0, errno.EINVAL
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	var old uint32
	var werr error
	_, err := mm.forEachLocked(addr, 4, hostarch.ReadWrite, func(b []byte) {
		old, werr = casLoop(b, f)
	})
	if err != nil {
		return 0, err
	}
	return old, werr
}
