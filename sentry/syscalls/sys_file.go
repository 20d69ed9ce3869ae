package syscalls

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// openat is the common part of open, openat and creat.
func openat(t *kernel.Task, dirfd int32, pathAddr hostarch.Addr, flags, mode uint32) (uintptr, error) {
	return openatResolve(t, dirfd, pathAddr, flags, mode, 0)
}

// openatResolve is openat with openat2(2)'s RESOLVE_* flags.
func openatResolve(t *kernel.Task, dirfd int32, pathAddr hostarch.Addr, flags, mode, resolve uint32) (uintptr, error) {
	// Since Linux 6.4, "O_CREAT | O_DIRECTORY" is EINVAL
	// (fs/open.c:build_open_flags).
	const oTmpfileOnly = linux.O_TMPFILE &^ linux.O_DIRECTORY // __O_TMPFILE
	if flags&oTmpfileOnly != 0 {
		// O_TMPFILE needs O_DIRECTORY (part of its value) and refuses
		// O_CREAT (fs/open.c:build_open_flags, O_TMPFILE_MASK).
		if flags&(linux.O_TMPFILE|linux.O_CREAT) != linux.O_TMPFILE {
			return 0, errno.EINVAL
		}
	} else if flags&linux.O_CREAT != 0 && flags&linux.O_DIRECTORY != 0 {
		return 0, errno.EINVAL
	}
	path, err := copyInPath(t, pathAddr)
	if err != nil {
		return 0, err
	}
	pop, err := pathOp(t, dirfd, path, flags&linux.O_NOFOLLOW == 0)
	if err != nil {
		return 0, err
	}
	if resolve&(linux.RESOLVE_BENEATH|linux.RESOLVE_IN_ROOT) != 0 && path != "" && path[0] == '/' {
		// A scoped walk is relative to dirfd even for an absolute path.
		dir, err := pathOp(t, dirfd, ".", true)
		if err != nil {
			return 0, err
		}
		pop.Start = dir.Start
	}
	pop.Resolve = resolve
	mode = mode & 0o7777 &^ t.FSContext().Umask()
	// fs/open.c:do_sys_open forces O_LARGEFILE on 64-bit, so F_GETFL
	// shows it.
	f, err := t.VFS().OpenAt(t, &pop, vfs.OpenOptions{Flags: flags | linux.O_LARGEFILE, Mode: linux.FileMode(mode)})
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	fd, err := t.FDTable().NewFD(0, f, flags&linux.O_CLOEXEC != 0)
	return uintptr(fd), err
}

// Open implements Linux syscall open(2).
func Open(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return openat(t, linux.AT_FDCWD, args[0].Pointer(), args[1].Uint(), args[2].ModeT())
}

// Openat implements Linux syscall openat(2).
func Openat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return openat(t, args[0].Int(), args[1].Pointer(), args[2].Uint(), args[3].ModeT())
}

// Openat2 implements Linux syscall openat2(2), whose checks are stricter
// than openat's (fs/open.c:build_open_flags with how from
// copy_struct_from_user).
func Openat2(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	dirfd, pathAddr, howAddr, size := args[0].Int(), args[1].Pointer(), args[2].Pointer(), args[3].SizeT()
	// "EINVAL size was smaller than any known version of struct
	// open_how"; "E2BIG ... size was larger than ... and the extra bytes
	// were not zero"; anything over a page is E2BIG outright.
	if size < linux.OPEN_HOW_SIZE_VER0 {
		return 0, errno.EINVAL
	}
	if size > hostarch.PageSize {
		return 0, errno.E2BIG
	}
	buf := make([]byte, size)
	if _, err := t.CopyInBytes(howAddr, buf); err != nil {
		return 0, err
	}
	for _, b := range buf[linux.OPEN_HOW_SIZE_VER0:] {
		if b != 0 {
			return 0, errno.E2BIG
		}
	}
	how := linux.OpenHow{
		Flags:   binary.LittleEndian.Uint64(buf[0:]),
		Mode:    binary.LittleEndian.Uint64(buf[8:]),
		Resolve: binary.LittleEndian.Uint64(buf[16:]),
	}
	if how.Flags&^uint64(linux.VALID_OPEN_FLAGS) != 0 || how.Resolve&^uint64(linux.VALID_RESOLVE_FLAGS) != 0 {
		return 0, errno.EINVAL
	}
	flags := uint32(how.Flags)
	// "mode must be zero unless O_CREAT or O_TMPFILE", and only
	// permission bits.
	if how.Mode&^0o7777 != 0 || (how.Mode != 0 && flags&linux.O_CREAT == 0 && flags&linux.O_TMPFILE != linux.O_TMPFILE) {
		return 0, errno.EINVAL
	}
	if flags&linux.O_PATH != 0 && flags&^(linux.O_PATH|linux.O_DIRECTORY|linux.O_NOFOLLOW|linux.O_CLOEXEC|linux.O_LARGEFILE) != 0 {
		return 0, errno.EINVAL
	}
	if how.Resolve&linux.RESOLVE_BENEATH != 0 && how.Resolve&linux.RESOLVE_IN_ROOT != 0 {
		return 0, errno.EINVAL
	}
	// "RESOLVE_CACHED: Make the open operation fail unless all path
	// components are already present in the kernel's lookup cache" with
	// EAGAIN: the sentry does not promise that, so the caller retries
	// without it, as it must be ready to.
	if how.Resolve&linux.RESOLVE_CACHED != 0 {
		return 0, errno.EAGAIN
	}
	return openatResolve(t, dirfd, pathAddr, flags, uint32(how.Mode), uint32(how.Resolve))
}

