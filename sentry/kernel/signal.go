package kernel

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/platform"
)

// SigAction is struct sigaction as the kernel sees it (kernel_sigaction
// in arch/x86/include/asm/signal.h): 32 bytes.
type SigAction struct {
	Handler  uint64
	Flags    uint64
	Restorer uint64
	Mask     uint64
}

// Special handler values.
const (
	SIG_DFL = 0
	SIG_IGN = 1
)

// sa_flags bits from <asm/signal.h>.
const (
	SA_NOCLDSTOP = 0x1
	SA_NOCLDWAIT = 0x2
	SA_SIGINFO   = 0x4
	SA_RESTORER  = 0x04000000
	SA_ONSTACK   = 0x08000000
	SA_RESTART   = 0x10000000
	SA_NODEFER   = 0x40000000
	SA_RESETHAND = 0x80000000
)

// SigActionSize is sizeof(struct kernel_sigaction).
const SigActionSize = 32

// Marshal encodes sa.
func (sa *SigAction) Marshal(b []byte) {
	le := binary.LittleEndian
	le.PutUint64(b[0:], sa.Handler)
	le.PutUint64(b[8:], sa.Flags)
	le.PutUint64(b[16:], sa.Restorer)
	le.PutUint64(b[24:], sa.Mask)
}

// Unmarshal decodes sa.
func (sa *SigAction) Unmarshal(b []byte) {
	le := binary.LittleEndian
	sa.Handler = le.Uint64(b[0:])
	sa.Flags = le.Uint64(b[8:])
	sa.Restorer = le.Uint64(b[16:])
	sa.Mask = le.Uint64(b[24:])
}

// SignalSet is a sigset_t of 64 signals; bit n-1 is signal n.
type SignalSet uint64

// SignalSetOf returns the set holding only signo.
func SignalSetOf(signo int) SignalSet { return SignalSet(1) << (signo - 1) }

// unblockable are the signals no mask can block.
var unblockable = SignalSetOf(linux.SIGKILL) | SignalSetOf(linux.SIGSTOP)

// Default actions, from signal(7).
type defaultAction int

const (
	actTerm defaultAction = iota
	actCore
	actIgnore
	actStop
	actCont
)

func defaultActionOf(signo int) defaultAction {
	switch signo {
	case linux.SIGQUIT, linux.SIGILL, linux.SIGTRAP, linux.SIGABRT, linux.SIGBUS, linux.SIGFPE,
		linux.SIGSEGV, linux.SIGXCPU, linux.SIGXFSZ, linux.SIGSYS:
		return actCore
	case linux.SIGCHLD, linux.SIGURG, linux.SIGWINCH:
		return actIgnore
	case linux.SIGSTOP, linux.SIGTSTP, linux.SIGTTIN, linux.SIGTTOU:
		return actStop
	case linux.SIGCONT:
		return actCont
	}
	return actTerm
}

// sigQueue holds pending signals: at most one of each standard signal, and
// a queue of each real-time one.
type sigQueue struct {
	set   SignalSet
	infos [linux.NSIG][]*linux.SignalInfo
}

func (q *sigQueue) enqueue(info *linux.SignalInfo) bool {
	s := int(info.Signo)
	if s < linux.SIGRTMIN && q.set&SignalSetOf(s) != 0 {
		return false // Standard signals don't queue.
	}
	q.set |= SignalSetOf(s)
	q.infos[s] = append(q.infos[s], info)
	return true
}

func (q *sigQueue) dequeue(signo int) *linux.SignalInfo {
	l := q.infos[signo]
	if len(l) == 0 {
		return nil
	}
	info := l[0]
	q.infos[signo] = l[1:]
	if len(q.infos[signo]) == 0 {
		q.set &^= SignalSetOf(signo)
		q.infos[signo] = nil
	}
	return info
}

func (q *sigQueue) discard(set SignalSet) {
	for s := 1; s < linux.NSIG; s++ {
		if set&SignalSetOf(s) != 0 && q.set&SignalSetOf(s) != 0 {
			q.set &^= SignalSetOf(s)
			q.infos[s] = nil
		}
	}
}

