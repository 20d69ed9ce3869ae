package vfs

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

// stat returns d's attributes with this mount's device numbers.
func (mnt *Mount) stat(ctx Context, d *Dentry) (linux.Statx, error) {
	st, err := d.inode.Stat(ctx)
	if err != nil {
		return st, err
	}
	st.DevMajor, st.DevMinor = mnt.fs.Dev()
	st.MntID = mnt.id
	return st, nil
}

// Stat returns the attributes of the file vd names.
func (vfs *VirtualFilesystem) Stat(ctx Context, vd VirtualDentry) (linux.Statx, error) {
	return vd.Mount.stat(ctx, vd.Dentry)
}

// GetDentryAt resolves pop.
func (vfs *VirtualFilesystem) GetDentryAt(ctx Context, pop *PathOperation) (VirtualDentry, error) {
	vfs.treeMu.RLock()
	defer vfs.treeMu.RUnlock()
	r, err := vfs.newResolver(ctx, pop)
	if err != nil {
		return VirtualDentry{}, err
	}
	return r.resolve(pop.FollowFinalSymlink)
}

// StatAt returns the attributes of the file pop names.
func (vfs *VirtualFilesystem) StatAt(ctx Context, pop *PathOperation) (linux.Statx, error) {
	vd, err := vfs.GetDentryAt(ctx, pop)
	if err != nil {
		return linux.Statx{}, err
	}
	return vd.Mount.stat(ctx, vd.Dentry)
}

// StatFSAt returns statfs(2) data for the filesystem holding pop's file.
func (vfs *VirtualFilesystem) StatFSAt(ctx Context, pop *PathOperation) (linux.Statfs, error) {
	vd, err := vfs.GetDentryAt(ctx, pop)
	if err != nil {
		return linux.Statfs{}, err
	}
	return vfs.StatFS(ctx, vd)
}

// StatFS returns statfs(2) data for the filesystem holding vd.
func (vfs *VirtualFilesystem) StatFS(ctx Context, vd VirtualDentry) (linux.Statfs, error) {
	st, err := vd.Mount.fs.impl.StatFS(ctx)
	if err != nil {
		return st, err
	}
	st.Fsid = [2]int32{0, int32(vd.Mount.fs.devMinor)}
	if vd.Mount.ReadOnly() {
		st.Flags |= linux.ST_RDONLY
	}
	return st, nil
}

// ReadlinkAt returns the target of the symlink pop names, or EINVAL if it
// is not a symlink.
func (vfs *VirtualFilesystem) ReadlinkAt(ctx Context, pop *PathOperation) (string, error) {
	p := *pop
	p.FollowFinalSymlink = false
	vd, err := vfs.GetDentryAt(ctx, &p)
	if err != nil {
		return "", err
	}
	return vfs.Readlink(ctx, vd)
}

// Readlink returns the target of the symlink vd.
func (vfs *VirtualFilesystem) Readlink(ctx Context, vd VirtualDentry) (string, error) {
	t, err := vd.Dentry.fileType(ctx)
	if err != nil {
		return "", err
	}
	link, ok := vd.Dentry.inode.(SymlinkInode)
	if t != linux.S_IFLNK || !ok {
		return "", errno.EINVAL
	}
	return link.Readlink(ctx)
}

// AccessAt implements access(2): it checks ats (F_OK if zero) for the file
// pop names, with ctx's credentials.
func (vfs *VirtualFilesystem) AccessAt(ctx Context, pop *PathOperation, ats AccessTypes) error {
	vd, err := vfs.GetDentryAt(ctx, pop)
	if err != nil {
		return err
	}
	st, err := vd.Mount.stat(ctx, vd.Dentry)
	if err != nil || ats == 0 {
		return err
	}
	if err := checkStatPermissions(ctx.Credentials(), ats, &st); err != nil {
		return err
	}
	// "EROFS Write permission was requested for a file on a read-only
	// filesystem" - access(2).
	if ats&MayWrite != 0 && vd.Mount.ReadOnly() && (st.FileMode().IsRegular() || st.FileMode().IsDir()) {
		return errno.EROFS
	}
	// fs/open.c:do_faccessat: a regular file on a noexec mount is not
	// executable, whatever its mode says.
	if ats&MayExec != 0 && vd.Mount.NoExec() && st.FileMode().IsRegular() {
		return errno.EACCES
	}
	return nil
}

// OpenOptions are open(2)'s flags and mode.
type OpenOptions struct {
	// Flags are the O_* flags; O_CLOEXEC is the caller's business.
	Flags uint32
	// Mode is the permission bits of a created file, umask already
	// applied.
	Mode linux.FileMode
}

// OpenAt implements open(2) for the file pop names.
func (vfs *VirtualFilesystem) OpenAt(ctx Context, pop *PathOperation, opts OpenOptions) (*FileDescription, error) {
	fd, err := vfs.openAt(ctx, pop, opts)
	if err != nil {
		return nil, err
	}
	return fd.waitOpen(ctx)
}

