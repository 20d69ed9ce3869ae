package seccomptrap

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
)

// siginfo codes from <asm-generic/siginfo.h>.
const (
	sysSeccomp = 1  // SYS_SECCOMP: SIGSYS from a SECCOMP_RET_TRAP
	siTkill    = -6 // SI_TKILL: sent by tkill/tgkill
)

// Page-fault error code bits (REG_ERR) from arch/x86/include/asm/trap_pf.h,
// and the #PF vector (REG_TRAPNO).
const (
	pfWrite = 1 << 1
	pfInstr = 1 << 4
	trapPF  = 14
)

// deathPoll bounds each futex sleep of the sentry. A stub thread that dies
// on its own zeroes the state word and wakes the sentry
// (CLONE_CHILD_CLEARTID), but when the whole stub dies the last thread to
// go does not; the sentry then notices on the next poll.
const deathPoll = 50 * time.Millisecond

// Adaptive spinning. A spin pays off only while the other side is on
// another CPU and answers within the budget; on an oversubscribed machine
// it steals the CPU the other side needs. The sentry measures how long each
// side really waited (TSC from release to event for itself, from the
// handler's event stamp to release for the stub): a wait that fit in the
// maximum budget restores the full budget, a longer one halves it. Once
// both sides sleep, waits include futex wake-ups; while those still fit in
// the budget spinning is tried again, so the budgets cannot get stuck at
// zero on a quiet machine.
func adaptSpin(cur, waited, max uint64) uint64 {
	if waited <= max {
		return max
	}
	return cur / 2
}

// sentryPID tells the sentry's own interrupt kicks from other signals.
var sentryPID = int32(os.Getpid())

var errThreadGone = errors.New("seccomptrap: stub thread gone")

// context runs one task. All methods but Interrupt run on the task
// goroutine; unlike ptrace, Switch may run on any OS thread.
type context struct {
	p *Platform

	// as, slot, h and tid are the address space, slot and stub thread the
	// task last ran in (as == nil: none). Owned by the task goroutine.
	as   *addressSpace
	slot int
	h    *slotHeader
	tid  int

	// sentrySpin and stubSpin are the current spin budgets in TSC ticks
	// (see "Adaptive spinning"). Owned by the task goroutine.
	sentrySpin uint64
	stubSpin   uint64
	// releaseTSC is when Switch last released the stub thread.
	releaseTSC uint64
	// slept is set when the task slept in the sentry while serving the
	// current event (NoteSlept): the stub's wait then says nothing about
	// whether spinning pays off, so its budget is left as it is.
	slept bool
	// tramp says the thread is parked in the trampoline path, not in a
	// signal frame (patch.go). Owned by the task goroutine.
	tramp bool

	// mu protects the fields below, which Interrupt uses from other
	// goroutines.
	mu sync.Mutex
	// running is the stub thread running guest code, or 0. +checklocks:mu
	running int
	// stubPID is the running thread's process, for tgkill. +checklocks:mu
	stubPID int
	// interrupted is set by Interrupt until a Switch consumes it.
	// +checklocks:mu
	interrupted bool
	// retireTimeouts counts the deathPolls that retire waited out (tests).
	retireTimeouts int
	// watching says a deafness check is scheduled (deaf.go).
	// +checklocks:mu
	watching bool
}

