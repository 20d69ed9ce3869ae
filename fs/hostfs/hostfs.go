// Package hostfs exposes a host directory tree to the VFS, read-only.
//
// The sentry holds the tree's root open as an O_PATH directory fd and
// reaches every file with openat(2)/fstatat(2) relative to its parent's fd,
// one component at a time, always with O_NOFOLLOW or AT_SYMLINK_NOFOLLOW.
// The host kernel therefore never follows a symlink and never sees "..":
// symlink targets are returned to the VFS as text and resolved there,
// inside the sandbox root. Nothing here writes to the host.
//
// Lock order: inode.mu (a directory's cached fd), then Filesystem.mu.
package hostfs

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
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

	// mu protects the fields below.
	mu sync.Mutex
	// foreign maps (dev, ino) of files on other host filesystems below
	// the root to made-up inode numbers, so that they cannot collide with
	// the root device's.
	foreign     map[[2]uint64]uint64
	nextForeign uint64
	// cachedFDs are the directory fds cached in inodes, closed by Release.
	cachedFDs []int
}

// Open opens the host directory dir as a filesystem and returns it with
// its root directory inode.
func Open(dir string) (*Filesystem, vfs.DirInode, error) {
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
	fs := &Filesystem{rootFD: fd, rootDev: st.Dev, foreign: map[[2]uint64]uint64{}, nextForeign: 1 << 48}
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
	return linux.Statfs{Type: s.Type, Bsize: s.Bsize, Blocks: s.Blocks, Bfree: s.Bfree, Bavail: s.Bavail,
		Files: s.Files, Ffree: s.Ffree, Namelen: s.Namelen, Frsize: s.Frsize, Flags: linux.ST_RDONLY}, nil
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

// inode is a host file, named by its parent directory and its name. The
// name of a read-only tree never changes.
type inode struct {
	fs *Filesystem
	// parent and name locate the file; parent is nil for the root.
	// Immutable.
	parent *inode
	name   string

	// mu protects dirFD.
	mu sync.Mutex
	// dirFD caches an O_PATH fd for a directory; -1 if not cached.
	dirFD int
}

var (
	_ vfs.DirInode     = (*inode)(nil)
	_ vfs.SymlinkInode = (*inode)(nil)
)

// openDir returns an O_PATH fd for directory i; the caller must call done.
func (i *inode) openDir() (fd int, done func(), err error) {
	if i.parent == nil {
		return i.fs.rootFD, func() {}, nil
	}
	i.mu.Lock()
	defer i.mu.Unlock()
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
	if i.parent == nil {
		return st, hostErr(unix.Fstat(i.fs.rootFD, &st))
	}
	pfd, done, err := i.parent.openDir()
	if err != nil {
		return st, err
	}
	defer done()
	if err := unix.Fstatat(pfd, i.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
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

// SetStat implements vfs.Inode.SetStat: the host tree is read-only.
func (i *inode) SetStat(vfs.Context, *vfs.SetStatOptions) error { return errno.EROFS }

// Open implements vfs.Inode.Open. Only regular files can be opened, and
// only for reading: device nodes, FIFOs and sockets of the host tree are
// not the guest's to use.
func (i *inode) Open(_ vfs.Context, flags uint32) (vfs.FileDescriptionImpl, error) {
	if flags&linux.O_ACCMODE != linux.O_RDONLY || flags&linux.O_TRUNC != 0 {
		return nil, errno.EROFS
	}
	if i.parent == nil {
		return nil, errno.EISDIR
	}
	pfd, done, err := i.parent.openDir()
	if err != nil {
		return nil, err
	}
	defer done()
	// O_NONBLOCK: opening a FIFO that replaced a regular file must not
	// block the sentry; it is refused just below.
	fd, err := retry(func() (int, error) {
		return unix.Openat(pfd, i.name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
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
	if i.parent == nil {
		return "", errno.EINVAL
	}
	pfd, done, err := i.parent.openDir()
	if err != nil {
		return "", err
	}
	defer done()
	fd, err := retry(func() (int, error) {
		return unix.Openat(pfd, i.name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
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
	return &inode{fs: i.fs, parent: i, name: name, dirFD: -1}, nil
}

// Readdir implements vfs.DirInode.Readdir, in name order.
func (i *inode) Readdir(vfs.Context) ([]vfs.Dirent, error) {
	var fd int
	var err error
	if i.parent == nil {
		fd, err = retry(func() (int, error) {
			return unix.Openat(i.fs.rootFD, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		})
	} else {
		pfd, done, perr := i.parent.openDir()
		if perr != nil {
			return nil, perr
		}
		fd, err = retry(func() (int, error) {
			return unix.Openat(pfd, i.name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
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

// The host tree is read-only; the overlay above it takes all changes.

// Create implements vfs.DirInode.Create.
func (i *inode) Create(vfs.Context, string, linux.FileMode) (vfs.Inode, error) {
	return nil, errno.EROFS
}

// Mkdir implements vfs.DirInode.Mkdir.
func (i *inode) Mkdir(vfs.Context, string, linux.FileMode) (vfs.Inode, error) {
	return nil, errno.EROFS
}

// Symlink implements vfs.DirInode.Symlink.
func (i *inode) Symlink(vfs.Context, string, string) (vfs.Inode, error) { return nil, errno.EROFS }

// Link implements vfs.DirInode.Link.
func (i *inode) Link(vfs.Context, string, vfs.Inode) error { return errno.EROFS }

// Unlink implements vfs.DirInode.Unlink.
func (i *inode) Unlink(vfs.Context, string, vfs.Inode) error { return errno.EROFS }

// Rmdir implements vfs.DirInode.Rmdir.
func (i *inode) Rmdir(vfs.Context, string, vfs.Inode) error { return errno.EROFS }

// Rename implements vfs.DirInode.Rename.
func (i *inode) Rename(vfs.Context, string, vfs.Inode, vfs.DirInode, string, vfs.Inode) error {
	return errno.EROFS
}

// String describes i for debugging.
func (i *inode) String() string {
	if i.parent == nil {
		return "hostfs:/"
	}
	return fmt.Sprintf("%v/%s", i.parent, i.name)
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

// Write implements vfs.FileDescriptionImpl.Write.
func (f *regularFD) Write(vfs.Context, []byte, int64) (int, error) { return 0, errno.EBADF }
