package vfs_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/tmpfs"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

type testCtx struct{ creds *auth.Credentials }

func (c testCtx) Credentials() *auth.Credentials { return c.creds }

var root = testCtx{auth.NewCredentials(0, 0)}

// newTree returns a VFS with a tmpfs root holding:
//
//	/a/b/file ("hello")
//	/a/up -> ..         /abs -> /a/b      /escape -> ../../../a
//	/loop1 -> loop2     /loop2 -> loop1   /dangling -> nowhere
//	/chain0 -> chain1 -> ... -> chain40 -> /a/b/file
//	/mnt (a second tmpfs with /mnt/inner)
func newTree(t *testing.T) (*vfs.VirtualFilesystem, vfs.VirtualDentry) {
	t.Helper()
	v := vfs.New()
	fsImpl, rootInode := tmpfs.New(tmpfs.Options{}, 0o755, 0, 0)
	mnt := v.NewMount(v.NewFilesystem(fsImpl), rootInode, vfs.MountOptions{})
	v.SetRoot(mnt)
	r := v.Root()
	pop := func(p string) *vfs.PathOperation { return &vfs.PathOperation{Root: r, Start: r, Path: p} }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(v.MkdirAt(root, pop("/a"), 0o755))
	must(v.MkdirAt(root, pop("/a/b"), 0o755))
	fd, err := v.OpenAt(root, pop("/a/b/file"), vfs.OpenOptions{Flags: linux.O_CREAT | linux.O_WRONLY, Mode: 0o644})
	must(err)
	_, err = fd.Write(root, []byte("hello"))
	must(err)
	fd.DecRef()
	must(v.SymlinkAt(root, pop("/a/up"), ".."))
	must(v.SymlinkAt(root, pop("/abs"), "/a/b"))
	must(v.SymlinkAt(root, pop("/escape"), "../../../a"))
	must(v.SymlinkAt(root, pop("/loop1"), "loop2"))
	must(v.SymlinkAt(root, pop("/loop2"), "loop1"))
	must(v.SymlinkAt(root, pop("/dangling"), "nowhere"))
	for i := 0; i < 41; i++ {
		target := "chain" + itoa(i+1)
		if i == 40 {
			target = "/a/b/file"
		}
		must(v.SymlinkAt(root, pop("/chain"+itoa(i)), target))
	}
	must(v.MkdirAt(root, pop("/mnt"), 0o755))
	fs2, root2 := tmpfs.New(tmpfs.Options{}, 0o755, 0, 0)
	mnt2 := v.NewMount(v.NewFilesystem(fs2), root2, vfs.MountOptions{})
	mp, err := v.GetDentryAt(root, pop("/mnt"))
	must(err)
	must(v.MountAt(mp, mnt2))
	must(v.MkdirAt(root, pop("/mnt/inner"), 0o755))
	return v, r
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestResolve(t *testing.T) {
	v, r := newTree(t)
	file, err := v.StatAt(root, &vfs.PathOperation{Root: r, Start: r, Path: "/a/b/file"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		path    string
		follow  bool
		wantIno uint64 // 0: compare with wantErr only
		wantErr error
		// wantPath is the expected PathName of the result.
		wantPath string
	}{
		{name: "plain", path: "/a/b/file", follow: true, wantPath: "/a/b/file"},
		{name: "dot and slashes", path: "//a/./b//file", follow: true, wantPath: "/a/b/file"},
		{name: "dotdot at root stays", path: "/../../../a/b/file", follow: true, wantPath: "/a/b/file"},
		{name: "relative dotdot at root", path: "../..", follow: true, wantPath: "/"},
		{name: "symlink dir", path: "/a/up/a/b/file", follow: true, wantPath: "/a/b/file"},
		{name: "absolute symlink stays inside root", path: "/abs/file", follow: true, wantPath: "/a/b/file"},
		{name: "escaping relative symlink clamps at root", path: "/escape/b/file", follow: true, wantPath: "/a/b/file"},
		{name: "final symlink not followed", path: "/abs", follow: false, wantPath: "/abs"},
		{name: "trailing slash follows", path: "/abs/", follow: false, wantPath: "/a/b"},
		{name: "loop", path: "/loop1", follow: true, wantErr: errno.ELOOP},
		{name: "loop in middle", path: "/loop1/x", wantErr: errno.ELOOP},
		{name: "40 links ok", path: "/chain1", follow: true, wantPath: "/a/b/file"},
		{name: "41 links ELOOP", path: "/chain0", follow: true, wantErr: errno.ELOOP},
		{name: "dangling", path: "/dangling", follow: true, wantErr: errno.ENOENT},
		{name: "dangling nofollow", path: "/dangling", follow: false, wantPath: "/dangling"},
		{name: "missing", path: "/a/nope", wantErr: errno.ENOENT},
		{name: "file as dir", path: "/a/b/file/x", wantErr: errno.ENOTDIR},
		{name: "file trailing slash", path: "/a/b/file/", wantErr: errno.ENOTDIR},
		{name: "empty", path: "", wantErr: errno.ENOENT},
		{name: "long component", path: "/" + strings.Repeat("x", 256), wantErr: errno.ENAMETOOLONG},
		{name: "255 ok", path: "/" + strings.Repeat("x", 255), wantErr: errno.ENOENT},
		{name: "long path", path: strings.Repeat("/a", 2048), wantErr: errno.ENAMETOOLONG},
		{name: "mount crossing", path: "/mnt/inner", wantPath: "/mnt/inner"},
		{name: "dotdot out of mount", path: "/mnt/inner/../../a/b/file", wantPath: "/a/b/file"},
		{name: "dotdot at mount root", path: "/mnt/..", wantPath: "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vd, err := v.GetDentryAt(root, &vfs.PathOperation{Root: r, Start: r, Path: tc.path, FollowFinalSymlink: tc.follow})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := v.PathName(vd); got != tc.wantPath {
				t.Errorf("PathName = %q, want %q", got, tc.wantPath)
			}
			if tc.wantPath == "/a/b/file" {
				st, _ := v.Stat(root, vd)
				if st.Ino != file.Ino {
					t.Errorf("ino %d, want %d", st.Ino, file.Ino)
				}
			}
		})
	}
}

