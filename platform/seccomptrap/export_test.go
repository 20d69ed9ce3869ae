package seccomptrap

import (
	"sync/atomic"
	"time"
)

// Test hooks.

func (p *Platform) SetSpinForTest(sentry, stub time.Duration) { p.setSpin(sentry, stub) }
func (p *Platform) SetFSGSBaseForTest(on bool)                { p.fsgsbase = on; p.SetSyscallPatching(true) }
func (p *Platform) FSGSBase() bool                            { return p.fsgsbase }

func StubPID(as any) int { return as.(*addressSpace).pid }

// WaitReleased waits until the stub of a released address space is reaped
// and returns its wait status.
func WaitReleased(as any) uint32 {
	a := as.(*addressSpace)
	<-a.done
	return uint32(a.status)
}

func StubTID(c any) int { return c.(*context).tid }

func StubCodeForTest() ([]byte, int, int, error) {
	b, err := loadStubBlob()
	return b.code, b.restorer, b.handler, err
}

const (
	StubAddr      = stubAddr
	StubBlobOff   = stubBlobOff
	StubInjectOff = stubInjectOff
	CtlAddr       = ctlAddr
	SlotSize      = slotSize
)

func SetSpecAllowForTest(on bool) {
	seccompFilterFlags = 0
	if on {
		seccompFilterFlags = 4 // SECCOMP_FILTER_FLAG_SPEC_ALLOW
	}
}

func (p *Platform) Patching() bool { return p.patching }

// TrampEntry is the trampoline path's entry in the stub page.
func (p *Platform) TrampEntry() uint64 { return p.stub.addr(p.stub.blob.tramp) }

// ForgeFpstateForTest writes v into c's slot as the frame's FP pointer, as
// a guest thread can.
func ForgeFpstateForTest(c any, v uint64) { c.(*context).h.Fpstate = v }

// RestorerAddr is the stub's sigreturn restorer.
func (p *Platform) RestorerAddr() uint64 { return p.stub.restorerAddr() }

const DeafGrace = deafGrace

// SentryWaitsForTest reports whether c's Switch has released its thread
// and sleeps waiting for an event.
func SentryWaitsForTest(c any) bool {
	return atomic.LoadUint32(&c.(*context).h.State) == stateSentryWait
}

// RetireTimeouts is how many times c's retire waited a whole deathPoll.
func RetireTimeouts(c any) int { return c.(*context).retireTimeouts }
