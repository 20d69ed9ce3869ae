package syscalls

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// mkdirat is mkdir(2) and mkdirat(2).
func mkdirat(t *kernel.Task, dirfd int32, pathAddr hostarch.Addr, mode uint32) (uintptr, error) {
	pop, err := copyInPathOp(t, dirfd, pathAddr, false)
	if err != nil {
		return 0, err
	}
	mode = mode & (0o777 | linux.S_ISVTX) &^ t.FSContext().Umask()
	return 0, t.VFS().MkdirAt(t, &pop, linux.FileMode(mode))
}

// Mkdir implements Linux syscall mkdir(2).
func Mkdir(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return mkdirat(t, linux.AT_FDCWD, args[0].Pointer(), args[1].ModeT())
}

// Mkdirat implements Linux syscall mkdirat(2).
func Mkdirat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return mkdirat(t, args[0].Int(), args[1].Pointer(), args[2].ModeT())
}

// Unlink implements Linux syscall unlink(2).
func Unlink(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pop, err := copyInPathOp(t, linux.AT_FDCWD, args[0].Pointer(), false)
	if err != nil {
		return 0, err
	}
	return 0, t.VFS().UnlinkAt(t, &pop)
}

// Rmdir implements Linux syscall rmdir(2).
func Rmdir(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pop, err := copyInPathOp(t, linux.AT_FDCWD, args[0].Pointer(), false)
	if err != nil {
		return 0, err
	}
	return 0, t.VFS().RmdirAt(t, &pop)
}

// Unlinkat implements Linux syscall unlinkat(2).
func Unlinkat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	dirfd, pathAddr, flags := args[0].Int(), args[1].Pointer(), args[2].Uint()
	if flags&^linux.AT_REMOVEDIR != 0 {
		return 0, errno.EINVAL
	}
	pop, err := copyInPathOp(t, dirfd, pathAddr, false)
	if err != nil {
		return 0, err
	}
	if flags&linux.AT_REMOVEDIR != 0 {
		return 0, t.VFS().RmdirAt(t, &pop)
	}
	return 0, t.VFS().UnlinkAt(t, &pop)
}

// renameat is rename(2), renameat(2) and renameat2(2).
func renameat(t *kernel.Task, olddirfd int32, oldAddr hostarch.Addr, newdirfd int32, newAddr hostarch.Addr, flags uint32) (uintptr, error) {
	// RENAME_WHITEOUT is not supported; EINVAL is what filesystems that
	// lack it return.
	if flags&^(linux.RENAME_NOREPLACE|linux.RENAME_EXCHANGE) != 0 {
		return 0, errno.EINVAL
	}
	oldpop, err := copyInPathOp(t, olddirfd, oldAddr, false)
	if err != nil {
		return 0, err
	}
	newpop, err := copyInPathOp(t, newdirfd, newAddr, false)
	if err != nil {
		return 0, err
	}
	return 0, t.VFS().RenameAt(t, &oldpop, &newpop, flags)
}

// Rename implements Linux syscall rename(2).
func Rename(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return renameat(t, linux.AT_FDCWD, args[0].Pointer(), linux.AT_FDCWD, args[1].Pointer(), 0)
}

// Renameat implements Linux syscall renameat(2).
func Renameat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return renameat(t, args[0].Int(), args[1].Pointer(), args[2].Int(), args[3].Pointer(), 0)
}

// Renameat2 implements Linux syscall renameat2(2).
func Renameat2(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return renameat(t, args[0].Int(), args[1].Pointer(), args[2].Int(), args[3].Pointer(), args[4].Uint())
}

// symlinkat is symlink(2) and symlinkat(2).
func symlinkat(t *kernel.Task, targetAddr hostarch.Addr, newdirfd int32, linkAddr hostarch.Addr) (uintptr, error) {
	target, err := copyInPath(t, targetAddr)
	if err != nil {
		return 0, err
	}
	pop, err := copyInPathOp(t, newdirfd, linkAddr, false)
	if err != nil {
		return 0, err
	}
	return 0, t.VFS().SymlinkAt(t, &pop, target)
}

// Symlink implements Linux syscall symlink(2).
func Symlink(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return symlinkat(t, args[0].Pointer(), linux.AT_FDCWD, args[1].Pointer())
}

