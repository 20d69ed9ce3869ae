package runner

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// blockedSandbox is a sandbox whose guest (the blockread probe) has said
// "ready" and is blocked reading its stdin, a pipe the test holds.
type blockedSandbox struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *strings.Builder
	done   chan error // cmd.Wait's result
}

// startBlocked starts blockread in the sandbox and waits until it is
// blocked in read(2). The cleanup kills whatever is left.
func startBlocked(t *testing.T) *blockedSandbox {
	t.Helper()
	bin := probe(t, "blockread", "static")
	argv := sandboxArgv(t, []string{bin}, runOpts{})
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = baseEnv
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	b := &blockedSandbox{cmd: cmd, stderr: &strings.Builder{}, done: make(chan error, 1)}
	var err error
	if b.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	b.stdout = bufio.NewReader(out)
	cmd.Stderr = b.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.done <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-b.done:
		case <-time.After(10 * time.Second):
			t.Errorf("runsc-lite did not exit after SIGKILL")
		}
		checkNoOrphans(t)
	})

	ready := make(chan string, 1)
	go func() {
		line, _ := b.stdout.ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		if line != "ready\n" {
			t.Fatalf("guest said %q, want \"ready\\n\"; stderr:\n%s", line, b.stderr)
		}
	case <-time.After(runTimeout):
		t.Fatalf("guest did not get ready in %v; stderr:\n%s", runTimeout, b.stderr)
	}
	// "ready" is written just before read(2); give the guest a moment to
	// get there.
	time.Sleep(200 * time.Millisecond)
	return b
}

// stubs returns the stub processes under the sandbox.
func (b *blockedSandbox) stubs(t *testing.T) []int {
	t.Helper()
	var stubs []int
	for _, p := range descendants(b.cmd.Process.Pid) {
		if isStub(p) {
			stubs = append(stubs, p)
		}
	}
	if len(stubs) == 0 {
		var desc []string
		for _, p := range descendants(b.cmd.Process.Pid) {
			desc = append(desc, fmt.Sprintf("%d=%s", p, exeOf(p)))
		}
		t.Fatalf("no stub process (exe \"/memfd:...\") under runsc-lite pid %d; descendants: %v", b.cmd.Process.Pid, desc)
	}
	return stubs
}

// TestStubMaps: while the guest is blocked, the stub's host address space
// holds only the stub and windows of the sandbox memfd. The host's vDSO,
// vvar, stack and heap must be gone, or the guest could use them.
func TestStubMaps(t *testing.T) {
	b := startBlocked(t)
	for _, pid := range b.stubs(t) {
		maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(maps)), "\n") {
			f := strings.Fields(line)
			name := ""
			if len(f) >= 6 {
				name = strings.Join(f[5:], " ")
			}
			switch {
			case strings.Contains(name, "/memfd:"):
				// The stub ELF and the sandbox memory file.
			case name == "[vsyscall]":
				// Cannot be unmapped; see DESIGN.md, pitfall 2.
			default:
				t.Errorf("stub %d maps something other than the stub and memfd windows: %s", pid, line)
			}
		}
		if t.Failed() {
			t.Logf("/proc/%d/maps:\n%s", pid, maps)
		}
	}

	// The guest still works: feed it a line and it echoes it and exits.
	if _, err := io.WriteString(b.stdin, "ping\n"); err != nil {
		t.Fatal(err)
	}
	b.stdin.Close()
	rest, _ := io.ReadAll(b.stdout)
	select {
	case err := <-b.done:
		b.done <- err // for the cleanup
		if err != nil || string(rest) != "got 5: ping\n" {
			t.Errorf("after unblocking: err %v, stdout %q, stderr:\n%s", err, rest, b.stderr)
		}
	case <-time.After(runTimeout):
		t.Fatalf("guest did not exit after its read returned")
	}
}

// TestKill9LeavesNoStub: SIGKILL to runsc-lite, which gets no chance to
// clean up, must still take every stub process with it.
func TestKill9LeavesNoStub(t *testing.T) {
	b := startBlocked(t)
	type proc struct {
		pid   int
		start uint64
	}
	var before []proc
	for _, p := range descendants(b.cmd.Process.Pid) {
		if st, err := readStat(p); err == nil {
			before = append(before, proc{p, st.startTime})
		}
	}
	b.stubs(t) // fails the test if there is no stub to watch
	if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-b.done:
		b.done <- err
	case <-time.After(10 * time.Second):
		t.Fatal("runsc-lite did not die of SIGKILL")
	}
	// Pdeathsig and PTRACE_O_EXITKILL act asynchronously; allow a moment.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var alive []string
		for _, p := range before {
			// Same pid and start time: the same process, not a reuse.
			// Zombies reparented to us count as dead.
			if st, err := readStat(p.pid); err == nil && st.startTime == p.start && st.state != 'Z' {
				alive = append(alive, fmt.Sprintf("%d (%s)", p.pid, exeOf(p.pid)))
			}
		}
		if len(alive) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes of the killed sandbox survive: %v", alive)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
