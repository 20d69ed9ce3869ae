package kernel

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

// A Task is the vfs.Context of the syscalls it makes.
var _ vfs.Context = (*Task)(nil)

// VFS returns the tree t's root belongs to.
func (t *Task) VFS() *vfs.VirtualFilesystem {
	return t.FSContext().RootDirectory().Mount.VFS()
}

// GetFile returns the file for fd with a new reference (the caller must
// DecRef it), or nil if fd is not open.
func (t *Task) GetFile(fd int32) *vfs.FileDescription {
	f, _ := t.FDTable().Get(fd)
	return f
}

// OpenExecutable opens the file path names for execve or the loader:
// relative to the cwd, following symlinks, inside the task's root. The
// file must be a regular file that t's credentials may execute (EACCES
// otherwise); it is returned open read-only, whatever its read permission,
// as the kernel reads an executable it may only execute.
func (t *Task) OpenExecutable(path string) (*vfs.FileDescription, error) {
	fsc := t.FSContext()
	root := fsc.RootDirectory()
	v := root.Mount.VFS()
	vd, err := v.GetDentryAt(t, &vfs.PathOperation{Root: root, Start: fsc.WorkingDirectory(), Path: path, FollowFinalSymlink: true})
	if err != nil {
		return nil, err
	}
	st, err := v.Stat(t, vd)
	if err != nil {
		return nil, err
	}
	// "EACCES The file or a script interpreter is not a regular file" -
	// execve(2).
	if !st.FileMode().IsRegular() {
		return nil, errno.EACCES
	}
	if err := vfs.CheckPermissions(t.Credentials(), vfs.MayExec, st.FileMode(), auth.KUID(st.UID), auth.KGID(st.GID)); err != nil {
		return nil, err
	}
	// fs/exec.c:do_open_execat: nothing runs from a noexec mount.
	if vd.Mount.NoExec() {
		return nil, errno.EACCES
	}
	return v.Open(vfs.RootContext(), vd, linux.O_RDONLY)
}

// A Task limits the files it writes.
var _ vfs.FileSizeLimiter = (*Task)(nil)

// FileSizeLimit implements vfs.FileSizeLimiter: RLIMIT_FSIZE.
func (t *Task) FileSizeLimit() uint64 { return t.tg.Limit(RLIMIT_FSIZE).Cur }

// FileSizeExceeded implements vfs.FileSizeLimiter: "SIGXFSZ ... File size
// limit exceeded" - signal(7), sent to the writing thread.
func (t *Task) FileSizeExceeded() {
	t.SendSignal(&linux.SignalInfo{Signo: linux.SIGXFSZ, Code: linux.SI_KERNEL})
}
