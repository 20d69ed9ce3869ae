package kernel

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux"
)

// SigAction is struct sigaction as the kernel sees it (kernel_sigaction
// in arch/x86/include/asm/signal.h): 32 bytes.
type SigAction struct {
	Handler  uint64
	Flags    uint64
	Restorer uint64
	Mask     uint64
}

// Special handler values.
const (
	SIG_DFL = 0
	SIG_IGN = 1
)

// SigActionSize is sizeof(struct kernel_sigaction).
const SigActionSize = 32

// Marshal encodes sa.
func (sa *SigAction) Marshal(b []byte) {
	le := binary.LittleEndian
	le.PutUint64(b[0:], sa.Handler)
	le.PutUint64(b[8:], sa.Flags)
	le.PutUint64(b[16:], sa.Restorer)
	le.PutUint64(b[24:], sa.Mask)
}

// Unmarshal decodes sa.
func (sa *SigAction) Unmarshal(b []byte) {
	le := binary.LittleEndian
	sa.Handler = le.Uint64(b[0:])
	sa.Flags = le.Uint64(b[8:])
	sa.Restorer = le.Uint64(b[16:])
	sa.Mask = le.Uint64(b[24:])
}

// SignalSet is a sigset_t of 64 signals; bit n-1 is signal n.
type SignalSet uint64

// unblockable are the signals no mask can block.
const unblockable = SignalSet(1<<(linux.SIGKILL-1) | 1<<(linux.SIGSTOP-1))

// SignalAction returns the action for signo.
func (tg *ThreadGroup) SignalAction(signo int) SigAction {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.actions[signo]
}

// SetSignalAction sets the action for signo and returns the old one.
func (tg *ThreadGroup) SetSignalAction(signo int, sa SigAction) SigAction {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	old := tg.actions[signo]
	tg.actions[signo] = sa
	return old
}

// SignalMask returns t's blocked signals.
func (t *Task) SignalMask() SignalSet { return t.sigMask }

// SetSignalMask sets t's blocked signals; SIGKILL and SIGSTOP stay
// unblocked.
func (t *Task) SetSignalMask(m SignalSet) { t.sigMask = m &^ unblockable }

// SignalStack returns t's alternate signal stack (sigaltstack).
func (t *Task) SignalStack() (sp, size uint64, flags int32) {
	return t.altStackSP, t.altStackSize, t.altStackFlags
}

// SetSignalStack sets t's alternate signal stack.
func (t *Task) SetSignalStack(sp, size uint64, flags int32) {
	t.altStackSP, t.altStackSize, t.altStackFlags = sp, size, flags
}

// defaultIgnored are the signals whose default action is to do nothing.
const defaultIgnored = SignalSet(1<<(linux.SIGCHLD-1) | 1<<(linux.SIGURG-1) | 1<<(linux.SIGWINCH-1) | 1<<(linux.SIGCONT-1))

// SendSignalToSelf delivers signo to t's own process. Until handlers can
// run (they arrive with the processes work), a signal with a handler is
// left pending and ignored, an ignored one is dropped, and any other one
// takes its default action: stop signals are ignored and the rest end the
// process.
func (t *Task) SendSignalToSelf(signo int) {
	if signo == 0 {
		return
	}
	bit := SignalSet(1) << (signo - 1)
	sa := t.tg.SignalAction(signo)
	switch {
	case signo == linux.SIGKILL:
	case sa.Handler == SIG_IGN:
		return
	case sa.Handler != SIG_DFL:
		t.k.Log.Warn("signal handler not run: signal delivery is not implemented yet", "signo", signo)
		return
	case defaultIgnored&bit != 0:
		return
	case signo == linux.SIGSTOP || signo == linux.SIGTSTP || signo == linux.SIGTTIN || signo == linux.SIGTTOU:
		return
	}
	t.exitGroup(SignalStatus(signo))
}
