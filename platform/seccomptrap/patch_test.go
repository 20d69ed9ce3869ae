package seccomptrap_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/platform/seccomptrap"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
)

// patchEnv is an address space with a thread already set up (its filters
// in place) by one trapped syscall at 0x600000 (`mov $400, %eax; syscall;
// jmp .`).
func patchEnv(t *testing.T) (*env, platform.Context, *arch.State) {
	t.Helper()
	e := newEnv(t)
	if !e.p.Patching() {
		t.Skip("the CPU lacks FSGSBASE or BMI2, which syscall patching needs")
	}
	c := e.newContext(t)
	e.mapBytes(t, e.as, 0x600000, sys400, rx)
	st := arch.NewState(0x600000, 0)
	if ev, err := c.Switch(e.as, &st); err != nil || ev.Kind != platform.EventSyscall || st.Regs.Orig_rax != 400 {
		t.Fatalf("first syscall: %+v %v orig_rax %d", ev, err, st.Regs.Orig_rax)
	}
	return e, c, &st
}

// TestTrampoline runs a trampoline from Trampoline as a patched site would
// reach it: the event is a syscall with the displaced instruction's number,
// rip and rcx at the return address, r11 the flags, and the guest resumes
// there. With a GS base of the guest's own the trampoline traps instead.
func TestTrampoline(t *testing.T) {
	e, c, st := patchEnv(t)
	const tramp = 0x60080
	code := c.(platform.SyscallPatcher).Trampoline(tramp, []byte{0xb8, 0x91, 0x01, 0, 0}, 0x600000) // mov $401, %eax
	page := e.mapBytes(t, e.as, 0x60000, nil, rx)
	copy(page[0x80:], code)
	// jmp *0x60080, as a patched site has it.
	e.mapBytes(t, e.as, codeBase, []byte{0xff, 0x24, 0x25, 0x80, 0x00, 0x06, 0x00}, rx)

	*st = arch.NewState(codeBase, 0)
	st.Regs.Rbx, st.Regs.R12, st.Regs.Rsp = 0x1234, 0x5678, 0x7ff0
	ev, err := c.Switch(e.as, st)
	if err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("trampoline: %+v %v", ev, err)
	}
	r := &st.Regs
	if r.Orig_rax != 401 || r.Rip != 0x600000 || r.Rcx != 0x600000 || r.R11 != r.Eflags || r.Rbx != 0x1234 || r.R12 != 0x5678 ||
		r.Rsp != 0x7ff0 || r.Gs_base != 0 || r.Cs != 0x33 || r.Ss != 0x2b {
		t.Fatalf("registers after the trampoline: %+v", *r)
	}
	// The guest resumes at the return address, where the next syscall
	// traps.
	ev, err = c.Switch(e.as, st)
	if err != nil || ev.Kind != platform.EventSyscall || r.Orig_rax != 400 || r.Rip != 0x600007 {
		t.Fatalf("after resuming: %+v %v %+v", ev, err, *r)
	}

	// A guest GS base: the trampoline's check fails and it traps at its
	// own `syscall`, the first after the displaced instruction, then jumps
	// back to the return address with rcx as the site's own syscall would
	// have left it.
	slowRet := tramp + uint64(13+bytes.Index(code[13:], []byte{0x0f, 0x05})+2)
	*st = arch.NewState(codeBase, 0)
	st.Regs.Gs_base = 0x500000
	ev, err = c.Switch(e.as, st)
	if err != nil || ev.Kind != platform.EventSyscall || r.Orig_rax != 401 || r.Rip != slowRet || r.Gs_base != 0x500000 {
		t.Fatalf("with a guest GS base: %+v %v %+v", ev, err, *r)
	}
	// Resume at the return address's syscall (sys400 at 0x600000); its
	// trap shows the rcx the fallback left.
	ev, err = c.Switch(e.as, st)
	if err != nil || ev.Kind != platform.EventSyscall || r.Orig_rax != 400 || r.Rip != 0x600007 {
		t.Fatalf("after the fallback: %+v %v %+v", ev, err, *r)
	}
}

