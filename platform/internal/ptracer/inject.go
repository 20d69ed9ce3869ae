package ptracer

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
)

// Inject runs one syscall in stopped stub thread tid from the `syscall;
// int3` pair at site, and returns its result. The thread's registers are
// not restored: callers load their own before resuming it.
func Inject(tid int, site uint64, nr uintptr, args [6]uintptr) (uintptr, error) {
	var regs linux.PtraceRegs
	if err := GetRegs(tid, &regs); err != nil {
		return 0, os.NewSyscallError("ptrace(PTRACE_GETREGS)", err)
	}
	regs.Rip = site
	regs.Rax = uint64(nr)
	// orig_rax = -1 keeps the kernel from treating this as a syscall to
	// restart.
	regs.Orig_rax = ^uint64(0)
	regs.Rdi, regs.Rsi, regs.Rdx = uint64(args[0]), uint64(args[1]), uint64(args[2])
	regs.R10, regs.R8, regs.R9 = uint64(args[3]), uint64(args[4]), uint64(args[5])
	if err := SetRegs(tid, &regs); err != nil {
		return 0, os.NewSyscallError("ptrace(PTRACE_SETREGS)", err)
	}
	if err := Raw(unix.PTRACE_CONT, tid, 0, 0); err != nil {
		return 0, os.NewSyscallError("ptrace(PTRACE_CONT)", err)
	}
	for {
		ws, err := Wait4(tid)
		if err != nil {
			return 0, fmt.Errorf("wait for injected syscall %d: %w", nr, err)
		}
		if ws.Exited() || ws.Signaled() {
			return 0, fmt.Errorf("stub died during injected syscall %d: status %#x", nr, uint32(ws))
		}
		if ws.Stopped() && ws.StopSignal() == unix.SIGTRAP && ws.TrapCause() == 0 {
			break
		}
		// Any other stop (a stray signal) is suppressed.
		if err := Raw(unix.PTRACE_CONT, tid, 0, 0); err != nil {
			return 0, os.NewSyscallError("ptrace(PTRACE_CONT)", err)
		}
	}
	if err := GetRegs(tid, &regs); err != nil {
		return 0, os.NewSyscallError("ptrace(PTRACE_GETREGS)", err)
	}
	if int64(regs.Rax) < 0 && int64(regs.Rax) > -4096 {
		return 0, syscall.Errno(-int64(regs.Rax))
	}
	return uintptr(regs.Rax), nil
}
