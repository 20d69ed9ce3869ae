package kernel

import (
	"sync"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// PIDFD is a pidfd_open(2) file: it refers to a process, and polls
// readable once the process has exited.
type PIDFD struct {
	vfs.FileDescriptionDefaultImpl
	vfs.WaitQueue

	tg *ThreadGroup

	// watchOnce starts the goroutine that notifies waiters on exit.
	watchOnce sync.Once
}

// NewPIDFD returns a pidfd for tg.
func NewPIDFD(tg *ThreadGroup, flags uint32) *vfs.FileDescription {
	p := &PIDFD{tg: tg}
	return vfs.NewFileDescription(p, linux.O_RDWR|flags, vfs.VirtualDentry{},
		vfs.FileDescriptionOptions{Stream: true, Name: "anon_inode:[pidfd]"})
}

// PIDFDFromFile returns the process a pidfd refers to, or nil.
func PIDFDFromFile(f *vfs.FileDescription) *ThreadGroup {
	if p, ok := f.Impl().(*PIDFD); ok {
		return p.tg
	}
	return nil
}

// Read implements vfs.FileDescriptionImpl.
func (p *PIDFD) Read(vfs.Context, []byte, int64) (int, error) { return 0, errno.EINVAL }

// Write implements vfs.FileDescriptionImpl.
func (p *PIDFD) Write(vfs.Context, []byte, int64) (int, error) { return 0, errno.EINVAL }

// Readiness implements vfs.FileDescriptionImpl: "the file descriptor
// becomes readable when the process terminates" - pidfd_open(2).
func (p *PIDFD) Readiness(mask vfs.EventMask) vfs.EventMask {
	select {
	case <-p.tg.exitedCh:
		return mask & vfs.EventIn
	default:
		return 0
	}
}

// EventRegister implements vfs.Waitable.
func (p *PIDFD) EventRegister(w *vfs.Waiter) {
	p.WaitQueue.EventRegister(w)
	p.watchOnce.Do(func() {
		go func() {
			<-p.tg.exitedCh
			p.Notify(vfs.EventIn)
		}()
	})
}

// Stat implements vfs.FileDescriptionImpl.
func (p *PIDFD) Stat(vfs.Context) (linux.Statx, error) {
	return linux.Statx{Mask: linux.STATX_BASIC_STATS, Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}

// PIDFDOpen implements pidfd_open(2)'s lookup: pid must name a process (a
// thread group leader) in the sandbox.
func (t *Task) PIDFDOpen(pid ThreadID) (*ThreadGroup, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if pid <= 0 {
		return nil, errno.EINVAL
	}
	tg := k.threadGroups[pid]
	if tg == nil || tg.reaped {
		if o := k.tasks[pid]; o != nil && !o.exited {
			// "EINVAL pid refers to a thread that is not a thread-group
			// leader."
			return nil, errno.EINVAL
		}
		return nil, errno.ESRCH
	}
	return tg, nil
}

// SignalProcess implements pidfd_send_signal(2): signo to tg with kill(2)'s
// permission check; info (nil: SI_USER from the caller) is its siginfo.
func (t *Task) SignalProcess(tg *ThreadGroup, signo int, info *linux.SignalInfo) error {
	if signo < 0 || signo >= linux.NSIG {
		return errno.EINVAL
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if tg.zombie || tg.reaped {
		return errno.ESRCH
	}
	if !t.canSignalLocked(tg) {
		return errno.EPERM
	}
	if info == nil {
		info = t.userInfo(signo)
	} else if tg != t.tg && (info.Code >= 0 || info.Code == linux.SI_TKILL) {
		return errno.EPERM
	}
	return tg.sendSignalLocked(info)
}
