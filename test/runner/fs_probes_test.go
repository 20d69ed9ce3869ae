package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fsProbeCases are the filesystem probes (test/probes/fs_*.c), compared
// native vs sandbox like probeCases.
var fsProbeCases = []probeCase{
	{name: "fs_errno", probe: "fs_errno", args: func(t *testing.T, _ bool) []string {
		return []string{scratch(t, "errno")}
	}},
	{name: "fs_locks", probe: "fs_locks", args: func(t *testing.T, _ bool) []string {
		return []string{scratch(t, "lockfile")}
	}},
	{name: "fs_fifo", probe: "fs_fifo", args: func(t *testing.T, _ bool) []string {
		return []string{scratch(t, "fifo")}
	}},
	{name: "fs_memfd", probe: "fs_memfd", args: noArgs},
	{name: "fs_pty", probe: "fs_pty", args: noArgs},
	{name: "fs_openat2", probe: "fs_openat2", args: func(t *testing.T, _ bool) []string {
		return []string{scratch(t, "openat2")}
	}},
	{name: "fs_inotify", probe: "fs_inotify", args: func(t *testing.T, _ bool) []string {
		return []string{scratch(t, "inotify")}
	}},
	{name: "fs_mountflags", probe: "fs_mountflags", args: func(t *testing.T, _ bool) []string {
		return []string{scratch(t, "mnt")}
	}},
}

// TestFSProbes runs every filesystem probe natively and in the sandbox and
// requires the same output and status.
func TestFSProbes(t *testing.T) {
	for _, pc := range fsProbeCases {
		for _, variant := range variantsOf(pc.probe) {
			t.Run(pc.name+"/"+variant, func(t *testing.T) { compareProbe(t, pc, variant) })
		}
	}
}

// TestFSVolume checks that --volume writes files and directories through
// to the host, and that a symlink the guest makes in the volume cannot
// lead a write outside it.
func TestFSVolume(t *testing.T) {
	host := t.TempDir()
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.WriteFile(outside, []byte("host"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `mkdir -p /vol/a/b && echo hello > /vol/a/b/f && ln -s ` + outside + ` /vol/esc &&
		(echo pwned > /vol/esc; true) && mv /vol/a /vol/c && chmod 600 /vol/c/b/f && cat /vol/c/b/f`
	r := runSandbox(t, []string{"/bin/sh", "-c", script}, runOpts{sandboxFlags: []string{"--volume", host + ":/vol"}})
	if r.status != 0 || strings.TrimSpace(r.stdout) != "hello" {
		t.Fatalf("sandbox run:\n%s", r)
	}
	got, err := os.ReadFile(filepath.Join(host, "c/b/f"))
	if err != nil || string(got) != "hello\n" {
		t.Errorf("volume file on host: %q, %v", got, err)
	}
	if st, err := os.Stat(filepath.Join(host, "c/b/f")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("chmod through the volume: %v %v", st, err)
	}
	if b, _ := os.ReadFile(outside); string(b) != "host" {
		t.Errorf("write through a guest symlink reached outside the volume: %q", b)
	}
	if target, err := os.Readlink(filepath.Join(host, "esc")); err != nil || target != outside {
		t.Errorf("symlink on host: %q %v", target, err)
	}
}

// TestFSProbesOnVolume runs the filesystem probes that work in a
// directory of their own with that directory on a --volume (hostfs,
// writable), mounted at the same path as on the host, so that the output
// must match native exactly.
func TestFSProbesOnVolume(t *testing.T) {
	for _, pc := range fsProbeCases {
		if pc.name == "fs_memfd" || pc.name == "fs_pty" || pc.name == "fs_mountflags" {
			continue // no directory of their own
		}
		t.Run(pc.name, func(t *testing.T) {
			bin := probe(t, pc.probe, "static")
			vol := t.TempDir()
			dir := filepath.Join(vol, "d")
			native := runNative(t, []string{bin, dir}, runOpts{})
			if native.status != pc.wantStatus {
				t.Fatalf("native run: want status %d\n%s", pc.wantStatus, native)
			}
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			sandbox := runSandbox(t, []string{bin, dir}, runOpts{sandboxFlags: []string{"--volume", vol + ":" + vol}})
			want := applyOverrides(native.stdout, sandboxExpect(t, pc.probe))
			want = applyOverrides(want, volumeExpect[pc.probe])
			for _, d := range volumeDrop[pc.probe] {
				want = dropInSection(want, d[0], d[1])
			}
			if sandbox.stdout != want || sandbox.status != native.status {
				t.Errorf("sandbox differs from native\n--- diff:\n%s\n--- sandbox:\n%s", lineDiff(want, sandbox.stdout), sandbox)
			}
		})
	}
}

// volumeExpect are the documented differences of the probes on a volume,
// as sandbox-expect lines.
var volumeExpect = map[string]map[string]string{
	// sandbox-divergence: the guest can't make device nodes on the host
	// (a node it made in a volume would be the host's to open).
	"fs_fifo": {"mknod chr:": "mknod chr: EPERM", "ischr=": "ischr=0 major=0 minor=0"},
}

// volumeDrop are native output lines, by section, that a volume run
// doesn't produce.
var volumeDrop = map[string][][2]string{
	// sandbox-divergence: inotify watches follow the sandbox's inodes; on
	// a volume two hard links are two inodes, so removing one link is not
	// seen as an attribute change of the other.
	"fs_inotify": {{"[unlink one of two links]", "  file ATTRIB"}},
}

// dropInSection removes the lines equal to line between the line section
// and the next line starting with "[".
func dropInSection(out, section, line string) string {
	var kept []string
	in := false
	for _, l := range strings.Split(out, "\n") {
		switch {
		case l == section:
			in = true
		case strings.HasPrefix(l, "["):
			in = false
		case in && l == line:
			continue
		}
		kept = append(kept, l)
	}
	return strings.Join(kept, "\n")
}
