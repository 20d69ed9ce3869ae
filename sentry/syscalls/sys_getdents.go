package syscalls

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// Getdents64 implements Linux syscall getdents64(2).
func Getdents64(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, addr, count := args[0].Int(), args[1].Pointer(), int(min(args[2].Uint(), ioChunk))
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	if err := checkRange(addr, count); err != nil {
		return 0, err
	}
	var buf []byte
	tooSmall := false
	err := f.IterDirents(t, func(d vfs.Dirent, next int64) bool {
		if len(buf)+linux.Dirent64Size(len(d.Name)) > count {
			tooSmall = len(buf) == 0
			return false
		}
		buf = linux.MarshalDirent64(buf, d.Ino, next, d.Type, d.Name)
		return true
	})
	if err != nil {
		return 0, err
	}
	// "EINVAL Result buffer is too small" - getdents(2).
	if tooSmall {
		return 0, errno.EINVAL
	}
	if len(buf) == 0 {
		return 0, nil
	}
	if _, err := t.CopyOutBytes(addr, buf); err != nil {
		return 0, err
	}
	return uintptr(len(buf)), nil
}
