// Package proc is a minimal procfs: /proc/self and /proc/[pid] for the
// calling process, built only from the sentry's own view of the guest (its
// pid namespace, memory map and fd table). Nothing comes from the host's
// /proc.
//
// Every directory is dynamic (vfs.DynamicDir): entries are computed for
// the caller at each lookup, and file contents are generated when a file is
// opened, as Linux's seq_file does.
package proc

import (
	"strconv"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

// Process is what procfs shows of a guest process. *kernel.Task provides
// one for its own process.
type Process interface {
	// PID and PPID are ids in the sandbox's pid namespace (PPID 0 for
	// init).
	PID() int32
	PPID() int32
	// Comm is the thread's name (at most 15 bytes).
	Comm() string
	// ExePath is the guest path of the executable.
	ExePath() string
	// Cwd is the working directory.
	Cwd() vfs.VirtualDentry
	// Cmdline and Environ return the argument and environment areas of
	// the process's memory: NUL-terminated strings, back to back.
	Cmdline() []byte
	Environ() []byte
	// Maps returns the /proc/[pid]/maps text.
	Maps() string
	// Credentials returns the process's credentials.
	Credentials() *auth.Credentials
	// NumThreads returns the number of threads.
	NumThreads() int
	// VirtualSize returns the address space size in bytes.
	VirtualSize() uint64
	// Umask returns the file mode creation mask.
	Umask() uint32
	// FDs returns the open file descriptors in increasing order.
	FDs() []int32
	// FD returns the file fd refers to with a new reference, or nil.
	FD(fd int32) *vfs.FileDescription
}

// Context is a vfs.Context that knows its process. procfs type-asserts its
// vfs.Context to it; callers that are not guest tasks see no /proc/self.
type Context interface {
	vfs.Context
	// ProcSelf returns the calling process.
	ProcSelf() Process
}

// Filesystem is a procfs instance.
type Filesystem struct{}

// New returns a procfs and its root directory.
func New() (*Filesystem, vfs.DirInode) {
	return &Filesystem{}, &rootDir{}
}

// Name implements vfs.FilesystemImpl.Name.
func (*Filesystem) Name() string { return "proc" }

// StatFS implements vfs.FilesystemImpl.StatFS.
func (*Filesystem) StatFS(vfs.Context) (linux.Statfs, error) {
	return linux.Statfs{Type: linux.PROC_SUPER_MAGIC, Bsize: 4096, Frsize: 4096, Namelen: linux.NAME_MAX}, nil
}

func self(ctx vfs.Context) Process {
	if pc, ok := ctx.(Context); ok {
		return pc.ProcSelf()
	}
	return nil
}

// Inode numbers: fixed ones for the root and /proc/self, and per-process
// ranges for the rest, so that they are stable across lookups.
const (
	rootIno = 1
	selfIno = 2
)

func pidIno(pid int32, slot uint64) uint64 { return uint64(pid)<<32 | slot }

// base holds what every procfs inode shares.
type base struct {
	ino   uint64
	mode  linux.FileMode
	owner *auth.Credentials
}

// Stat implements vfs.Inode.Stat.
func (b *base) Stat(vfs.Context) (linux.Statx, error) {
	now := vfs.NowStatxTimestamp()
	st := linux.Statx{
		Mask: linux.STATX_BASIC_STATS, Blksize: 4096, Nlink: 1, Mode: uint16(b.mode), Ino: b.ino,
		Atime: now, Mtime: now, Ctime: now,
	}
	if b.mode.IsDir() {
		st.Nlink = 2
	}
	if b.owner != nil {
		st.UID, st.GID = uint32(b.owner.EffectiveKUID), uint32(b.owner.EffectiveKGID)
	}
	return st, nil
}

// SetStat implements vfs.Inode.SetStat: "EPERM" as for most of procfs.
func (b *base) SetStat(vfs.Context, *vfs.SetStatOptions) error { return errno.EPERM }

// Open implements vfs.Inode.Open for inodes that cannot be opened.
func (b *base) Open(vfs.Context, uint32) (vfs.FileDescriptionImpl, error) { return nil, errno.ENXIO }

// roDir supplies the mutating methods of a read-only directory.
type roDir struct{}

// DynamicDir implements vfs.DynamicDir.
func (roDir) DynamicDir() {}

func (roDir) Create(vfs.Context, string, linux.FileMode) (vfs.Inode, error) { return nil, errno.EACCES }
func (roDir) Mkdir(vfs.Context, string, linux.FileMode) (vfs.Inode, error)  { return nil, errno.EACCES }
func (roDir) Symlink(vfs.Context, string, string) (vfs.Inode, error)        { return nil, errno.EACCES }
func (roDir) Link(vfs.Context, string, vfs.Inode) error                     { return errno.EACCES }
func (roDir) Unlink(vfs.Context, string, vfs.Inode) error                   { return errno.EACCES }
func (roDir) Rmdir(vfs.Context, string, vfs.Inode) error                    { return errno.EACCES }
func (roDir) Rename(vfs.Context, string, vfs.Inode, vfs.DirInode, string, vfs.Inode) error {
	return errno.EACCES
}

// rootDir is /proc.
type rootDir struct {
	roDir
}

var _ vfs.DirInode = (*rootDir)(nil)

// Stat implements vfs.Inode.Stat.
func (d *rootDir) Stat(ctx vfs.Context) (linux.Statx, error) {
	return (&base{ino: rootIno, mode: linux.S_IFDIR | 0o555}).Stat(ctx)
}

// SetStat implements vfs.Inode.SetStat.
func (d *rootDir) SetStat(vfs.Context, *vfs.SetStatOptions) error { return errno.EPERM }

// Open implements vfs.Inode.Open.
func (d *rootDir) Open(vfs.Context, uint32) (vfs.FileDescriptionImpl, error) {
	return nil, errno.EISDIR
}

// Lookup implements vfs.DirInode.Lookup.
func (d *rootDir) Lookup(ctx vfs.Context, name string) (vfs.Inode, error) {
	p := self(ctx)
	if p == nil {
		return nil, errno.ENOENT
	}
	switch name {
	case "self":
		return &symlink{base: base{ino: selfIno, mode: linux.S_IFLNK | 0o777}, target: func() (string, error) {
			return strconv.Itoa(int(p.PID())), nil
		}}, nil
	case strconv.Itoa(int(p.PID())):
		return newPIDDir(p), nil
	}
	return nil, errno.ENOENT
}

// Readdir implements vfs.DirInode.Readdir.
func (d *rootDir) Readdir(ctx vfs.Context) ([]vfs.Dirent, error) {
	p := self(ctx)
	if p == nil {
		return nil, nil
	}
	return []vfs.Dirent{
		{Name: strconv.Itoa(int(p.PID())), Ino: pidIno(p.PID(), 0), Type: linux.DT_DIR},
		{Name: "self", Ino: selfIno, Type: linux.DT_LNK},
	}, nil
}

// symlink is a procfs symlink whose target is computed when read.
type symlink struct {
	base
	target func() (string, error)
	// magic, if set, resolves the link directly (fd/N).
	magic func() (vfs.VirtualDentry, bool)
}

var _ vfs.MagicLinkInode = (*symlink)(nil)

// Readlink implements vfs.SymlinkInode.Readlink.
func (l *symlink) Readlink(vfs.Context) (string, error) { return l.target() }

// MagicLink implements vfs.MagicLinkInode.MagicLink.
func (l *symlink) MagicLink(vfs.Context) (vfs.VirtualDentry, bool) {
	if l.magic == nil {
		return vfs.VirtualDentry{}, false
	}
	return l.magic()
}

// file is a procfs file whose contents are generated at open.
type file struct {
	base
	gen func() []byte
}

// Open implements vfs.Inode.Open.
func (f *file) Open(_ vfs.Context, flags uint32) (vfs.FileDescriptionImpl, error) {
	if flags&linux.O_ACCMODE != linux.O_RDONLY {
		return nil, errno.EACCES
	}
	return &bufferFD{data: f.gen()}, nil
}

// bufferFD reads a snapshot.
type bufferFD struct {
	vfs.FileDescriptionDefaultImpl
	data []byte
}

// Read implements vfs.FileDescriptionImpl.Read.
func (f *bufferFD) Read(_ vfs.Context, dst []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errno.EINVAL
	}
	if off >= int64(len(f.data)) {
		return 0, nil
	}
	return copy(dst, f.data[off:]), nil
}

// Write implements vfs.FileDescriptionImpl.Write.
func (f *bufferFD) Write(vfs.Context, []byte, int64) (int, error) { return 0, errno.EBADF }
