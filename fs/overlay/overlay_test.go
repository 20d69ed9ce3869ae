package overlay_test

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/hostfs"
	"github.com/runsc-lite/runsc-lite/fs/overlay"
	"github.com/runsc-lite/runsc-lite/fs/tmpfs"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

type testCtx struct{ creds *auth.Credentials }

func (c testCtx) Credentials() *auth.Credentials { return c.creds }

// snapshot describes a host tree byte for byte: names, types, modes,
// owners, mtimes, contents and link targets.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %v %d %v", strings.TrimPrefix(p, dir), info.Mode(), info.Size(), info.ModTime().UnixNano())
		switch {
		case info.Mode().IsRegular():
			data, _ := os.ReadFile(p)
			fmt.Fprintf(&b, " %x", sha256.Sum256(data))
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			fmt.Fprintf(&b, " -> %s", target)
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func setup(t *testing.T) (string, *vfs.VirtualFilesystem, vfs.VirtualDentry) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"etc", "dir/sub", "empty", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, s := range map[string]string{"etc/passwd": "root:x:0:0\n", "dir/a": "aaa", "dir/sub/b": "bbb", "exe": "#!/bin/sh\n"} {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("etc/passwd", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	lowerFS, lowerRoot, err := hostfs.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lowerFS.Release)
	upperFS, upperRoot := tmpfs.New(tmpfs.Options{}, 0o755, 0, 0)
	ctx := vfs.RootContext()
	ofs, oroot, err := overlay.New(ctx, upperFS, upperRoot, lowerRoot)
	if err != nil {
		t.Fatal(err)
	}
	v := vfs.New()
	v.SetRoot(v.NewMount(v.NewFilesystem(ofs), oroot, vfs.MountOptions{}))
	return dir, v, v.Root()
}

func TestOverlayLeavesHostUntouched(t *testing.T) {
	dir, v, r := setup(t)
	before := snapshot(t, dir)
	ctx := vfs.RootContext()
	pop := func(p string) *vfs.PathOperation {
		return &vfs.PathOperation{Root: r, Start: r, Path: p, FollowFinalSymlink: true}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	read := func(p string) string {
		t.Helper()
		fd, err := v.OpenAt(ctx, pop(p), vfs.OpenOptions{})
		must(err)
		defer fd.DecRef()
		buf := make([]byte, 100)
		n, err := fd.Read(ctx, buf)
		must(err)
		return string(buf[:n])
	}
	list := func(p string) string {
		t.Helper()
		fd, err := v.OpenAt(ctx, pop(p), vfs.OpenOptions{Flags: linux.O_DIRECTORY})
		must(err)
		defer fd.DecRef()
		var names []string
		must(fd.IterDirents(ctx, func(d vfs.Dirent, _ int64) bool { names = append(names, d.Name); return true }))
		return strings.Join(names, " ")
	}

	ino0, err := v.StatAt(ctx, pop("/etc/passwd"))
	must(err)

	// Append to a lower file: copy-up keeps data and inode number.
	fd, err := v.OpenAt(ctx, pop("/etc/passwd"), vfs.OpenOptions{Flags: linux.O_WRONLY | linux.O_APPEND})
	must(err)
	_, err = fd.Write(ctx, []byte("guest:x:1000:1000\n"))
	must(err)
	fd.DecRef()
	if got := read("/etc/passwd"); got != "root:x:0:0\nguest:x:1000:1000\n" {
		t.Errorf("after append: %q", got)
	}
	if got := read("/link"); !strings.HasPrefix(got, "root:x:0:0\nguest") {
		t.Errorf("through link: %q", got)
	}
	st, err := v.StatAt(ctx, pop("/etc/passwd"))
	must(err)
	if st.Ino != ino0.Ino || st.Size != 29 {
		t.Errorf("ino %d (was %d), size %d", st.Ino, ino0.Ino, st.Size)
	}

	// chmod, truncate.
	must(v.SetStatAt(ctx, pop("/exe"), &vfs.SetStatOptions{Stat: linux.Statx{Mask: linux.STATX_MODE, Mode: 0o755}}))
	if st, _ := v.StatAt(ctx, pop("/exe")); st.Mode&0o777 != 0o755 {
		t.Errorf("chmod: %o", st.Mode)
	}
	if got := read("/exe"); got != "#!/bin/sh\n" {
		t.Errorf("chmod lost data: %q", got)
	}
	must(v.SetStatAt(ctx, pop("/dir/a"), &vfs.SetStatOptions{Stat: linux.Statx{Mask: linux.STATX_SIZE, Size: 1}}))
	if got := read("/dir/a"); got != "a" {
		t.Errorf("truncate: %q", got)
	}

	// New files and directories, including in /tmp.
	fd, err = v.OpenAt(ctx, pop("/tmp/new"), vfs.OpenOptions{Flags: linux.O_CREAT | linux.O_RDWR, Mode: 0o600})
	must(err)
	_, err = fd.Write(ctx, []byte("fresh"))
	must(err)
	fd.DecRef()
	must(v.MkdirAt(ctx, pop("/newdir"), 0o700))
	must(v.SymlinkAt(ctx, pop("/newdir/l"), "/tmp/new"))
	if got := read("/newdir/l"); got != "fresh" {
		t.Errorf("new file via new link: %q", got)
	}
	must(v.LinkAt(ctx, pop("/tmp/new"), pop("/tmp/hard")))
	if got := read("/tmp/hard"); got != "fresh" {
		t.Errorf("hard link: %q", got)
	}

	// Rename a lower file (copy-up + whiteout) and a new one.
	must(v.RenameAt(ctx, pop("/dir/sub/b"), pop("/dir/b2"), 0))
	if got := read("/dir/b2"); got != "bbb" {
		t.Errorf("renamed: %q", got)
	}
	if _, err := v.StatAt(ctx, pop("/dir/sub/b")); err != errno.ENOENT {
		t.Errorf("old name: %v", err)
	}
	// Renaming a lower directory copies its tree up; renaming it back
	// leaves the same contents under the old name.
	must(v.RenameAt(ctx, pop("/dir"), pop("/dir3"), 0))
	if got := read("/dir3/b2"); got != "bbb" {
		t.Errorf("renamed dir: %q", got)
	}
	if _, err := v.StatAt(ctx, pop("/dir")); err != errno.ENOENT {
		t.Errorf("old dir name: %v", err)
	}
	must(v.RenameAt(ctx, pop("/dir3"), pop("/dir"), 0))
	if got := list("/dir"); got != ". .. a b2 sub" {
		t.Errorf("dir renamed back: %q", got)
	}
	must(v.RenameAt(ctx, pop("/newdir"), pop("/newdir2"), 0))

	// Delete lower files and directories: whiteouts.
	if err := v.RmdirAt(ctx, pop("/dir")); err != errno.ENOTEMPTY {
		t.Errorf("rmdir nonempty: %v", err)
	}
	must(v.UnlinkAt(ctx, pop("/dir/a")))
	must(v.UnlinkAt(ctx, pop("/dir/b2")))
	must(v.RmdirAt(ctx, pop("/dir/sub")))
	if got := list("/dir"); got != ". .." {
		t.Errorf("dir after deletes: %q", got)
	}
	must(v.RmdirAt(ctx, pop("/dir")))
	must(v.UnlinkAt(ctx, pop("/link")))
	// A directory recreated over a whiteout is opaque.
	must(v.MkdirAt(ctx, pop("/dir"), 0o755))
	if got := list("/dir"); got != ". .." {
		t.Errorf("recreated dir shows lower entries: %q", got)
	}
	if got := list("/"); got != ". .. dir empty etc exe newdir2 tmp" {
		t.Errorf("root listing: %q", got)
	}
	must(v.RmdirAt(ctx, pop("/empty")))
	if _, err := v.StatAt(ctx, pop("/empty")); err != errno.ENOENT {
		t.Errorf("rmdir lower empty: %v", err)
	}

	if after := snapshot(t, dir); after != before {
		t.Errorf("host tree changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	var host []string
	filepath.WalkDir(dir, func(p string, _ fs.DirEntry, _ error) error { host = append(host, p); return nil })
	if slices.ContainsFunc(host, func(p string) bool { return strings.Contains(p, "new") }) {
		t.Errorf("guest file reached the host: %v", host)
	}
}

func TestOverlayPermissions(t *testing.T) {
	_, v, r := setup(t)
	user := testCtx{auth.NewCredentials(1000, 1000)}
	pop := func(p string) *vfs.PathOperation { return &vfs.PathOperation{Root: r, Start: r, Path: p} }
	// The host tree's files belong to whoever ran the test; a different
	// guest uid must not be able to write them.
	if os.Getuid() == 1000 {
		t.Skip("test needs a uid other than 1000")
	}
	if _, err := v.OpenAt(user, pop("/etc/passwd"), vfs.OpenOptions{Flags: linux.O_WRONLY}); err != errno.EACCES {
		t.Errorf("user write: %v", err)
	}
	if err := v.UnlinkAt(user, pop("/etc/passwd")); err != errno.EACCES {
		t.Errorf("user unlink: %v", err)
	}
}
