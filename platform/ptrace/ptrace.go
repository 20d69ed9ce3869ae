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
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/platform"
)

// Platform is the ptrace platform for one sandbox.
type Platform struct {
	// memfd is the sandbox memory file, shared with every stub as fd 3.
	memfd int
}

// New returns a ptrace platform whose stubs map windows of memfd.
func New(memfd int) (*Platform, error) {
	return &Platform{memfd: memfd}, nil
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
	return newAddressSpace(p.memfd)
}

// NewContext implements platform.Platform.
func (p *Platform) NewContext() platform.Context {
	return &context{}
}
