package vfs

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
)

// FilesystemImpl is implemented by each filesystem instance.
type FilesystemImpl interface {
	// Name is the filesystem type shown in /proc/mounts ("tmpfs").
	Name() string
	// StatFS returns statfs(2) data for the filesystem.
	StatFS(ctx Context) (linux.Statfs, error)
}

// Filesystem is one filesystem instance, possibly mounted several times.
type Filesystem struct {
	impl FilesystemImpl
	// devMinor is the anonymous device number (major 0) reported as st_dev
	// for every file of this filesystem. Immutable.
	devMinor uint32
}

// Impl returns the filesystem's implementation.
func (fs *Filesystem) Impl() FilesystemImpl { return fs.impl }

// Dev returns the filesystem's device major and minor numbers.
func (fs *Filesystem) Dev() (major, minor uint32) { return 0, fs.devMinor }

// MountOptions are the options of one mount.
type MountOptions struct {
	// ReadOnly makes every modification through the mount fail with EROFS.
	ReadOnly bool
}

// Mount is a filesystem attached to the tree.
type Mount struct {
	vfs  *VirtualFilesystem
	fs   *Filesystem
	root *Dentry
	id   uint64
	opts MountOptions

	// parent and point say where the mount is attached; nil for the root
	// mount and for mounts not yet attached. Protected by vfs.treeMu.
	parent *Mount
	point  *Dentry
}

// NewFilesystem wraps impl, giving it its own device number.
func (vfs *VirtualFilesystem) NewFilesystem(impl FilesystemImpl) *Filesystem {
	// Minor numbers start above those a host would hand out first, so they
	// are recognisably ours; the guest only needs them distinct.
	return &Filesystem{impl: impl, devMinor: 40 + vfs.nextDevMinor.Add(1)}
}

// NewMount returns a detached mount of fs whose root directory is root.
func (vfs *VirtualFilesystem) NewMount(fs *Filesystem, root Inode, opts MountOptions) *Mount {
	return &Mount{
		vfs:  vfs,
		fs:   fs,
		root: newDentry(nil, "", root),
		id:   vfs.nextMountID.Add(1),
		opts: opts,
	}
}

// VFS returns the tree the mount belongs to.
func (mnt *Mount) VFS() *VirtualFilesystem { return mnt.vfs }

// Filesystem returns the mounted filesystem.
func (mnt *Mount) Filesystem() *Filesystem { return mnt.fs }

// Root returns the mount's root as a VirtualDentry.
func (mnt *Mount) Root() VirtualDentry { return VirtualDentry{mnt, mnt.root} }

// ReadOnly reports whether the mount refuses modifications.
func (mnt *Mount) ReadOnly() bool { return mnt.opts.ReadOnly }

// ID returns the mount's id.
func (mnt *Mount) ID() uint64 { return mnt.id }

// SetRoot makes mnt the root of the tree.
func (vfs *VirtualFilesystem) SetRoot(mnt *Mount) {
	vfs.treeMu.Lock()
	defer vfs.treeMu.Unlock()
	vfs.root = mnt
}

// Root returns the root of the tree.
func (vfs *VirtualFilesystem) Root() VirtualDentry {
	vfs.treeMu.RLock()
	defer vfs.treeMu.RUnlock()
	return vfs.root.Root()
}

// MountAt attaches mnt on the directory target. Mounting on a directory
// that already has a mount stacks the new one on top, as Linux does.
func (vfs *VirtualFilesystem) MountAt(target VirtualDentry, mnt *Mount) error {
	vfs.treeMu.Lock()
	defer vfs.treeMu.Unlock()
	if mnt.parent != nil || mnt == vfs.root {
		return errno.EBUSY
	}
	target = vfs.followMountsLocked(target)
	st, err := target.Dentry.inode.Stat(RootContext())
	if err != nil {
		return err
	}
	if !st.FileMode().IsDir() {
		return errno.ENOTDIR
	}
	mnt.parent, mnt.point = target.Mount, target.Dentry
	vfs.mounts[mountPoint{target.Mount, target.Dentry}] = mnt
	target.Dentry.mu.Lock()
	target.Dentry.mounts++
	target.Dentry.mu.Unlock()
	return nil
}

// followMountsLocked returns the root of the topmost mount on vd, or vd.
//
// Preconditions: vfs.treeMu is held.
func (vfs *VirtualFilesystem) followMountsLocked(vd VirtualDentry) VirtualDentry {
	for vd.Dentry.isMountPoint() {
		child, ok := vfs.mounts[mountPoint{vd.Mount, vd.Dentry}]
		if !ok {
			break
		}
		vd = child.Root()
	}
	return vd
}

// isMountPointLocked reports whether something is mounted on vd.
//
// Preconditions: vfs.treeMu is held.
func (vfs *VirtualFilesystem) isMountPointLocked(vd VirtualDentry) bool {
	if !vd.Dentry.isMountPoint() {
		return false
	}
	_, ok := vfs.mounts[mountPoint{vd.Mount, vd.Dentry}]
	return ok
}
