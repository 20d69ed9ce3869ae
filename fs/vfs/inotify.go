package vfs

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// inotifyMaxQueued is /proc/sys/fs/inotify/max_queued_events's default.
const inotifyMaxQueued = 16384

// watchRegistry holds every inotify watch of a VirtualFilesystem, by the
// inode watched. Lock order: VirtualFilesystem.treeMu, then
// watchRegistry.mu, then Inotify.mu.
type watchRegistry struct {
	// count is the number of watches, so that the VFS skips all event
	// work while nobody watches anything.
	count atomic.Int32
	// cookies numbers rename pairs (IN_MOVED_FROM/IN_MOVED_TO).
	cookies atomic.Uint32

	mu sync.Mutex
	// byInode maps an inode to its watches. Protected by mu.
	byInode map[Inode]map[*watch]struct{}
}

// watch is one inotify watch: an instance's interest in an inode.
type watch struct {
	in     *Inotify
	wd     int32
	target Inode
	// mask is the events and flags (IN_ONESHOT...). Protected by
	// watchRegistry.mu.
	mask uint32
}

// inotifyEvent is one queued event.
type inotifyEvent struct {
	wd           int32
	mask, cookie uint32
	name         string
}

// size is the event's size as read(2) returns it: the name is padded
// with NULs to a multiple of the header size (fs/notify/inotify).
func (e *inotifyEvent) size() int {
	if e.name == "" {
		return linux.SizeofInotifyEvent
	}
	n := len(e.name) + 1
	n = (n + linux.SizeofInotifyEvent - 1) / linux.SizeofInotifyEvent * linux.SizeofInotifyEvent
	return linux.SizeofInotifyEvent + n
}

// Inotify is an inotify instance's file (inotify_init1(2)).
type Inotify struct {
	FileDescriptionDefaultImpl
	WaitQueue
	vfs *VirtualFilesystem

	// mu protects the fields below.
	mu      sync.Mutex
	events  []inotifyEvent
	nextWD  int32
	watches map[int32]*watch
}

// NewInotify returns a new inotify file with the given O_NONBLOCK flag.
func (vfs *VirtualFilesystem) NewInotify(flags uint32) *FileDescription {
	in := &Inotify{vfs: vfs, nextWD: 1, watches: map[int32]*watch{}}
	return NewFileDescription(in, linux.O_RDONLY|flags&linux.O_NONBLOCK, VirtualDentry{},
		FileDescriptionOptions{Stream: true, Name: "anon_inode:inotify"})
}

// Stat implements FileDescriptionImpl.
func (in *Inotify) Stat(Context) (linux.Statx, error) {
	return linux.Statx{Mask: linux.STATX_BASIC_STATS, Blksize: 4096, Nlink: 1, Mode: 0o600, DevMinor: 14}, nil
}

// Write implements FileDescriptionImpl.
func (in *Inotify) Write(Context, []byte, int64) (int, error) { return 0, errno.EBADF }

// Read implements FileDescriptionImpl: whole events only, "EINVAL" if
// the buffer cannot hold the first one (inotify(7)).
func (in *Inotify) Read(_ Context, dst []byte, _ int64) (int, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.events) == 0 {
		return 0, errno.EAGAIN
	}
	n := 0
	for len(in.events) > 0 {
		e := &in.events[0]
		sz := e.size()
		if sz > len(dst)-n {
			if n == 0 {
				return 0, errno.EINVAL
			}
			break
		}
		b := dst[n : n+sz]
		clear(b)
		binary.LittleEndian.PutUint32(b[0:], uint32(e.wd))
		binary.LittleEndian.PutUint32(b[4:], e.mask)
		binary.LittleEndian.PutUint32(b[8:], e.cookie)
		binary.LittleEndian.PutUint32(b[12:], uint32(sz-linux.SizeofInotifyEvent))
		copy(b[linux.SizeofInotifyEvent:], e.name)
		n += sz
		in.events = in.events[1:]
	}
	if len(in.events) == 0 {
		in.events = nil
	}
	return n, nil
}

// Readiness implements FileDescriptionImpl.
func (in *Inotify) Readiness(mask EventMask) EventMask {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.events) > 0 {
		return mask & EventIn
	}
	return 0
}

