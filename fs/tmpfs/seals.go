package tmpfs

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// allSeals are the seals F_ADD_SEALS accepts.
const allSeals = linux.F_SEAL_SEAL | linux.F_SEAL_SHRINK | linux.F_SEAL_GROW | linux.F_SEAL_WRITE |
	linux.F_SEAL_FUTURE_WRITE | linux.F_SEAL_EXEC

// AllowSealing clears F_SEAL_SEAL on a new regular file
// (memfd_create(MFD_ALLOW_SEALING)); every other tmpfs file starts with
// it, so that its seals cannot change, as in mm/shmem.c.
func (i *Inode) AllowSealing() {
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	i.seals &^= linux.F_SEAL_SEAL
}

// Seals implements F_GET_SEALS for an open tmpfs file.
func Seals(f *vfs.FileDescription) (uint32, error) {
	fd, ok := f.Impl().(*regularFD)
	if !ok {
		return 0, errno.EINVAL
	}
	fd.inode.fs.mu.Lock()
	defer fd.inode.fs.mu.Unlock()
	return fd.inode.seals, nil
}

// AddSeals implements F_ADD_SEALS: "EPERM ... F_SEAL_SEAL is set" and
// "EBUSY ... F_SEAL_WRITE ... and a writable, shared mapping exists" -
// fcntl(2).
func AddSeals(f *vfs.FileDescription, seals uint32) error {
	fd, ok := f.Impl().(*regularFD)
	if !ok {
		return errno.EINVAL
	}
	if seals&^allSeals != 0 {
		return errno.EINVAL
	}
	if !f.IsWritable() {
		return errno.EPERM
	}
	i := fd.inode
	i.fs.mu.Lock()
	defer i.fs.mu.Unlock()
	if i.seals&linux.F_SEAL_SEAL != 0 {
		return errno.EPERM
	}
	if seals&linux.F_SEAL_WRITE != 0 && len(i.mappings) != 0 {
		return errno.EBUSY
	}
	i.seals |= seals
	return nil
}

// checkSealsLocked enforces the seals on a write of n bytes at off or (n <
// 0) a change of size to off.
//
// Preconditions: fs.mu is held.
func (i *Inode) checkSealsLocked(off, n int64) error {
	s := i.seals
	if s == 0 || s == linux.F_SEAL_SEAL {
		return nil
	}
	size := int64(i.data.size)
	if n >= 0 {
		if s&(linux.F_SEAL_WRITE|linux.F_SEAL_FUTURE_WRITE) != 0 {
			return errno.EPERM
		}
		if s&linux.F_SEAL_GROW != 0 && off+n > size {
			return errno.EPERM
		}
		return nil
	}
	if s&linux.F_SEAL_SHRINK != 0 && off < size || s&linux.F_SEAL_GROW != 0 && off > size {
		return errno.EPERM
	}
	return nil
}
