package arch

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// Memory is the guest memory a signal frame is written to.
type Memory interface {
	CopyIn(addr hostarch.Addr, dst []byte) (int, error)
	CopyOut(addr hostarch.Addr, src []byte) (int, error)
}

// Layout of struct rt_sigframe (arch/x86/include/asm/sigframe.h) and
// struct ucontext/sigcontext (<asm/ucontext.h>, <asm/sigcontext.h>).
const (
	frameUContext  = 8                // after pretcode
	ucStack        = 16               // uc_flags, uc_link
	ucMContext     = 40               // struct sigcontext, 256 bytes
	ucSigmask      = ucMContext + 256 // 296
	ucontextSize   = ucSigmask + 8    // 304
	frameInfo      = frameUContext + ucontextSize
	frameSize      = frameInfo + linux.SignalInfoSize // 440
	scFPState      = 184                              // sigcontext.fpstate
	scOldmask      = 168
	scErr          = 152
	scTrapno       = 160
	scCR2          = 176
	redZone        = 128
	fxsaveSize     = 512
	fpSWBytes      = 464 // struct _fpx_sw_bytes inside the fxsave area
	fpXStateMagic1 = 0x46505853
	fpXStateMagic2 = 0x46505845

	ucFPXState        = 0x1
	ucSigcontextSS    = 0x2
	ucStrictRestoreSS = 0x4
	eflagsDF          = 0x400
	eflagsTF          = 0x100
	eflagsRF          = 0x10000
	fixEflags         = 0x50dd5 // AC|OF|DF|TF|SF|ZF|AF|PF|CF|RF: what sigreturn may change.
	ssOnStack         = 1
	ssDisable         = 2
	defaultMXCSR      = 0x1f80
	defaultFCW        = 0x37f
)

// SignalStack is a sigaltstack.
type SignalStack struct {
	SP    uint64
	Flags int32
	Size  uint64
}

// Contains reports whether sp lies on the stack.
func (s SignalStack) Contains(sp uint64) bool {
	return s.Size != 0 && sp > s.SP && sp <= s.SP+s.Size
}

// defaultFP returns the FP state of a fresh thread (fninit + default MXCSR),
// used when the platform cannot supply the live state.
func defaultFP() []byte {
	b := make([]byte, fxsaveSize)
	binary.LittleEndian.PutUint16(b[0:], defaultFCW)
	binary.LittleEndian.PutUint32(b[24:], defaultMXCSR)
	return b
}

// regsOrder is the order of the general registers in struct sigcontext.
func (s *State) regsOrder() [18]*uint64 {
	r := &s.Regs
	return [18]*uint64{&r.R8, &r.R9, &r.R10, &r.R11, &r.R12, &r.R13, &r.R14, &r.R15,
		&r.Rdi, &r.Rsi, &r.Rbp, &r.Rbx, &r.Rdx, &r.Rax, &r.Rcx, &r.Rsp, &r.Rip, &r.Eflags}
}

