package ptrace

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/platform/internal/ptracer"
)

// stubFD is the number the sandbox memfd has in every stub.
const stubFD = 3

// addressSpace is one stub process.
type addressSpace struct {
	// pid is the stub's host pid, which is also its main thread's tid.
	pid int

	// reqs carries work to the injector goroutine, which is the only one
	// allowed to ptrace the main thread.
	reqs chan func()

	// releaseOnce guards Release.
	releaseOnce sync.Once

	// ownersMu protects owners.
	ownersMu sync.Mutex
	// owners maps the host tid of each tracer thread with a stub thread in
	// this address space to that stub thread. A task goroutine that maps
	// memory while its own stub thread is stopped injects the mmap through
	// that thread, saving two goroutine handoffs with the injector.
	owners map[int]int
}

// registerOwner records that the calling thread traces stub thread tid.
func (as *addressSpace) registerOwner(tid int) {
	as.ownersMu.Lock()
	defer as.ownersMu.Unlock()
	if as.owners == nil {
		as.owners = map[int]int{}
	}
	as.owners[unix.Gettid()] = tid
}

// unregisterOwner forgets the calling thread's stub thread.
func (as *addressSpace) unregisterOwner() {
	as.ownersMu.Lock()
	defer as.ownersMu.Unlock()
	delete(as.owners, unix.Gettid())
}

// ownStubThread returns the stopped stub thread the calling thread traces
// in this address space, if any. Task goroutines on ptrace are locked to
// their threads, and a thread's stub thread is stopped whenever the thread
// runs sentry code, so the result is safe to inject into.
func (as *addressSpace) ownStubThread() (int, bool) {
	as.ownersMu.Lock()
	defer as.ownersMu.Unlock()
	tid, ok := as.owners[unix.Gettid()]
	return tid, ok
}

var stubImage struct {
	once sync.Once
	fd   int
	err  error
}

// stubExecutable returns an fd of a memfd holding the stub ELF.
func stubExecutable() (int, error) {
	stubImage.once.Do(func() {
		fd, err := unix.MemfdCreate("runsc-lite-stub", unix.MFD_CLOEXEC|unix.MFD_EXEC)
		if err != nil {
			// Kernels before 6.3 don't know MFD_EXEC.
			fd, err = unix.MemfdCreate("runsc-lite-stub", unix.MFD_CLOEXEC)
		}
		if err != nil {
			stubImage.err = fmt.Errorf("memfd_create for the stub: %w", err)
			return
		}
		if _, err := unix.Write(fd, stubELF()); err != nil {
			stubImage.err = fmt.Errorf("write stub: %w", err)
			return
		}
		stubImage.fd = fd
	})
	return stubImage.fd, stubImage.err
}

