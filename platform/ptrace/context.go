package ptrace

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/platform/internal/ptracer"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
)

// interruptSignal kicks a running stub thread back to its tracer. The stub
// ignores SIGCHLD by default, and the tracer suppresses it anyway.
const interruptSignal = unix.SIGCHLD

// context runs one task. All methods but Interrupt run on the task
// goroutine, which is locked to its OS thread: that thread is the tracer of
// the context's stub thread.
type context struct {
	// as and tid are the address space and stub thread the task last ran
	// in. Owned by the task goroutine.
	as  *addressSpace
	tid int

	// mu protects the fields below, which Interrupt reads from other
	// goroutines.
	mu sync.Mutex
	// running is the stub thread running guest code, or 0.
	running int
	// stubPID is the running thread's process, for tgkill.
	stubPID int
	// interrupted is set by Interrupt until the next Switch consumes it.
	interrupted bool
}

// Switch implements platform.Context.
func (c *context) Switch(pas platform.AddressSpace, st *arch.State) (platform.Event, error) {
	// Every ptrace request below must come from this OS thread. The task
	// goroutine is already locked for its lifetime; locking again is cheap
	// insurance and nests.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	as := pas.(*addressSpace)
	if c.as != as {
		c.retire()
		if err := c.adopt(as); err != nil {
			return platform.Event{}, err
		}
	}
	for {
		c.mu.Lock()
		if c.interrupted {
			c.interrupted = false
			c.mu.Unlock()
			return platform.Event{Kind: platform.EventInterrupted}, nil
		}
		c.running, c.stubPID = c.tid, as.pid
		c.mu.Unlock()

		if err := ptracer.SetRegs(c.tid, &st.Regs); err != nil {
			c.stopped()
			return platform.Event{}, c.died(err)
		}
		if st.FPValid {
			if err := ptracer.SetXState(c.tid, st.FP); err != nil {
				// The state came from the guest (sigreturn) and the host
				// refused it: Linux kills such a task with SIGSEGV.
				c.stopped()
				st.FPValid = false
				return platform.Event{Kind: platform.EventFault, Signo: int32(unix.SIGSEGV), Code: 0x80}, nil
			}
			st.FPValid = false
		}
		if err := ptracer.Raw(unix.PTRACE_SYSEMU, c.tid, 0, 0); err != nil {
			c.stopped()
			return platform.Event{}, c.died(err)
		}
		ws, err := ptracer.Wait4(c.tid)
		c.stopped()
		if err != nil {
			return platform.Event{}, c.died(err)
		}
		if ws.Exited() || ws.Signaled() {
			c.as.unregisterOwner()
			c.tid, c.as = 0, nil
			return platform.Event{}, platform.ErrStubDied
		}
		if err := ptracer.GetRegs(c.tid, &st.Regs); err != nil {
			return platform.Event{}, c.died(err)
		}
		if uint32(ws)>>16 == unix.PTRACE_EVENT_STOP {
			// A group stop or PTRACE_INTERRUPT: not the guest's doing.
			continue
		}
		sig := ws.StopSignal()
		if sig == unix.SIGTRAP|0x80 {
			return platform.Event{Kind: platform.EventSyscall}, nil
		}
		var si siginfo
		if err := getSiginfo(c.tid, &si); err != nil {
			return platform.Event{}, c.died(err)
		}
		switch sig {
		case unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP:
			if si.Code > 0 { // Sent by the kernel: a synchronous fault.
				ev := platform.Event{Kind: platform.EventFault, Signo: int32(sig), Code: si.Code, Addr: hostarch.Addr(si.Addr)}
				// ptrace does not report the access type. A fault at the
				// instruction pointer is an instruction fetch; otherwise the
				// memory manager works it out from the mapping.
				if ev.Addr == st.IP() {
					ev.Access = hostarch.AccessType{Execute: true}
				} else {
					ev.Access = hostarch.Read
				}
				return ev, nil
			}
		case interruptSignal:
			if si.Code == -6 /* SI_TKILL */ && int(si.pid()) == os.Getpid() {
				c.mu.Lock()
				c.interrupted = false
				c.mu.Unlock()
				return platform.Event{Kind: platform.EventInterrupted}, nil
			}
		}
		// Anything else (a signal sent to the stub from the host) is
		// suppressed: the guest's signals are the sentry's business.
	}
}

