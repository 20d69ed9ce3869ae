package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// python3 is the system interpreter the acceptance commands name.
const python3 = "/usr/bin/python3"

// needTool skips the test when a host program it runs is missing, saying
// which package provides it.
func needTool(t *testing.T, path, pkg string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not installed (apt-get install %s)", path, pkg)
	}
}

// TestCommands runs real programs natively and in the sandbox and requires
// the same stdout and status.
func TestCommands(t *testing.T) {
	for _, tc := range []struct {
		name       string
		argv       []string
		tool, pkg  string
		wantStdout string // checked against native too; "" = not checked
		wantStatus int
	}{
		{name: "echo", argv: []string{"/bin/echo", "hello"}, wantStdout: "hello\n"},
		{name: "true", argv: []string{"/bin/true"}},
		{name: "false", argv: []string{"/bin/false"}, wantStatus: 1},
		{name: "sh exit 7", argv: []string{"/bin/sh", "-c", "exit 7"}, wantStatus: 7},
		{name: "sh pipeline loop", argv: []string{"/bin/sh", "-c", "for i in 1 2 3; do echo $i | cat; done | wc -l"}, wantStdout: "3\n"},
		{name: "sh builtins", argv: []string{"/bin/sh", "-c", `x=4; echo "$((x * 10 + 2))"; echo "$0"`}, wantStdout: "42\n/bin/sh\n"},
		{name: "cat os-release", argv: []string{"/bin/cat", "/etc/os-release"}},
		{name: "ls -la /usr/bin", argv: []string{"/bin/ls", "-la", "/usr/bin"}},
		{name: "ls -la /etc", argv: []string{"/bin/ls", "-la", "--time-style=+", "/etc"}},
		{name: "ls missing", argv: []string{"/bin/ls", "/nonexistent-runsc-lite"}, wantStatus: 2},
		{
			name: "busybox pipeline",
			argv: []string{"/bin/busybox", "sh", "-c", "echo hello | /bin/busybox tr a-z A-Z | /bin/busybox rev"},
			tool: "/bin/busybox", pkg: "busybox-static",
			wantStdout: "OLLEH\n",
		},
		{
			name: "busybox sh loop",
			argv: []string{"/bin/busybox", "sh", "-c", `i=0; while [ $i -lt 20 ]; do echo $i | /bin/busybox tr 0-9 a-j | /bin/busybox wc -c; i=$((i+1)); done | /bin/busybox sort | /bin/busybox uniq -c`},
			tool: "/bin/busybox", pkg: "busybox-static",
		},
		{
			name: "busybox seq sort head tr",
			argv: []string{"/bin/busybox", "sh", "-c", "seq 1 20000 | sort -rn | head -3 | tr 0-9 a-j"},
			tool: "/bin/busybox", pkg: "busybox-static",
			wantStdout: "caaaa\nbjjjj\nbjjji\n",
		},
		{
			name: "busybox exit status of a pipeline",
			argv: []string{"/bin/busybox", "sh", "-c", "/bin/busybox true | /bin/busybox sh -c 'exit 5'"},
			tool: "/bin/busybox", pkg: "busybox-static",
			wantStatus: 5,
		},
		{
			name: "python3 json listdir",
			argv: []string{python3, "-c", `import json,os,sys; print(json.dumps(sorted(os.listdir("/etc"))[:5]), sys.version_info[0])`},
			tool: python3, pkg: "python3",
		},
		{
			name: "python3 enosys",
			argv: []string{python3, "-c", `import ctypes,os; libc=ctypes.CDLL(None, use_errno=True); r=libc.syscall(400); print(r, os.strerror(ctypes.get_errno()))`},
			tool: python3, pkg: "python3",
			wantStdout: "-1 Function not implemented\n",
		},
		{
			name: "python3 exit status",
			argv: []string{python3, "-c", "import sys; sys.exit(3)"},
			tool: python3, pkg: "python3",
			wantStatus: 3,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.tool != "" {
				needTool(t, tc.tool, tc.pkg)
			}
			needTool(t, tc.argv[0], "coreutils")
			native := runNative(t, tc.argv, runOpts{})
			if native.status != tc.wantStatus || (tc.wantStdout != "" && native.stdout != tc.wantStdout) {
				t.Fatalf("native run is not as expected (want status %d, stdout %q)\n%s", tc.wantStatus, tc.wantStdout, native)
			}
			sandbox := runSandbox(t, tc.argv, runOpts{})
			if sandbox.stdout != native.stdout || sandbox.status != native.status {
				t.Errorf("sandbox differs from native\n--- native:\n%s\n--- sandbox:\n%s\n--- diff:\n%s",
					native, sandbox, lineDiff(native.stdout, sandbox.stdout))
			}
		})
	}
}

