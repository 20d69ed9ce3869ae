package runner

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// compareRuns runs argv natively and in the sandbox and requires the same
// stdout and status.
func compareRuns(t *testing.T, argv []string, wantStatus int) {
	t.Helper()
	native := runNative(t, argv, runOpts{})
	if native.status != wantStatus {
		t.Fatalf("native run: want status %d\n%s", wantStatus, native)
	}
	sandbox := runSandbox(t, argv, runOpts{})
	if sandbox.stdout != native.stdout || sandbox.status != native.status {
		t.Errorf("sandbox differs from native\n--- native:\n%s\n--- sandbox:\n%s\n--- diff:\n%s",
			native, sandbox, lineDiff(native.stdout, sandbox.stdout))
	}
}

// TestGoProgram builds test/programs/goaccept statically and compares its
// runs: goroutines over channels, timers, signal.Notify, os/exec with
// pipes and exit statuses, and a directory listing.
func TestGoProgram(t *testing.T) {
	exe := buildGoProgram(t, "goaccept")
	compareRuns(t, []string{exe}, 0)
}

// TestPythonProgram compares runs of test/programs/pyaccept.py:
// subprocess pipes, a Popen pipeline, a thread pool, a setitimer handler,
// fork and waitpid, 100 KB through pipes, and SIGTERM to children.
func TestPythonProgram(t *testing.T) {
	needTool(t, python3, "python3")
	compareRuns(t, []string{python3, filepath.Join(repoRoot(), "test", "programs", "pyaccept.py")}, 0)
}

// TestSigtermEndsSandbox: SIGTERM to runsc-lite while the guest shell waits
// for one sleep and has another in the background ends every process of
// the sandbox within a few seconds.
func TestSigtermEndsSandbox(t *testing.T) {
	argv := sandboxArgv(t, []string{"/bin/sh", "-c", "sleep 100 & echo ready; sleep 100"}, runOpts{})
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = baseEnv
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
		checkNoOrphans(t)
	})
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		if line != "ready\n" {
			t.Fatalf("guest said %q; stderr:\n%s", line, stderr.String())
		}
	case <-time.After(runTimeout):
		t.Fatalf("guest did not start; stderr:\n%s", stderr.String())
	}
	time.Sleep(300 * time.Millisecond) // the foreground sleep starts
	type proc struct {
		pid   int
		start uint64
	}
	var before []proc
	for _, p := range descendants(cmd.Process.Pid) {
		if st, err := readStat(p); err == nil {
			before = append(before, proc{p, st.startTime})
		}
	}
	if len(before) < 3 {
		t.Fatalf("want stubs for sh and two sleeps under runsc-lite, have %d processes", len(before))
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		done <- err
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 128+int(syscall.SIGTERM) {
			t.Errorf("runsc-lite after SIGTERM: %v, want exit status %d (sh killed by SIGTERM)", err, 128+int(syscall.SIGTERM))
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("runsc-lite still runs 5s after SIGTERM; stderr:\n%s", stderr.String())
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		var alive []string
		for _, p := range before {
			if st, err := readStat(p.pid); err == nil && st.startTime == p.start && st.state != 'Z' {
				alive = append(alive, fmt.Sprintf("%d (%s)", p.pid, exeOf(p.pid)))
			}
		}
		if len(alive) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes of the sandbox survive SIGTERM: %v", alive)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ptySession is a command whose stdin, stdout and stderr are the slave side
// of a pseudo-terminal, its controlling terminal; the test plays the user
// on the master side.
type ptySession struct {
	t      *testing.T
	master *os.File
	cmd    *exec.Cmd
	done   chan error

	mu  sync.Mutex
	out []byte // everything read from the master
}

// startPTY starts argv on a new pty of 33 rows and 101 columns.
func startPTY(t *testing.T, argv []string, env []string) *ptySession {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no ptys: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	mfd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(mfd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer slave.Close()
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 33, Col: 101}); err != nil {
		t.Fatal(err)
	}
	s := &ptySession{t: t, master: master, done: make(chan error, 1)}
	s.cmd = exec.Command(argv[0], argv[1:]...)
	s.cmd.Env = env
	s.cmd.Dir = "/"
	s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = slave, slave, slave
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			s.mu.Lock()
			s.out = append(s.out, buf[:n]...)
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Errorf("%v did not exit after SIGKILL", argv)
		}
	})
	return s
}

