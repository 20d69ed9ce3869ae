// Package runner runs conformance probes and end-to-end commands natively
// and under `runsc-lite do`, and compares what they print and how they
// exit.
//
// TestMain builds runsc-lite and every probe in test/probes once per test
// binary run, into a temporary directory. Each C probe is built -static and
// dynamic (hello also -static-pie). The sandbox runs use
// --platform=$PLATFORM (default ptrace). $RUNSC_LITE names a prebuilt
// runsc-lite to use instead of building one.
//
// The test process makes itself a child subreaper, so that any process a
// sandbox leaves behind (a stub that outlived runsc-lite, say) is
// reparented to it; after every sandbox run the runner kills and reaps such
// orphans and fails the test that leaked them.
package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Set up by TestMain.
var (
	// workDir holds the built runsc-lite and probes; removed at exit.
	workDir string
	// runscPath is the built runsc-lite, or "" if the build failed with
	// runscErr.
	runscPath string
	runscErr  error
	// probeDir holds the built probes; probeErr says why there are none.
	probeDir string
	probeErr error
	// platformName is --platform for sandbox runs.
	platformName string
)

// runTimeout bounds one native or sandbox run. A sandbox that hangs fails
// its test instead of the whole suite's timeout.
const runTimeout = 2 * time.Minute

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	var err error
	if workDir, err = os.MkdirTemp("", "runsc-lite-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(workDir)
	// The native and sandbox runs must agree on umask-dependent output.
	unix.Umask(0o022)
	platformName = os.Getenv("PLATFORM")
	if platformName == "" {
		platformName = "ptrace"
	}
	// Orphans of a sandbox (leaked stubs) become our children, where
	// checkNoOrphans finds them.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "PR_SET_CHILD_SUBREAPER:", err)
		return 1
	}
	runscPath, runscErr = buildRunsc()
	probeDir, probeErr = buildProbes()
	code := m.Run()
	if left := killOrphans(); len(left) != 0 {
		fmt.Fprintf(os.Stderr, "runner: killed leftover processes %v\n", left)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// repoRoot is the module root: this package is test/runner.
func repoRoot() string {
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		panic(err)
	}
	return dir
}

// buildRunsc builds runsc-lite, or uses $RUNSC_LITE if set (a binary
// already built by `make build`, or a stand-in when debugging the runner).
func buildRunsc() (string, error) {
	if p := os.Getenv("RUNSC_LITE"); p != "" {
		return filepath.Abs(p)
	}
	out := filepath.Join(workDir, "runsc-lite")
	cmd := exec.Command("go", "build", "-o", out, "./runsc-lite")
	cmd.Dir = repoRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./runsc-lite: %v\n%s", err, b)
	}
	return out, nil
}

// probeVariants are the ways each C probe is linked; "static-pie" is built
// only for the probes listed in staticPIE.
var probeVariants = map[string][]string{
	"static":     {"-static"},
	"dynamic":    nil,
	"static-pie": {"-static-pie"},
}

var staticPIE = map[string]bool{"hello": true, "args": true, "mmap": true}

func buildProbes() (string, error) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return "", fmt.Errorf("gcc not found (apt-get install gcc libc6-dev): %w", err)
	}
	srcs, err := filepath.Glob(filepath.Join(repoRoot(), "test", "probes", "*.c"))
	if err != nil || len(srcs) == 0 {
		return "", fmt.Errorf("no probe sources: %v", err)
	}
	dir := filepath.Join(workDir, "probes")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	// Build in parallel: two dozen gcc runs are most of TestMain's time.
	errs := make(chan error, 3*len(srcs))
	sem := make(chan struct{}, runtime.NumCPU())
	n := 0
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".c")
		for variant, flags := range probeVariants {
			if variant == "static-pie" && !staticPIE[name] {
				continue
			}
			n++
			go func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				// -pthread: the threads, futex and timers probes use pthreads.
				args := append([]string{"-O2", "-Wall", "-Werror", "-pthread", "-o", filepath.Join(dir, name+"."+variant)}, flags...)
				cmd := exec.Command(gcc, append(args, src)...)
				if b, err := cmd.CombinedOutput(); err != nil {
					errs <- fmt.Errorf("gcc %s (%s): %v\n%s", src, variant, err, b)
					return
				}
				errs <- nil
			}()
		}
	}
	var all []error
	for ; n > 0; n-- {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
	}
	return dir, errors.Join(all...)
}

// probe returns the path of a built probe, failing or skipping the test if
// it could not be built.
func probe(t *testing.T, name, variant string) string {
	t.Helper()
	if probeDir == "" {
		t.Skipf("probes not built: %v", probeErr)
	}
	p := filepath.Join(probeDir, name+"."+variant)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("probe %s.%s missing (build error: %v)", name, variant, probeErr)
	}
	return p
}

// runsc returns the built runsc-lite or fails the test.
func runsc(t *testing.T) string {
	t.Helper()
	if runscPath == "" {
		t.Fatalf("runsc-lite did not build: %v", runscErr)
	}
	return runscPath
}

