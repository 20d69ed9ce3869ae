package runner

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// procSuites are the standard-library packages whose tests exercise
// processes, threads, signals and timers (issue 3). Each package's tests
// run from its source directory with -test.short, natively and in the
// sandbox, and are compared as in TestFSGoStdlibSuite.
var procSuites = []string{"os/exec", "os/signal", "syscall", "sync", "time", "io", "bufio", "context"}

// procSuitesExceptions lists the tests that pass natively but not in the
// sandbox. An entry whose reason starts with "skip:" is not run in the
// sandbox at all (-test.skip), for tests that hang or take minutes there.
const procSuitesExceptions = "gostd_exceptions.txt"

// TestGoStdlib builds the packages' tests with CGO_ENABLED=0 and runs them,
// two packages at a time, each natively and then in the sandbox. At least
// minPassRatio of the tests that pass natively must pass in the sandbox,
// and each one that does not must be in test/gostd_exceptions.txt.
func TestGoStdlib(t *testing.T) {
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
	exceptions := readExceptions(t, procSuitesExceptions)
	bin := t.TempDir()

	type outcome struct {
		pkg             string
		native, sandbox map[string]string
	}
	results := make([]outcome, len(procSuites))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, pkg := range procSuites {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = outcome{pkg: pkg}
			results[i].native, results[i].sandbox = runGoSuite(t, goTool, goroot, bin, pkg, exceptions)
		}()
	}
	wg.Wait()
	checkNoOrphans(t)
	if t.Failed() {
		return
	}
	native, sandbox := map[string]string{}, map[string]string{}
	for _, r := range results {
		n, s := 0, 0
		for id, o := range r.native {
			native[r.pkg+"."+id] = o
			if o == "PASS" {
				n++
				if r.sandbox[id] == "PASS" {
					s++
				}
			}
		}
		for id, o := range r.sandbox {
			sandbox[r.pkg+"."+id] = o
		}
		t.Logf("%-10s passing natively: %4d, also in the sandbox: %4d", r.pkg, n, s)
	}
	compareSuites(t, native, sandbox, "PASS", exceptions)
}

// runGoSuite builds pkg's test binary and runs it natively and in the
// sandbox, with cwd and $PWD its source directory, returning each run's
// outcomes by test name. Tests excepted with "skip:" are not run in the
// sandbox. Safe to call from several goroutines.
func runGoSuite(t *testing.T, goTool, goroot, bin, pkg string, exceptions map[string]string) (native, sandbox map[string]string) {
	name := strings.ReplaceAll(pkg, "/", "_")
	exe := filepath.Join(bin, name+".test")
	build := exec.Command(goTool, "test", "-c", "-o", exe, pkg)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Errorf("go test -c %s: %v\n%s", pkg, err, out)
		return nil, nil
	}
	dir := filepath.Join(goroot, "src", pkg)
	env := append(append([]string(nil), baseEnv...), "GOROOT="+goroot, "PWD="+dir)
	env[0] = "PATH=" + filepath.Join(goroot, "bin") + ":" + strings.TrimPrefix(env[0], "PATH=")
	// -test.timeout makes a hung test panic with every goroutine's stack
	// instead of running into the runner's own timeout.
	argv := []string{exe, "-test.short", "-test.v", "-test.timeout=4m"}
	nout, _ := runLong(t, argv, dir, env)
	native = parseGoTest(nout)

	sargv := append([]string(nil), argv...)
	if skip := skippedTests(pkg, exceptions); len(skip) > 0 {
		sargv = append(sargv, "-test.skip=^("+strings.Join(skip, "|")+")$")
	}
	scmd := []string{runsc(t), "do", "--platform=" + platformName, "--cwd", dir}
	for _, e := range env {
		scmd = append(scmd, "--env", e)
	}
	sout, _ := runLong(t, append(append(scmd, "--"), sargv...), dir, env)
	sandbox = parseGoTest(sout)
	if len(sandbox) == 0 {
		t.Errorf("%s: no test results in the sandbox:\n%s", pkg, tail(sout, 4000))
	}
	return native, sandbox
}

// skippedTests returns the top-level tests of pkg whose exception's reason
// starts with "skip:", as regexp-quoted names for -test.skip.
func skippedTests(pkg string, exceptions map[string]string) []string {
	var skip []string
	for id, reason := range exceptions {
		name, ok := strings.CutPrefix(id, pkg+".")
		if !ok || !strings.HasPrefix(reason, "skip:") || strings.ContainsAny(name, "/*") {
			continue
		}
		skip = append(skip, regexp.QuoteMeta(name))
	}
	sort.Strings(skip)
	return skip
}

// TestGoStdlibSkips checks skippedTests on an exceptions map.
func TestGoStdlibSkips(t *testing.T) {
	ex := map[string]string{
		"syscall.TestExec":       "skip: hangs",
		"syscall.TestOther":      "fails",
		"os/exec.TestExec":       "skip: other package",
		"syscall.TestSub/x":      "skip: subtests cannot be skipped alone",
		"syscall.TestLong.Thing": "skip: dots are quoted",
	}
	got := fmt.Sprint(skippedTests("syscall", ex))
	if want := `[TestExec TestLong\.Thing]`; got != want {
		t.Errorf("skippedTests = %s, want %s", got, want)
	}
}
