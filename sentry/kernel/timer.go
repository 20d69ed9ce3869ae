package kernel

import (
	"sync"
	"time"
)

// IntervalTimer is a one-shot or periodic timer that calls fire on each
// expiry (setitimer, timer_create and timerfd build on it).
type IntervalTimer struct {
	fire func(overrun int)

	// mu protects the fields below.
	mu       sync.Mutex
	timer    *time.Timer
	deadline time.Time
	interval time.Duration
	armed    bool
	// gen invalidates callbacks of a timer that was reset.
	gen uint64
}

// NewIntervalTimer returns a disarmed timer.
func NewIntervalTimer(fire func(overrun int)) *IntervalTimer {
	return &IntervalTimer{fire: fire}
}

// Set arms the timer to expire at deadline and then every interval (0:
// once); a zero deadline disarms it. It returns the old remaining time and
// interval.
func (it *IntervalTimer) Set(deadline time.Time, interval time.Duration) (time.Duration, time.Duration) {
	it.mu.Lock()
	oldRem, oldInt := it.remainingLocked(), it.interval
	if it.timer != nil {
		it.timer.Stop()
		it.timer = nil
	}
	it.gen++
	gen := it.gen
	it.armed = !deadline.IsZero()
	it.deadline, it.interval = deadline, interval
	now := it.armed && !deadline.After(time.Now())
	if it.armed && !now {
		it.scheduleLocked()
	}
	it.mu.Unlock()
	if now {
		// A deadline already past expires at once, before Set returns, as
		// Linux's does: a read right after timerfd_settime sees it.
		it.expire(gen)
	}
	return oldRem, oldInt
}

func (it *IntervalTimer) scheduleLocked() {
	gen := it.gen
	it.timer = time.AfterFunc(max(time.Until(it.deadline), 0), func() { it.expire(gen) })
}

func (it *IntervalTimer) expire(gen uint64) {
	it.mu.Lock()
	if gen != it.gen || !it.armed {
		it.mu.Unlock()
		return
	}
	overrun := 0
	if it.interval > 0 {
		// Count the periods missed while the callback was late.
		now := time.Now()
		next := it.deadline.Add(it.interval)
		for !next.After(now) {
			next = next.Add(it.interval)
			overrun++
		}
		it.deadline = next
		it.scheduleLocked()
	} else {
		it.armed = false
	}
	it.mu.Unlock()
	it.fire(overrun)
}

func (it *IntervalTimer) remainingLocked() time.Duration {
	if !it.armed {
		return 0
	}
	// An armed timer reports at least 1ns, so it never reads as disarmed.
	return max(time.Until(it.deadline), 1)
}

// Get returns the remaining time and interval.
func (it *IntervalTimer) Get() (time.Duration, time.Duration) {
	it.mu.Lock()
	defer it.mu.Unlock()
	return it.remainingLocked(), it.interval
}

// Stop disarms the timer for good.
func (it *IntervalTimer) Stop() { it.Set(time.Time{}, 0) }
