package mm

import (
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// CheckMapped fails with ENOMEM unless every page of [addr, addr+length)
// is mapped, as mlock(2), mincore(2) and msync(2) require.
func (mm *MemoryManager) CheckMapped(addr hostarch.Addr, length uint64) error {
	end, ok := addr.AddLength(length)
	if !ok {
		return errno.ENOMEM
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	next := addr
	for i := mm.findLocked(addr); next < end; i++ {
		if i >= len(mm.vmas) || mm.vmas[i].start > next {
			return errno.ENOMEM
		}
		next = mm.vmas[i].end
	}
	return nil
}

// CheckAccess fails with EFAULT unless every byte of [addr, addr+length)
// lies in a mapping that allows at. It lets a caller refuse a bad buffer
// before taking data it could not give back (a socket's queued bytes).
func (mm *MemoryManager) CheckAccess(addr hostarch.Addr, length uint64, at hostarch.AccessType) error {
	if length == 0 {
		return nil
	}
	end, ok := addr.AddLength(length)
	if !ok {
		return errno.EFAULT
	}
	mm.mu.Lock()
	defer mm.mu.Unlock()
	for next := addr; next < end; {
		v := mm.vmaAtLocked(next)
		if v == nil || !v.perms.SupersetOf(at) {
			return errno.EFAULT
		}
		next = v.end
	}
	return nil
}
