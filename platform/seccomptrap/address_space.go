package seccomptrap

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/platform/internal/ptracer"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
)

// addressSpace is one stub process.
type addressSpace struct {
	p *Platform
	// pid is the stub's host pid, which is also its main thread's tid.
	pid int

	// reqs carries work to the injector goroutine, the only one allowed to
	// ptrace the main thread (and new threads until they are detached).
	reqs chan func()
	// done is closed once the injector has reaped the stub; status is its
	// wait status then.
	done   chan struct{}
	status unix.WaitStatus

	// ctlFD is the control memfd and ctl the sentry's mapping of it.
	ctlFD int
	ctl   []byte

	// mu protects the fields below.
	mu sync.Mutex
	// free holds the unused thread slots. +checklocks:mu
	free []int
	// refs counts the address space itself plus each slot in use; the
	// control mapping goes away when it drops to zero. +checklocks:mu
	refs int

	releaseOnce sync.Once
	// released is set by Release: the stub is being killed, and its
	// threads with it.
	released atomic.Bool
}

func newAddressSpace(p *Platform) (*addressSpace, error) {
	ctlFD, err := unix.MemfdCreate("runsc-lite-seccomptrap-ctl", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create for the control region: %w", err)
	}
	if err := unix.Ftruncate(ctlFD, ctlSize); err != nil {
		unix.Close(ctlFD)
		return nil, fmt.Errorf("ftruncate control memfd: %w", err)
	}
	ctl, err := unix.Mmap(ctlFD, 0, ctlSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_NORESERVE)
	if err != nil {
		unix.Close(ctlFD)
		return nil, fmt.Errorf("mmap control memfd: %w", err)
	}
	as := &addressSpace{p: p, reqs: make(chan func()), done: make(chan struct{}), ctlFD: ctlFD, ctl: ctl, refs: 1}
	for i := maxSlots - 1; i >= 1; i-- {
		as.free = append(as.free, i)
	}
	errc := make(chan error)
	go as.injector(errc)
	if err := <-errc; err != nil {
		as.decRef()
		return nil, err
	}
	return as, nil
}

// injector owns the stub's main thread for the address space's lifetime.
// Its OS thread must outlive the stub: PDEATHSIG fires when the thread that
// started the stub exits, and PTRACE_O_EXITKILL when the tracer does. The
// main thread stays traced, so EXITKILL keeps covering the whole process
// after the guest threads are detached.
func (as *addressSpace) injector(errc chan<- error) {
	runtime.LockOSThread()
	// The thread is never unlocked: when this goroutine returns, Go
	// destroys the thread, which is what we want once the stub is dead.
	defer close(as.done)
	if err := as.start(); err != nil {
		errc <- err
		return
	}
	errc <- nil
	for req := range as.reqs {
		req()
	}
	// Released: kill and reap the stub. The main thread's exit is reported
	// once the other threads are gone; they are not traced any more, so
	// nobody else has to reap them.
	unix.Kill(as.pid, unix.SIGKILL)
	for {
		ws, err := ptracer.Wait4(as.pid)
		if err != nil {
			return
		}
		if ws.Exited() || ws.Signaled() {
			as.status = ws
			return
		}
	}
}