// Switch implements platform.Context.
func (c *context) Switch(pas platform.AddressSpace, st *arch.State) (platform.Event, error) {
	as := pas.(*addressSpace)
	if st.Regs.Gs_base != 0 && c.p.patching && !c.p.fsgsbase {
		// Before the thread can run with a GS base that is not its slot.
		as.slowTrampolines()
	}
	for {
		if c.as != as {
			c.retire()
			if c.takeInterrupt() {
				return platform.Event{Kind: platform.EventInterrupted}, nil
			}
			// The new thread starts running the guest as soon as it is
			// detached, so an Interrupt that raced with its creation must
			// kick it.
			if err := c.adopt(as, st); err != nil {
				return platform.Event{}, err
			}
			c.mu.Lock()
			c.running, c.stubPID = c.tid, as.pid
			if c.interrupted {
				unix.Tgkill(as.pid, c.tid, interruptSignal)
			}
			c.mu.Unlock()
		} else {
			// The trampoline path can restore neither FP state nor a GS
			// base, nor an FS base without FSGSBASE: move the thread into
			// a signal frame first.
			if c.tramp && (st.FPValid || c.p.hostGS(st.Regs.Gs_base, c.slot) != c.h.CurGS ||
				!c.p.fsgsbase && st.Regs.Fs_base != c.h.CurFS) {
				if err := c.materialize(); err != nil {
					return platform.Event{}, err
				}
			}
			c.mu.Lock()
			if c.interrupted {
				c.interrupted = false
				c.mu.Unlock()
				return platform.Event{Kind: platform.EventInterrupted}, nil
			}
			c.running, c.stubPID = c.tid, as.pid
			c.mu.Unlock()
			c.h.putRegs(&st.Regs)
			c.h.GSBase = c.p.hostGS(st.Regs.Gs_base, c.slot)
			if st.FPValid {
				c.pushFP(st)
			}
			now := rdtsc()
			if !c.slept {
				c.stubSpin = adaptSpin(c.stubSpin, now-c.h.EvTSC, c.p.stubSpinTicks)
			}
			c.slept = false
			c.h.Spin = c.stubSpin
			c.releaseTSC = now
			// The swap publishes the registers before the stub can see
			// stateRun (Go atomics are sequentially consistent).
			switch atomic.SwapUint32(&c.h.State, stateRun) {
			case stateStubWait:
				futexWake(&c.h.State)
			case stateDead:
				c.stopped()
				return platform.Event{}, c.died()
			}
		}
		err := c.waitEvent()
		c.stopped()
		if err != nil {
			return platform.Event{}, c.died()
		}
		h := c.h
		h.getRegs(&st.Regs)
		st.Regs.Gs_base = guestGS(st.Regs.Gs_base, c.slot)
		st.Regs.Orig_rax = ^uint64(0)
		via := atomic.LoadUint32(&h.Via)
		c.tramp = via != viaSignal
		if c.tramp {
			// The trampoline path saves no segment registers; user code
			// runs with the kernel's fixed selectors.
			st.Regs.Cs, st.Regs.Ss = userCS, userSS
		}
		signo, code := h.signo(), h.code()
		switch {
		case via == viaSyscall:
			st.Regs.Orig_rax = st.Regs.Rax
			return platform.Event{Kind: platform.EventSyscall}, nil
		case via == viaKick:
			c.takeInterrupt()
			return platform.Event{Kind: platform.EventInterrupted}, nil
		case via != viaSignal:
			return platform.Event{}, fmt.Errorf("seccomptrap: bad event source %d", via)
		case signo == int32(unix.SIGSYS) && code == sysSeccomp:
			// SECCOMP_RET_TRAP rolls rax back to the syscall number
			// (kernel/seccomp.c:__seccomp_filter, syscall_rollback), and
			// rip is already past the `syscall`, as with PTRACE_SYSEMU.
			st.Regs.Orig_rax = st.Regs.Rax
			return platform.Event{Kind: platform.EventSyscall}, nil
		case isFaultSignal(signo) && code > 0:
			// code > 0: raised by the kernel for the guest's instruction.
			return faultEvent(h), nil
		case signo == int32(interruptSignal) && code == siTkill && h.senderPID() == sentryPID:
			c.takeInterrupt()
			return platform.Event{Kind: platform.EventInterrupted}, nil
		}
		// A signal sent to the stub from elsewhere on the host: the guest's
		// signals are the sentry's business, so resume as if nothing
		// happened.
	}
}

// Segment selectors of 64-bit user code (__USER_CS, __USER_DS).
const (
	userCS = 0x33
	userSS = 0x2b
)

// materialize moves a thread parked in the trampoline path into a signal
// frame: cmdFrame makes it execute a ud2, and the handler parks it in the
// SIGILL frame, whose FP area is then the thread's FP state, read and
// written as after a trap. The guest's registers are in the task's state;
// the next Switch writes them into the frame.
func (c *context) materialize() error {
	h := c.h
	h.Cmd = cmdFrame
	c.releaseTSC = rdtsc()
	switch atomic.SwapUint32(&h.State, stateRun) {
	case stateStubWait:
		futexWake(&h.State)
	case stateDead:
		return c.died()
	}
	err := c.waitEvent()
	h.Cmd = cmdNone
	if err != nil {
		return c.died()
	}
	if h.Via != viaSignal || h.signo() != int32(unix.SIGILL) || h.Gregs[regRIP] != c.p.stub.addr(c.p.stub.blob.frame) {
		// Only guest code writing into the slot gets here.
		return fmt.Errorf("seccomptrap: thread did not park in a signal frame")
	}
	c.tramp = false
	return nil
}

// takeInterrupt consumes a pending Interrupt.
func (c *context) takeInterrupt() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	was := c.interrupted
	c.interrupted = false
	return was
}

// stopped records that the guest no longer runs.
func (c *context) stopped() {
	c.mu.Lock()
	c.running = 0
	c.mu.Unlock()
}

func isFaultSignal(signo int32) bool {
	switch unix.Signal(signo) {
	case unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP:
		return true
	}
	return false
}

