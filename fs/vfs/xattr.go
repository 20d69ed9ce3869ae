package vfs

import (
	"strings"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

// XattrInode is implemented by inodes that store extended attributes
// (tmpfs, the overlay). Names arrive checked and with their namespace
// prefix. Other filesystems fail every xattr call with EOPNOTSUPP.
type XattrInode interface {
	// GetXattr returns name's value, or ENODATA.
	GetXattr(ctx Context, name string) ([]byte, error)
	// SetXattr sets name; flags are XATTR_CREATE (EEXIST if set) or
	// XATTR_REPLACE (ENODATA if not).
	SetXattr(ctx Context, name string, value []byte, flags uint32) error
	// ListXattr returns the names set.
	ListXattr(ctx Context) ([]string, error)
	// RemoveXattr removes name, or fails with ENODATA.
	RemoveXattr(ctx Context, name string) error
}

// Xattr flags and limits, from <linux/xattr.h> and <linux/limits.h>.
const (
	XATTR_CREATE    = 1
	XATTR_REPLACE   = 2
	XATTR_NAME_MAX  = 255
	XATTR_SIZE_MAX  = 65536
	XATTR_LIST_MAX  = 65536
	xattrUserPrefix = "user."
)

// checkXattr checks that ctx may access name on vd (fs/xattr.c:
// xattr_permission). write says the attribute changes.
func checkXattr(ctx Context, vd VirtualDentry, name string, write bool) (XattrInode, error) {
	if name == "" || len(name) > XATTR_NAME_MAX {
		return nil, errno.ERANGE
	}
	xi, ok := vd.Dentry.inode.(XattrInode)
	if !ok {
		return nil, errno.EOPNOTSUPP
	}
	st, err := vd.Mount.stat(ctx, vd.Dentry)
	if err != nil {
		return nil, err
	}
	creds := ctx.Credentials()
	switch {
	case strings.HasPrefix(name, "trusted."):
		if !creds.HasCapability(auth.CAP_SYS_ADMIN) {
			if write {
				return nil, errno.EPERM
			}
			return nil, errno.ENODATA
		}
	case strings.HasPrefix(name, "security."):
	case strings.HasPrefix(name, xattrUserPrefix):
		// "user extended attributes may be assigned to files and
		// directories" only - xattr(7).
		if t := st.FileMode().FileType(); t != linux.S_IFREG && t != linux.S_IFDIR {
			if write {
				return nil, errno.EPERM
			}
			return nil, errno.ENODATA
		}
	default:
		return nil, errno.EOPNOTSUPP
	}
	ats := MayRead
	if write {
		ats = MayWrite
		if vd.Mount.ReadOnly() {
			return nil, errno.EROFS
		}
	}
	if err := checkStatPermissions(creds, ats, &st); err != nil {
		return nil, err
	}
	return xi, nil
}

// GetXattr implements getxattr(2) on vd.
func (vfs *VirtualFilesystem) GetXattr(ctx Context, vd VirtualDentry, name string) ([]byte, error) {
	xi, err := checkXattr(ctx, vd, name, false)
	if err != nil {
		return nil, err
	}
	return xi.GetXattr(ctx, name)
}

// SetXattr implements setxattr(2) on vd.
func (vfs *VirtualFilesystem) SetXattr(ctx Context, vd VirtualDentry, name string, value []byte, flags uint32) error {
	if flags&^(XATTR_CREATE|XATTR_REPLACE) != 0 || flags == XATTR_CREATE|XATTR_REPLACE {
		return errno.EINVAL
	}
	if len(value) > XATTR_SIZE_MAX {
		return errno.E2BIG
	}
	xi, err := checkXattr(ctx, vd, name, true)
	if err != nil {
		return err
	}
	return xi.SetXattr(ctx, name, value, flags)
}

// RemoveXattr implements removexattr(2) on vd.
func (vfs *VirtualFilesystem) RemoveXattr(ctx Context, vd VirtualDentry, name string) error {
	xi, err := checkXattr(ctx, vd, name, true)
	if err != nil {
		return err
	}
	return xi.RemoveXattr(ctx, name)
}

// ListXattr implements listxattr(2) on vd: the names ctx may see.
func (vfs *VirtualFilesystem) ListXattr(ctx Context, vd VirtualDentry) ([]string, error) {
	xi, ok := vd.Dentry.inode.(XattrInode)
	if !ok {
		return nil, nil
	}
	names, err := xi.ListXattr(ctx)
	if err != nil {
		return nil, err
	}
	out := names[:0]
	for _, n := range names {
		if strings.HasPrefix(n, "trusted.") && !ctx.Credentials().HasCapability(auth.CAP_SYS_ADMIN) {
			continue
		}
		out = append(out, n)
	}
	return out, nil
}
