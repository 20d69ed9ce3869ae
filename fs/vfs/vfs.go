// Package vfs is the sentry's virtual filesystem core: mounts, dentries,
// file descriptions, path resolution and permission checks.
//
// Filesystems (tmpfs, hostfs, overlay, proc, dev) implement Inode and
// DirInode: per-file operations on one directory or file. Everything that
// involves a path is done here, one component at a time, so that symlinks,
// "..", mount crossings and permission checks behave identically for every
// filesystem and can never escape the caller's root.
//
// Lock order:
//
//	VirtualFilesystem.treeMu (write for namespace changes, read for walks)
//	  Dentry.mu (a dentry's child cache; never two at once)
//	    filesystem-internal locks (tmpfs.Filesystem.mu, overlay inode mu, ...)
//	    watchRegistry.mu (inotify watches)
//	      Inotify.mu
//	FileDescription.offMu
//	  filesystem-internal locks
//
// treeMu is deliberately coarse: resolution holds it for reading, and every
// operation that changes the namespace (create, unlink, rename, mount) holds
// it for writing, so a walk never sees a half-done rename. Filesystem
// methods called under treeMu must not block on guest activity.
package vfs

import (
	"sync"
	"sync/atomic"

	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

// Context is what the VFS needs from its caller, normally a *kernel.Task.
// Filesystems may require more by type-asserting it (procfs asserts
// proc.Context to find the calling process).
type Context interface {
	// Credentials returns the caller's credentials for permission checks
	// and the owner of new files.
	Credentials() *auth.Credentials
}

// UserMemory gives ioctl implementations access to the caller's memory.
// *kernel.Task implements it.
type UserMemory interface {
	CopyInBytes(addr hostarch.Addr, dst []byte) (int, error)
	CopyOutBytes(addr hostarch.Addr, src []byte) (int, error)
}

// rootContext is a Context with full root credentials. It is used where the
// sentry itself, not a guest task, acts (ReadAt for mmap and the loader, and
// building the initial tree).
type rootContext struct{ creds *auth.Credentials }

func (c rootContext) Credentials() *auth.Credentials { return c.creds }

// RootContext returns a Context with uid 0 and every capability. Use it only
// for actions of the sentry itself, never on behalf of a guest request.
func RootContext() Context { return rootContext{auth.NewCredentials(0, 0)} }

// VirtualFilesystem is one sandbox's mount tree.
type VirtualFilesystem struct {
	// treeMu serializes namespace changes against path walks; see the
	// package comment.
	treeMu sync.RWMutex

	// mounts maps a mount point to the mount on it. Protected by treeMu.
	mounts map[mountPoint]*Mount
	// root is the root mount. Protected by treeMu.
	root *Mount

	nextMountID  atomic.Uint64
	nextDevMinor atomic.Uint32

	// watches are the inotify watches on the tree's inodes (inotify.go).
	watches watchRegistry

	// devices maps a character device number to its driver, for device
	// nodes on any filesystem (mknod in a tmpfs, say).
	devicesMu sync.RWMutex
	devices   map[[2]uint32]Device
}

// Device is a character device driver.
type Device interface {
	// Open returns the implementation of a new file description.
	Open(ctx Context, flags uint32) (FileDescriptionImpl, error)
}

// RegisterCharDevice makes character device nodes numbered major:minor,
// on every filesystem, open dev, as Linux's chrdev table does.
func (vfs *VirtualFilesystem) RegisterCharDevice(major, minor uint32, dev Device) {
	vfs.devicesMu.Lock()
	defer vfs.devicesMu.Unlock()
	if vfs.devices == nil {
		vfs.devices = map[[2]uint32]Device{}
	}
	vfs.devices[[2]uint32{major, minor}] = dev
}

// charDevice returns the driver of character device major:minor, or nil.
func (vfs *VirtualFilesystem) charDevice(major, minor uint32) Device {
	vfs.devicesMu.RLock()
	defer vfs.devicesMu.RUnlock()
	return vfs.devices[[2]uint32{major, minor}]
}

// mountPoint identifies a dentry within a particular mount.
type mountPoint struct {
	mnt *Mount
	d   *Dentry
}

// New returns an empty VirtualFilesystem; give it a root with SetRoot.
func New() *VirtualFilesystem {
	return &VirtualFilesystem{mounts: map[mountPoint]*Mount{}}
}

// VirtualDentry is a dentry seen through a mount: the pair that names a
// place in the tree. The zero value names nothing.
type VirtualDentry struct {
	Mount  *Mount
	Dentry *Dentry
}

// Ok reports whether vd names something.
func (vd VirtualDentry) Ok() bool { return vd.Mount != nil && vd.Dentry != nil }

// Inode returns the inode vd names.
func (vd VirtualDentry) Inode() Inode { return vd.Dentry.inode }
