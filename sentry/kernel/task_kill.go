package kernel

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

// canSignalLocked applies kill(2)'s permission rule: "the real or effective
// user ID of the sending process must equal the real or saved set-user-ID
// of the target process", unless the sender has CAP_KILL.
func (t *Task) canSignalLocked(target *ThreadGroup) bool {
	c := t.creds
	if c.HasCapability(auth.CAP_KILL) {
		return true
	}
	var tc *auth.Credentials
	for o := range target.tasks {
		tc = o.creds
		break
	}
	if tc == nil {
		return true
	}
	return c.RealKUID == tc.RealKUID || c.RealKUID == tc.SavedKUID ||
		c.EffectiveKUID == tc.RealKUID || c.EffectiveKUID == tc.SavedKUID
}

func (t *Task) userInfo(signo int) *linux.SignalInfo {
	return &linux.SignalInfo{Signo: int32(signo), Code: linux.SI_USER, Pid: int32(t.tg.pid), UID: uint32(t.creds.RealKUID)}
}

// Kill implements kill(2).
func (t *Task) Kill(pid ThreadID, signo int) error {
	if signo < 0 || signo >= linux.NSIG {
		return errno.EINVAL
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	send := func(tg *ThreadGroup) error {
		if !t.canSignalLocked(tg) {
			return errno.EPERM
		}
		return tg.sendSignalLocked(t.userInfo(signo))
	}
	sendGroup := func(pg *ProcessGroup) error {
		if pg == nil || len(pg.members) == 0 {
			return errno.ESRCH
		}
		var lastErr error = errno.EPERM
		ok := false
		for tg := range pg.members {
			if err := send(tg); err == nil {
				ok = true
			} else {
				lastErr = err
			}
		}
		if ok {
			return nil
		}
		return lastErr
	}
	switch {
	case pid > 0:
		tg := k.threadGroups[pid]
		if tg == nil || tg.reaped {
			return errno.ESRCH
		}
		return send(tg)
	case pid == 0:
		return sendGroup(t.tg.pgrp)
	case pid == -1:
		// Every process the caller may signal, except init and itself.
		found := false
		for _, tg := range k.threadGroups {
			if tg.pid == 1 || tg == t.tg || tg.zombie {
				continue
			}
			if send(tg) == nil {
				found = true
			}
		}
		if !found {
			return errno.ESRCH
		}
		return nil
	default:
		return sendGroup(k.pgrps[-pid])
	}
}

// Tgkill implements tgkill(2) and, with tgid 0, tkill(2).
func (t *Task) Tgkill(tgid, tid ThreadID, signo int) error {
	if tid <= 0 || tgid < 0 || signo < 0 || signo >= linux.NSIG {
		return errno.EINVAL
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	target := k.tasks[tid]
	if target == nil || target.exited || (tgid != 0 && target.tg.pid != tgid) {
		return errno.ESRCH
	}
	if !t.canSignalLocked(target.tg) {
		return errno.EPERM
	}
	info := t.userInfo(signo)
	info.Code = linux.SI_TKILL
	return target.sendSignalLocked(info, false)
}

// QueueSignal implements rt_sigqueueinfo(2) (tid 0) and
// rt_tgsigqueueinfo(2) with a siginfo from the guest.
func (t *Task) QueueSignal(tgid, tid ThreadID, info *linux.SignalInfo) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tg := k.threadGroups[tgid]
	if tg == nil || tg.reaped {
		return errno.ESRCH
	}
	// "EPERM ... the caller is not sending to itself and si_code is
	// nonnegative or SI_TKILL" - rt_sigqueueinfo(2).
	if tg != t.tg && (info.Code >= 0 || info.Code == linux.SI_TKILL) {
		return errno.EPERM
	}
	if !t.canSignalLocked(tg) {
		return errno.EPERM
	}
	if tid == 0 {
		return tg.sendSignalLocked(info)
	}
	target := k.tasks[tid]
	if target == nil || target.exited || target.tg != tg {
		return errno.ESRCH
	}
	return target.sendSignalLocked(info, false)
}

// SignalParentDeath sends each child of t's process its PR_SET_PDEATHSIG
// signal. (Called with k.mu held from exitLocked.)
func (tg *ThreadGroup) signalChildrenParentDeathLocked() {
	for c := range tg.children {
		for o := range c.tasks {
			if o.pdeathSignal != 0 {
				o.sendSignalLocked(&linux.SignalInfo{Signo: int32(o.pdeathSignal), Code: linux.SI_USER, Pid: int32(tg.pid)}, false)
			}
		}
	}
}
