package rootfs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/fs/rootfs"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

func TestBuild(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "dev/sda"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	v, root, err := rootfs.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := vfs.RootContext()
	pop := func(p string) *vfs.PathOperation {
		return &vfs.PathOperation{Root: root, Start: root, Path: p, FollowFinalSymlink: true}
	}
	if _, err := v.StatAt(ctx, pop("/dev/sda")); err == nil {
		t.Errorf("host /dev visible")
	}
	for _, p := range []string{"/dev/null", "/dev/shm", "/proc", "/hello"} {
		if _, err := v.StatAt(ctx, pop(p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	st, _ := v.StatAt(ctx, pop("/dev/shm"))
	if st.Mode&0o7777 != 0o1777 {
		t.Errorf("/dev/shm mode %o", st.Mode)
	}
	fd, err := v.OpenAt(ctx, pop("/tmp-new"), vfs.OpenOptions{Flags: linux.O_CREAT | linux.O_WRONLY, Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
	fd.DecRef()
	if _, err := os.Stat(filepath.Join(dir, "tmp-new")); !os.IsNotExist(err) {
		t.Errorf("guest file reached host: %v", err)
	}
	// A rootfs without /proc gets one in the overlay only.
	if _, err := os.Stat(filepath.Join(dir, "proc")); !os.IsNotExist(err) {
		t.Errorf("/proc created on host: %v", err)
	}
}

func TestBuildBadRootfs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	for _, p := range []string{filepath.Join(dir, "missing"), file} {
		if _, _, err := rootfs.Build(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("Build(%q) = %v", p, err)
		}
	}
}