// faultEvent describes the fault saved in h. For page faults the error
// code says exactly what the access was.
func faultEvent(h *slotHeader) platform.Event {
	signo := h.signo()
	ev := platform.Event{Kind: platform.EventFault, Signo: signo, Code: h.code(), Addr: hostarch.Addr(h.addr())}
	if signo != int32(unix.SIGSEGV) && signo != int32(unix.SIGBUS) {
		return ev
	}
	ev.Access = hostarch.Read
	if h.Gregs[regTRAPNO] == trapPF {
		switch err := h.Gregs[regERR]; {
		case err&pfInstr != 0:
			ev.Access = hostarch.AccessType{Execute: true}
		case err&pfWrite != 0:
			ev.Access = hostarch.Write
		}
	}
	return ev
}

// waitEvent waits until the handler has posted an event: first spinning
// for the sentry's budget, then sleeping on the futex.
func (c *context) waitEvent() error {
	h := c.h
	defer func() { c.sentrySpin = adaptSpin(c.sentrySpin, rdtsc()-c.releaseTSC, c.p.sentrySpinTicks) }()
	if c.sentrySpin > 0 {
		deadline := c.releaseTSC + c.sentrySpin
		for atomic.LoadUint32(&h.State) == stateRun && rdtsc() < deadline {
			spinPause()
		}
	}
	for {
		switch atomic.LoadUint32(&h.State) {
		case stateEvent, stateStubWait:
			return nil
		case stateDead:
			return errThreadGone
		case stateRun:
			// Announce the sleep; the handler wakes us when it sees it.
			if !atomic.CompareAndSwapUint32(&h.State, stateRun, stateSentryWait) {
				continue
			}
		case stateSentryWait:
		default:
			// Only guest code writing into the slot gets here.
			return fmt.Errorf("seccomptrap: bad state word %d", atomic.LoadUint32(&h.State))
		}
		if futexWait(&h.State, stateSentryWait, deathPoll) == unix.ETIMEDOUT && !c.alive() {
			return errThreadGone
		}
	}
}

// NoteSlept implements platform.SleepNoter.
func (c *context) NoteSlept() { c.slept = true }

// alive reports whether the context's stub thread still exists.
func (c *context) alive() bool {
	return unix.Tgkill(c.as.pid, c.tid, 0) != unix.ESRCH
}

// died forgets the stub thread, which is gone with its slot free to reuse.
func (c *context) died() error {
	c.dropThread()
	return platform.ErrStubDied
}

func (c *context) dropThread() {
	if c.as != nil {
		c.as.freeSlot(c.slot)
	}
	c.as, c.h, c.slot, c.tid = nil, nil, 0, 0
	c.tramp = false
}

// adopt makes a new stub thread in as that runs st.
func (c *context) adopt(as *addressSpace, st *arch.State) error {
	i, ok := as.allocSlot()
	if !ok {
		return fmt.Errorf("seccomptrap: more than %d threads in one address space", maxSlots-1)
	}
	tid, err := as.newThread(i, st)
	if err != nil {
		as.freeSlot(i)
		return err
	}
	c.as, c.slot, c.h, c.tid = as, i, slotAt(as.ctl, i), tid
	c.sentrySpin, c.stubSpin = c.p.sentrySpinTicks, c.p.stubSpinTicks
	c.releaseTSC = rdtsc()
	return nil
}

// retire makes the current stub thread exit and waits until it is gone.
// The thread is parked in its handler (Switch only returns after an
// event), so it sees the command as soon as it is released.
func (c *context) retire() {
	if c.as == nil {
		return
	}
	if c.as.released.Load() {
		// The stub is being killed. Its last thread to go takes the
		// process's memory with it and so never clears its state word
		// (the kernel's mm_release skips clear_child_tid then): waiting
		// for that would take a deathPoll per exec.
		c.dropThread()
		return
	}
	h := c.h
	h.Cmd = cmdExit
	switch atomic.SwapUint32(&h.State, stateRun) {
	case stateStubWait:
		futexWake(&h.State)
	case stateDead:
		c.dropThread()
		return
	}
	for atomic.LoadUint32(&h.State) != stateDead {
		if futexWait(&h.State, stateRun, deathPoll) == unix.ETIMEDOUT {
			c.retireTimeouts++
			if !c.alive() {
				break
			}
		}
	}
	c.dropThread()
}

// Interrupt implements platform.Context.
func (c *context) Interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.interrupted = true
	if c.running != 0 {
		unix.Tgkill(c.stubPID, c.running, interruptSignal)
		c.watchLocked()
	}
}

// Release implements platform.Context.
func (c *context) Release() {
	c.retire()
}
