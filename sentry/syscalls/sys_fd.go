package syscalls

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/pipe"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// Close implements Linux syscall close(2).
func Close(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	f := t.FDTable().Remove(args[0].Int())
	if f == nil {
		return 0, errno.EBADF
	}
	f.DecRef()
	return 0, nil
}

// Dup implements Linux syscall dup(2).
func Dup(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, err := t.FDTable().Dup(args[0].Int(), 0, false)
	return uintptr(fd), err
}

// dup3 installs oldfd's file at newfd.
func dup3(t *kernel.Task, oldfd, newfd int32, cloexec bool) (uintptr, error) {
	f := t.GetFile(oldfd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	if err := t.FDTable().NewFDAt(newfd, f, cloexec); err != nil {
		return 0, err
	}
	return uintptr(newfd), nil
}

// Dup2 implements Linux syscall dup2(2).
func Dup2(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	oldfd, newfd := args[0].Int(), args[1].Int()
	if oldfd == newfd {
		// "If oldfd is a valid file descriptor, and newfd has the same
		// value as oldfd, then dup2() does nothing, and returns newfd" -
		// dup(2).
		f := t.GetFile(oldfd)
		if f == nil {
			return 0, errno.EBADF
		}
		f.DecRef()
		return uintptr(newfd), nil
	}
	return dup3(t, oldfd, newfd, false)
}

// Dup3 implements Linux syscall dup3(2).
func Dup3(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	oldfd, newfd, flags := args[0].Int(), args[1].Int(), args[2].Uint()
	if flags&^linux.O_CLOEXEC != 0 || oldfd == newfd {
		return 0, errno.EINVAL
	}
	return dup3(t, oldfd, newfd, flags&linux.O_CLOEXEC != 0)
}

// Fcntl implements Linux syscall fcntl(2). Record locks are accepted and
// never conflict: the sandbox has one process tree and no lock manager
// yet, so F_GETLK always reports the range unlocked.
func Fcntl(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, cmd := args[0].Int(), args[1].Int()
	f, cloexec := t.FDTable().Get(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	switch cmd {
	case linux.F_DUPFD, linux.F_DUPFD_CLOEXEC:
		minfd := args[2].Int()
		if minfd < 0 {
			return 0, errno.EINVAL
		}
		nfd, err := t.FDTable().Dup(fd, minfd, cmd == linux.F_DUPFD_CLOEXEC)
		return uintptr(nfd), err
	case linux.F_GETFD:
		if cloexec {
			return linux.FD_CLOEXEC, nil
		}
		return 0, nil
	case linux.F_SETFD:
		return 0, t.FDTable().SetCloseOnExec(fd, args[2].Int()&linux.FD_CLOEXEC != 0)
	case linux.F_GETFL:
		return uintptr(f.StatusFlags()), nil
	case linux.F_SETFL:
		if f.IsPath() {
			return 0, errno.EBADF
		}
		f.SetStatusFlags(args[2].Uint())
		return 0, nil
	case linux.F_GETLK, linux.F_OFD_GETLK:
		if f.IsPath() {
			return 0, errno.EBADF
		}
		var fl [linux.SizeofFlock]byte
		if _, err := t.CopyInBytes(args[2].Pointer(), fl[:]); err != nil {
			return 0, err
		}
		// l_type is the first field, a short.
		fl[0], fl[1] = linux.F_UNLCK, 0
		_, err := t.CopyOutBytes(args[2].Pointer(), fl[:])
		return 0, err
	case linux.F_SETLK, linux.F_SETLKW, linux.F_OFD_SETLK, linux.F_OFD_SETLKW:
		if f.IsPath() {
			return 0, errno.EBADF
		}
		var fl [linux.SizeofFlock]byte
		if _, err := t.CopyInBytes(args[2].Pointer(), fl[:]); err != nil {
			return 0, err
		}
		switch typ := int16(fl[0]) | int16(fl[1])<<8; typ {
		case linux.F_RDLCK:
			if !f.IsReadable() {
				return 0, errno.EBADF
			}
		case linux.F_WRLCK:
			if !f.IsWritable() {
				return 0, errno.EBADF
			}
		case linux.F_UNLCK:
		default:
			return 0, errno.EINVAL
		}
		return 0, nil
	case linux.F_GETOWN, linux.F_SETOWN:
		return 0, nil
	case fSetPipeSz:
		n, err := pipe.SetSize(f, int64(args[2].Int()))
		return uintptr(n), err
	case fGetPipeSz:
		n, err := pipe.Size(f)
		return uintptr(n), err
	}
	return 0, errno.EINVAL
}

// F_SETPIPE_SZ and F_GETPIPE_SZ from <linux/fcntl.h> (F_LINUX_SPECIFIC_BASE
// + 7 and + 8).
const (
	fSetPipeSz = 1031
	fGetPipeSz = 1032
)
