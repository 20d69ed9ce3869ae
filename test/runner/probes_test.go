package runner

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// probeCase is one probe invocation compared native vs sandbox.
type probeCase struct {
	name  string // test name
	probe string // test/probes/<probe>.c
	// args returns the probe's arguments; sandbox says which run they are
	// for, so that runs that create files use separate directories.
	args  func(t *testing.T, sandbox bool) []string
	env   []string
	stdin string
	// wantStatus is the expected status of both runs (128+N: signal N).
	wantStatus int
}

// scratch returns a path under a fresh host temporary directory that does
// not exist yet. The sandbox sees the host's /tmp through its overlay, so
// the same kind of path works in both runs.
func scratch(t *testing.T, name string) string {
	return filepath.Join(t.TempDir(), name)
}

func noArgs(*testing.T, bool) []string { return nil }

func fixedArgs(args ...string) func(*testing.T, bool) []string {
	return func(*testing.T, bool) []string { return args }
}

var probeCases = []probeCase{
	{name: "hello", probe: "hello", args: noArgs},
	{name: "exit42", probe: "exit42", args: noArgs, wantStatus: 42},
	{name: "args", probe: "args", args: fixedArgs("one", "two words", ""), env: []string{"PROBE_ENV=xyz"}},
	{name: "uname", probe: "uname", args: noArgs},
	{name: "enosys", probe: "enosys", args: noArgs},
	{name: "identity", probe: "identity", args: noArgs},
	{name: "time", probe: "time", args: noArgs},
	{name: "vdso", probe: "vdso", args: noArgs},
	{name: "blockread", probe: "blockread", args: noArgs, stdin: "line from stdin\n"},
	{name: "fileops", probe: "fileops", args: func(t *testing.T, _ bool) []string {
		return []string{scratch(t, "fileops")}
	}},
	{name: "mmap", probe: "mmap", args: noArgs},
	{name: "mmap-segv-unmapped", probe: "mmap", args: fixedArgs("segv-unmapped"), wantStatus: 128 + 11},
	{name: "mmap-segv-readonly", probe: "mmap", args: fixedArgs("segv-readonly"), wantStatus: 128 + 11},
	// Processes, threads and signals. Sections that hit a known sandbox
	// bug are left out here ("-section") and run by knownBugCases.
	{name: "forkwait", probe: "forkwait", args: noArgs},
	{name: "threads", probe: "threads", args: noArgs},
	{name: "signals", probe: "signals", args: noArgs},
	{name: "futex", probe: "futex", args: noArgs},
	{name: "pipes", probe: "pipes", args: noArgs},
	{name: "poll", probe: "poll", args: noArgs},
	{name: "timers", probe: "timers", args: noArgs},
	// Patched syscall sites (seccomptrap); the same checks hold anywhere.
	{name: "syspatch", probe: "syspatch", args: noArgs},
}

// knownBugCases are probe runs that fail in the sandbox because of a sandbox
// bug, each with the bug. They pass natively (TestProbesDeterministic runs
// them) and are skipped in the sandbox unless RUNSC_LITE_KNOWN_BUGS=1, which
// is how to check a fix: once one passes, move it to probeCases (and drop
// the probe's matching "-section" argument there).
var knownBugCases = []struct {
	probeCase
	bug string
	// variants, if set, names the builds of the probeCases entry of the
	// same name that the bug breaks; those runs are skipped likewise.
	variants []string
}{}

// allProbeCases is probeCases followed by the known-bug cases.
func allProbeCases() []probeCase {
	all := append([]probeCase(nil), probeCases...)
	for _, kb := range knownBugCases {
		if kb.variants == nil {
			kb.probeCase.name = "known-bug/" + kb.probeCase.name
			all = append(all, kb.probeCase)
		}
	}
	return all
}

// variantsOf lists the builds of a probe.
func variantsOf(name string) []string {
	v := []string{"static", "dynamic"}
	if staticPIE[name] {
		v = append(v, "static-pie")
	}
	return v
}

// TestProbes runs every probe natively and in the sandbox and requires the
// same output and status, up to the probe's declared divergences.
func TestProbes(t *testing.T) {
	for _, pc := range allProbeCases() {
		for _, variant := range variantsOf(pc.probe) {
			t.Run(pc.name+"/"+variant, func(t *testing.T) {
				skipKnownBug(t, pc.name, variant)
				compareProbe(t, pc, variant)
			})
		}
	}
}

