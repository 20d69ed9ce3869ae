package ptrace

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/platform/internal/ptracer"
)

// These wrappers issue ptrace requests on the calling OS thread, which must
// be the tracer thread (the goroutine is locked with LockOSThread).

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
	return ptracer.Raw(unix.PTRACE_GETSIGINFO, tid, 0, uintptr(unsafe.Pointer(si)))
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
