package runner

import (
	"strings"
	"testing"
)

// inetProbeCases are the IP networking probes (test/probes/socket_inet*.c,
// socket_ping.c, socket_netlink.c), compared native vs sandbox like
// socketProbeCases. They talk over loopback only (127.0.0.1, ::1), use
// kernel-chosen ports and print no port, so they do not collide with each
// other or with whatever else runs on the host.
var inetProbeCases = []probeCase{
	{name: "socket_inet_tcp", probe: "socket_inet_tcp", args: noArgs},
	// Known difference: Linux drops a UDP socket's kernel-chosen port when
	// connect(AF_UNSPEC) dissolves its association (__udp_disconnect);
	// netstack keeps it. Both runs skip that section (README, Limitations).
	{name: "socket_inet_udp", probe: "socket_inet_udp", args: func(*testing.T, bool) []string { return []string{"-unspecport"} }},
	{name: "socket_inet_errno", probe: "socket_inet_errno", args: noArgs},
	{name: "socket_inet_opts", probe: "socket_inet_opts", args: noArgs},
	// Linux's default net.ipv4.ping_group_range ("1 0") refuses ping
	// sockets to everyone, root included, while the sandbox allows them.
	// The native run gets a network namespace of its own, with lo up and
	// ping sockets allowed there, which leaves the host's setting alone.
	{name: "socket_ping", probe: "socket_ping", args: func(_ *testing.T, sandbox bool) []string {
		if sandbox {
			return nil
		}
		return []string{"own-netns"}
	}},
	{name: "socket_netlink", probe: "socket_netlink", args: noArgs},
}

// TestInetProbes runs every IP networking probe natively and in the
// sandbox and requires the same output and status, up to declared
// divergences.
func TestInetProbes(t *testing.T) {
	for _, pc := range inetProbeCases {
		for _, variant := range variantsOf(pc.probe) {
			t.Run(pc.name+"/"+variant, func(t *testing.T) { compareProbe(t, pc, variant) })
		}
	}
}

// TestProbesDeterministicInet is TestProbesDeterministic for
// inetProbeCases (its name makes `make test-native` run it too): two
// native runs must print the same, and nothing may fail natively.
func TestProbesDeterministicInet(t *testing.T) {
	for _, pc := range inetProbeCases {
		t.Run(pc.name, func(t *testing.T) {
			bin := probe(t, pc.probe, "static")
			o := runOpts{env: pc.env, stdin: pc.stdin}
			a := runNative(t, append([]string{bin}, pc.args(t, false)...), o)
			b := runNative(t, append([]string{bin}, pc.args(t, false)...), o)
			overrides := sandboxExpect(t, pc.probe)
			a.stdout, b.stdout = applyOverrides(a.stdout, overrides), applyOverrides(b.stdout, overrides)
			if a.stdout != b.stdout || a.status != b.status {
				t.Errorf("two native runs differ:\n%s\n---\n%s\n--- diff:\n%s", a, b, lineDiff(a.stdout, b.stdout))
			}
			if a.status != pc.wantStatus {
				t.Errorf("native run: want status %d\n%s", pc.wantStatus, a)
			}
			for _, bad := range []string{"FAIL", "succeeded", "mismatch", "timeout"} {
				if strings.Contains(a.stdout, bad) {
					t.Errorf("probe fails natively (%q):\n%s", bad, a)
				}
			}
		})
	}
}
