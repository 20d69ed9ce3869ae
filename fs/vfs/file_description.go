package vfs

import (
	"io"
	"sync"
	"sync/atomic"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
)

// EventMask is a set of poll events, with the values of POLLIN etc. in
// <asm-generic/poll.h>.
type EventMask uint32

// Poll events.
const (
	EventIn  EventMask = 0x1
	EventPri EventMask = 0x2
	EventOut EventMask = 0x4
	EventErr EventMask = 0x8
	EventHUp EventMask = 0x10
)

// FileDescriptionImpl is what a file description does. Regular files,
// devices, procfs files, imported host fds, and later pipes and sockets
// implement it.
//
// Read and Write may return errno.EAGAIN when they would block; the caller
// (the syscall layer) waits for Readiness and retries unless the file is
// O_NONBLOCK.
type FileDescriptionImpl interface {
	// Release is called when the last reference is dropped.
	Release()
	// Read reads into dst at offset off. Streams ignore off. A return of
	// 0 with no error is end of file.
	Read(ctx Context, dst []byte, off int64) (int, error)
	// Write writes src at offset off. Streams ignore off.
	Write(ctx Context, src []byte, off int64) (int, error)
	// Stat returns the file's attributes. It is used only for files not
	// in the tree (the VFS asks the inode otherwise).
	Stat(ctx Context) (linux.Statx, error)
	// Ioctl handles ioctl(2) requests the syscall layer does not handle
	// generically. mem reaches the caller's memory.
	Ioctl(ctx Context, mem UserMemory, cmd uint32, arg uintptr) (uintptr, error)
	// Readiness returns the events in mask that are ready now.
	Readiness(mask EventMask) EventMask
}

// FileDescriptionDefaultImpl provides the usual answers for optional
// methods; embed it.
type FileDescriptionDefaultImpl struct{}

// Release implements FileDescriptionImpl.Release.
func (FileDescriptionDefaultImpl) Release() {}

// Ioctl implements FileDescriptionImpl.Ioctl: "ENOTTY fd is not associated
// with a character special device" - ioctl(2).
func (FileDescriptionDefaultImpl) Ioctl(Context, UserMemory, uint32, uintptr) (uintptr, error) {
	return 0, errno.ENOTTY
}

// Readiness implements FileDescriptionImpl.Readiness: regular files are
// always ready.
func (FileDescriptionDefaultImpl) Readiness(mask EventMask) EventMask {
	return mask & (EventIn | EventOut)
}

// Stat implements FileDescriptionImpl.Stat for files that are always in
// the tree.
func (FileDescriptionDefaultImpl) Stat(Context) (linux.Statx, error) {
	return linux.Statx{}, errno.EBADF
}

// FileDescriptionOptions say how the VFS treats a file description.
type FileDescriptionOptions struct {
	// Stream files (pipes, sockets, ttys) have no offset: lseek, pread and
	// pwrite fail with ESPIPE.
	Stream bool
	// ImplOffset files keep their offset in the implementation (an
	// imported host file shares its offset with the host's open file
	// description, so that `runsc-lite do cmd >> log` and the shell agree
	// on where the file ends): read and write pass off -1 and lseek goes
	// to the implementation's Seeker.
	ImplOffset bool
	// Name is the path shown for files not in the tree, as "pipe:[7]".
	Name string
}

// errAgain and nonblockFlag are named for the blocking loops.
const (
	errAgain     = errno.EAGAIN
	nonblockFlag = linux.O_NONBLOCK
)

// ErrTimedOut is returned by the Read or Write of a file that waits by
// itself when its own timeout ran out (a socket's SO_RCVTIMEO or
// SO_SNDTIMEO). The file description reports EAGAIN without waiting again,
// or the bytes already moved.
var ErrTimedOut = errTimedOut{}

type errTimedOut struct{}

func (errTimedOut) Error() string { return "timed out" }

// Seeker is implemented by files with ImplOffset.
type Seeker interface {
	SeekOffset(off int64, whence int32) (int64, error)
}

// FileDescription is an open file: what a file descriptor refers to. It is
// reference counted; the fd table, mappings (mm.File) and in-flight
// syscalls each hold a reference.
type FileDescription struct {
	refs atomic.Int64

	impl FileDescriptionImpl
	// vd is where the file is in the tree; zero for anonymous files.
	// Immutable.
	vd   VirtualDentry
	opts FileDescriptionOptions

	// flags are the open(2) access mode and status flags (O_APPEND,
	// O_NONBLOCK, ...). Atomic.
	flags atomic.Uint32

	// offMu protects off and dirents.
	offMu sync.Mutex
	off   int64
}

