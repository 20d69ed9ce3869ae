package vfs_test

import (
	"encoding/binary"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

func TestResolveFlags(t *testing.T) {
	v, r := newTree(t)
	a, err := v.GetDentryAt(root, &vfs.PathOperation{Root: r, Start: r, Path: "/a", FollowFinalSymlink: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		path    string
		resolve uint32
		want    error
	}{
		{"beneath child", "b/file", linux.RESOLVE_BENEATH, nil},
		{"beneath dotdot inside", "b/../b/file", linux.RESOLVE_BENEATH, nil},
		{"beneath escape", "..", linux.RESOLVE_BENEATH, errno.EXDEV},
		{"beneath absolute", "/a", linux.RESOLVE_BENEATH, errno.EXDEV},
		{"beneath symlink up", "up", linux.RESOLVE_BENEATH, errno.EXDEV},
		{"in_root dotdot stays", "../../b/file", linux.RESOLVE_IN_ROOT, nil},
		{"no_symlinks", "up", linux.RESOLVE_NO_SYMLINKS, errno.ELOOP},
		{"no_symlinks plain", "b/file", linux.RESOLVE_NO_SYMLINKS, nil},
		{"no_xdev", "../mnt/inner", linux.RESOLVE_NO_XDEV, errno.EXDEV},
		{"xdev allowed", "../mnt/inner", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pop := &vfs.PathOperation{Root: r, Start: a, Path: tc.path, FollowFinalSymlink: true, Resolve: tc.resolve}
			if _, err := v.GetDentryAt(root, pop); err != tc.want {
				t.Errorf("GetDentryAt(%q): %v, want %v", tc.path, err, tc.want)
			}
		})
	}
}

func TestTmpfileAndExchange(t *testing.T) {
	v, r := newTree(t)
	pop := func(p string) *vfs.PathOperation { return &vfs.PathOperation{Root: r, Start: r, Path: p} }
	f, err := v.OpenAt(root, pop("/a"), vfs.OpenOptions{Flags: linux.O_TMPFILE | linux.O_RDWR, Mode: 0o600})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := f.Stat(root); st.Nlink != 0 || !st.FileMode().IsRegular() {
		t.Errorf("tmpfile stat: nlink %d mode %o", st.Nlink, st.Mode)
	}
	f.Write(root, []byte("x"))
	if err := v.Link(root, f.VirtualDentry(), pop("/a/named")); err != nil {
		t.Fatalf("Link: %v", err)
	}
	f.DecRef()
	if st, err := v.StatAt(root, pop("/a/named")); err != nil || st.Size != 1 || st.Nlink != 1 {
		t.Errorf("named tmpfile: %+v %v", st, err)
	}
	ex, err := v.OpenAt(root, pop("/a"), vfs.OpenOptions{Flags: linux.O_TMPFILE | linux.O_WRONLY | linux.O_EXCL})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Link(root, ex.VirtualDentry(), pop("/a/named2")); err != errno.ENOENT {
		t.Errorf("Link of an O_EXCL tmpfile: %v, want ENOENT", err)
	}
	ex.DecRef()

	if err := v.RenameAt(root, pop("/a/named"), pop("/a/b"), linux.RENAME_EXCHANGE); err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if st, err := v.StatAt(root, pop("/a/b")); err != nil || !st.FileMode().IsRegular() {
		t.Errorf("/a/b after exchange: %o %v", st.Mode, err)
	}
	if _, err := v.StatAt(root, pop("/a/named/file")); err != nil {
		t.Errorf("/a/named/file after exchange: %v", err)
	}
	if err := v.RenameAt(root, pop("/a/b"), pop("/a/missing"), linux.RENAME_EXCHANGE); err != errno.ENOENT {
		t.Errorf("exchange with a missing name: %v", err)
	}
}

type mem struct{ b []byte }

func (m *mem) CopyInBytes(addr hostarch.Addr, dst []byte) (int, error) {
	return copy(dst, m.b[addr:]), nil
}
func (m *mem) CopyOutBytes(addr hostarch.Addr, src []byte) (int, error) {
	return copy(m.b[addr:], src), nil
}

func TestInotify(t *testing.T) {
	v, r := newTree(t)
	pop := func(p string) *vfs.PathOperation { return &vfs.PathOperation{Root: r, Start: r, Path: p} }
	in := v.NewInotify(linux.O_NONBLOCK)
	defer in.DecRef()
	dir, _ := v.GetDentryAt(root, pop("/a/b"))
	wd, err := in.Impl().(*vfs.Inotify).AddWatch(dir.Inode(), linux.IN_CREATE|linux.IN_DELETE|linux.IN_MOVED_FROM|linux.IN_MOVED_TO)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := v.OpenAt(root, pop("/a/b/new"), vfs.OpenOptions{Flags: linux.O_CREAT | linux.O_WRONLY, Mode: 0o644})
	f.DecRef()
	v.RenameAt(root, pop("/a/b/new"), pop("/a/b/moved"), 0)
	v.UnlinkAt(root, pop("/a/b/moved"))
	m := &mem{b: make([]byte, 4)}
	in.Ioctl(root, m, linux.FIONREAD, 0)
	if n := binary.LittleEndian.Uint32(m.b); n != 4*32 {
		t.Errorf("FIONREAD %d, want %d", n, 4*32)
	}
	buf := make([]byte, 1024)
	n, err := in.Read(root, buf)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint32
	var names []string
	for off := 0; off < n; {
		if int32(binary.LittleEndian.Uint32(buf[off:])) != wd {
			t.Errorf("wd %d", binary.LittleEndian.Uint32(buf[off:]))
		}
		got = append(got, binary.LittleEndian.Uint32(buf[off+4:]))
		l := int(binary.LittleEndian.Uint32(buf[off+12:]))
		name := buf[off+16 : off+16+l]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		names = append(names, string(name))
		off += 16 + l
	}
	want := []uint32{linux.IN_CREATE, linux.IN_MOVED_FROM, linux.IN_MOVED_TO, linux.IN_DELETE}
	wantNames := []string{"new", "new", "moved", "moved"}
	if len(got) != len(want) {
		t.Fatalf("events %#x %v, want %#x", got, names, want)
	}
	for i := range want {
		if got[i] != want[i] || names[i] != wantNames[i] {
			t.Errorf("event %d: %#x %q, want %#x %q", i, got[i], names[i], want[i], wantNames[i])
		}
	}
	if _, err := in.Read(root, buf); err != errno.EAGAIN {
		t.Errorf("read of an empty queue: %v", err)
	}
}