// openAt is OpenAt without the wait for a FIFO's other end, which must not
// happen under treeMu.
func (vfs *VirtualFilesystem) openAt(ctx Context, pop *PathOperation, opts OpenOptions) (*FileDescription, error) {
	flags := opts.Flags
	if flags&linux.O_TMPFILE == linux.O_TMPFILE {
		return vfs.openTmpfile(ctx, pop, flags, opts.Mode)
	}
	if flags&linux.O_PATH != 0 {
		// "When O_PATH is specified in flags, flag bits other than
		// O_CLOEXEC, O_DIRECTORY, and O_NOFOLLOW are ignored" - open(2).
		flags &= linux.O_PATH | linux.O_DIRECTORY | linux.O_NOFOLLOW
	}
	follow := flags&linux.O_NOFOLLOW == 0
	if flags&linux.O_CREAT == 0 {
		vfs.treeMu.RLock()
		defer vfs.treeMu.RUnlock()
		r, err := vfs.newResolver(ctx, pop)
		if err != nil {
			return nil, err
		}
		vd, err := r.resolve(follow)
		if err != nil {
			return nil, err
		}
		return vfs.openResolvedLocked(ctx, vd, flags, false)
	}
	vfs.treeMu.Lock()
	defer vfs.treeMu.Unlock()
	vd, created, err := vfs.openCreateLocked(ctx, pop, flags, opts.Mode, follow)
	if err != nil {
		return nil, err
	}
	return vfs.openResolvedLocked(ctx, vd, flags, created)
}

// TmpfileInode is implemented by directories of filesystems that support
// O_TMPFILE.
type TmpfileInode interface {
	// Tmpfile makes a regular file with no name and no links (mode has
	// the permissions), which lives until its last open file closes
	// unless Link gives it a name.
	Tmpfile(ctx Context, mode linux.FileMode) (Inode, error)
}

// openTmpfile implements open(O_TMPFILE): "Create an unnamed temporary
// regular file. The pathname argument specifies a directory" - open(2).
// Unless O_EXCL is given, linkat(2) can give the file a name later.
func (vfs *VirtualFilesystem) openTmpfile(ctx Context, pop *PathOperation, flags uint32, mode linux.FileMode) (*FileDescription, error) {
	// "O_TMPFILE must be specified with one of O_RDWR or O_WRONLY".
	if acc := flags & linux.O_ACCMODE; acc != linux.O_WRONLY && acc != linux.O_RDWR {
		return nil, errno.EINVAL
	}
	vfs.treeMu.RLock()
	defer vfs.treeMu.RUnlock()
	r, err := vfs.newResolver(ctx, pop)
	if err != nil {
		return nil, err
	}
	dir, err := r.resolve(true)
	if err != nil {
		return nil, err
	}
	if isDir, err := r.isDir(dir); err != nil {
		return nil, err
	} else if !isDir {
		return nil, errno.ENOTDIR
	}
	st, err := dir.Mount.stat(ctx, dir.Dentry)
	if err != nil {
		return nil, err
	}
	if err := checkStatPermissions(ctx.Credentials(), MayWrite|MayExec, &st); err != nil {
		return nil, err
	}
	if dir.Mount.ReadOnly() {
		return nil, errno.EROFS
	}
	ti, ok := dir.Dentry.inode.(TmpfileInode)
	if !ok {
		return nil, errno.EOPNOTSUPP
	}
	inode, err := ti.Tmpfile(ctx, linux.S_IFREG|mode.Permissions())
	if err != nil {
		return nil, err
	}
	ist, err := inode.Stat(ctx)
	if err != nil {
		return nil, err
	}
	// Linux shows such a file as "/dir/#INO (deleted)".
	d := newDentry(dir.Dentry, "#"+strconv.FormatUint(ist.Ino, 10), inode)
	d.deleted = true
	d.linkable = flags&linux.O_EXCL == 0
	flags &^= linux.O_TMPFILE | linux.O_CREAT | linux.O_EXCL | linux.O_TRUNC
	impl, err := inode.Open(ctx, flags)
	if err != nil {
		return nil, err
	}
	return NewFileDescription(impl, flags, VirtualDentry{dir.Mount, d}, FileDescriptionOptions{}), nil
}

// Open opens the file vd with flags (no O_CREAT), checking permissions.
func (vfs *VirtualFilesystem) Open(ctx Context, vd VirtualDentry, flags uint32) (*FileDescription, error) {
	if flags&linux.O_CREAT != 0 {
		return nil, errno.EINVAL
	}
	vfs.treeMu.RLock()
	fd, err := vfs.openResolvedLocked(ctx, vd, flags, false)
	vfs.treeMu.RUnlock()
	if err != nil {
		return nil, err
	}
	return fd.waitOpen(ctx)
}

// openCreateLocked finds or creates the file for open(O_CREAT).
//
// Preconditions: treeMu is held for writing.
func (vfs *VirtualFilesystem) openCreateLocked(ctx Context, pop *PathOperation, flags uint32, mode linux.FileMode, follow bool) (VirtualDentry, bool, error) {
	r, err := vfs.newResolver(ctx, pop)
	if err != nil {
		return VirtualDentry{}, false, err
	}
	for {
		parent, name, err := r.resolveParent()
		if err != nil {
			return VirtualDentry{}, false, err
		}
		if name == "" || name == "." || name == ".." || r.mustBeDir {
			return VirtualDentry{}, false, errno.EISDIR
		}
		child, err := r.step(name)
		if err == errno.ENOENT {
			vd, err := vfs.createLocked(ctx, parent, name, func(dir DirInode) (Inode, error) {
				return dir.Create(ctx, name, linux.S_IFREG|mode.Permissions())
			})
			return vd, err == nil, err
		}
		if err != nil {
			return VirtualDentry{}, false, err
		}
		if flags&linux.O_EXCL != 0 {
			return VirtualDentry{}, false, errno.EEXIST
		}
		link, err := r.symlinkInode(child)
		if err != nil {
			return VirtualDentry{}, false, err
		}
		if link == nil || !follow {
			return child, false, nil
		}
		// Follow the link and create its target if it dangles, as Linux
		// does.
		r.comps = r.comps[1:]
		if err := r.follow(link); err != nil {
			return VirtualDentry{}, false, err
		}
		if len(r.comps) == 0 {
			return r.cur, false, nil
		}
	}
}