// start execs the stub, clears its address space, maps the control
// region, installs the signal handlers and the process filter. It runs on
// the injector thread.
func (as *addressSpace) start() error {
	s := as.p.stub
	// os.NewFile arms a finalizer that closes its fd, so hand exec dups.
	memDup, err := unix.FcntlInt(uintptr(as.p.memfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("dup memfd: %w", err)
	}
	memFile := os.NewFile(uintptr(memDup), "memfd")
	defer memFile.Close()
	ctlDup, err := unix.FcntlInt(uintptr(as.ctlFD), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("dup control memfd: %w", err)
	}
	ctlFile := os.NewFile(uintptr(ctlDup), "ctl")
	defer ctlFile.Close()

	cmd := exec.Command(fmt.Sprintf("/proc/self/fd/%d", s.exe))
	cmd.Args = []string{"runsc-lite-seccomptrap-stub"}
	cmd.Env = []string{}
	cmd.ExtraFiles = []*os.File{memFile, ctlFile} // stubMemFD, stubCtlFD
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Ptrace:    true,
		Setsid:    true,
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start stub: %w", err)
	}
	as.pid = cmd.Process.Pid
	fail := func(err error) error {
		unix.Kill(as.pid, unix.SIGKILL)
		if ws, werr := ptracer.Wait4(as.pid); werr == nil {
			as.status = ws
		}
		return err
	}
	ws, err := ptracer.Wait4(as.pid)
	if err != nil {
		return fail(fmt.Errorf("wait for stub: %w", err))
	}
	if !ws.Stopped() || ws.StopSignal() != unix.SIGTRAP {
		return fail(fmt.Errorf("stub did not stop at exec: status %#x", uint32(ws)))
	}
	if err := unix.PtraceSetOptions(as.pid, unix.PTRACE_O_EXITKILL|unix.PTRACE_O_TRACECLONE); err != nil {
		return fail(os.NewSyscallError("ptrace(PTRACE_SETOPTIONS)", err))
	}

	// Slot 0 is setup scratch: the sigaction at 0, the process filter's
	// sock_fprog at 0x100 and its instructions at 0x200.
	setup := as.ctl[:slotSize]
	const actOff, fprogOff, progOff = 0, 0x100, 0x200
	le := binary.LittleEndian
	le.PutUint64(setup[actOff:], s.handlerAddr())                  // sa_handler
	le.PutUint64(setup[actOff+8:], saSiginfo|saOnstack|saRestorer) // sa_flags
	le.PutUint64(setup[actOff+16:], s.restorerAddr())              // sa_restorer
	le.PutUint64(setup[actOff+24:], ^uint64(0))                    // sa_mask: block all in the handler
	prog, err := processFilter()
	if err != nil {
		return fail(err)
	}
	pb := filterBytes(prog)
	if progOff+len(pb) > slotSize {
		return fail(fmt.Errorf("seccomptrap: process filter too long"))
	}
	copy(setup[progOff:], pb)
	le.PutUint16(setup[fprogOff:], uint16(len(prog)))
	le.PutUint64(setup[fprogOff+8:], ctlAddr+progOff)

	type step struct {
		nr   uintptr
		args [6]uintptr
	}
	steps := []step{
		// Drop everything the kernel mapped besides the stub page: the host
		// vDSO, vvar and stack must not be reachable by the guest.
		{unix.SYS_MUNMAP, [6]uintptr{0, stubAddr}},
		{unix.SYS_MUNMAP, [6]uintptr{stubAddr + stubPageSize, topOfUserSpace - (stubAddr + stubPageSize)}},
		{unix.SYS_MMAP, [6]uintptr{ctlAddr, ctlSize, unix.PROT_READ | unix.PROT_WRITE,
			unix.MAP_SHARED | unix.MAP_FIXED, stubCtlFD, 0}},
		// Keep only the sandbox memfd: stdio, the control memfd (mapped
		// now) and any fd the sentry leaked without O_CLOEXEC go.
		{unix.SYS_CLOSE_RANGE, [6]uintptr{0, stubMemFD - 1, 0}},
		{unix.SYS_CLOSE_RANGE, [6]uintptr{stubMemFD + 1, ^uintptr(0) >> 32, 0}},
	}
	for _, sig := range handledSignals {
		steps = append(steps, step{unix.SYS_RT_SIGACTION, [6]uintptr{uintptr(sig), ctlAddr + actOff, 0, 8}})
	}
	steps = append(steps,
		step{unix.SYS_PRCTL, [6]uintptr{unix.PR_SET_NO_NEW_PRIVS, 1}},
		step{unix.SYS_SECCOMP, [6]uintptr{unix.SECCOMP_SET_MODE_FILTER, seccompFilterFlags, ctlAddr + fprogOff}},
	)
	for _, st := range steps {
		if _, err := ptracer.Inject(as.pid, stubInject, st.nr, st.args); err != nil {
			return fail(err)
		}
	}
	clear(setup)
	return nil
}

