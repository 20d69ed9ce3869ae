package syscalls

import (
	"strings"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// xattrSyscalls: tmpfs and the overlay's upper layer store extended
// attributes (user.*, security.*, trusted.* for CAP_SYS_ADMIN); other
// filesystems (hostfs volumes, procfs) fail with EOPNOTSUPP.
var xattrSyscalls = map[uintptr]kernel.Syscall{
	188: {Name: "setxattr", Fn: Setxattr, Support: kernel.SupportPartial, Note: "tmpfs and overlay only"},
	189: {Name: "lsetxattr", Fn: Lsetxattr, Support: kernel.SupportPartial, Note: "tmpfs and overlay only"},
	190: {Name: "fsetxattr", Fn: Fsetxattr, Support: kernel.SupportPartial, Note: "tmpfs and overlay only"},
	191: {Name: "getxattr", Fn: Getxattr, Support: kernel.SupportPartial, Note: "tmpfs and overlay only"},
	192: {Name: "lgetxattr", Fn: Lgetxattr, Support: kernel.SupportPartial, Note: "tmpfs and overlay only"},
	193: {Name: "fgetxattr", Fn: Fgetxattr, Support: kernel.SupportPartial, Note: "tmpfs and overlay only"},
	194: {Name: "listxattr", Fn: Listxattr, Support: kernel.SupportPartial, Note: "tmpfs and overlay only"},
	195: {Name: "llistxattr", Fn: Llistxattr, Support: kernel.SupportPartial, Note: "tmpfs and overlay only"},
	196: {Name: "flistxattr", Fn: Flistxattr, Support: kernel.SupportPartial, Note: "tmpfs and overlay only"},
	197: {Name: "removexattr", Fn: Removexattr, Support: kernel.SupportPartial, Note: "tmpfs and overlay only"},
	198: {Name: "lremovexattr", Fn: Lremovexattr, Support: kernel.SupportPartial, Note: "tmpfs and overlay only"},
	199: {Name: "fremovexattr", Fn: Fremovexattr, Support: kernel.SupportPartial, Note: "tmpfs and overlay only"},
}

// xattrTarget resolves the file of an xattr call: a path (following the
// last symlink unless nofollow) or, if fromFD, the fd in arg.
func xattrTarget(t *kernel.Task, arg arch.SyscallArgument, fromFD, nofollow bool) (vfs.VirtualDentry, error) {
	if fromFD {
		f := t.GetFile(arg.Int())
		if f == nil {
			return vfs.VirtualDentry{}, errno.EBADF
		}
		defer f.DecRef()
		if f.IsPath() {
			return vfs.VirtualDentry{}, errno.EBADF
		}
		vd := f.VirtualDentry()
		if !vd.Ok() {
			return vd, errno.EOPNOTSUPP
		}
		return vd, nil
	}
	pop, err := copyInPathOp(t, linux.AT_FDCWD, arg.Pointer(), !nofollow)
	if err != nil {
		return vfs.VirtualDentry{}, err
	}
	return t.VFS().GetDentryAt(t, &pop)
}

func copyInXattrName(t *kernel.Task, addr hostarch.Addr) (string, error) {
	name, err := t.CopyInString(addr, vfs.XATTR_NAME_MAX+1)
	if err == errno.ENAMETOOLONG {
		return "", errno.ERANGE
	}
	return name, err
}

func setxattr(t *kernel.Task, args arch.SyscallArguments, fromFD, nofollow bool) (uintptr, error) {
	nameAddr, valueAddr, size, flags := args[1].Pointer(), args[2].Pointer(), args[3].SizeT(), args[4].Uint()
	name, err := copyInXattrName(t, nameAddr)
	if err != nil {
		return 0, err
	}
	if size > vfs.XATTR_SIZE_MAX {
		return 0, errno.E2BIG
	}
	value := make([]byte, size)
	if size > 0 {
		if _, err := t.CopyInBytes(valueAddr, value); err != nil {
			return 0, err
		}
	}
	vd, err := xattrTarget(t, args[0], fromFD, nofollow)
	if err != nil {
		return 0, err
	}
	return 0, t.VFS().SetXattr(t, vd, name, value, flags)
}

func getxattr(t *kernel.Task, args arch.SyscallArguments, fromFD, nofollow bool) (uintptr, error) {
	nameAddr, valueAddr, size := args[1].Pointer(), args[2].Pointer(), args[3].SizeT()
	name, err := copyInXattrName(t, nameAddr)
	if err != nil {
		return 0, err
	}
	vd, err := xattrTarget(t, args[0], fromFD, nofollow)
	if err != nil {
		return 0, err
	}
	v, err := t.VFS().GetXattr(t, vd, name)
	if err != nil {
		return 0, err
	}
	// "If size is specified as zero, these calls return the current size
	// of the named extended attribute" - getxattr(2).
	if size == 0 {
		return uintptr(len(v)), nil
	}
	if uint(len(v)) > size {
		return 0, errno.ERANGE
	}
	if _, err := t.CopyOutBytes(valueAddr, v); err != nil {
		return 0, err
	}
	return uintptr(len(v)), nil
}

func listxattr(t *kernel.Task, args arch.SyscallArguments, fromFD, nofollow bool) (uintptr, error) {
	listAddr, size := args[1].Pointer(), args[2].SizeT()
	vd, err := xattrTarget(t, args[0], fromFD, nofollow)
	if err != nil {
		return 0, err
	}
	names, err := t.VFS().ListXattr(t, vd)
	if err != nil {
		return 0, err
	}
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(0)
	}
	buf := []byte(b.String())
	if size == 0 {
		return uintptr(len(buf)), nil
	}
	if uint(len(buf)) > size {
		return 0, errno.ERANGE
	}
	if _, err := t.CopyOutBytes(listAddr, buf); err != nil {
		return 0, err
	}
	return uintptr(len(buf)), nil
}

