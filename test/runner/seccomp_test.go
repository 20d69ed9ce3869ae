package runner

import "testing"

// TestSeccompFilter runs the seccomp probe natively and in the sandbox: a
// guest's own seccomp filter is evaluated by the sentry with Linux's
// verdicts and signal semantics.
func TestSeccompFilter(t *testing.T) {
	for _, variant := range variantsOf("seccomp_filter") {
		t.Run(variant, func(t *testing.T) {
			bin := probe(t, "seccomp_filter", variant)
			native := runNative(t, []string{bin}, runOpts{})
			if native.status != 0 {
				t.Fatalf("native run failed\n%s", native)
			}
			sandbox := runSandbox(t, []string{bin}, runOpts{})
			if sandbox.stdout != native.stdout || sandbox.status != native.status {
				t.Errorf("sandbox differs from native\n--- native:\n%s--- sandbox:\n%s\n--- diff:\n%s",
					native, sandbox, lineDiff(native.stdout, sandbox.stdout))
			}
		})
	}
}