// PullFPState implements platform.FPContext.
func (c *context) PullFPState(st *arch.State) error {
	if st.FPValid || c.tid == 0 {
		return nil
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fp, err := ptracer.GetXState(c.tid)
	if err != nil {
		return c.died(err)
	}
	st.FP = fp
	return nil
}

// stopped records that the guest is no longer running.
func (c *context) stopped() {
	c.mu.Lock()
	c.running = 0
	c.mu.Unlock()
}

// died turns a ptrace failure into ErrStubDied: ESRCH means the thread is
// gone (the stub was killed).
func (c *context) died(err error) error {
	if err == unix.ESRCH {
		// Reap it if it's a zombie we still trace.
		ptracer.Wait4(c.tid)
	}
	if c.as != nil {
		c.as.unregisterOwner()
	}
	c.tid, c.as = 0, nil
	return platform.ErrStubDied
}

// adopt makes a new stub thread in as and becomes its tracer.
func (c *context) adopt(as *addressSpace) error {
	tid, err := as.newThread()
	if err != nil {
		return err
	}
	opts := unix.PTRACE_O_EXITKILL | unix.PTRACE_O_TRACESYSGOOD
	if err := ptracer.Raw(unix.PTRACE_SEIZE, tid, 0, uintptr(opts)); err != nil {
		return os.NewSyscallError("ptrace(PTRACE_SEIZE)", err)
	}
	if err := ptracer.Raw(unix.PTRACE_INTERRUPT, tid, 0, 0); err != nil {
		return os.NewSyscallError("ptrace(PTRACE_INTERRUPT)", err)
	}
	if _, err := ptracer.Wait4(tid); err != nil {
		return err
	}
	pinTogether(tid)
	as.registerOwner(tid)
	c.as, c.tid = as, tid
	return nil
}

// retire makes the current stub thread exit and reaps it.
func (c *context) retire() {
	if c.tid == 0 {
		return
	}
	tid := c.tid
	c.as.unregisterOwner()
	c.tid, c.as = 0, nil
	if err := injectExit(tid); err != nil {
		// Already dead: reap what's left.
		ptracer.Wait4(tid)
		return
	}
	for {
		ws, err := ptracer.Wait4(tid)
		if err != nil || ws.Exited() || ws.Signaled() {
			return
		}
		ptracer.Raw(unix.PTRACE_CONT, tid, 0, 0)
	}
}

// Interrupt implements platform.Context.
func (c *context) Interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.interrupted = true
	if c.running != 0 {
		unix.Tgkill(c.stubPID, c.running, interruptSignal)
	}
}

// Release implements platform.Context.
func (c *context) Release() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c.retire()
}

// injectExit makes stopped stub thread tid run exit(0) from the stub's
// `syscall` instruction, which its seccomp filter allows.
func injectExit(tid int) error {
	var regs linux.PtraceRegs
	if err := ptracer.GetRegs(tid, &regs); err != nil {
		return err
	}
	regs.Rip = stubSyscall
	regs.Rax = unix.SYS_EXIT
	regs.Orig_rax = ^uint64(0)
	regs.Rdi = 0
	if err := ptracer.SetRegs(tid, &regs); err != nil {
		return err
	}
	return ptracer.Raw(unix.PTRACE_CONT, tid, 0, 0)
}

// nextCPU spreads contexts over the CPUs the sentry may use.
var nextCPU atomic.Uint32

// pinTogether runs the calling tracer thread and its stub thread tid on one
// CPU. Every guest syscall is a ping-pong between the two; on one CPU it is
// a direct switch (about 10 us here), across CPUs it waits for a wake-up
// IPI (about 50 us), as DESIGN.md measured.
func pinTogether(tid int) {
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil || allowed.Count() < 2 {
		return
	}
	var cpus []int
	for i := 0; i < len(allowed)*64; i++ {
		if allowed.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	var one unix.CPUSet
	one.Set(cpus[int(nextCPU.Add(1))%len(cpus)])
	// Failures only cost speed.
	_ = unix.SchedSetaffinity(0, &one)
	_ = unix.SchedSetaffinity(tid, &one)
}
