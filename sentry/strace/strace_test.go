package strace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/syscalls"
)

// fakeMemory is guest memory made of disjoint regions; anything else faults.
type fakeMemory map[hostarch.Addr][]byte

func (m fakeMemory) find(addr hostarch.Addr) []byte {
	for base, b := range m {
		if addr >= base && addr < base+hostarch.Addr(len(b)) {
			return b[addr-base:]
		}
	}
	return nil
}

func (m fakeMemory) CopyInBytes(addr hostarch.Addr, dst []byte) (int, error) {
	n := copy(dst, m.find(addr))
	if n < len(dst) {
		return n, errno.EFAULT
	}
	return n, nil
}

func (m fakeMemory) CopyInString(addr hostarch.Addr, maxlen int) (string, error) {
	b := m.find(addr)
	if i := bytes.IndexByte(b, 0); i >= 0 && i <= maxlen {
		return string(b[:i]), nil
	}
	if len(b) > maxlen {
		return string(b[:maxlen]), errno.ENAMETOOLONG
	}
	return string(b), errno.EFAULT
}

func TestQuote(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		limit int
		cut   bool
		want  string
	}{
		{"plain", "hello", 32, false, `"hello"`},
		{"empty", "", 32, false, `""`},
		{"c escapes", "a\tb\nc\rd\ve\ff", 32, false, `"a\tb\nc\rd\ve\ff"`},
		{"quote and backslash", `say "hi" \o/`, 32, false, `"say \"hi\" \\o/"`},
		{"octal short", "\x00a\x7f", 32, false, `"\0a\177"`},
		{"octal padded before digit", "\x01" + "2", 32, false, `"\0012"`},
		{"octal before non-octal digit", "\x01" + "9", 32, false, `"\19"`},
		{"high bytes", "\xff\xfe", 32, false, `"\377\376"`},
		{"elf magic", "\x7fELF\x02\x01\x01", 32, false, `"\177ELF\2\1\1"`},
		{"cut by limit", "abcdef", 3, false, `"abc"...`},
		{"cut by caller", "abc", 32, true, `"abc"...`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := quote([]byte(tc.in), tc.limit, tc.cut); got != tc.want {
				t.Errorf("quote(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{"open rdonly", formatOpenFlags(0), "O_RDONLY"},
		{"open rdonly cloexec", formatOpenFlags(0x80000), "O_RDONLY|O_CLOEXEC"},
		{"open creat", formatOpenFlags(0x241), "O_WRONLY|O_CREAT|O_TRUNC"},
		{"open sync beats dsync", formatOpenFlags(0x101002), "O_RDWR|O_SYNC"},
		{"open dsync", formatOpenFlags(0x1000), "O_RDONLY|O_DSYNC"},
		{"open tmpfile", formatOpenFlags(0x410002), "O_RDWR|O_TMPFILE"},
		{"open directory", formatOpenFlags(0x90800), "O_RDONLY|O_NONBLOCK|O_DIRECTORY|O_CLOEXEC"},
		{"open unknown bit", formatOpenFlags(0x40000000), "O_RDONLY|0x40000000"},
		{"prot none", formatMmapProt(0), "PROT_NONE"},
		{"prot rw", formatMmapProt(3), "PROT_READ|PROT_WRITE"},
		{"prot rx", formatMmapProt(5), "PROT_READ|PROT_EXEC"},
		{"mmap anon", formatMmapFlags(0x22), "MAP_PRIVATE|MAP_ANONYMOUS"},
		{"mmap fixed noreplace", formatMmapFlags(0x100022), "MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE"},
		{"mmap shared fixed", formatMmapFlags(0x11), "MAP_SHARED|MAP_FIXED"},
		{"mmap denywrite", formatMmapFlags(0x812), "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE"},
		{"at none", formatFlags(0, atFlags), "0"},
		{"at nofollow", formatFlags(0x100, atFlags), "AT_SYMLINK_NOFOLLOW"},
		{"at empty path", formatFlags(0x1100, atFlags), "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH"},
		{"access F_OK", formatAccessMode(0), "F_OK"},
		{"access RW", formatAccessMode(6), "R_OK|W_OK"},
		{"signal kill", formatSignal(9), "SIGKILL"},
		{"signal rt", formatSignal(34), "SIGRTMIN+2"},
		{"signal bad", formatSignal(99), "99"},
		{"futex wait private", formatFutexOp(0x80), "FUTEX_WAIT_PRIVATE"},
		{"futex wake", formatFutexOp(1), "FUTEX_WAKE"},
		{"futex bitset realtime", formatFutexOp(0x189), "FUTEX_CLOCK_REALTIME|FUTEX_WAIT_BITSET_PRIVATE"},
		{"clone thread", formatCloneFlags(0x3d0f00), "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID"},
		{"clone fork", formatCloneFlags(0x1200011), "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"},
		{"clone zero", formatCloneFlags(0), "0"},
		{"socket type", formatSocketType(0x80001), "SOCK_STREAM|SOCK_CLOEXEC"},
		{"enum unknown", formatEnum(77, whenceNames), "77"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %s, want %s", tc.got, tc.want)
			}
		})
	}
}

