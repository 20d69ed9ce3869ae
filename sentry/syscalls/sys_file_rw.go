package syscalls

import (
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// preadv2/pwritev2 flags from <linux/fs.h>. The sentry's files are in
// memory or reached synchronously, so each is honoured by doing nothing
// special, except RWF_APPEND.
const (
	rwfHIPRI     = 0x1
	rwfDSYNC     = 0x2
	rwfSYNC      = 0x4
	rwfNOWAIT    = 0x8
	rwfAPPEND    = 0x10
	rwfSupported = rwfHIPRI | rwfDSYNC | rwfSYNC | rwfNOWAIT | rwfAPPEND
)

// preadv is preadv(2) and preadv2(2); off -1 (preadv2 only) reads at the
// file offset as readv(2) does.
func preadv(t *kernel.Task, args arch.SyscallArguments, off int64, flags uint32) (uintptr, error) {
	if flags&^rwfSupported != 0 {
		return 0, errno.EOPNOTSUPP
	}
	if off == -1 {
		return Readv(t, 0, args)
	}
	fd, addr, iovcnt := args[0].Int(), args[1].Pointer(), int(args[2].Int())
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	if !f.IsReadable() {
		return 0, errno.EBADF
	}
	if f.IsStream() {
		return 0, errno.ESPIPE
	}
	if off < 0 {
		return 0, errno.EINVAL
	}
	iovs, err := t.CopyInIovecs(addr, iovcnt)
	if err != nil {
		return 0, err
	}
	total, err := iovecTotal(iovs)
	if err != nil || total == 0 {
		return 0, err
	}
	buf := make([]byte, min(total, ioChunk))
	n, err := f.PRead(t, buf, off)
	if n == 0 {
		return 0, err
	}
	return scatter(t, iovs, buf[:n])
}

// pwritev is pwritev(2) and pwritev2(2).
func pwritev(t *kernel.Task, args arch.SyscallArguments, off int64, flags uint32) (uintptr, error) {
	if flags&^rwfSupported != 0 {
		return 0, errno.EOPNOTSUPP
	}
	if off == -1 {
		return Writev(t, 0, args)
	}
	fd, addr, iovcnt := args[0].Int(), args[1].Pointer(), int(args[2].Int())
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	if !f.IsWritable() {
		return 0, errno.EBADF
	}
	if f.IsStream() {
		return 0, errno.ESPIPE
	}
	if off < 0 {
		return 0, errno.EINVAL
	}
	iovs, err := t.CopyInIovecs(addr, iovcnt)
	if err != nil {
		return 0, err
	}
	total, err := iovecTotal(iovs)
	if err != nil || total == 0 {
		return 0, err
	}
	if flags&rwfAPPEND != 0 {
		st, err := f.Stat(t)
		if err != nil {
			return 0, err
		}
		off = int64(st.Size)
	}
	done := 0
	for done < total {
		buf, err := gather(t, iovs, uint64(done), min(total-done, ioChunk))
		var n int
		if err == nil {
			n, err = f.PWrite(t, buf, off+int64(done))
			done += n
		}
		if err != nil {
			if done > 0 {
				break
			}
			return 0, err
		}
		if n < len(buf) {
			break
		}
	}
	return uintptr(done), nil
}

// Preadv implements Linux syscall preadv(2).
func Preadv(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	off := args[3].Int64()
	if off == -1 {
		return 0, errno.EINVAL
	}
	return preadv(t, args, off, 0)
}

// Pwritev implements Linux syscall pwritev(2).
func Pwritev(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	off := args[3].Int64()
	if off == -1 {
		return 0, errno.EINVAL
	}
	return pwritev(t, args, off, 0)
}

// Preadv2 implements Linux syscall preadv2(2).
func Preadv2(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return preadv(t, args, args[3].Int64(), args[5].Uint())
}

// Pwritev2 implements Linux syscall pwritev2(2).
func Pwritev2(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return pwritev(t, args, args[3].Int64(), args[5].Uint())
}
