package overlay

import (
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// Extended attributes live in the upper layer: setting one copies the
// file up. Lower (host) files show none.

var _ vfs.XattrInode = (*inode)(nil)

func (i *inode) upperXattr() vfs.XattrInode {
	if i.upper == nil {
		return nil
	}
	xi, _ := i.upper.(vfs.XattrInode)
	return xi
}

// GetXattr implements vfs.XattrInode.GetXattr.
func (i *inode) GetXattr(ctx vfs.Context, name string) ([]byte, error) {
	i.fs.mu.Lock()
	xi := i.upperXattr()
	i.fs.mu.Unlock()
	if xi == nil {
		return nil, errno.ENODATA
	}
	return xi.GetXattr(ctx, name)
}

// SetXattr implements vfs.XattrInode.SetXattr.
func (i *inode) SetXattr(ctx vfs.Context, name string, value []byte, flags uint32) error {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if err := i.copyUpLocked(ctx); err != nil {
		return err
	}
	xi := i.upperXattr()
	if xi == nil {
		return errno.EOPNOTSUPP
	}
	return xi.SetXattr(ctx, name, value, flags)
}

// ListXattr implements vfs.XattrInode.ListXattr.
func (i *inode) ListXattr(ctx vfs.Context) ([]string, error) {
	i.fs.mu.Lock()
	xi := i.upperXattr()
	i.fs.mu.Unlock()
	if xi == nil {
		return nil, nil
	}
	return xi.ListXattr(ctx)
}

// RemoveXattr implements vfs.XattrInode.RemoveXattr.
func (i *inode) RemoveXattr(ctx vfs.Context, name string) error {
	i.fs.mu.Lock()
	xi := i.upperXattr()
	i.fs.mu.Unlock()
	if xi == nil {
		return errno.ENODATA
	}
	return xi.RemoveXattr(ctx, name)
}
