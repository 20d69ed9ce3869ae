package tmpfs

import (
	"maps"
	"slices"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

var _ vfs.XattrInode = (*Inode)(nil)

// GetXattr implements vfs.XattrInode.GetXattr.
func (i *Inode) GetXattr(_ vfs.Context, name string) ([]byte, error) {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	v, ok := i.xattrs[name]
	if !ok {
		return nil, errno.ENODATA
	}
	return slices.Clone(v), nil
}

// SetXattr implements vfs.XattrInode.SetXattr. Values count against the
// filesystem's size limit.
func (i *Inode) SetXattr(_ vfs.Context, name string, value []byte, flags uint32) error {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	old, ok := i.xattrs[name]
	switch {
	case ok && flags&vfs.XATTR_CREATE != 0:
		return errno.EEXIST
	case !ok && flags&vfs.XATTR_REPLACE != 0:
		return errno.ENODATA
	}
	grow := uint64(len(name) + len(value))
	if ok {
		grow -= uint64(len(name) + len(old))
	}
	if max := i.fs.opts.MaxBytes; max != 0 && int64(grow) > 0 && i.fs.used+grow > max {
		return errno.ENOSPC
	}
	i.fs.used += grow
	if i.xattrs == nil {
		i.xattrs = map[string][]byte{}
	}
	i.xattrs[name] = slices.Clone(value)
	i.ctime = vfs.NowStatxTimestamp()
	return nil
}

// ListXattr implements vfs.XattrInode.ListXattr.
func (i *Inode) ListXattr(vfs.Context) ([]string, error) {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	return slices.Sorted(maps.Keys(i.xattrs)), nil
}

// RemoveXattr implements vfs.XattrInode.RemoveXattr.
func (i *Inode) RemoveXattr(_ vfs.Context, name string) error {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	v, ok := i.xattrs[name]
	if !ok {
		return errno.ENODATA
	}
	i.fs.used -= uint64(len(name) + len(v))
	delete(i.xattrs, name)
	i.ctime = vfs.NowStatxTimestamp()
	return nil
}
