package kernel

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// run is the task goroutine: it delivers signals, switches into the guest
// and handles each event until the task exits (DESIGN.md principle 4).
func (t *Task) run() {
	// On ptrace, requests must come from the thread that attached, so the
	// task goroutine keeps its OS thread for life. It never unlocks: Go
	// then retires the thread when the goroutine ends, after Release has
	// let go of the stub thread it traced.
	bound := false
	if b, ok := t.k.Platform.(platform.OSThreadBound); ok && b.NeedsOSThread() {
		runtime.LockOSThread()
		bound = true
	}
	for {
		t.handleSignals()
		if t.exiting {
			break
		}
		if !bound {
			// Let goroutines this syscall woke run first: Go puts a
			// goroutine that a send or a netstack wake-up readies in
			// this P's next slot, where it would wait while this
			// goroutine spins or sleeps in the host for the guest (a
			// P in a system call is taken back only by sysmon, after
			// 20 µs to 10 ms). A woken task or netstack's TCP
			// processor then runs at once, on this CPU.
			runtime.Gosched()
		}
		t0 := time.Now()
		ev, err := t.pc.Switch(t.mm.AddressSpace(), &t.st)
		t1 := time.Now()
		t.utime.Add(int64(t1.Sub(t0)))
		if err != nil {
			if !errors.Is(err, platform.ErrStubDied) {
				t.k.Log.Warn("switch failed", "tid", t.tid, "err", err)
			}
			// The guest's host process is gone: the process can't go on.
			t.exitGroupStatus(SignalStatus(linux.SIGKILL))
			continue
		}
		switch ev.Kind {
		case platform.EventSyscall:
			t.lastFault = faultSite{}
			if pt, ok := t.pc.(platform.SyscallPatcher); ok && t.k.SyscallPatching && pt.TrappedSyscall() {
				if t.mm.PatchSyscall(hostarch.Addr(t.st.Regs.Rip), t.st.Regs.Orig_rax, pt) {
					t.k.Log.Debug("patched syscall site", "tid", t.tid, "ip", fmt.Sprintf("%#x", t.st.Regs.Rip-2), "sysno", t.st.Regs.Orig_rax)
				}
			}
			t.doSyscall()
			// Time in the sentry, minus sleeps, is the task's system time.
			t.stime.Add(int64(time.Since(t1)) - t.sleptTake())
		case platform.EventFault:
			t.handleFault(ev)
		case platform.EventInterrupted:
			// handleSignals looks at what the interrupt was for.
		}
	}
	t.exit()
}

// handleFault resolves a guest fault, or forces the signal it causes.
func (t *Task) handleFault(ev platform.Event) {
	info := &linux.SignalInfo{Signo: ev.Signo, Code: ev.Code, Addr: uint64(ev.Addr)}
	if ev.Signo == linux.SIGILL {
		if site, atSyscall, ok := t.mm.PatchedSiteFault(t.st.IP()); ok {
			// A thread caught by a syscall patch, or sent back to a
			// patched site's `syscall` to restart it (usertrap.go).
			if atSyscall {
				// The site's instructions have run (or a restart set rax
				// back, perhaps to restart_syscall(2)): this is the
				// `syscall`. Rerunning the site would redo instructions
				// whose inputs the syscall clobbered (rcx in Go's shape).
				t.st.Regs.Rip += 2
				t.st.Regs.Orig_rax = t.st.Regs.Rax
				t.doSyscall()
				return
			}
			t.st.Regs.Rip = uint64(site)
			return
		}
	}
	if ev.Signo == linux.SIGSEGV {
		ip := t.st.IP()
		if t.lastFault.addr == ev.Addr && t.lastFault.ip == ip {
			// The same fault again, right after it was resolved: the
			// mapping really forbids the access.
			t.lastFault = faultSite{}
			info.Code = mm.SEGV_ACCERR
			t.ForceSignal(info)
			return
		}
		err := t.mm.HandleFault(ev.Addr, ev.Access)
		if err == nil {
			t.lastFault = faultSite{ev.Addr, ip}
			return
		}
		t.lastFault = faultSite{}
		var fe *mm.FaultError
		if errors.As(err, &fe) {
			info.Code = fe.Code
			if fe.Bus {
				info.Signo = linux.SIGBUS
			}
		}
	}
	t.ForceSignal(info)
}

// faultSite is where a fault happened: its address and the instruction.
type faultSite struct {
	addr, ip hostarch.Addr
}