// statusFlagsMask are the flags a file description remembers
// (do_dentry_open drops the rest).
const statusFlagsMask = linux.O_ACCMODE | linux.O_APPEND | linux.O_NONBLOCK | linux.O_DSYNC |
	linux.O_ASYNC | linux.O_DIRECT | linux.O_LARGEFILE | linux.O_NOATIME | linux.O_SYNC |
	linux.O_PATH | linux.O_DIRECTORY | linux.O_NOFOLLOW

// NewFileDescription returns a file description with one reference.
// vd may be zero for files that are not in the tree (pipes, host fds).
func NewFileDescription(impl FileDescriptionImpl, flags uint32, vd VirtualDentry, opts FileDescriptionOptions) *FileDescription {
	fd := &FileDescription{impl: impl, vd: vd, opts: opts}
	fd.flags.Store(flags & statusFlagsMask)
	fd.refs.Store(1)
	return fd
}

// Impl returns fd's implementation.
func (fd *FileDescription) Impl() FileDescriptionImpl { return fd.impl }

// VirtualDentry returns where fd is in the tree (zero if nowhere).
func (fd *FileDescription) VirtualDentry() VirtualDentry { return fd.vd }

// IncRef adds a reference. It implements mm.File.
func (fd *FileDescription) IncRef() {
	if fd.refs.Add(1) <= 1 {
		panic("vfs: IncRef on a released FileDescription")
	}
}

// DecRef drops a reference, releasing the file after the last. It
// implements mm.File.
func (fd *FileDescription) DecRef() {
	switch r := fd.refs.Add(-1); {
	case r == 0:
		fd.releaseLocks()
		if fd.IsWritable() {
			fd.notifyFile(linux.IN_CLOSE_WRITE)
		} else {
			fd.notifyFile(linux.IN_CLOSE_NOWRITE)
		}
		fd.impl.Release()
	case r < 0:
		panic("vfs: DecRef on a released FileDescription")
	default:
		if h, ok := fd.impl.(RefsDroppedHook); ok {
			h.RefsDropped(r)
		}
	}
}

// RefsDroppedHook is implemented by files that want to know when their
// file description loses a reference but lives on (an AF_UNIX socket,
// whose last references may be cycles of in-flight SCM_RIGHTS messages).
// remaining is the references left.
type RefsDroppedHook interface {
	RefsDropped(remaining int64)
}

// StatusFlags returns the O_* access mode and status flags.
func (fd *FileDescription) StatusFlags() uint32 { return fd.flags.Load() }

// settableFlags are those F_SETFL may change ("On Linux, this command can
// change only the O_APPEND, O_ASYNC, O_DIRECT, O_NOATIME, and O_NONBLOCK
// flags" - fcntl(2)).
const settableFlags = linux.O_APPEND | linux.O_ASYNC | linux.O_DIRECT | linux.O_NOATIME | linux.O_NONBLOCK

// SetStatusFlags implements F_SETFL.
func (fd *FileDescription) SetStatusFlags(flags uint32) {
	for {
		old := fd.flags.Load()
		n := old&^settableFlags | flags&settableFlags
		if fd.flags.CompareAndSwap(old, n) {
			return
		}
	}
}

// IsReadable reports whether fd was opened for reading.
func (fd *FileDescription) IsReadable() bool {
	f := fd.flags.Load()
	return f&linux.O_PATH == 0 && f&linux.O_ACCMODE != linux.O_WRONLY
}

// IsWritable reports whether fd was opened for writing.
func (fd *FileDescription) IsWritable() bool {
	f := fd.flags.Load()
	return f&linux.O_PATH == 0 && f&linux.O_ACCMODE != linux.O_RDONLY
}

// Refs returns the reference count (epoll uses it to notice files the
// guest closed while they stayed on an interest list).
func (fd *FileDescription) Refs() int64 { return fd.refs.Load() }

// IsPath reports whether fd is an O_PATH file.
func (fd *FileDescription) IsPath() bool { return fd.flags.Load()&linux.O_PATH != 0 }

// IsStream reports whether fd has no offset.
func (fd *FileDescription) IsStream() bool { return fd.opts.Stream }

// Read reads at and advances the file offset.
func (fd *FileDescription) Read(ctx Context, dst []byte) (int, error) {
	if !fd.IsReadable() {
		return 0, errno.EBADF
	}
	if fd.opts.Stream || fd.opts.ImplOffset {
		for {
			n, err := fd.impl.Read(ctx, dst, -1)
			if err == ErrTimedOut {
				if n > 0 {
					return n, nil
				}
				return 0, errAgain
			}
			if err != errAgain {
				if n > 0 {
					fd.notifyFile(linux.IN_ACCESS)
				}
				return n, err
			}
			if werr := fd.waitReady(ctx, EventIn); werr != nil {
				return 0, werr
			}
		}
	}
	fd.offMu.Lock()
	n, err := fd.impl.Read(ctx, dst, fd.off)
	fd.off += int64(n)
	fd.offMu.Unlock()
	if n > 0 {
		fd.notifyFile(linux.IN_ACCESS)
	}
	return n, err
}