// Ioctl implements FileDescriptionImpl: FIONREAD is the bytes queued.
func (in *Inotify) Ioctl(_ Context, mem UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	if cmd != linux.FIONREAD {
		return 0, errno.ENOTTY
	}
	in.mu.Lock()
	n := 0
	for i := range in.events {
		n += in.events[i].size()
	}
	in.mu.Unlock()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	_, err := mem.CopyOutBytes(hostarch.Addr(arg), b[:])
	return 0, err
}

// Release implements FileDescriptionImpl: every watch goes.
func (in *Inotify) Release() {
	r := &in.vfs.watches
	r.mu.Lock()
	defer r.mu.Unlock()
	in.mu.Lock()
	ws := in.watches
	in.watches = map[int32]*watch{}
	in.mu.Unlock()
	for _, w := range ws {
		r.removeLocked(w)
	}
}

// queue appends an event, merging it with an identical last one and
// reporting IN_Q_OVERFLOW once the queue is full.
func (in *Inotify) queue(e inotifyEvent) {
	in.mu.Lock()
	if k := len(in.events); k > 0 && in.events[k-1] == e {
		in.mu.Unlock()
		return
	}
	switch k := len(in.events); {
	case k == inotifyMaxQueued:
		e = inotifyEvent{wd: -1, mask: linux.IN_Q_OVERFLOW}
		if in.events[k-1] == e {
			in.mu.Unlock()
			return
		}
	case k > inotifyMaxQueued:
		in.mu.Unlock()
		return
	}
	in.events = append(in.events, e)
	in.mu.Unlock()
	in.Notify(EventIn)
}

// AddWatch implements inotify_add_watch(2) for the file target (already
// resolved, with IN_DONT_FOLLOW and IN_ONLYDIR applied by the caller).
func (in *Inotify) AddWatch(target Inode, mask uint32) (int32, error) {
	r := &in.vfs.watches
	r.mu.Lock()
	defer r.mu.Unlock()
	for w := range r.byInode[target] {
		if w.in != in {
			continue
		}
		if mask&linux.IN_MASK_CREATE != 0 {
			return 0, errno.EEXIST
		}
		if mask&linux.IN_MASK_ADD != 0 {
			w.mask |= mask &^ linux.IN_MASK_ADD
		} else {
			w.mask = mask
		}
		return w.wd, nil
	}
	in.mu.Lock()
	w := &watch{in: in, wd: in.nextWD, target: target, mask: mask &^ (linux.IN_MASK_ADD | linux.IN_MASK_CREATE)}
	in.nextWD++
	in.watches[w.wd] = w
	in.mu.Unlock()
	if r.byInode == nil {
		r.byInode = map[Inode]map[*watch]struct{}{}
	}
	if r.byInode[target] == nil {
		r.byInode[target] = map[*watch]struct{}{}
	}
	r.byInode[target][w] = struct{}{}
	r.count.Add(1)
	return w.wd, nil
}

// RmWatch implements inotify_rm_watch(2): the watch goes with an
// IN_IGNORED event.
func (in *Inotify) RmWatch(wd int32) error {
	r := &in.vfs.watches
	r.mu.Lock()
	defer r.mu.Unlock()
	in.mu.Lock()
	w := in.watches[wd]
	in.mu.Unlock()
	if w == nil {
		return errno.EINVAL
	}
	r.removeLocked(w)
	in.queue(inotifyEvent{wd: wd, mask: linux.IN_IGNORED})
	return nil
}

// removeLocked forgets w.
//
// Preconditions: r.mu is held.
func (r *watchRegistry) removeLocked(w *watch) {
	ws := r.byInode[w.target]
	if _, ok := ws[w]; !ok {
		return
	}
	delete(ws, w)
	if len(ws) == 0 {
		delete(r.byInode, w.target)
	}
	r.count.Add(-1)
	w.in.mu.Lock()
	delete(w.in.watches, w.wd)
	w.in.mu.Unlock()
}

