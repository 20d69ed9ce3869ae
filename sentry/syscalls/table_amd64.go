// Package syscalls holds the guest syscall table and its handlers. The
// table is data: each family file (sys_<family>.go) declares a map of its
// entries next to its handlers, and Table merges them with the names of
// every x86-64 syscall number, so that every number has an entry.
package syscalls

import (
	"fmt"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// families are the per-family entry maps, merged by Table.
var families = []map[uintptr]kernel.Syscall{
	fileSyscalls,
	mmSyscalls,
	processSyscalls,
	timeSyscalls,
	execSyscalls,
	signalSyscalls,
	futexSyscalls,
	xattrSyscalls,
	threadSyscalls,
	pipeSyscalls,
	pollSyscalls,
	timerSyscalls,
	schedSyscalls,
	credSyscalls,
	mountSyscalls,
	miscSyscalls,
	socketSyscalls,
	seccompSyscalls,
}

// Table builds the syscall table. It panics if two families claim a number
// or an entry's name disagrees with the syscall's real name.
func Table() *kernel.SyscallTable {
	max := uintptr(0)
	for n := range names {
		max = maxOf(max, n)
	}
	t := &kernel.SyscallTable{Table: make([]kernel.Syscall, max+1)}
	for n, name := range names {
		t.Table[n] = kernel.Syscall{Name: name, Support: kernel.SupportUnimplemented, Errno: errno.ENOSYS}
	}
	claimed := map[uintptr]bool{}
	for _, fam := range families {
		for n, e := range fam {
			if claimed[n] {
				panic(fmt.Sprintf("syscall %d (%s) claimed twice", n, e.Name))
			}
			claimed[n] = true
			if e.Name != names[n] {
				panic(fmt.Sprintf("syscall %d is %q, not %q", n, names[n], e.Name))
			}
			t.Table[n] = e
		}
	}
	return t
}

func maxOf(a, b uintptr) uintptr {
	if a > b {
		return a
	}
	return b
}
