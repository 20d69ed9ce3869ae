package syscalls

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// credSyscalls change the sandbox's own credentials; host credentials are
// never touched.
var credSyscalls = map[uintptr]kernel.Syscall{
	105: {Name: "setuid", Fn: Setuid, Support: kernel.SupportFull},
	106: {Name: "setgid", Fn: Setgid, Support: kernel.SupportFull},
	113: {Name: "setreuid", Fn: Setreuid, Support: kernel.SupportFull},
	114: {Name: "setregid", Fn: Setregid, Support: kernel.SupportFull},
	116: {Name: "setgroups", Fn: Setgroups, Support: kernel.SupportFull},
	117: {Name: "setresuid", Fn: Setresuid, Support: kernel.SupportFull},
	119: {Name: "setresgid", Fn: Setresgid, Support: kernel.SupportFull},
	122: {Name: "setfsuid", Fn: Setfsuid, Support: kernel.SupportFull},
	123: {Name: "setfsgid", Fn: Setfsgid, Support: kernel.SupportFull},
	125: {Name: "capget", Fn: Capget, Support: kernel.SupportFull},
	126: {Name: "capset", Fn: Capset, Support: kernel.SupportPartial, Note: "Only the calling thread (pid 0 or its own tid)."},
}

// Setuid implements Linux syscall setuid(2).
func Setuid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.SetUID(args[0].Uint())
}

// Setgid implements Linux syscall setgid(2).
func Setgid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.SetGID(args[0].Uint())
}

// Setreuid implements Linux syscall setreuid(2).
func Setreuid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.SetReUID(args[0].Uint(), args[1].Uint())
}

// Setregid implements Linux syscall setregid(2).
func Setregid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.SetReGID(args[0].Uint(), args[1].Uint())
}

// Setresuid implements Linux syscall setresuid(2).
func Setresuid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.SetResUID(args[0].Uint(), args[1].Uint(), args[2].Uint())
}

// Setresgid implements Linux syscall setresgid(2).
func Setresgid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.SetResGID(args[0].Uint(), args[1].Uint(), args[2].Uint())
}

// Setfsuid implements Linux syscall setfsuid(2).
func Setfsuid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.SetFSUID(args[0].Uint())), nil
}

// Setfsgid implements Linux syscall setfsgid(2).
func Setfsgid(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.SetFSGID(args[0].Uint())), nil
}

// ngroupsMax is NGROUPS_MAX.
const ngroupsMax = 65536

// Setgroups implements Linux syscall setgroups(2).
func Setgroups(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	size, addr := args[0].Int(), args[1].Pointer()
	if size < 0 || size > ngroupsMax {
		return 0, errno.EINVAL
	}
	b := make([]byte, 4*int(size))
	if _, err := t.CopyInBytes(addr, b); err != nil {
		return 0, errno.EFAULT
	}
	groups := make([]auth.KGID, size)
	for i := range groups {
		groups[i] = auth.KGID(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return 0, t.SetGroups(groups)
}

// Capability ABI versions from <linux/capability.h>.
const (
	capVersion1 = 0x19980330
	capVersion2 = 0x20071026
	capVersion3 = 0x20080522
)

// capHeader reads struct __user_cap_header_struct and returns how many
// 32-bit words each set has; an unknown version is rewritten to v3 and
// fails with EINVAL, as Linux does, so that libcap can probe.
func capHeader(t *kernel.Task, addr arch.SyscallArgument) (words int, pid int32, err error) {
	var b [8]byte
	if _, err := t.CopyInBytes(addr.Pointer(), b[:]); err != nil {
		return 0, 0, errno.EFAULT
	}
	switch binary.LittleEndian.Uint32(b[:]) {
	case capVersion1:
		words = 1
	case capVersion2, capVersion3:
		words = 2
	default:
		binary.LittleEndian.PutUint32(b[:], capVersion3)
		if _, err := t.CopyOutBytes(addr.Pointer(), b[:4]); err != nil {
			return 0, 0, errno.EFAULT
		}
		return 0, 0, errno.EINVAL
	}
	pid = int32(binary.LittleEndian.Uint32(b[4:]))
	if pid < 0 {
		return 0, 0, errno.EINVAL
	}
	return words, pid, nil
}

// Capget implements Linux syscall capget(2).
func Capget(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	words, pid, err := capHeader(t, args[0])
	if err != nil {
		return 0, err
	}
	target := t
	if pid != 0 {
		if target = t.Kernel().TaskByID(kernel.ThreadID(pid)); target == nil {
			return 0, errno.ESRCH
		}
	}
	if args[1].Pointer() == 0 {
		return 0, nil
	}
	c := target.Credentials()
	b := make([]byte, 12*words)
	for i := 0; i < words; i++ {
		binary.LittleEndian.PutUint32(b[12*i:], uint32(c.EffectiveCaps>>(32*i)))
		binary.LittleEndian.PutUint32(b[12*i+4:], uint32(c.PermittedCaps>>(32*i)))
		binary.LittleEndian.PutUint32(b[12*i+8:], uint32(c.InheritableCaps>>(32*i)))
	}
	if _, err := t.CopyOutBytes(args[1].Pointer(), b); err != nil {
		return 0, errno.EFAULT
	}
	return 0, nil
}

// Capset implements Linux syscall capset(2).
func Capset(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	words, pid, err := capHeader(t, args[0])
	if err != nil {
		return 0, err
	}
	if pid != 0 && kernel.ThreadID(pid) != t.TID() {
		return 0, errno.EPERM
	}
	b := make([]byte, 12*words)
	if _, err := t.CopyInBytes(args[1].Pointer(), b); err != nil {
		return 0, errno.EFAULT
	}
	var eff, perm, inh uint64
	for i := 0; i < words; i++ {
		eff |= uint64(binary.LittleEndian.Uint32(b[12*i:])) << (32 * i)
		perm |= uint64(binary.LittleEndian.Uint32(b[12*i+4:])) << (32 * i)
		inh |= uint64(binary.LittleEndian.Uint32(b[12*i+8:])) << (32 * i)
	}
	return 0, t.SetCapabilities(eff, perm, inh)
}
