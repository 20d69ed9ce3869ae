package seccomptrap_test

import (
	"os"
	"runtime"
	"testing"

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
