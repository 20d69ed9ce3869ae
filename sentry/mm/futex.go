package mm

import (
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// SharedKey returns the identity of the futex word at addr for a shared
// (non-private) futex: for MAP_SHARED anonymous memory it is the memory
// file offset, the same in every process mapping it; otherwise the word is
// private to this address space and ok is false. addr must be mapped.
func (mm *MemoryManager) SharedKey(addr hostarch.Addr) (off uint64, ok bool, err error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	v := mm.vmaAtLocked(addr)
	if v == nil {
		return 0, false, errno.EFAULT
	}
	if v.shared == nil {
		return 0, false, nil
	}
	return v.mfOff + uint64(addr-v.start), true, nil
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
