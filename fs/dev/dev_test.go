package dev_test

import (
	"bytes"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/dev"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

type testCtx struct{ creds *auth.Credentials }

func (c testCtx) Credentials() *auth.Credentials { return c.creds }

func TestDevices(t *testing.T) {
	ctx := vfs.RootContext()
	v := vfs.New()
	fs, root, err := dev.New(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	v.SetRoot(v.NewMount(v.NewFilesystem(fs), root, vfs.MountOptions{}))
	r := v.Root()
	user := testCtx{auth.NewCredentials(1000, 1000)}
	open := func(name string) *vfs.FileDescription {
		t.Helper()
		fd, err := v.OpenAt(user, &vfs.PathOperation{Root: r, Start: r, Path: "/" + name}, vfs.OpenOptions{Flags: linux.O_RDWR})
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		t.Cleanup(fd.DecRef)
		return fd
	}
	buf := bytes.Repeat([]byte{0xff}, 64)
	for _, tc := range []struct {
		name      string
		readN     int
		zeros     bool
		writeErr  error
		wantMinor uint32
	}{
		{name: "null", readN: 0, wantMinor: 3},
		{name: "zero", readN: 64, zeros: true, wantMinor: 5},
		{name: "full", readN: 64, zeros: true, writeErr: errno.ENOSPC, wantMinor: 7},
		{name: "random", readN: 64, wantMinor: 8},
		{name: "urandom", readN: 64, wantMinor: 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd := open(tc.name)
			n, err := fd.Read(user, buf)
			if err != nil || n != tc.readN {
				t.Errorf("read = %d, %v", n, err)
			}
			if tc.zeros && !bytes.Equal(buf[:n], make([]byte, n)) {
				t.Errorf("not zeros")
			}
			n, err = fd.Write(user, []byte("abc"))
			if err != tc.writeErr || (err == nil && n != 3) {
				t.Errorf("write = %d, %v", n, err)
			}
			st, err := fd.Stat(user)
			if err != nil || st.FileMode().FileType() != linux.S_IFCHR || st.RdevMajor != 1 || st.RdevMinor != tc.wantMinor {
				t.Errorf("stat %+v %v", st, err)
			}
		})
	}
	target, err := v.ReadlinkAt(ctx, &vfs.PathOperation{Root: r, Start: r, Path: "/stdout"})
	if err != nil || target != "/proc/self/fd/1" {
		t.Errorf("stdout -> %q, %v", target, err)
	}
	st, err := v.StatAt(ctx, &vfs.PathOperation{Root: r, Start: r, Path: "/shm"})
	if err != nil || st.Mode&0o7777 != 0o1777 {
		t.Errorf("shm mode %o %v", st.Mode, err)
	}
}

// ttyCtx is a context with a controlling terminal, here a plain file.
type ttyCtx struct {
	testCtx
	tty *vfs.FileDescription
}

func (c ttyCtx) ControllingTTY() (*vfs.FileDescription, error) {
	if c.tty == nil {
		return nil, errno.ENXIO
	}
	c.tty.IncRef()
	return c.tty, nil
}

func TestDevTTY(t *testing.T) {
	ctx := vfs.RootContext()
	v := vfs.New()
	fs, root, err := dev.New(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	v.SetRoot(v.NewMount(v.NewFilesystem(fs), root, vfs.MountOptions{}))
	r := v.Root()
	pop := &vfs.PathOperation{Root: r, Start: r, Path: "/tty"}
	user := testCtx{auth.NewCredentials(1000, 1000)}
	for _, c := range []vfs.Context{user, ttyCtx{testCtx: user}} {
		if _, err := v.OpenAt(c, pop, vfs.OpenOptions{Flags: linux.O_RDWR}); err != errno.ENXIO {
			t.Errorf("open /dev/tty with no controlling terminal: %v, want ENXIO", err)
		}
	}
	// O_CREAT must not replace the device with a file.
	if _, err := v.OpenAt(user, pop, vfs.OpenOptions{Flags: linux.O_WRONLY | linux.O_CREAT | linux.O_APPEND}); err != errno.ENXIO {
		t.Errorf("open /dev/tty O_CREAT: %v, want ENXIO", err)
	}
	term, err := v.OpenAt(user, &vfs.PathOperation{Root: r, Start: r, Path: "/null"}, vfs.OpenOptions{Flags: linux.O_RDWR})
	if err != nil {
		t.Fatal(err)
	}
	f, err := v.OpenAt(ttyCtx{user, term}, pop, vfs.OpenOptions{Flags: linux.O_RDWR})
	if err != nil {
		t.Fatalf("open /dev/tty: %v", err)
	}
	if !f.IsStream() {
		t.Error("/dev/tty is seekable")
	}
	if term.Refs() != 2 {
		t.Errorf("terminal refs %d with /dev/tty open, want 2", term.Refs())
	}
	f.DecRef()
	if term.Refs() != 1 {
		t.Errorf("terminal refs %d after closing /dev/tty, want 1", term.Refs())
	}
	term.DecRef()
}
