package runner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The acceptance suites of issue 4: real programs' own filesystem tests
// (CPython's regression tests, Go's standard-library tests) run natively
// and in the sandbox. At least minPassRatio of the cases that pass
// natively must pass in the sandbox, and every case that passes natively
// but not in the sandbox must be listed, with its reason, in the suite's
// exceptions file under test/.
const minPassRatio = 0.95

// suiteTimeout bounds one run of a whole suite.
const suiteTimeout = 8 * time.Minute

// pythonSuites are the CPython regression tests of the filesystem
// (Debian's libpython3.11-testsuite).
var pythonSuites = []string{"test_os", "test_shutil", "test_tempfile", "test_glob", "test_fileio",
	"test_posix", "test_stat", "test_pathlib"}

// goSuites are the standard-library packages whose tests are run, each
// from its own source directory with -test.short.
var goSuites = []string{"os", "io/fs", "path/filepath", "archive/tar", "archive/zip"}

// runLong runs argv with cwd dir (natively; for the sandbox dir is only the
// host process's cwd) and returns its combined output. Unlike run, it
// allows a whole test suite's time.
func runLong(t *testing.T, argv []string, dir string, env []string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), suiteTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	status := 0
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		status = ee.ExitCode()
	default:
		t.Fatalf("run %q: %v", argv, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("run %q: timed out after %v\n%s", argv, suiteTimeout, tail(out.String(), 4000))
	}
	return out.String(), status
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// logLine matches the sentry's own log lines ("level=WARN msg=... "),
// which land in the middle of a test's "... ok" line when they share
// stderr.
var logLine = regexp.MustCompile(`level=[A-Z]+ msg="[^"]*"[^\n]*\n`)

// unittestLine matches a verbose unittest result: "name (id) ... ok".
var unittestLine = regexp.MustCompile(`(?m)^(\w+) \(([\w.]+)\)(?:\n.*)?? \.\.\. (ok|FAIL|ERROR|skipped|expected failure|unexpected success)`)

// parseUnittest returns each test case's outcome ("ok", "FAIL", "ERROR",
// "skipped", ...) by its id (module.Class.method).
func parseUnittest(out string) map[string]string {
	out = logLine.ReplaceAllString(out, "")
	res := map[string]string{}
	for _, m := range unittestLine.FindAllStringSubmatch(out, -1) {
		id := m[2]
		if !strings.HasSuffix(id, "."+m[1]) {
			id += "." + m[1]
		}
		res[id] = m[3]
	}
	return res
}

// goTestLine matches a verbose go test result, subtests included.
var goTestLine = regexp.MustCompile(`(?m)^\s*--- (PASS|FAIL|SKIP): (\S+)`)

// parseGoTest returns each test's (and subtest's) outcome by name.
func parseGoTest(out string) map[string]string {
	res := map[string]string{}
	for _, m := range goTestLine.FindAllStringSubmatch(out, -1) {
		res[m[2]] = m[1]
	}
	return res
}

// readExceptions reads an exceptions file: one test id per line (or a
// pattern, "*" matching anything), then its reason after "#". Blank lines and lines starting with "#" are comments.
func readExceptions(t *testing.T, name string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot(), "test", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ex := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		id, reason, _ := strings.Cut(line, "#")
		if strings.TrimSpace(reason) == "" {
			t.Errorf("%s: %q has no reason", name, line)
		}
		ex[strings.TrimSpace(id)] = strings.TrimSpace(reason)
	}
	return ex
}

// compareSuites checks sandbox outcomes against native ones (pass is the
// passing outcome's name) and the exceptions file.
func compareSuites(t *testing.T, native, sandbox map[string]string, pass string, exceptions map[string]string) {
	t.Helper()
	var passed, both int
	var unexpected, fixed []string
	for id, o := range native {
		if o != pass {
			continue
		}
		passed++
		excused := isExcused(exceptions, id)
		if sandbox[id] == pass {
			both++
			if excused {
				fixed = append(fixed, id)
			}
		} else if !excused {
			unexpected = append(unexpected, fmt.Sprintf("%s: %s", id, orNone(sandbox[id])))
		}
	}
	if passed == 0 {
		t.Fatal("no test passed natively; is the suite installed?")
	}
	ratio := float64(both) / float64(passed)
	t.Logf("passing natively: %d, also in the sandbox: %d (%.1f%%)", passed, both, 100*ratio)
	sort.Strings(unexpected)
	sort.Strings(fixed)
	if len(fixed) > 0 {
		t.Logf("listed as exceptions but passing now (remove them):\n  %s", strings.Join(fixed, "\n  "))
	}
	if len(unexpected) > 0 {
		t.Errorf("pass natively but not in the sandbox, and not listed as exceptions:\n  %s", strings.Join(unexpected, "\n  "))
	}
	if ratio < minPassRatio {
		t.Errorf("sandbox pass ratio %.3f < %.2f", ratio, minPassRatio)
	}
}

// isExcused reports whether id is listed in exceptions, exactly or by a
// pattern in which "*" matches anything.
func isExcused(exceptions map[string]string, id string) bool {
	if _, ok := exceptions[id]; ok {
		return true
	}
	for pat := range exceptions {
		if !strings.Contains(pat, "*") {
			continue
		}
		re := "^" + strings.ReplaceAll(regexp.QuoteMeta(pat), `\*`, ".*") + "$"
		if ok, _ := regexp.MatchString(re, id); ok {
			return true
		}
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return "no result (crashed or not run)"
	}
	return s
}

