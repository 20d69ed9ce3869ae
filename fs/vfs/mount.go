package vfs

import (
	"cmp"
	"slices"
	"strings"
	"sync/atomic"

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
	// NoExec refuses to execute or map executable any file on the mount
	// (MS_NOEXEC); NoDev refuses to open its device files (MS_NODEV);
	// NoSuid makes exec ignore set-user/group-ID bits (MS_NOSUID).
	NoExec, NoDev, NoSuid bool
	// Source is the mount's source as /proc/mounts shows it ("tmpfs",
	// "proc", or a path for bind mounts); the filesystem name if empty.
	Source string
	// Data is extra filesystem options shown in /proc/mounts after
	// rw/ro ("size=1024k,mode=1777").
	Data string
}

// Mount is a filesystem attached to the tree.
type Mount struct {
	vfs  *VirtualFilesystem
	fs   *Filesystem
	root *Dentry
	id   uint64
	opts MountOptions
	// rootPath is the path of root within the filesystem: "/" except for
	// bind mounts of a subdirectory. Immutable.
	rootPath string
	// readOnly, noExec, noDev and noSuid are opts' flags, changed by
	// remount.
	readOnly, noExec, noDev, noSuid atomic.Bool

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
	mnt := &Mount{
		vfs:      vfs,
		fs:       fs,
		root:     newDentry(nil, "", root),
		id:       vfs.nextMountID.Add(1),
		opts:     opts,
		rootPath: "/",
	}
	mnt.setFlags(opts)
	return mnt
}

// VFS returns the tree the mount belongs to.
func (mnt *Mount) VFS() *VirtualFilesystem { return mnt.vfs }

// Filesystem returns the mounted filesystem.
func (mnt *Mount) Filesystem() *Filesystem { return mnt.fs }

// Root returns the mount's root as a VirtualDentry.
func (mnt *Mount) Root() VirtualDentry { return VirtualDentry{mnt, mnt.root} }

// ReadOnly reports whether the mount refuses modifications.
func (mnt *Mount) ReadOnly() bool { return mnt.readOnly.Load() }

// NoExec reports whether the mount's files may not be executed.
func (mnt *Mount) NoExec() bool { return mnt.noExec.Load() }

// NoDev reports whether the mount's device files may not be opened.
func (mnt *Mount) NoDev() bool { return mnt.noDev.Load() }

// NoSuid reports whether exec ignores set-ID bits of the mount's files.
func (mnt *Mount) NoSuid() bool { return mnt.noSuid.Load() }

func (mnt *Mount) setFlags(opts MountOptions) {
	mnt.readOnly.Store(opts.ReadOnly)
	mnt.noExec.Store(opts.NoExec)
	mnt.noDev.Store(opts.NoDev)
	mnt.noSuid.Store(opts.NoSuid)
}

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

// NewBindMount returns a detached mount that shows the tree under src, as
// mount --bind does: same filesystem and dentries, its own options.
func (vfs *VirtualFilesystem) NewBindMount(src VirtualDentry, opts MountOptions) *Mount {
	vfs.treeMu.RLock()
	rel, _ := vfs.pathFromLocked(src.Mount.Root(), src)
	vfs.treeMu.RUnlock()
	rootPath := src.Mount.rootPath
	if rel != "/" {
		rootPath = strings.TrimSuffix(rootPath, "/") + rel
	}
	mnt := &Mount{
		vfs:      vfs,
		fs:       src.Mount.fs,
		root:     src.Dentry,
		id:       vfs.nextMountID.Add(1),
		opts:     opts,
		rootPath: rootPath,
	}
	mnt.setFlags(opts)
	return mnt
}

// Umount detaches the mount whose root vd is, as umount2(2) does: EINVAL
// if vd is not a mount's root or is the tree's root, EBUSY if other mounts
// sit below it unless detach (MNT_DETACH), which takes them along. Files
// open under the mount keep working: dentries are not reference counted.
func (vfs *VirtualFilesystem) Umount(vd VirtualDentry, detach bool) error {
	vfs.treeMu.Lock()
	defer vfs.treeMu.Unlock()
	mnt := vd.Mount
	if vd.Dentry != mnt.root || mnt.parent == nil || mnt == vfs.root {
		return errno.EINVAL
	}
	var children []*Mount
	for mp, m := range vfs.mounts {
		if mp.mnt == mnt {
			children = append(children, m)
		}
	}
	if len(children) != 0 && !detach {
		return errno.EBUSY
	}
	for _, c := range children {
		vfs.detachLocked(c, true)
	}
	vfs.detachLocked(mnt, false)
	return nil
}