// deliver queues event mask for inode's watches, with name for a
// directory's watch reporting on a child. IN_ONESHOT watches go after
// their first event; dead drops every watch (the inode is gone) after
// the event, with IN_IGNORED.
func (r *watchRegistry) deliver(inode Inode, mask, cookie uint32, name string, dead bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for w := range r.byInode[inode] {
		if ev := mask & linux.IN_ALL_EVENTS; ev&w.mask != 0 {
			w.in.queue(inotifyEvent{wd: w.wd, mask: mask, cookie: cookie, name: name})
			if w.mask&linux.IN_ONESHOT != 0 && !dead {
				r.removeLocked(w)
				w.in.queue(inotifyEvent{wd: w.wd, mask: linux.IN_IGNORED})
			}
		}
		if dead {
			r.removeLocked(w)
			w.in.queue(inotifyEvent{wd: w.wd, mask: linux.IN_IGNORED})
		}
	}
}

// watching reports whether anything is watched at all.
func (vfs *VirtualFilesystem) watching() bool { return vfs.watches.count.Load() != 0 }

// isDirMask returns IN_ISDIR if d is a directory.
func isDirMask(d *Dentry) uint32 {
	if t := d.ftype.Load(); linux.FileMode(t) == linux.S_IFDIR {
		return linux.IN_ISDIR
	}
	if st, err := d.inode.Stat(RootContext()); err == nil && st.FileMode().IsDir() {
		return linux.IN_ISDIR
	}
	return 0
}

// notifyLocked reports event ev on the file d: to d's own watches, and to
// its parent's watches with d's name (fsnotify_parent).
//
// Preconditions: treeMu is held.
func (vfs *VirtualFilesystem) notifyLocked(d *Dentry, ev uint32) {
	if !vfs.watching() {
		return
	}
	mask := ev | isDirMask(d)
	if d.parent != nil && !d.deleted {
		vfs.watches.deliver(d.parent.inode, mask, 0, d.name, false)
	}
	vfs.watches.deliver(d.inode, mask, 0, "", false)
}

// notify is notifyLocked for callers without treeMu.
func (vfs *VirtualFilesystem) notify(d *Dentry, ev uint32) {
	if !vfs.watching() {
		return
	}
	vfs.treeMu.RLock()
	defer vfs.treeMu.RUnlock()
	vfs.notifyLocked(d, ev)
}

// notifyDirLocked reports a change of a directory's entry name (IN_CREATE,
// IN_DELETE, IN_MOVED_*) to the directory's watches; child is the entry's
// dentry, for IN_ISDIR.
func (vfs *VirtualFilesystem) notifyDirLocked(dir *Dentry, ev, cookie uint32, name string, child *Dentry) {
	if !vfs.watching() {
		return
	}
	vfs.watches.deliver(dir.inode, ev|isDirMask(child), cookie, name, false)
}

// notifyLinkCountLocked reports that d's inode lost (or gained) a link:
// IN_ATTRIB, as fsnotify_link_count.
func (vfs *VirtualFilesystem) notifyLinkCountLocked(d *Dentry) {
	if vfs.watching() {
		vfs.watches.deliver(d.inode, linux.IN_ATTRIB|isDirMask(d), 0, "", false)
	}
}

// notifyDeadLocked reports IN_DELETE_SELF, and ends every watch on d's
// inode, if it has no link left (always for a removed directory).
func (vfs *VirtualFilesystem) notifyDeadLocked(ctx Context, d *Dentry, dir bool) {
	if !vfs.watching() {
		return
	}
	if !dir {
		// A filesystem whose inodes are names (hostfs) can't stat a
		// removed name at all: that file is gone too.
		if st, err := d.inode.Stat(ctx); (err != nil && err != errno.ENOENT) || (err == nil && st.Nlink != 0) {
			return
		}
	}
	// Self events carry no IN_ISDIR.
	vfs.watches.deliver(d.inode, linux.IN_DELETE_SELF, 0, "", true)
}

// notifyFile reports a read, write, open or close of fd.
func (fd *FileDescription) notifyFile(ev uint32) {
	if !fd.vd.Ok() || !fd.vd.Mount.vfs.watching() || fd.IsPath() {
		return
	}
	fd.vd.Mount.vfs.notify(fd.vd.Dentry, ev)
}
