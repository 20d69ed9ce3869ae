package seccomptrap

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Host syscall wrappers. The ptrace ones must run on the tracer thread
// (the injector goroutine is locked to it).

// slotAt returns the sentry's view of slot i of a control mapping.
//
// Preconditions: ctl is a live mapping of ctlSize bytes; 0 <= i < maxSlots.
func slotAt(ctl []byte, i int) *slotHeader {
	// SAFETY: slotHeader is plain data (no Go pointers) smaller than a
	// slot, the slot lies inside ctl, and ctl is an mmap outside the Go
	// heap that stays mapped while any slot is in use (addressSpace.refs).
	return (*slotHeader)(unsafe.Pointer(&ctl[i*slotSize]))
}

// ctlWord returns the sentry's view of the 64-bit word at off in a
// control mapping.
//
// Preconditions: as for slotAt; off is 8-aligned and inside ctl.
func ctlWord(ctl []byte, off int) *uint64 {
	// SAFETY: as for slotAt; the word is aligned because ctl is a mapping
	// (page aligned) and off is 8-aligned.
	return (*uint64)(unsafe.Pointer(&ctl[off]))
}

// futexWait sleeps while *addr == val, for at most timeout. It is a
// blocking syscall, so the Go runtime hands the P to another thread if it
// lasts.
func futexWait(addr *uint32, val uint32, timeout time.Duration) unix.Errno {
	ts := unix.NsecToTimespec(int64(timeout))
	// SAFETY: addr points into the control mapping (see slotAt) and ts is
	// live for the call. The futex is shared (no FUTEX_PRIVATE_FLAG): the
	// stub waits on the same memfd page through its own mapping.
	_, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexOpWait, uintptr(val),
		uintptr(unsafe.Pointer(&ts)), 0, 0)
	return e
}

// futexWake wakes the stub thread sleeping on addr.
func futexWake(addr *uint32) {
	// SAFETY: as for futexWait; FUTEX_WAKE does not block.
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexOpWake, 1, 0, 0, 0)
}