// TestOverlayWrite: a guest can create a file under /etc and read it back,
// and the host never sees it: writes land in the sandbox's overlay.
func TestOverlayWrite(t *testing.T) {
	needTool(t, python3, "python3")
	var rnd [8]byte
	rand.Read(rnd[:])
	path := "/etc/runsc-lite-test-" + hex.EncodeToString(rnd[:])
	t.Cleanup(func() {
		if _, err := os.Lstat(path); err == nil {
			t.Errorf("%s exists on the host after the sandbox wrote it; removing", path)
			os.Remove(path)
		}
	})
	script := `import os,sys
p = sys.argv[1]
with open(p, "w") as f:
    f.write("written in the sandbox\n")
print(open(p).read(), end="")
print(os.path.exists(p), os.stat(p).st_size)
os.remove(p)
print(os.path.exists(p))
with open(p, "w") as f:
    f.write("left behind\n")
`
	r := runSandbox(t, []string{python3, "-c", script, path}, runOpts{})
	want := "written in the sandbox\nTrue 23\nFalse\n"
	if r.status != 0 || r.stdout != want {
		t.Errorf("got\n%s\nwant stdout %q, status 0", r, want)
	}
	if _, err := os.Lstat(path); err == nil {
		t.Errorf("%s leaked to the host", path)
	}
}

// TestStrace checks --strace and --strace-log: the guest's syscalls are
// printed with decoded arguments, and the guest's own output is untouched.
func TestStrace(t *testing.T) {
	bin := probe(t, "hello", "static")
	t.Run("stderr", func(t *testing.T) {
		r := runSandbox(t, []string{bin}, runOpts{sandboxFlags: []string{"--strace"}})
		if r.status != 0 || r.stdout != "hello, world\n" {
			t.Fatalf("guest output changed by --strace\n%s", r)
		}
		checkStraceLog(t, r.stderr)
	})
	t.Run("log file", func(t *testing.T) {
		log := filepath.Join(t.TempDir(), "strace.log")
		r := runSandbox(t, []string{bin}, runOpts{sandboxFlags: []string{"--strace", "--strace-log", log}})
		if r.status != 0 || r.stdout != "hello, world\n" {
			t.Fatalf("guest output changed by --strace\n%s", r)
		}
		b, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		checkStraceLog(t, string(b))
		if strings.Contains(r.stderr, `write(1, "hello, world\n", 13)`) {
			t.Errorf("strace output went to stderr too:\n%s", r.stderr)
		}
	})
	t.Run("errors and paths", func(t *testing.T) {
		bin := probe(t, "fileops", "static")
		dir := scratch(t, "fileops")
		r := runSandbox(t, []string{bin, dir}, runOpts{sandboxFlags: []string{"--strace"}})
		for _, want := range []string{
			`mkdir("` + dir + `", 0755) = 0`,
			`O_RDWR|O_CREAT|O_EXCL, 0644) = `,
			`read(9999, `,
			`= -1 EBADF (Bad file descriptor)`,
			`= -1 ENOENT (No such file or directory)`,
			`= -1 EFAULT (Bad address)`,
			`"hello world\n"`,
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("strace output lacks %q", want)
			}
		}
		if t.Failed() {
			t.Logf("stderr:\n%s", r.stderr)
		}
	})
}

func checkStraceLog(t *testing.T, log string) {
	t.Helper()
	want := `[pid 1] write(1, "hello, world\n", 13) = 13`
	if !strings.Contains(log, want) {
		t.Errorf("strace output lacks %q:\n%s", want, log)
	}
	if !strings.Contains(log, "[pid 1] exit_group(0) = ?") {
		t.Errorf("strace output lacks exit_group:\n%s", log)
	}
}

// TestUnimplementedLogged: a syscall the sandbox does not implement fails
// with ENOSYS and is logged by name.
func TestUnimplementedLogged(t *testing.T) {
	bin := probe(t, "enosys", "static")
	r := runSandbox(t, []string{bin}, runOpts{})
	if r.status != 0 || !strings.Contains(r.stdout, "syscall(180 nfsservctl): ENOSYS") {
		t.Fatalf("enosys probe failed\n%s", r)
	}
	if !strings.Contains(r.stderr, "nfsservctl") {
		t.Errorf("stderr does not name the unimplemented syscall nfsservctl:\n%s", r.stderr)
	}
}

// TestSyscallsCommand checks `runsc-lite syscalls`.
func TestSyscallsCommand(t *testing.T) {
	bin := runsc(t)
	out := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
		defer cancel()
		b, err := exec.CommandContext(ctx, bin, append([]string{"syscalls"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("runsc-lite syscalls %v: %v\n%s", args, err, b)
		}
		return string(b)
	}
	all := out()
	for _, want := range []string{"NR", "read", "nfsservctl", "unimplemented", "io_uring_setup"} {
		if !strings.Contains(all, want) {
			t.Errorf("runsc-lite syscalls lacks %q", want)
		}
	}
	if n := strings.Count(all, "\n"); n < 300 {
		t.Errorf("runsc-lite syscalls printed %d lines, want one per syscall (>300)", n)
	}
	supported := out("--supported")
	for _, line := range strings.Split(supported, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[2] == "unimplemented" {
			t.Errorf("--supported lists an unimplemented syscall: %s", line)
		}
	}
}
