package vfs

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

// Inode is one file of a filesystem. The VFS has already resolved the path
// and checked permissions when it calls these methods; implementations only
// do what they are told (they are trusted, the caller is not).
type Inode interface {
	// Stat returns the file's attributes. The VFS overwrites the device
	// numbers with the filesystem's.
	Stat(ctx Context) (linux.Statx, error)
	// SetStat changes the attributes named by opts.Stat.Mask (STATX_MODE,
	// STATX_UID, STATX_GID, STATX_SIZE, STATX_ATIME, STATX_MTIME). Only the
	// permission bits of Mode are used.
	SetStat(ctx Context, opts *SetStatOptions) error
	// Open returns an implementation for a new file description. It is
	// never called for directories (the VFS handles those) or symlinks.
	// flags are the open(2) flags; O_TRUNC has already been applied.
	Open(ctx Context, flags uint32) (FileDescriptionImpl, error)
}

// SetStatOptions says which attributes SetStat changes.
type SetStatOptions struct {
	// Stat carries the new values; Stat.Mask says which are set.
	Stat linux.Statx
	// TimesNow says Atime and Mtime are both the current time
	// (utimensat(2) with times NULL or UTIME_NOW), which any writer may
	// set.
	TimesNow bool
}

// SymlinkInode is a symbolic link.
type SymlinkInode interface {
	Inode
	// Readlink returns the link's target, uninterpreted. It may be
	// called during path resolution, with the VFS's tree lock held, so it
	// must not call back into VirtualFilesystem path operations (a
	// MagicLinkInode that needs to should resolve via MagicLink).
	Readlink(ctx Context) (string, error)
}

// MagicLinkInode is a symlink that, when followed, leads directly to a
// file rather than through its text (/proc/[pid]/fd/N, /proc/[pid]/exe).
type MagicLinkInode interface {
	SymlinkInode
	// MagicLink returns the place the link stands for; ok is false when
	// it names no place in the tree (a pipe), and then following the link
	// falls back to its text.
	MagicLink(ctx Context) (vd VirtualDentry, ok bool)
}

// Dirent is one directory entry.
type Dirent struct {
	Name string
	Ino  uint64
	// Type is a DT_* value.
	Type uint8
}

// DirInode is a directory. Names passed in are single components other
// than "." and "..", at most NAME_MAX bytes.
type DirInode interface {
	Inode
	// Lookup returns the child called name, or ENOENT.
	Lookup(ctx Context, name string) (Inode, error)
	// Readdir returns the entries other than "." and "..".
	Readdir(ctx Context) ([]Dirent, error)
	// Create makes a regular file. name does not exist.
	Create(ctx Context, name string, mode linux.FileMode) (Inode, error)
	// Mkdir makes a directory. name does not exist.
	Mkdir(ctx Context, name string, mode linux.FileMode) (Inode, error)
	// Symlink makes a symbolic link. name does not exist.
	Symlink(ctx Context, name, target string) (Inode, error)
	// Link makes name a new hard link to target, an inode of the same
	// filesystem that is not a directory. name does not exist. It returns
	// the inode the new name refers to: target itself where inodes are
	// files, a new one where they are names (hostfs).
	Link(ctx Context, name string, target Inode) (Inode, error)
	// Unlink removes the non-directory child called name.
	Unlink(ctx Context, name string, child Inode) error
	// Rmdir removes the directory child called name, or fails with
	// ENOTEMPTY.
	Rmdir(ctx Context, name string, child Inode) error
	// Rename moves child from oldName in this directory to newName in
	// newParent, a directory of the same filesystem, replacing replaced
	// (nil if newName does not exist). The VFS has checked the types of
	// child and replaced; the filesystem checks that a replaced directory
	// is empty (ENOTEMPTY).
	Rename(ctx Context, oldName string, child Inode, newParent DirInode, newName string, replaced Inode) error
}

// Owner returns the uid and gid that ctx's new files get.
func Owner(ctx Context) (auth.KUID, auth.KGID) {
	c := ctx.Credentials()
	return c.FSKUID, c.FSKGID
}
