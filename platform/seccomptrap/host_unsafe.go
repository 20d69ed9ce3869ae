package seccomptrap

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
)

// Host syscall wrappers. The ptrace ones must run on the tracer thread
// (the injector goroutine is locked to it).

func ptraceRaw(req, tid int, addr, data uintptr) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), addr, data, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

func getRegs(tid int, regs *linux.PtraceRegs) error {
	// SAFETY: linux.PtraceRegs has the layout of user_regs_struct, which
	// PTRACE_GETREGS fills; regs is live for the call.
	return ptraceRaw(unix.PTRACE_GETREGS, tid, 0, uintptr(unsafe.Pointer(regs)))
}

func setRegs(tid int, regs *linux.PtraceRegs) error {
	// SAFETY: as for getRegs; the kernel only reads the struct.
	return ptraceRaw(unix.PTRACE_SETREGS, tid, 0, uintptr(unsafe.Pointer(regs)))
}

func getEventMsg(tid int) (uint64, error) {
	var msg uint64
	// SAFETY: the kernel writes one unsigned long to &msg.
	err := ptraceRaw(unix.PTRACE_GETEVENTMSG, tid, 0, uintptr(unsafe.Pointer(&msg)))
	return msg, err
}

// wait4 waits for tid with __WALL, retrying on EINTR (Go's preemption
// signals interrupt it).
func wait4(tid int) (unix.WaitStatus, error) {
	var ws unix.WaitStatus
	for {
		// SAFETY: ws outlives the call; rusage is nil.
		_, _, e := unix.Syscall6(unix.SYS_WAIT4, uintptr(tid), uintptr(unsafe.Pointer(&ws)), unix.WALL, 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return ws, nil
	}
}

// slotAt returns the sentry's view of slot i of a control mapping.
//
// Preconditions: ctl is a live mapping of ctlSize bytes; 0 <= i < maxSlots.
func slotAt(ctl []byte, i int) *slotHeader {
	// SAFETY: slotHeader is plain data (no Go pointers) smaller than a
	// slot, the slot lies inside ctl, and ctl is an mmap outside the Go
	// heap that stays mapped while any slot is in use (addressSpace.refs).
	return (*slotHeader)(unsafe.Pointer(&ctl[i*slotSize]))
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

// ntX86XState is the regset of the full xsave area (<linux/elf.h>).
const ntX86XState = 0x202

// setXState loads an xsave image into traced thread tid.
func setXState(tid int, state []byte) error {
	if len(state) == 0 {
		return nil
	}
	iov := unix.Iovec{Base: &state[0], Len: uint64(len(state))}
	// SAFETY: iov points at state, which outlives the call; the kernel
	// only reads iov.Len bytes from it.
	return ptraceRaw(unix.PTRACE_SETREGSET, tid, ntX86XState, uintptr(unsafe.Pointer(&iov)))
}
