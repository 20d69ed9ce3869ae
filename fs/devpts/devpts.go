// Package devpts is the pseudo-terminal filesystem mounted at /dev/pts:
// /dev/pts/ptmx (which /dev/ptmx links to) makes a new terminal pair on
// each open and returns its master; /dev/pts/N is the slave of pair N from
// unlockpt(3) until the master closes. The line discipline is in
// terminal.go; job control (sessions, foreground groups, signals) is the
// kernel's, reached through JobControl.
//
// Lock order: Filesystem.mu, then Terminal.mu; neither is held while
// calling JobControl or notifying waiters.
package devpts

import (
	"slices"
	"strconv"
	"sync"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

// ttyGID is the "tty" group, which owns slaves (devpts's gid=5 option).
const ttyGID = 5

// Inode numbers: the root is 1, ptmx 2, slave N is N+3 (as Linux numbers
// devpts inodes).
const (
	rootIno = 1
	ptmxIno = 2
)

// Filesystem is one devpts instance.
type Filesystem struct {
	btime linux.StatxTimestamp

	// mu protects slaves.
	mu sync.Mutex
	// slaves are the live terminals' slave inodes by index.
	slaves map[uint32]*slaveInode
}

// New returns a devpts filesystem and its root directory.
func New() (*Filesystem, vfs.DirInode) {
	fs := &Filesystem{btime: vfs.NowStatxTimestamp(), slaves: map[uint32]*slaveInode{}}
	return fs, &rootInode{fs: fs}
}

// Name implements vfs.FilesystemImpl.
func (fs *Filesystem) Name() string { return "devpts" }

// StatFS implements vfs.FilesystemImpl.
func (fs *Filesystem) StatFS(vfs.Context) (linux.Statfs, error) {
	return linux.Statfs{Type: 0x1cd1 /* DEVPTS_SUPER_MAGIC */, Bsize: 4096, Frsize: 4096, Namelen: linux.NAME_MAX}, nil
}

// newTerminal allocates the lowest free index for a new pair.
func (fs *Filesystem) newTerminal(ctx vfs.Context) *Terminal {
	uid, _ := vfs.Owner(ctx)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var idx uint32
	for fs.slaves[idx] != nil {
		idx++
	}
	var jc JobControl
	t := newTerminal(idx, nil)
	if tc, ok := ctx.(TTYContext); ok {
		jc = tc.NewJobControl(t)
	}
	if jc != nil {
		t.jc = jc
	}
	fs.slaves[idx] = &slaveInode{fs: fs, t: t, uid: uid, mode: 0o620, ctime: vfs.NowStatxTimestamp()}
	return t
}

// release forgets terminal t once its master has closed.
func (fs *Filesystem) release(t *Terminal) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if s := fs.slaves[t.Index]; s != nil && s.t == t {
		delete(fs.slaves, t.Index)
	}
}

// rootInode is the /dev/pts directory. Its entries change behind the
// VFS's back (a master's close removes a slave), so it is a DynamicDir.
type rootInode struct {
	fs *Filesystem
}

var (
	_ vfs.DirInode   = (*rootInode)(nil)
	_ vfs.DynamicDir = (*rootInode)(nil)
)

// DynamicDir implements vfs.DynamicDir.
func (*rootInode) DynamicDir() {}

// Stat implements vfs.Inode.
func (r *rootInode) Stat(vfs.Context) (linux.Statx, error) {
	ts := r.fs.btime
	return linux.Statx{Mask: linux.STATX_BASIC_STATS, Blksize: 4096, Nlink: 2, Mode: uint16(linux.S_IFDIR | 0o755),
		Ino: rootIno, Atime: ts, Mtime: ts, Ctime: ts, Btime: ts}, nil
}

// SetStat implements vfs.Inode.
func (r *rootInode) SetStat(vfs.Context, *vfs.SetStatOptions) error { return errno.EPERM }

// Open implements vfs.Inode; the VFS opens directories itself.
func (r *rootInode) Open(vfs.Context, uint32) (vfs.FileDescriptionImpl, error) {
	return nil, errno.EISDIR
}

// Lookup implements vfs.DirInode.
func (r *rootInode) Lookup(_ vfs.Context, name string) (vfs.Inode, error) {
	if name == "ptmx" {
		return &ptmxInode{fs: r.fs}, nil
	}
	idx, err := strconv.ParseUint(name, 10, 32)
	if err != nil || strconv.FormatUint(idx, 10) != name {
		return nil, errno.ENOENT
	}
	r.fs.mu.Lock()
	defer r.fs.mu.Unlock()
	if s := r.fs.slaves[uint32(idx)]; s != nil {
		return s, nil
	}
	return nil, errno.ENOENT
}

// Readdir implements vfs.DirInode.
func (r *rootInode) Readdir(vfs.Context) ([]vfs.Dirent, error) {
	r.fs.mu.Lock()
	idxs := make([]uint32, 0, len(r.fs.slaves))
	for i := range r.fs.slaves {
		idxs = append(idxs, i)
	}
	r.fs.mu.Unlock()
	slices.Sort(idxs)
	ents := []vfs.Dirent{{Name: "ptmx", Ino: ptmxIno, Type: linux.DT_CHR}}
	for _, i := range idxs {
		ents = append(ents, vfs.Dirent{Name: strconv.FormatUint(uint64(i), 10), Ino: uint64(i) + 3, Type: linux.DT_CHR})
	}
	return ents, nil
}

