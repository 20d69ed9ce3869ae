package ptrace

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// The stub is a one-page ELF executable that the sentry builds in memory.
// Its code is three instructions: `syscall` (used to inject syscalls),
// `int3` (stops the injector after an injected syscall) and `jmp .`
// (parks a new thread while it is handed to its tracer).
const (
	// stubAddr is where the stub page lives. The kernel puts the initial
	// stack somewhere in the top 16 GiB, so the stub stays below that
	// (DESIGN.md, "The stub ELF"). It is also the guest's MaxUserAddress.
	stubAddr = 0x7ff000000000

	stubCodeOff    = 0x100
	stubSyscallOff = stubCodeOff     // 0f 05  syscall
	stubInt3Off    = stubCodeOff + 2 // cc     int3
	stubJmpOff     = stubCodeOff + 3 // eb fe  jmp .

	stubSyscall = stubAddr + stubSyscallOff
	stubInt3    = stubAddr + stubInt3Off
	stubJmp     = stubAddr + stubJmpOff

	// topOfUserSpace is the end of the x86-64 user address space (47-bit),
	// minus the last page, which the kernel never maps.
	topOfUserSpace = 0x7ffffffff000
)

// stubELF returns the stub executable's bytes: an ET_EXEC with one R+X
// PT_LOAD covering the page, headers included.
func stubELF() []byte {
	b := make([]byte, 4096)
	le := binary.LittleEndian
	copy(b, "\x7fELF")
	b[4] = 2                                   // ELFCLASS64
	b[5] = 1                                   // ELFDATA2LSB
	b[6] = 1                                   // EV_CURRENT
	le.PutUint16(b[16:], 2)                    // e_type = ET_EXEC
	le.PutUint16(b[18:], 62)                   // e_machine = EM_X86_64
	le.PutUint32(b[20:], 1)                    // e_version
	le.PutUint64(b[24:], stubAddr+stubInt3Off) // e_entry
	le.PutUint64(b[32:], 64)                   // e_phoff
	le.PutUint16(b[52:], 64)                   // e_ehsize
	le.PutUint16(b[54:], 56)                   // e_phentsize
	le.PutUint16(b[56:], 1)                    // e_phnum
	ph := b[64:]
	le.PutUint32(ph[0:], 1)         // p_type = PT_LOAD
	le.PutUint32(ph[4:], 5)         // p_flags = PF_R|PF_X
	le.PutUint64(ph[8:], 0)         // p_offset
	le.PutUint64(ph[16:], stubAddr) // p_vaddr
	le.PutUint64(ph[24:], stubAddr) // p_paddr
	le.PutUint64(ph[32:], 4096)     // p_filesz
	le.PutUint64(ph[40:], 4096)     // p_memsz
	le.PutUint64(ph[48:], 4096)     // p_align
	copy(b[stubCodeOff:], []byte{0x0f, 0x05, 0xcc, 0xeb, 0xfe})
	return b
}

// sockFilter and sockFprog are struct sock_filter and sock_fprog.
type sockFilter struct {
	Code uint16
	Jt   uint8
	Jf   uint8
	K    uint32
}

type sockFprog struct {
	Len    uint16
	_      [6]byte
	Filter uint64
}

// BPF opcodes from <linux/bpf_common.h> and seccomp return values from
// <linux/seccomp.h>.
const (
	bpfLdAbsW = 0x20 // BPF_LD|BPF_W|BPF_ABS
	bpfJeqK   = 0x15 // BPF_JMP|BPF_JEQ|BPF_K
	bpfRetK   = 0x06 // BPF_RET|BPF_K

	seccompRetKillProcess = 0x80000000
	seccompRetAllow       = 0x7fff0000

	auditArchX86_64 = 0xc000003e

	// Offsets in struct seccomp_data.
	sdNr   = 0
	sdArch = 4
	sdIP   = 8
	sdArgs = 16
)

// threadCloneFlags are the flags of the injected clone that makes a new
// stub thread.
const threadCloneFlags = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
	unix.CLONE_THREAD | unix.CLONE_SYSVSEM

// stubFilter is the seccomp filter installed in every stub. Guest syscalls
// stopped by PTRACE_SYSEMU never reach seccomp (kernel >= 4.8 runs seccomp
// after the SYSEMU check), so the filter sees only syscalls the sentry
// injects. It allows those few, only from the stub's own `syscall`
// instruction, and kills the process for anything else: if the sentry ever
// resumed guest code with PTRACE_CONT by mistake, the guest still could not
// make a host syscall.
func stubFilter() []sockFilter {
	ld := func(off uint32) sockFilter { return sockFilter{Code: bpfLdAbsW, K: off} }
	ret := func(v uint32) sockFilter { return sockFilter{Code: bpfRetK, K: v} }
	ip := uint64(stubSyscall + 2) // seccomp_data.instruction_pointer is the address after `syscall`.
	allowed := []uint32{unix.SYS_MMAP, unix.SYS_MUNMAP, unix.SYS_MPROTECT, unix.SYS_EXIT, unix.SYS_EXIT_GROUP}
	var f []sockFilter
	// Jump offsets are relative to the next instruction; "kill" is the
	// instruction at the end, computed once the length is known.
	f = append(f, ld(sdArch), sockFilter{Code: bpfJeqK, K: auditArchX86_64})
	f = append(f, ld(sdIP), sockFilter{Code: bpfJeqK, K: uint32(ip)})
	f = append(f, ld(sdIP+4), sockFilter{Code: bpfJeqK, K: uint32(ip >> 32)})
	f = append(f, ld(sdNr))
	for _, nr := range allowed {
		f = append(f, sockFilter{Code: bpfJeqK, K: nr, Jt: 0xff}) // Jt patched below to "allow".
	}
	// clone is allowed only with the exact thread flags.
	f = append(f, sockFilter{Code: bpfJeqK, K: unix.SYS_CLONE})
	f = append(f, ld(sdArgs), sockFilter{Code: bpfJeqK, K: threadCloneFlags})
	f = append(f, ld(sdArgs+4), sockFilter{Code: bpfJeqK, K: 0})
	f = append(f, sockFilter{Code: bpfJeqK, K: 0, Jt: 0xff}) // always true: A==0 here → allow
	kill := len(f)
	f = append(f, ret(seccompRetKillProcess))
	allow := len(f)
	f = append(f, ret(seccompRetAllow))
	for i := range f {
		if f[i].Code != bpfJeqK {
			continue
		}
		if f[i].Jt == 0xff {
			f[i].Jt = uint8(allow - i - 1)
			f[i].Jf = 0
		} else {
			// A failed check kills; a passed one falls through.
			f[i].Jf = uint8(kill - i - 1)
		}
	}
	// The per-syscall checks fall through to the next check on mismatch.
	for i := range f {
		if f[i].Code == bpfJeqK && f[i].Jt == uint8(allow-i-1) && i != allow {
			f[i].Jf = 0
		}
	}
	return f
}
