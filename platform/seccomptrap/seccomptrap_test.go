package seccomptrap_test

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/platform/seccomptrap"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
)

type env struct {
	mf *memfile.MemoryFile
	p  *seccomptrap.Platform
	as platform.AddressSpace
}

func newEnv(t testing.TB) *env {
	t.Helper()
	mf, err := memfile.New(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mf.Release)
	p, err := seccomptrap.New(mf.FD())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{mf: mf, p: p}
	e.as = e.newAS(t)
	return e
}

func (e *env) newAS(t testing.TB) platform.AddressSpace {
	t.Helper()
	as, err := e.p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Release(); seccomptrap.WaitReleased(as) })
	return as
}

func (e *env) newContext(t testing.TB) platform.Context {
	c := e.p.NewContext()
	t.Cleanup(c.Release)
	return c
}

// mapBytes maps a fresh page holding b at addr.
func (e *env) mapBytes(t testing.TB, as platform.AddressSpace, addr hostarch.Addr, b []byte, at hostarch.AccessType) []byte {
	t.Helper()
	off, err := e.mf.Allocate(hostarch.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	page := e.mf.Slice(off, hostarch.PageSize)
	copy(page, b)
	if err := as.MapFile(addr, off, hostarch.PageSize, at); err != nil {
		t.Fatal(err)
	}
	return page
}

var rx = hostarch.AccessType{Read: true, Execute: true}

const codeBase = 0x400000

func TestStubCode(t *testing.T) {
	code, restorer, handler, err := seccomptrap.StubCodeForTest()
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("DUMP_STUB") != "" {
		os.WriteFile(os.Getenv("DUMP_STUB"), code, 0o644)
	}
	t.Logf("stub code: %d bytes, restorer at %#x, handler at %#x", len(code), restorer, handler)
}

func TestSyscalls(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := newEnv(t)
	c := e.newContext(t)
	code := []byte{
		0xb8, 0x6e, 0x00, 0x00, 0x00, // mov eax, 110 (getppid)
		0x0f, 0x05, // syscall
		0x48, 0x89, 0xc7, // mov rdi, rax
		0xb8, 0x90, 0x01, 0x00, 0x00, // mov eax, 400
		0x0f, 0x05, // syscall
		0xeb, 0xfe, // jmp .
	}
	e.mapBytes(t, e.as, codeBase, code, rx)
	st := arch.NewState(codeBase, 0)
	st.Regs.Rsi, st.Regs.Rdx, st.Regs.R10, st.Regs.R8, st.Regs.R9 = 2, 3, 4, 5, 6
	ev, err := c.Switch(e.as, &st)
	if err != nil || ev.Kind != platform.EventSyscall || st.SyscallNo() != unix.SYS_GETPPID {
		t.Fatalf("first switch: %+v %v sysno %d", ev, err, st.SyscallNo())
	}
	if st.IP() != codeBase+7 {
		t.Errorf("ip after syscall = %v, want %#x", st.IP(), codeBase+7)
	}
	if a := st.SyscallArgs(); a[1].Value != 2 || a[2].Value != 3 || a[3].Value != 4 || a[4].Value != 5 || a[5].Value != 6 {
		t.Errorf("args = %v", a)
	}
	st.SetReturn(1234)
	ev, err = c.Switch(e.as, &st)
	if err != nil || ev.Kind != platform.EventSyscall || st.SyscallNo() != 400 {
		t.Fatalf("second switch: %+v %v sysno %d", ev, err, st.SyscallNo())
	}
	if st.Regs.Rdi != 1234 {
		t.Errorf("return value seen by the guest = %d, want 1234", st.Regs.Rdi)
	}
	if st.IP() != codeBase+17 {
		t.Errorf("ip = %v", st.IP())
	}
}

// Guest code snippets (assembled with GNU as, Intel syntax).
var (
	// mov rax, [0x500000]; mov eax, 400; syscall; jmp .
	readFault = []byte{0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x50, 0x00, 0xb8, 0x90, 0x01, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xfe}
	// mov [0x500000], rax; mov eax, 400; syscall; jmp .
	writeFault = []byte{0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x50, 0x00, 0xb8, 0x90, 0x01, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xfe}
	// mov r11, 0x600000; jmp r11
	execFault = []byte{0x49, 0xc7, 0xc3, 0x00, 0x00, 0x60, 0x00, 0x41, 0xff, 0xe3}
	// mov eax, 400; syscall; jmp .
	sys400 = []byte{0xb8, 0x90, 0x01, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xfe}
	// 1: mov rdi, fs:[0]; mov eax, 400; syscall; jmp 1b
	fsRead = []byte{0x64, 0x48, 0x8b, 0x3c, 0x25, 0x00, 0x00, 0x00, 0x00, 0xb8, 0x90, 0x01, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xee}
	// wrfsbase rax; mov eax, 400; syscall; jmp .
	wrFS = []byte{0xf3, 0x48, 0x0f, 0xae, 0xd0, 0xb8, 0x90, 0x01, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xfe}
	// 1: mov eax, 110 (getppid); syscall; jmp 1b
	getppidLoop = []byte{0xb8, 0x6e, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7}
	// jmp r11
	jmpR11 = []byte{0x41, 0xff, 0xe3}
	// jmp .
	spin = []byte{0xeb, 0xfe}
)

// SEGV_MAPERR and SEGV_ACCERR from <asm-generic/siginfo.h>.
const (
	segvMapErr = 1
	segvAccErr = 2
)

func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name     string
		code     []byte
		premap   *hostarch.AccessType // mapping at 0x500000 / 0x600000 before the run
		addr     hostarch.Addr
		access   hostarch.AccessType
		siCode   int32
		faultIP  hostarch.Addr
		fix      hostarch.AccessType
		fixBytes []byte
	}{
		{name: "read unmapped", code: readFault, addr: 0x500000, access: hostarch.Read, siCode: segvMapErr,
			faultIP: codeBase, fix: hostarch.Read},
		{name: "write unmapped", code: writeFault, addr: 0x500000, access: hostarch.Write, siCode: segvMapErr,
			faultIP: codeBase, fix: hostarch.ReadWrite},
		{name: "write read-only", code: writeFault, premap: &hostarch.Read, addr: 0x500000, access: hostarch.Write,
			siCode: segvAccErr, faultIP: codeBase, fix: hostarch.ReadWrite},
		{name: "exec unmapped", code: execFault, addr: 0x600000, access: hostarch.AccessType{Execute: true},
			siCode: segvMapErr, faultIP: 0x600000, fix: rx, fixBytes: sys400},
		{name: "exec non-exec", code: execFault, premap: &hostarch.Read, addr: 0x600000,
			access: hostarch.AccessType{Execute: true}, siCode: segvAccErr, faultIP: 0x600000, fix: rx, fixBytes: sys400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.newContext(t)
			e.mapBytes(t, e.as, codeBase, tc.code, rx)
			if tc.premap != nil {
				e.mapBytes(t, e.as, tc.addr, nil, *tc.premap)
			}
			st := arch.NewState(codeBase, 0)
			ev, err := c.Switch(e.as, &st)
			if err != nil {
				t.Fatal(err)
			}
			want := platform.Event{Kind: platform.EventFault, Signo: int32(unix.SIGSEGV), Code: tc.siCode, Addr: tc.addr, Access: tc.access}
			if ev != want {
				t.Fatalf("event = %+v, want %+v", ev, want)
			}
			if st.IP() != tc.faultIP {
				t.Errorf("ip at fault = %v, want %v", st.IP(), tc.faultIP)
			}
			// Resolve the fault: the instruction retries and the guest goes
			// on to its syscall.
			e.mapBytes(t, e.as, tc.addr, tc.fixBytes, tc.fix)
			ev, err = c.Switch(e.as, &st)
			if err != nil || ev.Kind != platform.EventSyscall || st.SyscallNo() != 400 {
				t.Fatalf("after fix: %+v %v sysno %d", ev, err, st.SyscallNo())
			}
		})
	}
}

func TestOtherFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		code  []byte
		signo unix.Signal
	}{
		{"ud2", []byte{0x0f, 0x0b}, unix.SIGILL},
		{"int3", []byte{0xcc}, unix.SIGTRAP},
		{"div by zero", []byte{0x48, 0xf7, 0xf1}, unix.SIGFPE}, // div rcx with rcx = 0
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.newContext(t)
			e.mapBytes(t, e.as, codeBase, tc.code, rx)
			st := arch.NewState(codeBase, 0)
			ev, err := c.Switch(e.as, &st)
			if err != nil || ev.Kind != platform.EventFault || ev.Signo != int32(tc.signo) || ev.Code <= 0 {
				t.Fatalf("event = %+v, %v; want a kernel-raised signal %d", ev, err, tc.signo)
			}
		})
	}
}

func TestInterrupt(t *testing.T) {
	e := newEnv(t)
	c := e.newContext(t)
	e.mapBytes(t, e.as, codeBase, spin, rx)
	st := arch.NewState(codeBase, 0)
	// An Interrupt before the first Switch makes it return at once.
	c.Interrupt()
	if ev, err := c.Switch(e.as, &st); err != nil || ev.Kind != platform.EventInterrupted {
		t.Fatalf("pre-interrupted switch: %+v %v", ev, err)
	}
	for i := 0; i < 3; i++ {
		done := make(chan struct{})
		go func() {
			defer close(done)
			time.Sleep(20 * time.Millisecond)
			c.Interrupt()
		}()
		start := time.Now()
		ev, err := c.Switch(e.as, &st)
		<-done
		if err != nil || ev.Kind != platform.EventInterrupted {
			t.Fatalf("switch %d: %+v %v", i, ev, err)
		}
		if d := time.Since(start); d < 15*time.Millisecond {
			t.Errorf("switch %d returned after %v, before the interrupt", i, d)
		}
		if st.IP() != codeBase {
			t.Errorf("ip = %v, want the spinning guest's %#x", st.IP(), codeBase)
		}
	}
}