// PRead reads at offset off without using the file offset.
func (fd *FileDescription) PRead(ctx Context, dst []byte, off int64) (int, error) {
	if !fd.IsReadable() {
		return 0, errno.EBADF
	}
	if fd.opts.Stream {
		return 0, errno.ESPIPE
	}
	if off < 0 {
		return 0, errno.EINVAL
	}
	n, err := fd.impl.Read(ctx, dst, off)
	if n > 0 {
		fd.notifyFile(linux.IN_ACCESS)
	}
	return n, err
}

// Write writes at and advances the file offset, or at the end of the file
// with O_APPEND.
func (fd *FileDescription) Write(ctx Context, src []byte) (int, error) {
	if !fd.IsWritable() {
		return 0, errno.EBADF
	}
	if fd.opts.Stream || fd.opts.ImplOffset {
		// A blocking write to a stream waits until all of src is written;
		// a signal after part of it ends the write short.
		done := 0
		for {
			n, err := fd.impl.Write(ctx, src[done:], -1)
			done += n
			if err == ErrTimedOut {
				if done > 0 {
					fd.notifyFile(linux.IN_MODIFY)
					return done, nil
				}
				return 0, errAgain
			}
			if err != errAgain || done == len(src) {
				if done > 0 && err == errAgain {
					err = nil
				}
				if done > 0 {
					fd.notifyFile(linux.IN_MODIFY)
				}
				if done > 0 && err != nil && err != errAgain {
					// Report what was written; the error shows next time.
					return done, nil
				}
				return done, err
			}
			if werr := fd.waitReady(ctx, EventOut); werr != nil {
				if done > 0 {
					return done, nil
				}
				return 0, werr
			}
		}
	}
	fd.offMu.Lock()
	defer fd.offMu.Unlock()
	if fd.flags.Load()&linux.O_APPEND != 0 {
		st, err := fd.Stat(ctx)
		if err != nil {
			return 0, err
		}
		fd.off = int64(st.Size)
	}
	src, err := fd.limitWrite(ctx, src, fd.off)
	if err != nil {
		return 0, err
	}
	n, err := fd.impl.Write(ctx, src, fd.off)
	fd.off += int64(n)
	if n > 0 {
		fd.notifyFile(linux.IN_MODIFY)
	}
	return n, err
}

// PWrite writes at offset off without using the file offset.
func (fd *FileDescription) PWrite(ctx Context, src []byte, off int64) (int, error) {
	if !fd.IsWritable() {
		return 0, errno.EBADF
	}
	if fd.opts.Stream {
		return 0, errno.ESPIPE
	}
	if off < 0 {
		return 0, errno.EINVAL
	}
	// "BUGS: POSIX requires that opening a file with the O_APPEND flag
	// should have no effect on the location at which pwrite() writes data.
	// However, on Linux, if a file is opened with O_APPEND, pwrite()
	// appends data to the end of the file" - pwrite(2).
	if fd.flags.Load()&linux.O_APPEND != 0 {
		st, err := fd.Stat(ctx)
		if err != nil {
			return 0, err
		}
		off = int64(st.Size)
	}
	src, err := fd.limitWrite(ctx, src, off)
	if err != nil {
		return 0, err
	}
	n, err := fd.impl.Write(ctx, src, off)
	if n > 0 {
		fd.notifyFile(linux.IN_MODIFY)
	}
	return n, err
}

// FileSizeLimiter is implemented by contexts with an RLIMIT_FSIZE (a
// task).
type FileSizeLimiter interface {
	// FileSizeLimit returns RLIMIT_FSIZE's soft limit.
	FileSizeLimit() uint64
	// FileSizeExceeded is called when a write starts at or beyond the
	// limit (it sends SIGXFSZ).
	FileSizeExceeded()
}

// limitWrite enforces ctx's RLIMIT_FSIZE on a write of src at off to a
// regular file: "EFBIG An attempt was made to write a file that exceeds
// the implementation-defined maximum file size or the process's file size
// limit" - write(2); a write that crosses the limit is cut short there
// (mm/filemap.c:generic_write_check_limits).
func (fd *FileDescription) limitWrite(ctx Context, src []byte, off int64) ([]byte, error) {
	fl, ok := ctx.(FileSizeLimiter)
	if !ok || !fd.vd.Ok() || len(src) == 0 {
		return src, nil
	}
	lim := fl.FileSizeLimit()
	if lim == ^uint64(0) || uint64(off)+uint64(len(src)) <= lim {
		return src, nil
	}
	if t, err := fd.vd.Dentry.fileType(ctx); err != nil || t != linux.S_IFREG {
		return src, nil
	}
	if uint64(off) >= lim {
		fl.FileSizeExceeded()
		return nil, errno.EFBIG
	}
	return src[:lim-uint64(off)], nil
}

