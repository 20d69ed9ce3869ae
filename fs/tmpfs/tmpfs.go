// Package tmpfs is an in-memory filesystem. It serves as the overlay's
// writable upper layer, /dev/shm, and the tree of devfs.
//
// Lock order: Filesystem.mu protects every inode of the filesystem; it is
// taken below vfs locks and never held while calling out of the package.
package tmpfs

import (
	"slices"
	"sync"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/pipe"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/sentry/memmap"
)

// maxFileSize bounds a file's size (and so the offset of any write), far
// below what could overflow an int64 or an int.
const maxFileSize = 1 << 40

// Options configure a Filesystem.
type Options struct {
	// Name is the filesystem type name ("tmpfs").
	Name string
	// MaxBytes bounds the total size of file data (in whole pages);
	// writes beyond fail with ENOSPC. Zero means no limit, and statfs(2)
	// then reports DefaultSize.
	MaxBytes uint64
	// MemoryFile, if set, holds the file data, so that regular files can
	// be mapped MAP_SHARED (memmap.Mappable) and their data never reaches
	// the host's disk. Without it data lives on the Go heap.
	MemoryFile *memfile.MemoryFile
	// Magic is f_type for statfs(2); TMPFS_MAGIC if zero.
	Magic int64
}

// DefaultSize is the size statfs(2) reports for a tmpfs without a limit:
// Linux's default tmpfs size is half of RAM; this is a fixed generous
// figure, so that programs checking free space (shutil.disk_usage) see
// room.
const DefaultSize = 64 << 30

// Filesystem is one tmpfs instance.
type Filesystem struct {
	opts Options

	// mu protects everything below and all inode fields that are not
	// immutable.
	mu      sync.Mutex
	nextIno uint64
	// used is the number of bytes in pages held by live files.
	used uint64
}

// Device is the behaviour of a device node (devfs's /dev/null and friends).
type Device interface {
	// Open returns the implementation of a new file description.
	Open(ctx vfs.Context, flags uint32) (vfs.FileDescriptionImpl, error)
}

// Inode is a tmpfs file of any type.
type Inode struct {
	fs *Filesystem
	// ino is the inode number. Immutable.
	ino uint64

	// All fields below are protected by fs.mu, except the immutable type
	// bits of mode and the device fields.
	mode  linux.FileMode
	uid   auth.KUID
	gid   auth.KGID
	nlink uint32
	atime linux.StatxTimestamp
	mtime linux.StatxTimestamp
	ctime linux.StatxTimestamp
	btime linux.StatxTimestamp
	data  fileData // regular files
	// mappings are the shared mappings of a regular file, counted.
	mappings map[mapping]int
	children map[string]*Inode // directories
	target   string            // symlinks
	xattrs   map[string][]byte // extended attributes
	// seals are a regular file's F_SEAL_* seals.
	seals uint32
	// openFDs counts open file descriptions of a regular file, so that its
	// data stays accounted until the last close after unlink.
	openFDs int

	// fifo is a named pipe's pipe. Immutable.
	fifo *pipe.FIFO
	// dev, rdevMajor and rdevMinor describe a device node. Immutable.
	dev                  Device
	rdevMajor, rdevMinor uint32
}

var (
	_ vfs.FilesystemImpl = (*Filesystem)(nil)
	_ vfs.DirInode       = (*Inode)(nil)
	_ vfs.SymlinkInode   = (*Inode)(nil)
)

// New returns a new filesystem and its root directory, owned by uid/gid.
func New(opts Options, rootMode linux.FileMode, uid auth.KUID, gid auth.KGID) (*Filesystem, *Inode) {
	if opts.Name == "" {
		opts.Name = "tmpfs"
	}
	if opts.Magic == 0 {
		opts.Magic = linux.TMPFS_MAGIC
	}
	fs := &Filesystem{opts: opts, nextIno: 1}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	root := fs.newInodeLocked(linux.S_IFDIR|rootMode.Permissions(), uid, gid)
	root.children = map[string]*Inode{}
	root.nlink = 2
	return fs, root
}