// Creat implements Linux syscall creat(2): "equivalent to open() with flags
// equal to O_CREAT|O_WRONLY|O_TRUNC".
func Creat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return openat(t, linux.AT_FDCWD, args[0].Pointer(), linux.O_CREAT|linux.O_WRONLY|linux.O_TRUNC, args[1].ModeT())
}

// Truncate implements Linux syscall truncate(2).
func Truncate(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	length := args[1].Int64()
	if length < 0 {
		return 0, errno.EINVAL
	}
	pop, err := copyInPathOp(t, linux.AT_FDCWD, args[0].Pointer(), true)
	if err != nil {
		return 0, err
	}
	return 0, t.VFS().SetStatAt(t, &pop, &vfs.SetStatOptions{Stat: linux.Statx{Mask: linux.STATX_SIZE, Size: uint64(length)}})
}

// Ftruncate implements Linux syscall ftruncate(2).
func Ftruncate(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, length := args[0].Int(), args[1].Int64()
	if length < 0 {
		return 0, errno.EINVAL
	}
	f := t.GetFile(fd)
	if f == nil || f.IsPath() {
		if f != nil {
			f.DecRef()
		}
		return 0, errno.EBADF
	}
	defer f.DecRef()
	// "EBADF or EINVAL fd is not open for writing"; Linux says EINVAL
	// (fs/open.c:do_sys_ftruncate), also for files that are not regular.
	vd := f.VirtualDentry()
	if !f.IsWritable() || !vd.Ok() {
		return 0, errno.EINVAL
	}
	err := t.VFS().SetStat(t, vd, &vfs.SetStatOptions{Stat: linux.Statx{Mask: linux.STATX_SIZE, Size: uint64(length)}}, true)
	if err == errno.EISDIR {
		err = errno.EINVAL
	}
	return 0, err
}

// fsync is fsync(2) and fdatasync(2): the sentry's files are in memory or
// read-only, so there is nothing to flush, but the errors are Linux's.
func fsync(t *kernel.Task, fd int32) (uintptr, error) {
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	if f.IsPath() {
		return 0, errno.EBADF
	}
	// "EINVAL fd is bound to a special file (e.g., a pipe, FIFO, or
	// socket) which does not support synchronization" - fsync(2).
	if !f.VirtualDentry().Ok() && f.IsStream() {
		return 0, errno.EINVAL
	}
	return 0, nil
}

// Fsync implements Linux syscall fsync(2).
func Fsync(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return fsync(t, args[0].Int())
}

// Fdatasync implements Linux syscall fdatasync(2).
func Fdatasync(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return fsync(t, args[0].Int())
}

func chmodOpts(mode uint32) *vfs.SetStatOptions {
	return &vfs.SetStatOptions{Stat: linux.Statx{Mask: linux.STATX_MODE, Mode: uint16(mode & 0o7777)}}
}

// Chmod implements Linux syscall chmod(2).
func Chmod(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pop, err := copyInPathOp(t, linux.AT_FDCWD, args[0].Pointer(), true)
	if err != nil {
		return 0, err
	}
	return 0, t.VFS().SetStatAt(t, &pop, chmodOpts(args[1].ModeT()))
}

// Fchmodat implements Linux syscall fchmodat(2). The syscall has no flags
// argument (glibc emulates AT_SYMLINK_NOFOLLOW).
func Fchmodat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pop, err := copyInPathOp(t, args[0].Int(), args[1].Pointer(), true)
	if err != nil {
		return 0, err
	}
	return 0, t.VFS().SetStatAt(t, &pop, chmodOpts(args[2].ModeT()))
}

// Fchmod implements Linux syscall fchmod(2).
func Fchmod(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
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
		// Pipes and host fds have no mode the sandbox keeps.
		return 0, errno.EPERM
	}
	return 0, t.VFS().SetStat(t, vd, chmodOpts(args[1].ModeT()), true)
}

