package seccomptrap_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/platform/ptrace"
	"github.com/runsc-lite/runsc-lite/platform/seccomptrap"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
)

// BenchmarkGetppidRoundTrip measures one guest getppid round trip (trap,
// sentry sees the event, sentry resumes the guest) on both platforms, next
// to a native getppid in the same run. The spin=... variants show the
// effect of the spin budgets (sentry and stub alike; 0 = futex only).
func BenchmarkGetppidRoundTrip(b *testing.B) {
	b.Run("native", func(b *testing.B) {
		for b.Loop() {
			unix.Getppid()
		}
	})
	b.Run("seccomptrap", func(b *testing.B) {
		benchRoundTrip(b, func(fd int) (platform.Platform, error) { return seccomptrap.New(fd) })
	})
	for _, spin := range []time.Duration{0, 2 * time.Microsecond, 100 * time.Microsecond} {
		b.Run(fmt.Sprintf("seccomptrap/spin=%v", spin), func(b *testing.B) {
			benchRoundTrip(b, func(fd int) (platform.Platform, error) {
				p, err := seccomptrap.New(fd)
				if err == nil {
					p.SetSpinForTest(spin, spin)
				}
				return p, err
			})
		})
	}
	// A patched site: the guest enters through a trampoline, with no
	// host trap (FSGSBASE or not: see patch.go).
	b.Run("seccomptrap/patched", func(b *testing.B) {
		benchRoundTrip(b, func(fd int) (platform.Platform, error) { return seccomptrap.New(fd) })
	})
	b.Run("seccomptrap/spec_allow", func(b *testing.B) {
		seccomptrap.SetSpecAllowForTest(true)
		defer seccomptrap.SetSpecAllowForTest(false)
		benchRoundTrip(b, func(fd int) (platform.Platform, error) { return seccomptrap.New(fd) })
	})
	b.Run("ptrace", func(b *testing.B) {
		benchRoundTrip(b, func(fd int) (platform.Platform, error) { return ptrace.New(fd) })
	})
}

func benchRoundTrip(b *testing.B, newPlatform func(memfd int) (platform.Platform, error)) {
	// The ptrace platform needs the tracer thread to stay put.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	mf, err := memfile.New(1 << 30)
	if err != nil {
		b.Fatal(err)
	}
	defer mf.Release()
	p, err := newPlatform(mf.FD())
	if err != nil {
		b.Fatal(err)
	}
	as, err := p.NewAddressSpace()
	if err != nil {
		b.Fatal(err)
	}
	defer as.Release()
	c := p.NewContext()
	defer c.Release()
	off, err := mf.Allocate(hostarch.PageSize)
	if err != nil {
		b.Fatal(err)
	}
	copy(mf.Slice(off, hostarch.PageSize), getppidLoop)
	if sp, ok := c.(platform.SyscallPatcher); ok && strings.HasSuffix(b.Name(), "/patched") {
		// 1: jmp *0x60080, whose trampoline runs `mov $110, %eax` and
		// enters the sentry, and returns to 1.
		const tramp = 0x60080
		code := sp.Trampoline(tramp, []byte{0xb8, 0x6e, 0, 0, 0}, codeBase)
		toff, err := mf.Allocate(hostarch.PageSize)
		if err != nil {
			b.Fatal(err)
		}
		copy(mf.Slice(toff, hostarch.PageSize)[0x80:], code)
		if err := as.MapFile(0x60000, toff, hostarch.PageSize, rx); err != nil {
			b.Fatal(err)
		}
		copy(mf.Slice(off, hostarch.PageSize), []byte{0xff, 0x24, 0x25, 0x80, 0x00, 0x06, 0x00})
	}
	if err := as.MapFile(codeBase, off, hostarch.PageSize, rx); err != nil {
		b.Fatal(err)
	}
	st := arch.NewState(codeBase, 0)
	// Warm up: the first switch creates the stub thread.
	if _, err := c.Switch(as, &st); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		st.SetReturn(1)
		ev, err := c.Switch(as, &st)
		if err != nil || ev.Kind != platform.EventSyscall {
			b.Fatalf("%+v %v", ev, err)
		}
	}
}
