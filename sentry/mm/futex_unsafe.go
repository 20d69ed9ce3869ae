package mm

import (
	"sync/atomic"
	"unsafe"
)

// casLoop applies f to the 4-byte word b with compare-and-swap, so that
// guest threads writing the same word concurrently never lose an update.
func casLoop(b []byte, f func(uint32) uint32) (uint32, error) {
	// SAFETY: b is 4 bytes of the sentry's mapping of the memory file,
	// 4-byte aligned (the guest address is, and memory file ranges are
	// page aligned), and stays mapped for the memory file's life.
	p := (*uint32)(unsafe.Pointer(&b[0]))
	for {
		old := atomic.LoadUint32(p)
		if atomic.CompareAndSwapUint32(p, old, f(old)) {
			return old, nil
		}
	}
}
