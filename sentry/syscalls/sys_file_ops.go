package syscalls

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/pipe"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// chownOpts builds SetStat options for chown's uid and gid, where -1
// leaves an id unchanged.
func chownOpts(uid, gid int32) *vfs.SetStatOptions {
	opts := &vfs.SetStatOptions{}
	if uid != -1 {
		opts.Stat.Mask |= linux.STATX_UID
		opts.Stat.UID = uint32(uid)
	}
	if gid != -1 {
		opts.Stat.Mask |= linux.STATX_GID
		opts.Stat.GID = uint32(gid)
	}
	return opts
}

// chownAt is chown(2), lchown(2) and fchownat(2).
func chownAt(t *kernel.Task, dirfd int32, pathAddr hostarch.Addr, uid, gid int32, flags uint32) (uintptr, error) {
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return 0, errno.EINVAL
	}
	vd, f, err := fileOrPath(t, dirfd, pathAddr, flags)
	if err != nil {
		return 0, err
	}
	if f != nil {
		defer f.DecRef()
	}
	if !vd.Ok() {
		return 0, errno.EPERM
	}
	opts := chownOpts(uid, gid)
	if opts.Stat.Mask == 0 {
		return 0, nil
	}
	return 0, t.VFS().SetStat(t, vd, opts, false)
}

// Chown implements Linux syscall chown(2).
func Chown(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return chownAt(t, linux.AT_FDCWD, args[0].Pointer(), args[1].Int(), args[2].Int(), 0)
}

// Lchown implements Linux syscall lchown(2).
func Lchown(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return chownAt(t, linux.AT_FDCWD, args[0].Pointer(), args[1].Int(), args[2].Int(), linux.AT_SYMLINK_NOFOLLOW)
}

// Fchownat implements Linux syscall fchownat(2).
func Fchownat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return chownAt(t, args[0].Int(), args[1].Pointer(), args[2].Int(), args[3].Int(), args[4].Uint())
}

// Fchown implements Linux syscall fchown(2).
func Fchown(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	f := t.GetFile(args[0].Int())
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	if f.IsPath() {
		return 0, errno.EBADF
	}
	vd := f.VirtualDentry()
	if !vd.Ok() {
		return 0, errno.EPERM
	}
	opts := chownOpts(args[1].Int(), args[2].Int())
	if opts.Stat.Mask == 0 {
		return 0, nil
	}
	return 0, t.VFS().SetStat(t, vd, opts, true)
}

// Sync implements Linux syscall sync(2): the sandbox's own files are in
// memory, and host files written through volumes are the host's to flush.
func Sync(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return 0, nil
}

// Syncfs implements Linux syscall syncfs(2).
func Syncfs(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	f := t.GetFile(args[0].Int())
	if f == nil {
		return 0, errno.EBADF
	}
	f.DecRef()
	return 0, nil
}

// fallocate(2) modes, from <linux/falloc.h>.
const (
	fallocKeepSize  = 0x1
	fallocPunchHole = 0x2
)

// Fallocate implements Linux syscall fallocate(2): mode 0 and
// FALLOC_FL_KEEP_SIZE (the sentry's files have no blocks to reserve), and
// EOPNOTSUPP for hole punching and the other modes.
func Fallocate(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, mode, offset, length := args[0].Int(), args[1].Uint(), args[2].Int64(), args[3].Int64()
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	if f.IsPath() || !f.IsWritable() {
		return 0, errno.EBADF
	}
	// "EINVAL offset was less than 0, or len was less than or equal to
	// 0" - fallocate(2).
	if offset < 0 || length <= 0 {
		return 0, errno.EINVAL
	}
	if f.IsStream() {
		return 0, errno.ESPIPE
	}
	if mode&^fallocKeepSize != 0 {
		return 0, errno.EOPNOTSUPP
	}
	st, err := f.Stat(t)
	if err != nil {
		return 0, err
	}
	switch {
	case st.FileMode().IsDir():
		return 0, errno.EISDIR
	case !st.FileMode().IsRegular():
		return 0, errno.ENODEV
	}
	// Overflow: both are non-negative, so a wrapped sum is negative.
	end := offset + length
	if end < 0 {
		return 0, errno.EFBIG
	}
	if mode&fallocKeepSize != 0 || uint64(end) <= st.Size {
		return 0, nil
	}
	if err := checkFileSize(t, uint64(end)); err != nil {
		return 0, err
	}
	vd := f.VirtualDentry()
	if !vd.Ok() {
		return 0, errno.ENODEV
	}
	return 0, t.VFS().SetStat(t, vd, &vfs.SetStatOptions{Stat: linux.Statx{Mask: linux.STATX_SIZE, Size: uint64(end)}}, true)
}