func newAddressSpace(memfd *os.File) (*addressSpace, error) {
	as := &addressSpace{reqs: make(chan func())}
	errc := make(chan error)
	go as.injector(memfd, errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	return as, nil
}

// injector owns the stub's main thread for the address space's lifetime.
// Its OS thread must outlive the stub: PDEATHSIG and EXITKILL fire when the
// tracer thread exits.
func (as *addressSpace) injector(memfd *os.File, errc chan<- error) {
	runtime.LockOSThread()
	// The thread is never unlocked: when this goroutine returns, Go destroys
	// the thread, which is what we want once the stub is dead.
	if err := as.start(memfd); err != nil {
		errc <- err
		return
	}
	errc <- nil
	for req := range as.reqs {
		req()
	}
	// Released: kill and reap the stub. The main thread's exit is reported
	// only once every other thread is gone, which their tracers reap.
	unix.Kill(as.pid, unix.SIGKILL)
	for {
		ws, err := ptracer.Wait4(as.pid)
		if err != nil || ws.Exited() || ws.Signaled() {
			return
		}
	}
}

// start execs the stub, clears its address space and installs its seccomp
// filter. It runs on the injector thread.
func (as *addressSpace) start(memfd *os.File) error {
	exe, err := stubExecutable()
	if err != nil {
		return err
	}
	cmd := exec.Command(fmt.Sprintf("/proc/self/fd/%d", exe))
	cmd.Args = []string{"runsc-lite-stub"}
	cmd.Env = []string{}
	cmd.ExtraFiles = []*os.File{memfd} // stubFD
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
		ptracer.Wait4(as.pid)
		return err
	}
	ws, err := ptracer.Wait4(as.pid)
	if err != nil {
		return fail(fmt.Errorf("wait for stub: %w", err))
	}
	if !ws.Stopped() || ws.StopSignal() != unix.SIGTRAP {
		return fail(fmt.Errorf("stub did not stop at exec: status %#x", uint32(ws)))
	}
	opts := unix.PTRACE_O_EXITKILL | unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACECLONE
	if err := unix.PtraceSetOptions(as.pid, opts); err != nil {
		return fail(os.NewSyscallError("ptrace(PTRACE_SETOPTIONS)", err))
	}
	// Drop everything the kernel mapped below and above the stub page: the
	// host vDSO, vvar and stack must not be reachable by the guest.
	steps := []struct {
		nr   uintptr
		args [6]uintptr
	}{
		{unix.SYS_MUNMAP, [6]uintptr{0, stubAddr}},
		{unix.SYS_MUNMAP, [6]uintptr{stubAddr + hostarch.PageSize, topOfUserSpace - (stubAddr + hostarch.PageSize)}},
		// Keep only fd 3, the memory file: 0-2, and any fd the sentry
		// opened without O_CLOEXEC, must not reach the guest's process.
		{unix.SYS_CLOSE_RANGE, [6]uintptr{0, stubFD - 1, 0}},
		{unix.SYS_CLOSE_RANGE, [6]uintptr{stubFD + 1, ^uintptr(0) >> 32, 0}},
	}
	for _, s := range steps {
		if _, err := as.inject(s.nr, s.args); err != nil {
			return fail(err)
		}
	}
	if err := as.installFilter(); err != nil {
		return fail(err)
	}
	return nil
}

// installFilter installs the stub's seccomp filter. The program is written
// into a scratch anonymous page of the stub with PTRACE_POKEDATA, so that no
// memfd page has to be borrowed, and the page is unmapped afterwards.
func (as *addressSpace) installFilter() error {
	const scratch = 0x10000
	if _, err := as.inject(unix.SYS_MMAP, [6]uintptr{scratch, hostarch.PageSize, unix.PROT_READ | unix.PROT_WRITE,
		unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_FIXED, ^uintptr(0), 0}); err != nil {
		return err
	}
	filter := stubFilter()
	fb := filterBytes(filter)
	prog := sockFprog{Len: uint16(len(filter)), Filter: scratch + 64}
	page := make([]byte, 64+len(fb))
	copy(page, bytesOf(&prog))
	copy(page[64:], fb)
	if _, err := unix.PtracePokeData(as.pid, scratch, page); err != nil {
		return os.NewSyscallError("ptrace(PTRACE_POKEDATA)", err)
	}
	if _, err := as.inject(unix.SYS_PRCTL, [6]uintptr{unix.PR_SET_NO_NEW_PRIVS, 1}); err != nil {
		return err
	}
	if _, err := as.inject(unix.SYS_SECCOMP, [6]uintptr{unix.SECCOMP_SET_MODE_FILTER, 0, scratch}); err != nil {
		return err
	}
	_, err := as.inject(unix.SYS_MUNMAP, [6]uintptr{scratch, hostarch.PageSize})
	return err
}

// inject runs one syscall in the stub's main thread and returns its result.
// It runs on the injector thread.
func (as *addressSpace) inject(nr uintptr, args [6]uintptr) (uintptr, error) {
	return ptracer.Inject(as.pid, stubSyscall, nr, args)
}

