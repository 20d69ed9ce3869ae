package syscalls

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// copyOutStat writes st as a struct stat.
func copyOutStat(t *kernel.Task, addr hostarch.Addr, st *linux.Statx) error {
	s := linux.StatFromStatx(st)
	buf := make([]byte, linux.SizeofStat)
	s.MarshalBytes(buf)
	_, err := t.CopyOutBytes(addr, buf)
	return err
}

// statTarget returns the attributes of an AT_EMPTY_PATH-capable target.
func statTarget(t *kernel.Task, dirfd int32, pathAddr hostarch.Addr, flags uint32) (linux.Statx, error) {
	vd, f, err := fileOrPath(t, dirfd, pathAddr, flags)
	if err != nil {
		return linux.Statx{}, err
	}
	if f != nil {
		defer f.DecRef()
		return f.Stat(t)
	}
	return t.VFS().Stat(t, vd)
}

// Stat implements Linux syscall stat(2).
func Stat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	st, err := statTarget(t, linux.AT_FDCWD, args[0].Pointer(), 0)
	if err != nil {
		return 0, err
	}
	return 0, copyOutStat(t, args[1].Pointer(), &st)
}

// Lstat implements Linux syscall lstat(2).
func Lstat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	st, err := statTarget(t, linux.AT_FDCWD, args[0].Pointer(), linux.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return 0, err
	}
	return 0, copyOutStat(t, args[1].Pointer(), &st)
}

// Fstat implements Linux syscall fstat(2).
func Fstat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, addr := args[0].Int(), args[1].Pointer()
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	st, err := f.Stat(t)
	if err != nil {
		return 0, err
	}
	return 0, copyOutStat(t, addr, &st)
}

// Newfstatat implements Linux syscall newfstatat(2).
func Newfstatat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	dirfd, pathAddr, statAddr, flags := args[0].Int(), args[1].Pointer(), args[2].Pointer(), args[3].Uint()
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH|linux.AT_NO_AUTOMOUNT) != 0 {
		return 0, errno.EINVAL
	}
	st, err := statTarget(t, dirfd, pathAddr, flags)
	if err != nil {
		return 0, err
	}
	return 0, copyOutStat(t, statAddr, &st)
}

// Statx implements Linux syscall statx(2).
func Statx(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	dirfd, pathAddr, flags, mask, statxAddr := args[0].Int(), args[1].Pointer(), args[2].Uint(), args[3].Uint(), args[4].Pointer()
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH|linux.AT_NO_AUTOMOUNT|linux.AT_STATX_SYNC_TYPE) != 0 ||
		flags&linux.AT_STATX_SYNC_TYPE == linux.AT_STATX_SYNC_TYPE {
		return 0, errno.EINVAL
	}
	// "EINVAL Reserved flag specified in mask" - statx(2).
	if mask&linux.STATX__RESERVED != 0 {
		return 0, errno.EINVAL
	}
	st, err := statTarget(t, dirfd, pathAddr, flags)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, linux.SizeofStatx)
	st.MarshalBytes(buf)
	_, err = t.CopyOutBytes(statxAddr, buf)
	return 0, err
}

// copyOutStatfs writes st as a struct statfs.
func copyOutStatfs(t *kernel.Task, addr hostarch.Addr, st *linux.Statfs) error {
	buf := make([]byte, linux.SizeofStatfs)
	st.MarshalBytes(buf)
	_, err := t.CopyOutBytes(addr, buf)
	return err
}

// Statfs implements Linux syscall statfs(2).
func Statfs(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pop, err := copyInPathOp(t, linux.AT_FDCWD, args[0].Pointer(), true)
	if err != nil {
		return 0, err
	}
	st, err := t.VFS().StatFSAt(t, &pop)
	if err != nil {
		return 0, err
	}
	return 0, copyOutStatfs(t, args[1].Pointer(), &st)
}

// Fstatfs implements Linux syscall fstatfs(2).
func Fstatfs(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	f := t.GetFile(args[0].Int())
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	var st linux.Statfs
	if vd := f.VirtualDentry(); vd.Ok() {
		var err error
		if st, err = t.VFS().StatFS(t, vd); err != nil {
			return 0, err
		}
	} else {
		// Pipes, sockets and host fds live on pseudo filesystems.
		st = linux.Statfs{Type: 0x50495045, Bsize: 4096, Frsize: 4096, Namelen: linux.NAME_MAX} // PIPEFS_MAGIC
	}
	return 0, copyOutStatfs(t, args[1].Pointer(), &st)
}

// statPerms is what chdir and fchdir check: a searchable directory.
func checkSearchableDir(t *kernel.Task, vd vfs.VirtualDentry) error {
	st, err := t.VFS().Stat(t, vd)
	if err != nil {
		return err
	}
	if !st.FileMode().IsDir() {
		return errno.ENOTDIR
	}
	return t.VFS().CheckAccess(t, &st, vfs.MayExec)
}
