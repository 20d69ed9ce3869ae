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
// or kill that task. No honest thread runs guest code with interruptSignal
// blocked, so when a kick goes unanswered for deafGrace and the host says
// the thread blocks it, the stub is killed: its tasks die as if by SIGKILL
// (Switch returns ErrStubDied).
const (
	deafGrace = time.Second
	// deafRecheck separates the two looks at the thread, so that one that
	// is merely passing through its handler (where everything is blocked)
	// is not taken for deaf.
	deafRecheck = 20 * time.Millisecond
)

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

// checkDeaf kills the stub if thread tid still has not answered a kick and
// blocks interruptSignal, twice in a row with no event between.
func (c *context) checkDeaf(pid, tid int, h *slotHeader) {
	answered := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.interrupted || c.running != tid || c.stubPID != pid {
			c.watching = false
			return true
		}
		return false
	}
	if answered() {
		return
	}
	events := atomic.LoadUint64(&h.Events)
	if !blocksSignal(pid, tid, interruptSignal) {
		c.rewatch(pid, tid, h)
		return
	}
	time.Sleep(deafRecheck)
	if answered() {
		return
	}
	if atomic.LoadUint64(&h.Events) != events || !blocksSignal(pid, tid, interruptSignal) {
		c.rewatch(pid, tid, h)
		return
	}
	unix.Kill(pid, unix.SIGKILL)
	c.mu.Lock()
	c.watching = false
	c.mu.Unlock()
}

// rewatch schedules another check: the kick is still unanswered, but the
// thread is not (yet) deaf; it may be descheduled on a busy host.
func (c *context) rewatch(pid, tid int, h *slotHeader) {
	time.AfterFunc(deafGrace, func() { c.checkDeaf(pid, tid, h) })
}

// blocksSignal reports whether the host thread tid of pid has sig in its
// blocked mask (/proc/PID/task/TID/status, SigBlk).
func blocksSignal(pid, tid int, sig unix.Signal) bool {
	f, err := os.Open(fmt.Sprintf("/proc/%d/task/%d/status", pid, tid))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "SigBlk:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && mask&(1<<(uint(sig)-1)) != 0
		}
	}
	return false
}
