package vfs

import (
	"sync"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
)

// Advisory file locks: flock(2) locks, owned by an open file description,
// and fcntl(2) record locks, owned by an fd table (classic POSIX locks,
// fs/locks.c uses current->files) or by an open file description (OFD
// locks). The two kinds never conflict with each other, as on Linux.
// Locks are kept per inode in a sandbox-wide table.

// LockType is F_RDLCK, F_WRLCK or F_UNLCK.
type LockType int16

// LockRange is a byte range [Start, End); End is LockEOF for "to the end
// of the file, however it grows".
type LockRange struct {
	Start, End uint64
}

// LockEOF is the End of a range that extends to the end of the file.
const LockEOF = ^uint64(0)

func (r LockRange) overlaps(o LockRange) bool { return r.Start < o.End && o.Start < r.End }

// lockRecord is one held lock.
type lockRecord struct {
	owner any
	typ   LockType
	r     LockRange
	// pid is the holder's process, for F_GETLK (-1 for OFD locks).
	pid int32
}

// inodeLocks are the locks held on one inode.
type inodeLocks struct {
	// flocks have whole-file ranges; posix holds record locks.
	flocks []lockRecord
	posix  []lockRecord
	// changed is closed (and replaced) whenever a lock is released or
	// downgraded, waking blocked lockers.
	changed chan struct{}
}

// lockTable maps an Inode to its locks. Entries stay once made (a small
// leak per locked inode, bounded by the files the guest locks).
var lockTable struct {
	mu    sync.Mutex
	locks map[Inode]*inodeLocks
}

// locksOf returns in's lock state.
//
// Preconditions: lockTable.mu is held.
func locksOf(in Inode) *inodeLocks {
	if lockTable.locks == nil {
		lockTable.locks = map[Inode]*inodeLocks{}
	}
	l := lockTable.locks[in]
	if l == nil {
		l = &inodeLocks{changed: make(chan struct{})}
		lockTable.locks[in] = l
	}
	return l
}

func (l *inodeLocks) wake() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// conflict returns the first lock in recs that conflicts with a lock of
// typ on r by owner.
func conflict(recs []lockRecord, owner any, typ LockType, r LockRange) *lockRecord {
	for i := range recs {
		h := &recs[i]
		if h.owner == owner || !h.r.overlaps(r) {
			continue
		}
		if typ == linux.F_WRLCK || h.typ == linux.F_WRLCK {
			return h
		}
	}
	return nil
}

// lockWait waits for a change in the lock state, or fails with EAGAIN
// (non-blocking) or the blocker's error (a signal).
func lockWait(ctx Context, ch chan struct{}, block bool) error {
	b, ok := ctx.(Blocker)
	if !block || !ok {
		return errno.EAGAIN
	}
	return b.Block(ch)
}

// lockKey returns the inode fd's locks live on, or nil for files outside
// the tree.
func (fd *FileDescription) lockKey() Inode {
	if !fd.vd.Ok() {
		return nil
	}
	return fd.vd.Dentry.inode
}

// Flock implements flock(2) for fd: typ F_RDLCK (LOCK_SH), F_WRLCK
// (LOCK_EX) or F_UNLCK (LOCK_UN). A conversion is not atomic, as on Linux.
func (fd *FileDescription) Flock(ctx Context, typ LockType, block bool) error {
	key := fd.lockKey()
	if key == nil {
		// Pipes and sockets: Linux locks their inodes too; nothing to
		// conflict with here.
		return nil
	}
	whole := LockRange{0, LockEOF}
	for {
		lockTable.mu.Lock()
		l := locksOf(key)
		// Drop our own lock first (conversion).
		released := false
		for i, h := range l.flocks {
			if h.owner == fd {
				l.flocks = append(l.flocks[:i], l.flocks[i+1:]...)
				released = true
				break
			}
		}
		if released {
			l.wake()
		}
		if typ == linux.F_UNLCK {
			lockTable.mu.Unlock()
			return nil
		}
		if conflict(l.flocks, fd, typ, whole) == nil {
			l.flocks = append(l.flocks, lockRecord{owner: fd, typ: typ, r: whole, pid: -1})
			lockTable.mu.Unlock()
			return nil
		}
		ch := l.changed
		lockTable.mu.Unlock()
		if err := lockWait(ctx, ch, block); err != nil {
			if err == errno.EAGAIN {
				return errno.EWOULDBLOCK
			}
			return err
		}
	}
}