// detachLocked removes mnt (and, if recursive, every mount below it).
//
// Preconditions: treeMu is held for writing.
func (vfs *VirtualFilesystem) detachLocked(mnt *Mount, recursive bool) {
	if recursive {
		for mp, m := range vfs.mounts {
			if mp.mnt == mnt {
				vfs.detachLocked(m, true)
			}
		}
	}
	mp := mountPoint{mnt.parent, mnt.point}
	if vfs.mounts[mp] == mnt {
		delete(vfs.mounts, mp)
		// A mount stacked on mnt now sits on mnt's mount point.
		for p, m := range vfs.mounts {
			if p.mnt == mnt && p.d == mnt.root {
				delete(vfs.mounts, p)
				m.parent, m.point = mnt.parent, mnt.point
				vfs.mounts[mp] = m
				mnt.root.mu.Lock()
				mnt.root.mounts--
				mnt.root.mu.Unlock()
				mnt.point.mu.Lock()
				mnt.point.mounts++
				mnt.point.mu.Unlock()
			}
		}
	}
	mnt.point.mu.Lock()
	mnt.point.mounts--
	mnt.point.mu.Unlock()
	mnt.parent, mnt.point = nil, nil
}

// Remount changes the flags of the mount whose root vd is (mount(2) with
// MS_REMOUNT): ReadOnly, NoExec, NoDev and NoSuid are taken from opts,
// the rest stays.
func (vfs *VirtualFilesystem) Remount(vd VirtualDentry, opts MountOptions) error {
	vfs.treeMu.Lock()
	defer vfs.treeMu.Unlock()
	if vd.Dentry != vd.Mount.root {
		return errno.EINVAL
	}
	vd.Mount.setFlags(opts)
	return nil
}

// MountInfo describes one mount as /proc/[pid]/mountinfo shows it.
type MountInfo struct {
	ID, ParentID       uint64
	DevMajor, DevMinor uint32
	// Root is the mount's root within its filesystem; MountPoint is where
	// it is attached, relative to the caller's root.
	Root, MountPoint      string
	ReadOnly              bool
	NoSuid, NoDev, NoExec bool
	FSType, Source        string
	Data                  string
}

// Mounts lists the mounts visible from root (those at or below it), in
// mount order, as /proc/mounts does.
func (vfs *VirtualFilesystem) Mounts(root VirtualDentry) []MountInfo {
	vfs.treeMu.RLock()
	defer vfs.treeMu.RUnlock()
	all := []*Mount{vfs.root}
	for _, m := range vfs.mounts {
		all = append(all, m)
	}
	slices.SortFunc(all, func(a, b *Mount) int { return cmp.Compare(a.id, b.id) })
	var out []MountInfo
	for _, m := range all {
		var point string
		if m.parent == nil {
			if m != vfs.root {
				continue
			}
			var ok bool
			if point, ok = vfs.pathFromLocked(root, m.Root()); !ok {
				continue
			}
		} else {
			var ok bool
			if point, ok = vfs.pathFromLocked(root, VirtualDentry{m.parent, m.point}); !ok {
				continue
			}
		}
		parentID := m.id
		if m.parent != nil {
			parentID = m.parent.id
		}
		src := m.opts.Source
		if src == "" {
			src = m.fs.impl.Name()
		}
		major, minor := m.fs.Dev()
		out = append(out, MountInfo{
			ID: m.id, ParentID: parentID, DevMajor: major, DevMinor: minor,
			Root: m.rootPath, MountPoint: point, ReadOnly: m.ReadOnly(),
			NoSuid: m.NoSuid(), NoDev: m.NoDev(), NoExec: m.NoExec(),
			FSType: m.fs.impl.Name(), Source: src, Data: m.opts.Data,
		})
	}
	return out
}
