package syscalls

import "testing"

// TestFileSyscallTable checks that every file syscall entry is installed
// under its real x86-64 name with a handler (Table panics on a wrong name
// or a number claimed twice).
func TestFileSyscallTable(t *testing.T) {
	table := Table()
	for n, e := range fileSyscalls {
		got := table.Lookup(n)
		if got == nil || got.Name != e.Name || got.Fn == nil {
			t.Errorf("syscall %d (%s) not installed with a handler", n, e.Name)
		}
		if e.Support == 0 {
			t.Errorf("syscall %d (%s) has no support level", n, e.Name)
		}
	}
	for _, name := range []string{"open", "openat", "read", "write", "getdents64", "statx", "newfstatat", "faccessat2", "renameat2", "utimensat"} {
		found := false
		for _, e := range fileSyscalls {
			found = found || e.Name == name
		}
		if !found {
			t.Errorf("%s missing", name)
		}
	}
}
