package seccomptrap

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// BPF opcodes from <linux/bpf_common.h>, seccomp return values from
// <linux/seccomp.h> and struct seccomp_data offsets.
const (
	bpfLdAbsW = 0x20 // BPF_LD|BPF_W|BPF_ABS
	bpfJeqK   = 0x15 // BPF_JMP|BPF_JEQ|BPF_K
	bpfJgtK   = 0x25 // BPF_JMP|BPF_JGT|BPF_K
	bpfRetK   = 0x06 // BPF_RET|BPF_K

	seccompRetKillProcess = 0x80000000
	seccompRetTrap        = 0x00030000
	seccompRetAllow       = 0x7fff0000

	auditArchX86_64 = 0xc000003e

	// From <linux/futex.h> and <asm/prctl.h>.
	futexOpWait = 0
	futexOpWake = 1
	archSetGS   = 0x1001
	archSetFS   = 0x1002

	sdNr   = 0
	sdArch = 4
	sdIP   = 8
	sdArgs = 16
)

// sockFilter is struct sock_filter.
type sockFilter struct {
	Code uint16
	Jt   uint8
	Jf   uint8
	K    uint32
}

// bpf assembles a classic BPF program with named forward jump targets.
// An empty target means "the next instruction".
type bpf struct {
	ins    []sockFilter
	labels map[string]int
	jumps  []bpfJump
}

type bpfJump struct {
	at     int
	jt, jf string
}

func (p *bpf) ld(off uint32) { p.ins = append(p.ins, sockFilter{Code: bpfLdAbsW, K: off}) }
func (p *bpf) ret(v uint32)  { p.ins = append(p.ins, sockFilter{Code: bpfRetK, K: v}) }

func (p *bpf) jmp(op uint16, k uint32, jt, jf string) {
	p.jumps = append(p.jumps, bpfJump{at: len(p.ins), jt: jt, jf: jf})
	p.ins = append(p.ins, sockFilter{Code: op, K: k})
}

func (p *bpf) jeq(k uint32, jt, jf string) { p.jmp(bpfJeqK, k, jt, jf) }
func (p *bpf) jgt(k uint32, jt, jf string) { p.jmp(bpfJgtK, k, jt, jf) }

func (p *bpf) label(name string) {
	if p.labels == nil {
		p.labels = map[string]int{}
	}
	p.labels[name] = len(p.ins)
}

// assemble resolves the jumps. BPF jumps are forward only, by at most 255.
func (p *bpf) assemble() ([]sockFilter, error) {
	rel := func(at int, target string) (uint8, error) {
		if target == "" {
			return 0, nil
		}
		t, ok := p.labels[target]
		if !ok {
			return 0, fmt.Errorf("bpf: no label %q", target)
		}
		d := t - at - 1
		if d < 0 || d > 255 {
			return 0, fmt.Errorf("bpf: jump to %q out of range (%d)", target, d)
		}
		return uint8(d), nil
	}
	for _, j := range p.jumps {
		var err error
		if p.ins[j.at].Jt, err = rel(j.at, j.jt); err != nil {
			return nil, err
		}
		if p.ins[j.at].Jf, err = rel(j.at, j.jf); err != nil {
			return nil, err
		}
	}
	return p.ins, nil
}

// filterBytes is the program as the kernel reads it.
func filterBytes(f []sockFilter) []byte {
	b := make([]byte, 8*len(f))
	for i, in := range f {
		binary.LittleEndian.PutUint16(b[8*i:], in.Code)
		b[8*i+2], b[8*i+3] = in.Jt, in.Jf
		binary.LittleEndian.PutUint32(b[8*i+4:], in.K)
	}
	return b
}

// Labels shared by both programs.
const (
	lAllow = "allow"
	lTrap  = "trap"
	lKill  = "kill"
)

// stubRange sends every syscall made outside the stub page to "trap": that
// is a guest syscall, for the sentry. It falls through for syscalls made
// from the stub page, whose instruction pointer (the address after the
// `syscall`) is in (stubAddr, stubAddr+stubPageSize].
func (p *bpf) stubRange() {
	p.ld(sdArch)
	p.jeq(auditArchX86_64, "", lKill)
	p.ld(sdIP + 4)
	p.jeq(uint32(stubAddr>>32), "", lTrap)
	p.ld(sdIP)
	p.jgt(uint32(stubAddr&0xffffffff), "", lTrap)
	p.jgt(uint32(stubAddr&0xffffffff)+stubPageSize, lTrap, "")
}