// TestFSBase runs two threads in one address space whose FS bases point at
// different pages, in both handler modes (WRFSBASE and arch_prctl).
func TestFSBase(t *testing.T) {
	modes := []bool{false}
	if p, _ := seccomptrap.New(-1); p.FSGSBase() {
		modes = append(modes, true)
	}
	for _, fsgsbase := range modes {
		t.Run(fmt.Sprintf("fsgsbase=%v", fsgsbase), func(t *testing.T) {
			e := newEnv(t)
			e.p.SetFSGSBaseForTest(fsgsbase)
			as := e.newAS(t) // created after the mode change
			e.mapBytes(t, as, codeBase, fsRead, rx)
			magic := e.mapMagic(t, as)
			c1, c2 := e.newContext(t), e.newContext(t)
			st1, st2 := arch.NewState(codeBase, 0), arch.NewState(codeBase, 0)
			st1.Regs.Fs_base, st2.Regs.Fs_base = pageA, pageB
			check := func(c platform.Context, st *arch.State, base uint64) {
				t.Helper()
				ev, err := c.Switch(as, st)
				if err != nil || ev.Kind != platform.EventSyscall {
					t.Fatalf("switch: %+v %v", ev, err)
				}
				if st.Regs.Rdi != magic[base] || st.Regs.Fs_base != base {
					t.Fatalf("fs:[0] = %#x with fs_base %#x, want %#x with %#x", st.Regs.Rdi, st.Regs.Fs_base, magic[base], base)
				}
			}
			for i := 0; i < 3; i++ {
				check(c1, &st1, pageA)
				check(c2, &st2, pageB)
			}
			// A changed base (arch_prctl(ARCH_SET_FS) emulated by the
			// sentry) applies on the next switch.
			st1.Regs.Fs_base = pageB
			check(c1, &st1, pageB)
			check(c2, &st2, pageB)
			st2.Regs.Fs_base = pageA
			check(c2, &st2, pageA)
			check(c1, &st1, pageB)
		})
	}
}

// TestGuestWrFSBase checks that a base the guest set itself with WRFSBASE
// is reported to the sentry.
func TestGuestWrFSBase(t *testing.T) {
	e := newEnv(t)
	if !e.p.FSGSBase() {
		t.Skip("no FSGSBASE")
	}
	c := e.newContext(t)
	e.mapBytes(t, e.as, codeBase, wrFS, rx)
	st := arch.NewState(codeBase, 0)
	st.Regs.Rax = 0x12345000
	ev, err := c.Switch(e.as, &st)
	if err != nil || ev.Kind != platform.EventSyscall || st.Regs.Fs_base != 0x12345000 {
		t.Fatalf("%+v %v fs_base %#x", ev, err, st.Regs.Fs_base)
	}
}