// TestFSPythonSuite runs CPython's filesystem regression tests natively and
// in the sandbox.
func TestFSPythonSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole test suite; skipped in -short")
	}
	needTool(t, python3, "python3")
	needTool(t, "/usr/lib/python3.11/test/test_os.py", "libpython3.11-testsuite")
	argv := append([]string{python3, "-m", "test", "-v"}, pythonSuites...)
	env := append(append([]string(nil), baseEnv...), "TMPDIR=/tmp")
	nativeDir := t.TempDir()
	nout, _ := runLong(t, argv, nativeDir, env)
	native := parseUnittest(nout)
	scmd := []string{runsc(t), "do", "--platform=" + platformName, "--cwd", "/tmp"}
	for _, e := range env {
		scmd = append(scmd, "--env", e)
	}
	sout, _ := runLong(t, append(append(scmd, "--"), argv...), nativeDir, env)
	checkNoOrphans(t)
	sandbox := parseUnittest(sout)
	if len(sandbox) == 0 {
		t.Fatalf("no results from the sandbox run:\n%s", tail(sout, 4000))
	}
	compareSuites(t, native, sandbox, "ok", readExceptions(t, "pytests_exceptions.txt"))
}

// TestFSGoStdlibSuite builds the standard library's filesystem tests with
// CGO_ENABLED=0 and runs each from its package directory, natively and in
// the sandbox.
func TestFSGoStdlibSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("whole test suites; skipped in -short")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH")
	}
	gorootOut, err := exec.Command(goTool, "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	goroot := strings.TrimSpace(string(gorootOut))
	bin := t.TempDir()
	env := append(append([]string(nil), baseEnv...), "GOROOT="+goroot)
	env[0] = "PATH=" + filepath.Join(goroot, "bin") + ":" + strings.TrimPrefix(env[0], "PATH=")
	native, sandbox := map[string]string{}, map[string]string{}
	for _, pkg := range goSuites {
		name := strings.ReplaceAll(pkg, "/", "_")
		exe := filepath.Join(bin, name+".test")
		build := exec.Command(goTool, "test", "-c", "-o", exe, pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go test -c %s: %v\n%s", pkg, err, out)
		}
		dir := filepath.Join(goroot, "src", pkg)
		// -test.timeout makes a hung test panic with every goroutine's
		// stack, which runLong prints, instead of running into
		// suiteTimeout silently.
		argv := []string{exe, "-test.short", "-test.v", "-test.timeout=5m"}
		nout, _ := runLong(t, argv, dir, env)
		scmd := []string{runsc(t), "do", "--platform=" + platformName, "--cwd", dir}
		for _, e := range env {
			scmd = append(scmd, "--env", e)
		}
		sout, _ := runLong(t, append(append(scmd, "--"), argv...), dir, env)
		checkNoOrphans(t)
		if i := strings.Index(sout, "panic: test timed out"); i >= 0 {
			t.Errorf("%s hung in the sandbox:\n%s", pkg, tail(sout[i:min(len(sout), i+6000)], 6000))
		}
		for id, o := range parseGoTest(nout) {
			native[pkg+"."+id] = o
		}
		for id, o := range parseGoTest(sout) {
			sandbox[pkg+"."+id] = o
		}
	}
	compareSuites(t, native, sandbox, "PASS", readExceptions(t, "gofs_exceptions.txt"))
}

// TestFSSuiteParsers checks the result parsers on the shapes they meet.
func TestFSSuiteParsers(t *testing.T) {
	py := "test_a (test.test_os.X.test_a) ... ok\n" +
		"test_b (test.test_os.X.test_b) ... level=WARN msg=\"unimplemented syscall\" src=runsc-lite sysno=319 name=memfd_create tid=1\nERROR\n" +
		"test_c (test.test_os.X.test_c)\nA docstring. ... skipped 'why'\n"
	got := parseUnittest(py)
	want := map[string]string{"test.test_os.X.test_a": "ok", "test.test_os.X.test_b": "ERROR", "test.test_os.X.test_c": "skipped"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("parseUnittest: got %v, want %v", got, want)
	}
	ex := map[string]string{"os.TestSplice*": "r", "os.TestRoot*/unix_*": "r", "os.TestA": "r"}
	for id, want := range map[string]bool{"os.TestSpliceFile/x": true, "os.TestRootX/unix_y": true,
		"os.TestRootX/file": false, "os.TestA": true, "os.TestAB": false} {
		if isExcused(ex, id) != want {
			t.Errorf("isExcused(%q) = %v", id, !want)
		}
	}
	gt := "--- PASS: TestA (0.00s)\n    --- FAIL: TestA/b (0.00s)\n--- SKIP: TestC (0.00s)\n"
	g := parseGoTest(gt)
	if g["TestA"] != "PASS" || g["TestA/b"] != "FAIL" || g["TestC"] != "SKIP" || len(g) != 3 {
		t.Errorf("parseGoTest: %v", g)
	}
}