// Symlinkat implements Linux syscall symlinkat(2).
func Symlinkat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return symlinkat(t, args[0].Pointer(), args[1].Int(), args[2].Pointer())
}

// linkat is link(2) and linkat(2).
func linkat(t *kernel.Task, olddirfd int32, oldAddr hostarch.Addr, newdirfd int32, newAddr hostarch.Addr, flags uint32) (uintptr, error) {
	if flags&^(linux.AT_SYMLINK_FOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return 0, errno.EINVAL
	}
	oldPath, err := copyInPath(t, oldAddr)
	if err != nil {
		return 0, err
	}
	newpop, err := copyInPathOp(t, newdirfd, newAddr, false)
	if err != nil {
		return 0, err
	}
	if oldPath == "" && flags&linux.AT_EMPTY_PATH != 0 {
		// "If oldpath is an empty string, create a link to the file
		// referenced by olddirfd" - linkat(2), which may be an
		// O_TMPFILE file without a name.
		if olddirfd == linux.AT_FDCWD {
			return 0, errno.EPERM // The cwd is a directory.
		}
		f := t.GetFile(olddirfd)
		if f == nil {
			return 0, errno.EBADF
		}
		defer f.DecRef()
		vd := f.VirtualDentry()
		if !vd.Ok() {
			return 0, errno.ENOENT
		}
		return 0, t.VFS().Link(t, vd, &newpop)
	}
	oldpop, err := pathOp(t, olddirfd, oldPath, flags&linux.AT_SYMLINK_FOLLOW != 0)
	if err != nil {
		return 0, err
	}
	return 0, t.VFS().LinkAt(t, &oldpop, &newpop)
}

// Link implements Linux syscall link(2).
func Link(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return linkat(t, linux.AT_FDCWD, args[0].Pointer(), linux.AT_FDCWD, args[1].Pointer(), 0)
}

// Linkat implements Linux syscall linkat(2).
func Linkat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return linkat(t, args[0].Int(), args[1].Pointer(), args[2].Int(), args[3].Pointer(), args[4].Uint())
}

// readlinkat is readlink(2) and readlinkat(2).
func readlinkat(t *kernel.Task, dirfd int32, pathAddr, bufAddr hostarch.Addr, size int32) (uintptr, error) {
	if size <= 0 {
		return 0, errno.EINVAL
	}
	path, err := copyInPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	var target string
	if path == "" {
		// Since Linux 2.6.39 an empty path reads the link dirfd was
		// opened on with O_PATH|O_NOFOLLOW.
		f := t.GetFile(dirfd)
		if dirfd == linux.AT_FDCWD || f == nil {
			if f != nil {
				f.DecRef()
			}
			return 0, errno.ENOENT
		}
		defer f.DecRef()
		vd := f.VirtualDentry()
		if !vd.Ok() {
			return 0, errno.ENOENT
		}
		if target, err = t.VFS().Readlink(t, vd); err == errno.EINVAL {
			err = errno.ENOENT
		}
	} else {
		pop, perr := pathOp(t, dirfd, path, false)
		if perr != nil {
			return 0, perr
		}
		target, err = t.VFS().ReadlinkAt(t, &pop)
	}
	if err != nil {
		return 0, err
	}
	// "readlink() does not append a terminating null byte. It will
	// (silently) truncate the contents" - readlink(2).
	b := []byte(target)[:min(len(target), int(size))]
	if _, err := t.CopyOutBytes(bufAddr, b); err != nil {
		return 0, err
	}
	return uintptr(len(b)), nil
}

// Readlink implements Linux syscall readlink(2).
func Readlink(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return readlinkat(t, linux.AT_FDCWD, args[0].Pointer(), args[1].Pointer(), args[2].Int())
}

// Readlinkat implements Linux syscall readlinkat(2).
func Readlinkat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return readlinkat(t, args[0].Int(), args[1].Pointer(), args[2].Pointer(), args[3].Int())
}

