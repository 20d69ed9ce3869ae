// Package hostfs exposes a host directory tree to the VFS: read-only for
// the rootfs, read-write for --volume bind mounts (OpenWritable).
//
// The sentry holds the tree's root open as an O_PATH directory fd and
// reaches every file with openat(2)/fstatat(2) relative to its parent's fd,
// one component at a time, always with O_NOFOLLOW or AT_SYMLINK_NOFOLLOW.
// The host kernel therefore never follows a symlink and never sees "..":
// symlink targets are returned to the VFS as text and resolved there,
// inside the sandbox root. A read-only Filesystem never writes to the
// host; a writable one creates, changes and removes files only with the
// *at(2) calls relative to the parent's fd (mkdirat, symlinkat, linkat,
// renameat2, unlinkat, fchownat(AT_SYMLINK_NOFOLLOW)), and opens files with
// O_NOFOLLOW, so a guest-made symlink is never followed by the host.
//
// Lock order: inode.mu (a directory's cached fd and its own parent and
// name), then a parent's inode.mu, then Filesystem.mu.
package hostfs

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/pipe"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// maxCachedDirFDs bounds the O_PATH fds kept for directories, so a guest
// walking a huge tree cannot exhaust the sentry's fds; beyond it, directory
// fds are opened for each use.
const maxCachedDirFDs = 4096

// Filesystem is a read-only view of a host directory.
type Filesystem struct {
	// rootFD is the O_PATH fd of the root directory. Immutable.
	rootFD int
	// rootDev is the host device of the root, whose inode numbers are
	// shown unchanged. Immutable.
	rootDev uint64
	// writable says the guest may change the host tree. Immutable.
	writable bool

	// mu protects the fields below.
	mu sync.Mutex
	// foreign maps (dev, ino) of files on other host filesystems below
	// the root to made-up inode numbers, so that they cannot collide with
	// the root device's.
	foreign     map[[2]uint64]uint64
	nextForeign uint64
	// cachedFDs are the directory fds cached in inodes, closed by Release.
	cachedFDs []int
	// fifos are the pipes of the named pipes in the tree, by host (dev,
	// ino): sandbox processes that open one meet in the sentry, never in
	// the host's FIFO.
	fifos map[[2]uint64]*pipe.FIFO
}

// fifo returns the pipe of the host FIFO (dev, ino).
func (fs *Filesystem) fifo(dev, ino uint64) *pipe.FIFO {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	k := [2]uint64{dev, ino}
	f, ok := fs.fifos[k]
	if !ok {
		if fs.fifos == nil {
			fs.fifos = map[[2]uint64]*pipe.FIFO{}
		}
		f = pipe.NewFIFO()
		fs.fifos[k] = f
	}
	return f
}

// Open opens the host directory dir as a read-only filesystem and returns
// it with its root directory inode.
func Open(dir string) (*Filesystem, vfs.DirInode, error) { return open(dir, false) }

// OpenWritable opens the host directory dir as a filesystem whose changes
// go through to the host (a --volume bind mount).
func OpenWritable(dir string) (*Filesystem, vfs.DirInode, error) { return open(dir, true) }