// createLocked checks that ctx may create name in parent and calls mk.
//
// Preconditions: treeMu is held for writing; name is a normal component
// that does not exist in parent.
func (vfs *VirtualFilesystem) createLocked(ctx Context, parent VirtualDentry, name string, mk func(DirInode) (Inode, error)) (VirtualDentry, error) {
	if parent.Dentry.deleted {
		return VirtualDentry{}, errno.ENOENT
	}
	st, err := parent.Mount.stat(ctx, parent.Dentry)
	if err != nil {
		return VirtualDentry{}, err
	}
	if err := checkStatPermissions(ctx.Credentials(), MayWrite|MayExec, &st); err != nil {
		return VirtualDentry{}, err
	}
	if parent.Mount.ReadOnly() {
		return VirtualDentry{}, errno.EROFS
	}
	dir, ok := parent.Dentry.inode.(DirInode)
	if !ok {
		return VirtualDentry{}, errno.ENOTDIR
	}
	inode, err := mk(dir)
	if err != nil {
		return VirtualDentry{}, err
	}
	c := parent.Dentry.insertChildLocked(name, inode)
	vfs.notifyDirLocked(parent.Dentry, linux.IN_CREATE, 0, name, c)
	return VirtualDentry{parent.Mount, c}, nil
}

// openResolvedLocked opens vd.
//
// Preconditions: treeMu is held.
func (vfs *VirtualFilesystem) openResolvedLocked(ctx Context, vd VirtualDentry, flags uint32, created bool) (*FileDescription, error) {
	t, err := vd.Dentry.fileType(ctx)
	if err != nil {
		return nil, err
	}
	if flags&linux.O_DIRECTORY != 0 && t != linux.S_IFDIR {
		return nil, errno.ENOTDIR
	}
	if flags&linux.O_PATH != 0 {
		return NewFileDescription(pathFD{}, flags, vd, FileDescriptionOptions{}), nil
	}
	switch t {
	case linux.S_IFLNK:
		// Only reached with O_NOFOLLOW: "ELOOP ... O_NOFOLLOW was
		// specified but pathname was a symbolic link" - open(2).
		return nil, errno.ELOOP
	case linux.S_IFDIR:
		if flags&linux.O_CREAT != 0 || flags&linux.O_ACCMODE != linux.O_RDONLY || flags&linux.O_TRUNC != 0 {
			return nil, errno.EISDIR
		}
	}
	if !created {
		st, err := vd.Mount.stat(ctx, vd.Dentry)
		if err != nil {
			return nil, err
		}
		ats := AccessTypesForOpenFlags(flags)
		if err := checkStatPermissions(ctx.Credentials(), ats, &st); err != nil {
			return nil, err
		}
		// fs/namei.c:may_open: device files on a nodev mount can't be
		// opened.
		if (t == linux.S_IFCHR || t == linux.S_IFBLK) && vd.Mount.NoDev() {
			return nil, errno.EACCES
		}
		if ats&MayWrite != 0 && vd.Mount.ReadOnly() && (t == linux.S_IFREG || t == linux.S_IFDIR) {
			return nil, errno.EROFS
		}
		if flags&linux.O_TRUNC != 0 && t == linux.S_IFREG && st.Size != 0 {
			opts := SetStatOptions{Stat: linux.Statx{Mask: linux.STATX_SIZE}}
			if err := vd.Dentry.inode.SetStat(ctx, &opts); err != nil {
				return nil, err
			}
		}
	}
	vfs.notifyLocked(vd.Dentry, linux.IN_OPEN)
	if t == linux.S_IFDIR {
		return NewFileDescription(&dirFD{vd: vd}, flags, vd, FileDescriptionOptions{}), nil
	}
	impl, err := vfs.openInodeLocked(ctx, vd, t, flags)
	if err != nil {
		return nil, err
	}
	// FIFOs, sockets and terminals have no file offset (lseek is ESPIPE).
	stream := t == linux.S_IFIFO || t == linux.S_IFSOCK
	if s, ok := impl.(StreamImpl); ok && s.Stream() {
		stream = true
	}
	return NewFileDescription(impl, flags, vd, FileDescriptionOptions{Stream: stream}), nil
}

// openInodeLocked opens vd's inode, of type t. A character device node
// whose number has a registered driver opens that driver, whichever
// filesystem holds the node.
func (vfs *VirtualFilesystem) openInodeLocked(ctx Context, vd VirtualDentry, t linux.FileMode, flags uint32) (FileDescriptionImpl, error) {
	if t == linux.S_IFCHR {
		st, err := vd.Mount.stat(ctx, vd.Dentry)
		if err != nil {
			return nil, err
		}
		if dev := vfs.charDevice(st.RdevMajor, st.RdevMinor); dev != nil {
			return dev.Open(ctx, flags)
		}
	}
	return vd.Dentry.inode.Open(ctx, flags)
}

// StreamImpl is implemented by device files that are streams (a
// terminal): their file descriptions get FileDescriptionOptions.Stream.
type StreamImpl interface {
	Stream() bool
}