// syscallSites returns the stub-side addresses of the `syscall`
// instructions in the handler code.
func syscallSites(t *testing.T) []uint64 {
	code, _, _, err := seccomptrap.StubCodeForTest()
	if err != nil {
		t.Fatal(err)
	}
	var sites []uint64
	for i := 0; i+1 < len(code); i++ {
		if code[i] == 0x0f && code[i+1] == 0x05 {
			sites = append(sites, seccomptrap.StubAddr+seccomptrap.StubBlobOff+uint64(i))
		}
	}
	if len(sites) < 3 {
		t.Fatalf("found only %d syscall sites in the stub code", len(sites))
	}
	return sites
}

func threadStatus(t *testing.T, pid, tid int, key string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/status", pid, tid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestStubJumpAttack makes the guest jump into stub code with registers of
// its choosing. Every attempt must kill the stub with SIGSYS before the
// host runs the syscall.
func TestStubJumpAttack(t *testing.T) {
	sites := syscallSites(t)
	inject := uint64(seccomptrap.StubAddr + seccomptrap.StubInjectOff)
	dir := t.TempDir()
	type attack struct {
		name string
		site uint64
		regs func(r *arch.State, path uint64)
	}
	var attacks []attack
	for _, site := range append([]uint64{inject}, sites...) {
		attacks = append(attacks,
			attack{fmt.Sprintf("getppid@%#x", site), site, func(st *arch.State, _ uint64) { st.Regs.Rax = unix.SYS_GETPPID }},
			attack{fmt.Sprintf("openat@%#x", site), site, func(st *arch.State, path uint64) {
				st.Regs.Rax = unix.SYS_OPENAT
				st.Regs.Rdi = ^uint64(99) // AT_FDCWD (-100)
				st.Regs.Rsi = path
				st.Regs.Rdx = unix.O_CREAT | unix.O_WRONLY
				st.Regs.R10 = 0o644
			}},
		)
	}
	attacks = append(attacks,
		// Allowed by the process filter at the injection site, killed by
		// the thread's own filter.
		attack{"mmap@inject", inject, func(st *arch.State, _ uint64) {
			st.Regs.Rax = unix.SYS_MMAP
			st.Regs.Rdi, st.Regs.Rsi, st.Regs.Rdx = 0x900000, 4096, unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC
			st.Regs.R10, st.Regs.R8 = unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED, ^uint64(0)
		}},
		// futex is allowed only on the thread's own state word.
		attack{"futex on another word", sites[1], func(st *arch.State, _ uint64) {
			st.Regs.Rax = unix.SYS_FUTEX
			st.Regs.Rdi, st.Regs.Rsi, st.Regs.Rdx = seccomptrap.CtlAddr+7*seccomptrap.SlotSize, 1, 1
		}},
		attack{"futex requeue on own word", sites[1], func(st *arch.State, _ uint64) {
			st.Regs.Rax = unix.SYS_FUTEX
			st.Regs.Rdi, st.Regs.Rsi, st.Regs.Rdx = seccomptrap.CtlAddr+seccomptrap.SlotSize, 3 /* FUTEX_REQUEUE */, 1
		}},
	)
	for i, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.newContext(t)
			path := filepath.Join(dir, fmt.Sprintf("pwned-%d", i))
			page := e.mapBytes(t, e.as, codeBase, jmpR11, rx)
			copy(page[0x100:], path+"\x00")
			// Get the thread going with an honest syscall first, so that
			// its filters are in place and checkable.
			e.mapBytes(t, e.as, 0x600000, sys400, rx)
			st := arch.NewState(0x600000, 0)
			if ev, err := c.Switch(e.as, &st); err != nil || ev.Kind != platform.EventSyscall {
				t.Fatalf("honest syscall: %+v %v", ev, err)
			}
			pid, tid := seccomptrap.StubPID(e.as), seccomptrap.StubTID(c)
			if m, n := threadStatus(t, pid, tid, "Seccomp"), threadStatus(t, pid, tid, "Seccomp_filters"); m != "2" || n != "2" {
				t.Fatalf("stub thread seccomp mode %q with %q filters, want 2 and 2", m, n)
			}
			st = arch.NewState(codeBase, 0)
			a.regs(&st, codeBase+0x100)
			st.Regs.R11 = a.site
			ev, err := c.Switch(e.as, &st)
			if !errors.Is(err, platform.ErrStubDied) {
				t.Fatalf("attack: got %+v %v, want the stub dead", ev, err)
			}
			e.as.Release()
			ws := unix.WaitStatus(seccomptrap.WaitReleased(e.as))
			if !ws.Signaled() || ws.Signal() != unix.SIGSYS {
				t.Errorf("stub status %#x, want killed by SIGSYS", uint32(ws))
			}
			if _, err := os.Stat(path); err == nil {
				t.Errorf("the host ran the guest's openat: %s exists", path)
			}
		})
	}
}

