package kernel

import (
	"sync"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
)

// setitimer(2) timers.
const (
	ITIMER_REAL    = 0
	ITIMER_VIRTUAL = 1
	ITIMER_PROF    = 2
)

// ITimer returns the process's interval timer which (ITIMER_*).
//
// sandbox-divergence: ITIMER_VIRTUAL and ITIMER_PROF count wall-clock time,
// as CPU time is not accounted per process yet.
func (tg *ThreadGroup) ITimer(which int) (*IntervalTimer, error) {
	if which < ITIMER_REAL || which > ITIMER_PROF {
		return nil, errno.EINVAL
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.itimers[which] == nil {
		sig := [...]int{linux.SIGALRM, linux.SIGVTALRM, linux.SIGPROF}[which]
		tg.itimers[which] = NewIntervalTimer(func(int) {
			tg.SendSignal(&linux.SignalInfo{Signo: int32(sig), Code: linux.SI_KERNEL})
		})
	}
	return tg.itimers[which], nil
}

// PosixTimer is a timer_create(2) timer.
type PosixTimer struct {
	*IntervalTimer

	// mu protects the fields below. Lock order: Kernel.mu, then mu; fire
	// drops mu before it sends.
	mu sync.Mutex
	// sigPending is set while the timer's signal is queued; expirations
	// then count as overruns ("only one signal is queued ... the overrun
	// count" - timer_getoverrun(2)).
	sigPending bool
	overrun    int
	// lastOverrun is the overrun of the last delivered signal.
	lastOverrun int
}

// fired records an expiration (plus overrun missed periods) and reports
// whether a signal must be queued.
func (pt *PosixTimer) fired(overrun int) bool {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.sigPending {
		pt.overrun += 1 + overrun
		return false
	}
	pt.sigPending, pt.overrun = true, overrun
	return true
}

// delivered is called when the timer's signal is dequeued; it returns the
// overrun the signal carries.
func (pt *PosixTimer) delivered() int {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	pt.sigPending = false
	pt.lastOverrun = min(pt.overrun, 1<<31-1)
	pt.overrun = 0
	return pt.lastOverrun
}

// Overrun implements timer_getoverrun.
func (pt *PosixTimer) Overrun() int {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	return pt.lastOverrun
}

// sigev_notify values from <asm-generic/siginfo.h>.
const (
	SIGEV_SIGNAL    = 0
	SIGEV_NONE      = 1
	SIGEV_THREAD    = 2
	SIGEV_THREAD_ID = 4
)

// CreateTimer implements timer_create: notify is SIGEV_*, target the
// thread for SIGEV_THREAD_ID.
func (t *Task) CreateTimer(notify, signo int, value uint64, targetTID ThreadID) (int32, error) {
	tg := t.tg
	var target *Task
	switch notify {
	case SIGEV_NONE:
	case SIGEV_SIGNAL:
	case SIGEV_THREAD_ID:
		target = t.k.TaskByID(targetTID)
		if target == nil || target.tg != tg {
			return 0, errno.EINVAL
		}
	default:
		return 0, errno.EINVAL
	}
	if notify != SIGEV_NONE && (signo <= 0 || signo >= linux.NSIG) {
		return 0, errno.EINVAL
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if tg.timers == nil {
		tg.timers = map[int32]*PosixTimer{}
	}
	id := int32(0)
	for tg.timers[id] != nil {
		id++
	}
	pt := &PosixTimer{}
	pt.IntervalTimer = NewIntervalTimer(func(overrun int) {
		if notify == SIGEV_NONE || !pt.fired(overrun) {
			return
		}
		info := &linux.SignalInfo{Signo: int32(signo), Code: linux.SI_TIMER, TimerID: id, Overrun: int32(overrun), Value: value}
		if target != nil {
			target.SendSignal(info)
		} else {
			tg.SendSignal(info)
		}
	})
	tg.timers[id] = pt
	return id, nil
}

// Timer returns POSIX timer id.
func (tg *ThreadGroup) Timer(id int32) *PosixTimer {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.timers[id]
}

// DeleteTimer implements timer_delete.
func (tg *ThreadGroup) DeleteTimer(id int32) error {
	tg.mu.Lock()
	pt := tg.timers[id]
	delete(tg.timers, id)
	tg.mu.Unlock()
	if pt == nil {
		return errno.EINVAL
	}
	pt.Stop()
	return nil
}

// stopTimers disarms every timer of an exiting process.
func (tg *ThreadGroup) stopTimers() {
	tg.mu.Lock()
	its := tg.itimers
	pts := tg.timers
	tg.timers = nil
	tg.mu.Unlock()
	for _, it := range its {
		if it != nil {
			it.Stop()
		}
	}
	for _, pt := range pts {
		pt.Stop()
	}
}