// OpenWaiter is implemented by file descriptions whose open(2) may have
// to wait for another party (a FIFO's open for reading waits for a
// writer). The VFS calls WaitOpen after it has dropped its locks; if it
// fails, the new file is released and open fails with its error.
type OpenWaiter interface {
	WaitOpen(ctx Context, flags uint32) error
}

// waitOpen lets fd's implementation finish a blocking open.
func (fd *FileDescription) waitOpen(ctx Context) (*FileDescription, error) {
	w, ok := fd.impl.(OpenWaiter)
	if !ok {
		return fd, nil
	}
	if err := w.WaitOpen(ctx, fd.StatusFlags()); err != nil {
		fd.DecRef()
		return nil, err
	}
	return fd, nil
}

// MknodInode is implemented by directories in which mknod(2) can make
// FIFOs, sockets and device nodes.
type MknodInode interface {
	// Mknod makes a node of type and permissions mode (S_IFIFO,
	// S_IFSOCK, S_IFCHR or S_IFBLK) called name, which does not exist;
	// dev is the device number of a device node.
	Mknod(ctx Context, name string, mode linux.FileMode, dev uint32) (Inode, error)
}

// MknodAt implements mknod(2). mode has the umask applied and a file type
// that is not S_IFDIR or S_IFLNK; S_IFREG makes an empty regular file.
func (vfs *VirtualFilesystem) MknodAt(ctx Context, pop *PathOperation, mode linux.FileMode, dev uint32) error {
	return vfs.mknodLocked(ctx, pop, false, func(dir DirInode, name string) (Inode, error) {
		if mode.FileType() == linux.S_IFREG {
			return dir.Create(ctx, name, mode)
		}
		m, ok := dir.(MknodInode)
		if !ok {
			return nil, errno.EPERM
		}
		return m.Mknod(ctx, name, mode, dev)
	})
}

// MkdirAt implements mkdir(2). mode has the umask applied.
func (vfs *VirtualFilesystem) MkdirAt(ctx Context, pop *PathOperation, mode linux.FileMode) error {
	return vfs.mknodLocked(ctx, pop, true, func(dir DirInode, name string) (Inode, error) {
		return dir.Mkdir(ctx, name, linux.S_IFDIR|mode&0o7777)
	})
}

// SymlinkAt implements symlink(2): it creates pop as a link to target.
func (vfs *VirtualFilesystem) SymlinkAt(ctx Context, pop *PathOperation, target string) error {
	if target == "" {
		return errno.ENOENT
	}
	if len(target) >= linux.PATH_MAX {
		return errno.ENAMETOOLONG
	}
	return vfs.mknodLocked(ctx, pop, false, func(dir DirInode, name string) (Inode, error) {
		return dir.Symlink(ctx, name, target)
	})
}

// mknodLocked creates the last component of pop with mk. Only
// directories may be named with a trailing slash.
func (vfs *VirtualFilesystem) mknodLocked(ctx Context, pop *PathOperation, isDir bool, mk func(DirInode, string) (Inode, error)) error {
	vfs.treeMu.Lock()
	defer vfs.treeMu.Unlock()
	r, err := vfs.newResolver(ctx, pop)
	if err != nil {
		return err
	}
	parent, name, err := r.resolveParent()
	if err != nil {
		return err
	}
	if name == "" || name == "." || name == ".." {
		return errno.EEXIST
	}
	_, err = r.step(name)
	switch {
	case err == nil:
		return errno.EEXIST
	case err != errno.ENOENT:
		return err
	case r.mustBeDir && !isDir:
		return errno.ENOENT
	}
	_, err = vfs.createLocked(ctx, parent, name, func(dir DirInode) (Inode, error) { return mk(dir, name) })
	return err
}

// LinkAt implements link(2): newpop becomes a new name for oldpop's file.
// oldpop.FollowFinalSymlink is AT_SYMLINK_FOLLOW.
func (vfs *VirtualFilesystem) LinkAt(ctx Context, oldpop, newpop *PathOperation) error {
	vfs.treeMu.Lock()
	defer vfs.treeMu.Unlock()
	r, err := vfs.newResolver(ctx, oldpop)
	if err != nil {
		return err
	}
	old, err := r.resolve(oldpop.FollowFinalSymlink)
	if err != nil {
		return err
	}
	return vfs.linkLocked(ctx, old, newpop)
}

// Link implements linkat(2) with AT_EMPTY_PATH: newpop becomes a new name
// for the file old (an open file's, which may be an O_TMPFILE file).
func (vfs *VirtualFilesystem) Link(ctx Context, old VirtualDentry, newpop *PathOperation) error {
	vfs.treeMu.Lock()
	defer vfs.treeMu.Unlock()
	return vfs.linkLocked(ctx, old, newpop)
}

// linkLocked is the common part of LinkAt and Link.
//
// Preconditions: treeMu is held for writing.
func (vfs *VirtualFilesystem) linkLocked(ctx Context, old VirtualDentry, newpop *PathOperation) error {
	if t, err := old.Dentry.fileType(ctx); err != nil {
		return err
	} else if t == linux.S_IFDIR {
		// "EPERM oldpath is a directory" - link(2).
		return errno.EPERM
	}
	nr, err := vfs.newResolver(ctx, newpop)
	if err != nil {
		return err
	}
	parent, name, err := nr.resolveParent()
	if err != nil {
		return err
	}
	if name == "" || name == "." || name == ".." {
		return errno.EEXIST
	}
	if _, err := nr.step(name); err == nil {
		return errno.EEXIST
	} else if err != errno.ENOENT {
		return err
	}
	if nr.mustBeDir {
		return errno.ENOENT
	}
	if parent.Mount != old.Mount {
		return errno.EXDEV
	}
	if old.Dentry.deleted && !old.Dentry.linkable {
		return errno.ENOENT
	}
	_, err = vfs.createLocked(ctx, parent, name, func(dir DirInode) (Inode, error) {
		inode, err := dir.Link(ctx, name, old.Dentry.inode)
		if err != nil {
			return nil, err
		}
		vfs.notifyLinkCountLocked(old.Dentry)
		return inode, nil
	})
	return err
}