func open(dir string, writable bool) (*Filesystem, vfs.DirInode, error) {
	fd, err := retry(func() (int, error) {
		return unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return nil, nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, nil, &os.PathError{Op: "fstat", Path: dir, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		unix.Close(fd)
		return nil, nil, &os.PathError{Op: "open", Path: dir, Err: unix.ENOTDIR}
	}
	fs := &Filesystem{rootFD: fd, rootDev: st.Dev, writable: writable, foreign: map[[2]uint64]uint64{}, nextForeign: 1 << 48}
	return fs, &inode{fs: fs, dirFD: -1}, nil
}

// Release closes the root fd and every cached directory fd. The filesystem
// must not be used afterwards.
func (fs *Filesystem) Release() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, fd := range fs.cachedFDs {
		unix.Close(fd)
	}
	fs.cachedFDs = nil
	unix.Close(fs.rootFD)
}

// Name implements vfs.FilesystemImpl.Name.
func (fs *Filesystem) Name() string { return "hostfs" }

// StatFS implements vfs.FilesystemImpl.StatFS.
func (fs *Filesystem) StatFS(vfs.Context) (linux.Statfs, error) {
	var s unix.Statfs_t
	if err := unix.Fstatfs(fs.rootFD, &s); err != nil {
		return linux.Statfs{}, hostErr(err)
	}
	st := linux.Statfs{Type: s.Type, Bsize: s.Bsize, Blocks: s.Blocks, Bfree: s.Bfree, Bavail: s.Bavail,
		Files: s.Files, Ffree: s.Ffree, Namelen: s.Namelen, Frsize: s.Frsize}
	if !fs.writable {
		st.Flags = linux.ST_RDONLY
	}
	return st, nil
}

// hostErr converts a host error to the guest's errno. x86-64 host and guest
// errno values are the same numbers.
func hostErr(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(unix.Errno); ok {
		return errno.Errno(e)
	}
	return errno.EIO
}

// retry repeats a host call interrupted by a signal (Go's preemption
// signals interrupt slow syscalls).
func retry(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if err != unix.EINTR {
			return n, err
		}
	}
}

// inode is a host file, named by its parent directory and its name.
type inode struct {
	fs *Filesystem

	// mu protects the fields below.
	mu sync.Mutex
	// parent and name locate the file; parent is nil for the root. They
	// change only by a rename in a writable filesystem.
	parent *inode
	name   string
	// dirFD caches an O_PATH fd for a directory; -1 if not cached. It
	// stays valid across renames.
	dirFD int

	// tmp marks an unnamed O_TMPFILE file, which exists only as tmpFD, an
	// O_RDWR fd closed when the inode is collected. Immutable.
	tmp   bool
	tmpFD int
}

// loc returns i's parent and name.
func (i *inode) loc() (*inode, string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.parent, i.name
}

var (
	_ vfs.DirInode     = (*inode)(nil)
	_ vfs.SymlinkInode = (*inode)(nil)
)

// openDir returns an O_PATH fd for directory i; the caller must call done.
func (i *inode) openDir() (fd int, done func(), err error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.parent == nil {
		return i.fs.rootFD, func() {}, nil
	}
	if i.dirFD >= 0 {
		return i.dirFD, func() {}, nil
	}
	pfd, pdone, err := i.parent.openDir()
	if err != nil {
		return -1, nil, err
	}
	fd, err = retry(func() (int, error) {
		return unix.Openat(pfd, i.name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	})
	pdone()
	if err != nil {
		return -1, nil, hostErr(err)
	}
	i.fs.mu.Lock()
	cache := len(i.fs.cachedFDs) < maxCachedDirFDs
	if cache {
		i.fs.cachedFDs = append(i.fs.cachedFDs, fd)
	}
	i.fs.mu.Unlock()
	if cache {
		i.dirFD = fd
		return fd, func() {}, nil
	}
	return fd, func() { unix.Close(fd) }, nil
}

// hostStat returns the host's stat of i without following a symlink.
func (i *inode) hostStat() (unix.Stat_t, error) {
	var st unix.Stat_t
	if i.tmp {
		return st, hostErr(unix.Fstat(i.tmpFD, &st))
	}
	parent, name := i.loc()
	if parent == nil {
		return st, hostErr(unix.Fstat(i.fs.rootFD, &st))
	}
	pfd, done, err := parent.openDir()
	if err != nil {
		return st, err
	}
	defer done()
	if err := unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return st, hostErr(err)
	}
	return st, nil
}

