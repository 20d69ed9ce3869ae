package kernel

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
)

// Session is a set of process groups, with a controlling terminal's
// foreground group. Protected by k.mu.
type Session struct {
	id ThreadID
	// foreground is the terminal's foreground process group.
	foreground *ProcessGroup
}

// ProcessGroup is a set of processes for job control. Protected by k.mu.
type ProcessGroup struct {
	id      ThreadID
	session *Session
	members map[*ThreadGroup]struct{}
}

// ID returns the group's id.
func (pg *ProcessGroup) ID() ThreadID { return pg.id }

func (tg *ThreadGroup) joinPgrpLocked(pg *ProcessGroup) {
	tg.leavePgrpLocked()
	tg.pgrp = pg
	pg.members[tg] = struct{}{}
}

func (tg *ThreadGroup) leavePgrpLocked() {
	if tg.pgrp == nil {
		return
	}
	delete(tg.pgrp.members, tg)
	if len(tg.pgrp.members) == 0 {
		delete(tg.k.pgrps, tg.pgrp.id)
	}
	tg.pgrp = nil
}

// newSessionLocked makes tg the leader of a new session and process group.
func (tg *ThreadGroup) newSessionLocked() {
	s := &Session{id: tg.pid}
	pg := &ProcessGroup{id: tg.pid, session: s, members: map[*ThreadGroup]struct{}{}}
	s.foreground = pg
	tg.k.pgrps[pg.id] = pg
	tg.joinPgrpLocked(pg)
}

// Setsid implements setsid(2).
func (t *Task) Setsid() (ThreadID, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	// "EPERM The process group ID of any process equals the PID of the
	// calling process." - setsid(2).
	if _, ok := k.pgrps[t.tg.pid]; ok {
		return 0, errno.EPERM
	}
	t.tg.newSessionLocked()
	return t.tg.pid, nil
}

// Setpgid implements setpgid(2).
func (t *Task) Setpgid(pid, pgid ThreadID) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if pgid < 0 {
		return errno.EINVAL
	}
	target := t.tg
	if pid != 0 && pid != t.tg.pid {
		c := k.threadGroups[pid]
		if c == nil || c.parent != t.tg {
			return errno.ESRCH
		}
		target = c
	}
	if pgid == 0 {
		pgid = target.pid
	}
	sess := t.tg.pgrp.session
	// A session leader can't move, and the target must be in the
	// caller's session.
	if target.pgrp.session.id == target.pid || target.pgrp.session != sess {
		return errno.EPERM
	}
	if target.pgrp.id == pgid {
		return nil
	}
	pg := k.pgrps[pgid]
	if pg == nil {
		if pgid != target.pid {
			return errno.EPERM
		}
		pg = &ProcessGroup{id: pgid, session: sess, members: map[*ThreadGroup]struct{}{}}
		k.pgrps[pgid] = pg
	} else if pg.session != sess {
		return errno.EPERM
	}
	target.joinPgrpLocked(pg)
	return nil
}

// Getpgid returns the process group of pid (0: the caller).
func (t *Task) Getpgid(pid ThreadID) (ThreadID, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tg := t.tg
	if pid != 0 {
		if tg = k.threadGroups[pid]; tg == nil || tg.pgrp == nil {
			return 0, errno.ESRCH
		}
	}
	return tg.pgrp.id, nil
}

// Getsid returns the session of pid (0: the caller).
func (t *Task) Getsid(pid ThreadID) (ThreadID, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tg := t.tg
	if pid != 0 {
		if tg = k.threadGroups[pid]; tg == nil || tg.pgrp == nil {
			return 0, errno.ESRCH
		}
	}
	return tg.pgrp.session.id, nil
}

// ForegroundPgrp returns the foreground process group of the caller's
// session (for TIOCGPGRP).
func (t *Task) ForegroundPgrp() ThreadID {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if fg := t.tg.pgrp.session.foreground; fg != nil {
		return fg.id
	}
	return 0
}

// SetForegroundPgrp implements TIOCSPGRP for the caller's session.
func (t *Task) SetForegroundPgrp(pgid ThreadID) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	pg := k.pgrps[pgid]
	if pg == nil {
		return errno.ESRCH
	}
	if pg.session != t.tg.pgrp.session {
		return errno.EPERM
	}
	pg.session.foreground = pg
	return nil
}

// ForegroundPgrpID implements host.JobControl (TIOCGPGRP).
func (t *Task) ForegroundPgrpID() int32 { return int32(t.ForegroundPgrp()) }

// SetForegroundPgrpID implements host.JobControl (TIOCSPGRP).
func (t *Task) SetForegroundPgrpID(pgid int32) error { return t.SetForegroundPgrp(ThreadID(pgid)) }

// SessionID implements host.JobControl (TIOCGSID).
func (t *Task) SessionID() int32 {
	sid, _ := t.Getsid(0)
	return int32(sid)
}

// SignalForeground sends signo to the foreground process group of tg's
// session: what a terminal does for ^C.
func (tg *ThreadGroup) SignalForeground(signo int) {
	k := tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if tg.pgrp == nil || tg.pgrp.session.foreground == nil {
		return
	}
	for m := range tg.pgrp.session.foreground.members {
		m.sendSignalLocked(&linux.SignalInfo{Signo: int32(signo), Code: linux.SI_KERNEL})
	}
}

// TTYAccess applies terminal job control to an access by t (read: SIGTTIN,
// write or configuration: SIGTTOU), as drivers/tty/tty_jobctrl.c's
// __tty_check_change: a background process group gets the signal and the
// call is restarted after it; if the signal is ignored or blocked, the
// read fails with EIO and the write goes ahead.
func (t *Task) TTYAccess(signo int) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	pg := t.tg.pgrp
	if pg == nil || pg.session.foreground == nil || pg.session.foreground == pg {
		return nil
	}
	sa := t.tg.handlers.actions[signo]
	if sa.Handler == SIG_IGN || t.sigMask&SignalSetOf(signo) != 0 {
		if signo == linux.SIGTTIN {
			return errno.EIO
		}
		return nil
	}
	for m := range pg.members {
		m.sendSignalLocked(&linux.SignalInfo{Signo: int32(signo), Code: linux.SI_KERNEL})
	}
	return errno.ERESTARTSYS
}