// TestTrampolineEntryJump jumps straight into the stub's trampoline path
// with registers of the guest's choosing, as any guest can. That is only a
// way to make a syscall: the sentry gets it as one, and the host runs
// nothing.
func TestTrampolineEntryJump(t *testing.T) {
	e, c, st := patchEnv(t)
	path := filepath.Join(t.TempDir(), "pwned")
	page := e.mapBytes(t, e.as, codeBase, jmpR11, rx)
	copy(page[0x100:], path+"\x00")
	*st = arch.NewState(codeBase, 0)
	r := &st.Regs
	r.Rax, r.Rdi, r.Rsi, r.Rdx, r.R10 = unix.SYS_OPENAT, ^uint64(99), codeBase+0x100, unix.O_CREAT|unix.O_WRONLY, 0o644
	r.R11, r.Rcx = e.p.TrampEntry(), 0x600000
	ev, err := c.Switch(e.as, st)
	if err != nil || ev.Kind != platform.EventSyscall || r.Orig_rax != unix.SYS_OPENAT || r.Rip != 0x600000 {
		t.Fatalf("jump to the entry: %+v %v %+v", ev, err, *r)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatalf("the host ran the guest's openat: %s exists", path)
	}
	// The thread goes on normally.
	ev, err = c.Switch(e.as, st)
	if err != nil || ev.Kind != platform.EventSyscall || r.Orig_rax != 400 {
		t.Fatalf("after the jump: %+v %v", ev, err)
	}
}

// TestTrampolineKicks interrupts a guest that makes patched syscalls in a
// loop, so that kicks land all over the trampoline path: each must either
// be deferred or surface as an interrupt at a guest instruction, with the
// guest's registers intact.
func TestTrampolineKicks(t *testing.T) {
	e, c, st := patchEnv(t)
	const tramp = 0x60080
	code := c.(platform.SyscallPatcher).Trampoline(tramp, []byte{0xb8, 0x91, 0x01, 0, 0}, codeBase)
	page := e.mapBytes(t, e.as, 0x60000, nil, rx)
	copy(page[0x80:], code)
	e.mapBytes(t, e.as, codeBase, []byte{0xff, 0x24, 0x25, 0x80, 0x00, 0x06, 0x00}, rx)
	*st = arch.NewState(codeBase, 0x7ff0)
	st.Regs.Rbx, st.Regs.R15 = 0x1234, 0x5678

	done := make(chan struct{})
	kicker := make(chan struct{})
	go func() {
		defer close(kicker)
		for {
			select {
			case <-done:
				return
			default:
				c.Interrupt()
				time.Sleep(20 * time.Microsecond)
			}
		}
	}()
	defer func() { close(done); <-kicker }()
	interrupts := 0
	for i := 0; i < 20000; i++ {
		ev, err := c.Switch(e.as, st)
		if err != nil {
			t.Fatalf("switch %d: %v", i, err)
		}
		r := &st.Regs
		if r.Rbx != 0x1234 || r.R15 != 0x5678 || r.Rsp != 0x7ff0 {
			t.Fatalf("switch %d (%+v): registers %+v", i, ev, *r)
		}
		switch ev.Kind {
		case platform.EventSyscall:
			if r.Orig_rax != 401 || r.Rip != codeBase {
				t.Fatalf("switch %d: syscall %d at %#x", i, r.Orig_rax, r.Rip)
			}
		case platform.EventInterrupted:
			interrupts++
			if r.Rip != codeBase && (r.Rip < tramp || r.Rip >= tramp+seccomptrap.TrampolineSize) {
				t.Fatalf("switch %d: interrupted at %#x, not a guest instruction", i, r.Rip)
			}
		default:
			t.Fatalf("switch %d: %+v", i, ev)
		}
	}
	if interrupts == 0 {
		t.Errorf("no interrupt got through")
	}
	t.Logf("%d interrupts", interrupts)
}

// TestForgedFpstate: the slot's FP pointer is guest-writable; a value that
// wraps the bounds check must not crash the sentry.
func TestForgedFpstate(t *testing.T) {
	e := newEnv(t)
	c := e.newContext(t)
	e.mapBytes(t, e.as, 0x600000, sys400, rx)
	st := arch.NewState(0x600000, 0)
	if ev, err := c.Switch(e.as, &st); err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("first syscall: %+v %v", ev, err)
	}
	for _, v := range []uint64{0xffffffffffffff00, ^uint64(0), 0, seccomptrap.CtlAddr + 7*seccomptrap.SlotSize} {
		seccomptrap.ForgeFpstateForTest(c, v)
		st.FP, st.FPValid = nil, false
		if err := c.(platform.FPContext).PullFPState(&st); err != nil || st.FP != nil {
			t.Errorf("Fpstate %#x: got %d bytes, %v; want none", v, len(st.FP), err)
		}
	}
}