// SignalSetup builds a signal frame for a handler and points the registers
// at it, as arch/x86/kernel/signal.c:setup_rt_frame does. sp is where the
// frame goes (the current stack, or the top of the alternate stack);
// onAltStack says which. oldMask is saved in the frame for sigreturn.
func (s *State) SignalSetup(mem Memory, info *linux.SignalInfo, handler, restorer uint64, sp uint64, onAltStack bool, alt SignalStack, oldMask uint64) error {
	if !onAltStack {
		// The x86-64 ABI's red zone below rsp belongs to the interrupted code.
		sp -= redZone
	}
	fp := s.FP
	xsave := len(fp) > fxsaveSize
	if len(fp) == 0 {
		fp = defaultFP()
	}
	fpSize := uint64(len(fp))
	if xsave {
		fpSize += 4 // magic2 after the xsave area
	}
	fpAddr := (sp - fpSize) &^ 63
	frame := ((fpAddr - frameSize) &^ 15) - 8

	b := make([]byte, frameSize)
	le := binary.LittleEndian
	le.PutUint64(b[0:], restorer)
	uc := b[frameUContext:]
	flags := uint64(ucSigcontextSS | ucStrictRestoreSS)
	if xsave {
		flags |= ucFPXState
	}
	le.PutUint64(uc[0:], flags)
	// uc_stack records the alternate stack in force, as Linux saves it.
	le.PutUint64(uc[ucStack:], alt.SP)
	stFlags := alt.Flags
	if alt.Size == 0 {
		stFlags = ssDisable
	} else if alt.Contains(sp) {
		stFlags |= ssOnStack
	}
	le.PutUint32(uc[ucStack+8:], uint32(stFlags))
	le.PutUint64(uc[ucStack+16:], alt.Size)
	sc := uc[ucMContext:]
	for i, p := range s.regsOrder() {
		le.PutUint64(sc[8*i:], *p)
	}
	le.PutUint16(sc[144:], uint16(s.Regs.Cs))
	le.PutUint16(sc[150:], uint16(s.Regs.Ss))
	if info.Signo == linux.SIGSEGV || info.Signo == linux.SIGBUS {
		le.PutUint64(sc[scCR2:], info.Addr)
		le.PutUint64(sc[scTrapno:], 14) // #PF
	}
	le.PutUint64(sc[scOldmask:], oldMask)
	le.PutUint64(sc[scFPState:], fpAddr)
	le.PutUint64(uc[ucSigmask:], oldMask)
	info.Marshal(b[frameInfo:])

	fpBuf := make([]byte, fpSize)
	copy(fpBuf, fp)
	if xsave {
		// struct _fpx_sw_bytes tells user code (and our sigreturn) that an
		// xsave area follows the legacy one.
		sw := fpBuf[fpSWBytes:]
		le.PutUint32(sw[0:], fpXStateMagic1)
		le.PutUint32(sw[4:], uint32(fpSize))             // extended_size
		le.PutUint64(sw[8:], le.Uint64(fp[fxsaveSize:])) // xfeatures: the saved components
		le.PutUint32(sw[16:], uint32(len(fp)))           // xstate_size
		le.PutUint32(fpBuf[len(fp):], fpXStateMagic2)
	}
	if _, err := mem.CopyOut(hostarch.Addr(fpAddr), fpBuf); err != nil {
		return errno.EFAULT
	}
	if _, err := mem.CopyOut(hostarch.Addr(frame), b); err != nil {
		return errno.EFAULT
	}
	s.Regs.Rip = handler
	s.Regs.Rsp = frame
	s.Regs.Rdi = uint64(info.Signo)
	s.Regs.Rsi = frame + frameInfo
	s.Regs.Rdx = frame + frameUContext
	s.Regs.Rax = 0
	s.Regs.Eflags &^= eflagsDF | eflagsRF | eflagsTF
	s.Regs.Cs, s.Regs.Ss = UserCS, UserDS
	s.Regs.Orig_rax = ^uint64(0)
	return nil
}

// SignalRestore undoes SignalSetup for rt_sigreturn: the restorer has
// popped pretcode, so rsp points at the ucontext. It returns the signal
// mask and alternate stack saved in the frame. The FP state is loaded into
// s.FP with FPValid set, so the platform installs it before the next run.
func (s *State) SignalRestore(mem Memory) (mask uint64, alt SignalStack, err error) {
	ucAddr := s.Regs.Rsp
	uc := make([]byte, ucontextSize)
	if _, err := mem.CopyIn(hostarch.Addr(ucAddr), uc); err != nil {
		return 0, alt, errno.EFAULT
	}
	le := binary.LittleEndian
	sc := uc[ucMContext:]
	oldEflags := s.Regs.Eflags
	for i, p := range s.regsOrder() {
		*p = le.Uint64(sc[8*i:])
	}
	s.Regs.Eflags = (oldEflags &^ fixEflags) | (s.Regs.Eflags & fixEflags)
	s.Regs.Cs, s.Regs.Ss = UserCS, UserDS
	// No syscall is in progress after sigreturn: nothing to restart.
	s.Regs.Orig_rax = ^uint64(0)
	mask = le.Uint64(uc[ucSigmask:])
	alt = SignalStack{SP: le.Uint64(uc[ucStack:]), Flags: int32(le.Uint32(uc[ucStack+8:])), Size: le.Uint64(uc[ucStack+16:])}

	fpAddr := le.Uint64(sc[scFPState:])
	if fpAddr == 0 {
		// "If fpstate is NULL the FPU state is reset" -
		// arch/x86/kernel/fpu/signal.c:fpu__restore_sig.
		s.FP, s.FPValid = defaultFP(), true
		return mask, alt, nil
	}
	legacy := make([]byte, fxsaveSize)
	if _, err := mem.CopyIn(hostarch.Addr(fpAddr), legacy); err != nil {
		return 0, alt, errno.EFAULT
	}
	fp := legacy
	sw := legacy[fpSWBytes:]
	if le.Uint32(sw[0:]) == fpXStateMagic1 && len(s.FP) > fxsaveSize {
		size := le.Uint32(sw[16:])
		// Only an area the same size as the live state can be loaded back.
		if int(size) == len(s.FP) {
			fp = make([]byte, size)
			if _, err := mem.CopyIn(hostarch.Addr(fpAddr), fp); err != nil {
				return 0, alt, errno.EFAULT
			}
		}
	}
	if len(s.FP) > len(fp) {
		// Keep the extended components we did not get back.
		n := append([]byte(nil), s.FP...)
		copy(n, fp)
		fp = n
	}
	// The software-reserved bytes are ours, not state.
	clear(fp[fpSWBytes:fxsaveSize])
	s.FP, s.FPValid = fp, true
	return mask, alt, nil
}
