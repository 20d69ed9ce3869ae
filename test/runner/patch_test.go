package runner

import (
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestSyscallPatching runs the syspatch probe on seccomptrap, where its
// syscall sites get rewritten, and checks both that the output matches
// native and that the sentry really rewrote the probe's sites; with
// --syscall-patching=false it must rewrite none. The probe's checks (rcx
// and r11, the red zone, flags, SSE state across signals, threads racing
// through sites while they change, a GS base of the guest's own, restarts,
// fork) are in test/probes/syspatch.c.
func TestSyscallPatching(t *testing.T) {
	bin := probe(t, "syspatch", "static")
	native := runNative(t, []string{bin}, runOpts{})
	if native.status != 0 {
		t.Fatalf("native run failed\n%s", native)
	}
	patched := regexp.MustCompile(`msg="patched syscall site" .*sysno=(\d+)`)
	// Patching works on every x86-64 CPU, except that the trampolines
	// of a CPU with FSGSBASE use BMI2.
	canPatch := !hostHasFSGSBase(t) || cpu.X86.HasBMI2
	if !canPatch {
		t.Log("this CPU has FSGSBASE without BMI2: checking that no site is patched")
	}
	for _, on := range []bool{true, false} {
		log := filepath.Join(t.TempDir(), "sentry.log")
		flag := "--syscall-patching=false"
		if on {
			flag = "--syscall-patching=true"
		}
		argv := []string{runsc(t), "--debug", "--log", log, flag, "do", "--platform=seccomptrap", "--cwd", "/"}
		for _, e := range baseEnv {
			argv = append(argv, "--env", e)
		}
		r := run(t, append(append(argv, "--"), bin), baseEnv, "")
		checkNoOrphans(t)
		if r.status != 0 || r.stdout != native.stdout {
			t.Errorf("%s: sandbox differs from native\n--- native:\n%s--- sandbox:\n%s\n--- diff:\n%s", flag, native.stdout, r, lineDiff(native.stdout, r.stdout))
		}
		b, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		sysnos := map[string]bool{}
		for _, m := range patched.FindAllStringSubmatch(string(b), -1) {
			sysnos[m[1]] = true
		}
		if !on || !canPatch {
			if len(sysnos) != 0 {
				t.Errorf("%s: sites were patched anyway: %v", flag, sysnos)
			}
			continue
		}
		// getpid and getppid (the probe's own sites, and glibc's getppid
		// and syscall(2)) and clock_nanosleep (a glibc wrapper).
		for _, want := range []string{"39", "110", "230"} {
			if !sysnos[want] {
				t.Errorf("%s: no site of syscall %s was patched; patched: %v", flag, want, sysnos)
			}
		}
	}
}

// TestSyscallPatchingGo runs a Go program (test/programs/goaccept:
// goroutines, timers, signals, os/exec with pipes) on seccomptrap and
// checks that it matches native and that the sentry rewrote the syscall
// in Go's internal/runtime/syscall/linux.Syscall6, through which the
// runtime and package syscall make most of their calls.
func TestSyscallPatchingGo(t *testing.T) {
	if hostHasFSGSBase(t) && !cpu.X86.HasBMI2 {
		t.Skip("this CPU has FSGSBASE without BMI2: no patching")
	}
	exe := buildGoProgram(t, "goaccept")
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.Symbols()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var lo, hi uint64
	for _, s := range syms {
		if s.Name == "internal/runtime/syscall/linux.Syscall6" {
			lo, hi = s.Value, s.Value+s.Size
		}
	}
	if lo == 0 {
		t.Fatal("no internal/runtime/syscall/linux.Syscall6 in the Go binary")
	}

	native := runNative(t, []string{exe}, runOpts{})
	if native.status != 0 {
		t.Fatalf("native run failed\n%s", native)
	}
	log := filepath.Join(t.TempDir(), "sentry.log")
	argv := []string{runsc(t), "--debug", "--log", log, "do", "--platform=seccomptrap", "--cwd", "/"}
	for _, e := range baseEnv {
		argv = append(argv, "--env", e)
	}
	r := run(t, append(append(argv, "--"), exe), baseEnv, "")
	checkNoOrphans(t)
	if r.status != native.status || r.stdout != native.stdout {
		t.Errorf("sandbox differs from native\n--- native:\n%s--- sandbox:\n%s\n--- diff:\n%s", native.stdout, r, lineDiff(native.stdout, r.stdout))
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var ips []string
	for _, m := range regexp.MustCompile(`msg="patched syscall site" .*ip=0x([0-9a-f]+)`).FindAllStringSubmatch(string(b), -1) {
		ip, _ := strconv.ParseUint(m[1], 16, 64)
		if ip >= lo && ip < hi {
			return
		}
		ips = append(ips, m[1])
	}
	t.Errorf("Syscall6 [%#x, %#x) was not patched; patched sites: %v", lo, hi, ips)
}

// hostHasFSGSBase reports whether user space may use the FS/GS base
// instructions, as the kernel tells processes in AT_HWCAP2
// (HWCAP2_FSGSBASE): the condition the seccomptrap platform checks.
func hostHasFSGSBase(t *testing.T) bool {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		t.Fatal(err)
	}
	const atHWCAP2, hwcap2FSGSBase = 26, 1 << 1
	for i := 0; i+16 <= len(b); i += 16 {
		if binary.LittleEndian.Uint64(b[i:]) == atHWCAP2 {
			return binary.LittleEndian.Uint64(b[i+8:])&hwcap2FSGSBase != 0
		}
	}
	return false
}
