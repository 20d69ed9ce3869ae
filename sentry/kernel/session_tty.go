package kernel

import (
	"sync"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/devpts"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

// TTY is the kernel's side of a terminal the sentry implements (a
// pseudo-terminal): the session it is the controlling terminal of and its
// foreground process group. Each terminal has its own; the imported host
// terminal keeps using Session.foreground (sessions.go).
type TTY struct {
	// term is the terminal. Immutable.
	term *devpts.Terminal
	// k is the kernel. Immutable.
	k *Kernel

	// session and foreground are protected by k.mu.
	session    *Session
	foreground *ProcessGroup
}

// cttys maps each session to its controlling pseudo-terminal. Sessions
// have no field for it (sessions.go predates ptys), so the link lives
// here. mu is taken after Kernel.mu.
var cttys struct {
	mu sync.Mutex
	m  map[*Session]*TTY
}

func cttyOf(s *Session) *TTY {
	cttys.mu.Lock()
	defer cttys.mu.Unlock()
	return cttys.m[s]
}

func setCTTY(s *Session, tty *TTY) {
	cttys.mu.Lock()
	defer cttys.mu.Unlock()
	if tty == nil {
		delete(cttys.m, s)
		return
	}
	if cttys.m == nil {
		cttys.m = map[*Session]*TTY{}
	}
	cttys.m[s] = tty
}

// NewJobControl implements devpts.TTYContext.
func (t *Task) NewJobControl(term *devpts.Terminal) devpts.JobControl {
	return &TTY{term: term, k: t.k}
}

// ControllingPTY returns the pseudo-terminal that controls t's session,
// if it has one (for /dev/tty).
func (t *Task) ControllingPTY() (*devpts.Terminal, bool) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if t.tg.pgrp == nil {
		return nil, false
	}
	if tty := cttyOf(t.tg.pgrp.session); tty != nil {
		return tty.term, true
	}
	return nil, false
}

func taskOf(ctx vfs.Context) *Task {
	switch c := ctx.(type) {
	case *Task:
		return c
	case interface{ Task() *Task }:
		return c.Task()
	}
	return nil
}

// attachLocked makes tty the controlling terminal of t's session, with t's
// group in the foreground (tty_jobctrl.c:__proc_set_tty).
//
// Preconditions: k.mu is held.
func (tty *TTY) attachLocked(t *Task) {
	if tty.session != nil {
		setCTTY(tty.session, nil)
	}
	s := t.tg.pgrp.session
	tty.session, tty.foreground = s, t.tg.pgrp
	setCTTY(s, tty)
}

// isLeaderLocked reports whether t leads its session.
func isLeaderLocked(t *Task) bool { return t.tg.pgrp != nil && t.tg.pgrp.session.id == t.tg.pid }

// SetControlling implements devpts.JobControl (TIOCSCTTY), as
// tty_jobctrl.c:tiocsctty.
func (tty *TTY) SetControlling(ctx vfs.Context, steal, readable bool) error {
	t := taskOf(ctx)
	if t == nil {
		return errno.ENOTTY
	}
	k := tty.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if t.tg.pgrp == nil {
		return errno.EPERM
	}
	s := t.tg.pgrp.session
	if isLeaderLocked(t) && tty.session == s {
		return nil
	}
	// "EPERM ... the calling process is not a session leader or already
	// has a controlling terminal" - ioctl_tty(2).
	if !isLeaderLocked(t) || cttyOf(s) != nil {
		return errno.EPERM
	}
	admin := t.Credentials().HasCapability(auth.CAP_SYS_ADMIN)
	if !readable && !admin {
		return errno.EPERM
	}
	if tty.session != nil && !(steal && admin) {
		return errno.EPERM
	}
	tty.attachLocked(t)
	return nil
}

// OpenedBy implements devpts.JobControl: a session leader without a
// controlling terminal acquires a terminal it opens without O_NOCTTY
// (tty_io.c:tty_open_proc_set_tty).
func (tty *TTY) OpenedBy(ctx vfs.Context) {
	t := taskOf(ctx)
	if t == nil {
		return
	}
	k := tty.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if !isLeaderLocked(t) || tty.session != nil || cttyOf(t.tg.pgrp.session) != nil {
		return
	}
	tty.attachLocked(t)
}

// isCTTYLocked reports whether tty controls t's session.
func (tty *TTY) isCTTYLocked(t *Task) bool {
	return t != nil && t.tg.pgrp != nil && tty.session != nil && tty.session == t.tg.pgrp.session
}

// Disassociate implements devpts.JobControl (TIOCNOTTY): a session
// leader's session loses the terminal, and the foreground group gets
// SIGHUP and SIGCONT (tty_jobctrl.c:disassociate_ctty).
func (tty *TTY) Disassociate(ctx vfs.Context) error {
	t := taskOf(ctx)
	k := tty.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if !tty.isCTTYLocked(t) {
		return errno.ENOTTY
	}
	if !isLeaderLocked(t) {
		return nil
	}
	if fg := tty.foreground; fg != nil {
		signalGroupLocked(fg, linux.SIGHUP)
		signalGroupLocked(fg, linux.SIGCONT)
	}
	setCTTY(tty.session, nil)
	tty.session, tty.foreground = nil, nil
	return nil
}