// access is access(2), faccessat(2) and faccessat2(2).
func access(t *kernel.Task, dirfd int32, pathAddr hostarch.Addr, mode, flags uint32) (uintptr, error) {
	if mode&^(linux.R_OK|linux.W_OK|linux.X_OK) != 0 {
		return 0, errno.EINVAL
	}
	if flags&^(linux.AT_EACCESS|linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return 0, errno.EINVAL
	}
	var ctx vfs.Context = t
	if flags&linux.AT_EACCESS == 0 {
		ctx = withRealCreds(t)
	}
	vd, f, err := fileOrPath(t, dirfd, pathAddr, flags)
	if err != nil {
		return 0, err
	}
	var st linux.Statx
	if f != nil {
		defer f.DecRef()
		st, err = f.Stat(t)
	} else {
		st, err = t.VFS().Stat(t, vd)
	}
	if err != nil || mode == linux.F_OK {
		return 0, err
	}
	if err := t.VFS().CheckAccess(ctx, &st, vfs.AccessTypes(mode)); err != nil {
		return 0, err
	}
	if mode&linux.W_OK != 0 && vd.Ok() && vd.Mount.ReadOnly() && (st.FileMode().IsRegular() || st.FileMode().IsDir()) {
		return 0, errno.EROFS
	}
	// fs/open.c:do_faccessat: a regular file on a noexec mount is not
	// executable, whatever its mode says.
	if mode&linux.X_OK != 0 && vd.Ok() && vd.Mount.NoExec() && st.FileMode().IsRegular() {
		return 0, errno.EACCES
	}
	return 0, nil
}

// Access implements Linux syscall access(2).
func Access(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return access(t, linux.AT_FDCWD, args[0].Pointer(), args[1].Uint(), 0)
}

// Faccessat implements Linux syscall faccessat(2) (which has no flags
// argument; glibc emulates them).
func Faccessat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return access(t, args[0].Int(), args[1].Pointer(), args[2].Uint(), 0)
}

// Faccessat2 implements Linux syscall faccessat2(2).
func Faccessat2(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return access(t, args[0].Int(), args[1].Pointer(), args[2].Uint(), args[3].Uint())
}

// Utimensat implements Linux syscall utimensat(2), including the Linux
// extension of a NULL pathname meaning dirfd itself.
func Utimensat(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	dirfd, pathAddr, timesAddr, flags := args[0].Int(), args[1].Pointer(), args[2].Pointer(), args[3].Uint()
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return 0, errno.EINVAL
	}
	opts := vfs.SetStatOptions{Stat: linux.Statx{Mask: linux.STATX_ATIME | linux.STATX_MTIME}, TimesNow: true}
	now := vfs.NowStatxTimestamp()
	opts.Stat.Atime, opts.Stat.Mtime = now, now
	if timesAddr != 0 {
		var b [32]byte // struct timespec times[2]
		if _, err := t.CopyInBytes(timesAddr, b[:]); err != nil {
			return 0, err
		}
		opts.TimesNow = false
		nowCount := 0
		for i, dst := range []*linux.StatxTimestamp{&opts.Stat.Atime, &opts.Stat.Mtime} {
			sec := int64(binary.LittleEndian.Uint64(b[16*i:]))
			nsec := int64(binary.LittleEndian.Uint64(b[16*i+8:]))
			bit := uint32(linux.STATX_ATIME) << i // STATX_MTIME == STATX_ATIME<<1
			switch {
			case nsec == linux.UTIME_NOW:
				nowCount++
			case nsec == linux.UTIME_OMIT:
				opts.Stat.Mask &^= bit
			case nsec < 0 || nsec >= 1e9:
				return 0, errno.EINVAL
			default:
				*dst = linux.StatxTimestamp{Sec: sec, Nsec: uint32(nsec)}
			}
		}
		opts.TimesNow = nowCount == 2
		if opts.Stat.Mask == 0 {
			return 0, nil
		}
	}
	var vd vfs.VirtualDentry
	if pathAddr == 0 {
		if dirfd == linux.AT_FDCWD {
			vd = t.FSContext().WorkingDirectory()
		} else {
			f := t.GetFile(dirfd)
			if f == nil {
				return 0, errno.EBADF
			}
			vd = f.VirtualDentry()
			f.DecRef()
		}
	} else {
		var f *vfs.FileDescription
		var err error
		vd, f, err = fileOrPath(t, dirfd, pathAddr, flags)
		if err != nil {
			return 0, err
		}
		if f != nil {
			f.DecRef()
		}
	}
	if !vd.Ok() {
		return 0, errno.EPERM
	}
	return 0, t.VFS().SetStat(t, vd, &opts, false)
}

