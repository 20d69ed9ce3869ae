package kernel

import (
	"github.com/runsc-lite/runsc-lite/platform"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
)

// BlockUntil waits for ch to be closed or readable. It returns ETIMEDOUT
// when the deadline passes and ERESTARTSYS when the task has a signal to
// take or must exit; the run loop then restarts the syscall or makes it
// fail with EINTR. Only the task goroutine may call it.
func (t *Task) BlockUntil(ch <-chan struct{}, deadline time.Time, hasDeadline bool) error {
	// A kick left over from earlier (say, while the guest ran) must not
	// end this wait; what it was about is checked below.
	select {
	case <-t.interruptCh:
	default:
	}
	if t.Interrupted() {
		return errno.ERESTARTSYS
	}
	if n, ok := t.pc.(platform.SleepNoter); ok {
		n.NoteSlept()
	}
	t.blocked.Store(true)
	start := time.Now()
	defer func() {
		t.blocked.Store(false)
		t.slept += int64(time.Since(start))
	}()
	var timeout <-chan time.Time
	if hasDeadline {
		tm := time.NewTimer(time.Until(deadline))
		defer tm.Stop()
		timeout = tm.C
	}
	for {
		select {
		case <-ch:
			return nil
		case <-timeout:
			return errno.ETIMEDOUT
		case <-t.interruptCh:
			if t.Interrupted() {
				return errno.ERESTARTSYS
			}
		}
	}
}

// Block waits for ch with no timeout.
func (t *Task) Block(ch <-chan struct{}) error {
	return t.BlockUntil(ch, time.Time{}, false)
}

// Interrupted reports whether t has a signal to take or must exit.
func (t *Task) Interrupted() bool {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.interruptedLocked()
}

// SetRestartBlock records how restart_syscall(2) continues the current
// call if it is interrupted with ERESTART_RESTARTBLOCK.
func (t *Task) SetRestartBlock(f func(t *Task) (uintptr, error)) { t.restartBlock = f }

// RunRestartBlock implements restart_syscall(2).
func (t *Task) RunRestartBlock() (uintptr, error) {
	f := t.restartBlock
	t.restartBlock = nil
	if f == nil {
		return 0, errno.EINTR
	}
	return f(t)
}

// Blocked reports whether t sleeps in the sentry (procfs state S).
func (t *Task) Blocked() bool { return t.blocked.Load() }

// sleptTake returns and clears the time slept since the last call.
func (t *Task) sleptTake() int64 {
	d := t.slept
	t.slept = 0
	return d
}