func (p *bpf) tail() {
	p.label(lTrap)
	p.ret(seccompRetTrap)
	p.label(lKill)
	p.ret(seccompRetKillProcess)
	p.label(lAllow)
	p.ret(seccompRetAllow)
}

// processFilter is installed in the stub's main thread before any other
// thread exists, so every thread inherits it. It traps guest syscalls.
// From the stub page it allows:
//   - at the injection `syscall` (stubInject), what the sentry injects:
//     mmap, munmap, mprotect, thread clones with fixed flags, and the
//     per-thread setup (sigaltstack, seccomp); exit and exit_group;
//   - elsewhere in the page, what the handler needs (futex, rt_sigreturn,
//     exit, arch_prctl), which each thread's own filter narrows further.
//
// Anything else from the stub page kills the process.
func processFilter() ([]sockFilter, error) {
	var p bpf
	p.stubRange()
	p.ld(sdIP)
	p.jeq(uint32((stubInject+2)&0xffffffff), "inject", "")
	p.ld(sdNr)
	for _, nr := range []uint32{unix.SYS_FUTEX, unix.SYS_RT_SIGRETURN, unix.SYS_EXIT, unix.SYS_ARCH_PRCTL} {
		p.jeq(nr, lAllow, "")
	}
	p.ret(seccompRetKillProcess)

	p.label("inject")
	p.ld(sdNr)
	for _, nr := range []uint32{unix.SYS_MMAP, unix.SYS_MUNMAP, unix.SYS_MPROTECT, unix.SYS_EXIT,
		unix.SYS_EXIT_GROUP, unix.SYS_SIGALTSTACK, unix.SYS_SECCOMP} {
		p.jeq(nr, lAllow, "")
	}
	p.jeq(unix.SYS_CLONE, "", lKill)
	p.ld(sdArgs)
	p.jeq(uint32(threadCloneFlags), "", lKill)
	p.ld(sdArgs + 4)
	p.jeq(0, lAllow, lKill)
	p.tail()
	return p.assemble()
}

// threadFilter is installed by each guest thread on top of processFilter.
// From the stub page it allows only what the handler does: futex WAIT or
// WAKE on this thread's own state word, rt_sigreturn, exit (retirement),
// and, on CPUs without FSGSBASE, arch_prctl(ARCH_SET_FS/GS). Everything
// else from the stub page, including the injection site, kills the
// process: a guest that jumps into stub code with registers of its own
// choosing gets nothing but its own futex word.
func threadFilter(stateAddr uint64, fsgsbase bool) ([]sockFilter, error) {
	var p bpf
	p.stubRange()
	p.ld(sdNr)
	p.jeq(unix.SYS_RT_SIGRETURN, lAllow, "")
	p.jeq(unix.SYS_EXIT, lAllow, "")
	p.jeq(unix.SYS_FUTEX, "futex", "")
	if !fsgsbase {
		p.jeq(unix.SYS_ARCH_PRCTL, "arch_prctl", "")
	}
	p.ret(seccompRetKillProcess)

	p.label("futex")
	p.ld(sdArgs)
	p.jeq(uint32(stateAddr), "", lKill)
	p.ld(sdArgs + 4)
	p.jeq(uint32(stateAddr>>32), "", lKill)
	p.ld(sdArgs + 8 + 4)
	p.jeq(0, "", lKill)
	p.ld(sdArgs + 8)
	p.jeq(futexOpWait, lAllow, "")
	p.jeq(futexOpWake, lAllow, lKill)

	if !fsgsbase {
		p.label("arch_prctl")
		p.ld(sdArgs + 4)
		p.jeq(0, "", lKill)
		p.ld(sdArgs)
		p.jeq(archSetFS, lAllow, "")
		p.jeq(archSetGS, lAllow, lKill)
	}
	p.tail()
	return p.assemble()
}

// seccompFilterFlags are the flags both filters are installed with.
var seccompFilterFlags uintptr = 0