// checkFileSize enforces RLIMIT_FSIZE for growing a file to size: SIGXFSZ
// and EFBIG beyond it (mm/filemap.c:generic_write_check_limits).
func checkFileSize(t *kernel.Task, size uint64) error {
	lim := t.ThreadGroup().Limit(kernel.RLIMIT_FSIZE).Cur
	if lim == kernel.RLIM_INFINITY || size <= lim {
		return nil
	}
	t.SendSignal(&linux.SignalInfo{Signo: linux.SIGXFSZ, Code: linux.SI_KERNEL})
	return errno.EFBIG
}

// Sendfile implements Linux syscall sendfile(2) as a copy through the
// sentry.
func Sendfile(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	outFD, inFD, offAddr, count := args[0].Int(), args[1].Int(), args[2].Pointer(), args[3].SizeT()
	in := t.GetFile(inFD)
	if in == nil {
		return 0, errno.EBADF
	}
	defer in.DecRef()
	out := t.GetFile(outFD)
	if out == nil {
		return 0, errno.EBADF
	}
	defer out.DecRef()
	if !in.IsReadable() || !out.IsWritable() {
		return 0, errno.EBADF
	}
	// "EINVAL ... out_fd has the O_APPEND flag set" - sendfile(2).
	if out.StatusFlags()&linux.O_APPEND != 0 {
		return 0, errno.EINVAL
	}
	off := int64(-1)
	var b [8]byte
	if offAddr != 0 {
		if in.IsStream() {
			return 0, errno.ESPIPE
		}
		if _, err := t.CopyInBytes(offAddr, b[:]); err != nil {
			return 0, err
		}
		if off = int64(binary.LittleEndian.Uint64(b[:])); off < 0 {
			return 0, errno.EINVAL
		}
	}
	var (
		n   uint
		err error
	)
	if pipe.IsPipe(in) || pipe.IsPipe(out) {
		// Through a pipe, sendfile is a splice (do_splice_direct): a
		// pipe source is waited on whatever its O_NONBLOCK, and gives up
		// only what the destination took.
		n, err = spliceCopy(t, in, off, out, -1, min(count, linux.MAX_RW_COUNT), false)
	} else {
		n, err = copyBetween(t, in, off, out, -1, min(count, linux.MAX_RW_COUNT))
	}
	if offAddr != 0 && n > 0 {
		binary.LittleEndian.PutUint64(b[:], uint64(off+int64(n)))
		if _, cerr := t.CopyOutBytes(offAddr, b[:]); cerr != nil {
			return 0, cerr
		}
	}
	return uintptr(n), err
}

// copyBetween copies up to count bytes from in (at inOff, or its offset
// if -1) to out (likewise). It stops at end of file or a short write and
// reports an error only if nothing was copied.
func copyBetween(t *kernel.Task, in *vfs.FileDescription, inOff int64, out *vfs.FileDescription, outOff int64, count uint) (uint, error) {
	buf := make([]byte, min(count, 1<<16))
	var done uint
	for done < count {
		chunk := buf[:min(uint(len(buf)), count-done)]
		var n int
		var err error
		if inOff >= 0 {
			n, err = in.PRead(t, chunk, inOff+int64(done))
		} else {
			n, err = in.Read(t, chunk)
		}
		if n == 0 {
			if done == 0 {
				return 0, err
			}
			return done, nil
		}
		var w int
		if outOff >= 0 {
			w, err = out.PWrite(t, chunk[:n], outOff+int64(done))
		} else {
			w, err = out.Write(t, chunk[:n])
		}
		done += uint(w)
		if err != nil || w < n {
			if done == 0 {
				return 0, err
			}
			return done, nil
		}
		// A stream gives what it has; don't block for more once some
		// data moved.
		if in.IsStream() && n < len(chunk) {
			return done, nil
		}
	}
	return done, nil
}

