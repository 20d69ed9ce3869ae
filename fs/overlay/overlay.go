// Package overlay stacks a writable upper filesystem (normally tmpfs) on a
// read-only lower one (normally hostfs), so that the guest can change its
// root tree without touching the host.
//
// A file is served from the lower layer until it is modified; then it is
// copied up: its parent directories, data and metadata are recreated in
// the upper layer, which serves it from then on. Deleting a name that
// exists in the lower layer records a whiteout; a directory created over a
// whiteout is opaque (its lower namesake's entries stay hidden). Whiteouts
// and opacity live in the overlay's own inodes, never in either layer.
// Renaming a directory that exists in the lower layer copies its whole
// subtree up first and makes it opaque, so the rename is an upper-layer
// rename (overlayfs without redirect_dir would fail with EXDEV).
//
// Lock order: Filesystem.mu, then the layers' own locks.
package overlay

import (
	"slices"
	"sync"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// copyChunk is the buffer size for copying file data up.
const copyChunk = 64 << 10

// Filesystem is an overlay of two filesystems.
type Filesystem struct {
	upperFS vfs.FilesystemImpl

	// mu protects every inode's mutable fields. It is held across calls
	// into the layers, so copy-up is atomic with respect to other overlay
	// operations.
	mu sync.Mutex
	// nextIno numbers files that exist only in the upper layer, far above
	// any lower inode number.
	nextIno uint64
}

// inode is a file of the overlay.
type inode struct {
	fs *Filesystem
	// ino is the inode number the guest sees: the lower file's, or a new
	// one for upper-only files. Immutable.
	ino uint64

	// The fields below are protected by fs.mu.

	// parent and name locate the file for copy-up; parent is nil for
	// the root.
	parent *inode
	name   string
	// upper is the file in the upper layer, nil until copied up; lower is
	// the file in the lower layer, nil if there is none.
	upper vfs.Inode
	lower vfs.Inode
	// For directories: children caches looked-up children (so that their
	// copy-up state and opacity persist), whiteouts hides lower names, and
	// opaque hides every lower entry.
	children  map[string]*inode
	whiteouts map[string]bool
	opaque    bool
}

var (
	_ vfs.FilesystemImpl = (*Filesystem)(nil)
	_ vfs.DirInode       = (*inode)(nil)
	_ vfs.SymlinkInode   = (*inode)(nil)
)

// New returns an overlay of upperRoot over lowerRoot, both directories.
// upperRoot should be empty; it takes lowerRoot's mode, owner and times.
func New(ctx vfs.Context, upperFS vfs.FilesystemImpl, upperRoot, lowerRoot vfs.DirInode) (*Filesystem, vfs.DirInode, error) {
	st, err := lowerRoot.Stat(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := upperRoot.SetStat(ctx, metadataOf(&st)); err != nil {
		return nil, nil, err
	}
	fs := &Filesystem{upperFS: upperFS, nextIno: 1 << 50}
	root := &inode{fs: fs, ino: st.Ino, upper: upperRoot, lower: lowerRoot}
	return fs, root, nil
}

// Name implements vfs.FilesystemImpl.Name.
func (fs *Filesystem) Name() string { return "overlay" }

// StatFS implements vfs.FilesystemImpl.StatFS.
func (fs *Filesystem) StatFS(ctx vfs.Context) (linux.Statfs, error) {
	st, err := fs.upperFS.StatFS(ctx)
	st.Type = linux.OVERLAYFS_SUPER_MAGIC
	return st, err
}

// metadataOf returns SetStat options that copy st's mode, owner and times.
func metadataOf(st *linux.Statx) *vfs.SetStatOptions {
	return &vfs.SetStatOptions{Stat: linux.Statx{
		Mask: linux.STATX_MODE | linux.STATX_UID | linux.STATX_GID | linux.STATX_ATIME | linux.STATX_MTIME,
		Mode: st.Mode, UID: st.UID, GID: st.GID, Atime: st.Atime, Mtime: st.Mtime,
	}}
}

// top returns the layer that currently serves i.
//
// Preconditions: fs.mu is held.
func (i *inode) top() vfs.Inode {
	if i.upper != nil {
		return i.upper
	}
	return i.lower
}

func fileType(ctx vfs.Context, in vfs.Inode) (linux.FileMode, error) {
	st, err := in.Stat(ctx)
	return st.FileMode().FileType(), err
}

// Stat implements vfs.Inode.Stat.
func (i *inode) Stat(ctx vfs.Context) (linux.Statx, error) {
	i.fs.mu.Lock()
	top, lower := i.top(), i.lower
	i.fs.mu.Unlock()
	st, err := top.Stat(ctx)
	st.Ino = i.ino
	if err == nil && top != lower && lower != nil && st.FileMode().IsDir() {
		// A copied-up directory keeps the host directory's size, blocks
		// and link count, so that listings look as they do on the host;
		// the in-memory upper has none of its own worth showing.
		if lst, lerr := lower.Stat(ctx); lerr == nil {
			st.Nlink, st.Size, st.Blocks, st.Blksize = lst.Nlink, lst.Size, lst.Blocks, lst.Blksize
		}
	}
	return st, err
}

// SetStat implements vfs.Inode.SetStat, copying i up first.
func (i *inode) SetStat(ctx vfs.Context, opts *vfs.SetStatOptions) error {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if err := i.copyUpLocked(ctx); err != nil {
		return err
	}
	return i.upper.SetStat(ctx, opts)
}

// Open implements vfs.Inode.Open. Opening for writing copies the file up;
// a file opened for reading before a copy-up keeps reading the lower copy.
func (i *inode) Open(ctx vfs.Context, flags uint32) (vfs.FileDescriptionImpl, error) {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if flags&linux.O_ACCMODE != linux.O_RDONLY || flags&linux.O_TRUNC != 0 {
		if err := i.copyUpLocked(ctx); err != nil {
			return nil, err
		}
	}
	return i.top().Open(ctx, flags)
}

// Readlink implements vfs.SymlinkInode.Readlink.
func (i *inode) Readlink(ctx vfs.Context) (string, error) {
	i.fs.mu.Lock()
	top := i.top()
	i.fs.mu.Unlock()
	link, ok := top.(vfs.SymlinkInode)
	if !ok {
		return "", errno.EINVAL
	}
	return link.Readlink(ctx)
}

// copyUpLocked gives i an upper copy, with its ancestors.
//
// Preconditions: fs.mu is held.
func (i *inode) copyUpLocked(ctx vfs.Context) error {
	if i.upper != nil {
		return nil
	}
	if err := i.parent.copyUpLocked(ctx); err != nil {
		return err
	}
	parent, ok := i.parent.upper.(vfs.DirInode)
	if !ok {
		return errno.ENOTDIR
	}
	st, err := i.lower.Stat(ctx)
	if err != nil {
		return err
	}
	var up vfs.Inode
	switch st.FileMode().FileType() {
	case linux.S_IFDIR:
		up, err = parent.Mkdir(ctx, i.name, st.FileMode())
	case linux.S_IFREG:
		up, err = parent.Create(ctx, i.name, st.FileMode())
		if err == nil {
			if err = copyData(ctx, i.lower, up); err != nil {
				parent.Unlink(ctx, i.name, up)
			}
		}
	case linux.S_IFLNK:
		var target string
		if target, err = i.lowerReadlink(ctx); err == nil {
			up, err = parent.Symlink(ctx, i.name, target)
		}
	default:
		// Device nodes, FIFOs and sockets of the host tree stay there.
		return errno.EPERM
	}
	if err != nil {
		return err
	}
	if err := up.SetStat(ctx, metadataOf(&st)); err != nil {
		return err
	}
	i.upper = up
	return nil
}

// copyUpTreeLocked copies directory i and everything visible below it up,
// then makes each copied directory opaque: the upper layer alone then
// holds the tree, which can move anywhere in the upper layer.
//
// Preconditions: fs.mu is held; i is a directory.
func (i *inode) copyUpTreeLocked(ctx vfs.Context) error {
	if err := i.copyUpLocked(ctx); err != nil {
		return err
	}
	ents, err := i.readdirLocked(ctx)
	if err != nil {
		return err
	}
	for _, e := range ents {
		c, err := i.lookupLocked(ctx, e.Name)
		if err != nil {
			return err
		}
		t, err := fileType(ctx, c.top())
		if err != nil {
			return err
		}
		if t == linux.S_IFDIR {
			if c.lower != nil && !c.opaque {
				if err := c.copyUpTreeLocked(ctx); err != nil {
					return err
				}
			}
			continue
		}
		if err := c.copyUpLocked(ctx); err != nil {
			// Device nodes and FIFOs of the host cannot come up; as
			// overlayfs without redirect_dir, refuse the rename.
			if err == errno.EPERM {
				return errno.EXDEV
			}
			return err
		}
	}
	i.opaque = true
	i.whiteouts = nil
	return nil
}

// lowerReadlink reads the lower symlink's target.
func (i *inode) lowerReadlink(ctx vfs.Context) (string, error) {
	link, ok := i.lower.(vfs.SymlinkInode)
	if !ok {
		return "", errno.EINVAL
	}
	return link.Readlink(ctx)
}

// copyData copies a regular file's contents from one layer to the other.
func copyData(ctx vfs.Context, from, to vfs.Inode) error {
	src, err := from.Open(ctx, linux.O_RDONLY)
	if err != nil {
		return err
	}
	defer src.Release()
	dst, err := to.Open(ctx, linux.O_WRONLY)
	if err != nil {
		return err
	}
	defer dst.Release()
	buf := make([]byte, copyChunk)
	var off int64
	for {
		n, err := src.Read(ctx, buf, off)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		for w := 0; w < n; {
			m, err := dst.Write(ctx, buf[w:n], off+int64(w))
			if err != nil {
				return err
			}
			w += m
		}
		off += int64(n)
	}
}

// lowerHasLocked reports whether a lower entry called name shows through
// directory i (ignoring whiteouts).
//
// Preconditions: fs.mu is held.
func (i *inode) lowerHasLocked(ctx vfs.Context, name string) bool {
	if i.lower == nil || i.opaque {
		return false
	}
	dir, ok := i.lower.(vfs.DirInode)
	if !ok {
		return false
	}
	_, err := dir.Lookup(ctx, name)
	return err == nil
}

// Lookup implements vfs.DirInode.Lookup.
func (i *inode) Lookup(ctx vfs.Context, name string) (vfs.Inode, error) {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	return i.lookupLocked(ctx, name)
}

func (i *inode) lookupLocked(ctx vfs.Context, name string) (*inode, error) {
	if c, ok := i.children[name]; ok {
		return c, nil
	}
	if i.whiteouts[name] {
		return nil, errno.ENOENT
	}
	var up, low vfs.Inode
	upType := linux.FileMode(0)
	if dir, ok := i.upper.(vfs.DirInode); ok {
		c, err := dir.Lookup(ctx, name)
		switch err {
		case nil:
			up = c
			if upType, err = fileType(ctx, c); err != nil {
				return nil, err
			}
		case errno.ENOENT:
		default:
			return nil, err
		}
	}
	// A lower file shows through only where the upper layer has nothing,
	// or merges when both are directories.
	if dir, ok := i.lower.(vfs.DirInode); ok && !i.opaque && (up == nil || upType == linux.S_IFDIR) {
		c, err := dir.Lookup(ctx, name)
		switch err {
		case nil:
			lowType, err := fileType(ctx, c)
			if err != nil {
				return nil, err
			}
			if up == nil || lowType == linux.S_IFDIR {
				low = c
			}
		case errno.ENOENT:
		default:
			return nil, err
		}
	}
	if up == nil && low == nil {
		return nil, errno.ENOENT
	}
	c := &inode{fs: i.fs, parent: i, name: name, upper: up, lower: low}
	if low != nil {
		st, err := low.Stat(ctx)
		if err != nil {
			return nil, err
		}
		c.ino = st.Ino
	} else {
		c.ino = i.fs.newInoLocked()
	}
	i.addChildLocked(name, c)
	return c, nil
}

func (fs *Filesystem) newInoLocked() uint64 {
	fs.nextIno++
	return fs.nextIno
}

func (i *inode) addChildLocked(name string, c *inode) {
	if i.children == nil {
		i.children = map[string]*inode{}
	}
	i.children[name] = c
	delete(i.whiteouts, name)
}

// removeChildLocked forgets name, whiting it out if the lower layer has it.
func (i *inode) removeChildLocked(ctx vfs.Context, name string) {
	delete(i.children, name)
	if i.lowerHasLocked(ctx, name) {
		if i.whiteouts == nil {
			i.whiteouts = map[string]bool{}
		}
		i.whiteouts[name] = true
	}
}

// Readdir implements vfs.DirInode.Readdir: upper entries, then lower
// entries that are neither shadowed nor whited out, in name order.
func (i *inode) Readdir(ctx vfs.Context) ([]vfs.Dirent, error) {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	return i.readdirLocked(ctx)
}

func (i *inode) readdirLocked(ctx vfs.Context) ([]vfs.Dirent, error) {
	seen := map[string]bool{}
	var ents []vfs.Dirent
	if dir, ok := i.upper.(vfs.DirInode); ok {
		up, err := dir.Readdir(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range up {
			c, err := i.lookupLocked(ctx, e.Name)
			if err != nil {
				continue
			}
			seen[e.Name] = true
			e.Ino = c.ino
			ents = append(ents, e)
		}
	}
	if dir, ok := i.lower.(vfs.DirInode); ok && !i.opaque {
		low, err := dir.Readdir(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range low {
			if !seen[e.Name] && !i.whiteouts[e.Name] {
				ents = append(ents, e)
			}
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

// createLocked copies i up and makes a new upper-only child with mk.
func (i *inode) create(ctx vfs.Context, name string, mk func(vfs.DirInode) (vfs.Inode, error)) (vfs.Inode, error) {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if err := i.copyUpLocked(ctx); err != nil {
		return nil, err
	}
	dir, ok := i.upper.(vfs.DirInode)
	if !ok {
		return nil, errno.ENOTDIR
	}
	up, err := mk(dir)
	if err != nil {
		return nil, err
	}
	c := &inode{fs: i.fs, parent: i, name: name, upper: up, ino: i.fs.newInoLocked()}
	// A directory made where the lower layer has (or had) the name must
	// not show that namesake's entries.
	if t, err := fileType(ctx, up); err == nil && t == linux.S_IFDIR && (i.whiteouts[name] || i.lowerHasLocked(ctx, name)) {
		c.opaque = true
	}
	i.addChildLocked(name, c)
	return c, nil
}

// Create implements vfs.DirInode.Create.
func (i *inode) Create(ctx vfs.Context, name string, mode linux.FileMode) (vfs.Inode, error) {
	return i.create(ctx, name, func(d vfs.DirInode) (vfs.Inode, error) { return d.Create(ctx, name, mode) })
}

// Mkdir implements vfs.DirInode.Mkdir.
func (i *inode) Mkdir(ctx vfs.Context, name string, mode linux.FileMode) (vfs.Inode, error) {
	return i.create(ctx, name, func(d vfs.DirInode) (vfs.Inode, error) { return d.Mkdir(ctx, name, mode) })
}

// Symlink implements vfs.DirInode.Symlink.
func (i *inode) Symlink(ctx vfs.Context, name, target string) (vfs.Inode, error) {
	return i.create(ctx, name, func(d vfs.DirInode) (vfs.Inode, error) { return d.Symlink(ctx, name, target) })
}

// Mknod implements vfs.MknodInode: the node lives in the upper layer.
func (i *inode) Mknod(ctx vfs.Context, name string, mode linux.FileMode, dev uint32) (vfs.Inode, error) {
	return i.create(ctx, name, func(d vfs.DirInode) (vfs.Inode, error) {
		m, ok := d.(vfs.MknodInode)
		if !ok {
			return nil, errno.EPERM
		}
		return m.Mknod(ctx, name, mode, dev)
	})
}

// Link implements vfs.DirInode.Link: both names then refer to the same
// overlay inode and its upper copy.
func (i *inode) Link(ctx vfs.Context, name string, target vfs.Inode) (vfs.Inode, error) {
	t, ok := target.(*inode)
	if !ok || t.fs != i.fs {
		return nil, errno.EXDEV
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if err := t.copyUpLocked(ctx); err != nil {
		return nil, err
	}
	if err := i.copyUpLocked(ctx); err != nil {
		return nil, err
	}
	if _, err := i.upper.(vfs.DirInode).Link(ctx, name, t.upper); err != nil {
		return nil, err
	}
	i.addChildLocked(name, t)
	if t.name == "" {
		// An O_TMPFILE file gets its first name.
		t.parent, t.name = i, name
	}
	return t, nil
}

// Unlink implements vfs.DirInode.Unlink.
func (i *inode) Unlink(ctx vfs.Context, name string, child vfs.Inode) error {
	c, ok := child.(*inode)
	if !ok {
		return errno.ENOENT
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if c.upper != nil {
		if err := i.upper.(vfs.DirInode).Unlink(ctx, name, c.upper); err != nil {
			return err
		}
	}
	i.removeChildLocked(ctx, name)
	return nil
}

// Rmdir implements vfs.DirInode.Rmdir.
func (i *inode) Rmdir(ctx vfs.Context, name string, child vfs.Inode) error {
	c, ok := child.(*inode)
	if !ok {
		return errno.ENOENT
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if ents, err := c.readdirLocked(ctx); err != nil {
		return err
	} else if len(ents) != 0 {
		return errno.ENOTEMPTY
	}
	if c.upper != nil {
		if err := i.upper.(vfs.DirInode).Rmdir(ctx, name, c.upper); err != nil {
			return err
		}
	}
	i.removeChildLocked(ctx, name)
	return nil
}

// Rename implements vfs.DirInode.Rename.
func (i *inode) Rename(ctx vfs.Context, oldName string, child vfs.Inode, newParent vfs.DirInode, newName string, replaced vfs.Inode) error {
	c, ok := child.(*inode)
	np, ok2 := newParent.(*inode)
	if !ok || !ok2 || np.fs != i.fs {
		return errno.EXDEV
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	ct, err := fileType(ctx, c.top())
	if err != nil {
		return err
	}
	var rUpper vfs.Inode
	if replaced != nil {
		r, ok := replaced.(*inode)
		if !ok {
			return errno.ENOENT
		}
		if rt, err := fileType(ctx, r.top()); err != nil {
			return err
		} else if rt == linux.S_IFDIR {
			if ents, err := r.readdirLocked(ctx); err != nil {
				return err
			} else if len(ents) != 0 {
				return errno.ENOTEMPTY
			}
		}
		rUpper = r.upper
	}
	if ct == linux.S_IFDIR && c.lower != nil && !c.opaque {
		if err := c.copyUpTreeLocked(ctx); err != nil {
			return err
		}
	}
	if err := c.copyUpLocked(ctx); err != nil {
		return err
	}
	if err := np.copyUpLocked(ctx); err != nil {
		return err
	}
	if err := i.upper.(vfs.DirInode).Rename(ctx, oldName, c.upper, np.upper.(vfs.DirInode), newName, rUpper); err != nil {
		return err
	}
	i.removeChildLocked(ctx, oldName)
	np.addChildLocked(newName, c)
	c.parent, c.name = np, newName
	if ct == linux.S_IFDIR && np.lowerHasLocked(ctx, newName) {
		c.opaque = true
	}
	return nil
}

// Tmpfile implements vfs.TmpfileInode: the file lives in the upper layer.
func (i *inode) Tmpfile(ctx vfs.Context, mode linux.FileMode) (vfs.Inode, error) {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if err := i.copyUpLocked(ctx); err != nil {
		return nil, err
	}
	ti, ok := i.upper.(vfs.TmpfileInode)
	if !ok {
		return nil, errno.EOPNOTSUPP
	}
	up, err := ti.Tmpfile(ctx, mode)
	if err != nil {
		return nil, err
	}
	// parent stays set for copy-up's sake (an upper file needs none);
	// Link names it.
	return &inode{fs: i.fs, parent: i, upper: up, ino: i.fs.newInoLocked()}, nil
}

// Exchange implements vfs.ExchangeInode: both files are copied up (a
// directory with lower entries with its whole subtree, as Rename does)
// and exchanged in the upper layer. Both names stay occupied, so no
// whiteouts change.
func (i *inode) Exchange(ctx vfs.Context, oldName string, child vfs.Inode, newParent vfs.DirInode, newName string, other vfs.Inode) error {
	a, ok := child.(*inode)
	b, ok2 := other.(*inode)
	np, ok3 := newParent.(*inode)
	if !ok || !ok2 || !ok3 || np.fs != i.fs {
		return errno.EXDEV
	}
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	types := make([]linux.FileMode, 2)
	for k, c := range []*inode{a, b} {
		t, err := fileType(ctx, c.top())
		if err != nil {
			return err
		}
		types[k] = t
		if t == linux.S_IFDIR && c.lower != nil && !c.opaque {
			if err := c.copyUpTreeLocked(ctx); err != nil {
				return err
			}
		}
		if err := c.copyUpLocked(ctx); err != nil {
			return err
		}
	}
	if err := np.copyUpLocked(ctx); err != nil {
		return err
	}
	ex, ok := i.upper.(vfs.ExchangeInode)
	if !ok {
		return errno.EINVAL
	}
	if err := ex.Exchange(ctx, oldName, a.upper, np.upper.(vfs.DirInode), newName, b.upper); err != nil {
		return err
	}
	i.addChildLocked(oldName, b)
	np.addChildLocked(newName, a)
	a.parent, a.name, b.parent, b.name = np, newName, i, oldName
	if types[0] == linux.S_IFDIR && np.lowerHasLocked(ctx, newName) {
		a.opaque = true
	}
	if types[1] == linux.S_IFDIR && i.lowerHasLocked(ctx, oldName) {
		b.opaque = true
	}
	return nil
}
