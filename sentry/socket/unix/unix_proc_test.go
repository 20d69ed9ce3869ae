package unix

import (
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/sentry/inet"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// listed returns what /proc/net/unix shows of the sockets with the given
// inodes.
func listed(inos ...uint64) map[uint64]inet.UnixSocketInfo {
	want := map[uint64]bool{}
	for _, i := range inos {
		want[i] = true
	}
	out := map[uint64]inet.UnixSocketInfo{}
	for _, s := range inet.UnixSockets() {
		if want[s.Inode] {
			out[s.Inode] = s
		}
	}
	return out
}

func TestUnixLister(t *testing.T) {
	a, b := pair(t, linux.SOCK_DGRAM)
	lf, err := socket.New(ctx, linux.AF_UNIX, linux.SOCK_STREAM, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	l := lf.Impl().(*Socket)
	if err := l.Bind(ctx, abstract("lister\x00test")); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(ctx, 1); err != nil {
		t.Fatal(err)
	}
	cf, _ := socket.New(ctx, linux.AF_UNIX, linux.SOCK_STREAM, 0, 0)
	c := cf.Impl().(*Socket)
	if err := c.Connect(ctx, abstract("lister\x00test"), true); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	embryo := l.acceptQ[0]
	mu.Unlock()

	got := listed(a.ino, b.ino, l.ino, c.ino, embryo.ino)
	for _, w := range []inet.UnixSocketInfo{
		{Inode: a.ino, Type: linux.SOCK_DGRAM, State: ssConnected},
		{Inode: b.ino, Type: linux.SOCK_DGRAM, State: ssConnected},
		{Inode: l.ino, Type: linux.SOCK_STREAM, Listening: true, State: ssUnconnected, Path: "@lister@test"},
		{Inode: c.ino, Type: linux.SOCK_STREAM, State: ssConnected},
		// Not yet accepted: no struct socket, so "connecting".
		{Inode: embryo.ino, Type: linux.SOCK_STREAM, State: ssConnecting, Path: "@lister@test"},
	} {
		if got[w.Inode] != w {
			t.Errorf("inode %d: %+v, want %+v", w.Inode, got[w.Inode], w)
		}
	}
	// Closing the listener closes the embryo too; both disappear.
	lf.DecRef()
	cf.DecRef()
	if got := listed(l.ino, c.ino, embryo.ino); len(got) != 0 {
		t.Errorf("closed sockets still listed: %+v", got)
	}
	if got := listed(a.ino); len(got) != 1 {
		t.Errorf("open socket not listed")
	}
}

func TestProcPath(t *testing.T) {
	for _, tc := range []struct {
		addr []byte
		want string
	}{
		{nil, ""},
		{unnamed, ""},
		{address{name: "/run/x.sock"}.sockaddr(), "/run/x.sock"},
		{address{abstract: true, name: "\x00a\x00b"}.sockaddr(), "@a@b"},
		{address{abstract: true, name: "\x0000001"}.sockaddr(), "@00001"},
	} {
		if got := procPath(tc.addr); got != tc.want {
			t.Errorf("procPath(%q) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}