// result is how one run went.
type result struct {
	stdout, stderr string
	// status is the exit code, or 128+N after death by signal N: the
	// convention runsc-lite's own exit status follows.
	status int
}

func (r result) String() string {
	return fmt.Sprintf("status %d\nstdout:\n%s\nstderr:\n%s", r.status, r.stdout, r.stderr)
}

// runOpts are the knobs of one run.
type runOpts struct {
	env   []string // KEY=VALUE, in addition to baseEnv
	stdin string
	// sandboxFlags are extra `runsc-lite do` flags (--rootfs, --strace).
	sandboxFlags []string
}

// baseEnv is the whole environment of native runs and is passed to sandbox
// runs with --env, so that both see the same variables.
var baseEnv = []string{
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"LC_ALL=C",
	"TZ=UTC",
}

// runNative runs argv on the host with cwd /.
func runNative(t *testing.T, argv []string, o runOpts) result {
	t.Helper()
	return run(t, argv, append(append([]string(nil), baseEnv...), o.env...), o.stdin)
}

// sandboxArgv is the command line that runs argv in the sandbox.
func sandboxArgv(t *testing.T, argv []string, o runOpts) []string {
	cmd := []string{runsc(t), "do", "--platform=" + platformName, "--cwd", "/"}
	for _, e := range append(append([]string(nil), baseEnv...), o.env...) {
		cmd = append(cmd, "--env", e)
	}
	cmd = append(cmd, o.sandboxFlags...)
	return append(append(cmd, "--"), argv...)
}

// runSandbox runs argv under runsc-lite do and checks it left no process
// behind.
func runSandbox(t *testing.T, argv []string, o runOpts) result {
	t.Helper()
	r := run(t, sandboxArgv(t, argv, o), baseEnv, o.stdin)
	checkNoOrphans(t)
	return r
}

func run(t *testing.T, argv []string, env []string, stdin string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = "/"
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A process group of its own: the child is its group's leader, as the
	// sandbox's init is, and a timeout kills the whole group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			r.status = 128 + int(ws.Signal())
		} else {
			r.status = ws.ExitStatus()
		}
	default:
		t.Fatalf("run %q: %v", argv, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("run %q: timed out after %v\n%s", argv, runTimeout, r)
	}
	return r
}

// children returns the pids of our live child processes, by ppid from
// /proc. Zombies are reaped and left out.
func children() []int {
	self := os.Getpid()
	var kids []int
	for _, p := range allPIDs() {
		st, err := readStat(p)
		if err != nil || st.ppid != self {
			continue
		}
		if st.state == 'Z' {
			var ws unix.WaitStatus
			unix.Wait4(p, &ws, unix.WNOHANG, nil)
			continue
		}
		kids = append(kids, p)
	}
	return kids
}

// killOrphans kills and reaps every child of ours. It runs when no command
// of ours is running, so every child is an orphan we inherited as
// subreaper.
func killOrphans() []string {
	var desc []string
	for _, p := range children() {
		desc = append(desc, fmt.Sprintf("%d (%s)", p, exeOf(p)))
		unix.Kill(p, unix.SIGKILL)
		var ws unix.WaitStatus
		unix.Wait4(p, &ws, 0, nil)
	}
	return desc
}

// checkNoOrphans fails t if a sandbox run left processes behind. Stubs get
// SIGKILL when their parent dies, which takes a moment, so it waits a
// little before calling them leaked.
func checkNoOrphans(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for len(children()) != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if left := killOrphans(); len(left) != 0 {
		t.Errorf("sandbox left processes behind (killed them): %v", left)
	}
}

// procStat is what we need of /proc/PID/stat.
type procStat struct {
	state     byte
	ppid      int
	startTime uint64
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// comm is in parentheses and may itself contain spaces and ")".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ppid, _ := strconv.Atoi(f[1])
	start, _ := strconv.ParseUint(f[19], 10, 64) // field 22 overall
	return procStat{state: f[0][0], ppid: ppid, startTime: start}, nil
}

func allPIDs() []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		if p, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, p)
		}
	}
	sort.Ints(pids)
	return pids
}

// descendants returns every live descendant of pid.
func descendants(pid int) []int {
	kids := map[int][]int{}
	for _, p := range allPIDs() {
		if st, err := readStat(p); err == nil && st.state != 'Z' {
			kids[st.ppid] = append(kids[st.ppid], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, kids[p]...)
		queue = append(queue, kids[p]...)
	}
	return out
}

// exeOf returns /proc/PID/exe's target ("" if unreadable).
func exeOf(pid int) string {
	s, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return s
}

// isStub reports whether pid runs guest code: the stub is an ELF that the
// sentry builds in a memfd, so its exe is "/memfd:... (deleted)".
func isStub(pid int) bool {
	return strings.Contains(exeOf(pid), "memfd:")
}
