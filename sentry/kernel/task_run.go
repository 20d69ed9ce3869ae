package kernel

import (
	"errors"
	"runtime"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// run is the task goroutine: it switches into the guest and handles each
// event until the task exits (DESIGN.md principle 4).
func (t *Task) run() {
	// ptrace requests must come from the thread that attached, so the task
	// goroutine keeps its OS thread for life. It never unlocks: Go then
	// retires the thread when the goroutine ends, after Release has let go
	// of the stub thread it traced.
	runtime.LockOSThread()
	for !t.exiting {
		if sig := t.pendingKill(); sig != 0 {
			t.exitGroup(SignalStatus(sig))
			break
		}
		ev, err := t.pc.Switch(t.mm.AddressSpace(), &t.st)
		if err != nil {
			if !errors.Is(err, platform.ErrStubDied) {
				t.k.Log.Warn("switch failed", "tid", t.tid, "err", err)
			}
			// The guest's host process is gone: the task can't go on.
			t.exitGroup(SignalStatus(linux.SIGKILL))
			break
		}
		switch ev.Kind {
		case platform.EventSyscall:
			t.doSyscall()
		case platform.EventFault:
			t.handleFault(ev)
		case platform.EventInterrupted:
			// Checked at the top of the loop.
		}
	}
	t.exit()
}

// handleFault resolves a guest fault, or delivers the signal it causes.
func (t *Task) handleFault(ev platform.Event) {
	if ev.Signo == linux.SIGSEGV {
		err := t.mm.HandleFault(ev.Addr, ev.Access)
		if err == nil {
			return
		}
		var fe *mm.FaultError
		if errors.As(err, &fe) {
			ev.Code = fe.Code
		}
	}
	t.forceSignal(ev.Signo)
}

// forceSignal delivers a synchronous signal. Until the guest can install
// handlers, every such signal takes its default action, which for the
// fault signals is to terminate the process (with a core dump, which the
// sandbox does not write).
func (t *Task) forceSignal(signo int32) {
	t.k.Log.Debug("fatal signal", "tid", t.tid, "signo", signo)
	t.exitGroup(SignalStatus(int(signo)))
}

// pendingKill returns a signal that must end the task now (0 if none).
func (t *Task) pendingKill() int {
	return int(t.tg.killSignal.Load())
}

// Interrupt makes the task goroutine look at its state soon: it kicks the
// guest out of Switch and wakes a sentry-side wait.
func (t *Task) Interrupt() {
	select {
	case t.interruptCh <- struct{}{}:
	default:
	}
	t.pc.Interrupt()
}
