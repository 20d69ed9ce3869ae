package loader

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

func TestParseShebang(t *testing.T) {
	long := strings.Repeat("y", 300)
	for _, tc := range []struct {
		name       string
		line       string
		wantInterp string
		wantArgs   []string
		wantErr    error
	}{
		{name: "plain", line: "#!/bin/sh\n", wantInterp: "/bin/sh"},
		{name: "one argument", line: "#!/bin/sh -e\n", wantInterp: "/bin/sh", wantArgs: []string{"-e"}},
		{name: "blanks everywhere", line: "#! \t/bin/sh \t -e  -x \t\nrest", wantInterp: "/bin/sh", wantArgs: []string{"-e  -x"}},
		{name: "tab separator", line: "#!/usr/bin/env\tpython3\n", wantInterp: "/usr/bin/env", wantArgs: []string{"python3"}},
		{name: "no newline", line: "#!/bin/sh", wantInterp: "/bin/sh"},
		{name: "no newline with argument", line: "#!/bin/sh -x", wantInterp: "/bin/sh", wantArgs: []string{"-x"}},
		{name: "CRLF keeps the CR", line: "#!/bin/sh\r\n", wantInterp: "/bin/sh\r"},
		{name: "NUL ends the name", line: "#!/bin/sh\x00junk\n", wantInterp: "/bin/sh"},
		{name: "NUL after a blank is an empty argument", line: "#!/bin/sh \x00x\n", wantInterp: "/bin/sh", wantArgs: []string{""}},
		{name: "NUL inside the argument", line: "#!/bin/sh -a\x00-b\n", wantInterp: "/bin/sh", wantArgs: []string{"-a"}},
		{name: "argument truncated at the buffer", line: "#!/bin/sh " + long + "\n", wantInterp: "/bin/sh", wantArgs: []string{long[:255-len("#!/bin/sh ")]}},
		{name: "interpreter may be truncated", line: "#!/" + long + "\n", wantErr: errno.ENOEXEC},
		{name: "empty", line: "#!\n", wantErr: errno.ENOEXEC},
		{name: "only blanks", line: "#!  \t \n", wantErr: errno.ENOEXEC},
		{name: "only blanks, no newline", line: "#!" + strings.Repeat(" ", 300), wantErr: errno.ENOEXEC},
		// Linux parses an empty interpreter name here; opening "" fails.
		{name: "bare", line: "#!", wantInterp: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := make([]byte, binprmBufSize)
			copy(head, tc.line)
			interp, args, err := parseShebang(head)
			if err != tc.wantErr || interp != tc.wantInterp || !slices.Equal(args, tc.wantArgs) {
				t.Errorf("parseShebang(%q) = %q, %q, %v; want %q, %q, %v", tc.line, interp, args, err, tc.wantInterp, tc.wantArgs, tc.wantErr)
			}
		})
	}
}

// echoArgs prints its argv, each string NUL-terminated.
const echoArgs = `
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
	for (int i = 0; i < argc; i++) fwrite(argv[i], 1, strlen(argv[i]) + 1, stdout);
	return 0;
}
`