// TestChrootRoot checks that a process root below the tree's root confines
// "..", absolute paths and absolute symlinks.
func TestChrootRoot(t *testing.T) {
	v, r := newTree(t)
	aroot, err := v.GetDentryAt(root, &vfs.PathOperation{Root: r, Start: r, Path: "/a"})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SymlinkAt(root, &vfs.PathOperation{Root: aroot, Start: aroot, Path: "/b/out"}, "/../../b"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/b/file", "../../b/file", "/up/b/file", "/b/out/file", "/../b/out/out/file"} {
		vd, err := v.GetDentryAt(root, &vfs.PathOperation{Root: aroot, Start: aroot, Path: p, FollowFinalSymlink: true})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if got, _ := v.PathFrom(aroot, vd); got != "/b/file" {
			t.Errorf("%s resolved to %q", p, got)
		}
	}
}

func TestPermissions(t *testing.T) {
	v, r := newTree(t)
	user := testCtx{auth.NewCredentials(1000, 1000)}
	pop := func(p string) *vfs.PathOperation {
		return &vfs.PathOperation{Root: r, Start: r, Path: p, FollowFinalSymlink: true}
	}
	if err := v.SetStatAt(root, pop("/a/b"), &vfs.SetStatOptions{Stat: linux.Statx{Mask: linux.STATX_MODE, Mode: 0o700}}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.StatAt(user, pop("/a/b/file")); err != errno.EACCES {
		t.Errorf("search without x: %v, want EACCES", err)
	}
	if _, err := v.StatAt(root, pop("/a/b/file")); err != nil {
		t.Errorf("root bypasses: %v", err)
	}
	if err := v.MkdirAt(user, pop("/a/mine"), 0o755); err != errno.EACCES {
		t.Errorf("mkdir in root-owned dir: %v", err)
	}
	if _, err := v.OpenAt(user, pop("/a/b"), vfs.OpenOptions{}); err != errno.EACCES {
		t.Errorf("open 0700 dir as user: %v", err)
	}
	if err := v.SetStatAt(user, pop("/a"), &vfs.SetStatOptions{Stat: linux.Statx{Mask: linux.STATX_MODE, Mode: 0o777}}); err != errno.EPERM {
		t.Errorf("chmod by non-owner: %v", err)
	}
	// Root needs an x bit to execute.
	if err := v.AccessAt(root, pop("/a/b/file"), vfs.MayExec); err != errno.EACCES {
		t.Errorf("root exec of 0644: %v", err)
	}
	// Sticky /tmp-like dir: user may not delete root's file.
	if err := v.MkdirAt(root, pop("/tmp"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := v.SetStatAt(root, pop("/tmp"), &vfs.SetStatOptions{Stat: linux.Statx{Mask: linux.STATX_MODE, Mode: 0o1777}}); err != nil {
		t.Fatal(err)
	}
	fd, err := v.OpenAt(root, pop("/tmp/rootfile"), vfs.OpenOptions{Flags: linux.O_CREAT | linux.O_RDWR, Mode: 0o666})
	if err != nil {
		t.Fatal(err)
	}
	fd.DecRef()
	if err := v.UnlinkAt(user, pop("/tmp/rootfile")); err != errno.EPERM {
		t.Errorf("sticky unlink: %v", err)
	}
	fd, err = v.OpenAt(user, pop("/tmp/userfile"), vfs.OpenOptions{Flags: linux.O_CREAT | linux.O_RDWR, Mode: 0o600})
	if err != nil {
		t.Fatal(err)
	}
	fd.DecRef()
	st, _ := v.StatAt(root, pop("/tmp/userfile"))
	if st.UID != 1000 || st.GID != 1000 {
		t.Errorf("owner %d:%d", st.UID, st.GID)
	}
	if err := v.UnlinkAt(user, pop("/tmp/userfile")); err != nil {
		t.Errorf("own unlink: %v", err)
	}
}

func TestNamespaceOps(t *testing.T) {
	v, r := newTree(t)
	pop := func(p string) *vfs.PathOperation { return &vfs.PathOperation{Root: r, Start: r, Path: p} }
	for _, tc := range []struct {
		name string
		op   func() error
		want error
	}{
		{"mkdir exists", func() error { return v.MkdirAt(root, pop("/a"), 0o755) }, errno.EEXIST},
		{"mkdir over dangling symlink", func() error { return v.MkdirAt(root, pop("/dangling"), 0o755) }, errno.EEXIST},
		{"mkdir root", func() error { return v.MkdirAt(root, pop("/"), 0o755) }, errno.EEXIST},
		{"mkdir no parent", func() error { return v.MkdirAt(root, pop("/x/y"), 0o755) }, errno.ENOENT},
		{"rmdir nonempty", func() error { return v.RmdirAt(root, pop("/a")) }, errno.ENOTEMPTY},
		{"rmdir file", func() error { return v.RmdirAt(root, pop("/a/b/file")) }, errno.ENOTDIR},
		{"rmdir dot", func() error { return v.RmdirAt(root, pop("/a/.")) }, errno.EINVAL},
		{"rmdir mountpoint", func() error { return v.RmdirAt(root, pop("/mnt")) }, errno.EBUSY},
		{"unlink dir", func() error { return v.UnlinkAt(root, pop("/a")) }, errno.EISDIR},
		{"unlink missing", func() error { return v.UnlinkAt(root, pop("/zz")) }, errno.ENOENT},
		{"rename across mounts", func() error { return v.RenameAt(root, pop("/a/b/file"), pop("/mnt/file"), 0) }, errno.EXDEV},
		{"rename into self", func() error { return v.RenameAt(root, pop("/a"), pop("/a/b/c"), 0) }, errno.EINVAL},
		{"rename dir over file", func() error { return v.RenameAt(root, pop("/a/b"), pop("/abs"), 0) }, errno.ENOTDIR},
		{"rename file over dir", func() error { return v.RenameAt(root, pop("/a/b/file"), pop("/a"), 0) }, errno.EISDIR},
		{"rename noreplace", func() error { return v.RenameAt(root, pop("/loop1"), pop("/loop2"), linux.RENAME_NOREPLACE) }, errno.EEXIST},
		{"link dir", func() error { return v.LinkAt(root, pop("/a"), pop("/a2")) }, errno.EPERM},
		{"link across mounts", func() error { return v.LinkAt(root, pop("/a/b/file"), pop("/mnt/f")) }, errno.EXDEV},
		{"open dir for write", func() error { _, err := v.OpenAt(root, pop("/a"), vfs.OpenOptions{Flags: linux.O_RDWR}); return err }, errno.EISDIR},
		{"open nofollow symlink", func() error {
			_, err := v.OpenAt(root, pop("/abs"), vfs.OpenOptions{Flags: linux.O_NOFOLLOW})
			return err
		}, errno.ELOOP},
		{"open excl existing", func() error {
			_, err := v.OpenAt(root, pop("/a/b/file"), vfs.OpenOptions{Flags: linux.O_CREAT | linux.O_EXCL})
			return err
		}, errno.EEXIST},
		{"open directory flag on file", func() error {
			_, err := v.OpenAt(root, pop("/a/b/file"), vfs.OpenOptions{Flags: linux.O_DIRECTORY})
			return err
		}, errno.ENOTDIR},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.op(); err != tc.want {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}

	// O_CREAT through a dangling symlink creates its target.
	fd, err := v.OpenAt(root, &vfs.PathOperation{Root: r, Start: r, Path: "/dangling", FollowFinalSymlink: true},
		vfs.OpenOptions{Flags: linux.O_CREAT | linux.O_WRONLY, Mode: 0o600})
	if err != nil {
		t.Fatal(err)
	}
	fd.DecRef()
	if _, err := v.StatAt(root, pop("/nowhere")); err != nil {
		t.Errorf("target not created: %v", err)
	}

	// Rename moves the cached dentry; open files follow it.
	fd, err = v.OpenAt(root, pop("/a/b/file"), vfs.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fd.DecRef()
	if err := v.RenameAt(root, pop("/a/b"), pop("/c"), 0); err != nil {
		t.Fatal(err)
	}
	if got := fd.PathName(); got != "/c/file" {
		t.Errorf("PathName after rename = %q", got)
	}
	if _, err := v.StatAt(root, pop("/a/b/file")); err != errno.ENOENT {
		t.Errorf("old name: %v", err)
	}
	if err := v.UnlinkAt(root, pop("/c/file")); err != nil {
		t.Fatal(err)
	}
	if got := fd.PathName(); got != "/c/file (deleted)" {
		t.Errorf("PathName after unlink = %q", got)
	}
	buf := make([]byte, 10)
	if n, err := fd.ReadAt(buf, 0); n != 5 || string(buf[:n]) != "hello" {
		t.Errorf("read unlinked: %d %v", n, err)
	}
}

func TestGetdentsAndSeek(t *testing.T) {
	v, r := newTree(t)
	fd, err := v.OpenAt(root, &vfs.PathOperation{Root: r, Start: r, Path: "/a"}, vfs.OpenOptions{Flags: linux.O_DIRECTORY})
	if err != nil {
		t.Fatal(err)
	}
	defer fd.DecRef()
	var names []string
	collect := func(d vfs.Dirent, _ int64) bool { names = append(names, d.Name); return true }
	if err := fd.IterDirents(root, collect); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names, ","); got != ".,..,b,up" {
		t.Errorf("entries %q", got)
	}
	names = nil
	if err := fd.IterDirents(root, collect); err != nil || len(names) != 0 {
		t.Errorf("second pass: %v %v", names, err)
	}
	if _, err := fd.Seek(root, 0, linux.SEEK_SET); err != nil {
		t.Fatal(err)
	}
	if err := fd.IterDirents(root, collect); err != nil || len(names) != 4 {
		t.Errorf("after rewind: %v %v", names, err)
	}
	if _, err := fd.Read(root, make([]byte, 1)); err != errno.EISDIR {
		t.Errorf("read dir: %v", err)
	}
}