// do runs f on the injector thread.
func (as *addressSpace) do(f func() error) error {
	errc := make(chan error, 1)
	as.reqs <- func() { errc <- f() }
	return <-errc
}

// MapFile implements platform.AddressSpace.
func (as *addressSpace) MapFile(addr hostarch.Addr, off, n uint64, at hostarch.AccessType) error {
	return as.do(func() error {
		_, err := ptracer.Inject(as.pid, stubInject, unix.SYS_MMAP, [6]uintptr{uintptr(addr), uintptr(n), uintptr(at.Prot()),
			unix.MAP_SHARED | unix.MAP_FIXED, stubMemFD, uintptr(off)})
		return err
	})
}

// Unmap implements platform.AddressSpace.
func (as *addressSpace) Unmap(addr hostarch.Addr, n uint64) error {
	return as.do(func() error {
		_, err := ptracer.Inject(as.pid, stubInject, unix.SYS_MUNMAP, [6]uintptr{uintptr(addr), uintptr(n)})
		return err
	})
}

// Release implements platform.AddressSpace.
func (as *addressSpace) Release() {
	as.releaseOnce.Do(func() {
		as.released.Store(true)
		close(as.reqs)
		as.decRef()
	})
}

// allocSlot reserves a thread slot.
func (as *addressSpace) allocSlot() (int, bool) {
	as.mu.Lock()
	defer as.mu.Unlock()
	if len(as.free) == 0 {
		return 0, false
	}
	i := as.free[len(as.free)-1]
	as.free = as.free[:len(as.free)-1]
	as.refs++
	return i, true
}

// freeSlot returns a slot whose thread is gone.
func (as *addressSpace) freeSlot(i int) {
	as.mu.Lock()
	as.free = append(as.free, i)
	as.mu.Unlock()
	as.decRef()
}

func (as *addressSpace) decRef() {
	as.mu.Lock()
	as.refs--
	last := as.refs == 0
	as.mu.Unlock()
	if last {
		unix.Munmap(as.ctl)
		unix.Close(as.ctlFD)
	}
}

// slotStubAddr is slot i's address in the stub.
func slotStubAddr(i int) uint64 { return ctlAddr + uint64(i)*slotSize }

