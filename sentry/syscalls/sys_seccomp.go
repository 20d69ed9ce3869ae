package syscalls

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/seccomp"
)

// seccompSyscalls: guest seccomp filters run in the sentry.
var seccompSyscalls = map[uintptr]kernel.Syscall{
	317: {Name: "seccomp", Fn: Seccomp, Support: kernel.SupportPartial, Note: "Filters run in the sentry; SECCOMP_RET_TRACE and USER_NOTIF act as if no tracer or listener existed (ENOSYS); no notification fds."},
}

// Seccomp implements Linux syscall seccomp(2).
func Seccomp(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	op, flags, uargs := args[0].Uint(), args[1].Uint(), args[2].Pointer()
	switch op {
	case kernel.SECCOMP_SET_MODE_STRICT:
		if flags != 0 || uargs != 0 {
			return 0, errno.EINVAL
		}
		return 0, t.SetSeccompStrict()
	case kernel.SECCOMP_SET_MODE_FILTER:
		if flags&^(kernel.SECCOMP_FILTER_FLAG_TSYNC|kernel.SECCOMP_FILTER_FLAG_LOG|
			kernel.SECCOMP_FILTER_FLAG_SPEC_ALLOW|kernel.SECCOMP_FILTER_FLAG_TSYNC_ESRCH) != 0 {
			// NEW_LISTENER would need user notification fds.
			return 0, errno.EINVAL
		}
		return 0, installFilter(t, uargs, flags)
	case kernel.SECCOMP_GET_ACTION_AVAIL:
		if flags != 0 {
			return 0, errno.EINVAL
		}
		var b [4]byte
		if _, err := t.CopyInBytes(uargs, b[:]); err != nil {
			return 0, errno.EFAULT
		}
		if !seccomp.KnownAction(binary.LittleEndian.Uint32(b[:])) {
			return 0, errno.EOPNOTSUPP
		}
		return 0, nil
	case kernel.SECCOMP_GET_NOTIF_SIZES:
		// struct seccomp_notif_sizes {u16 notif, resp, data}.
		if flags != 0 {
			return 0, errno.EINVAL
		}
		var b [6]byte
		binary.LittleEndian.PutUint16(b[0:], 80)
		binary.LittleEndian.PutUint16(b[2:], 24)
		binary.LittleEndian.PutUint16(b[4:], seccomp.DataSize)
		if _, err := t.CopyOutBytes(uargs, b[:]); err != nil {
			return 0, errno.EFAULT
		}
		return 0, nil
	}
	return 0, errno.EINVAL
}

// installFilter reads a struct sock_fprog at addr and installs it.
func installFilter(t *kernel.Task, addr hostarch.Addr, flags uint32) error {
	var b [16]byte
	if _, err := t.CopyInBytes(addr, b[:]); err != nil {
		return errno.EFAULT
	}
	n := int(binary.LittleEndian.Uint16(b[0:]))
	filter := hostarch.Addr(binary.LittleEndian.Uint64(b[8:]))
	if n == 0 || n > seccomp.MaxInstructions {
		return errno.EINVAL
	}
	prog := make([]byte, n*seccomp.InstructionSize)
	if _, err := t.CopyInBytes(filter, prog); err != nil {
		return errno.EFAULT
	}
	p, err := seccomp.Decode(prog)
	if err != nil {
		return err
	}
	return t.AddSeccompFilter(p, flags)
}