func removexattr(t *kernel.Task, args arch.SyscallArguments, fromFD, nofollow bool) (uintptr, error) {
	name, err := copyInXattrName(t, args[1].Pointer())
	if err != nil {
		return 0, err
	}
	vd, err := xattrTarget(t, args[0], fromFD, nofollow)
	if err != nil {
		return 0, err
	}
	return 0, t.VFS().RemoveXattr(t, vd, name)
}

// Setxattr implements Linux syscall setxattr(2).
func Setxattr(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return setxattr(t, args, false, false)
}

// Lsetxattr implements Linux syscall lsetxattr(2).
func Lsetxattr(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return setxattr(t, args, false, true)
}

// Fsetxattr implements Linux syscall fsetxattr(2).
func Fsetxattr(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return setxattr(t, args, true, false)
}

// Getxattr implements Linux syscall getxattr(2).
func Getxattr(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return getxattr(t, args, false, false)
}

// Lgetxattr implements Linux syscall lgetxattr(2).
func Lgetxattr(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return getxattr(t, args, false, true)
}

// Fgetxattr implements Linux syscall fgetxattr(2).
func Fgetxattr(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return getxattr(t, args, true, false)
}

// Listxattr implements Linux syscall listxattr(2).
func Listxattr(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return listxattr(t, args, false, false)
}

// Llistxattr implements Linux syscall llistxattr(2).
func Llistxattr(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return listxattr(t, args, false, true)
}

// Flistxattr implements Linux syscall flistxattr(2).
func Flistxattr(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return listxattr(t, args, true, false)
}

// Removexattr implements Linux syscall removexattr(2).
func Removexattr(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return removexattr(t, args, false, false)
}

// Lremovexattr implements Linux syscall lremovexattr(2).
func Lremovexattr(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return removexattr(t, args, false, true)
}

// Fremovexattr implements Linux syscall fremovexattr(2).
func Fremovexattr(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return removexattr(t, args, true, false)
}
