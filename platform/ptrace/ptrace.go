// Package ptrace is the ptrace platform: guest code runs in a stub process
// whose syscalls are stopped with PTRACE_SYSEMU, so the host never executes
// them.
//
// Each AddressSpace is one stub process. Its main thread is owned by an
// injector goroutine, locked to its OS thread, which started the stub and
// injects mmap/munmap/mprotect/clone into it. Each Context (one per task)
// runs on its task goroutine's locked OS thread and owns one stub thread in
// the address space it currently runs in: ptrace requests only work from
// the tracer thread, so a stub thread is created by the injector and then
// handed over (detach, then seize from the task's thread).
package ptrace

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/platform"
)

// Platform is the ptrace platform for one sandbox.
type Platform struct {
	// memfd is the sandbox memory file, shared with every stub as fd 3.
	// It is one *os.File for the platform's life: an os.File closes its fd
	// when it is garbage collected, so making one per stub would close the
	// sentry's memfd under it.
	memfd *os.File
}

// New returns a ptrace platform whose stubs map windows of memfd. The
// caller keeps ownership of memfd; the platform works on a duplicate.
func New(memfd int) (*Platform, error) {
	fd, err := unix.FcntlInt(uintptr(memfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("fcntl(F_DUPFD_CLOEXEC)", err)
	}
	return &Platform{memfd: os.NewFile(uintptr(fd), "runsc-lite-memory")}, nil
}

// Name implements platform.Platform.
func (p *Platform) Name() string { return "ptrace" }

// MinUserAddress implements platform.Platform. The first 64 KiB stay
// unmapped, as with Linux's default vm.mmap_min_addr.
func (p *Platform) MinUserAddress() hostarch.Addr { return 0x10000 }

// MaxUserAddress implements platform.Platform: the guest lives below the stub.
func (p *Platform) MaxUserAddress() hostarch.Addr { return stubAddr }

// NewAddressSpace implements platform.Platform.
func (p *Platform) NewAddressSpace() (platform.AddressSpace, error) {
	as, err := newAddressSpace(p.memfd)
	if err != nil {
		// Not a nil *addressSpace in a non-nil interface.
		return nil, err
	}
	return as, nil
}

// NewContext implements platform.Platform.
func (p *Platform) NewContext() platform.Context {
	return &context{}
}

// NeedsOSThread implements platform.OSThreadBound: ptrace requests only
// work from the thread that attached.
func (p *Platform) NeedsOSThread() bool { return true }