// lowest returns the lowest signal in set that is pending, preferring the
// synchronous fault signals as Linux's next_signal does; 0 if none.
func lowest(set SignalSet) int {
	if set == 0 {
		return 0
	}
	sync := SignalSetOf(linux.SIGSEGV) | SignalSetOf(linux.SIGBUS) | SignalSetOf(linux.SIGILL) |
		SignalSetOf(linux.SIGTRAP) | SignalSetOf(linux.SIGFPE) | SignalSetOf(linux.SIGSYS)
	if set&sync != 0 {
		set &= sync
	}
	for s := 1; s < linux.NSIG; s++ {
		if set&SignalSetOf(s) != 0 {
			return s
		}
	}
	return 0
}

// SignalAction returns the action for signo.
func (t *Task) SignalAction(signo int) SigAction {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.tg.handlers.actions[signo]
}

// SetSignalAction sets the action for signo and returns the old one. As
// POSIX requires, making a signal ignored discards it where pending.
func (t *Task) SetSignalAction(signo int, sa SigAction) SigAction {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	old := t.tg.handlers.actions[signo]
	t.tg.handlers.actions[signo] = sa
	if sa.Handler == SIG_IGN || (sa.Handler == SIG_DFL && defaultActionOf(signo) == actIgnore) {
		set := SignalSetOf(signo)
		t.tg.pending.discard(set)
		for o := range t.tg.tasks {
			o.pending.discard(set)
		}
	}
	return old
}

// SignalMask returns t's blocked signals.
func (t *Task) SignalMask() SignalSet {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.sigMask
}

// SetSignalMask sets t's blocked signals; SIGKILL and SIGSTOP stay
// unblocked. Newly unblocked pending signals are delivered before the task
// returns to the guest.
func (t *Task) SetSignalMask(m SignalSet) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	t.setSignalMaskLocked(m)
}

func (t *Task) setSignalMaskLocked(m SignalSet) {
	t.sigMask = m &^ unblockable
}

// SetSavedSignalMask arranges for mask to be restored after the next
// signal handler runs or, if none runs, when the current syscall returns
// (sigsuspend, ppoll and pselect6's temporary masks).
func (t *Task) SetSavedSignalMask(mask SignalSet) {
	t.savedMask = mask
	t.haveSavedMask = true
}

// WaitForSignals runs wait with the signals in set unblocked, so that they
// wake the task, while they still count as blocked for the rule that
// blocked signals are never discarded as ignored (Linux's real_blocked,
// for sigtimedwait).
func (t *Task) WaitForSignals(set SignalSet, wait func()) {
	k := t.k
	k.mu.Lock()
	old := t.sigMask
	t.realBlocked = old
	t.setSignalMaskLocked(old &^ set)
	k.mu.Unlock()
	wait()
	k.mu.Lock()
	t.realBlocked = 0
	t.setSignalMaskLocked(old)
	k.mu.Unlock()
}

// SignalStack returns t's alternate signal stack.
func (t *Task) SignalStack() (sp, size uint64, flags int32) {
	return t.altStack.SP, t.altStack.Size, t.altStack.Flags
}

// SetSignalStack sets t's alternate signal stack.
func (t *Task) SetSignalStack(sp, size uint64, flags int32) {
	t.altStack.SP, t.altStack.Size, t.altStack.Flags = sp, size, flags
}

// OnSignalStack reports whether the task's stack pointer is on its
// alternate signal stack.
func (t *Task) OnSignalStack() bool { return t.altStack.Contains(t.st.Regs.Rsp) }

// PendingSignals returns the signals pending for t (thread and process).
func (t *Task) PendingSignals() SignalSet {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.pending.set | t.tg.pending.set
}

// ignoredLocked reports whether a signal would be ignored on delivery, so
// that sending it can drop it at once.
func (tg *ThreadGroup) ignoredLocked(signo int) bool {
	sa := tg.handlers.actions[signo]
	if sa.Handler == SIG_IGN {
		return true
	}
	return sa.Handler == SIG_DFL && defaultActionOf(signo) == actIgnore
}

// SendSignal sends a thread-directed signal to t.
func (t *Task) SendSignal(info *linux.SignalInfo) error {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.sendSignalLocked(info, false)
}

// SendSignal sends a process-directed signal to tg.
func (tg *ThreadGroup) SendSignal(info *linux.SignalInfo) error {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	return tg.sendSignalLocked(info)
}

func (tg *ThreadGroup) sendSignalLocked(info *linux.SignalInfo) error {
	if tg.leader == nil || tg.zombie {
		return nil
	}
	for t := range tg.tasks {
		return t.sendSignalLocked(info, true)
	}
	return nil
}

