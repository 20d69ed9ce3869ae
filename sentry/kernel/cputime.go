package kernel

import "time"

// CPU time accounting: a task's user time is the wall time its guest code
// ran (inside Switch), its system time the time the sentry spent serving
// its syscalls without sleeping. That is what the task used from the
// sandbox's point of view; host preemption inside Switch counts as user
// time, which Linux would not count.

// CPUTime returns t's user and system time.
func (t *Task) CPUTime() (user, sys time.Duration) {
	return time.Duration(t.utime.Load()), time.Duration(t.stime.Load())
}

// CPUTime returns the process's user and system time: its live threads'
// and the threads that already exited.
func (tg *ThreadGroup) CPUTime() (user, sys time.Duration) {
	k := tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	user, sys = tg.exitedUser, tg.exitedSys
	for t := range tg.tasks {
		u, s := t.CPUTime()
		user, sys = user+u, sys+s
	}
	return user, sys
}

// ChildrenCPUTime returns the CPU time of the process's reaped children
// (and theirs), for RUSAGE_CHILDREN and times(2).
func (tg *ThreadGroup) ChildrenCPUTime() (user, sys time.Duration) {
	k := tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	return tg.childUser, tg.childSys
}

// Nice returns the process's nice value.
func (tg *ThreadGroup) Nice() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.nice
}

// SetNice sets the process's nice value (clamped to [-20, 19]). It is
// recorded and reported; the host schedules the sandbox as one.
func (tg *ThreadGroup) SetNice(n int) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.nice = max(-20, min(19, n))
}

// Affinity returns the task's CPU affinity mask (nil: all CPUs).
func (t *Task) Affinity() []byte {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.affinity
}

// SetAffinity records the task's CPU affinity mask.
func (t *Task) SetAffinity(mask []byte) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	t.affinity = mask
}
