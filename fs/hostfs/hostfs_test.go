package hostfs_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/hostfs"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// hostTree builds a host directory with a secret file outside the root
// and symlinks that would escape it if the host followed them.
func hostTree(t *testing.T) (outside, rootDir string) {
	t.Helper()
	base := t.TempDir()
	outside = filepath.Join(base, "secret")
	rootDir = filepath.Join(base, "root")
	for _, d := range []string{rootDir + "/etc", rootDir + "/bin", rootDir + "/sub/dir"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(outside, "host secret")
	write(rootDir+"/etc/passwd", "sandbox passwd")
	write(rootDir+"/bin/tool", "#!tool")
	for link, target := range map[string]string{
		"/abs-passwd":   "/etc/passwd", // absolute: must mean the sandbox's /etc
		"/escape":       "../secret",   // relative escape: clamps at root
		"/escape-abs":   outside,       // absolute host path: not inside root
		"/etc-link":     "/etc",        // absolute dir link used in the middle
		"/sub/dir/up":   "../../..",    // climbs above the root
		"/sub/selfloop": "selfloop",    //
	} {
		if err := os.Symlink(target, rootDir+link); err != nil {
			t.Fatal(err)
		}
	}
	return outside, rootDir
}

func mount(t *testing.T, dir string) (*vfs.VirtualFilesystem, vfs.VirtualDentry) {
	t.Helper()
	fs, root, err := hostfs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fs.Release)
	v := vfs.New()
	v.SetRoot(v.NewMount(v.NewFilesystem(fs), root, vfs.MountOptions{ReadOnly: true}))
	return v, v.Root()
}

func readAll(t *testing.T, v *vfs.VirtualFilesystem, r vfs.VirtualDentry, p string) (string, error) {
	ctx := vfs.RootContext()
	fd, err := v.OpenAt(ctx, &vfs.PathOperation{Root: r, Start: r, Path: p, FollowFinalSymlink: true}, vfs.OpenOptions{})
	if err != nil {
		return "", err
	}
	defer fd.DecRef()
	buf := make([]byte, 100)
	n, err := fd.Read(ctx, buf)
	return string(buf[:n]), err
}

func TestSymlinksStayInsideRoot(t *testing.T) {
	outside, rootDir := hostTree(t)
	v, r := mount(t, rootDir)
	for _, tc := range []struct {
		name, path, want string
		wantErr          error
	}{
		{name: "plain", path: "/etc/passwd", want: "sandbox passwd"},
		{name: "absolute link is sandbox-relative", path: "/abs-passwd", want: "sandbox passwd"},
		{name: "dir link in the middle", path: "/etc-link/passwd", want: "sandbox passwd"},
		{name: "relative escape clamps", path: "/escape", wantErr: errno.ENOENT},
		{name: "host absolute path not visible", path: "/escape-abs", wantErr: errno.ENOENT},
		{name: "climb above root", path: "/sub/dir/up/etc/passwd", want: "sandbox passwd"},
		{name: "dotdot above root", path: "/../../etc/passwd", want: "sandbox passwd"},
		{name: "loop", path: "/sub/selfloop", wantErr: errno.ELOOP},
		{name: "nofollow component", path: "/bin/tool", want: "#!tool"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(t, v, r, tc.path)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	// The host secret is readable by the test, so ENOENT above really
	// was the VFS keeping the guest inside.
	if b, err := os.ReadFile(outside); err != nil || string(b) != "host secret" {
		t.Fatal("bad fixture")
	}
}

func TestReadOnlyAndTypes(t *testing.T) {
	_, rootDir := hostTree(t)
	v, r := mount(t, rootDir)
	ctx := vfs.RootContext()
	pop := func(p string) *vfs.PathOperation { return &vfs.PathOperation{Root: r, Start: r, Path: p} }
	if _, err := v.OpenAt(ctx, pop("/etc/passwd"), vfs.OpenOptions{Flags: linux.O_WRONLY}); err != errno.EROFS {
		t.Errorf("open for write: %v", err)
	}
	if err := v.MkdirAt(ctx, pop("/new"), 0o755); err != errno.EROFS {
		t.Errorf("mkdir: %v", err)
	}
	if err := v.UnlinkAt(ctx, pop("/etc/passwd")); err != errno.EROFS {
		t.Errorf("unlink: %v", err)
	}
	target, err := v.ReadlinkAt(ctx, pop("/escape-abs"))
	if err != nil || !filepath.IsAbs(target) {
		t.Errorf("readlink = %q, %v", target, err)
	}
	if _, err := v.ReadlinkAt(ctx, pop("/etc/passwd")); err != errno.EINVAL {
		t.Errorf("readlink of file: %v", err)
	}
	st, err := v.StatAt(ctx, pop("/abs-passwd"))
	if err != nil || !st.FileMode().IsSymlink() {
		t.Errorf("lstat of link: %v mode %o", err, st.Mode)
	}
	fd, err := v.OpenAt(ctx, pop("/"), vfs.OpenOptions{Flags: linux.O_DIRECTORY})
	if err != nil {
		t.Fatal(err)
	}
	defer fd.DecRef()
	types := map[string]uint8{}
	fd.IterDirents(ctx, func(d vfs.Dirent, _ int64) bool { types[d.Name] = d.Type; return true })
	if types["etc"] != linux.DT_DIR || types["abs-passwd"] != linux.DT_LNK || len(types) != 9 {
		t.Errorf("dirents %v", types)
	}
	// A host FIFO is never opened on the host (that could block the
	// sentry, or talk to a host process): it opens a pipe in the sentry,
	// which a non-blocking reader may open alone.
	if err := os.MkdirAll(rootDir, 0o755); err == nil {
		if err := syscallMkfifo(rootDir + "/fifo"); err == nil {
			f, err := v.OpenAt(ctx, pop("/fifo"), vfs.OpenOptions{Flags: linux.O_NONBLOCK})
			if err != nil {
				t.Errorf("open fifo: %v", err)
			} else {
				f.DecRef()
			}
			// No reader: "ENXIO O_NONBLOCK | O_WRONLY is set ... and
			// no process has the FIFO open for reading" - open(2); a
			// read-only tree does not matter for a FIFO.
			if _, err := v.OpenAt(ctx, pop("/fifo"), vfs.OpenOptions{Flags: linux.O_WRONLY | linux.O_NONBLOCK}); err != errno.ENXIO {
				t.Errorf("open fifo for writing on a read-only tree: %v", err)
			}
		}
	}
}

func syscallMkfifo(p string) error { return hostfs.Mkfifo(p) }
