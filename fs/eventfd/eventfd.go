// Package eventfd implements eventfd(2) files: a 64-bit counter that write
// adds to and read drains (or decrements, in semaphore mode).
package eventfd

import (
	"encoding/binary"
	"sync"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// maxCount is the largest value the counter holds (0xfffffffffffffffe).
const maxCount = ^uint64(0) - 1

// EventFD is the file implementation.
type EventFD struct {
	vfs.FileDescriptionDefaultImpl
	vfs.WaitQueue

	semaphore bool

	// mu protects count.
	mu    sync.Mutex
	count uint64
}

// New returns an eventfd file with the given counter, semaphore mode and
// status flags.
func New(init uint64, semaphore bool, flags uint32) *vfs.FileDescription {
	e := &EventFD{count: init, semaphore: semaphore}
	return vfs.NewFileDescription(e, linux.O_RDWR|flags, vfs.VirtualDentry{}, vfs.FileDescriptionOptions{Stream: true, Name: "anon_inode:[eventfd]"})
}

// Read implements vfs.FileDescriptionImpl.
func (e *EventFD) Read(_ vfs.Context, dst []byte, _ int64) (int, error) {
	if len(dst) < 8 {
		return 0, errno.EINVAL
	}
	e.mu.Lock()
	if e.count == 0 {
		e.mu.Unlock()
		return 0, errno.EAGAIN
	}
	v := e.count
	if e.semaphore {
		v = 1
	}
	e.count -= v
	e.mu.Unlock()
	binary.LittleEndian.PutUint64(dst, v)
	e.Notify(vfs.EventOut)
	return 8, nil
}

// Write implements vfs.FileDescriptionImpl.
func (e *EventFD) Write(_ vfs.Context, src []byte, _ int64) (int, error) {
	if len(src) < 8 {
		return 0, errno.EINVAL
	}
	v := binary.LittleEndian.Uint64(src)
	if v == ^uint64(0) {
		return 0, errno.EINVAL
	}
	e.mu.Lock()
	if maxCount-e.count < v {
		e.mu.Unlock()
		return 0, errno.EAGAIN
	}
	e.count += v
	e.mu.Unlock()
	e.Notify(vfs.EventIn)
	return 8, nil
}

// Readiness implements vfs.FileDescriptionImpl.
func (e *EventFD) Readiness(mask vfs.EventMask) vfs.EventMask {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ev vfs.EventMask
	if e.count > 0 {
		ev |= vfs.EventIn
	}
	if e.count < maxCount {
		ev |= vfs.EventOut
	}
	return ev & mask
}

// Stat implements vfs.FileDescriptionImpl.
func (e *EventFD) Stat(vfs.Context) (linux.Statx, error) {
	return linux.Statx{Mask: linux.STATX_BASIC_STATS, Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}
