package seccomptrap

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// A guest can make its stub thread deaf to interrupt kicks: it jumps to
// the stub's restorer with a forged signal frame whose mask blocks
// interruptSignal, and rt_sigreturn installs that mask. The handler clears
// the mask at the thread's next syscall or fault, but a thread that only
// computes never makes one, and the sentry could then never stop, signal
// or kill that task. So a kick that goes unanswered for deafGrace starts a
// watch of the thread, and the stub is killed (its tasks die as if by
// SIGKILL; Switch returns ErrStubDied) once the thread has been seen to
// run for deafCPU of CPU time with interruptSignal blocked all along.
//
// The CPU time is what tells a deaf thread from an honest one that the
// kick found inside its handler, where every signal is blocked: the
// honest thread needs microseconds of CPU to leave the handler, and the
// pending kick is delivered as it does, so it cannot run on blocked for
// long. But it can wait to run for as long as the host pleases: a loaded
// machine can leave a runnable thread off the CPU for seconds, and a
// stopped or frozen stub (SIGSTOP, a cgroup freezer) runs not at all.
// Wall-clock time alone would take those threads for deaf.
const (
	deafGrace = time.Second
	// deafPoll separates the looks at a watched thread.
	deafPoll = 20 * time.Millisecond
	// deafCPU is the CPU time a thread must burn while deaf. Honest
	// threads never come near it: see above.
	deafCPU = 50 * time.Millisecond
)

// threadLook is what the host says of a stub thread at one moment.
type threadLook struct {
	// blocked: the thread blocks interruptSignal.
	blocked bool
	// events is the slot's event count (slotHeader.Events).
	events uint64
	// cpu is the thread's CPU time so far.
	cpu time.Duration
}

// deafVerdict judges a thread first seen as first, with the kick still
// unanswered when it was seen again as now. keep: the thread may be deaf,
// look again; kill: it is deaf.
func deafVerdict(first, now threadLook) (keep, kill bool) {
	if !now.blocked || now.events != first.events {
		// It left its handler or posted an event since first: whatever
		// holds the kick up, it is not a blocked mask.
		return false, false
	}
	if now.cpu-first.cpu >= deafCPU {
		return false, true
	}
	return true, false
}

// watchLocked schedules a deafness check of the running thread, unless
// one is pending.
//
// Preconditions: c.mu is held; c.running != 0.
func (c *context) watchLocked() {
	if c.watching {
		return
	}
	c.watching = true
	pid, tid, h := c.stubPID, c.running, c.h
	time.AfterFunc(deafGrace, func() { c.checkDeaf(pid, tid, h) })
}

// checkDeaf watches thread tid, whose kick went unanswered for deafGrace,
// until it answers, shows it is not deaf (then it gets another grace), or
// is judged deaf and its stub killed.
func (c *context) checkDeaf(pid, tid int, h *slotHeader) {
	if c.answered(pid, tid) {
		return
	}
	if first, ok := lookAt(pid, tid, h); ok && first.blocked {
		for {
			time.Sleep(deafPoll)
			if c.answered(pid, tid) {
				return
			}
			now, ok := lookAt(pid, tid, h)
			if !ok {
				break
			}
			keep, kill := deafVerdict(first, now)
			if kill {
				unix.Kill(pid, unix.SIGKILL)
				c.mu.Lock()
				c.watching = false
				c.mu.Unlock()
				return
			}
			if !keep {
				break
			}
		}
	}
	time.AfterFunc(deafGrace, func() { c.checkDeaf(pid, tid, h) })
}

// answered reports whether the kick to thread tid of pid has been taken,
// or the context has moved on; if so the watch ends.
func (c *context) answered(pid, tid int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.interrupted || c.running != tid || c.stubPID != pid {
		c.watching = false
		return true
	}
	return false
}

// lookAt reads thread tid of pid from /proc; ok is false if it cannot.
// The events count is read first: an event posted after the mask is read
// is then seen as a change at the next look.
func lookAt(pid, tid int, h *slotHeader) (l threadLook, ok bool) {
	l.events = atomic.LoadUint64(&h.Events)
	dir := fmt.Sprintf("/proc/%d/task/%d/", pid, tid)
	blocked, err := blocksSignal(dir+"status", interruptSignal)
	if err != nil {
		return l, false
	}
	cpu, err := cpuTime(dir)
	if err != nil {
		return l, false
	}
	l.blocked, l.cpu = blocked, cpu
	return l, true
}

// blocksSignal reports whether the thread whose status file is path has
// sig in its blocked mask (SigBlk).
func blocksSignal(path string, sig unix.Signal) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "SigBlk:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return mask&(1<<(uint(sig)-1)) != 0, err
		}
	}
	return false, fmt.Errorf("%s: no SigBlk", path)
}

// cpuTime reads the CPU time of the thread whose /proc directory is dir:
// the first field of schedstat, in nanoseconds, or where the kernel lacks
// schedstat (no CONFIG_SCHED_INFO), utime+stime from stat, in clock ticks.
func cpuTime(dir string) (time.Duration, error) {
	if b, err := os.ReadFile(dir + "schedstat"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			ns, err := strconv.ParseInt(f[0], 10, 64)
			return time.Duration(ns), err
		}
	}
	b, err := os.ReadFile(dir + "stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing one. utime and stime are fields 14 and 15 of the
	// line, 12 and 13 after the name.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("%sstat: short", dir)
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	// USER_HZ is 100 on every Linux architecture that matters here.
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}