// Name implements vfs.FilesystemImpl.Name.
func (fs *Filesystem) Name() string { return fs.opts.Name }

// StatFS implements vfs.FilesystemImpl.StatFS.
func (fs *Filesystem) StatFS(vfs.Context) (linux.Statfs, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	st := linux.Statfs{Type: fs.opts.Magic, Bsize: 4096, Frsize: 4096, Namelen: linux.NAME_MAX}
	size := fs.opts.MaxBytes
	if size == 0 {
		size = max(DefaultSize, pageRoundUp(fs.used))
	}
	st.Blocks = size / 4096
	st.Bfree = (size - min(size, fs.used)) / 4096
	st.Bavail = st.Bfree
	return st, nil
}

// newInodeLocked returns a new inode with nlink 1 and the times set to now.
//
// Preconditions: fs.mu is held.
func (fs *Filesystem) newInodeLocked(mode linux.FileMode, uid auth.KUID, gid auth.KGID) *Inode {
	now := vfs.NowStatxTimestamp()
	fs.nextIno++
	return &Inode{fs: fs, ino: fs.nextIno, mode: mode, uid: uid, gid: gid, nlink: 1,
		atime: now, mtime: now, ctime: now, btime: now}
}

// Ino returns the inode number.
func (i *Inode) Ino() uint64 { return i.ino }

func (i *Inode) fileType() linux.FileMode { return i.mode.FileType() }

// Stat implements vfs.Inode.Stat.
func (i *Inode) Stat(vfs.Context) (linux.Statx, error) {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	size := i.data.size
	switch i.fileType() {
	case linux.S_IFLNK:
		size = uint64(len(i.target))
	case linux.S_IFDIR:
		size = 4096
	}
	return linux.Statx{
		Mask:      linux.STATX_BASIC_STATS | linux.STATX_BTIME,
		Blksize:   4096,
		Nlink:     i.nlink,
		UID:       uint32(i.uid),
		GID:       uint32(i.gid),
		Mode:      uint16(i.mode),
		Ino:       i.ino,
		Size:      size,
		Blocks:    uint64(len(i.data.pages)) * (pageSize / 512),
		Atime:     i.atime,
		Btime:     i.btime,
		Ctime:     i.ctime,
		Mtime:     i.mtime,
		RdevMajor: i.rdevMajor,
		RdevMinor: i.rdevMinor,
	}, nil
}

// SetStat implements vfs.Inode.SetStat.
func (i *Inode) SetStat(_ vfs.Context, opts *vfs.SetStatOptions) error {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	st := &opts.Stat
	if st.Mask&linux.STATX_SIZE != 0 {
		if i.fileType() != linux.S_IFREG {
			return errno.EINVAL
		}
		if err := i.checkSealsLocked(int64(st.Size), -1); err != nil {
			return err
		}
		if err := i.resizeLocked(st.Size); err != nil {
			return err
		}
		i.mtime = vfs.NowStatxTimestamp()
	}
	if st.Mask&linux.STATX_MODE != 0 {
		i.mode = i.fileType() | linux.FileMode(st.Mode).Permissions()
	}
	if st.Mask&linux.STATX_UID != 0 {
		i.uid = auth.KUID(st.UID)
	}
	if st.Mask&linux.STATX_GID != 0 {
		i.gid = auth.KGID(st.GID)
	}
	if st.Mask&linux.STATX_ATIME != 0 {
		i.atime = st.Atime
	}
	if st.Mask&linux.STATX_MTIME != 0 {
		i.mtime = st.Mtime
	}
	i.ctime = vfs.NowStatxTimestamp()
	return nil
}

// resizeLocked sets a regular file's size; growing it makes a hole.
//
// Preconditions: fs.mu is held.
func (i *Inode) resizeLocked(size uint64) error {
	if size > maxFileSize {
		return errno.EFBIG
	}
	i.truncateLocked(size)
	return nil
}

