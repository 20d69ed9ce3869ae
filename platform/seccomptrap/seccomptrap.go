// Package seccomptrap is the fast platform: guest syscalls trap with
// SECCOMP_RET_TRAP into a SIGSYS handler inside the stub process, which
// hands the guest's registers to the sentry through a page of shared memory
// and a futex word (README.md describes the protocol).
//
// Each AddressSpace is one stub process. Its main thread never runs guest
// code: it is owned by an injector goroutine, locked to its OS thread, that
// started the stub under ptrace and injects mmap/munmap/mprotect and thread
// clones into it. Each Context (one per task) owns one stub thread in the
// address space it currently runs in. After its setup that thread is
// detached: ptrace is never used per syscall.
package seccomptrap

import (
	"encoding/binary"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/cpu"

	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/platform"
)

// Default spin budgets: how long each side polls the state word before it
// sleeps on the futex. README.md has the measurements behind them.
const (
	defaultSentrySpin = 20 * time.Microsecond
	defaultStubSpin   = 20 * time.Microsecond
)

// Platform is the seccomptrap platform for one sandbox.
type Platform struct {
	// memfd is the sandbox memory file, fd 3 in every stub.
	memfd int
	stub  *stub
	// fsgsbase reports that user space may use RDFSBASE/WRFSBASE
	// (AT_HWCAP2 & HWCAP2_FSGSBASE); otherwise the handler falls back to
	// arch_prctl.
	fsgsbase bool
	// patching enables syscall patching (patch.go). With FSGSBASE the
	// trampolines also need BMI2.
	patching bool
	// sentrySpinTicks and stubSpinTicks are the maximum spin budgets of
	// the sentry and the stub, in TSC ticks.
	sentrySpinTicks uint64
	stubSpinTicks   uint64
}

// From <linux/auxvec.h> and <asm/hwcap2.h>.
const (
	atHWCAP2        = 26
	hwcap2FSGSBase  = 1 << 1
	auxvEntryLength = 16
)

// New returns a seccomptrap platform whose stubs map windows of memfd.
func New(memfd int) (*Platform, error) {
	s, err := loadStub()
	if err != nil {
		return nil, err
	}
	p := &Platform{memfd: memfd, stub: s, fsgsbase: hostHasFSGSBase()}
	p.SetSyscallPatching(true)
	p.setSpin(defaultSentrySpin, defaultStubSpin)
	return p, nil
}

// hostHasFSGSBase reads AT_HWCAP2 from the sentry's auxiliary vector; the
// kernel enables FSGSBASE for user space (Linux 5.9+) only when it says so.
func hostHasFSGSBase() bool {
	raw, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return false
	}
	for i := 0; i+auxvEntryLength <= len(raw); i += auxvEntryLength {
		if binary.LittleEndian.Uint64(raw[i:]) == atHWCAP2 {
			return binary.LittleEndian.Uint64(raw[i+8:])&hwcap2FSGSBase != 0
		}
	}
	return false
}

// SetSyscallPatching turns syscall patching (patch.go) on or off; it is on
// by default where the CPU allows it. With it off, guest GS bases are not
// virtualized and no event comes from a trampoline. Call it before the
// first address space is made.
func (p *Platform) SetSyscallPatching(on bool) {
	p.patching = on && (!p.fsgsbase || cpu.X86.HasBMI2)
}

// setSpin sets both spin budgets.
func (p *Platform) setSpin(sentry, stub time.Duration) {
	p.sentrySpinTicks = uint64(float64(sentry.Nanoseconds()) * tscPerNS())
	p.stubSpinTicks = uint64(float64(stub.Nanoseconds()) * tscPerNS())
}

var tscRate struct {
	once  sync.Once
	perNS float64
}

// tscPerNS measures the TSC's rate against the monotonic clock once.
func tscPerNS() float64 {
	tscRate.once.Do(func() {
		t0, c0 := time.Now(), rdtsc()
		time.Sleep(2 * time.Millisecond)
		t1, c1 := time.Now(), rdtsc()
		tscRate.perNS = float64(c1-c0) / float64(t1.Sub(t0).Nanoseconds())
	})
	return tscRate.perNS
}

// Name implements platform.Platform.
func (p *Platform) Name() string { return "seccomptrap" }

// MinUserAddress implements platform.Platform. The first 64 KiB stay
// unmapped, as with Linux's default vm.mmap_min_addr.
func (p *Platform) MinUserAddress() hostarch.Addr { return 0x10000 }

// MaxUserAddress implements platform.Platform: the guest lives below the
// stub page.
func (p *Platform) MaxUserAddress() hostarch.Addr { return stubAddr }

// NewAddressSpace implements platform.Platform.
func (p *Platform) NewAddressSpace() (platform.AddressSpace, error) {
	as, err := newAddressSpace(p)
	if err != nil {
		// Not a nil *addressSpace in a non-nil interface.
		return nil, err
	}
	return as, nil
}

// NewContext implements platform.Platform.
func (p *Platform) NewContext() platform.Context {
	return &context{p: p}
}
