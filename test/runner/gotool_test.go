package runner

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestGoToolchain runs the Go toolchain inside the sandbox: `go build`, the
// program it built and `go test` of a small module, GO_TOOLCHAIN_RUNS times
// (default 2), each time with a changed source so that compile, link and
// the test binary really run, while a native build of the standard library
// loads the host's CPUs. Under load, seccomptrap once killed compile
// processes whose threads the host left off the CPU inside their signal
// handler (platform/seccomptrap/deaf.go).
//
// The standard library comes from a GOCACHE warmed natively and shared
// through a volume, so that each run compiles the module, not std.
func TestGoToolchain(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH")
	}
	if goTool, err = filepath.Abs(goTool); err != nil {
		t.Fatal(err)
	}
	runs := 2
	if v := os.Getenv("GO_TOOLCHAIN_RUNS"); v != "" {
		if runs, err = strconv.Atoi(v); err != nil {
			t.Fatalf("GO_TOOLCHAIN_RUNS: %v", err)
		}
	}
	tmp := t.TempDir()
	mod, cache := filepath.Join(tmp, "mod"), filepath.Join(tmp, "cache")
	for _, d := range []string{mod, cache} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(mod, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	source := func(i int) {
		write("main.go", fmt.Sprintf("package main\n\nimport \"fmt\"\n\nconst n = %d\n\nfunc main() { fmt.Println(\"hello\", n, twice(n)) }\n\nfunc twice(x int) int { return 2 * x }\n", i))
		write("main_test.go", fmt.Sprintf("package main\n\nimport \"testing\"\n\nfunc TestTwice(t *testing.T) {\n\tif twice(%d) != %d {\n\t\tt.Fatal(\"twice\")\n\t}\n}\n", i, 2*i))
	}
	write("go.mod", "module hello\n\ngo 1.21\n")
	env := []string{"GOCACHE=" + cache, "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0", "GOPATH=" + filepath.Join(tmp, "gopath")}
	script := fmt.Sprintf("cd %s && %s build -o %s/h . && %s/h && %s test -count=1 . | awk '{print $1}'", mod, goTool, tmp, tmp, goTool)

	// Warm the cache natively (std, vet, the test runner's packages).
	source(0)
	if r := runNative(t, []string{"/bin/sh", "-c", script}, runOpts{env: env}); r.status != 0 {
		t.Fatalf("native run: %s", r)
	}

	// The load: native builds of std from scratch, one after another.
	ctx, cancel := context.WithCancel(context.Background())
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		for ctx.Err() == nil {
			load := exec.CommandContext(ctx, goTool, "build", "-a", "std")
			load.Env = append(os.Environ(), "GOCACHE="+filepath.Join(tmp, "loadcache"), "GOTOOLCHAIN=local")
			load.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
			load.Cancel = func() error { return syscall.Kill(-load.Process.Pid, syscall.SIGKILL) }
			load.Run()
		}
	}()
	stopLoad := func() { cancel(); <-loadDone }
	defer stopLoad()

	flags := []string{"--volume", tmp + ":" + tmp}
	for i := 1; i <= runs; i++ {
		source(i)
		// Not runSandbox: the load's processes are our children too;
		// leftovers are checked once it has stopped.
		r := run(t, sandboxArgv(t, []string{"/bin/sh", "-c", script}, runOpts{env: env, sandboxFlags: flags}), baseEnv, "")
		want := fmt.Sprintf("hello %d %d\nok\n", i, 2*i)
		if r.status != 0 || r.stdout != want {
			t.Fatalf("run %d of %d: want stdout %q\n%s", i, runs, want, r)
		}
		if strings.Contains(r.stderr, "signal") {
			t.Errorf("run %d: %s", i, r.stderr)
		}
	}
	stopLoad()
	checkNoOrphans(t)
}
