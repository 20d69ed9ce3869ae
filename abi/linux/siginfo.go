package linux

import "encoding/binary"

// SignalInfo is the part of siginfo_t (<asm-generic/siginfo.h>, 128 bytes)
// the sentry fills. Fields overlay each other in the kernel's union; which
// ones are meaningful depends on Signo and Code.
type SignalInfo struct {
	Signo int32
	Errno int32
	Code  int32
	// Pid and UID: kill, sigqueue, SIGCHLD.
	Pid int32
	UID uint32
	// Status is SIGCHLD's exit code or signal.
	Status int32
	// Addr is the faulting address of SIGSEGV/SIGBUS/SIGFPE/SIGILL/SIGTRAP.
	Addr uint64
	// Value is sigqueue's sigval; TimerID and Overrun are POSIX timers'.
	Value   uint64
	TimerID int32
	Overrun int32
	// Syscall and Arch are SIGSYS's (seccomp) fields; Addr is the call
	// address then.
	Syscall int32
	Arch    uint32
	// Raw holds a siginfo copied in from the guest (rt_sigqueueinfo),
	// which is passed on unchanged.
	Raw *[128]byte
}

// SignalInfoSize is sizeof(siginfo_t).
const SignalInfoSize = 128

// si_code values.
const (
	SI_USER    = 0
	SI_KERNEL  = 0x80
	SI_QUEUE   = -1
	SI_TIMER   = -2
	SI_MESGQ   = -3
	SI_ASYNCIO = -4
	SI_SIGIO   = -5
	SI_TKILL   = -6

	CLD_EXITED    = 1
	CLD_KILLED    = 2
	CLD_DUMPED    = 3
	CLD_TRAPPED   = 4
	CLD_STOPPED   = 5
	CLD_CONTINUED = 6

	SEGV_MAPERR = 1
	SEGV_ACCERR = 2
	BUS_ADRERR  = 2
	TRAP_BRKPT  = 1
	SYS_SECCOMP = 1
)

// Marshal writes info in the kernel's layout.
func (si *SignalInfo) Marshal(b []byte) {
	if si.Raw != nil {
		copy(b, si.Raw[:])
		return
	}
	clear(b[:SignalInfoSize])
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(si.Signo))
	le.PutUint32(b[4:], uint32(si.Errno))
	le.PutUint32(b[8:], uint32(si.Code))
	// The union starts at offset 16.
	switch {
	case si.Signo == SIGSYS && si.Code == SYS_SECCOMP:
		le.PutUint64(b[16:], si.Addr)
		le.PutUint32(b[24:], uint32(si.Syscall))
		le.PutUint32(b[28:], si.Arch)
	case si.Signo == SIGCHLD && si.Code > 0:
		le.PutUint32(b[16:], uint32(si.Pid))
		le.PutUint32(b[20:], si.UID)
		le.PutUint32(b[24:], uint32(si.Status))
	case si.Code > 0 && si.Code != SI_KERNEL && (si.Signo == SIGSEGV || si.Signo == SIGBUS ||
		si.Signo == SIGFPE || si.Signo == SIGILL || si.Signo == SIGTRAP):
		le.PutUint64(b[16:], si.Addr)
	case si.Code == SI_TIMER:
		le.PutUint32(b[16:], uint32(si.TimerID))
		le.PutUint32(b[20:], uint32(si.Overrun))
		le.PutUint64(b[24:], si.Value)
	default:
		le.PutUint32(b[16:], uint32(si.Pid))
		le.PutUint32(b[20:], si.UID)
		le.PutUint64(b[24:], si.Value)
	}
}