// TestTrampolineSingleStep runs a patched site with TF set: the steps
// inside the stub's trampoline path are skipped, and every trap the guest
// sees is at one of its own instructions.
func TestTrampolineSingleStep(t *testing.T) {
	e, c, st := patchEnv(t)
	const tramp = 0x60080
	code := c.(platform.SyscallPatcher).Trampoline(tramp, []byte{0xb8, 0x91, 0x01, 0, 0}, 0x600000)
	page := e.mapBytes(t, e.as, 0x60000, nil, rx)
	copy(page[0x80:], code)
	// pushfq; orq $0x100, (%rsp); popfq; jmp *0x60080
	e.mapBytes(t, e.as, codeBase, []byte{0x9c, 0x48, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d,
		0xff, 0x24, 0x25, 0x80, 0x00, 0x06, 0x00}, rx)
	e.mapBytes(t, e.as, 0x700000, nil, hostarch.ReadWrite)
	*st = arch.NewState(codeBase, 0x701000)
	st.Regs.Rbx = 0x1234
	sawSyscall := false
	for i := 0; i < 200; i++ {
		ev, err := c.Switch(e.as, st)
		if err != nil {
			t.Fatalf("switch %d: %v", i, err)
		}
		r := &st.Regs
		if r.Rip >= seccomptrap.StubAddr || r.Rbx != 0x1234 || (r.Rsp != 0x701000 && r.Rsp != 0x700ff8) {
			t.Fatalf("switch %d (%+v): registers %+v", i, ev, *r)
		}
		switch {
		case ev.Kind == platform.EventFault && ev.Signo == int32(unix.SIGTRAP):
		case ev.Kind == platform.EventSyscall && r.Orig_rax == 401:
			if r.Rip != 0x600000 || r.Eflags&0x100 == 0 {
				t.Fatalf("patched syscall: rip %#x eflags %#x", r.Rip, r.Eflags)
			}
			sawSyscall = true
		case ev.Kind == platform.EventSyscall && r.Orig_rax == 400:
			if !sawSyscall {
				t.Fatal("the trampoline's syscall never came")
			}
			return
		default:
			t.Fatalf("switch %d: %+v at %#x", i, ev, r.Rip)
		}
	}
	t.Fatal("no end after 200 switches")
}