// removeCheckLocked checks that ctx may remove child from parent.
func (vfs *VirtualFilesystem) removeCheckLocked(ctx Context, parent, child VirtualDentry) error {
	if vfs.isMountPointLocked(child) || child.Dentry == child.Mount.root {
		return errno.EBUSY
	}
	pst, err := parent.Mount.stat(ctx, parent.Dentry)
	if err != nil {
		return err
	}
	creds := ctx.Credentials()
	if err := checkStatPermissions(creds, MayWrite|MayExec, &pst); err != nil {
		return err
	}
	cst, err := child.Mount.stat(ctx, child.Dentry)
	if err != nil {
		return err
	}
	if err := checkSticky(creds, &pst, &cst); err != nil {
		return err
	}
	if parent.Mount.ReadOnly() {
		return errno.EROFS
	}
	return nil
}

// UnlinkAt implements unlink(2).
func (vfs *VirtualFilesystem) UnlinkAt(ctx Context, pop *PathOperation) error {
	vfs.treeMu.Lock()
	defer vfs.treeMu.Unlock()
	r, err := vfs.newResolver(ctx, pop)
	if err != nil {
		return err
	}
	parent, name, err := r.resolveParent()
	if err != nil {
		return err
	}
	if name == "" || name == "." || name == ".." {
		return errno.EISDIR
	}
	child, err := r.step(name)
	if err != nil {
		return err
	}
	t, err := child.Dentry.fileType(ctx)
	if err != nil {
		return err
	}
	if t == linux.S_IFDIR {
		return errno.EISDIR
	}
	if r.mustBeDir {
		return errno.ENOTDIR
	}
	if err := vfs.removeCheckLocked(ctx, parent, child); err != nil {
		return err
	}
	if err := parent.Dentry.inode.(DirInode).Unlink(ctx, name, child.Dentry.inode); err != nil {
		return err
	}
	parent.Dentry.removeChildLocked(name, child.Dentry)
	vfs.notifyLinkCountLocked(child.Dentry)
	vfs.notifyDirLocked(parent.Dentry, linux.IN_DELETE, 0, name, child.Dentry)
	vfs.notifyDeadLocked(ctx, child.Dentry, false)
	return nil
}

// RmdirAt implements rmdir(2).
func (vfs *VirtualFilesystem) RmdirAt(ctx Context, pop *PathOperation) error {
	vfs.treeMu.Lock()
	defer vfs.treeMu.Unlock()
	r, err := vfs.newResolver(ctx, pop)
	if err != nil {
		return err
	}
	parent, name, err := r.resolveParent()
	if err != nil {
		return err
	}
	switch name {
	case "":
		return errno.EBUSY
	case ".":
		// "EINVAL pathname has . as last component" - rmdir(2).
		return errno.EINVAL
	case "..":
		// "ENOTEMPTY pathname contains .. as its final component" -
		// rmdir(2).
		return errno.ENOTEMPTY
	}
	child, err := r.step(name)
	if err != nil {
		return err
	}
	t, err := child.Dentry.fileType(ctx)
	if err != nil {
		return err
	}
	if t != linux.S_IFDIR {
		return errno.ENOTDIR
	}
	if child == r.root {
		return errno.EBUSY
	}
	if err := vfs.removeCheckLocked(ctx, parent, child); err != nil {
		return err
	}
	if err := parent.Dentry.inode.(DirInode).Rmdir(ctx, name, child.Dentry.inode); err != nil {
		return err
	}
	parent.Dentry.removeChildLocked(name, child.Dentry)
	vfs.notifyDeadLocked(ctx, child.Dentry, true)
	vfs.notifyDirLocked(parent.Dentry, linux.IN_DELETE, 0, name, child.Dentry)
	return nil
}

// ExchangeInode is implemented by directories that support
// renameat2(RENAME_EXCHANGE).
type ExchangeInode interface {
	// Exchange atomically swaps child (called oldName in this directory)
	// and other (called newName in newParent, a directory of the same
	// filesystem). The VFS has checked permissions and that neither is an
	// ancestor of the other's new parent.
	Exchange(ctx Context, oldName string, child Inode, newParent DirInode, newName string, other Inode) error
}