// sendSignalLocked queues info for t (or t's process if group) and wakes a
// task that can take it.
//
// Preconditions: k.mu is held.
func (t *Task) sendSignalLocked(info *linux.SignalInfo, group bool) error {
	tg := t.tg
	signo := int(info.Signo)
	if signo == 0 {
		return nil // The permission check was the caller's; nothing to send.
	}
	if tg.exiting || tg.zombie {
		return nil
	}
	// Stop and continue signals cancel each other when sent (signal(7)).
	switch defaultActionOf(signo) {
	case actStop:
		tg.pending.discard(SignalSetOf(linux.SIGCONT))
		for o := range tg.tasks {
			o.pending.discard(SignalSetOf(linux.SIGCONT))
		}
	case actCont:
		stops := SignalSetOf(linux.SIGSTOP) | SignalSetOf(linux.SIGTSTP) | SignalSetOf(linux.SIGTTIN) | SignalSetOf(linux.SIGTTOU)
		tg.pending.discard(stops)
		for o := range tg.tasks {
			o.pending.discard(stops)
		}
		tg.continueLocked()
	}
	if signo == linux.SIGKILL {
		// SIGKILL can't be caught, blocked or ignored: end the process now.
		tg.killLocked(SignalStatus(linux.SIGKILL))
		return nil
	}
	// "Blocked signals are never ignored, since the signal handler may
	// change by the time it is unblocked" - kernel/signal.c:sig_ignored.
	// An ignored SIGCONT has done its work above.
	if tg.ignoredLocked(signo) && (t.sigMask|t.realBlocked)&SignalSetOf(signo) == 0 {
		return nil
	}
	q := &t.pending
	if group {
		q = &tg.pending
	}
	if !q.enqueue(info) {
		return nil
	}
	tg.signalWaiters.Notify(vfs.EventIn)
	bit := SignalSetOf(signo)
	if !group {
		if t.sigMask&bit == 0 {
			t.interruptLocked()
		}
		return nil
	}
	// Wake one thread that doesn't block the signal, preferring t.
	if t.sigMask&bit == 0 {
		t.interruptLocked()
		return nil
	}
	for o := range tg.tasks {
		if o.sigMask&bit == 0 {
			o.interruptLocked()
			return nil
		}
	}
	return nil
}

// killLocked ends every task of tg with status, as a fatal signal or
// exit_group does.
//
// Preconditions: k.mu is held.
func (tg *ThreadGroup) killLocked(status WaitStatus) {
	if !tg.exiting {
		tg.exiting = true
		tg.groupStatus = status
	}
	tg.continueLocked()
	for t := range tg.tasks {
		t.interruptLocked()
	}
}

// continueLocked resumes a stopped process (SIGCONT or SIGKILL).
func (tg *ThreadGroup) continueLocked() {
	if !tg.stopped {
		return
	}
	tg.stopped = false
	tg.continued, tg.continueReported = true, false
	close(tg.continueCh)
	if tg.parent != nil && !tg.exiting {
		tg.parent.notifyChildEventLocked()
		tg.notifyParentLocked(linux.CLD_CONTINUED, linux.SIGCONT)
	}
}

// notifyParentLocked sends SIGCHLD for a stop or continue, unless the
// parent asked not to hear about them (SA_NOCLDSTOP).
func (tg *ThreadGroup) notifyParentLocked(code int32, status int) {
	p := tg.parent
	if p == nil {
		return
	}
	if p.handlers.actions[linux.SIGCHLD].Flags&SA_NOCLDSTOP != 0 {
		return
	}
	p.sendSignalLocked(&linux.SignalInfo{Signo: linux.SIGCHLD, Code: code, Pid: int32(tg.pid), Status: int32(status)})
}

// interruptLocked wakes t's goroutine if it blocks, and kicks it out of the
// guest if it runs.
func (t *Task) interruptLocked() {
	select {
	case t.interruptCh <- struct{}{}:
	default:
	}
	t.pc.Interrupt()
}

// Interrupt makes the task goroutine look at its state soon.
func (t *Task) Interrupt() {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	t.interruptLocked()
}

// interruptedLocked reports whether t has something to do other than
// continue its syscall: an unblocked signal, or an exit.
func (t *Task) interruptedLocked() bool {
	if t.mustExitLocked() {
		return true
	}
	if t.tg.stopped {
		return true
	}
	return (t.pending.set|t.tg.pending.set)&^t.sigMask != 0
}