// send writes keystrokes to the terminal.
func (s *ptySession) send(keys string) {
	s.t.Helper()
	if _, err := io.WriteString(s.master, keys); err != nil {
		s.t.Fatalf("write to pty: %v", err)
	}
}

// expect waits until the output so far contains want, and consumes the
// output up to its end.
func (s *ptySession) expect(want string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		i := strings.Index(string(s.out), want)
		if i >= 0 {
			s.out = s.out[i+len(want):]
		}
		got := string(s.out)
		s.mu.Unlock()
		if i >= 0 {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("terminal output lacks %q; have:\n%q", want, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wait waits for the command to exit and returns its status.
func (s *ptySession) wait() int {
	s.t.Helper()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			return ee.ExitCode()
		}
		s.t.Fatalf("wait: %v", err)
	case <-time.After(30 * time.Second):
		s.t.Fatalf("still running 30s after exit; output:\n%q", string(s.out))
	}
	return -1
}

// TestTTY runs interactive programs on a pseudo-terminal, natively and in
// the sandbox: the guest sees a terminal (its size, its modes), and ^C
// interrupts the foreground job without killing the shell.
func TestTTY(t *testing.T) {
	for _, mode := range []string{"native", "sandbox"} {
		wrap := func(argv []string) []string {
			if mode == "native" {
				return argv
			}
			return sandboxArgv(t, argv, runOpts{env: []string{"PS1=[sh]", "TERM=dumb"}})
		}
		env := append(append([]string(nil), baseEnv...), "PS1=[sh]", "TERM=dumb")
		t.Run(mode+"/sh", func(t *testing.T) {
			s := startPTY(t, wrap([]string{"/bin/sh", "-i"}), env)
			s.expect("[sh]")
			s.send("echo hi\n")
			s.expect("\r\nhi\r\n")
			s.send("stty size; tty -s && echo is-a-tty\n")
			s.expect("\r\n33 101\r\nis-a-tty\r\n")
			s.send("sleep 100\n")
			time.Sleep(500 * time.Millisecond) // sleep starts in the foreground
			s.send("\x03")
			s.send("echo after ^C: $?\n")
			s.expect("after ^C: 130\r\n")
			s.send("exit 3\n")
			if st := s.wait(); st != 3 {
				t.Errorf("exit status %d, want 3", st)
			}
			if mode == "sandbox" {
				checkNoOrphans(t)
			}
		})
		t.Run(mode+"/python3", func(t *testing.T) {
			needTool(t, python3, "python3")
			s := startPTY(t, wrap([]string{python3, "-q"}), env)
			s.expect(">>> ")
			s.send("print(1+1)\n")
			s.expect("\r\n2\r\n>>> ")
			s.send("import os; print(os.isatty(0), os.get_terminal_size())\n")
			s.expect("True os.terminal_size(columns=101, lines=33)\r\n")
			s.send("exit()\n")
			if st := s.wait(); st != 0 {
				t.Errorf("exit status %d, want 0", st)
			}
			if mode == "sandbox" {
				checkNoOrphans(t)
			}
		})
	}
}

// buildGoProgram builds test/programs/NAME statically into a temporary
// directory and returns the binary's path; it skips t without a go tool.
func buildGoProgram(t *testing.T, name string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH")
	}
	exe := filepath.Join(t.TempDir(), name)
	build := exec.Command(goTool, "build", "-o", exe, "./test/programs/"+name)
	build.Dir = repoRoot()
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	return exe
}
