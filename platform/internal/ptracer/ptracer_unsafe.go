// Package ptracer holds the ptrace requests both platforms use to build
// and drive stub threads. Every call must run on the thread that traces
// tid (its goroutine locked with LockOSThread).
package ptracer

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
)

// Raw issues one ptrace request.
func Raw(req, tid int, addr, data uintptr) error {
	_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, uintptr(req), uintptr(tid), addr, data, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// GetRegs is PTRACE_GETREGS.
func GetRegs(tid int, regs *linux.PtraceRegs) error {
	// SAFETY: linux.PtraceRegs has the layout of user_regs_struct, which
	// PTRACE_GETREGS fills; regs is live for the call.
	return Raw(unix.PTRACE_GETREGS, tid, 0, uintptr(unsafe.Pointer(regs)))
}

// SetRegs is PTRACE_SETREGS.
func SetRegs(tid int, regs *linux.PtraceRegs) error {
	// SAFETY: as for GetRegs; the kernel only reads the struct.
	return Raw(unix.PTRACE_SETREGS, tid, 0, uintptr(unsafe.Pointer(regs)))
}

// GetEventMsg is PTRACE_GETEVENTMSG.
func GetEventMsg(tid int) (uint64, error) {
	var msg uint64
	// SAFETY: the kernel writes one unsigned long to &msg.
	err := Raw(unix.PTRACE_GETEVENTMSG, tid, 0, uintptr(unsafe.Pointer(&msg)))
	return msg, err
}

// Wait4 waits for tid with __WALL, retrying on EINTR (Go's preemption
// signals interrupt it; DESIGN.md pitfall 1).
func Wait4(tid int) (unix.WaitStatus, error) {
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

// ntX86XState is the regset of the full xsave area (<linux/elf.h>).
const ntX86XState = 0x202

// maxXStateSize bounds the xsave area (AMX makes it about 11 KiB).
const maxXStateSize = 16 << 10

// GetXState reads tid's xsave area.
func GetXState(tid int) ([]byte, error) {
	buf := make([]byte, maxXStateSize)
	iov := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	// SAFETY: iov points at buf, which outlives the call; the kernel
	// writes at most iov.Len bytes and shrinks iov.Len to what it wrote.
	if err := Raw(unix.PTRACE_GETREGSET, tid, ntX86XState, uintptr(unsafe.Pointer(&iov))); err != nil {
		return nil, err
	}
	return buf[:iov.Len], nil
}

// SetXState loads an xsave image into tid.
func SetXState(tid int, state []byte) error {
	if len(state) == 0 {
		return nil
	}
	iov := unix.Iovec{Base: &state[0], Len: uint64(len(state))}
	// SAFETY: iov points at state, which outlives the call; the kernel
	// only reads iov.Len bytes from it.
	return Raw(unix.PTRACE_SETREGSET, tid, ntX86XState, uintptr(unsafe.Pointer(&iov)))
}