// Create implements vfs.DirInode: devpts holds only what it makes.
func (r *rootInode) Create(vfs.Context, string, linux.FileMode) (vfs.Inode, error) {
	return nil, errno.EPERM
}

// Mkdir implements vfs.DirInode.
func (r *rootInode) Mkdir(vfs.Context, string, linux.FileMode) (vfs.Inode, error) {
	return nil, errno.EPERM
}

// Symlink implements vfs.DirInode.
func (r *rootInode) Symlink(vfs.Context, string, string) (vfs.Inode, error) {
	return nil, errno.EPERM
}

// Link implements vfs.DirInode.
func (r *rootInode) Link(vfs.Context, string, vfs.Inode) (vfs.Inode, error) { return nil, errno.EPERM }

// Unlink implements vfs.DirInode.
func (r *rootInode) Unlink(vfs.Context, string, vfs.Inode) error { return errno.EPERM }

// Rmdir implements vfs.DirInode.
func (r *rootInode) Rmdir(vfs.Context, string, vfs.Inode) error { return errno.EPERM }

// Rename implements vfs.DirInode.
func (r *rootInode) Rename(vfs.Context, string, vfs.Inode, vfs.DirInode, string, vfs.Inode) error {
	return errno.EPERM
}

// ptmxInode is /dev/pts/ptmx, the pseudo-terminal multiplexer.
type ptmxInode struct {
	fs *Filesystem
}

// Stat implements vfs.Inode: character device 5:2, mode 0666 (devpts's
// ptmxmode=666 option, so that /dev/ptmx can link here).
func (p *ptmxInode) Stat(vfs.Context) (linux.Statx, error) {
	ts := p.fs.btime
	return linux.Statx{Mask: linux.STATX_BASIC_STATS, Blksize: 4096, Nlink: 1, Mode: uint16(linux.S_IFCHR | 0o666),
		Ino: ptmxIno, Atime: ts, Mtime: ts, Ctime: ts, Btime: ts,
		RdevMajor: linux.TTYAUX_MAJOR, RdevMinor: linux.PTMX_MINOR}, nil
}

// SetStat implements vfs.Inode.
func (p *ptmxInode) SetStat(vfs.Context, *vfs.SetStatOptions) error { return errno.EPERM }

// Open implements vfs.Inode: a new terminal pair, locked.
func (p *ptmxInode) Open(ctx vfs.Context, flags uint32) (vfs.FileDescriptionImpl, error) {
	return &masterFD{fs: p.fs, t: p.fs.newTerminal(ctx)}, nil
}

// slaveInode is /dev/pts/N.
type slaveInode struct {
	fs *Filesystem
	// t is the terminal. Immutable.
	t *Terminal

	// mu protects the attributes below (grantpt(3)'s chown and chmod).
	mu    sync.Mutex
	uid   auth.KUID
	mode  linux.FileMode
	ctime linux.StatxTimestamp
}

// Stat implements vfs.Inode: character device 136:N owned by the opener
// of the master and group tty, mode 0620.
func (s *slaveInode) Stat(vfs.Context) (linux.Statx, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return linux.Statx{Mask: linux.STATX_BASIC_STATS, Blksize: 1024, Nlink: 1, Mode: uint16(linux.S_IFCHR | s.mode),
		UID: uint32(s.uid), GID: ttyGID, Ino: uint64(s.t.Index) + 3,
		Atime: s.ctime, Mtime: s.ctime, Ctime: s.ctime, Btime: s.ctime,
		RdevMajor: linux.UNIX98_PTY_SLAVE_MAJOR, RdevMinor: s.t.Index}, nil
}

// SetStat implements vfs.Inode: mode, owner and times may change.
func (s *slaveInode) SetStat(_ vfs.Context, opts *vfs.SetStatOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &opts.Stat
	if st.Mask&linux.STATX_SIZE != 0 {
		return errno.EINVAL
	}
	if st.Mask&linux.STATX_MODE != 0 {
		s.mode = linux.FileMode(st.Mode).Permissions()
	}
	if st.Mask&linux.STATX_UID != 0 {
		s.uid = auth.KUID(st.UID)
	}
	s.ctime = vfs.NowStatxTimestamp()
	return nil
}

// Open implements vfs.Inode: "EIO" while the pair is locked or after the
// master closed (drivers/tty/pty.c:pty_open and tty_reopen).
func (s *slaveInode) Open(ctx vfs.Context, flags uint32) (vfs.FileDescriptionImpl, error) {
	return s.t.openSlave(ctx, flags)
}

// openSlave opens the slave of t (for /dev/pts/N, TIOCGPTPEER and
// /dev/tty).
func (t *Terminal) openSlave(ctx vfs.Context, flags uint32) (vfs.FileDescriptionImpl, error) {
	t.mu.Lock()
	if t.locked || !t.masterOpen {
		t.mu.Unlock()
		return nil, errno.EIO
	}
	t.slaveOpens++
	t.slaveClosed = false
	t.mu.Unlock()
	if flags&linux.O_NOCTTY == 0 {
		t.jc.OpenedBy(ctx)
	}
	t.masterQ.Notify(vfs.EventIn | vfs.EventOut)
	return &slaveFD{t: t}, nil
}

// OpenTTY opens the slave for /dev/tty, whose open makes the caller's
// controlling terminal (drivers/tty/tty_io.c:tty_open_current_tty).
func (t *Terminal) OpenTTY(ctx vfs.Context, flags uint32) (vfs.FileDescriptionImpl, error) {
	return t.openSlave(ctx, flags|linux.O_NOCTTY)
}