func TestFormatReturn(t *testing.T) {
	for _, tc := range []struct {
		name string
		ret  retKind
		rv   uintptr
		err  error
		want string
	}{
		{"int", retInt, 3, nil, "3"},
		{"negative int", retInt, ^uintptr(0), nil, "-1"},
		{"address", retHex, 0x7f0000001000, nil, "0x7f0000001000"},
		{"errno", retInt, 0, errno.ENOENT, "-1 ENOENT (No such file or directory)"},
		{"enosys", retInt, 0, errno.ENOSYS, "-1 ENOSYS (Function not implemented)"},
		{"restart", retInt, 0, errno.ERESTARTSYS, "? ERESTARTSYS (To be restarted)"},
		{"other error", retInt, 0, errors.New("boom"), "-1 (boom)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatReturn(tc.ret, tc.rv, tc.err); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// testTable is a small syscall table with real x86-64 numbers.
func testTable() *kernel.SyscallTable {
	tbl := &kernel.SyscallTable{Table: make([]kernel.Syscall, 335)}
	for n, name := range map[int]string{
		0: "read", 1: "write", 9: "mmap", 19: "readv", 20: "writev", 12: "brk", 22: "pipe", 59: "execve",
		231: "exit_group", 257: "openat", 263: "unlinkat", 170: "sethostname",
		334: "rseq",
	} {
		tbl.Table[n] = kernel.Syscall{Name: name}
	}
	return tbl
}

func args(vs ...uintptr) arch.SyscallArguments {
	var a arch.SyscallArguments
	for n, v := range vs {
		a[n].Value = v
	}
	return a
}

func pointers(ps ...uintptr) []byte {
	b := make([]byte, 8*len(ps))
	for n, p := range ps {
		binary.LittleEndian.PutUint64(b[8*n:], uint64(p))
	}
	return b
}

func iovec(base, n uint64) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint64(b, base)
	binary.LittleEndian.PutUint64(b[8:], n)
	return b
}

func TestLines(t *testing.T) {
	mem := fakeMemory{
		0x1000: []byte("/etc/passwd\x00"),
		0x2000: []byte("root:x:0:0:root:/root:/bin/bash\nbin:x:1:1\n"),
		0x3000: []byte("hello\n"),
		0x4000: pointers(0x5000, 0x5100, 0),
		0x5000: []byte("/bin/echo\x00"),
		0x5100: []byte("hi\x00"),
		0x6000: []byte{3, 0, 0, 0, 4, 0, 0, 0},
		0x7000: []byte("dir\x00"),
		0x8000: append(iovec(0x3000, 5), iovec(0x3005, 1)...),
	}
	s := New(nil, testTable()).(*Strace)
	for _, tc := range []struct {
		name  string
		sysno uintptr
		args  arch.SyscallArguments
		rv    uintptr
		err   error
		want  string
	}{
		{"openat", 257, args(uintptr(0xffffffffffffff9c), 0x1000, 0x80000), 3, nil,
			`openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3`},
		{"openat enoent", 257, args(uintptr(0xffffffffffffff9c), 0x1000, 0), 0, errno.ENOENT,
			`openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = -1 ENOENT (No such file or directory)`},
		{"openat bad path", 257, args(5, 0xdead0000, 0x241, 0o644), 0, errno.EFAULT,
			`openat(5, 0xdead0000, O_WRONLY|O_CREAT|O_TRUNC, 0644) = -1 EFAULT (Bad address)`},
		{"openat creat zero mode", 257, args(3, 0x7000, 0xc1, 0), 4, nil,
			`openat(3, "dir", O_WRONLY|O_CREAT|O_EXCL, 000) = 4`},
		{"read cut", 0, args(3, 0x2000, 4096), 42, nil,
			`read(3, "root:x:0:0:root:/root:/bin/bash\n"..., 4096) = 42`},
		{"read short", 0, args(3, 0x2000, 4096), 4, nil, `read(3, "root", 4096) = 4`},
		{"read failed", 0, args(3, 1, 4096), 0, errno.EFAULT, `read(3, 0x1, 4096) = -1 EFAULT (Bad address)`},
		{"write", 1, args(1, 0x3000, 6), 6, nil, `write(1, "hello\n", 6) = 6`},
		{"mmap", 9, args(0, 8192, 3, 0x22, uintptr(0xffffffffffffffff), 0), 0x7f0000000000, nil,
			`mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000`},
		{"brk", 12, args(0), 0x555555559000, nil, `brk(NULL) = 0x555555559000`},
		{"pipe", 22, args(0x6000), 0, nil, `pipe([3, 4]) = 0`},
		{"pipe failed", 22, args(0x6000), 0, errno.EMFILE, `pipe(0x6000) = -1 EMFILE (Too many open files)`},
		{"execve", 59, args(0x5000, 0x4000, 0x9000), 0, nil, `execve("/bin/echo", ["/bin/echo", "hi"], 0x9000) = 0`},
		{"unlinkat", 263, args(uintptr(0xffffffffffffff9c), 0x7000, 0x200), 0, errno.ENOTEMPTY,
			`unlinkat(AT_FDCWD, "dir", AT_REMOVEDIR) = -1 ENOTEMPTY (Directory not empty)`},
		{"sethostname", 170, args(0x3000, 5), 0, errno.EPERM,
			`sethostname("hello", 5) = -1 EPERM (Operation not permitted)`},
		{"writev", 20, args(1, 0x8000, 2), 6, nil,
			`writev(1, [{iov_base="hello", iov_len=5}, {iov_base="\n", iov_len=1}], 2) = 6`},
		{"readv short", 19, args(0, 0x8000, 2), 3, nil,
			`readv(0, [{iov_base="hel", iov_len=5}, {iov_base="", iov_len=1}], 2) = 3`},
		{"readv failed", 19, args(0, 0x8000, 2), 0, errno.EINTR,
			`readv(0, 0x8000, 2) = -1 EINTR (Interrupted system call)`},
		{"unknown number", 400, args(1, 2, 3, 4, 5, 6), 0, errno.ENOSYS,
			`syscall_400(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS (Function not implemented)`},
		{"named but not decoded", 2, args(1), 0, errno.ENOSYS,
			`syscall_2(0x1, 0, 0, 0, 0, 0) = -1 ENOSYS (Function not implemented)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.enter("", mem, tc.sysno, tc.args)
			got := s.exitLine(c, mem, tc.args, tc.rv, tc.err)
			if got != tc.want+"\n" {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestNoReturn checks that exit_group is written at entry, since Exit is
// never called for it.
func TestNoReturn(t *testing.T) {
	var buf bytes.Buffer
	s := New(&buf, testTable())
	c := s.Enter(nil, 231, args(3))
	s.Exit(nil, 231, args(3), c, 0, nil)
	if got, want := buf.String(), "exit_group(3) = ?\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// lineWriter records each Write as one line, to check that lines are not
// split or interleaved.
type lineWriter struct {
	mu    sync.Mutex
	lines []string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines = append(w.lines, string(p))
	return len(p), nil
}

func TestConcurrentWholeLines(t *testing.T) {
	w := &lineWriter{}
	s := New(w, testTable())
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 100; n++ {
				c := s.Enter(nil, 12, args(0))
				s.Exit(nil, 12, args(0), c, 0x1000, nil)
			}
		}()
	}
	wg.Wait()
	if len(w.lines) != 800 {
		t.Fatalf("got %d writes, want 800", len(w.lines))
	}
	for _, l := range w.lines {
		if l != "brk(NULL) = 0x1000\n" {
			t.Fatalf("bad line %q", l)
		}
	}
}

// TestTableNames catches typos in syscallInfos: every decoded name must be a
// real x86-64 syscall name.
func TestTableNames(t *testing.T) {
	known := map[string]bool{}
	for _, e := range syscalls.Table().Table {
		known[e.Name] = true
	}
	for name, info := range syscallInfos {
		if !known[name] {
			t.Errorf("syscallInfos has unknown syscall %q", name)
		}
		if len(info.args) > 6 {
			t.Errorf("%s has %d arguments", name, len(info.args))
		}
		for n, a := range info.args {
			checkLenArg(t, name, info, n, a)
		}
	}
	if len(syscallInfos) < 80 {
		t.Errorf("only %d syscalls decoded, want at least 80", len(syscallInfos))
	}
}

// checkLenArg checks that argument n's lenArg names an argument of the
// right kind. An out address or getsockopt value needs its length pointer
// to be of a kind whose entry value Strace.enter keeps (argKind.hasInLen).
func checkLenArg(t *testing.T, name string, info syscallInfo, n int, a argSpec) {
	t.Helper()
	var pair argKind
	switch a.kind {
	case argInBuf, argInIovec, argOutIovec, argSockaddr, argSockoptVal:
		if a.lenArg <= n || a.lenArg >= len(info.args) {
			t.Errorf("%s argument %d: length argument %d out of range", name, n, a.lenArg)
		}
		return
	case argOutSockaddr:
		pair = argSockLenPtr
	case argOutSockoptVal:
		pair = argOptLenPtr
	case argSockLenPtr:
		pair = argOutSockaddr
	default:
		return
	}
	if a.lenArg < 0 || a.lenArg >= len(info.args) || info.args[a.lenArg].kind != pair {
		t.Errorf("%s argument %d: argument %d is not the length or address it pairs with", name, n, a.lenArg)
	}
}