// TestScriptsMatchLinux runs each script natively and through Load, and
// requires the same final argv, or the same errno.
func TestScriptsMatchLinux(t *testing.T) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not found")
	}
	dir := t.TempDir()
	echo := filepath.Join(dir, "echoargs")
	src := filepath.Join(dir, "echoargs.c")
	if err := os.WriteFile(src, []byte(echoArgs), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-static", "-o", echo, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		content = strings.ReplaceAll(content, "ECHO", echo)
		content = strings.ReplaceAll(content, "DIR", dir)
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("text", "not a script\n")
	// chainN is a script whose interpreter is chain(N-1); chain1 runs echo.
	write("chain1", "#!ECHO c1\n")
	for i := 2; i <= 7; i++ {
		write("chain"+string(rune('0'+i)), "#!DIR/chain"+string(rune('0'+i-1))+" c"+string(rune('0'+i))+"\n")
	}

	for _, tc := range []struct {
		name, content string
		run           string // an existing file to run instead of content
		argv          []string
	}{
		{name: "plain", content: "#!ECHO\n"},
		{name: "argument", content: "#!ECHO -x\n"},
		{name: "blanks", content: "#! \t ECHO \t  -x  -y \t \n"},
		{name: "no newline", content: "#!ECHO"},
		{name: "empty argument", content: "#!ECHO \x00x\n"},
		{name: "NUL in argument", content: "#!ECHO -a\x00-b\n"},
		{name: "long argument", content: "#!ECHO " + strings.Repeat("z", 400) + "\n"},
		{name: "truncated interpreter", content: "#!" + strings.Repeat("/", 300) + "ECHO\n"},
		{name: "empty line", content: "#!\n"},
		{name: "bare", content: "#!"},
		{name: "CRLF", content: "#!ECHO\r\n"},
		{name: "text interpreter", content: "#!DIR/text\n"},
		{name: "missing interpreter", content: "#!DIR/missing\n"},
		{name: "no argv", content: "#!ECHO -n\n", argv: []string{}},
		{name: "2 levels", run: "chain2"},
		{name: "5 levels", run: "chain5"},
		{name: "6 levels", run: "chain6"},
		{name: "7 levels", run: "chain7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.run)
			if tc.run == "" {
				path = write("script-"+strings.ReplaceAll(tc.name, " ", "-"), tc.content)
			}
			argv := tc.argv
			if argv == nil {
				argv = []string{path, "a1", "a 2"}
			}

			// Native, with syscall.ForkExec because os/exec can't pass an
			// empty argv.
			nativeArgv, nativeErr := runNative(t, path, argv)

			fs := &testFS{hostFallback: true}
			img, mem, err := load(t, fs, testArgs(fs, path, argv, nil))
			if nativeErr != nil {
				var en syscall.Errno
				if !errors.As(nativeErr, &en) {
					t.Fatalf("native run: %v", nativeErr)
				}
				if e, ok := err.(errno.Errno); !ok || uint32(e) != uint32(en) {
					t.Errorf("Load = %v, native execve = %v", err, en)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load = %v, native ran with argv %q", err, nativeArgv)
			}
			if !slices.Equal(img.Argv, nativeArgv) {
				t.Errorf("Argv = %q, native %q", img.Argv, nativeArgv)
			}
			s := readInitialStack(t, mem, img.Stack)
			if !slices.Equal(s.argv, nativeArgv) {
				t.Errorf("stack argv = %q, native %q", s.argv, nativeArgv)
			}
			// Linux: /proc/self/exe is the final ELF, comm and AT_EXECFN
			// come from the path given to execve.
			if img.ExecPath != echo {
				t.Errorf("ExecPath = %q, want %q", img.ExecPath, echo)
			}
			if want := commName(path); img.Name != want || len(img.Name) > 15 {
				t.Errorf("Name = %q, want %q", img.Name, want)
			}
			if got := mem.cstring(t, hostarch.Addr(s.aux(t, linux.AT_EXECFN))); got != path {
				t.Errorf("AT_EXECFN = %q, want %q", got, path)
			}
		})
	}
}

// runNative execs path with argv on the host and returns the argv the
// program saw, or the execve error.
func runNative(t *testing.T, path string, argv []string) ([]string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{Files: []uintptr{0, w.Fd(), 2}})
	w.Close()
	if err != nil {
		return nil, err
	}
	out, rerr := io.ReadAll(r)
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || rerr != nil || ws.ExitStatus() != 0 {
		t.Fatalf("native %s: wait %v, read %v, status %v", path, err, rerr, ws)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00"), nil
}

func TestCommName(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"/bin/true", "true"},
		{"true", "true"},
		{"./a/b", "b"},
		{"/dir/", ""},
		{"/x/abcdefghijklmnopqrstuvwxyz", "abcdefghijklmno"},
	} {
		if got := commName(tc.path); got != tc.want {
			t.Errorf("commName(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}
