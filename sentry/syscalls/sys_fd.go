package syscalls

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/pipe"
	"github.com/runsc-lite/runsc-lite/fs/tmpfs"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
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

// Fcntl implements Linux syscall fcntl(2).
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
	case linux.F_GETLK, linux.F_OFD_GETLK, linux.F_SETLK, linux.F_SETLKW, linux.F_OFD_SETLK, linux.F_OFD_SETLKW:
		return 0, recordLock(t, f, cmd, args[2].Pointer())
	case linux.F_GETOWN, linux.F_SETOWN:
		return 0, nil
	case fSetPipeSz:
		n, err := pipe.SetSize(f, int64(args[2].Int()))
		return uintptr(n), err
	case fGetPipeSz:
		n, err := pipe.Size(f)
		return uintptr(n), err
	case linux.F_ADD_SEALS:
		return 0, tmpfs.AddSeals(f, args[2].Uint())
	case linux.F_GET_SEALS:
		s, err := tmpfs.Seals(f)
		return uintptr(s), err
	}
	return 0, errno.EINVAL
}

// F_SETPIPE_SZ and F_GETPIPE_SZ from <linux/fcntl.h> (F_LINUX_SPECIFIC_BASE
// + 7 and + 8).
const (
	fSetPipeSz = 1031
	fGetPipeSz = 1032
)

// recordLock implements fcntl's F_GETLK, F_SETLK and F_SETLKW and their
// OFD variants on struct flock at addr.
func recordLock(t *kernel.Task, f *vfs.FileDescription, cmd int32, addr hostarch.Addr) error {
	if f.IsPath() {
		return errno.EBADF
	}
	var fl [linux.SizeofFlock]byte
	if _, err := t.CopyInBytes(addr, fl[:]); err != nil {
		return err
	}
	le := binary.LittleEndian
	typ := vfs.LockType(int16(le.Uint16(fl[0:])))
	whence := int16(le.Uint16(fl[2:]))
	start, length := int64(le.Uint64(fl[8:])), int64(le.Uint64(fl[16:]))
	ofd := cmd == linux.F_OFD_GETLK || cmd == linux.F_OFD_SETLK || cmd == linux.F_OFD_SETLKW
	// "l_pid ... must be set to zero" for OFD locks - fcntl(2).
	if ofd && le.Uint32(fl[24:]) != 0 {
		return errno.EINVAL
	}
	var base int64
	switch whence {
	case linux.SEEK_SET:
	case linux.SEEK_CUR:
		base = f.Offset()
	case linux.SEEK_END:
		st, err := f.Stat(t)
		if err != nil {
			return err
		}
		base = int64(st.Size)
	default:
		return errno.EINVAL
	}
	// Overflow: base and start are each below 2^63; a wrapped sum is
	// negative, which is EINVAL as for a range before the file's start.
	from := base + start
	if from < 0 || (start > 0 && from < base) {
		return errno.EINVAL
	}
	r := vfs.LockRange{Start: uint64(from), End: vfs.LockEOF}
	switch {
	case length > 0:
		if end := from + length; end > from {
			r.End = uint64(end)
		}
	case length < 0:
		// "If l_len is negative, the interval described by lock covers
		// bytes l_start+l_len up to and including l_start-1" - fcntl(2).
		if from+length < 0 {
			return errno.EINVAL
		}
		r = vfs.LockRange{Start: uint64(from + length), End: uint64(from)}
	}
	var owner any = t.FDTable()
	if ofd {
		owner = f
	}
	switch typ {
	case linux.F_RDLCK, linux.F_WRLCK, linux.F_UNLCK:
	default:
		return errno.EINVAL
	}
	if cmd == linux.F_GETLK || cmd == linux.F_OFD_GETLK {
		if typ == linux.F_UNLCK {
			return errno.EINVAL
		}
		htyp, hr, pid, ok := f.TestPosixLock(owner, typ, r)
		if !ok {
			le.PutUint16(fl[0:], uint16(linux.F_UNLCK))
		} else {
			le.PutUint16(fl[0:], uint16(htyp))
			le.PutUint16(fl[2:], linux.SEEK_SET)
			le.PutUint64(fl[8:], hr.Start)
			l := uint64(0)
			if hr.End != vfs.LockEOF {
				l = hr.End - hr.Start
			}
			le.PutUint64(fl[16:], l)
			le.PutUint32(fl[24:], uint32(pid))
		}
		_, err := t.CopyOutBytes(addr, fl[:])
		return err
	}
	// "EBADF ... the type of lock (l_type) is not compatible with the
	// file-descriptor open mode" - fcntl(2).
	if (typ == linux.F_RDLCK && !f.IsReadable()) || (typ == linux.F_WRLCK && !f.IsWritable()) {
		return errno.EBADF
	}
	pid := int32(t.ThreadGroup().PID())
	if ofd {
		pid = -1
	}
	block := cmd == linux.F_SETLKW || cmd == linux.F_OFD_SETLKW
	err := f.PosixLock(t, owner, pid, typ, r, block)
	if err == errno.EAGAIN {
		// F_SETLK: "EACCES or EAGAIN ... the operation is prohibited
		// because the file has been memory-mapped or another process
		// holds a lock"; Linux says EAGAIN.
		return errno.EAGAIN
	}
	return err
}

// flock(2) operations, from <asm-generic/fcntl.h>.
const (
	lockSH = 1
	lockEX = 2
	lockNB = 4
	lockUN = 8
)

// Flock implements Linux syscall flock(2).
func Flock(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, op := args[0].Int(), args[1].Int()
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	if f.IsPath() {
		return 0, errno.EBADF
	}
	var typ vfs.LockType
	switch op &^ lockNB {
	case lockSH:
		typ = linux.F_RDLCK
	case lockEX:
		typ = linux.F_WRLCK
	case lockUN:
		typ = linux.F_UNLCK
	default:
		return 0, errno.EINVAL
	}
	return 0, f.Flock(t, typ, op&lockNB == 0)
}
