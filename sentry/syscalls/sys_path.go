package syscalls

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// copyInPath reads a NUL-terminated path from guest memory: EFAULT for a
// bad pointer, ENAMETOOLONG if it does not fit PATH_MAX with its NUL.
func copyInPath(t *kernel.Task, addr hostarch.Addr) (string, error) {
	return t.CopyInString(addr, linux.PATH_MAX)
}

// pathOp returns the PathOperation for path relative to dirfd (AT_FDCWD
// for the cwd), as the *at syscalls interpret it.
func pathOp(t *kernel.Task, dirfd int32, path string, follow bool) (vfs.PathOperation, error) {
	fsc := t.FSContext()
	pop := vfs.PathOperation{Root: fsc.RootDirectory(), Path: path, FollowFinalSymlink: follow}
	switch {
	case path != "" && path[0] == '/':
		pop.Start = pop.Root
	case dirfd == linux.AT_FDCWD:
		pop.Start = fsc.WorkingDirectory()
	default:
		f := t.GetFile(dirfd)
		if f == nil {
			return pop, errno.EBADF
		}
		defer f.DecRef()
		vd := f.VirtualDentry()
		if !vd.Ok() {
			// A pipe or socket as dirfd.
			return pop, errno.ENOTDIR
		}
		pop.Start = vd
	}
	return pop, nil
}

// copyInPathOp combines copyInPath and pathOp.
func copyInPathOp(t *kernel.Task, dirfd int32, addr hostarch.Addr, follow bool) (vfs.PathOperation, error) {
	path, err := copyInPath(t, addr)
	if err != nil {
		return vfs.PathOperation{}, err
	}
	return pathOp(t, dirfd, path, follow)
}

// fileOrPath resolves the target of a syscall that takes AT_EMPTY_PATH:
// with an empty path and AT_EMPTY_PATH it is dirfd itself (the cwd for
// AT_FDCWD); otherwise the path is resolved.
func fileOrPath(t *kernel.Task, dirfd int32, addr hostarch.Addr, flags uint32) (vfs.VirtualDentry, *vfs.FileDescription, error) {
	path, err := copyInPath(t, addr)
	if err != nil {
		return vfs.VirtualDentry{}, nil, err
	}
	if path == "" && flags&linux.AT_EMPTY_PATH != 0 {
		if dirfd == linux.AT_FDCWD {
			return t.FSContext().WorkingDirectory(), nil, nil
		}
		f := t.GetFile(dirfd)
		if f == nil {
			return vfs.VirtualDentry{}, nil, errno.EBADF
		}
		return f.VirtualDentry(), f, nil
	}
	pop, err := pathOp(t, dirfd, path, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return vfs.VirtualDentry{}, nil, err
	}
	vd, err := t.VFS().GetDentryAt(t, &pop)
	return vd, nil, err
}

// realCredsContext makes access(2)'s checks with the real uid and gid:
// "The check is done using the calling process's real UID and GID, rather
// than the effective IDs" - access(2). Like fs/open.c:access_override_creds,
// a non-root real uid loses its capabilities, and root keeps its permitted
// set.
type realCredsContext struct {
	*kernel.Task
	creds *auth.Credentials
}

func (c realCredsContext) Credentials() *auth.Credentials { return c.creds }

func withRealCreds(t *kernel.Task) vfs.Context {
	c := t.Credentials().Fork()
	c.FSKUID, c.FSKGID = c.RealKUID, c.RealKGID
	if c.RealKUID != 0 {
		c.EffectiveCaps = 0
	} else {
		c.EffectiveCaps = c.PermittedCaps
	}
	return realCredsContext{t, c}
}