// mustExitLocked reports whether t must leave its run loop: its process is
// being killed, or another of its threads is in execve and de-threading.
//
// Preconditions: k.mu is held.
func (t *Task) mustExitLocked() bool {
	tg := t.tg
	return tg.exiting || (tg.execer != nil && tg.execer != t)
}

// ForceSignal delivers a synchronous signal (a fault) that the task can't
// block or ignore: as Linux's force_sig_info, a blocked or ignored signal
// is unblocked and reset to its default action.
func (t *Task) ForceSignal(info *linux.SignalInfo) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	signo := int(info.Signo)
	sa := &t.tg.handlers.actions[signo]
	blocked := t.sigMask&SignalSetOf(signo) != 0
	if sa.Handler == SIG_IGN || blocked {
		sa.Handler = SIG_DFL
		t.sigMask &^= SignalSetOf(signo)
	}
	t.pending.set |= SignalSetOf(signo)
	t.pending.infos[signo] = append([]*linux.SignalInfo{info}, t.pending.infos[signo]...)
}

// dequeueLocked takes the next deliverable signal, thread-directed first.
func (t *Task) dequeueLocked() *linux.SignalInfo {
	if s := lowest(t.pending.set &^ t.sigMask); s != 0 {
		return t.tg.dequeuedLocked(t.pending.dequeue(s))
	}
	if s := lowest(t.tg.pending.set &^ t.sigMask); s != 0 {
		return t.tg.dequeuedLocked(t.tg.pending.dequeue(s))
	}
	return nil
}

// dequeuedLocked finishes taking a signal: a POSIX timer's signal carries
// the expirations that happened while it was pending (its overrun).
func (tg *ThreadGroup) dequeuedLocked(info *linux.SignalInfo) *linux.SignalInfo {
	if info != nil && info.Code == linux.SI_TIMER {
		if pt := tg.Timer(info.TimerID); pt != nil {
			info.Overrun = int32(pt.delivered())
		}
	}
	return info
}

// DequeueSignal takes a pending signal in set, for sigtimedwait and
// signalfd; nil if none.
func (t *Task) DequeueSignal(set SignalSet) *linux.SignalInfo {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if s := lowest(t.pending.set & set); s != 0 {
		return t.tg.dequeuedLocked(t.pending.dequeue(s))
	}
	if s := lowest(t.tg.pending.set & set); s != 0 {
		return t.tg.dequeuedLocked(t.tg.pending.dequeue(s))
	}
	return nil
}

// handleSignals runs on the task goroutine before it returns to the guest:
// it takes exits, group stops and one signal at a time, running default
// actions and building handler frames. It returns once the task can run
// (or must exit: then t.exiting is set).
func (t *Task) handleSignals() {
	k := t.k
	for {
		k.mu.Lock()
		tg := t.tg
		if t.mustExitLocked() {
			status := tg.groupStatus
			k.mu.Unlock()
			t.exiting, t.exitStatus = true, status
			return
		}
		if tg.stopped {
			ch := tg.continueCh
			k.mu.Unlock()
			// A stopped task waits here; SIGCONT or SIGKILL close ch.
			<-ch
			continue
		}
		info := t.dequeueLocked()
		if info == nil {
			k.mu.Unlock()
			t.finishRestartNoHandler()
			if t.haveSavedMask {
				// A temporary mask (sigsuspend, ppoll) with no handler run:
				// the old mask comes back as the syscall returns or restarts.
				t.SetSignalMask(t.savedMask)
				t.haveSavedMask = false
			}
			return
		}
		signo := int(info.Signo)
		sa := tg.handlers.actions[signo]
		switch {
		case sa.Handler == SIG_IGN:
			k.mu.Unlock()
			continue
		case sa.Handler == SIG_DFL:
			switch defaultActionOf(signo) {
			case actIgnore, actCont:
				k.mu.Unlock()
				continue
			case actStop:
				// "SIGTSTP, SIGTTIN and SIGTTOU are ignored by an orphaned
				// process group" is not modelled yet.
				tg.stopLocked(signo)
				k.mu.Unlock()
				continue
			case actCore:
				// The core bit says a dump was written; as on a host with
				// RLIMIT_CORE 0 (the default) none is, and the sandbox
				// never writes one, it is set only when the limit asks.
				status := SignalStatus(signo)
				if tg.limitsCopy()[RLIMIT_CORE].Cur != 0 {
					status |= 0x80
				}
				tg.killLocked(status)
			default:
				tg.killLocked(SignalStatus(signo))
			}
			k.mu.Unlock()
			continue
		}
		// A handler: build its frame.
		if sa.Flags&SA_RESETHAND != 0 {
			tg.handlers.actions[signo].Handler = SIG_DFL
			tg.handlers.actions[signo].Flags &^= SA_SIGINFO
		}
		oldMask := t.sigMask
		if t.haveSavedMask {
			oldMask = t.savedMask
			t.haveSavedMask = false
		}
		newMask := t.sigMask | SignalSet(sa.Mask)
		if sa.Flags&SA_NODEFER == 0 {
			newMask |= SignalSetOf(signo)
		}
		t.setSignalMaskLocked(newMask)
		k.mu.Unlock()
		t.finishRestart(sa.Flags&SA_RESTART != 0)
		if err := t.deliverHandler(info, sa, oldMask); err != nil {
			// "If the kernel can't build the frame, it kills the process
			// with SIGSEGV" - as signal.c:signal_setup_done/force_sigsegv.
			k.mu.Lock()
			tg.killLocked(SignalStatus(linux.SIGSEGV) | 0x80)
			k.mu.Unlock()
		}
		return
	}
}

