package runner

import (
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// The acceptance suites of IP networking: the Go standard library's net
// and net/http tests, and CPython's socket, selectors and asyncio tests,
// natively and in the sandbox (default network: loopback only). They
// need no network beyond loopback (-test.short skips the Go tests that
// want an external one; natively they pass the same in a network
// namespace with only lo).

// netSuites are the standard-library packages whose tests are run, each
// from its source directory with -test.short.
var netSuites = []string{"net", "net/http"}

// netSuitesExceptions lists the Go tests that pass natively but not in
// the sandbox, in gostd_exceptions.txt's format ("skip:" reasons keep a
// test from running in the sandbox at all).
const netSuitesExceptions = "gonet_exceptions.txt"

// netGoMinPassRatio is the bar for the Go net suites: at least this share
// of the tests that pass natively must pass in the sandbox.
const netGoMinPassRatio = 0.98

// TestGoNetSuites builds the net and net/http tests with CGO_ENABLED=0 and
// runs them, both packages at once, each natively and then in the sandbox
// (runGoSuite). At least netGoMinPassRatio of the tests that pass natively
// must pass in the sandbox, and each one that does not must be in
// test/gonet_exceptions.txt.
func TestGoNetSuites(t *testing.T) {
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
	exceptions := readExceptions(t, netSuitesExceptions)
	bin := t.TempDir()

	type outcome struct {
		pkg             string
		native, sandbox map[string]string
	}
	results := make([]outcome, len(netSuites))
	var wg sync.WaitGroup
	for i, pkg := range netSuites {
		wg.Add(1)
		go func() {
			defer wg.Done()
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
	passed, both := 0, 0
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
		passed += n
		both += s
		t.Logf("%-10s passing natively: %4d, also in the sandbox: %4d", r.pkg, n, s)
	}
	compareSuites(t, native, sandbox, "PASS", exceptions)
	ratio := float64(both) / float64(passed)
	t.Logf("net suites: %.1f%% of the tests passing natively pass in the sandbox (bar: %.0f%%)", 100*ratio, 100*netGoMinPassRatio)
	if ratio < netGoMinPassRatio {
		t.Errorf("sandbox pass ratio %.3f < %.2f", ratio, netGoMinPassRatio)
	}
}

// pythonNetSuites are the CPython regression tests of sockets and event
// loops (Debian's libpython3.11-testsuite), each run by its own
// `python3 -m test`, so that one that hangs or crashes in the sandbox
// costs only its own results.
var pythonNetSuites = []string{"test_socket", "test_selectors", "test.test_asyncio.test_events", "test.test_asyncio.test_streams"}

// pythonNetIgnore are test patterns (regrtest -i) left out of both runs.
// ThreadedVSOCKSocketStreamTest connects to the VM's own vsock CID, which
// hangs forever on the CI machine (a VM with /dev/vsock); the sandbox has
// no /dev/vsock, so it skips it anyway. test_sethostname, run as root,
// renames the host for a moment (the sandbox refuses it and skips).
// UDP-Lite (IPPROTO_UDPLITE, the *UDPLITE* classes) is a transport of
// its own that netstack does not have and the sandbox does not offer
// (socket() is EPROTONOSUPPORT, as on a kernel without it); Linux has
// deprecated it. Its cases are left out of both runs and counted apart in
// the README.
var pythonNetIgnore = []string{"ThreadedVSOCKSocketStreamTest", "test_sethostname", "*UDPLITE*"}

// TestNetPythonSuite runs CPython's socket and asyncio regression tests
// natively and in the sandbox. At least minPassRatio (95%) of the cases
// that pass natively must pass in the sandbox, and each one that does not
// must be in test/pynet_exceptions.txt.
func TestNetPythonSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole test suite; skipped in -short")
	}
	needTool(t, python3, "python3")
	needTool(t, "/usr/lib/python3.11/test/test_socket.py", "libpython3.11-testsuite")
	env := append(append([]string(nil), baseEnv...), "TMPDIR=/tmp")
	nativeDir := t.TempDir()
	native, sandbox := map[string]string{}, map[string]string{}
	for _, suite := range pythonNetSuites {
		argv := []string{python3, "-m", "test", "-v"}
		for _, pat := range pythonNetIgnore {
			argv = append(argv, "-i", pat)
		}
		argv = append(argv, suite)
		nout, _ := runLong(t, argv, nativeDir, env)
		scmd := []string{runsc(t), "do", "--platform=" + platformName, "--cwd", "/tmp"}
		for _, e := range env {
			scmd = append(scmd, "--env", e)
		}
		sout, _ := runLong(t, append(append(scmd, "--"), argv...), nativeDir, env)
		checkNoOrphans(t)
		// regrtest's last line; without it the run crashed or hung, and
		// the cases it did not reach have no result.
		if !strings.Contains(nout, "Tests result:") {
			t.Errorf("%s: the native run did not finish:\n%s", suite, tail(nout, 4000))
		}
		n, s := parseUnittest(nout), parseUnittest(sout)
		if len(s) == 0 {
			t.Errorf("%s: no results from the sandbox run:\n%s", suite, tail(sout, 4000))
		} else if !strings.Contains(sout, "Tests result:") {
			t.Logf("%s: the sandbox run did not finish (%d results):\n%s", suite, len(s), tail(sout, 4000))
		}
		for id, o := range n {
			native[id] = o
		}
		for id, o := range s {
			sandbox[id] = o
		}
	}
	compareSuites(t, native, sandbox, "ok", readExceptions(t, "pynet_exceptions.txt"))
}