// Splice implements Linux syscall splice(2) as a copy through the
// sentry: one end must be a pipe, as Linux requires. Only bytes the
// destination takes leave the source: a pipe source is peeked and then
// consumed, and a pipe destination takes at most its free room from the
// source.
func Splice(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	inFD, inOffAddr, outFD, outOffAddr, count, flags := args[0].Int(), args[1].Pointer(), args[2].Int(), args[3].Pointer(), args[4].SizeT(), args[5].Uint()
	in := t.GetFile(inFD)
	if in == nil {
		return 0, errno.EBADF
	}
	defer in.DecRef()
	out := t.GetFile(outFD)
	if out == nil {
		return 0, errno.EBADF
	}
	defer out.DecRef()
	if !in.IsReadable() || !out.IsWritable() {
		return 0, errno.EBADF
	}
	if !pipe.IsPipe(in) && !pipe.IsPipe(out) {
		// "EINVAL Neither of the file descriptors refers to a pipe" -
		// splice(2).
		return 0, errno.EINVAL
	}
	offs := [2]int64{-1, -1}
	var b [8]byte
	for i, a := range []hostarch.Addr{inOffAddr, outOffAddr} {
		if a == 0 {
			continue
		}
		// "ESPIPE Either off_in or off_out was not NULL, but the
		// corresponding file descriptor refers to a pipe" - splice(2).
		if []*vfs.FileDescription{in, out}[i].IsStream() {
			return 0, errno.ESPIPE
		}
		if _, err := t.CopyInBytes(a, b[:]); err != nil {
			return 0, err
		}
		if offs[i] = int64(binary.LittleEndian.Uint64(b[:])); offs[i] < 0 {
			return 0, errno.EINVAL
		}
	}
	if count == 0 {
		return 0, nil
	}
	n, err := spliceCopy(t, in, offs[0], out, offs[1], min(count, linux.MAX_RW_COUNT), flags&spliceFNonblock != 0)
	for i, a := range []hostarch.Addr{inOffAddr, outOffAddr} {
		if a != 0 && n > 0 {
			binary.LittleEndian.PutUint64(b[:], uint64(offs[i]+int64(n)))
			if _, cerr := t.CopyOutBytes(a, b[:]); cerr != nil {
				return 0, cerr
			}
		}
	}
	return uintptr(n), err
}

// spliceChunk bounds one splice: a pipe holds at most pipe.MaxSize.
const spliceChunk = pipe.MaxSize

// spliceCopy moves up to count bytes from in to out, one of which is a
// pipe, waiting (unless nonblock) for the pipe to have data or room.
func spliceCopy(t *kernel.Task, in *vfs.FileDescription, inOff int64, out *vfs.FileDescription, outOff int64, count uint, nonblock bool) (uint, error) {
	if pipe.IsPipe(in) {
		buf := make([]byte, min(count, spliceChunk))
		n, err := waitPipe(t, in, vfs.EventIn, nonblock, func() (int, error) { return pipe.Peek(in, buf) })
		if n == 0 {
			return 0, err
		}
		var w int
		if outOff >= 0 {
			w, err = out.PWrite(t, buf[:n], outOff)
		} else {
			w, err = out.Write(t, buf[:n])
		}
		pipe.Consume(in, w)
		if w == 0 {
			return 0, err
		}
		return uint(w), nil
	}
	room, err := waitPipe(t, out, vfs.EventOut, nonblock, func() (int, error) {
		room, readers, _ := pipe.Room(out)
		switch {
		case !readers:
			return 0, errno.EPIPE
		case room == 0:
			return 0, errno.EAGAIN
		}
		return room, nil
	})
	if room == 0 {
		return 0, err
	}
	buf := make([]byte, min(count, uint(room)))
	var n int
	switch {
	case inOff >= 0:
		n, err = in.PRead(t, buf, inOff)
	default:
		if s, ok := in.Impl().(socket.Socket); ok && nonblock {
			// SPLICE_F_NONBLOCK also makes a socket source not wait
			// (tcp_splice_read).
			var data []byte
			data, _, err = s.RecvMsg(sockCtx(t), len(buf), linux.MSG_DONTWAIT, true, false)
			n = copy(buf, data)
		} else {
			n, err = in.Read(t, buf)
		}
	}
	if n == 0 {
		return 0, err
	}
	w, err := out.Write(t, buf[:n])
	if w == 0 {
		return 0, err
	}
	return uint(w), nil
}

// waitPipe runs try until it stops failing with EAGAIN, waiting for mask
// on the pipe end f in between, unless nonblock.
func waitPipe(t *kernel.Task, f *vfs.FileDescription, mask vfs.EventMask, nonblock bool, try func() (int, error)) (int, error) {
	for {
		n, err := try()
		if err != errno.EAGAIN || nonblock {
			return n, err
		}
		w := vfs.NewWaiter(mask)
		f.EventRegister(w)
		if n, err = try(); err != errno.EAGAIN {
			f.EventUnregister(w)
			return n, err
		}
		err = t.Block(w.C)
		f.EventUnregister(w)
		if err != nil {
			return 0, err
		}
	}
}