// TestThreads runs several threads in one address space at once, then
// moves one to another address space (fork/exec) and back.
func TestThreads(t *testing.T) {
	e := newEnv(t)
	e.mapBytes(t, e.as, codeBase, getppidLoop, rx)
	const n, rounds = 4, 2000
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		c := e.newContext(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := arch.NewState(codeBase, 0)
			st.Regs.Rbx = uint64(i) // callee-saved: must survive every round trip
			for r := 0; r < rounds; r++ {
				ev, err := c.Switch(e.as, &st)
				if err != nil || ev.Kind != platform.EventSyscall || st.SyscallNo() != unix.SYS_GETPPID || st.Regs.Rbx != uint64(i) {
					errs <- fmt.Errorf("thread %d round %d: %+v %v sysno %d rbx %d", i, r, ev, err, st.SyscallNo(), st.Regs.Rbx)
					return
				}
				st.SetReturn(uintptr(r))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	pid := seccomptrap.StubPID(e.as)
	if got := countTasks(t, pid); got != n+1 {
		t.Errorf("stub has %d threads, want %d", got, n+1)
	}

	as2 := e.newAS(t)
	e.mapBytes(t, as2, codeBase, getppidLoop, rx)
	c := e.newContext(t)
	st := arch.NewState(codeBase, 0)
	for _, as := range []platform.AddressSpace{e.as, as2, e.as, as2} {
		if ev, err := c.Switch(as, &st); err != nil || ev.Kind != platform.EventSyscall {
			t.Fatalf("switch: %+v %v", ev, err)
		}
	}
	if got := countTasks(t, pid); got != n+1 {
		t.Errorf("after moving a context away, the first stub has %d threads, want %d", got, n+1)
	}
	c.Release()
	if got := countTasks(t, seccomptrap.StubPID(as2)); got != 1 {
		t.Errorf("after Release, the second stub has %d threads, want 1", got)
	}
}

func countTasks(t *testing.T, pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestStubKilled: a stub killed from the host makes Switch fail promptly.
func TestStubKilled(t *testing.T) {
	e := newEnv(t)
	c := e.newContext(t)
	e.mapBytes(t, e.as, codeBase, spin, rx)
	st := arch.NewState(codeBase, 0)
	go func() {
		time.Sleep(20 * time.Millisecond)
		unix.Kill(seccomptrap.StubPID(e.as), unix.SIGKILL)
	}()
	start := time.Now()
	if _, err := c.Switch(e.as, &st); !errors.Is(err, platform.ErrStubDied) {
		t.Fatalf("switch: %v, want ErrStubDied", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("noticed the death after %v", d)
	}
}

func TestStubMapsAreClean(t *testing.T) {
	e := newEnv(t)
	c := e.newContext(t)
	e.mapBytes(t, e.as, codeBase, sys400, rx)
	st := arch.NewState(codeBase, 0)
	if _, err := c.Switch(e.as, &st); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", seccomptrap.StubPID(e.as)))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		switch {
		case strings.Contains(l, "runsc-lite-seccomptrap-stub"), strings.Contains(l, "runsc-lite-seccomptrap-ctl"),
			strings.Contains(l, "runsc-lite-memory"), strings.Contains(l, "[vsyscall]"):
		default:
			t.Errorf("unexpected mapping in stub: %s", l)
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", seccomptrap.StubPID(e.as)))
	if err != nil {
		t.Fatal(err)
	}
	if len(fds) != 1 || fds[0].Name() != "3" {
		t.Errorf("stub fds = %v, want only the memfd (3)", fds)
	}
}

// TestStubDiesWithSentry kills -9 a helper process that runs a guest and
// checks that its stub dies too.
func TestStubDiesWithSentry(t *testing.T) {
	if os.Getenv("SECCOMPTRAP_HELPER") == "1" {
		t.Skip("helper")
	}
	// Orphaned stubs are reparented to us, so we can reap them.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSentry$")
	cmd.Env = append(os.Environ(), "SECCOMPTRAP_HELPER=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Fscanf(bufio.NewReader(out), "stub %d\n", &pid); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("reading the helper's stub pid: %v", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(pid, &ws, unix.WNOHANG|unix.WALL, nil)
		if wpid == pid {
			if !ws.Signaled() || ws.Signal() != unix.SIGKILL {
				t.Errorf("stub status %#x, want killed by SIGKILL", uint32(ws))
			}
			return
		}
		if err == unix.ECHILD {
			// Reaped by someone else; it must be gone.
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
				t.Fatalf("stub %d outlived its sentry", pid)
			}
			return
		}
		if time.Now().After(deadline) {
			unix.Kill(pid, unix.SIGKILL)
			t.Fatalf("stub %d still alive 5s after its sentry died", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHelperSentry is the helper for TestStubDiesWithSentry: it runs a
// spinning guest, prints the stub's pid and waits to be killed.
func TestHelperSentry(t *testing.T) {
	if os.Getenv("SECCOMPTRAP_HELPER") != "1" {
		t.Skip("only run as a helper")
	}
	e := newEnv(t)
	c := e.newContext(t)
	e.mapBytes(t, e.as, codeBase, spin, rx)
	st := arch.NewState(codeBase, 0)
	go c.Switch(e.as, &st)
	time.Sleep(50 * time.Millisecond)
	fmt.Printf("stub %d\n", seccomptrap.StubPID(e.as))
	time.Sleep(time.Minute)
}

// TestSwitchAfterRelease moves a context to a new address space after its
// old one was released, as exec does. The old stub is being killed, and
// the thread that dies last with it never clears its state word, so the
// move must not wait for that (it once took a 50 ms poll per exec).
func TestSwitchAfterRelease(t *testing.T) {
	e := newEnv(t)
	c := e.newContext(t)
	as := e.as
	for i := 0; i < 5; i++ {
		e.mapBytes(t, as, 0x600000, sys400, rx)
		st := arch.NewState(0x600000, 0)
		if ev, err := c.Switch(as, &st); err != nil || ev.Kind != platform.EventSyscall {
			t.Fatalf("round %d: %+v %v", i, ev, err)
		}
		as.Release()
		as = e.newAS(t)
	}
	if n := seccomptrap.RetireTimeouts(c); n != 0 {
		t.Errorf("retire waited out %d polls for threads of released stubs", n)
	}
}

// TestNewAddressSpaceError: a failed NewAddressSpace returns a nil
// interface, which callers compare with nil before they release it (a
// nil *addressSpace inside one crashed the sentry's stub pool).
func TestNewAddressSpaceError(t *testing.T) {
	p, err := seccomptrap.New(-1)
	if err != nil {
		t.Fatal(err)
	}
	as, err := p.NewAddressSpace()
	if err == nil {
		as.Release()
		t.Fatal("NewAddressSpace with no memory file succeeded")
	}
	if as != nil {
		t.Fatalf("NewAddressSpace failed (%v) but returned %#v", err, as)
	}
}

// Two pages whose first words differ, for FS-base tests: %fs:0 tells
// which one a thread's base points at.
const pageA, pageB = 0x700000, 0x800000

// mapMagic maps pageA and pageB read-only into as and returns their first
// words by address.
func (e *env) mapMagic(t *testing.T, as platform.AddressSpace) map[uint64]uint64 {
	t.Helper()
	magic := map[uint64]uint64{pageA: 0x1111aaaa2222bbbb, pageB: 0x3333cccc4444dddd}
	for addr, m := range magic {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], m)
		e.mapBytes(t, as, hostarch.Addr(addr), b[:], hostarch.Read)
	}
	return magic
}
