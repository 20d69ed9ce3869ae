package hostfs

import (
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// This file holds the operations that change the host tree. Each is
// refused with EROFS on a read-only Filesystem (the rootfs, whose changes
// the overlay above takes), and otherwise done with an *at(2) call on the
// parent directory's fd that never follows a symlink.

// sentryIsRoot says whether the sentry may give new host files the guest's
// owner.
var sentryIsRoot = os.Geteuid() == 0

// dirAt returns the parent's fd and the name to use for i with *at(2)
// calls: (rootFD, "") for the root.
func (i *inode) dirAt() (pfd int, name string, done func(), err error) {
	if i.tmp {
		return i.tmpFD, "", func() {}, nil
	}
	parent, name := i.loc()
	if parent == nil {
		return i.fs.rootFD, "", func() {}, nil
	}
	pfd, done, err = parent.openDir()
	return pfd, name, done, err
}

// procPath opens i with O_PATH|O_NOFOLLOW and returns its /proc/self/fd
// path, through which calls that have no *at form with
// AT_SYMLINK_NOFOLLOW (chmod, utimes on the root) reach exactly that file.
func (i *inode) procPath() (string, func(), error) {
	pfd, name, done, err := i.dirAt()
	if err != nil {
		return "", nil, err
	}
	defer done()
	if name == "" {
		return "/proc/self/fd/" + strconv.Itoa(pfd), func() {}, nil
	}
	fd, err := retry(func() (int, error) {
		return unix.Openat(pfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return "", nil, hostErr(err)
	}
	return "/proc/self/fd/" + strconv.Itoa(fd), func() { unix.Close(fd) }, nil
}

// setStat changes the host file's attributes.
func (i *inode) setStat(opts *vfs.SetStatOptions) error {
	st := &opts.Stat
	hst, err := i.hostStat()
	if err != nil {
		return err
	}
	isLink := hst.Mode&unix.S_IFMT == unix.S_IFLNK
	if st.Mask&linux.STATX_SIZE != 0 {
		if err := i.truncate(int64(st.Size)); err != nil {
			return err
		}
	}
	if st.Mask&linux.STATX_MODE != 0 {
		if isLink {
			return errno.EOPNOTSUPP
		}
		p, done, err := i.procPath()
		if err != nil {
			return err
		}
		err = unix.Chmod(p, uint32(st.Mode&0o7777))
		done()
		if err != nil {
			return hostErr(err)
		}
	}
	if st.Mask&(linux.STATX_UID|linux.STATX_GID) != 0 {
		uid, gid := -1, -1
		if st.Mask&linux.STATX_UID != 0 {
			uid = int(st.UID)
		}
		if st.Mask&linux.STATX_GID != 0 {
			gid = int(st.GID)
		}
		pfd, name, done, err := i.dirAt()
		if err != nil {
			return err
		}
		flags := unix.AT_SYMLINK_NOFOLLOW
		if name == "" {
			flags |= unix.AT_EMPTY_PATH
		}
		err = unix.Fchownat(pfd, name, uid, gid, flags)
		done()
		if err != nil {
			return hostErr(err)
		}
	}
	if st.Mask&(linux.STATX_ATIME|linux.STATX_MTIME) != 0 {
		ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
		if st.Mask&linux.STATX_ATIME != 0 {
			ts[0] = unix.Timespec{Sec: st.Atime.Sec, Nsec: int64(st.Atime.Nsec)}
		}
		if st.Mask&linux.STATX_MTIME != 0 {
			ts[1] = unix.Timespec{Sec: st.Mtime.Sec, Nsec: int64(st.Mtime.Nsec)}
		}
		pfd, name, done, err := i.dirAt()
		if err != nil {
			return err
		}
		if name == "" {
			err = unix.UtimesNanoAt(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(pfd), ts, 0)
		} else {
			err = unix.UtimesNanoAt(pfd, name, ts, unix.AT_SYMLINK_NOFOLLOW)
		}
		done()
		if err != nil {
			return hostErr(err)
		}
	}
	return nil
}

// truncate sets a regular file's size.
func (i *inode) truncate(size int64) error {
	pfd, name, done, err := i.dirAt()
	if err != nil {
		return err
	}
	defer done()
	if i.tmp {
		return hostErr(unix.Ftruncate(i.tmpFD, size))
	}
	if name == "" {
		return errno.EISDIR
	}
	fd, err := retry(func() (int, error) {
		return unix.Openat(pfd, name, unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	})
	if err != nil {
		return hostErr(err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return hostErr(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return errno.EINVAL
	}
	return hostErr(unix.Ftruncate(fd, size))
}

// child returns a new inode for name in i.
func (i *inode) child(name string) *inode {
	return &inode{fs: i.fs, parent: i, name: name, dirFD: -1}
}

// mutate runs f on i's directory fd, or fails with EROFS if the
// filesystem is read-only.
func (i *inode) mutate(f func(dirfd int) error) error {
	if !i.fs.writable {
		return errno.EROFS
	}
	fd, done, err := i.openDir()
	if err != nil {
		return err
	}
	defer done()
	return f(fd)
}

// chownNew gives a new host file the guest's owner (the sentry, if root,
// creates it as root).
func chownNew(ctx vfs.Context, dirfd int, name string) {
	if !sentryIsRoot {
		return
	}
	uid, gid := vfs.Owner(ctx)
	unix.Fchownat(dirfd, name, int(uid), int(gid), unix.AT_SYMLINK_NOFOLLOW)
}

// Create implements vfs.DirInode.Create.
func (i *inode) Create(ctx vfs.Context, name string, mode linux.FileMode) (vfs.Inode, error) {
	err := i.mutate(func(dirfd int) error {
		fd, err := retry(func() (int, error) {
			return unix.Openat(dirfd, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NOCTTY, uint32(mode.Permissions()))
		})
		if err != nil {
			return hostErr(err)
		}
		defer unix.Close(fd)
		// The host's umask may have cleared bits the guest asked for.
		unix.Fchmod(fd, uint32(mode.Permissions()))
		chownNew(ctx, dirfd, name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return i.child(name), nil
}

// Mkdir implements vfs.DirInode.Mkdir.
func (i *inode) Mkdir(ctx vfs.Context, name string, mode linux.FileMode) (vfs.Inode, error) {
	err := i.mutate(func(dirfd int) error {
		if err := unix.Mkdirat(dirfd, name, uint32(mode.Permissions())); err != nil {
			return hostErr(err)
		}
		chownNew(ctx, dirfd, name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	c := i.child(name)
	// Undo the host's umask.
	if p, done, err := c.procPath(); err == nil {
		unix.Chmod(p, uint32(mode.Permissions()))
		done()
	}
	return c, nil
}

// Symlink implements vfs.DirInode.Symlink. The target is stored as text;
// only the sandbox's VFS ever interprets it.
func (i *inode) Symlink(ctx vfs.Context, name, target string) (vfs.Inode, error) {
	err := i.mutate(func(dirfd int) error {
		if err := unix.Symlinkat(target, dirfd, name); err != nil {
			return hostErr(err)
		}
		chownNew(ctx, dirfd, name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return i.child(name), nil
}

// Link implements vfs.DirInode.Link.
//
// A host inode is a name (parent and name), not a file: the new name gets
// an inode of its own, so that removing the old name leaves it reachable.
func (i *inode) Link(_ vfs.Context, name string, target vfs.Inode) (vfs.Inode, error) {
	t, ok := target.(*inode)
	if !ok || t.fs != i.fs {
		return nil, errno.EXDEV
	}
	err := i.mutate(func(dirfd int) error {
		if t.tmp {
			// An O_TMPFILE file gets its first name (linkat(2) with
			// AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH).
			return hostErr(unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(t.tmpFD), dirfd, name, unix.AT_SYMLINK_FOLLOW))
		}
		tpfd, tname, done, err := t.dirAt()
		if err != nil {
			return err
		}
		defer done()
		if tname == "" {
			return errno.EPERM
		}
		return hostErr(unix.Linkat(tpfd, tname, dirfd, name, 0))
	})
	if err != nil {
		return nil, err
	}
	return i.child(name), nil
}

// Unlink implements vfs.DirInode.Unlink.
func (i *inode) Unlink(_ vfs.Context, name string, _ vfs.Inode) error {
	return i.mutate(func(dirfd int) error { return hostErr(unix.Unlinkat(dirfd, name, 0)) })
}

// Rmdir implements vfs.DirInode.Rmdir.
func (i *inode) Rmdir(_ vfs.Context, name string, _ vfs.Inode) error {
	return i.mutate(func(dirfd int) error {
		err := unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
		if err == unix.EEXIST {
			err = unix.ENOTEMPTY
		}
		return hostErr(err)
	})
}

// Rename implements vfs.DirInode.Rename.
func (i *inode) Rename(_ vfs.Context, oldName string, child vfs.Inode, newParent vfs.DirInode, newName string, _ vfs.Inode) error {
	c, ok := child.(*inode)
	np, ok2 := newParent.(*inode)
	if !ok || !ok2 || np.fs != i.fs {
		return errno.EXDEV
	}
	err := i.mutate(func(olddirfd int) error {
		newdirfd, done, err := np.openDir()
		if err != nil {
			return err
		}
		defer done()
		err = unix.Renameat2(olddirfd, oldName, newdirfd, newName, 0)
		if err == unix.EEXIST {
			err = unix.ENOTEMPTY
		}
		return hostErr(err)
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.parent, c.name = np, newName
	c.mu.Unlock()
	return nil
}

// Exchange implements vfs.ExchangeInode with renameat2(RENAME_EXCHANGE)
// on the host.
func (i *inode) Exchange(_ vfs.Context, oldName string, child vfs.Inode, newParent vfs.DirInode, newName string, other vfs.Inode) error {
	a, ok := child.(*inode)
	b, ok2 := other.(*inode)
	np, ok3 := newParent.(*inode)
	if !ok || !ok2 || !ok3 || np.fs != i.fs {
		return errno.EXDEV
	}
	err := i.mutate(func(olddirfd int) error {
		newdirfd, done, err := np.openDir()
		if err != nil {
			return err
		}
		defer done()
		return hostErr(unix.Renameat2(olddirfd, oldName, newdirfd, newName, unix.RENAME_EXCHANGE))
	})
	if err != nil {
		return err
	}
	// Each inode is a name: they swap names.
	a.mu.Lock()
	a.parent, a.name = np, newName
	a.mu.Unlock()
	b.mu.Lock()
	b.parent, b.name = i, oldName
	b.mu.Unlock()
	return nil
}

// Tmpfile implements vfs.TmpfileInode: an unnamed file in i's host
// directory (open(2) with O_TMPFILE), which linkat(2) may name later.
func (i *inode) Tmpfile(ctx vfs.Context, mode linux.FileMode) (vfs.Inode, error) {
	fd := -1
	err := i.mutate(func(dirfd int) error {
		var err error
		fd, err = retry(func() (int, error) {
			return unix.Openat(dirfd, ".", unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, uint32(mode.Permissions()))
		})
		if err != nil {
			return hostErr(err)
		}
		// Undo the host's umask; give the guest's owner.
		unix.Fchmod(fd, uint32(mode.Permissions()))
		if sentryIsRoot {
			uid, gid := vfs.Owner(ctx)
			unix.Fchown(fd, int(uid), int(gid))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	t := &inode{fs: i.fs, dirFD: -1, tmp: true, tmpFD: fd}
	runtime.AddCleanup(t, func(fd int) { unix.Close(fd) }, fd)
	return t, nil
}

// Mknod implements vfs.MknodInode for named pipes and sockets. Device
// nodes are refused (EPERM): a device node the guest made in a volume would
// be the host's to open.
func (i *inode) Mknod(ctx vfs.Context, name string, mode linux.FileMode, _ uint32) (vfs.Inode, error) {
	switch mode.FileType() {
	case linux.S_IFIFO, linux.S_IFSOCK:
	default:
		return nil, errno.EPERM
	}
	err := i.mutate(func(dirfd int) error {
		if err := unix.Mknodat(dirfd, name, uint32(mode.FileType())|uint32(mode.Permissions()), 0); err != nil {
			return hostErr(err)
		}
		// The host's umask may have cleared bits the guest asked for.
		unix.Fchmodat(dirfd, name, uint32(mode.Permissions()), 0)
		chownNew(ctx, dirfd, name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return i.child(name), nil
}