// ForegroundPgrp implements devpts.JobControl (TIOCGPGRP).
func (tty *TTY) ForegroundPgrp(ctx vfs.Context) (int32, error) {
	t := taskOf(ctx)
	k := tty.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if !tty.isCTTYLocked(t) {
		return 0, errno.ENOTTY
	}
	if tty.foreground == nil {
		return 0, nil
	}
	return int32(tty.foreground.id), nil
}

// SetForegroundPgrp implements devpts.JobControl (TIOCSPGRP), as
// tty_jobctrl.c:tiocspgrp.
func (tty *TTY) SetForegroundPgrp(ctx vfs.Context, pgid int32) error {
	t := taskOf(ctx)
	if err := tty.CheckAccess(ctx, linux.SIGTTOU); err != nil {
		return err
	}
	k := tty.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if !tty.isCTTYLocked(t) {
		return errno.ENOTTY
	}
	pg := k.pgrps[ThreadID(pgid)]
	if pg == nil {
		return errno.ESRCH
	}
	if pg.session != tty.session {
		return errno.EPERM
	}
	tty.foreground = pg
	return nil
}

// SessionID implements devpts.JobControl (TIOCGSID).
func (tty *TTY) SessionID(ctx vfs.Context) (int32, error) {
	t := taskOf(ctx)
	k := tty.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if !tty.isCTTYLocked(t) {
		return 0, errno.ENOTTY
	}
	return int32(tty.session.id), nil
}

// CheckAccess implements devpts.JobControl, as Task.TTYAccess does for
// the host terminal: a background group's access stops it with signo
// (and the call restarts after), unless the signal is ignored or blocked,
// when reads fail with EIO and the rest goes ahead.
func (tty *TTY) CheckAccess(ctx vfs.Context, signo int) error {
	t := taskOf(ctx)
	k := tty.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if !tty.isCTTYLocked(t) {
		return nil
	}
	pg := t.tg.pgrp
	if tty.foreground == nil || tty.foreground == pg {
		return nil
	}
	sa := t.tg.handlers.actions[signo]
	if sa.Handler == SIG_IGN || t.sigMask&SignalSetOf(signo) != 0 {
		if signo == linux.SIGTTIN {
			return errno.EIO
		}
		return nil
	}
	signalGroupLocked(pg, signo)
	return errno.ERESTARTSYS
}

// SignalForeground implements devpts.JobControl.
func (tty *TTY) SignalForeground(signo int) {
	k := tty.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if tty.foreground != nil {
		signalGroupLocked(tty.foreground, signo)
	}
}

// Hangup implements devpts.JobControl: the master closed. As
// tty_io.c:__tty_hangup, the session leader gets SIGHUP and SIGCONT, and
// so does the foreground group; the session loses its terminal.
func (tty *TTY) Hangup() {
	k := tty.k
	k.mu.Lock()
	defer k.mu.Unlock()
	s := tty.session
	if s == nil {
		return
	}
	if leader := k.threadGroups[s.id]; leader != nil && leader.pgrp != nil && leader.pgrp.session == s {
		leader.sendSignalLocked(&linux.SignalInfo{Signo: linux.SIGHUP, Code: linux.SI_KERNEL})
		leader.sendSignalLocked(&linux.SignalInfo{Signo: linux.SIGCONT, Code: linux.SI_KERNEL})
	}
	if fg := tty.foreground; fg != nil {
		signalGroupLocked(fg, linux.SIGHUP)
		signalGroupLocked(fg, linux.SIGCONT)
	}
	setCTTY(s, nil)
	tty.session, tty.foreground = nil, nil
}

// signalGroupLocked sends a kernel-generated signo to every process of pg.
//
// Preconditions: k.mu is held.
func signalGroupLocked(pg *ProcessGroup, signo int) {
	for m := range pg.members {
		m.sendSignalLocked(&linux.SignalInfo{Signo: int32(signo), Code: linux.SI_KERNEL})
	}
}

// sessionLeaderExitLocked does what tty_jobctrl.c:disassociate_ctty(1)
// does when a session leader exits: the foreground group of its
// controlling pseudo-terminal gets SIGHUP and SIGCONT, and the session
// loses the terminal.
//
// Preconditions: k.mu is held.
func (tg *ThreadGroup) sessionLeaderExitLocked() {
	if tg.pgrp == nil || tg.pgrp.session.id != tg.pid {
		return
	}
	tty := cttyOf(tg.pgrp.session)
	if tty == nil {
		return
	}
	if fg := tty.foreground; fg != nil {
		signalGroupLocked(fg, linux.SIGHUP)
		signalGroupLocked(fg, linux.SIGCONT)
	}
	setCTTY(tty.session, nil)
	tty.session, tty.foreground = nil, nil
}
