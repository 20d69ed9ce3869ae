// Package timerfd implements timerfd_create(2) files: reads return how
// many times the timer expired since the last read.
package timerfd

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// TimerFD is the file implementation. The timer itself is driven by the
// caller (the kernel's IntervalTimer) through Expire.
type TimerFD struct {
	vfs.FileDescriptionDefaultImpl
	vfs.WaitQueue

	// Clock is the clock id it was created with.
	Clock int32

	// mu protects expirations.
	mu          sync.Mutex
	expirations uint64

	// Timer is the timer behind the file; set by the creator.
	Timer interface {
		Set(deadline time.Time, interval time.Duration) (time.Duration, time.Duration)
		Get() (time.Duration, time.Duration)
		Stop()
	}
}

// New returns a timerfd file; the caller sets Timer.
func New(clock int32, flags uint32) (*vfs.FileDescription, *TimerFD) {
	tf := &TimerFD{Clock: clock}
	return vfs.NewFileDescription(tf, linux.O_RDWR|flags, vfs.VirtualDentry{}, vfs.FileDescriptionOptions{Stream: true, Name: "anon_inode:[timerfd]"}), tf
}

// FromFile returns the TimerFD behind f, or nil.
func FromFile(f *vfs.FileDescription) *TimerFD {
	tf, _ := f.Impl().(*TimerFD)
	return tf
}

// Expire records n+1 expirations (n overruns).
func (tf *TimerFD) Expire(overrun int) {
	tf.mu.Lock()
	tf.expirations += uint64(overrun) + 1
	tf.mu.Unlock()
	tf.Notify(vfs.EventIn)
}

// ResetExpirations clears the count (timerfd_settime does).
func (tf *TimerFD) ResetExpirations() {
	tf.mu.Lock()
	tf.expirations = 0
	tf.mu.Unlock()
}

// Read implements vfs.FileDescriptionImpl.
func (tf *TimerFD) Read(_ vfs.Context, dst []byte, _ int64) (int, error) {
	if len(dst) < 8 {
		return 0, errno.EINVAL
	}
	tf.mu.Lock()
	n := tf.expirations
	tf.expirations = 0
	tf.mu.Unlock()
	if n == 0 {
		return 0, errno.EAGAIN
	}
	binary.LittleEndian.PutUint64(dst, n)
	return 8, nil
}

// Write implements vfs.FileDescriptionImpl.
func (tf *TimerFD) Write(vfs.Context, []byte, int64) (int, error) { return 0, errno.EINVAL }

// Readiness implements vfs.FileDescriptionImpl.
func (tf *TimerFD) Readiness(mask vfs.EventMask) vfs.EventMask {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if tf.expirations > 0 {
		return mask & vfs.EventIn
	}
	return 0
}

// Release implements vfs.FileDescriptionImpl.
func (tf *TimerFD) Release() {
	if tf.Timer != nil {
		tf.Timer.Stop()
	}
}

// Stat implements vfs.FileDescriptionImpl.
func (tf *TimerFD) Stat(vfs.Context) (linux.Statx, error) {
	return linux.Statx{Mask: linux.STATX_BASIC_STATS, Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}
