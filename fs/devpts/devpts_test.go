package devpts

import (
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// pair opens a master and its slave on a fresh devpts.
func pair(t *testing.T) (*masterFD, *slaveFD) {
	t.Helper()
	fs, root := New()
	ctx := vfs.RootContext()
	ptmx, err := root.Lookup(ctx, "ptmx")
	if err != nil {
		t.Fatal(err)
	}
	mi, err := ptmx.Open(ctx, linux.O_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	m := mi.(*masterFD)
	slave, err := root.Lookup(ctx, "0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := slave.Open(ctx, linux.O_RDWR); err != errno.EIO {
		t.Fatalf("open of a locked slave: %v, want EIO", err)
	}
	m.t.locked = false
	si, err := slave.Open(ctx, linux.O_RDWR|linux.O_NOCTTY)
	if err != nil {
		t.Fatal(err)
	}
	_ = fs
	return m, si.(*slaveFD)
}

func readAll(t *testing.T, read func([]byte) (int, error)) string {
	t.Helper()
	buf := make([]byte, 256)
	n, err := read(buf)
	if err != nil && err != errno.EAGAIN {
		t.Fatalf("read: %v", err)
	}
	return string(buf[:n])
}

func TestLineDiscipline(t *testing.T) {
	ctx := vfs.RootContext()
	for _, tc := range []struct {
		name       string
		setup      func(*Terminal)
		in         string
		wantSlave  string
		wantMaster string
	}{
		{name: "canonical erase and ICRNL", in: "abc\x7fd\r", wantSlave: "abd\n", wantMaster: "abc\b \bd\r\n"},
		{name: "kill", in: "xy\x15ok\n", wantSlave: "ok\n", wantMaster: "xy\b \b\b \bok\r\n"},
		{name: "incomplete line is not readable", in: "abc", wantSlave: "", wantMaster: "abc"},
		{name: "eof ends line", in: "ab\x04", wantSlave: "ab", wantMaster: "ab"},
		{name: "echoctl", in: "\x01\n", wantSlave: "\x01\n", wantMaster: "^A\r\n"},
		{name: "noecho echonl", setup: func(t *Terminal) {
			t.termios.LocalFlags &^= linux.ECHO
			t.termios.LocalFlags |= linux.ECHONL
		}, in: "hi\n", wantSlave: "hi\n", wantMaster: "\r\n"},
		{name: "raw", setup: func(t *Terminal) {
			t.setTermiosLocked(linux.Termios{ControlCharacters: [linux.NCCS]byte{linux.VMIN: 1}})
		}, in: "a\x03\r", wantSlave: "a\x03\r", wantMaster: ""},
		{name: "igncr", setup: func(t *Terminal) { t.termios.InputFlags |= linux.IGNCR }, in: "a\r\n", wantSlave: "a\n", wantMaster: "a\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, s := pair(t)
			if tc.setup != nil {
				tc.setup(m.t)
			}
			if n, err := m.Write(ctx, []byte(tc.in), -1); n != len(tc.in) || err != nil {
				t.Fatalf("master write: %d, %v", n, err)
			}
			if got := readAll(t, func(b []byte) (int, error) { return s.Read(ctx, b, -1) }); got != tc.wantSlave {
				t.Errorf("slave read %q, want %q", got, tc.wantSlave)
			}
			if got := readAll(t, func(b []byte) (int, error) { return m.Read(ctx, b, -1) }); got != tc.wantMaster {
				t.Errorf("master read %q, want %q", got, tc.wantMaster)
			}
		})
	}
}

func TestHangup(t *testing.T) {
	ctx := vfs.RootContext()
	m, s := pair(t)
	if n, err := s.Write(ctx, []byte("x\n"), -1); n != 2 || err != nil {
		t.Fatalf("slave write: %d %v", n, err)
	}
	s.Release()
	if got := readAll(t, func(b []byte) (int, error) { return m.Read(ctx, b, -1) }); got != "x\r\n" {
		t.Errorf("master read %q", got)
	}
	if _, err := m.Read(ctx, make([]byte, 4), -1); err != errno.EIO {
		t.Errorf("master read after slave closed: %v, want EIO", err)
	}
	if ev := m.Readiness(vfs.EventIn); ev&vfs.EventHUp == 0 {
		t.Errorf("master readiness %#x, want HUP", ev)
	}
	m2, s2 := pair(t)
	m2.Release()
	if n, err := s2.Read(ctx, make([]byte, 4), -1); n != 0 || err != nil {
		t.Errorf("slave read after hangup: %d %v, want EOF", n, err)
	}
	if _, err := s2.Write(ctx, []byte("x"), -1); err != errno.EIO {
		t.Errorf("slave write after hangup: %v, want EIO", err)
	}
}

func TestReaddir(t *testing.T) {
	fs, root := New()
	ctx := vfs.RootContext()
	ptmx, _ := root.Lookup(ctx, "ptmx")
	a, _ := ptmx.Open(ctx, linux.O_RDWR)
	b, _ := ptmx.Open(ctx, linux.O_RDWR)
	ents, _ := root.Readdir(ctx)
	if len(ents) != 3 || ents[1].Name != "0" || ents[2].Name != "1" {
		t.Fatalf("entries %v", ents)
	}
	a.Release()
	if _, err := root.Lookup(ctx, "0"); err != errno.ENOENT {
		t.Errorf("lookup of a released pair: %v", err)
	}
	// The lowest free index is reused.
	c, _ := ptmx.Open(ctx, linux.O_RDWR)
	if c.(*masterFD).t.Index != 0 {
		t.Errorf("new index %d, want 0", c.(*masterFD).t.Index)
	}
	b.Release()
	c.Release()
	if len(fs.slaves) != 0 {
		t.Errorf("slaves left: %v", fs.slaves)
	}
}
