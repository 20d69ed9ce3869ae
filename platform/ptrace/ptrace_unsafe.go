package ptrace

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
)

// These wrappers issue ptrace requests on the calling OS thread, which must
// be the tracer thread (the goroutine is locked with LockOSThread).

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

// siginfo is the part of struct siginfo (128 bytes) the platform reads.
type siginfo struct {
	Signo int32
	Errno int32
	Code  int32
	_     int32
	// Addr is si_addr for faults; for kill/tkill the first 4 bytes are
	// si_pid and the next 4 si_uid.
	Addr uint64
	_    [96]byte
}

func (s *siginfo) pid() int32 { return int32(uint32(s.Addr)) }

func getSiginfo(tid int, si *siginfo) error {
	// SAFETY: siginfo is 128 bytes, the size of the kernel's siginfo_t.
	return ptraceRaw(unix.PTRACE_GETSIGINFO, tid, 0, uintptr(unsafe.Pointer(si)))
}

func getEventMsg(tid int) (uint64, error) {
	var msg uint64
	// SAFETY: the kernel writes one unsigned long to &msg.
	err := ptraceRaw(unix.PTRACE_GETEVENTMSG, tid, 0, uintptr(unsafe.Pointer(&msg)))
	return msg, err
}

// wait4 waits for tid with __WALL, retrying on EINTR (Go's preemption
// signals interrupt it; DESIGN.md pitfall 1).
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

func bytesOf(fprog *sockFprog) []byte {
	// SAFETY: sockFprog is a plain 16-byte struct with no pointers the GC
	// must see (the filter address is a guest-side address).
	return unsafe.Slice((*byte)(unsafe.Pointer(fprog)), unsafe.Sizeof(*fprog))
}

func filterBytes(f []sockFilter) []byte {
	if len(f) == 0 {
		return nil
	}
	// SAFETY: sockFilter is 8 bytes with no padding; f is live while the
	// bytes are copied out.
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), len(f)*int(unsafe.Sizeof(f[0])))
}

// ntX86XState is the regset of the full xsave area (<linux/elf.h>).
const ntX86XState = 0x202

// maxXStateSize bounds the xsave area (AMX makes it about 11 KiB).
const maxXStateSize = 16 << 10

func getXState(tid int) ([]byte, error) {
	buf := make([]byte, maxXStateSize)
	iov := unix.Iovec{Base: &buf[0], Len: uint64(len(buf))}
	// SAFETY: iov points at buf, which outlives the call; the kernel
	// writes at most iov.Len bytes and shrinks iov.Len to what it wrote.
	if err := ptraceRaw(unix.PTRACE_GETREGSET, tid, ntX86XState, uintptr(unsafe.Pointer(&iov))); err != nil {
		return nil, err
	}
	return buf[:iov.Len], nil
}

func setXState(tid int, state []byte) error {
	if len(state) == 0 {
		return nil
	}
	iov := unix.Iovec{Base: &state[0], Len: uint64(len(state))}
	// SAFETY: as for getXState; the kernel only reads the buffer.
	return ptraceRaw(unix.PTRACE_SETREGSET, tid, ntX86XState, uintptr(unsafe.Pointer(&iov)))
}
