package seccomptrap

import (
	"encoding/binary"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// Stub process layout. The stub page is a one-page ELF executable built in
// memory (as on the ptrace platform): ELF headers, the injection site, and
// the handler code copied from trap_amd64.s. The control region with one
// slot per stub thread follows at ctlAddr.
const (
	// stubAddr is where the stub page lives, below the 16 GiB at the top
	// where the kernel puts the initial stack. It is the guest's
	// MaxUserAddress.
	stubAddr     = 0x7ff000000000
	stubPageSize = 0x1000

	// The injection site: `syscall; int3; jmp .`. The sentry injects
	// syscalls by pointing a ptrace-stopped thread's rip at the syscall;
	// the int3 stops it again afterwards.
	stubInjectOff = 0x100
	stubInject    = stubAddr + stubInjectOff
	stubInt3      = stubInject + 2

	// stubBlobOff is where stubCode's bytes go.
	stubBlobOff = 0x200

	// ctlAddr is where the control memfd is mapped in the stub, aligned to
	// slotSize. Slot 0 is scratch space for process setup (the sigaction
	// and the process filter); slots 1..maxSlots-1 belong to threads.
	ctlAddr  = stubAddr + slotSize
	maxSlots = 512
	ctlSize  = maxSlots * slotSize

	// topOfUserSpace is the end of the 47-bit user address space minus the
	// last page, which the kernel never maps.
	topOfUserSpace = 0x7ffffffff000

	// stubCtlFD is the control memfd's number in the stub during setup;
	// the sandbox memfd is stubMemFD.
	stubMemFD = 3
	stubCtlFD = 4
)

// threadCloneFlags are the flags of the injected clone that makes a stub
// thread. CLONE_CHILD_CLEARTID points at the thread's state word: when the
// thread exits, the kernel zeroes it (stateDead) and wakes the sentry.
const threadCloneFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
	unix.CLONE_THREAD | unix.CLONE_SYSVSEM | unix.CLONE_CHILD_CLEARTID

// handledSignals reach the stub handler: SIGSYS for syscalls, the
// synchronous faults, and interruptSignal for Context.Interrupt.
var handledSignals = []unix.Signal{unix.SIGSYS, unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL,
	unix.SIGTRAP, interruptSignal}

// interruptSignal kicks a running guest thread into the handler. SIGCHLD is
// ignored by default, so a kick that lands before the handler is installed
// is harmless.
const interruptSignal = unix.SIGCHLD

// Signal action flags from <asm/signal.h>.
const (
	saSiginfo  = 0x4
	saOnstack  = 0x08000000
	saRestorer = 0x04000000
)

// stub is the process-independent part: the code blob and the executable.
type stub struct {
	blob stubBlob
	// exe is a memfd holding the stub ELF, exec'd through /proc/self/fd.
	exe int
}

var theStub struct {
	once sync.Once
	s    stub
	err  error
}

// loadStub builds the stub executable once per sentry.
func loadStub() (*stub, error) {
	theStub.once.Do(func() {
		blob, err := loadStubBlob()
		if err != nil {
			theStub.err = err
			return
		}
		if stubBlobOff+len(blob.code) > stubPageSize {
			theStub.err = fmt.Errorf("seccomptrap: stub code is %d bytes, too big", len(blob.code))
			return
		}
		fd, err := unix.MemfdCreate("runsc-lite-seccomptrap-stub", unix.MFD_CLOEXEC|unix.MFD_EXEC)
		if err != nil {
			// Kernels before 6.3 don't know MFD_EXEC.
			fd, err = unix.MemfdCreate("runsc-lite-seccomptrap-stub", unix.MFD_CLOEXEC)
		}
		if err != nil {
			theStub.err = fmt.Errorf("memfd_create for the stub: %w", err)
			return
		}
		if _, err := unix.Write(fd, stubELF(blob.code)); err != nil {
			unix.Close(fd)
			theStub.err = fmt.Errorf("write stub: %w", err)
			return
		}
		theStub.s = stub{blob: blob, exe: fd}
	})
	return &theStub.s, theStub.err
}

// handlerAddr and restorerAddr are the stub-side addresses of the entry
// points.
func (s *stub) handlerAddr() uint64  { return stubAddr + stubBlobOff + uint64(s.blob.handler) }
func (s *stub) restorerAddr() uint64 { return stubAddr + stubBlobOff + uint64(s.blob.restorer) }

// addr is the stub-side address of an offset in the code blob.
func (s *stub) addr(off int) uint64 { return stubAddr + stubBlobOff + uint64(off) }

// stubELF returns the stub executable: an ET_EXEC with one R+X PT_LOAD
// covering the page, headers included, entered at the int3 so that the
// sentry gets control right after the exec stop.
func stubELF(code []byte) []byte {
	b := make([]byte, stubPageSize)
	le := binary.LittleEndian
	copy(b, "\x7fELF")
	b[4] = 2                       // ELFCLASS64
	b[5] = 1                       // ELFDATA2LSB
	b[6] = 1                       // EV_CURRENT
	le.PutUint16(b[16:], 2)        // e_type = ET_EXEC
	le.PutUint16(b[18:], 62)       // e_machine = EM_X86_64
	le.PutUint32(b[20:], 1)        // e_version
	le.PutUint64(b[24:], stubInt3) // e_entry
	le.PutUint64(b[32:], 64)       // e_phoff
	le.PutUint16(b[52:], 64)       // e_ehsize
	le.PutUint16(b[54:], 56)       // e_phentsize
	le.PutUint16(b[56:], 1)        // e_phnum
	ph := b[64:]
	le.PutUint32(ph[0:], 1)             // p_type = PT_LOAD
	le.PutUint32(ph[4:], 5)             // p_flags = PF_R|PF_X
	le.PutUint64(ph[8:], 0)             // p_offset
	le.PutUint64(ph[16:], stubAddr)     // p_vaddr
	le.PutUint64(ph[24:], stubAddr)     // p_paddr
	le.PutUint64(ph[32:], stubPageSize) // p_filesz
	le.PutUint64(ph[40:], stubPageSize) // p_memsz
	le.PutUint64(ph[48:], stubPageSize) // p_align
	copy(b[stubInjectOff:], []byte{0x0f, 0x05, 0xcc, 0xeb, 0xfe})
	copy(b[stubBlobOff:], code)
	return b
}
