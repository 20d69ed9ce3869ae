package kernel

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
)

// wait(2) options from <linux/wait.h>.
const (
	WNOHANG    = 0x1
	WUNTRACED  = 0x2
	WSTOPPED   = WUNTRACED
	WEXITED    = 0x4
	WCONTINUED = 0x8
	WNOWAIT    = 0x01000000
	WNOTHREAD  = 0x20000000
	WALL       = 0x40000000
	WCLONE     = 0x80000000
)

// WaitOptions select what a wait call waits for.
type WaitOptions struct {
	// Pid: > 0 that child; 0 any child in the caller's process group; -1
	// any child; < -1 any child in process group -Pid.
	Pid ThreadID
	// PgidOnly with Pid > 0 means "process group Pid" (waitid P_PGID).
	Pgid    ThreadID
	ByPgid  bool
	Any     bool
	Options int
}

// WaitResult is what a wait call reports.
type WaitResult struct {
	Pid    ThreadID
	UID    uint32
	Status WaitStatus
	// Code is the CLD_* code for waitid.
	Code   int32
	Signal int32
}

// Wait implements wait4 and waitid: it reports a child that exited,
// stopped (WUNTRACED) or continued (WCONTINUED), reaping exited ones
// unless WNOWAIT. It returns (nil, nil) with WNOHANG when nothing is
// ready, and ECHILD when no child matches.
func (t *Task) Wait(o WaitOptions) (*WaitResult, error) {
	k := t.k
	for {
		k.mu.Lock()
		tg := t.tg
		matched := false
		for c := range tg.children {
			if !t.waitMatchesLocked(c, o) {
				continue
			}
			matched = true
			if r := c.waitReportLocked(o); r != nil {
				k.mu.Unlock()
				return r, nil
			}
		}
		ch := tg.childEvents
		k.mu.Unlock()
		if !matched {
			return nil, errno.ECHILD
		}
		if o.Options&WNOHANG != 0 {
			return nil, nil
		}
		if err := t.Block(ch); err != nil {
			return nil, err
		}
	}
}

func (t *Task) waitMatchesLocked(c *ThreadGroup, o WaitOptions) bool {
	// __WCLONE selects children whose exit signal isn't SIGCHLD; __WALL
	// takes both.
	if o.Options&WALL == 0 {
		clone := c.exitSignal != linux.SIGCHLD
		if clone != (o.Options&WCLONE != 0) {
			return false
		}
	}
	switch {
	case o.Any:
		return true
	case o.ByPgid:
		return c.pgrp != nil && c.pgrp.id == o.Pgid
	}
	return c.pid == o.Pid
}

// waitReportLocked returns c's reportable state change, consuming it.
func (c *ThreadGroup) waitReportLocked(o WaitOptions) *WaitResult {
	consume := o.Options&WNOWAIT == 0
	switch {
	case c.zombie && o.Options&WEXITED != 0:
		r := &WaitResult{Pid: c.pid, Status: c.status, Signal: linux.SIGCHLD}
		info := c.exitInfoLocked()
		r.Code = info.Code
		if consume {
			c.reapLocked()
		}
		return r
	case c.stopped && !c.stopReported && o.Options&WSTOPPED != 0:
		if consume {
			c.stopReported = true
		}
		return &WaitResult{Pid: c.pid, Status: WaitStatus(0x7f | c.stopSignal<<8), Code: linux.CLD_STOPPED, Signal: linux.SIGCHLD}
	case c.continued && !c.continueReported && o.Options&WCONTINUED != 0:
		if consume {
			c.continueReported = true
		}
		return &WaitResult{Pid: c.pid, Status: 0xffff, Code: linux.CLD_CONTINUED, Signal: linux.SIGCHLD}
	}
	return nil
}
