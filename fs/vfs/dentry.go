package vfs

import (
	"sync"
	"sync/atomic"
)

// Dentry is a name in the tree bound to an inode. Dentries are cached in
// their parent for the filesystem's lifetime (except under dynamic
// directories such as /proc), which gives mount points and open files a
// stable identity. Dentries are never freed while the tree lives; eviction
// of unused dentries is future work (see README.md).
type Dentry struct {
	// inode is the file this name refers to. Immutable.
	inode Inode

	// dynamic directories (DynamicDir) do not cache their children.
	// Immutable.
	dynamic bool

	// ftype caches the inode's S_IFMT bits once known (zero before).
	ftype atomic.Uint32

	// parent, name and deleted change only with VirtualFilesystem.treeMu
	// held for writing; reading them needs treeMu held at least for
	// reading.
	parent  *Dentry
	name    string
	deleted bool
	// linkable marks an unnamed O_TMPFILE file that linkat(2) may give a
	// name although it is deleted (Linux's I_LINKABLE). Immutable.
	linkable bool

	// mu protects the fields below.
	mu sync.Mutex
	// children caches looked-up children by name.
	children map[string]*Dentry
	// mounts counts mounts on this dentry (in any Mount).
	mounts int
}

// DynamicDir is implemented by directories whose entries depend on the
// caller or change behind the VFS's back (procfs), so that lookups under
// them are never cached.
type DynamicDir interface {
	DynamicDir()
}

func newDentry(parent *Dentry, name string, inode Inode) *Dentry {
	_, dynamic := inode.(DynamicDir)
	return &Dentry{inode: inode, parent: parent, name: name, dynamic: dynamic}
}

// Inode returns d's inode.
func (d *Dentry) Inode() Inode { return d.inode }

func (d *Dentry) isMountPoint() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mounts > 0
}

// cachedChild returns d's cached child name, or nil.
func (d *Dentry) cachedChild(name string) *Dentry {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.children[name]
}

// child returns d's child called name, looking it up in the filesystem if
// it is not cached.
//
// Preconditions: treeMu is held; d is a directory.
func (d *Dentry) child(ctx Context, dir DirInode, name string) (*Dentry, error) {
	if c := d.cachedChild(name); c != nil {
		return c, nil
	}
	inode, err := dir.Lookup(ctx, name)
	if err != nil {
		return nil, err
	}
	if d.dynamic {
		return newDentry(d, name, inode), nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	// Two readers may race to look up the same name; keep the first.
	if c := d.children[name]; c != nil {
		return c, nil
	}
	c := newDentry(d, name, inode)
	if d.children == nil {
		d.children = map[string]*Dentry{}
	}
	d.children[name] = c
	return c, nil
}

// insertChildLocked caches a newly created child.
//
// Preconditions: treeMu is held for writing.
func (d *Dentry) insertChildLocked(name string, inode Inode) *Dentry {
	c := newDentry(d, name, inode)
	if d.dynamic {
		return c
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.children == nil {
		d.children = map[string]*Dentry{}
	}
	d.children[name] = c
	return c
}

// removeChildLocked forgets child c (called name) and marks it deleted.
//
// Preconditions: treeMu is held for writing.
func (d *Dentry) removeChildLocked(name string, c *Dentry) {
	d.mu.Lock()
	if d.children[name] == c {
		delete(d.children, name)
	}
	d.mu.Unlock()
	c.deleted = true
}

// forgetChildLocked drops any cached child called name without marking it
// deleted (used when a filesystem changed the entry in a way the cache
// cannot mirror).
func (d *Dentry) forgetChildLocked(name string) {
	d.mu.Lock()
	delete(d.children, name)
	d.mu.Unlock()
}
