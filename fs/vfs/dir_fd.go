package vfs

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
)

// dirFD is the implementation of every directory file description. It
// snapshots the directory's entries on the first getdents (and after a
// rewind), so that the offset is a stable index even if the directory
// changes in between, much as a Linux directory stream may or may not show
// concurrent changes.
type dirFD struct {
	FileDescriptionDefaultImpl
	vd VirtualDentry

	// dirents is the snapshot, nil before the first read. Protected by the
	// owning FileDescription's offMu.
	dirents []Dirent
}

// Read implements FileDescriptionImpl.Read: "EISDIR fd refers to a
// directory" - read(2).
func (d *dirFD) Read(Context, []byte, int64) (int, error) { return 0, errno.EISDIR }

// Write implements FileDescriptionImpl.Write. Directories are never opened
// for writing, so the VFS stops this before.
func (d *dirFD) Write(Context, []byte, int64) (int, error) { return 0, errno.EBADF }

func (d *dirFD) rewind() { d.dirents = nil }

// iterate implements FileDescription.IterDirents.
//
// Preconditions: the FileDescription's offMu is held.
func (d *dirFD) iterate(ctx Context, off *int64, cb func(d Dirent, nextOff int64) bool) error {
	if d.dirents == nil || *off == 0 {
		if err := d.snapshot(ctx); err != nil {
			return err
		}
	}
	for *off >= 0 && *off < int64(len(d.dirents)) {
		if !cb(d.dirents[*off], *off+1) {
			return nil
		}
		*off++
	}
	return nil
}

func (d *dirFD) snapshot(ctx Context) error {
	dir, ok := d.vd.Dentry.inode.(DirInode)
	if !ok {
		return errno.ENOTDIR
	}
	st, err := d.vd.Dentry.inode.Stat(ctx)
	if err != nil {
		return err
	}
	if d.vd.Dentry.deleted {
		// A removed directory is empty, without even "." and ".."
		// (fs/libfs.c:dcache_readdir stops at IS_DEADDIR).
		d.dirents = []Dirent{}
		return nil
	}
	parentIno := st.Ino
	vfs := d.vd.Mount.vfs
	vfs.treeMu.RLock()
	r := &resolver{vfs: vfs, ctx: ctx, root: vfs.root.Root()}
	parent := r.parent(d.vd)
	vfs.treeMu.RUnlock()
	if pst, err := parent.Dentry.inode.Stat(ctx); err == nil {
		parentIno = pst.Ino
	}
	ents, err := dir.Readdir(ctx)
	if err != nil {
		return err
	}
	all := make([]Dirent, 0, len(ents)+2)
	all = append(all, Dirent{Name: ".", Ino: st.Ino, Type: linux.DT_DIR}, Dirent{Name: "..", Ino: parentIno, Type: linux.DT_DIR})
	all = append(all, ents...)
	d.dirents = all
	return nil
}

// pathFD is the implementation of O_PATH file descriptions: they name a
// file but allow no I/O.
type pathFD struct {
	FileDescriptionDefaultImpl
}

func (pathFD) Read(Context, []byte, int64) (int, error)  { return 0, errno.EBADF }
func (pathFD) Write(Context, []byte, int64) (int, error) { return 0, errno.EBADF }
