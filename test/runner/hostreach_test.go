package runner

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestHostReach runs the hostreach probe in the sandbox only (natively, as
// root, it would rename and mount on the host) and checks that every
// attempt was refused and the host did not change. If the sandbox let an
// attempt through, the test undoes it before failing.
func TestHostReach(t *testing.T) {
	for _, variant := range []string{"static", "dynamic"} {
		t.Run(variant, func(t *testing.T) {
			bin := probe(t, "hostreach", variant)
			target := t.TempDir()
			hostname, err := os.ReadFile("/proc/sys/kernel/hostname")
			if err != nil {
				t.Fatal(err)
			}
			domain, err := os.ReadFile("/proc/sys/kernel/domainname")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if now, _ := os.ReadFile("/proc/sys/kernel/hostname"); string(now) != string(hostname) {
					t.Errorf("host hostname changed to %q; restoring %q", now, hostname)
					unix.Sethostname(hostname[:len(hostname)-1]) // drop the "\n"
				}
				if now, _ := os.ReadFile("/proc/sys/kernel/domainname"); string(now) != string(domain) {
					t.Errorf("host domainname changed to %q; restoring %q", now, domain)
					unix.Setdomainname(domain[:len(domain)-1])
				}
				for isMountPoint(t, target) {
					t.Errorf("%s was mounted on the host; unmounting", target)
					if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
						t.Errorf("umount %s: %v", target, err)
						break
					}
				}
			})

			r := runSandbox(t, []string{bin, target, fmt.Sprint(os.Getpid())}, runOpts{})
			if r.status != 0 {
				t.Fatalf("hostreach failed in the sandbox\n%s", r)
			}
			// The probe's attempts and the errnos that count as refusal.
			want := map[string][]string{
				"sethostname":   {"EPERM", "ENOSYS"},
				"setdomainname": {"EPERM", "ENOSYS"},
				// Mounts are allowed: they change the sandbox's own mount
				// table, and the host-side check above proves the host's is
				// untouched.
				"mount tmpfs":            {"EPERM", "ENOSYS", "ALLOWED"},
				"mount bind /":           {"EPERM", "ENOSYS", "ALLOWED"},
				"reboot CAD_OFF":         {"EPERM", "ENOSYS"},
				"ptrace TRACEME":         {"EPERM", "ENOSYS"},
				"ptrace ATTACH host pid": {"EPERM", "ESRCH", "ENOSYS"},
				"kill host pid":          {"ESRCH", "EPERM"},
			}
			got := map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
				what, res, _ := strings.Cut(line, ": ")
				got[what] = res
			}
			for what, errnos := range want {
				res, ok := got[what]
				if !ok {
					t.Errorf("%s: no result in output\n%s", what, r)
					continue
				}
				e, refused := strings.CutPrefix(res, "refused ")
				if res == "ALLOWED" && contains(errnos, "ALLOWED") {
					continue
				}
				if !refused || !contains(errnos, e) {
					t.Errorf("%s: got %q, want refused with one of %v", what, res, errnos)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isMountPoint reports whether dir is a mount point in our (the host's)
// mount namespace.
func isMountPoint(t *testing.T, dir string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// Field 5 is the mount point (with octal escapes, which our
		// temporary paths do not need).
		if f := strings.Fields(sc.Text()); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

// TestRootfsEscape gives the guest a rootfs containing symlinks that point
// outside it, absolutely and with "..", and checks that it can neither
// read nor write the host files they name: each path either fails with
// ENOENT or resolves inside the rootfs.
func TestRootfsEscape(t *testing.T) {
	bin := probe(t, "escape", "static")
	top := t.TempDir()
	rootfs := filepath.Join(top, "rootfs")
	secretDir := filepath.Join(top, "host")
	secret := filepath.Join(secretDir, "secret")
	victim := filepath.Join(secretDir, "victim")
	const secretText = "HOST-SECRET-7d41"
	const victimText = "host victim, unchanged\n"
	mustMkdir(t, filepath.Join(rootfs, "etc"))
	mustMkdir(t, filepath.Join(rootfs, "dir", "sub"))
	mustMkdir(t, secretDir)
	mustWrite(t, secret, secretText+"\n")
	mustWrite(t, victim, victimText)
	mustWrite(t, filepath.Join(rootfs, "etc", "hostname"), "in-rootfs-hostname\n")
	copyFile(t, bin, filepath.Join(rootfs, "probe"))
	rel := func(n int) string { return strings.Repeat("../", n) }
	links := map[string]string{
		"esc-abs-hostname":   "/etc/hostname",         // exists in the rootfs: read that
		"esc-abs-passwd":     "/etc/passwd",           // absent from the rootfs
		"esc-abs-secret":     secret,                  // the host path of a host file
		"esc-rel-secret":     rel(1) + "host/secret",  // rootfs/.. is rootfs
		"esc-deep-secret":    rel(12) + secret[1:],    // climbs far above /
		"dir/sub/esc-rel":    rel(6) + "etc/hostname", // clamps at the rootfs root
		"esc-dir-host":       secretDir,               // a directory symlink
		"esc-dir-etc":        "/etc",                  // resolves to rootfs/etc
		"esc-write-victim":   victim,                  // writing through it must not reach the host
		"esc-write-new":      filepath.Join(secretDir, "created-by-guest"),
		"dir/esc-rel-parent": "../..", // rootfs/dir/../.. is rootfs
	}
	for l, target := range links {
		if err := os.Symlink(target, filepath.Join(rootfs, l)); err != nil {
			t.Fatal(err)
		}
	}

	paths := []string{
		"read:/esc-abs-hostname",
		"read:/esc-abs-passwd",
		"read:/esc-abs-secret",
		"read:/esc-rel-secret",
		"read:/esc-deep-secret",
		"read:/dir/sub/esc-rel",
		"read:/esc-dir-host/secret",
		"read:/esc-dir-etc/hostname",
		"read:/dir/esc-rel-parent/etc/hostname",
		"read:/../../../../etc/hostname",
		"read:" + rel(8) + secret[1:],
		"read:" + secret,
		"write:/esc-write-victim",
		"write:/esc-write-new",
		"write:/esc-dir-host/victim",
	}
	r := runSandbox(t, append([]string{"/probe"}, paths...), runOpts{
		sandboxFlags: []string{"--rootfs", rootfs},
	})
	if r.status != 0 {
		t.Fatalf("escape probe failed\n%s", r)
	}
	if strings.Contains(r.stdout, secretText) {
		t.Errorf("the guest read a host file outside its rootfs\n%s", r)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		p, res, _ := strings.Cut(line, ": ")
		switch {
		case res == "ENOENT", res == "content in-rootfs-hostname":
		case strings.HasPrefix(p, "write:") && strings.HasPrefix(res, "wrote"):
			// Allowed only if the write landed inside the sandbox; the
			// host checks below catch the rest.
		default:
			t.Errorf("%s: got %q, want ENOENT or the in-rootfs file", p, res)
		}
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != victimText {
		t.Errorf("host file %s changed: %q, %v", victim, b, err)
	}
	if _, err := os.Lstat(filepath.Join(secretDir, "created-by-guest")); err == nil {
		t.Errorf("the guest created %s on the host", filepath.Join(secretDir, "created-by-guest"))
	}
	// Writes go to the sandbox's in-memory overlay, never to the rootfs.
	if b, err := os.ReadFile(filepath.Join(rootfs, "etc", "hostname")); err != nil || string(b) != "in-rootfs-hostname\n" {
		t.Errorf("rootfs etc/hostname changed: %q, %v", b, err)
	}
	for l, target := range links {
		if got, err := os.Readlink(filepath.Join(rootfs, l)); err != nil || got != target {
			t.Errorf("rootfs symlink %s changed: %q, %v", l, got, err)
		}
	}
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
