// Package proc is procfs: /proc/[pid] for every process of the sandbox,
// /proc/self and /proc/thread-self, system files (cpuinfo, meminfo, stat,
// uptime, loadavg, version, filesystems, mounts) and a small /proc/sys,
// built only from the sentry's own view of the guest (its pid namespace,
// memory maps, fd tables and mount table). The only host data shown is the
// CPU description (/proc/cpuinfo), which a guest can learn from CPUID
// anyway.
//
// Every directory is dynamic (vfs.DynamicDir): entries are computed for
// the caller at each lookup, and file contents are generated when a file is
// opened, as Linux's seq_file does.
package proc

import (
	"slices"
	"strconv"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
	"github.com/runsc-lite/runsc-lite/sentry/inet"
)

// Process is what procfs shows of a guest process, or of one of its
// threads (then PID is still the process's id and TID the thread's).
type Process interface {
	// PID and PPID are ids in the sandbox's pid namespace (PPID 0 for
	// init); TID is the thread's id (PID for a process view).
	PID() int32
	PPID() int32
	TID() int32
	// Comm is the thread's name (at most 15 bytes).
	Comm() string
	// ExePath is the guest path of the executable.
	ExePath() string
	// Cwd and Root are the working and root directories.
	Cwd() vfs.VirtualDentry
	Root() vfs.VirtualDentry
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
	// Threads returns a view of each live thread, by tid.
	Threads() []Process
	// VirtualSize returns the address space size in bytes.
	VirtualSize() uint64
	// Umask returns the file mode creation mask.
	Umask() uint32
	// FDs returns the open file descriptors in increasing order.
	FDs() []int32
	// FD returns the file fd refers to with a new reference, or nil.
	FD(fd int32) *vfs.FileDescription
	// State is 'Z' for a zombie, 'T' when stopped, else 'S'.
	State() byte
	// PGID and SID are the process group and session.
	PGID() int32
	SID() int32
	// Limit returns resource r's soft and hard limits.
	Limit(r int) (cur, max uint64)
}

// Kernel is what procfs shows of the whole sandbox.
type Kernel interface {
	// Processes returns every process, zombies included, by pid.
	Processes() []Process
	// Process returns the process with id pid, or nil.
	Process(pid int32) Process
	// Thread returns the thread with id tid, or nil.
	Thread(tid int32) Process
	// Uptime is how long the sandbox has run; BootTime when it started.
	Uptime() time.Duration
	BootTime() time.Time
	// MemInfo returns the total and free memory in bytes.
	MemInfo() (total, free uint64)
	// Hostname and Release are uname's nodename and release.
	Hostname() string
	Release() string
	// LastPID is the most recently allocated id.
	LastPID() int32
	// NetworkStack is the sandbox's network stack (/proc/net); nil if
	// it has none.
	NetworkStack() inet.Stack
}

// Context is a vfs.Context that knows its process. procfs type-asserts its
// vfs.Context to it; callers that are not guest tasks see no /proc/self.
type Context interface {
	vfs.Context
	// ProcSelf returns the calling thread.
	ProcSelf() Process
}

// KernelContext is a Context that also knows the sandbox, so that every
// process shows in /proc (otherwise only the caller's does).
type KernelContext interface {
	Context
	ProcKernel() Kernel
}

// Filesystem is a procfs instance.
type Filesystem struct {
	// bootID is /proc/sys/kernel/random/boot_id. Immutable.
	bootID string
}