// guestIno maps a host (dev, ino) to the inode number the guest sees.
func (fs *Filesystem) guestIno(dev, ino uint64) uint64 {
	if dev == fs.rootDev {
		return ino
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	k := [2]uint64{dev, ino}
	if g, ok := fs.foreign[k]; ok {
		return g
	}
	fs.nextForeign++
	fs.foreign[k] = fs.nextForeign
	return fs.nextForeign
}

// Stat implements vfs.Inode.Stat.
func (i *inode) Stat(vfs.Context) (linux.Statx, error) {
	st, err := i.hostStat()
	if err != nil {
		return linux.Statx{}, err
	}
	return linux.Statx{
		Mask:      linux.STATX_BASIC_STATS,
		Blksize:   uint32(st.Blksize),
		Nlink:     uint32(st.Nlink),
		UID:       st.Uid,
		GID:       st.Gid,
		Mode:      uint16(st.Mode),
		Ino:       i.fs.guestIno(st.Dev, st.Ino),
		Size:      uint64(st.Size),
		Blocks:    uint64(st.Blocks),
		Atime:     linux.StatxTimestamp{Sec: st.Atim.Sec, Nsec: uint32(st.Atim.Nsec)},
		Mtime:     linux.StatxTimestamp{Sec: st.Mtim.Sec, Nsec: uint32(st.Mtim.Nsec)},
		Ctime:     linux.StatxTimestamp{Sec: st.Ctim.Sec, Nsec: uint32(st.Ctim.Nsec)},
		RdevMajor: unix.Major(st.Rdev),
		RdevMinor: unix.Minor(st.Rdev),
	}, nil
}

// SetStat implements vfs.Inode.SetStat (EROFS unless writable).
func (i *inode) SetStat(ctx vfs.Context, opts *vfs.SetStatOptions) error {
	if !i.fs.writable {
		return errno.EROFS
	}
	return i.setStat(opts)
}

// Open implements vfs.Inode.Open. Regular files are opened on the host,
// only for reading unless the filesystem is writable. A named pipe opens a
// pipe in the sentry shared by the sandbox's openers (a host FIFO is not the
// guest's to use); device nodes and sockets of the host tree can't be
// opened.
func (i *inode) Open(ctx vfs.Context, flags uint32) (vfs.FileDescriptionImpl, error) {
	if !i.tmp {
		// A FIFO's data never reaches the tree, so a read-only tree
		// does not stop writers (fs/namei.c:may_open).
		if st, err := i.hostStat(); err == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
			return i.fs.fifo(st.Dev, st.Ino).Open(ctx, flags)
		}
	}
	acc := unix.O_RDONLY
	if flags&linux.O_ACCMODE != linux.O_RDONLY || flags&linux.O_TRUNC != 0 {
		if !i.fs.writable {
			return nil, errno.EROFS
		}
		acc = unix.O_RDWR
	}
	if i.tmp {
		// Reopen, for a file description of its own.
		fd, err := retry(func() (int, error) {
			return unix.Open("/proc/self/fd/"+strconv.Itoa(i.tmpFD), acc|unix.O_CLOEXEC, 0)
		})
		if err != nil {
			return nil, hostErr(err)
		}
		return &regularFD{fd: fd}, nil
	}
	parent, name := i.loc()
	if parent == nil {
		return nil, errno.EISDIR
	}
	pfd, done, err := parent.openDir()
	if err != nil {
		return nil, err
	}
	defer done()
	// O_NONBLOCK: opening a FIFO that replaced a regular file must not
	// block the sentry; it is refused just below.
	fd, err := retry(func() (int, error) {
		return unix.Openat(pfd, name, acc|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	})
	if err != nil {
		return nil, hostErr(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, errno.ENXIO
	}
	return &regularFD{fd: fd}, nil
}

// Readlink implements vfs.SymlinkInode.Readlink with readlinkat(fd, "")
// on an O_PATH|O_NOFOLLOW fd of the link itself.
func (i *inode) Readlink(vfs.Context) (string, error) {
	parent, name := i.loc()
	if parent == nil {
		return "", errno.EINVAL
	}
	pfd, done, err := parent.openDir()
	if err != nil {
		return "", err
	}
	defer done()
	fd, err := retry(func() (int, error) {
		return unix.Openat(pfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return "", hostErr(err)
	}
	defer unix.Close(fd)
	buf := make([]byte, linux.PATH_MAX)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		// ENOENT from readlinkat(fd, "") means fd is not a symlink.
		if err == unix.ENOENT {
			return "", errno.EINVAL
		}
		return "", hostErr(err)
	}
	return string(buf[:n]), nil
}

// Lookup implements vfs.DirInode.Lookup.
func (i *inode) Lookup(_ vfs.Context, name string) (vfs.Inode, error) {
	fd, done, err := i.openDir()
	if err != nil {
		return nil, err
	}
	defer done()
	var st unix.Stat_t
	if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, hostErr(err)
	}
	return i.child(name), nil
}

// Readdir implements vfs.DirInode.Readdir, in name order.
func (i *inode) Readdir(vfs.Context) ([]vfs.Dirent, error) {
	var fd int
	var err error
	if parent, name := i.loc(); parent == nil {
		fd, err = retry(func() (int, error) {
			return unix.Openat(i.fs.rootFD, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		})
	} else {
		pfd, done, perr := parent.openDir()
		if perr != nil {
			return nil, perr
		}
		fd, err = retry(func() (int, error) {
			return unix.Openat(pfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		})
		done()
	}
	if err != nil {
		return nil, hostErr(err)
	}
	defer unix.Close(fd)
	var ents []vfs.Dirent
	buf := make([]byte, 32<<10)
	for {
		n, err := retry(func() (int, error) { return unix.Getdents(fd, buf) })
		if err != nil {
			return nil, hostErr(err)
		}
		if n == 0 {
			break
		}
		ents, err = parseDirents(ents, buf[:n])
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(ents, func(a, b vfs.Dirent) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return ents, nil
}

// parseDirents decodes host linux_dirent64 records, skipping "." and "..".
func parseDirents(ents []vfs.Dirent, buf []byte) ([]vfs.Dirent, error) {
	for len(buf) > 0 {
		if len(buf) < linux.Dirent64HeaderSize {
			return nil, errno.EIO
		}
		reclen := int(binary.LittleEndian.Uint16(buf[16:]))
		if reclen < linux.Dirent64HeaderSize || reclen > len(buf) {
			return nil, errno.EIO
		}
		name := buf[19:reclen]
		if n := slices.Index(name, 0); n >= 0 {
			name = name[:n]
		}
		if s := string(name); s != "." && s != ".." {
			ents = append(ents, vfs.Dirent{Name: s, Ino: binary.LittleEndian.Uint64(buf), Type: buf[18]})
		}
		buf = buf[reclen:]
	}
	return ents, nil
}

// String describes i for debugging.
func (i *inode) String() string {
	parent, name := i.loc()
	if parent == nil {
		return "hostfs:/"
	}
	return fmt.Sprintf("%v/%s", parent, name)
}

// regularFD is an open host regular file, read with pread(2).
type regularFD struct {
	vfs.FileDescriptionDefaultImpl
	fd int
}

// Release implements vfs.FileDescriptionImpl.Release.
func (f *regularFD) Release() { unix.Close(f.fd) }

// Read implements vfs.FileDescriptionImpl.Read.
func (f *regularFD) Read(_ vfs.Context, dst []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errno.EINVAL
	}
	n, err := retry(func() (int, error) { return unix.Pread(f.fd, dst, off) })
	if err != nil {
		return 0, hostErr(err)
	}
	return n, nil
}

// Write implements vfs.FileDescriptionImpl.Write with pwrite(2); the VFS
// only calls it for files opened for writing, which only a writable
// filesystem opens.
func (f *regularFD) Write(_ vfs.Context, src []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errno.EINVAL
	}
	n, err := retry(func() (int, error) { return unix.Pwrite(f.fd, src, off) })
	if err != nil {
		return 0, hostErr(err)
	}
	return n, nil
}

// Sync implements vfs.Syncer with fsync(2).
func (f *regularFD) Sync() error { return hostErr(unix.Fsync(f.fd)) }