// PosixLock sets (F_SETLK/F_SETLKW/F_OFD_*) a record lock on fd's file for
// owner (an fd table, or fd itself for OFD locks), held by process pid.
func (fd *FileDescription) PosixLock(ctx Context, owner any, pid int32, typ LockType, r LockRange, block bool) error {
	key := fd.lockKey()
	if key == nil {
		return nil
	}
	for {
		lockTable.mu.Lock()
		l := locksOf(key)
		if typ == linux.F_UNLCK || conflict(l.posix, owner, typ, r) == nil {
			l.posix = setRange(l.posix, lockRecord{owner: owner, typ: typ, r: r, pid: pid})
			l.wake()
			lockTable.mu.Unlock()
			return nil
		}
		ch := l.changed
		lockTable.mu.Unlock()
		if err := lockWait(ctx, ch, block); err != nil {
			return err
		}
	}
}

// setRange replaces owner's locks over rec.r with rec (F_UNLCK removes
// them), splitting the locks it overlaps and merging adjacent ones of the
// same type, as fs/locks.c:posix_lock_inode does.
func setRange(recs []lockRecord, rec lockRecord) []lockRecord {
	out := make([]lockRecord, 0, len(recs)+2)
	for _, h := range recs {
		if h.owner != rec.owner || !h.r.overlaps(rec.r) {
			out = append(out, h)
			continue
		}
		if h.r.Start < rec.r.Start {
			left := h
			left.r.End = rec.r.Start
			out = append(out, left)
		}
		if h.r.End > rec.r.End {
			right := h
			right.r.Start = rec.r.End
			out = append(out, right)
		}
	}
	if rec.typ == linux.F_UNLCK {
		return out
	}
	// Merge with adjacent locks of the same owner and type.
	merged := out[:0]
	for _, h := range out {
		if h.owner == rec.owner && h.typ == rec.typ && (h.r.End == rec.r.Start || rec.r.End == h.r.Start) {
			rec.r.Start, rec.r.End = min(rec.r.Start, h.r.Start), max(rec.r.End, h.r.End)
			continue
		}
		merged = append(merged, h)
	}
	return append(merged, rec)
}

// TestPosixLock implements F_GETLK: the first lock that would conflict
// with owner's lock of typ on r, or ok false if none would.
func (fd *FileDescription) TestPosixLock(owner any, typ LockType, r LockRange) (holder LockType, hr LockRange, pid int32, ok bool) {
	key := fd.lockKey()
	if key == nil {
		return 0, LockRange{}, 0, false
	}
	lockTable.mu.Lock()
	defer lockTable.mu.Unlock()
	l := locksOf(key)
	if h := conflict(l.posix, owner, typ, r); h != nil {
		return h.typ, h.r, h.pid, true
	}
	return 0, LockRange{}, 0, false
}

// ReleasePosixLocks drops owner's record locks on fd's file: what closing
// any fd of the file does to its process's locks.
func (fd *FileDescription) ReleasePosixLocks(owner any) {
	key := fd.lockKey()
	if key == nil {
		return
	}
	lockTable.mu.Lock()
	defer lockTable.mu.Unlock()
	l, ok := lockTable.locks[key]
	if !ok {
		return
	}
	n := len(l.posix)
	l.posix = setRange(l.posix, lockRecord{owner: owner, typ: linux.F_UNLCK, r: LockRange{0, LockEOF}})
	if len(l.posix) != n {
		l.wake()
	}
}

// releaseLocks drops fd's flock and OFD locks when its last reference
// goes.
func (fd *FileDescription) releaseLocks() {
	key := fd.lockKey()
	if key == nil {
		return
	}
	lockTable.mu.Lock()
	defer lockTable.mu.Unlock()
	l, ok := lockTable.locks[key]
	if !ok {
		return
	}
	changed := false
	for i, h := range l.flocks {
		if h.owner == fd {
			l.flocks = append(l.flocks[:i], l.flocks[i+1:]...)
			changed = true
			break
		}
	}
	n := len(l.posix)
	l.posix = setRange(l.posix, lockRecord{owner: fd, typ: linux.F_UNLCK, r: LockRange{0, LockEOF}})
	if changed || len(l.posix) != n {
		l.wake()
	}
}