// Open implements vfs.Inode.Open.
func (i *Inode) Open(ctx vfs.Context, flags uint32) (vfs.FileDescriptionImpl, error) {
	switch i.fileType() {
	case linux.S_IFREG:
		i.fs.mu.Lock()
		i.openFDs++
		i.fs.mu.Unlock()
		return &regularFD{inode: i}, nil
	case linux.S_IFCHR, linux.S_IFBLK:
		if i.dev == nil {
			return nil, errno.ENXIO
		}
		return i.dev.Open(ctx, flags)
	case linux.S_IFIFO:
		return i.fifo.Open(ctx, flags)
	default:
		// "ENXIO The file is a UNIX domain socket" - open(2).
		return nil, errno.ENXIO
	}
}

// Readlink implements vfs.SymlinkInode.Readlink.
func (i *Inode) Readlink(vfs.Context) (string, error) {
	if i.fileType() != linux.S_IFLNK {
		return "", errno.EINVAL
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	return i.target, nil
}

// Lookup implements vfs.DirInode.Lookup.
func (i *Inode) Lookup(_ vfs.Context, name string) (vfs.Inode, error) {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if i.fileType() != linux.S_IFDIR {
		return nil, errno.ENOTDIR
	}
	c, ok := i.children[name]
	if !ok {
		return nil, errno.ENOENT
	}
	return c, nil
}

// Readdir implements vfs.DirInode.Readdir, in name order.
func (i *Inode) Readdir(vfs.Context) ([]vfs.Dirent, error) {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if i.fileType() != linux.S_IFDIR {
		return nil, errno.ENOTDIR
	}
	ents := make([]vfs.Dirent, 0, len(i.children))
	for name, c := range i.children {
		ents = append(ents, vfs.Dirent{Name: name, Ino: c.ino, Type: c.mode.DirentType()})
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

// addChildLocked links a new inode under name.
//
// Preconditions: fs.mu is held; i is a directory.
func (i *Inode) addChildLocked(name string, c *Inode) error {
	if _, ok := i.children[name]; ok {
		return errno.EEXIST
	}
	i.children[name] = c
	now := vfs.NowStatxTimestamp()
	i.mtime, i.ctime = now, now
	return nil
}

func (i *Inode) mknod(ctx vfs.Context, name string, mode linux.FileMode, init func(*Inode)) (*Inode, error) {
	uid, gid := vfs.Owner(ctx)
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if i.fileType() != linux.S_IFDIR {
		return nil, errno.ENOTDIR
	}
	c := i.fs.newInodeLocked(mode, uid, gid)
	if init != nil {
		init(c)
	}
	if err := i.addChildLocked(name, c); err != nil {
		return nil, err
	}
	if c.fileType() == linux.S_IFDIR {
		i.nlink++
	}
	return c, nil
}

// Create implements vfs.DirInode.Create.
func (i *Inode) Create(ctx vfs.Context, name string, mode linux.FileMode) (vfs.Inode, error) {
	return i.mknod(ctx, name, linux.S_IFREG|mode.Permissions(), func(c *Inode) { c.seals = linux.F_SEAL_SEAL })
}

// Mkdir implements vfs.DirInode.Mkdir.
func (i *Inode) Mkdir(ctx vfs.Context, name string, mode linux.FileMode) (vfs.Inode, error) {
	return i.mknod(ctx, name, linux.S_IFDIR|mode.Permissions(), func(c *Inode) {
		c.children = map[string]*Inode{}
		c.nlink = 2
	})
}

// Symlink implements vfs.DirInode.Symlink.
func (i *Inode) Symlink(ctx vfs.Context, name, target string) (vfs.Inode, error) {
	return i.mknod(ctx, name, linux.S_IFLNK|0o777, func(c *Inode) { c.target = target })
}

// NewDevice creates a device node called name. It is how devfs populates
// /dev; the guest's mknod(2) does not reach it.
func (i *Inode) NewDevice(ctx vfs.Context, name string, mode linux.FileMode, major, minor uint32, dev Device) (*Inode, error) {
	return i.mknod(ctx, name, mode, func(c *Inode) {
		c.dev, c.rdevMajor, c.rdevMinor = dev, major, minor
	})
}

// Mknod implements vfs.MknodInode: FIFOs, sockets (an inode and nothing
// more, until something binds it) and device nodes, which open as ENXIO
// unless devfs gave them a driver.
func (i *Inode) Mknod(ctx vfs.Context, name string, mode linux.FileMode, dev uint32) (vfs.Inode, error) {
	switch mode.FileType() {
	case linux.S_IFIFO:
		return i.mknod(ctx, name, mode, func(c *Inode) { c.fifo = pipe.NewFIFO() })
	case linux.S_IFSOCK:
		return i.mknod(ctx, name, mode, nil)
	case linux.S_IFCHR, linux.S_IFBLK:
		return i.mknod(ctx, name, mode, func(c *Inode) {
			c.rdevMajor, c.rdevMinor = linux.DevMajor(dev), linux.DevMinor(dev)
		})
	default:
		return nil, errno.EINVAL
	}
}

// Link implements vfs.DirInode.Link.
func (i *Inode) Link(_ vfs.Context, name string, target vfs.Inode) (vfs.Inode, error) {
	t, ok := target.(*Inode)
	if !ok || t.fs != i.fs {
		return nil, errno.EXDEV
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if t.fileType() == linux.S_IFDIR {
		return nil, errno.EPERM
	}
	if err := i.addChildLocked(name, t); err != nil {
		return nil, err
	}
	t.nlink++
	t.ctime = vfs.NowStatxTimestamp()
	return t, nil
}

// dropLinkLocked removes one link to c, freeing its data after the last
// link and the last open file description are gone.
//
// Preconditions: fs.mu is held.
func (c *Inode) dropLinkLocked() {
	if c.fileType() == linux.S_IFDIR {
		c.nlink = 0
	} else if c.nlink > 0 {
		c.nlink--
	}
	c.ctime = vfs.NowStatxTimestamp()
	c.maybeFreeLocked()
}

func (c *Inode) maybeFreeLocked() {
	if c.nlink == 0 && c.openFDs == 0 && len(c.mappings) == 0 && c.data.pages != nil {
		c.freeAllLocked()
	}
}

// removeChildLocked unlinks name (which is c) from directory i.
func (i *Inode) removeChildLocked(name string, c *Inode) error {
	if i.children[name] != c {
		return errno.ENOENT
	}
	delete(i.children, name)
	if c.fileType() == linux.S_IFDIR {
		i.nlink--
	}
	now := vfs.NowStatxTimestamp()
	i.mtime, i.ctime = now, now
	c.dropLinkLocked()
	return nil
}

// Unlink implements vfs.DirInode.Unlink.
func (i *Inode) Unlink(_ vfs.Context, name string, child vfs.Inode) error {
	c, ok := child.(*Inode)
	if !ok {
		return errno.ENOENT
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	return i.removeChildLocked(name, c)
}

// Rmdir implements vfs.DirInode.Rmdir.
func (i *Inode) Rmdir(_ vfs.Context, name string, child vfs.Inode) error {
	c, ok := child.(*Inode)
	if !ok {
		return errno.ENOENT
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if len(c.children) != 0 {
		return errno.ENOTEMPTY
	}
	return i.removeChildLocked(name, c)
}

// Rename implements vfs.DirInode.Rename.
func (i *Inode) Rename(_ vfs.Context, oldName string, child vfs.Inode, newParent vfs.DirInode, newName string, replaced vfs.Inode) error {
	c, ok := child.(*Inode)
	np, ok2 := newParent.(*Inode)
	if !ok || !ok2 || np.fs != i.fs {
		return errno.EXDEV
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if i.children[oldName] != c {
		return errno.ENOENT
	}
	if replaced != nil {
		r, ok := replaced.(*Inode)
		if !ok || np.children[newName] != r {
			return errno.ENOENT
		}
		if r.fileType() == linux.S_IFDIR && len(r.children) != 0 {
			return errno.ENOTEMPTY
		}
		if err := np.removeChildLocked(newName, r); err != nil {
			return err
		}
	}
	delete(i.children, oldName)
	np.children[newName] = c
	if c.fileType() == linux.S_IFDIR && i != np {
		i.nlink--
		np.nlink++
	}
	now := vfs.NowStatxTimestamp()
	i.mtime, i.ctime, np.mtime, np.ctime, c.ctime = now, now, now, now, now
	return nil
}

// regularFD is an open regular file.
type regularFD struct {
	vfs.FileDescriptionDefaultImpl
	inode *Inode
}

// Release implements vfs.FileDescriptionImpl.Release.
func (fd *regularFD) Release() {
	i := fd.inode
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	i.openFDs--
	i.maybeFreeLocked()
}

// Read implements vfs.FileDescriptionImpl.Read.
func (fd *regularFD) Read(_ vfs.Context, dst []byte, off int64) (int, error) {
	i := fd.inode
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if off < 0 {
		return 0, errno.EINVAL
	}
	return i.readLocked(dst, uint64(off)), nil
}

// Write implements vfs.FileDescriptionImpl.Write.
func (fd *regularFD) Write(_ vfs.Context, src []byte, off int64) (int, error) {
	i := fd.inode
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if off < 0 {
		return 0, errno.EINVAL
	}
	if len(src) == 0 {
		return 0, nil
	}
	// Overflow: off < maxFileSize and len(src) < 2^63, so end can be
	// compared before it could wrap.
	if off > maxFileSize || uint64(len(src)) > maxFileSize-uint64(off) {
		return 0, errno.EFBIG
	}
	if err := i.checkSealsLocked(off, int64(len(src))); err != nil {
		return 0, err
	}
	n, err := i.writeLocked(src, uint64(off))
	if err != nil {
		return 0, err
	}
	now := vfs.NowStatxTimestamp()
	i.mtime, i.ctime = now, now
	return n, nil
}

// Mappable implements vfs.MappableImpl: with a memory file, a tmpfs
// regular file can be mapped MAP_SHARED.
func (fd *regularFD) Mappable() (memmap.Mappable, bool) {
	if fd.inode.fs.opts.MemoryFile == nil {
		return nil, false
	}
	return fd.inode, true
}

// Stat implements vfs.FileDescriptionImpl.Stat.
func (fd *regularFD) Stat(ctx vfs.Context) (linux.Statx, error) { return fd.inode.Stat(ctx) }

// Tmpfile implements vfs.TmpfileInode: a regular file with no links,
// freed after its last close unless linked.
func (i *Inode) Tmpfile(ctx vfs.Context, mode linux.FileMode) (vfs.Inode, error) {
	uid, gid := vfs.Owner(ctx)
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if i.fileType() != linux.S_IFDIR {
		return nil, errno.ENOTDIR
	}
	c := i.fs.newInodeLocked(linux.S_IFREG|mode.Permissions(), uid, gid)
	c.nlink = 0
	c.seals = linux.F_SEAL_SEAL
	return c, nil
}

// Exchange implements vfs.ExchangeInode.
func (i *Inode) Exchange(_ vfs.Context, oldName string, child vfs.Inode, newParent vfs.DirInode, newName string, other vfs.Inode) error {
	a, ok := child.(*Inode)
	b, ok2 := other.(*Inode)
	np, ok3 := newParent.(*Inode)
	if !ok || !ok2 || !ok3 || np.fs != i.fs {
		return errno.EXDEV
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if i.children[oldName] != a || np.children[newName] != b {
		return errno.ENOENT
	}
	i.children[oldName], np.children[newName] = b, a
	if i != np {
		// A directory moving to another parent takes its ".." link along.
		if a.fileType() == linux.S_IFDIR {
			i.nlink--
			np.nlink++
		}
		if b.fileType() == linux.S_IFDIR {
			np.nlink--
			i.nlink++
		}
	}
	now := vfs.NowStatxTimestamp()
	i.mtime, i.ctime, np.mtime, np.ctime, a.ctime, b.ctime = now, now, now, now, now, now
	return nil
}