// Getcwd implements Linux syscall getcwd(2). It returns the length
// including the NUL, as the raw syscall does.
func Getcwd(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	addr, size := args[0].Pointer(), args[1].SizeT()
	fsc := t.FSContext()
	path, err := t.VFS().PathFrom(fsc.RootDirectory(), fsc.WorkingDirectory())
	if err != nil {
		return 0, err
	}
	b := append([]byte(path), 0)
	if uint64(len(b)) > uint64(size) {
		return 0, errno.ERANGE
	}
	if _, err := t.CopyOutBytes(addr, b); err != nil {
		return 0, err
	}
	return uintptr(len(b)), nil
}

// Chdir implements Linux syscall chdir(2).
func Chdir(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pop, err := copyInPathOp(t, linux.AT_FDCWD, args[0].Pointer(), true)
	if err != nil {
		return 0, err
	}
	vd, err := t.VFS().GetDentryAt(t, &pop)
	if err != nil {
		return 0, err
	}
	if err := checkSearchableDir(t, vd); err != nil {
		return 0, err
	}
	t.FSContext().SetWorkingDirectory(vd)
	return 0, nil
}

// Fchdir implements Linux syscall fchdir(2).
func Fchdir(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	f := t.GetFile(args[0].Int())
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	vd := f.VirtualDentry()
	if !vd.Ok() {
		return 0, errno.ENOTDIR
	}
	if err := checkSearchableDir(t, vd); err != nil {
		return 0, err
	}
	t.FSContext().SetWorkingDirectory(vd)
	return 0, nil
}

// Umask implements Linux syscall umask(2).
func Umask(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.FSContext().SwapUmask(args[0].ModeT() & 0o777)), nil
}

// capMknod is CAP_MKNOD from <linux/capability.h>.
const capMknod = 27

// mknodat is mknod(2) and mknodat(2).
func mknodat(t *kernel.Task, dirfd int32, pathAddr hostarch.Addr, mode, dev uint32) (uintptr, error) {
	ftype := linux.FileMode(mode).FileType()
	switch ftype {
	case 0:
		// "Zero file type is equivalent to type S_IFREG" - mknod(2).
		ftype = linux.S_IFREG
	case linux.S_IFREG, linux.S_IFIFO, linux.S_IFSOCK:
	case linux.S_IFCHR, linux.S_IFBLK:
		// "EPERM The caller is not privileged (Linux: does not have the
		// CAP_MKNOD capability)" - mknod(2); FIFOs and sockets need none.
		if !t.Credentials().HasCapability(capMknod) {
			return 0, errno.EPERM
		}
	case linux.S_IFDIR:
		// "EPERM ... pathname names a directory" (fs/namei.c:may_mknod).
		return 0, errno.EPERM
	default:
		return 0, errno.EINVAL
	}
	pop, err := copyInPathOp(t, dirfd, pathAddr, false)
	if err != nil {
		return 0, err
	}
	perm := linux.FileMode(mode).Permissions() &^ linux.FileMode(t.FSContext().Umask())
	return 0, t.VFS().MknodAt(t, &pop, ftype|perm, dev)
}

// Mknod implements Linux syscall mknod(2).
func Mknod(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return mknodat(t, linux.AT_FDCWD, args[0].Pointer(), args[1].ModeT(), args[2].Uint())
}

// Mknodat implements Linux syscall mknodat(2).
func Mknodat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return mknodat(t, args[0].Int(), args[1].Pointer(), args[2].ModeT(), args[3].Uint())
}

// capSysChroot is CAP_SYS_CHROOT from <linux/capability.h>.
const capSysChroot = 18

// Chroot implements Linux syscall chroot(2): the caller's root becomes the
// directory; its cwd stays where it is (possibly outside the new root).
func Chroot(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pop, err := copyInPathOp(t, linux.AT_FDCWD, args[0].Pointer(), true)
	if err != nil {
		return 0, err
	}
	vd, err := t.VFS().GetDentryAt(t, &pop)
	if err != nil {
		return 0, err
	}
	if err := checkSearchableDir(t, vd); err != nil {
		return 0, err
	}
	// "EPERM The caller has insufficient privilege" - chroot(2).
	if !t.Credentials().HasCapability(capSysChroot) {
		return 0, errno.EPERM
	}
	t.FSContext().SetRootDirectory(vd)
	return 0, nil
}
