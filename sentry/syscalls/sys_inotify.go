package syscalls

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// inotifyInit is inotify_init(2) and inotify_init1(2).
func inotifyInit(t *kernel.Task, flags uint32) (uintptr, error) {
	// "EINVAL (inotify_init1()) An invalid value was specified in flags."
	if flags&^(linux.IN_NONBLOCK|linux.IN_CLOEXEC) != 0 {
		return 0, errno.EINVAL
	}
	f := t.VFS().NewInotify(flags & linux.IN_NONBLOCK)
	defer f.DecRef()
	fd, err := t.FDTable().NewFD(0, f, flags&linux.IN_CLOEXEC != 0)
	return uintptr(fd), err
}

// InotifyInit implements Linux syscall inotify_init(2).
func InotifyInit(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return inotifyInit(t, 0)
}

// InotifyInit1 implements Linux syscall inotify_init1(2).
func InotifyInit1(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return inotifyInit(t, args[0].Uint())
}

// inotifyFile returns fd's inotify instance, with a reference on its
// file: "EBADF fd is not a valid file descriptor"; "EINVAL ... fd is not
// an inotify file descriptor".
func inotifyFile(t *kernel.Task, fd int32) (*vfs.FileDescription, *vfs.Inotify, error) {
	f := t.GetFile(fd)
	if f == nil {
		return nil, nil, errno.EBADF
	}
	in, ok := f.Impl().(*vfs.Inotify)
	if !ok {
		f.DecRef()
		return nil, nil, errno.EINVAL
	}
	return f, in, nil
}

// InotifyAddWatch implements Linux syscall inotify_add_watch(2).
func InotifyAddWatch(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, pathAddr, mask := args[0].Int(), args[1].Pointer(), args[2].Uint()
	f, in, err := inotifyFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	// "EINVAL The given event mask contains no valid events; or
	// IN_MASK_ADD and IN_MASK_CREATE were both specified".
	if mask&linux.IN_ALL_EVENTS == 0 {
		return 0, errno.EINVAL
	}
	if mask&linux.IN_MASK_ADD != 0 && mask&linux.IN_MASK_CREATE != 0 {
		return 0, errno.EINVAL
	}
	pop, err := copyInPathOp(t, linux.AT_FDCWD, pathAddr, mask&linux.IN_DONT_FOLLOW == 0)
	if err != nil {
		return 0, err
	}
	vd, err := t.VFS().GetDentryAt(t, &pop)
	if err != nil {
		return 0, err
	}
	st, err := t.VFS().Stat(t, vd)
	if err != nil {
		return 0, err
	}
	if mask&linux.IN_ONLYDIR != 0 && !st.FileMode().IsDir() {
		return 0, errno.ENOTDIR
	}
	// "EACCES Read access to the given file is not permitted."
	if err := t.VFS().CheckAccess(t, &st, vfs.MayRead); err != nil {
		return 0, err
	}
	wd, err := in.AddWatch(vd.Inode(), mask&^(linux.IN_ONLYDIR|linux.IN_DONT_FOLLOW|linux.IN_EXCL_UNLINK))
	return uintptr(wd), err
}

// InotifyRmWatch implements Linux syscall inotify_rm_watch(2).
func InotifyRmWatch(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	f, in, err := inotifyFile(t, args[0].Int())
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return 0, in.RmWatch(args[1].Int())
}