// New returns a procfs and its root directory.
func New() (*Filesystem, vfs.DirInode) {
	fs := &Filesystem{bootID: newUUID()}
	return fs, &rootDir{fs: fs}
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

// kernelOf returns the sandbox ctx belongs to, or a kernel that holds only
// the caller if ctx does not know it.
func kernelOf(ctx vfs.Context) Kernel {
	if kc, ok := ctx.(KernelContext); ok {
		if k := kc.ProcKernel(); k != nil {
			return k
		}
	}
	if p := self(ctx); p != nil {
		return selfOnly{p}
	}
	return nil
}

// selfOnly is the Kernel of a caller that cannot see the sandbox.
type selfOnly struct{ p Process }

func (k selfOnly) Processes() []Process { return []Process{k.p} }
func (k selfOnly) Process(pid int32) Process {
	if pid == k.p.PID() {
		return k.p
	}
	return nil
}
func (k selfOnly) Thread(tid int32) Process {
	if tid == k.p.TID() {
		return k.p
	}
	return nil
}
func (selfOnly) Uptime() time.Duration         { return 0 }
func (selfOnly) BootTime() time.Time           { return time.Now() }
func (selfOnly) MemInfo() (total, free uint64) { return 1 << 30, 1 << 29 }
func (selfOnly) Hostname() string              { return "localhost" }
func (selfOnly) Release() string               { return "6.1.0" }
func (k selfOnly) LastPID() int32              { return k.p.PID() }
func (selfOnly) NetworkStack() inet.Stack      { return nil }

// Inode numbers: fixed ones for the root and its system files, and
// per-process ranges for the rest, so that they are stable across lookups.
const (
	rootIno = 1
	selfIno = 2
	// sysIno is the first of the system files' numbers.
	sysIno = 16
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
func (roDir) Link(vfs.Context, string, vfs.Inode) (vfs.Inode, error)        { return nil, errno.EACCES }
func (roDir) Unlink(vfs.Context, string, vfs.Inode) error                   { return errno.EACCES }
func (roDir) Rmdir(vfs.Context, string, vfs.Inode) error                    { return errno.EACCES }
func (roDir) Rename(vfs.Context, string, vfs.Inode, vfs.DirInode, string, vfs.Inode) error {
	return errno.EACCES
}

// Open implements vfs.Inode.Open for directories (the VFS opens them).
func (roDir) Open(vfs.Context, uint32) (vfs.FileDescriptionImpl, error) { return nil, errno.EISDIR }

// staticDir is a directory with a fixed set of entries.
type staticDir struct {
	roDir
	base
	entries map[string]vfs.Inode
}

// Open implements vfs.Inode.Open.
func (d *staticDir) Open(vfs.Context, uint32) (vfs.FileDescriptionImpl, error) {
	return nil, errno.EISDIR
}

// Lookup implements vfs.DirInode.Lookup.
func (d *staticDir) Lookup(_ vfs.Context, name string) (vfs.Inode, error) {
	if in, ok := d.entries[name]; ok {
		return in, nil
	}
	return nil, errno.ENOENT
}

// Readdir implements vfs.DirInode.Readdir, in name order.
func (d *staticDir) Readdir(ctx vfs.Context) ([]vfs.Dirent, error) {
	return direntsOf(ctx, d.entries), nil
}

func direntsOf(ctx vfs.Context, entries map[string]vfs.Inode) []vfs.Dirent {
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	slices.Sort(names)
	ents := make([]vfs.Dirent, 0, len(names))
	for _, name := range names {
		st, _ := entries[name].Stat(ctx)
		ents = append(ents, vfs.Dirent{Name: name, Ino: st.Ino, Type: st.FileMode().DirentType()})
	}
	return ents
}

// rootDir is /proc.
type rootDir struct {
	roDir
	fs *Filesystem
}

var _ vfs.DirInode = (*rootDir)(nil)

// Stat implements vfs.Inode.Stat.
func (d *rootDir) Stat(ctx vfs.Context) (linux.Statx, error) {
	return (&base{ino: rootIno, mode: linux.S_IFDIR | 0o555}).Stat(ctx)
}

// SetStat implements vfs.Inode.SetStat.
func (d *rootDir) SetStat(vfs.Context, *vfs.SetStatOptions) error { return errno.EPERM }

// systemEntries returns the entries of /proc other than the processes.
func (d *rootDir) systemEntries(ctx vfs.Context, k Kernel, p Process) map[string]vfs.Inode {
	ino := uint64(sysIno)
	next := func(mode linux.FileMode) base {
		ino++
		return base{ino: ino, mode: mode}
	}
	text := func(gen func() []byte) vfs.Inode { return &file{base: next(linux.S_IFREG | 0o444), gen: gen} }
	m := map[string]vfs.Inode{
		"cpuinfo":     text(cpuinfoText),
		"meminfo":     text(func() []byte { return meminfoText(k) }),
		"stat":        text(func() []byte { return statGlobalText(k) }),
		"uptime":      text(func() []byte { return uptimeText(k) }),
		"loadavg":     text(func() []byte { return loadavgText(k) }),
		"version":     text(func() []byte { return versionText(k) }),
		"filesystems": text(filesystemsText),
		"mounts":      &symlink{base: next(linux.S_IFLNK | 0o777), target: func() (string, error) { return "self/mounts", nil }},
		"sys":         d.fs.sysDir(k, next),
	}
	if p != nil {
		m["self"] = &symlink{base: base{ino: selfIno, mode: linux.S_IFLNK | 0o777}, target: func() (string, error) {
			return strconv.Itoa(int(p.PID())), nil
		}}
		m["thread-self"] = &symlink{base: next(linux.S_IFLNK | 0o777), target: func() (string, error) {
			return strconv.Itoa(int(p.PID())) + "/task/" + strconv.Itoa(int(p.TID())), nil
		}}
	}
	// "/proc/net ... is now a symbolic link to /proc/self/net" - proc(5).
	m["net"] = &symlink{base: next(linux.S_IFLNK | 0o777), target: func() (string, error) { return "self/net", nil }}
	return m
}

// Lookup implements vfs.DirInode.Lookup.
func (d *rootDir) Lookup(ctx vfs.Context, name string) (vfs.Inode, error) {
	k := kernelOf(ctx)
	if k == nil {
		return nil, errno.ENOENT
	}
	p := self(ctx)
	if n, err := strconv.ParseInt(name, 10, 32); err == nil && n > 0 && strconv.Itoa(int(n)) == name {
		// Like Linux, /proc/[tid] works for any thread, though only
		// processes are listed.
		if proc := k.Process(int32(n)); proc != nil {
			return newPIDDir(k, proc, false), nil
		}
		if th := k.Thread(int32(n)); th != nil {
			return newPIDDir(k, th, true), nil
		}
		return nil, errno.ENOENT
	}
	if in, ok := d.systemEntries(ctx, k, p)[name]; ok {
		return in, nil
	}
	return nil, errno.ENOENT
}

// Readdir implements vfs.DirInode.Readdir.
func (d *rootDir) Readdir(ctx vfs.Context) ([]vfs.Dirent, error) {
	k := kernelOf(ctx)
	if k == nil {
		return nil, nil
	}
	ents := direntsOf(ctx, d.systemEntries(ctx, k, self(ctx)))
	for _, p := range k.Processes() {
		ents = append(ents, vfs.Dirent{Name: strconv.Itoa(int(p.PID())), Ino: pidIno(p.PID(), 0), Type: linux.DT_DIR})
	}
	return ents, nil
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
	// write, if set, makes the file writable: each write(2) passes its
	// data here.
	write func(ctx vfs.Context, data []byte) error
}

// Open implements vfs.Inode.Open.
func (f *file) Open(_ vfs.Context, flags uint32) (vfs.FileDescriptionImpl, error) {
	if flags&linux.O_ACCMODE != linux.O_RDONLY && f.write == nil {
		return nil, errno.EACCES
	}
	return &bufferFD{data: f.gen(), write: f.write}, nil
}

// SetStat implements vfs.Inode.SetStat: truncation of a writable file is
// accepted (shells open with O_TRUNC for "echo 1 > file").
func (f *file) SetStat(_ vfs.Context, opts *vfs.SetStatOptions) error {
	if f.write != nil && opts.Stat.Mask&^linux.STATX_SIZE == 0 {
		return nil
	}
	return errno.EPERM
}

// bufferFD reads a snapshot.
type bufferFD struct {
	vfs.FileDescriptionDefaultImpl
	data  []byte
	write func(ctx vfs.Context, data []byte) error
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
func (f *bufferFD) Write(ctx vfs.Context, src []byte, _ int64) (int, error) {
	if f.write == nil {
		return 0, errno.EBADF
	}
	if err := f.write(ctx, src); err != nil {
		return 0, err
	}
	return len(src), nil
}
