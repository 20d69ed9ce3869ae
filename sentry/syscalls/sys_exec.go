package syscalls

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// execSyscalls are execve and execveat.
var execSyscalls = map[uintptr]kernel.Syscall{
	59: {Name: "execve", Fn: Execve, Support: kernel.SupportPartial, Note: "Single-threaded callers only until threads land."},
}

// Limits on execve's string vectors, from include/uapi/linux/binfmts.h.
const (
	maxArgStrings = 0x7fffffff
	maxArgStrLen  = 32 * hostarch.PageSize
	pathMax       = 4096
)

// copyInStringVector reads a NULL-terminated array of string pointers.
func copyInStringVector(t *kernel.Task, addr hostarch.Addr) ([]string, error) {
	if addr == 0 {
		// "On Linux, argv and envp can be specified as NULL", giving empty
		// vectors - execve(2).
		return nil, nil
	}
	var out []string
	total := 0
	var b [8]byte
	for i := 0; ; i++ {
		if i >= maxArgStrings {
			return nil, errno.E2BIG
		}
		if _, err := t.CopyInBytes(addr+hostarch.Addr(8*i), b[:]); err != nil {
			return nil, errno.EFAULT
		}
		p := hostarch.Addr(binary.LittleEndian.Uint64(b[:]))
		if p == 0 {
			return out, nil
		}
		s, err := t.CopyInString(p, maxArgStrLen)
		if err == errno.ENAMETOOLONG {
			return nil, errno.E2BIG
		}
		if err != nil {
			return nil, err
		}
		// The loader enforces the stack-based limit exactly; this bound
		// only keeps a hostile guest from making the sentry hold gigabytes.
		total += len(s) + 1 + 8
		if total > 1<<26 {
			return nil, errno.E2BIG
		}
		out = append(out, s)
	}
}

// Execve implements Linux syscall execve(2).
func Execve(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pathAddr, argvAddr, envvAddr := args[0].Pointer(), args[1].Pointer(), args[2].Pointer()
	path, err := t.CopyInString(pathAddr, pathMax)
	if err != nil {
		return 0, err
	}
	if path == "" {
		return 0, errno.ENOENT
	}
	argv, err := copyInStringVector(t, argvAddr)
	if err != nil {
		return 0, err
	}
	envv, err := copyInStringVector(t, envvAddr)
	if err != nil {
		return 0, err
	}
	if err := t.Execve(path, argv, envv); err != nil {
		return 0, err
	}
	return 0, kernel.ErrNoSyscallReturn
}