// TestDeafThread: a guest jumps to the stub's restorer with a forged frame
// whose mask blocks the interrupt kick, and then spins. The sentry must
// still get the task back: it kills the stub (deaf.go).
func TestDeafThread(t *testing.T) {
	e := newEnv(t)
	c := e.newContext(t)
	e.mapBytes(t, e.as, codeBase, []byte{0xeb, 0xfe}, rx) // jmp .
	page := e.mapBytes(t, e.as, 0x700000, nil, hostarch.ReadWrite)
	// A ucontext at 0x700800, where rsp points after the restorer's
	// caller "returned" into it.
	uc := page[0x800:]
	const gregs = 40
	le := binary.LittleEndian
	le.PutUint64(uc[gregs+15*8:], 0x700f00)           // rsp
	le.PutUint64(uc[gregs+16*8:], codeBase)           // rip
	le.PutUint64(uc[gregs+17*8:], 0x202)              // eflags
	le.PutUint64(uc[gregs+18*8:], 0x002b000000000033) // cs, gs, fs, ss
	le.PutUint64(uc[296:], 1<<(uint(unix.SIGCHLD)-1)) // uc_sigmask
	st := arch.NewState(hostarch.Addr(e.p.RestorerAddr()), 0x700800)
	done := make(chan error, 1)
	go func() {
		_, err := c.Switch(e.as, &st)
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	c.Interrupt()
	select {
	case err := <-done:
		if !errors.Is(err, platform.ErrStubDied) {
			t.Fatalf("Switch: %v, want the stub killed", err)
		}
	case <-time.After(10 * time.Second):
		// Kill it here, or the context's cleanup would wait for it.
		unix.Kill(seccomptrap.StubPID(e.as), unix.SIGKILL)
		<-done
		t.Fatal("a guest that blocked the kick is still running")
	}
}

// TestStoppedThreadNotDeaf: a kick that finds an honest thread inside its
// handler (everything blocked) goes unanswered for as long as the host
// keeps the thread off the CPU: here the stub is stopped (as a loaded
// host, SIGSTOP or a cgroup freezer can do). That thread is not deaf and
// must not be killed; once it runs it answers.
func TestStoppedThreadNotDeaf(t *testing.T) {
	e := newEnv(t)
	c := e.newContext(t)
	e.mapBytes(t, e.as, 0x600000, sys400, rx)
	st := arch.NewState(0x600000, 0)
	if ev, err := c.Switch(e.as, &st); err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("Switch: %+v, %v", ev, err)
	}
	// The thread is parked in its handler. Stop it there, release it and
	// kick it.
	pid := seccomptrap.StubPID(e.as)
	if err := unix.Kill(pid, unix.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer unix.Kill(pid, unix.SIGCONT)
	waitState(t, pid, seccomptrap.StubTID(c), 'T')
	done := make(chan error, 1)
	go func() {
		ev, err := c.Switch(e.as, &st)
		if err == nil && ev.Kind != platform.EventInterrupted {
			err = errors.New("not interrupted")
		}
		done <- err
	}()
	for i := 0; !seccomptrap.SentryWaitsForTest(c); i++ {
		if i == 500 {
			t.Fatal("Switch never released the thread")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.Interrupt()
	select {
	case err := <-done:
		t.Fatalf("Switch returned while the stub was stopped: %v", err)
	case <-time.After(seccomptrap.DeafGrace + 1500*time.Millisecond):
	}
	unix.Kill(pid, unix.SIGCONT)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Switch after SIGCONT: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer to the kick after SIGCONT")
	}
}

// waitState waits until thread tid of pid is in state (a letter of
// /proc/PID/task/TID/stat).
func waitState(t *testing.T, pid, tid int, state byte) {
	t.Helper()
	path := filepath.Join("/proc", strconv.Itoa(pid), "task", strconv.Itoa(tid), "stat")
	for i := 0; i < 500; i++ {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && b[i+2] == state {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("thread %d never reached state %c", tid, state)
}

// TestTrampolineFSBase changes a thread's FS base while it is parked in
// the trampoline path. Without FSGSBASE that path cannot load a new base,
// so the sentry must move the thread into a signal frame first.
func TestTrampolineFSBase(t *testing.T) {
	modes := []bool{false}
	if p, _ := seccomptrap.New(-1); p.FSGSBase() {
		modes = append(modes, true)
	}
	for _, fsgsbase := range modes {
		t.Run(fmt.Sprintf("fsgsbase=%v", fsgsbase), func(t *testing.T) {
			e := newEnv(t)
			e.p.SetFSGSBaseForTest(fsgsbase)
			if !e.p.Patching() {
				t.Skip("the CPU lacks BMI2, which the FSGSBASE trampolines use")
			}
			as := e.newAS(t)
			c := e.newContext(t)
			const tramp = 0x60080
			code := c.(platform.SyscallPatcher).Trampoline(tramp, []byte{0xb8, 0x91, 0x01, 0, 0}, codeBase)
			page := e.mapBytes(t, as, 0x60000, nil, rx)
			copy(page[0x80:], code)
			// 1: mov %fs:0, %rdi; jmp *0x60080 (back to 1 after the call)
			e.mapBytes(t, as, codeBase, []byte{0x64, 0x48, 0x8b, 0x3c, 0x25, 0, 0, 0, 0, 0xff, 0x24, 0x25, 0x80, 0x00, 0x06, 0x00}, rx)
			magic := e.mapMagic(t, as)
			st := arch.NewState(codeBase, 0x7ff0)
			for i, base := range []uint64{pageA, pageA, pageB, pageB, pageA} {
				st.Regs.Fs_base = base
				ev, err := c.Switch(as, &st)
				if err != nil || ev.Kind != platform.EventSyscall || st.Regs.Orig_rax != 401 {
					t.Fatalf("switch %d: %+v %v", i, ev, err)
				}
				if st.Regs.Rdi != magic[base] || st.Regs.Fs_base != base {
					t.Fatalf("switch %d: fs:[0] = %#x with fs_base %#x, want %#x with %#x", i, st.Regs.Rdi, st.Regs.Fs_base, magic[base], base)
				}
			}
		})
	}
}
