package seccomptrap

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDeafVerdict(t *testing.T) {
	first := threadLook{blocked: true, events: 7, cpu: time.Second}
	for _, tc := range []struct {
		name       string
		now        threadLook
		keep, kill bool
	}{
		// Blocked but off the CPU, however long: a starved, stopped or
		// frozen thread in its handler.
		{"starved", threadLook{blocked: true, events: 7, cpu: time.Second}, true, false},
		{"ran a little", threadLook{blocked: true, events: 7, cpu: time.Second + deafCPU - 1}, true, false},
		{"deaf", threadLook{blocked: true, events: 7, cpu: time.Second + deafCPU}, false, true},
		{"unblocked", threadLook{blocked: false, events: 7, cpu: 2 * time.Second}, false, false},
		{"posted", threadLook{blocked: true, events: 8, cpu: 2 * time.Second}, false, false},
	} {
		keep, kill := deafVerdict(first, tc.now)
		if keep != tc.keep || kill != tc.kill {
			t.Errorf("%s: keep %v kill %v, want %v %v", tc.name, keep, kill, tc.keep, tc.kill)
		}
	}
}

func TestCPUTime(t *testing.T) {
	dir := fmt.Sprintf("/proc/self/task/%d/", os.Getpid())
	if _, err := os.Stat(dir + "schedstat"); err != nil {
		t.Skipf("this kernel has no schedstat: %v", err)
	}
	a, err := cpuTime(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Burn CPU on this thread (the main thread, which the test's
	// goroutine may not be on; the process's own counter is not per
	// thread). So just check it is plausible and moves forward.
	b, err := cpuTime(dir)
	if err != nil || b < a || a <= 0 {
		t.Fatalf("cpuTime: %v then %v, %v", a, b, err)
	}

	// Without schedstat: utime+stime from stat, after a name with spaces
	// and parentheses.
	tmp := t.TempDir() + "/"
	stat := "42 (a (b) c) R 1 1 1 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 1 0 3992098"
	if err := os.WriteFile(filepath.Join(tmp, "stat"), []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := cpuTime(tmp)
	if err != nil || got != 3*time.Second {
		t.Fatalf("cpuTime from stat: %v, %v; want 3s", got, err)
	}
}