// posix_fadvise advice values from <linux/fadvise.h>.
const (
	posixFadvNormal  = 0
	posixFadvNoreuse = 5
)

// Fadvise64 implements Linux syscall fadvise64(2). Advice is a hint about
// the page cache, which is the host's concern, so after the argument
// checks there is nothing to do.
func Fadvise64(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, length, advice := args[0].Int(), args[2].Int64(), args[3].Int()
	file := t.GetFile(fd)
	if file == nil {
		return 0, errno.EBADF
	}
	defer file.DecRef()
	if file.IsStream() {
		return 0, errno.ESPIPE
	}
	if advice < posixFadvNormal || advice > posixFadvNoreuse || length < 0 {
		return 0, errno.EINVAL
	}
	return 0, nil
}

// CopyFileRange implements Linux syscall copy_file_range(2) as a copy
// through the sentry.
func CopyFileRange(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	inFD, inOffAddr, outFD, outOffAddr, length, flags := args[0].Int(), args[1].Pointer(), args[2].Int(), args[3].Pointer(), args[4].SizeT(), args[5].Uint()
	if flags != 0 {
		return 0, errno.EINVAL
	}
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
	// "EBADF One or more file descriptors are not valid; or fd_in is not
	// open for reading; or fd_out is not open for writing. ... The O_APPEND
	// flag is set for the open file description referred to by fd_out." -
	// copy_file_range(2).
	if !in.IsReadable() || !out.IsWritable() || out.StatusFlags()&linux.O_APPEND != 0 {
		return 0, errno.EBADF
	}
	var sts [2]linux.Statx
	for i, f := range []*vfs.FileDescription{in, out} {
		st, err := f.Stat(t)
		if err != nil {
			return 0, err
		}
		if st.FileMode().IsDir() {
			return 0, errno.EISDIR
		}
		if !st.FileMode().IsRegular() {
			return 0, errno.EINVAL
		}
		sts[i] = st
	}
	readOff, writeOff := int64(-1), int64(-1)
	var b [8]byte
	for _, o := range []struct {
		addr hostarch.Addr
		off  *int64
	}{{inOffAddr, &readOff}, {outOffAddr, &writeOff}} {
		if o.addr == 0 {
			continue
		}
		if _, err := t.CopyInBytes(o.addr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
		*o.off = int64(binary.LittleEndian.Uint64(b[:]))
		if *o.off < 0 {
			return 0, errno.EINVAL
		}
	}
	length = min(length, linux.MAX_RW_COUNT)
	if sameFile(&sts[0], &sts[1]) {
		// "EINVAL fd_in and fd_out refer to the same file and the source
		// and target ranges overlap" - copy_file_range(2), with the count
		// first cut at the source's end (fs/read_write.c:
		// generic_copy_file_checks).
		rpos, wpos := readOff, writeOff
		if rpos < 0 {
			rpos = in.Offset()
		}
		if wpos < 0 {
			wpos = out.Offset()
		}
		count := int64(length)
		if size := int64(sts[0].Size); rpos >= size {
			count = 0
		} else {
			count = min(count, size-rpos)
		}
		if wpos+count > rpos && wpos < rpos+count {
			return 0, errno.EINVAL
		}
	}
	buf := make([]byte, min(length, 1<<16))
	var done uint
	for done < length {
		chunk := buf[:min(uint(len(buf)), length-done)]
		var n int
		var err error
		if readOff >= 0 {
			n, err = in.PRead(t, chunk, readOff+int64(done))
		} else {
			n, err = in.Read(t, chunk)
		}
		if n == 0 || (err != nil && n == 0) {
			if done == 0 && err != nil {
				return 0, err
			}
			break
		}
		var w int
		if writeOff >= 0 {
			w, err = out.PWrite(t, chunk[:n], writeOff+int64(done))
		} else {
			w, err = out.Write(t, chunk[:n])
		}
		done += uint(w)
		if err != nil || w < n {
			if done == 0 {
				return 0, err
			}
			break
		}
	}
	for _, o := range []struct {
		addr hostarch.Addr
		off  int64
	}{{inOffAddr, readOff}, {outOffAddr, writeOff}} {
		if o.addr == 0 {
			continue
		}
		binary.LittleEndian.PutUint64(b[:], uint64(o.off+int64(done)))
		if _, err := t.CopyOutBytes(o.addr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
	}
	return uintptr(done), nil
}

// sameFile reports whether two stats are of the same inode.
func sameFile(a, b *linux.Statx) bool {
	return a.Ino == b.Ino && a.DevMajor == b.DevMajor && a.DevMinor == b.DevMinor
}