// RenameAt implements renameat2(2) with flags 0, RENAME_NOREPLACE or
// RENAME_EXCHANGE. RENAME_WHITEOUT (for overlayfs's own use) is EINVAL.
func (vfs *VirtualFilesystem) RenameAt(ctx Context, oldpop, newpop *PathOperation, flags uint32) error {
	if flags&^(linux.RENAME_NOREPLACE|linux.RENAME_EXCHANGE) != 0 {
		return errno.EINVAL
	}
	// "EINVAL ... RENAME_NOREPLACE and RENAME_EXCHANGE were both
	// specified" - rename(2).
	if flags&linux.RENAME_NOREPLACE != 0 && flags&linux.RENAME_EXCHANGE != 0 {
		return errno.EINVAL
	}
	if flags&linux.RENAME_EXCHANGE != 0 {
		return vfs.exchange(ctx, oldpop, newpop)
	}
	vfs.treeMu.Lock()
	defer vfs.treeMu.Unlock()
	or, err := vfs.newResolver(ctx, oldpop)
	if err != nil {
		return err
	}
	oldParent, oldName, err := or.resolveParent()
	if err != nil {
		return err
	}
	nr, err := vfs.newResolver(ctx, newpop)
	if err != nil {
		return err
	}
	newParent, newName, err := nr.resolveParent()
	if err != nil {
		return err
	}
	if oldName == "" || oldName == "." || oldName == ".." {
		return errno.EBUSY
	}
	if newName == "" || newName == "." || newName == ".." {
		if flags&linux.RENAME_NOREPLACE != 0 {
			return errno.EEXIST
		}
		return errno.EBUSY
	}
	old, err := or.step(oldName)
	if err != nil {
		return err
	}
	if oldParent.Mount != newParent.Mount {
		return errno.EXDEV
	}
	oldType, err := old.Dentry.fileType(ctx)
	if err != nil {
		return err
	}
	if oldType != linux.S_IFDIR && (or.mustBeDir || nr.mustBeDir) {
		return errno.ENOTDIR
	}
	var replaced *Dentry
	switch existing, err := nr.step(newName); err {
	case nil:
		if existing.Mount != newParent.Mount {
			// newName is a mount point.
			return errno.EBUSY
		}
		replaced = existing.Dentry
	case errno.ENOENT:
	default:
		return err
	}
	if replaced != nil {
		if flags&linux.RENAME_NOREPLACE != 0 {
			return errno.EEXIST
		}
		// "If oldpath and newpath are existing hard links referring to
		// the same file, then rename() does nothing" - rename(2).
		if replaced == old.Dentry || replaced.inode == old.Dentry.inode {
			return nil
		}
		newType, err := replaced.fileType(ctx)
		if err != nil {
			return err
		}
		switch {
		case oldType == linux.S_IFDIR && newType != linux.S_IFDIR:
			return errno.ENOTDIR
		case oldType != linux.S_IFDIR && newType == linux.S_IFDIR:
			return errno.EISDIR
		}
	}
	// "EINVAL The new pathname contained a path prefix of the old" -
	// rename(2): a directory cannot move beneath itself.
	for d := newParent.Dentry; d != nil; d = d.parent {
		if d == old.Dentry {
			return errno.EINVAL
		}
	}
	if err := vfs.removeCheckLocked(ctx, oldParent, old); err != nil {
		return err
	}
	if replaced != nil {
		if err := vfs.removeCheckLocked(ctx, newParent, VirtualDentry{newParent.Mount, replaced}); err != nil {
			return err
		}
	} else {
		pst, err := newParent.Mount.stat(ctx, newParent.Dentry)
		if err != nil {
			return err
		}
		if err := checkStatPermissions(ctx.Credentials(), MayWrite|MayExec, &pst); err != nil {
			return err
		}
	}
	if oldType == linux.S_IFDIR && oldParent.Dentry != newParent.Dentry {
		// Moving a directory rewrites its "..", which needs write access
		// to it (fs/namei.c:vfs_rename).
		st, err := old.Mount.stat(ctx, old.Dentry)
		if err != nil {
			return err
		}
		if err := checkStatPermissions(ctx.Credentials(), MayWrite, &st); err != nil {
			return err
		}
	}
	if newParent.Dentry.deleted {
		return errno.ENOENT
	}
	var replacedInode Inode
	if replaced != nil {
		replacedInode = replaced.inode
	}
	oldDir := oldParent.Dentry.inode.(DirInode)
	newDir, ok := newParent.Dentry.inode.(DirInode)
	if !ok {
		return errno.ENOTDIR
	}
	if err := oldDir.Rename(ctx, oldName, old.Dentry.inode, newDir, newName, replacedInode); err != nil {
		return err
	}
	if replaced != nil {
		newParent.Dentry.removeChildLocked(newName, replaced)
	}
	vfs.notifyRenameLocked(oldParent.Dentry, oldName, newParent.Dentry, newName, old.Dentry)
	if replaced != nil {
		dir := newType(ctx, replaced)
		if !dir {
			vfs.notifyLinkCountLocked(replaced)
		}
		vfs.notifyDeadLocked(ctx, replaced, dir)
	}
	oldParent.Dentry.forgetChildLocked(oldName)
	d := old.Dentry
	d.parent, d.name = newParent.Dentry, newName
	if !newParent.Dentry.dynamic {
		newParent.Dentry.mu.Lock()
		if newParent.Dentry.children == nil {
			newParent.Dentry.children = map[string]*Dentry{}
		}
		newParent.Dentry.children[newName] = d
		newParent.Dentry.mu.Unlock()
	}
	return nil
}

// SetStatAt implements chmod, chown, truncate and utimensat on a path.
func (vfs *VirtualFilesystem) SetStatAt(ctx Context, pop *PathOperation, opts *SetStatOptions) error {
	vd, err := vfs.GetDentryAt(ctx, pop)
	if err != nil {
		return err
	}
	return vfs.SetStat(ctx, vd, opts, false)
}