// Seek implements lseek(2).
func (fd *FileDescription) Seek(ctx Context, off int64, whence int32) (int64, error) {
	if fd.opts.Stream {
		return 0, errno.ESPIPE
	}
	if fd.IsPath() {
		return 0, errno.EBADF
	}
	if s, ok := fd.impl.(Seeker); ok && fd.opts.ImplOffset {
		return s.SeekOffset(off, whence)
	}
	fd.offMu.Lock()
	defer fd.offMu.Unlock()
	var base int64
	switch whence {
	case linux.SEEK_SET:
	case linux.SEEK_CUR:
		base = fd.off
	case linux.SEEK_END, linux.SEEK_DATA, linux.SEEK_HOLE:
		st, err := fd.Stat(ctx)
		if err != nil {
			return 0, err
		}
		size := int64(st.Size)
		switch whence {
		case linux.SEEK_END:
			base = size
		case linux.SEEK_DATA:
			// The whole file is data: SEEK_DATA at off is off itself.
			if off >= size {
				return 0, errno.ENXIO
			}
		case linux.SEEK_HOLE:
			// The only hole is the virtual one at the end.
			if off >= size {
				return 0, errno.ENXIO
			}
			off, base = size, 0
		}
	default:
		return 0, errno.EINVAL
	}
	n := base + off
	// Overflow: base >= 0, so a wrapped sum is negative too.
	if n < 0 || (off > 0 && n < base) {
		return 0, errno.EINVAL
	}
	if d, ok := fd.impl.(*dirFD); ok && n == 0 {
		d.rewind()
	}
	fd.off = n
	return n, nil
}

// Stat returns fd's attributes.
func (fd *FileDescription) Stat(ctx Context) (linux.Statx, error) {
	if fd.vd.Ok() {
		return fd.vd.Mount.stat(ctx, fd.vd.Dentry)
	}
	return fd.impl.Stat(ctx)
}

// Ioctl passes an ioctl to the implementation.
func (fd *FileDescription) Ioctl(ctx Context, mem UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	if fd.IsPath() {
		return 0, errno.EBADF
	}
	return fd.impl.Ioctl(ctx, mem, cmd, arg)
}

// Readiness returns the ready events among mask.
func (fd *FileDescription) Readiness(mask EventMask) EventMask { return fd.impl.Readiness(mask) }

// IterDirents calls cb for each directory entry from the file offset on,
// advancing the offset past each entry cb accepts; nextOff is the offset
// after the entry (linux_dirent64's d_off). cb returns false to stop (its
// buffer is full). ENOTDIR if fd is not a directory.
func (fd *FileDescription) IterDirents(ctx Context, cb func(d Dirent, nextOff int64) bool) error {
	d, ok := fd.impl.(*dirFD)
	if !ok || fd.IsPath() {
		if fd.IsPath() {
			return errno.EBADF
		}
		return errno.ENOTDIR
	}
	fd.offMu.Lock()
	err := d.iterate(ctx, &fd.off, cb)
	fd.offMu.Unlock()
	fd.notifyFile(linux.IN_ACCESS)
	return err
}

// ReadAt implements io.ReaderAt (and mm.File) for the loader and private
// file mappings: it reads until p is full or the end of the file, with the
// sentry's own credentials.
func (fd *FileDescription) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errno.EINVAL
	}
	ctx := RootContext()
	total := 0
	for total < len(p) {
		n, err := fd.impl.Read(ctx, p[total:], off+int64(total))
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, io.EOF
		}
	}
	return total, nil
}

// MappingIdentity implements mm.File: the device, inode number and guest
// path shown for a mapping in /proc/[pid]/maps.
func (fd *FileDescription) MappingIdentity() (dev, ino uint64, name string) {
	st, err := fd.Stat(RootContext())
	if err == nil {
		dev, ino = linux.MakeDev(st.DevMajor, st.DevMinor), st.Ino
	}
	return dev, ino, fd.PathName()
}

// PathName returns fd's guest path from the tree's root, with
// " (deleted)" if it was unlinked, or its Name for anonymous files.
func (fd *FileDescription) PathName() string {
	if !fd.vd.Ok() {
		return fd.opts.Name
	}
	return fd.vd.Mount.vfs.PathName(fd.vd)
}

// Offset returns the file offset (/proc/[pid]/fdinfo's pos).
func (fd *FileDescription) Offset() int64 {
	fd.offMu.Lock()
	defer fd.offMu.Unlock()
	return fd.off
}
