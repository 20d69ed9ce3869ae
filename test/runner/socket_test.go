package runner

import (
	"strings"
	"testing"
)

// socketProbeCases are the socket probes (test/probes/socket_*.c),
// compared native vs sandbox like probeCases.
var socketProbeCases = []probeCase{
	{name: "socket_unix", probe: "socket_unix", args: func(t *testing.T, _ bool) []string {
		return []string{scratch(t, "sockdir")}
	}},
}

// TestSocketProbes runs every socket probe natively and in the sandbox and
// requires the same output and status, up to declared divergences.
func TestSocketProbes(t *testing.T) {
	for _, pc := range socketProbeCases {
		for _, variant := range variantsOf(pc.probe) {
			t.Run(pc.name+"/"+variant, func(t *testing.T) { compareProbe(t, pc, variant) })
		}
	}
}

// TestSocketPython checks a real program's use of AF_UNIX: Python's
// socketpair, send and recv.
func TestSocketPython(t *testing.T) {
	needTool(t, "/usr/bin/python3", "python3")
	argv := []string{"/usr/bin/python3", "-c", `import socket
a, b = socket.socketpair()
a.send(b"x")
print(b.recv(1))
a.close()
print(b.recv(1))`}
	native := runNative(t, argv, runOpts{})
	sandbox := runSandbox(t, argv, runOpts{})
	if native.status != 0 || strings.TrimSpace(native.stdout) != "b'x'\nb''" {
		t.Fatalf("native run:\n%s", native)
	}
	if sandbox.stdout != native.stdout || sandbox.status != 0 {
		t.Errorf("sandbox differs\n--- native:\n%s--- sandbox:\n%s", native, sandbox)
	}
}