// compareProbe runs one build of a probe case natively and in the sandbox
// and requires the same output and status, up to the probe's declared
// divergences.
func compareProbe(t *testing.T, pc probeCase, variant string) {
	t.Helper()
	bin := probe(t, pc.probe, variant)
	o := runOpts{env: pc.env, stdin: pc.stdin}
	native := runNative(t, append([]string{bin}, pc.args(t, false)...), o)
	if native.status != pc.wantStatus {
		t.Fatalf("native run: want status %d\n%s", pc.wantStatus, native)
	}
	sandbox := runSandbox(t, append([]string{bin}, pc.args(t, true)...), o)
	want := applyOverrides(native.stdout, sandboxExpect(t, pc.probe))
	if sandbox.stdout != want || sandbox.status != native.status {
		t.Errorf("sandbox differs from native\n--- native (status %d, after sandbox-expect overrides):\n%s--- sandbox:\n%s\n--- diff:\n%s",
			native.status, want, sandbox, lineDiff(want, sandbox.stdout))
	}
}

// TestProbesDeterministic guards the probes themselves: two native runs
// must print the same, or the sandbox comparison would be flaky.
func TestProbesDeterministic(t *testing.T) {
	for _, pc := range allProbeCases() {
		t.Run(pc.name, func(t *testing.T) {
			bin := probe(t, pc.probe, "static")
			o := runOpts{env: pc.env, stdin: pc.stdin}
			a := runNative(t, append([]string{bin}, pc.args(t, false)...), o)
			b := runNative(t, append([]string{bin}, pc.args(t, false)...), o)
			// Divergent lines (pids) legitimately differ between runs too.
			overrides := sandboxExpect(t, pc.probe)
			a.stdout, b.stdout = applyOverrides(a.stdout, overrides), applyOverrides(b.stdout, overrides)
			if a.stdout != b.stdout || a.status != b.status {
				t.Errorf("two native runs differ:\n%s\n---\n%s", a, b)
			}
			if strings.Contains(a.stdout, "FAIL") || strings.Contains(a.stdout, "succeeded") {
				t.Errorf("probe fails natively:\n%s", a)
			}
		})
	}
}

// skipKnownBug skips the sandbox run of a known-bug case, or of a build
// that a known bug breaks, unless RUNSC_LITE_KNOWN_BUGS=1.
func skipKnownBug(t *testing.T, name, variant string) {
	t.Helper()
	if os.Getenv("RUNSC_LITE_KNOWN_BUGS") == "1" {
		return
	}
	kbName, isKB := strings.CutPrefix(name, "known-bug/")
	for _, kb := range knownBugCases {
		if kb.name != kbName {
			continue
		}
		if isKB == (kb.variants == nil) && (kb.variants == nil || slices.Contains(kb.variants, variant)) {
			t.Skipf("known sandbox bug (RUNSC_LITE_KNOWN_BUGS=1 runs it): %s", kb.bug)
		}
	}
}

// sandboxExpect reads a probe's `// sandbox-expect: key=value` lines. Each
// must come with a `// sandbox-divergence:` comment saying why.
func sandboxExpect(t *testing.T, name string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot(), "test", "probes", name+".c"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	overrides := map[string]string{}
	justified := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "// sandbox-divergence:") {
			justified = true
		}
		if v, ok := strings.CutPrefix(line, "// sandbox-expect:"); ok {
			v = strings.TrimSpace(v)
			key, _, ok := strings.Cut(v, "=")
			if !ok {
				t.Fatalf("%s.c: sandbox-expect %q has no key=", name, v)
			}
			overrides[key+"="] = v
		}
	}
	if len(overrides) != 0 && !justified {
		t.Fatalf("%s.c: sandbox-expect without a sandbox-divergence comment", name)
	}
	return overrides
}

// applyOverrides replaces native lines that start with an override's key
// with the line the sandbox must print instead.
func applyOverrides(out string, overrides map[string]string) string {
	if len(overrides) == 0 {
		return out
	}
	lines := strings.SplitAfter(out, "\n")
	for n, l := range lines {
		for key, want := range overrides {
			if strings.HasPrefix(l, key) {
				lines[n] = want + "\n"
			}
		}
	}
	return strings.Join(lines, "")
}

// lineDiff lists the lines that differ, with their line numbers, which is
// enough to read a probe mismatch.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var sb strings.Builder
	for n := 0; n < len(w) || n < len(g); n++ {
		var wl, gl string
		if n < len(w) {
			wl = w[n]
		}
		if n < len(g) {
			gl = g[n]
		}
		if wl != gl {
			fmt.Fprintf(&sb, "line %d:\n  native:  %s\n  sandbox: %s\n", n+1, wl, gl)
		}
	}
	return sb.String()
}