// SetStat changes vd's attributes after checking permissions. viaFD says
// the request came through a file descriptor (fchmod, ftruncate): a size
// change then needs no write permission, since the caller checked that the
// file description is writable.
func (vfs *VirtualFilesystem) SetStat(ctx Context, vd VirtualDentry, opts *SetStatOptions, viaFD bool) error {
	st, err := vd.Mount.stat(ctx, vd.Dentry)
	if err != nil {
		return err
	}
	creds := ctx.Credentials()
	mask := opts.Stat.Mask
	if mask&linux.STATX_SIZE != 0 {
		switch st.FileMode().FileType() {
		case linux.S_IFREG:
		case linux.S_IFDIR:
			return errno.EISDIR
		default:
			return errno.EINVAL
		}
		if !viaFD {
			if err := checkStatPermissions(creds, MayWrite, &st); err != nil {
				return err
			}
		}
	}
	if mask&linux.STATX_MODE != 0 {
		if !isOwner(creds, auth.KUID(st.UID)) {
			return errno.EPERM
		}
		// "If the calling process is not privileged (Linux: does not
		// have the CAP_FSETID capability), and the group of the file does
		// not match the effective group ID of the process or one of its
		// supplementary group IDs, the S_ISGID bit will be turned off" -
		// chmod(2).
		if !creds.InGroup(auth.KGID(st.GID)) && !creds.HasCapability(auth.CAP_FSETID) {
			opts.Stat.Mode &^= linux.S_ISGID
		}
	}
	if mask&(linux.STATX_UID|linux.STATX_GID) != 0 {
		if mask&linux.STATX_UID != 0 && opts.Stat.UID != st.UID && !creds.HasCapability(auth.CAP_CHOWN) {
			return errno.EPERM
		}
		if mask&linux.STATX_GID != 0 && opts.Stat.GID != st.GID && !creds.HasCapability(auth.CAP_CHOWN) &&
			!(creds.FSKUID == auth.KUID(st.UID) && creds.InGroup(auth.KGID(opts.Stat.GID))) {
			return errno.EPERM
		}
	}
	if mask&(linux.STATX_ATIME|linux.STATX_MTIME) != 0 && !isOwner(creds, auth.KUID(st.UID)) {
		// Setting both times to now needs only write access
		// (utimensat(2)); any other change needs ownership.
		if !opts.TimesNow {
			return errno.EPERM
		}
		if err := checkStatPermissions(creds, MayWrite, &st); err != nil {
			return err
		}
	}
	if vd.Mount.ReadOnly() {
		return errno.EROFS
	}
	if err := vd.Dentry.inode.SetStat(ctx, opts); err != nil {
		return err
	}
	// "IN_ATTRIB: Metadata changed"; a truncation is IN_MODIFY.
	if mask&linux.STATX_SIZE != 0 {
		vfs.notify(vd.Dentry, linux.IN_MODIFY)
	}
	if mask&^linux.STATX_SIZE != 0 {
		vfs.notify(vd.Dentry, linux.IN_ATTRIB)
	}
	return nil
}

// PathName returns vd's path from the tree's root, with " (deleted)" if it
// was removed, as /proc/[pid]/fd and maps show it.
func (vfs *VirtualFilesystem) PathName(vd VirtualDentry) string {
	vfs.treeMu.RLock()
	defer vfs.treeMu.RUnlock()
	p, _ := vfs.pathFromLocked(vfs.root.Root(), vd)
	if vd.Dentry.deleted {
		p += " (deleted)"
	}
	return p
}

// PathFrom implements getcwd(2): vd's path from root, ENOENT if vd was
// removed, and "(unreachable)" prefixed if vd is not under root.
func (vfs *VirtualFilesystem) PathFrom(root, vd VirtualDentry) (string, error) {
	vfs.treeMu.RLock()
	defer vfs.treeMu.RUnlock()
	if vd.Dentry.deleted {
		return "", errno.ENOENT
	}
	p, ok := vfs.pathFromLocked(root, vd)
	if !ok {
		p = "(unreachable)" + p
	}
	return p, nil
}

// pathFromLocked builds vd's path by walking up to root; ok is false if
// the walk reached the top of the tree without meeting root.
func (vfs *VirtualFilesystem) pathFromLocked(root, vd VirtualDentry) (string, bool) {
	var names []string
	ok := true
	for vd != root {
		if vd.Dentry == vd.Mount.root {
			if vd.Mount.parent == nil {
				ok = false
				break
			}
			vd = VirtualDentry{vd.Mount.parent, vd.Mount.point}
			continue
		}
		if vd.Dentry.parent == nil {
			ok = false
			break
		}
		names = append(names, vd.Dentry.name)
		vd.Dentry = vd.Dentry.parent
	}
	slices.Reverse(names)
	return "/" + strings.Join(names, "/"), ok
}

// NowStatxTimestamp returns the current time for file timestamps.
func NowStatxTimestamp() linux.StatxTimestamp {
	return linux.NsecToStatxTimestamp(time.Now().UnixNano())
}

// CheckAccess checks ats against attributes st with ctx's credentials.
func (vfs *VirtualFilesystem) CheckAccess(ctx Context, st *linux.Statx, ats AccessTypes) error {
	return checkStatPermissions(ctx.Credentials(), ats, st)
}

// OpenSibling opens name, a file in the directory that holds vd, without
// following a final symlink: TIOCGPTPEER opens the slave next to the
// master's ptmx this way, so that the slave is in the tree.
func (vfs *VirtualFilesystem) OpenSibling(ctx Context, vd VirtualDentry, name string, flags uint32) (*FileDescription, error) {
	vfs.treeMu.RLock()
	parent := vd.Dentry.parent
	if parent == nil || vd.Dentry.deleted {
		vfs.treeMu.RUnlock()
		return nil, errno.ENOENT
	}
	dir := VirtualDentry{vd.Mount, parent}
	r, err := vfs.newResolver(ctx, &PathOperation{Root: dir, Start: dir, Path: name})
	var fd *FileDescription
	if err == nil {
		var child VirtualDentry
		if child, err = r.resolve(false); err == nil {
			fd, err = vfs.openResolvedLocked(ctx, child, flags&^(linux.O_CREAT|linux.O_TRUNC), false)
		}
	}
	vfs.treeMu.RUnlock()
	if err != nil {
		return nil, err
	}
	return fd.waitOpen(ctx)
}

