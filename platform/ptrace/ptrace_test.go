package ptrace

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
)

// guest code: getppid(); mov [0x20000], rax... kept to syscalls and a
// fault so no memory but the code page is needed.
var code = []byte{
	0xb8, 0x6e, 0x00, 0x00, 0x00, // mov eax, 110 (getppid)
	0x0f, 0x05, // syscall
	0xb8, 0x90, 0x01, 0x00, 0x00, // mov eax, 400
	0x0f, 0x05, // syscall
	0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x50, 0x00, // mov rax, [0x500000]  (unmapped: fault)
	0xeb, 0xfe, // jmp .
}

func setup(t *testing.T) (*memfile.MemoryFile, platform.AddressSpace, platform.Context) {
	t.Helper()
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
	mf, err := memfile.New(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mf.Release)
	p, _ := New(mf.FD())
	as, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(as.Release)
	c := p.NewContext()
	t.Cleanup(c.Release)
	return mf, as, c
}

func TestSwitchSyscallsAndFault(t *testing.T) {
	mf, as, c := setup(t)
	off, err := mf.Allocate(hostarch.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	copy(mf.Slice(off, hostarch.PageSize), code)
	const base = 0x400000
	if err := as.MapFile(base, off, hostarch.PageSize, hostarch.AccessType{Read: true, Execute: true}); err != nil {
		t.Fatal(err)
	}
	st := arch.NewState(base, 0)
	ev, err := c.Switch(as, &st)
	if err != nil || ev.Kind != platform.EventSyscall || st.SyscallNo() != unix.SYS_GETPPID {
		t.Fatalf("first switch: %+v %v sysno %d", ev, err, st.SyscallNo())
	}
	if st.IP() != base+7 {
		t.Errorf("ip after syscall = %v, want %#x", st.IP(), base+7)
	}
	st.SetReturn(1234)
	ev, err = c.Switch(as, &st)
	if err != nil || ev.Kind != platform.EventSyscall || st.SyscallNo() != 400 {
		t.Fatalf("second switch: %+v %v sysno %d", ev, err, st.SyscallNo())
	}
	ev, err = c.Switch(as, &st)
	if err != nil || ev.Kind != platform.EventFault || ev.Signo != int32(unix.SIGSEGV) || ev.Addr != 0x500000 {
		t.Fatalf("third switch: %+v %v", ev, err)
	}
	// The fault is fixed by mapping the page; the guest then spins until
	// interrupted.
	off2, _ := mf.Allocate(hostarch.PageSize)
	if err := as.MapFile(0x500000, off2, hostarch.PageSize, hostarch.Read); err != nil {
		t.Fatal(err)
	}
	go c.Interrupt()
	ev, err = c.Switch(as, &st)
	if err != nil || ev.Kind != platform.EventInterrupted {
		t.Fatalf("fourth switch: %+v %v", ev, err)
	}
}

func TestStubMapsAreClean(t *testing.T) {
	_, pas, c := setup(t)
	as := pas.(*addressSpace)
	_ = c
	b, err := os.ReadFile("/proc/" + itoa(as.pid) + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.Contains(l, "runsc-lite-stub") || strings.Contains(l, "[vsyscall]") {
			continue
		}
		t.Errorf("unexpected mapping in stub: %s", l)
	}
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(i)) }

func fmtInt(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for i > 0 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	return string(b)
}

// TestFilterKillsUnexpectedSyscall checks that the stub's seccomp filter
// kills the stub when a syscall it does not allow is injected.
func TestFilterKillsUnexpectedSyscall(t *testing.T) {
	_, pas, _ := setup(t)
	as := pas.(*addressSpace)
	err := as.do(func() error {
		_, err := as.inject(unix.SYS_GETPID, [6]uintptr{})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "status 0x1f") {
		t.Fatalf("injected getpid: got %v, want the stub killed by SIGSYS (status 0x1f)", err)
	}
}

// BenchmarkNewAddressSpace measures starting a stub: fork/exec of the stub
// ELF, clearing its address space and installing its filter.
func BenchmarkNewAddressSpace(b *testing.B) {
	mf, err := memfile.New(1 << 30)
	if err != nil {
		b.Fatal(err)
	}
	defer mf.Release()
	p, _ := New(mf.FD())
	for i := 0; i < b.N; i++ {
		as, err := p.NewAddressSpace()
		if err != nil {
			b.Fatal(err)
		}
		as.Release()
	}
}