// stopLocked starts a group stop.
func (tg *ThreadGroup) stopLocked(signo int) {
	if tg.stopped || tg.exiting {
		return
	}
	tg.stopped, tg.stopSignal, tg.stopReported = true, signo, false
	tg.continued = false
	tg.continueCh = make(chan struct{})
	for o := range tg.tasks {
		o.interruptLocked()
	}
	if tg.parent != nil {
		tg.parent.notifyChildEventLocked()
		tg.notifyParentLocked(linux.CLD_STOPPED, signo)
	}
}

// finishRestart decides the fate of a syscall interrupted with an
// ERESTART* code when a handler is about to run, per
// arch/x86/kernel/signal.c:handle_signal: ERESTARTNOINTR always restarts,
// ERESTARTSYS restarts if the handler has SA_RESTART, and the others
// return EINTR.
func (t *Task) finishRestart(handlerRestarts bool) {
	if t.restartErr == 0 {
		return
	}
	e := t.restartErr
	t.restartErr = 0
	restart := false
	switch e {
	case errno.ERESTARTNOINTR:
		restart = true
	case errno.ERESTARTSYS:
		restart = handlerRestarts
	}
	t.st.SetReturn(errnoReturn(errno.EINTR))
	if restart {
		t.st.RestartSyscall()
	}
}

// finishRestartNoHandler is the path where no handler runs: everything is
// restarted, restart_syscall for the restart-block case.
func (t *Task) finishRestartNoHandler() {
	if t.restartErr == 0 {
		return
	}
	e := t.restartErr
	t.restartErr = 0
	if e == errno.ERESTART_RESTARTBLOCK {
		t.st.Regs.Rax = restartSyscallNo
		t.st.Regs.Orig_rax = restartSyscallNo
		t.st.Regs.Rip -= 2
		return
	}
	t.st.RestartSyscall()
}

// restartSyscallNo is __NR_restart_syscall.
const restartSyscallNo = 219

// deliverHandler builds the signal frame and points the task at the
// handler.
func (t *Task) deliverHandler(info *linux.SignalInfo, sa SigAction, oldMask SignalSet) error {
	t.pullFP()
	sp := t.st.Regs.Rsp
	onAlt := false
	if sa.Flags&SA_ONSTACK != 0 && t.altStack.Size != 0 && t.altStack.Flags&2 == 0 && !t.altStack.Contains(sp) {
		sp = t.altStack.SP + t.altStack.Size
		onAlt = true
	}
	if sa.Flags&SA_RESTORER == 0 {
		// x86-64 has no kernel-provided restorer; Linux requires it too
		// (glibc and musl always set it).
		return errno.EFAULT
	}
	return t.st.SignalSetup(t.mm, info, sa.Handler, sa.Restorer, sp, onAlt, t.altStack, uint64(oldMask))
}

// pullFP makes t.st.FP hold the thread's live FP state, if the platform
// can read it.
func (t *Task) pullFP() {
	if fc, ok := t.pc.(platform.FPContext); ok {
		if err := fc.PullFPState(&t.st); err != nil {
			t.k.Log.Warn("read FP state", "err", err)
		}
	}
}

// errnoReturn is the rax value of a syscall failing with e: -e.
func errnoReturn(e errno.Errno) uintptr { return ^uintptr(e) + 1 }