// do runs f on the injector thread.
func (as *addressSpace) do(f func() error) error {
	errc := make(chan error, 1)
	as.reqs <- func() { errc <- f() }
	return <-errc
}

// MapFile implements platform.AddressSpace.
func (as *addressSpace) MapFile(addr hostarch.Addr, off, n uint64, at hostarch.AccessType) error {
	return as.injectAny(unix.SYS_MMAP, [6]uintptr{uintptr(addr), uintptr(n), uintptr(at.Prot()),
		unix.MAP_SHARED | unix.MAP_FIXED, stubFD, uintptr(off)})
}

// Unmap implements platform.AddressSpace.
func (as *addressSpace) Unmap(addr hostarch.Addr, n uint64) error {
	return as.injectAny(unix.SYS_MUNMAP, [6]uintptr{uintptr(addr), uintptr(n)})
}

// injectAny runs a syscall in the stub: through the caller's own stopped
// stub thread if it has one here, else through the injector.
func (as *addressSpace) injectAny(nr uintptr, args [6]uintptr) error {
	if tid, ok := as.ownStubThread(); ok {
		_, err := ptracer.Inject(tid, stubSyscall, nr, args)
		return err
	}
	return as.do(func() error {
		_, err := as.inject(nr, args)
		return err
	})
}

// newThread makes a new stub thread, parks it on the stub's `jmp .` and
// detaches it so that the caller's thread can seize it. It returns the
// thread's host tid.
func (as *addressSpace) newThread() (int, error) {
	var tid int
	err := as.do(func() error {
		var regs linux.PtraceRegs
		if err := ptracer.GetRegs(as.pid, &regs); err != nil {
			return err
		}
		regs.Rip = stubSyscall
		regs.Rax = unix.SYS_CLONE
		regs.Orig_rax = ^uint64(0)
		regs.Rdi = threadCloneFlags
		regs.Rsi, regs.Rdx, regs.R10, regs.R8 = 0, 0, 0, 0
		if err := ptracer.SetRegs(as.pid, &regs); err != nil {
			return err
		}
		if err := ptracer.Raw(unix.PTRACE_CONT, as.pid, 0, 0); err != nil {
			return err
		}
		ws, err := ptracer.Wait4(as.pid)
		if err != nil {
			return err
		}
		if !ws.Stopped() || ws.TrapCause() != unix.PTRACE_EVENT_CLONE {
			return fmt.Errorf("stub clone: unexpected status %#x", uint32(ws))
		}
		msg, err := ptracer.GetEventMsg(as.pid)
		if err != nil {
			return err
		}
		tid = int(msg)
		// Let the parent finish the syscall and stop at int3.
		if err := ptracer.Raw(unix.PTRACE_CONT, as.pid, 0, 0); err != nil {
			return err
		}
		if ws, err := ptracer.Wait4(as.pid); err != nil || !ws.Stopped() || ws.StopSignal() != unix.SIGTRAP {
			return fmt.Errorf("stub clone: parent status %#x: %v", uint32(ws), err)
		}
		// The child starts with a SIGSTOP, traced by this thread.
		ws, err = ptracer.Wait4(tid)
		if err != nil {
			return err
		}
		if !ws.Stopped() {
			return fmt.Errorf("stub clone: child status %#x", uint32(ws))
		}
		var cregs linux.PtraceRegs
		if err := ptracer.GetRegs(tid, &cregs); err != nil {
			return err
		}
		cregs.Rip = stubJmp
		if err := ptracer.SetRegs(tid, &cregs); err != nil {
			return err
		}
		return ptracer.Raw(unix.PTRACE_DETACH, tid, 0, 0)
	})
	return tid, err
}

// Release implements platform.AddressSpace.
func (as *addressSpace) Release() {
	as.releaseOnce.Do(func() { close(as.reqs) })
}