// newThread creates a stub thread that owns slot i and starts running the
// guest with st's registers. It returns the thread's host tid.
//
// The thread is cloned from the main thread by injection (it starts
// traced, thanks to PTRACE_O_TRACECLONE), sets its alternate signal stack
// and installs its own seccomp filter by injection, gets st's registers
// (fs_base included) with PTRACE_SETREGS, and is detached.
func (as *addressSpace) newThread(i int, st *arch.State) (int, error) {
	h := slotAt(as.ctl, i)
	slot := as.ctl[i*slotSize : (i+1)*slotSize]
	clear(slot[:slotAltOff])
	stubSlot := slotStubAddr(i)
	h.Cmd = cmdNone
	h.Spin = as.p.stubSpinTicks
	if as.p.fsgsbase {
		h.Flags = flagFSGSBase
	}
	gs := as.p.hostGS(st.Regs.Gs_base, i)
	h.FSBase, h.CurFS = st.Regs.Fs_base, st.Regs.Fs_base
	h.GSBase, h.CurGS = gs, gs
	s := as.p.stub
	h.Entry = s.addr(s.blob.tramp)
	h.Self = stubSlot
	atomic.StoreUint32(&h.State, stateSetup)

	le := binary.LittleEndian
	le.PutUint64(slot[slotSSOff:], stubSlot+slotAltOff) // ss_sp
	le.PutUint32(slot[slotSSOff+8:], 0)                 // ss_flags
	le.PutUint64(slot[slotSSOff+16:], slotAltSize)      // ss_size
	prog, err := threadFilter(stubSlot+stState, as.p.fsgsbase)
	if err != nil {
		return 0, err
	}
	pb := filterBytes(prog)
	if slotProgOff+16+len(pb) > slotAltOff {
		return 0, fmt.Errorf("seccomptrap: thread filter too long")
	}
	le.PutUint16(slot[slotProgOff:], uint16(len(prog)))
	le.PutUint64(slot[slotProgOff+8:], stubSlot+slotProgOff+16)
	copy(slot[slotProgOff+16:], pb)

	var tid int
	err = as.do(func() error {
		fail := func(err error) error {
			// A half-made thread must not run guest code; the stub is
			// beyond repair.
			unix.Kill(as.pid, unix.SIGKILL)
			return err
		}
		var err error
		if tid, err = as.cloneThread(stubSlot + stState); err != nil {
			return fail(err)
		}
		if _, err := ptracer.Inject(tid, stubInject, unix.SYS_SIGALTSTACK, [6]uintptr{uintptr(stubSlot + slotSSOff), 0}); err != nil {
			return fail(err)
		}
		if _, err := ptracer.Inject(tid, stubInject, unix.SYS_SECCOMP, [6]uintptr{unix.SECCOMP_SET_MODE_FILTER, seccompFilterFlags,
			uintptr(stubSlot + slotProgOff)}); err != nil {
			return fail(err)
		}
		atomic.StoreUint32(&h.State, stateRun)
		regs := st.Regs
		regs.Orig_rax = ^uint64(0)
		regs.Gs_base = gs
		if err := ptracer.SetRegs(tid, &regs); err != nil {
			return fail(os.NewSyscallError("ptrace(PTRACE_SETREGS)", err))
		}
		if st.FPValid {
			// A forked child starts with its parent's FP state.
			if err := ptracer.SetXState(tid, st.FP); err == nil {
				st.FPValid = false
			}
		}
		if err := ptracer.Raw(unix.PTRACE_DETACH, tid, 0, 0); err != nil {
			return fail(os.NewSyscallError("ptrace(PTRACE_DETACH)", err))
		}
		return nil
	})
	return tid, err
}

// cloneThread injects a thread clone into the main thread and waits for the
// new thread's first stop. ctid is its clear_child_tid.
func (as *addressSpace) cloneThread(ctid uint64) (int, error) {
	var regs linux.PtraceRegs
	if err := ptracer.GetRegs(as.pid, &regs); err != nil {
		return 0, err
	}
	regs.Rip = stubInject
	regs.Rax = unix.SYS_CLONE
	regs.Orig_rax = ^uint64(0)
	// clone(flags, newsp, parent_tid, child_tid, tls) on x86-64.
	regs.Rdi, regs.Rsi, regs.Rdx, regs.R10, regs.R8 = threadCloneFlags, 0, 0, ctid, 0
	if err := ptracer.SetRegs(as.pid, &regs); err != nil {
		return 0, err
	}
	if err := ptracer.Raw(unix.PTRACE_CONT, as.pid, 0, 0); err != nil {
		return 0, err
	}
	ws, err := ptracer.Wait4(as.pid)
	if err != nil {
		return 0, err
	}
	if !ws.Stopped() || ws.TrapCause() != unix.PTRACE_EVENT_CLONE {
		return 0, fmt.Errorf("stub clone: unexpected status %#x", uint32(ws))
	}
	msg, err := ptracer.GetEventMsg(as.pid)
	if err != nil {
		return 0, err
	}
	tid := int(msg)
	// Let the parent finish the syscall and stop at the int3.
	if err := ptracer.Raw(unix.PTRACE_CONT, as.pid, 0, 0); err != nil {
		return 0, err
	}
	if ws, err := ptracer.Wait4(as.pid); err != nil || !ws.Stopped() || ws.StopSignal() != unix.SIGTRAP {
		return 0, fmt.Errorf("stub clone: parent status %#x: %v", uint32(ws), err)
	}
	// The child starts with a SIGSTOP, traced by this thread; the next
	// PTRACE_CONT (in inject) discards it.
	ws, err = ptracer.Wait4(tid)
	if err != nil {
		return 0, err
	}
	if !ws.Stopped() {
		return 0, fmt.Errorf("stub clone: child status %#x", uint32(ws))
	}
	return tid, nil
}
