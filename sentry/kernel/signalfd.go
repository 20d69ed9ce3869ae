package kernel

import (
	"sync"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// SignalFD is a signalfd(2) file: reading it takes pending signals in its
// mask from the reading thread and its process.
type SignalFD struct {
	vfs.FileDescriptionDefaultImpl

	// target is the task whose pending signals readiness looks at (the
	// creator; reads use the reader).
	target *Task

	// mu protects mask.
	mu   sync.Mutex
	mask SignalSet
}

// NewSignalFD returns a signalfd file for t with mask.
func (t *Task) NewSignalFD(mask SignalSet, flags uint32) *vfs.FileDescription {
	sf := &SignalFD{target: t, mask: mask &^ unblockable}
	return vfs.NewFileDescription(sf, linux.O_RDWR|flags, vfs.VirtualDentry{}, vfs.FileDescriptionOptions{Stream: true, Name: "anon_inode:[signalfd]"})
}

// SignalFDFromFile returns the SignalFD behind f, or nil.
func SignalFDFromFile(f *vfs.FileDescription) *SignalFD {
	sf, _ := f.Impl().(*SignalFD)
	return sf
}

// SetMask changes the mask (signalfd on an existing fd).
func (sf *SignalFD) SetMask(m SignalSet) {
	sf.mu.Lock()
	sf.mask = m &^ unblockable
	sf.mu.Unlock()
	sf.target.tg.signalWaiters.Notify(vfs.EventIn)
}

func (sf *SignalFD) getMask() SignalSet {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	return sf.mask
}

// signalfdSiginfoSize is sizeof(struct signalfd_siginfo).
const signalfdSiginfoSize = 128

// Read implements vfs.FileDescriptionImpl.
func (sf *SignalFD) Read(ctx vfs.Context, dst []byte, _ int64) (int, error) {
	if len(dst) < signalfdSiginfoSize {
		return 0, errno.EINVAL
	}
	t, ok := ctx.(*Task)
	if !ok {
		t = sf.target
	}
	n := 0
	for n+signalfdSiginfoSize <= len(dst) {
		info := t.DequeueSignal(sf.getMask())
		if info == nil {
			break
		}
		b := dst[n : n+signalfdSiginfoSize]
		clear(b)
		// struct signalfd_siginfo: ssi_signo, errno, code, pid, uid, fd,
		// tid, band, overrun, trapno, status, int, ptr, utime, stime, addr.
		put32 := func(off int, v uint32) {
			b[off], b[off+1], b[off+2], b[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		}
		put32(0, uint32(info.Signo))
		put32(4, uint32(info.Errno))
		put32(8, uint32(info.Code))
		put32(12, uint32(info.Pid))
		put32(16, info.UID)
		put32(24, uint32(info.TimerID))
		put32(32, uint32(info.Overrun))
		put32(40, uint32(info.Status))
		put32(44, uint32(info.Value))
		for i := 0; i < 8; i++ {
			b[48+i] = byte(info.Value >> (8 * i))
			b[72+i] = byte(info.Addr >> (8 * i))
		}
		n += signalfdSiginfoSize
	}
	if n == 0 {
		return 0, errno.EAGAIN
	}
	return n, nil
}

// Write implements vfs.FileDescriptionImpl.
func (sf *SignalFD) Write(vfs.Context, []byte, int64) (int, error) { return 0, errno.EINVAL }

// Readiness implements vfs.FileDescriptionImpl.
func (sf *SignalFD) Readiness(mask vfs.EventMask) vfs.EventMask {
	if sf.target.PendingSignals()&sf.getMask() != 0 {
		return mask & vfs.EventIn
	}
	return 0
}

// EventRegister implements vfs.Waitable.
func (sf *SignalFD) EventRegister(w *vfs.Waiter) { sf.target.tg.signalWaiters.EventRegister(w) }

// EventUnregister implements vfs.Waitable.
func (sf *SignalFD) EventUnregister(w *vfs.Waiter) { sf.target.tg.signalWaiters.EventUnregister(w) }

// Stat implements vfs.FileDescriptionImpl.
func (sf *SignalFD) Stat(vfs.Context) (linux.Statx, error) {
	return linux.Statx{Mask: linux.STATX_BASIC_STATS, Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}