// exchange implements renameat2(RENAME_EXCHANGE): "Atomically exchange
// oldpath and newpath. Both pathnames must exist but may be of different
// types" - rename(2).
func (vfs *VirtualFilesystem) exchange(ctx Context, oldpop, newpop *PathOperation) error {
	vfs.treeMu.Lock()
	defer vfs.treeMu.Unlock()
	or, err := vfs.newResolver(ctx, oldpop)
	if err != nil {
		return err
	}
	oldParent, oldName, err := or.resolveParent()
	if err != nil {
		return err
	}
	nr, err := vfs.newResolver(ctx, newpop)
	if err != nil {
		return err
	}
	newParent, newName, err := nr.resolveParent()
	if err != nil {
		return err
	}
	for _, n := range []string{oldName, newName} {
		if n == "" || n == "." || n == ".." {
			return errno.EBUSY
		}
	}
	a, err := or.step(oldName)
	if err != nil {
		return err
	}
	b, err := nr.step(newName)
	if err != nil {
		return err
	}
	if oldParent.Mount != newParent.Mount || a.Mount != oldParent.Mount || b.Mount != newParent.Mount {
		if a.Mount != oldParent.Mount || b.Mount != newParent.Mount {
			return errno.EBUSY // One of them is a mount point.
		}
		return errno.EXDEV
	}
	if a.Dentry == b.Dentry {
		return nil
	}
	aType, err := a.Dentry.fileType(ctx)
	if err != nil {
		return err
	}
	bType, err := b.Dentry.fileType(ctx)
	if err != nil {
		return err
	}
	if (or.mustBeDir && aType != linux.S_IFDIR) || (nr.mustBeDir && bType != linux.S_IFDIR) {
		return errno.ENOTDIR
	}
	// Neither may end up beneath itself.
	for d := newParent.Dentry; d != nil; d = d.parent {
		if d == a.Dentry {
			return errno.EINVAL
		}
	}
	for d := oldParent.Dentry; d != nil; d = d.parent {
		if d == b.Dentry {
			return errno.EINVAL
		}
	}
	if err := vfs.removeCheckLocked(ctx, oldParent, a); err != nil {
		return err
	}
	if err := vfs.removeCheckLocked(ctx, newParent, b); err != nil {
		return err
	}
	if oldParent.Dentry != newParent.Dentry {
		for _, c := range []struct {
			vd VirtualDentry
			t  linux.FileMode
		}{{a, aType}, {b, bType}} {
			if c.t != linux.S_IFDIR {
				continue
			}
			st, err := c.vd.Mount.stat(ctx, c.vd.Dentry)
			if err != nil {
				return err
			}
			if err := checkStatPermissions(ctx.Credentials(), MayWrite, &st); err != nil {
				return err
			}
		}
	}
	oldDir, ok := oldParent.Dentry.inode.(ExchangeInode)
	newDir, ok2 := newParent.Dentry.inode.(DirInode)
	if !ok || !ok2 {
		return errno.EINVAL
	}
	if err := oldDir.Exchange(ctx, oldName, a.Dentry.inode, newDir, newName, b.Dentry.inode); err != nil {
		return err
	}
	vfs.notifyRenameLocked(oldParent.Dentry, oldName, newParent.Dentry, newName, a.Dentry)
	vfs.notifyRenameLocked(newParent.Dentry, newName, oldParent.Dentry, oldName, b.Dentry)
	ad, bd := a.Dentry, b.Dentry
	oldParent.Dentry.forgetChildLocked(oldName)
	newParent.Dentry.forgetChildLocked(newName)
	ad.parent, ad.name, bd.parent, bd.name = newParent.Dentry, newName, oldParent.Dentry, oldName
	for _, c := range []*Dentry{ad, bd} {
		p := c.parent
		if p.dynamic {
			continue
		}
		p.mu.Lock()
		if p.children == nil {
			p.children = map[string]*Dentry{}
		}
		p.children[c.name] = c
		p.mu.Unlock()
	}
	return nil
}

// notifyRenameLocked reports that child moved from oldName in oldDir to
// newName in newDir: IN_MOVED_FROM and IN_MOVED_TO with a shared cookie,
// and IN_MOVE_SELF to the file's own watches.
func (vfs *VirtualFilesystem) notifyRenameLocked(oldDir *Dentry, oldName string, newDir *Dentry, newName string, child *Dentry) {
	if !vfs.watching() {
		return
	}
	cookie := vfs.watches.cookies.Add(1)
	vfs.notifyDirLocked(oldDir, linux.IN_MOVED_FROM, cookie, oldName, child)
	vfs.notifyDirLocked(newDir, linux.IN_MOVED_TO, cookie, newName, child)
	vfs.watches.deliver(child.inode, linux.IN_MOVE_SELF, 0, "", false)
}

// newType reports whether d is a directory.
func newType(ctx Context, d *Dentry) bool {
	t, err := d.fileType(ctx)
	return err == nil && t == linux.S_IFDIR
}
