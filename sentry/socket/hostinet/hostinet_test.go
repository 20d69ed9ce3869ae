package hostinet

import (
	"bytes"
	"encoding/binary"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
	"github.com/runsc-lite/runsc-lite/sentry/inet"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// fakeCtx is a socket.Context with no file system that blocks on channels;
// a signal is simulated by closing interrupt.
type fakeCtx struct {
	uid       auth.KUID
	interrupt chan struct{}
}

func (c fakeCtx) Credentials() *auth.Credentials { return auth.NewCredentials(c.uid, auth.KGID(c.uid)) }
func (fakeCtx) PID() int32                       { return 7 }
func (fakeCtx) NetworkStack() inet.Stack         { return nil }
func (fakeCtx) Umask() uint32                    { return 0o22 }
func (fakeCtx) PathOperation(string, bool) (vfs.PathOperation, *vfs.VirtualFilesystem, bool) {
	return vfs.PathOperation{}, nil, false
}
func (c fakeCtx) BlockUntil(ch <-chan struct{}, deadline time.Time, has bool) error {
	var timeout <-chan time.Time
	if has {
		tm := time.NewTimer(time.Until(deadline))
		defer tm.Stop()
		timeout = tm.C
	}
	select {
	case <-ch:
		return nil
	case <-timeout:
		return errno.ETIMEDOUT
	case <-c.interrupt:
		return errno.ERESTARTSYS
	}
}

var ctx = fakeCtx{uid: 1000}

func TestMain(m *testing.M) {
	Register()
	os.Exit(m.Run())
}

// newSock creates a socket through package socket, as socket(2) does.
func newSock(t *testing.T, family, typ, protocol int, flags uint32) (*vfs.FileDescription, *Socket) {
	t.Helper()
	f, err := socket.New(ctx, family, typ, protocol, flags)
	if err != nil {
		t.Fatalf("socket(%d, %d, %d): %v", family, typ, protocol, err)
	}
	t.Cleanup(f.DecRef)
	return f, f.Impl().(*Socket)
}

// sockaddr4 is a sockaddr_in.
func sockaddr4(ip [4]byte, port int) []byte {
	b := make([]byte, linux.SizeofSockAddrInet)
	binary.LittleEndian.PutUint16(b, linux.AF_INET)
	binary.BigEndian.PutUint16(b[2:], uint16(port))
	copy(b[4:], ip[:])
	return b
}

var loopback = [4]byte{127, 0, 0, 1}

// boundUDP returns a UDP socket bound to 127.0.0.1 and its address.
func boundUDP(t *testing.T) (*Socket, []byte) {
	t.Helper()
	_, s := newSock(t, linux.AF_INET, linux.SOCK_DGRAM, 0, 0)
	if err := s.Bind(ctx, sockaddr4(loopback, 0)); err != nil {
		t.Fatal(err)
	}
	a, err := s.GetSockName(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s, a
}

// listener returns a listening TCP socket on 127.0.0.1 and its address.
func listener(t *testing.T) (*Socket, []byte) {
	t.Helper()
	_, l := newSock(t, linux.AF_INET, linux.SOCK_STREAM, 0, 0)
	if err := l.Bind(ctx, sockaddr4(loopback, 0)); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(ctx, 8); err != nil {
		t.Fatal(err)
	}
	a, err := l.GetSockName(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != linux.SizeofSockAddrInet || addrFamily(a) != linux.AF_INET || addrPort(a) == 0 {
		t.Fatalf("getsockname: %x", a)
	}
	return l, a
}

func TestSocketTypes(t *testing.T) {
	for _, tc := range []struct {
		family, typ, protocol int
		want                  error
	}{
		{linux.AF_INET, linux.SOCK_STREAM, linux.IPPROTO_TCP, nil},
		{linux.AF_INET6, linux.SOCK_DGRAM, linux.IPPROTO_UDP, nil},
		{linux.AF_INET, linux.SOCK_RAW, linux.IPPROTO_ICMP, errno.EPERM},
		{linux.AF_INET, linux.SOCK_SEQPACKET, 0, errno.ESOCKTNOSUPPORT},
		{linux.AF_INET, linux.SOCK_DGRAM, linux.IPPROTO_TCP, errno.EPROTONOSUPPORT},
		{linux.AF_INET, linux.SOCK_DGRAM, linux.IPPROTO_ICMPV6, errno.EPROTONOSUPPORT},
		{linux.AF_INET, linux.SOCK_STREAM, -1, errno.EINVAL},
		{linux.AF_INET, linux.SOCK_STREAM, linux.IPPROTO_MAX, errno.EINVAL},
	} {
		f, err := socket.New(ctx, tc.family, tc.typ, tc.protocol, 0)
		if err != tc.want {
			t.Errorf("socket(%d, %d, %d) = %v, want %v", tc.family, tc.typ, tc.protocol, err, tc.want)
		}
		if f != nil {
			fam, typ, proto := f.Impl().(*Socket).Type()
			if fam != tc.family || typ != tc.typ || proto != tc.protocol {
				t.Errorf("Type() = %d %d %d", fam, typ, proto)
			}
			f.DecRef()
		}
	}
	if _, _, err := socket.NewPair(ctx, linux.AF_INET, linux.SOCK_STREAM, 0, 0); err != errno.EOPNOTSUPP {
		t.Errorf("socketpair: %v", err)
	}
}

func TestTCPEcho(t *testing.T) {
	l, addr := listener(t)
	_, c := newSock(t, linux.AF_INET, linux.SOCK_STREAM, 0, 0)
	if err := c.Connect(ctx, addr, false); err != nil {
		t.Fatalf("connect: %v", err)
	}
	sf, peer, err := l.Accept(ctx, 0, false)
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	defer sf.DecRef()
	srv := sf.Impl().(*Socket)
	if local, _ := c.GetSockName(ctx); !bytes.Equal(peer, local) {
		t.Errorf("accept's peer %x, client's name %x", peer, local)
	}
	if p, err := c.GetPeerName(ctx); err != nil || !bytes.Equal(p, addr) {
		t.Errorf("getpeername: %x %v", p, err)
	}
	// Echo through the file interface on one side and the socket's on
	// the other.
	if n, err := c.SendMsg(ctx, []byte("hello"), nil, socket.ControlMessages{}, 0, false); n != 5 || err != nil {
		t.Fatalf("send: %d %v", n, err)
	}
	buf := make([]byte, 16)
	n, err := sf.Read(ctx, buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("server read: %q %v", buf[:n], err)
	}
	if n, err := sf.Write(ctx, buf[:n]); n != 5 || err != nil {
		t.Fatalf("server write: %d %v", n, err)
	}
	data, res, err := c.RecvMsg(ctx, 5, linux.MSG_WAITALL, false, false)
	if err != nil || string(data) != "hello" || res.N != 5 {
		t.Fatalf("client recv: %q %+v %v", data, res, err)
	}
	// Shutdown: the server sees end of file, and its send after the
	// client closes fails with EPIPE (or ECONNRESET), never SIGPIPE.
	if err := c.Shutdown(ctx, linux.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if data, _, err := srv.RecvMsg(ctx, 16, 0, false, false); len(data) != 0 || err != nil {
		t.Fatalf("recv after SHUT_WR: %q %v", data, err)
	}
	if err := c.Shutdown(ctx, 7); err != errno.EINVAL {
		t.Errorf("shutdown(7): %v", err)
	}
}

func TestBlockingRecvWakes(t *testing.T) {
	l, addr := listener(t)
	_, c := newSock(t, linux.AF_INET, linux.SOCK_STREAM, 0, 0)
	if err := c.Connect(ctx, addr, false); err != nil {
		t.Fatal(err)
	}
	sf, _, err := l.Accept(ctx, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer sf.DecRef()
	go func() {
		time.Sleep(20 * time.Millisecond)
		sf.Impl().(*Socket).SendMsg(ctx, []byte("ab"), nil, socket.ControlMessages{}, 0, false)
		time.Sleep(20 * time.Millisecond)
		sf.Impl().(*Socket).SendMsg(ctx, []byte("cd"), nil, socket.ControlMessages{}, 0, false)
	}()
	data, _, err := c.RecvMsg(ctx, 4, linux.MSG_WAITALL, false, false)
	if err != nil || string(data) != "abcd" {
		t.Fatalf("MSG_WAITALL recv: %q %v", data, err)
	}
}

func TestNonblockingConnect(t *testing.T) {
	_, addr := listener(t)
	_, c := newSock(t, linux.AF_INET, linux.SOCK_STREAM, 0, linux.O_NONBLOCK)
	w := vfs.NewWaiter(vfs.EventOut)
	c.EventRegister(w)
	defer c.EventUnregister(w)
	if err := c.Connect(ctx, addr, true); err != errno.EINPROGRESS {
		t.Fatalf("non-blocking connect: %v", err)
	}
	deadline := time.After(5 * time.Second)
	for c.Readiness(vfs.EventOut)&vfs.EventOut == 0 {
		select {
		case <-w.C:
		case <-deadline:
			t.Fatal("connection never became writable")
		}
	}
	v, err := c.GetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_ERROR, 4)
	if err != nil || len(v) != 4 || binary.LittleEndian.Uint32(v) != 0 {
		t.Fatalf("SO_ERROR: %x %v", v, err)
	}
	// As in Linux, a connect(2) after the connection completed succeeds
	// once (SS_CONNECTING becomes SS_CONNECTED), then is EISCONN.
	if err := c.Connect(ctx, addr, true); err != nil {
		t.Errorf("second connect: %v", err)
	}
	if err := c.Connect(ctx, addr, true); err != errno.EISCONN {
		t.Errorf("third connect: %v", err)
	}
}

func TestConnectRefused(t *testing.T) {
	// A port that was just free: bind one, note it, close it.
	_, probe := newSock(t, linux.AF_INET, linux.SOCK_STREAM, 0, 0)
	if err := probe.Bind(ctx, sockaddr4(loopback, 0)); err != nil {
		t.Fatal(err)
	}
	addr, _ := probe.GetSockName(ctx)
	_, c := newSock(t, linux.AF_INET, linux.SOCK_STREAM, 0, 0)
	if err := c.Connect(ctx, addr, false); err != errno.ECONNREFUSED {
		t.Fatalf("blocking connect to a closed port: %v", err)
	}
	_, nb := newSock(t, linux.AF_INET, linux.SOCK_STREAM, 0, linux.O_NONBLOCK)
	err := nb.Connect(ctx, addr, true)
	if err == errno.EINPROGRESS {
		w := vfs.NewWaiter(vfs.EventOut)
		nb.EventRegister(w)
		defer nb.EventUnregister(w)
		for nb.Readiness(vfs.EventOut) == 0 {
			select {
			case <-w.C:
			case <-time.After(5 * time.Second):
				t.Fatal("refused connection never reported")
			}
		}
		v, gerr := nb.GetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_ERROR, 4)
		if gerr != nil || errno.Errno(binary.LittleEndian.Uint32(v)) != errno.ECONNREFUSED {
			t.Fatalf("SO_ERROR: %x %v", v, gerr)
		}
	} else if err != errno.ECONNREFUSED {
		t.Fatalf("non-blocking connect to a closed port: %v", err)
	}
}

func TestUDPTruncAndFrom(t *testing.T) {
	a, aAddr := boundUDP(t)
	b, bAddr := boundUDP(t)
	msg := []byte("0123456789")
	if n, err := a.SendMsg(ctx, msg, bAddr, socket.ControlMessages{}, 0, false); n != len(msg) || err != nil {
		t.Fatalf("sendto: %d %v", n, err)
	}
	data, res, err := b.RecvMsg(ctx, 4, linux.MSG_PEEK, false, false)
	if err != nil || string(data) != "0123" || res.MsgLen != 10 {
		t.Fatalf("peek: %q %+v %v", data, res, err)
	}
	data, res, err = b.RecvMsg(ctx, 4, linux.MSG_TRUNC, false, false)
	if err != nil || string(data) != "0123" || res.N != 4 || res.MsgLen != 10 {
		t.Fatalf("recv MSG_TRUNC: %q %+v %v", data, res, err)
	}
	if !bytes.Equal(res.From, aAddr) {
		t.Errorf("from %x, want %x", res.From, aAddr)
	}
	// The rest of the datagram is gone.
	if _, _, err := b.RecvMsg(ctx, 4, 0, true, false); err != errno.EAGAIN {
		t.Errorf("empty queue: %v", err)
	}
	// A connected socket sends without an address; AF_UNSPEC undoes it.
	if err := a.Connect(ctx, bAddr, false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SendMsg(ctx, []byte("x"), nil, socket.ControlMessages{}, 0, false); err != nil {
		t.Fatal(err)
	}
	if data, _, err := b.RecvMsg(ctx, 4, 0, false, false); string(data) != "x" || err != nil {
		t.Fatalf("recv: %q %v", data, err)
	}
	if err := a.Connect(ctx, []byte{linux.AF_UNSPEC, 0}, false); err != nil {
		t.Fatalf("connect(AF_UNSPEC): %v", err)
	}
	if _, err := a.GetPeerName(ctx); err != errno.ENOTCONN {
		t.Errorf("getpeername after disconnect: %v", err)
	}
}

func TestRecvTimeout(t *testing.T) {
	f, s := newSock(t, linux.AF_INET, linux.SOCK_DGRAM, 0, 0)
	tv := make([]byte, 16)
	binary.LittleEndian.PutUint64(tv[8:], 50000) // 50ms
	if err := s.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_RCVTIMEO, tv); err != nil {
		t.Fatal(err)
	}
	if v, err := s.GetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_RCVTIMEO, 16); err != nil || !bytes.Equal(v, tv) {
		t.Fatalf("get SO_RCVTIMEO: %x %v", v, err)
	}
	start := time.Now()
	if _, _, err := s.RecvMsg(ctx, 10, 0, false, false); err != errno.EAGAIN {
		t.Fatalf("recv with SO_RCVTIMEO: %v", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("returned after %v", d)
	}
	// read(2) reports the timeout to the VFS, which does not wait again.
	if _, err := f.Read(ctx, make([]byte, 4)); err != errno.EAGAIN {
		t.Errorf("read: %v", err)
	}
	// A signal during a timed wait is EINTR; without a timeout it is
	// ERESTARTSYS.
	intr := fakeCtx{uid: 1000, interrupt: make(chan struct{})}
	close(intr.interrupt)
	if _, _, err := s.RecvMsg(intr, 10, 0, false, false); err != errno.EINTR {
		t.Errorf("interrupted timed recv: %v", err)
	}
	if err := s.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_RCVTIMEO, make([]byte, 16)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RecvMsg(intr, 10, 0, false, false); err != errno.ERESTARTSYS {
		t.Errorf("interrupted recv: %v", err)
	}
	binary.LittleEndian.PutUint64(tv[8:], 1000000)
	if err := s.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_RCVTIMEO, tv); err != errno.EDOM {
		t.Errorf("bad usec: %v", err)
	}
}

func TestAddressValidation(t *testing.T) {
	_, s4 := newSock(t, linux.AF_INET, linux.SOCK_STREAM, 0, 0)
	_, u4 := newSock(t, linux.AF_INET, linux.SOCK_DGRAM, 0, 0)
	_, s6 := newSock(t, linux.AF_INET6, linux.SOCK_STREAM, 0, 0)
	short := sockaddr4(loopback, 0)[:8]
	unixAddr := append([]byte{linux.AF_UNIX, 0}, "/tmp/x\x00\x00\x00\x00\x00\x00\x00\x00"...)
	six := make([]byte, linux.SizeofSockAddrInet6)
	binary.LittleEndian.PutUint16(six, linux.AF_INET6)
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"short bind", s4.Bind(ctx, short), errno.EINVAL},
		{"short connect", s4.Connect(ctx, short, false), errno.EINVAL},
		{"one-byte connect", s4.Connect(ctx, []byte{2}, false), errno.EINVAL},
		{"AF_UNIX bind", s4.Bind(ctx, unixAddr), errno.EAFNOSUPPORT},
		{"AF_UNIX connect", s4.Connect(ctx, unixAddr, false), errno.EAFNOSUPPORT},
		{"short sin6 bind", s6.Bind(ctx, six[:20]), errno.EINVAL},
		{"sin6 on IPv4", s4.Bind(ctx, six), errno.EAFNOSUPPORT},
		{"short sin on IPv6", s6.Connect(ctx, sockaddr4(loopback, 80), false), errno.EINVAL},
		{"sin on IPv6", s6.Connect(ctx, append(sockaddr4(loopback, 80), make([]byte, 12)...), false), errno.EAFNOSUPPORT},
	} {
		if tc.err != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if _, err := u4.SendMsg(ctx, []byte("x"), short, socket.ControlMessages{}, 0, false); err != errno.EINVAL {
		t.Errorf("short sendto: %v", err)
	}
	if _, err := u4.SendMsg(ctx, []byte("x"), unixAddr, socket.ControlMessages{}, 0, false); err != errno.EAFNOSUPPORT {
		t.Errorf("AF_UNIX sendto: %v", err)
	}
	// An IPv4 AF_UNSPEC bind to INADDR_ANY is accepted, as Linux does.
	unspec := sockaddr4([4]byte{}, 0)
	unspec[0] = linux.AF_UNSPEC
	if err := u4.Bind(ctx, unspec); err != nil {
		t.Errorf("AF_UNSPEC INADDR_ANY bind: %v", err)
	}
}

func TestPrivilegedPort(t *testing.T) {
	if hostConfig.unprivPortStart.Load() <= 80 {
		t.Skip("host allows unprivileged binds to port 80")
	}
	_, s := newSock(t, linux.AF_INET, linux.SOCK_STREAM, 0, 0)
	if err := s.Bind(ctx, sockaddr4(loopback, 80)); err != errno.EACCES {
		t.Errorf("bind to port 80 as uid 1000: %v", err)
	}
}

func TestReadinessWakesWaiter(t *testing.T) {
	a, _ := boundUDP(t)
	b, bAddr := boundUDP(t)
	if got := b.Readiness(vfs.EventIn | vfs.EventOut); got != vfs.EventOut {
		t.Fatalf("idle readiness: %#x", got)
	}
	w := vfs.NewWaiter(vfs.EventIn)
	b.EventRegister(w)
	defer b.EventUnregister(w)
	if _, err := a.SendMsg(ctx, []byte("ping"), bAddr, socket.ControlMessages{}, 0, false); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.C:
	case <-time.After(5 * time.Second):
		t.Fatal("waiter not woken")
	}
	if got := b.Readiness(vfs.EventIn); got != vfs.EventIn {
		t.Errorf("readiness after send: %#x", got)
	}
}

func TestSockOpts(t *testing.T) {
	_, s := newSock(t, linux.AF_INET, linux.SOCK_STREAM, 0, 0)
	one := binary.LittleEndian.AppendUint32(nil, 1)
	if err := s.SetSockOpt(ctx, linux.SOL_TCP, linux.TCP_NODELAY, one); err != nil {
		t.Fatal(err)
	}
	if v, err := s.GetSockOpt(ctx, linux.SOL_TCP, linux.TCP_NODELAY, 4); err != nil || binary.LittleEndian.Uint32(v) != 1 {
		t.Fatalf("linux.TCP_NODELAY: %x %v", v, err)
	}
	if v, err := s.GetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_TYPE, 4); err != nil || binary.LittleEndian.Uint32(v) != linux.SOCK_STREAM {
		t.Errorf("SO_TYPE: %x %v", v, err)
	}
	if v, err := s.GetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_TYPE, 2); err != nil || len(v) != 2 {
		t.Errorf("short SO_TYPE: %x %v", v, err)
	}
	if err := s.SetSockOpt(ctx, linux.SOL_TCP, linux.TCP_NODELAY, one[:2]); err != errno.EINVAL {
		t.Errorf("short linux.TCP_NODELAY: %v", err)
	}
	const soMark = 36
	if err := s.SetSockOpt(ctx, linux.SOL_SOCKET, soMark, one); err != errno.ENOPROTOOPT {
		t.Errorf("SO_MARK: %v", err)
	}
	if err := s.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_SNDBUFFORCE, one); err != errno.EPERM {
		t.Errorf("SO_SNDBUFFORCE as uid 1000: %v", err)
	}
	seven := binary.LittleEndian.AppendUint32(nil, 7)
	if err := s.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_PRIORITY, seven); err != errno.EPERM {
		t.Errorf("SO_PRIORITY 7 as uid 1000: %v", err)
	}
	if err := s.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_TYPE, one); err != errno.ENOPROTOOPT {
		t.Errorf("set SO_TYPE: %v", err)
	}
	v, err := s.GetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_PEERCRED, 12)
	if err != nil || !bytes.Equal(v, []byte{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) {
		t.Errorf("SO_PEERCRED: %x %v", v, err)
	}
	linger := []byte{1, 0, 0, 0, 5, 0, 0, 0}
	if err := s.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_LINGER, linger); err != nil || !s.lingers.Load() {
		t.Errorf("SO_LINGER: %v %v", err, s.lingers.Load())
	}
}

// fakeMem is guest memory: b at address base.
type fakeMem struct {
	base hostarch.Addr
	b    []byte
}

func (m *fakeMem) slice(addr hostarch.Addr, n int) ([]byte, error) {
	if addr < m.base || int(addr-m.base)+n > len(m.b) {
		return nil, errno.EFAULT
	}
	return m.b[addr-m.base : int(addr-m.base)+n], nil
}

func (m *fakeMem) CopyInBytes(addr hostarch.Addr, dst []byte) (int, error) {
	s, err := m.slice(addr, len(dst))
	if err != nil {
		return 0, err
	}
	return copy(dst, s), nil
}

func (m *fakeMem) CopyOutBytes(addr hostarch.Addr, src []byte) (int, error) {
	s, err := m.slice(addr, len(src))
	if err != nil {
		return 0, err
	}
	return copy(s, src), nil
}

func TestIoctls(t *testing.T) {
	a, _ := boundUDP(t)
	b, bAddr := boundUDP(t)
	mem := &fakeMem{base: 0x10000, b: make([]byte, 8192)}
	if _, err := a.SendMsg(ctx, []byte("12345"), bAddr, socket.ControlMessages{}, 0, false); err != nil {
		t.Fatal(err)
	}
	// Wait for the datagram, then FIONREAD is its length.
	w := vfs.NewWaiter(vfs.EventIn)
	b.EventRegister(w)
	for b.Readiness(vfs.EventIn) == 0 {
		<-w.C
	}
	b.EventUnregister(w)
	if _, err := b.Ioctl(ctx, mem, linux.FIONREAD, 0x10000); err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint32(mem.b); n != 5 {
		t.Errorf("FIONREAD: %d", n)
	}
	if _, err := b.Ioctl(ctx, mem, linux.FIONREAD, 0x100); err != errno.EFAULT {
		t.Errorf("FIONREAD to a bad address: %v", err)
	}
	if _, err := b.Ioctl(ctx, mem, linux.TCGETS, 0x10000); err != errno.ENOTTY {
		t.Errorf("TCGETS: %v", err)
	}

	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skip("no loopback interface")
	}
	// linux.SIOCGIFINDEX of "lo", then linux.SIOCGIFNAME back; the name is cut at
	// linux.IFNAMSIZ-1 whatever the guest left there.
	ifr := mem.b[:linux.SizeofIfreq]
	clear(ifr)
	copy(ifr, "lo")
	if _, err := b.Ioctl(ctx, mem, linux.SIOCGIFINDEX, 0x10000); err != nil {
		t.Fatalf("linux.SIOCGIFINDEX: %v", err)
	}
	if idx := int(binary.LittleEndian.Uint32(ifr[linux.IFNAMSIZ:])); idx != lo.Index {
		t.Errorf("linux.SIOCGIFINDEX: %d, want %d", idx, lo.Index)
	}
	for i := range linux.IFNAMSIZ {
		ifr[i] = 'x'
	}
	if _, err := b.Ioctl(ctx, mem, linux.SIOCGIFNAME, 0x10000); err != nil || string(ifr[:3]) != "lo\x00" {
		t.Errorf("linux.SIOCGIFNAME: %q %v", ifr[:linux.IFNAMSIZ], err)
	}
	clear(ifr)
	copy(ifr, "lo")
	if _, err := b.Ioctl(ctx, mem, linux.SIOCGIFFLAGS, 0x10000); err != nil || binary.LittleEndian.Uint16(ifr[linux.IFNAMSIZ:])&inet.IFF_LOOPBACK == 0 {
		t.Errorf("linux.SIOCGIFFLAGS: %x %v", ifr[linux.IFNAMSIZ:], err)
	}
	if _, err := b.Ioctl(ctx, mem, linux.SIOCGIFMTU, uintptr(mem.base)+uintptr(len(mem.b)-8)); err != errno.EFAULT {
		t.Errorf("linux.SIOCGIFMTU past the end: %v", err)
	}

	// linux.SIOCGIFCONF: a NULL buffer asks for the length, then the records.
	ifc := mem.b[:linux.SizeofIfconf]
	clear(ifc)
	if _, err := b.Ioctl(ctx, mem, linux.SIOCGIFCONF, 0x10000); err != nil {
		t.Fatal(err)
	}
	need := int(binary.LittleEndian.Uint32(ifc))
	if need == 0 || need%linux.SizeofIfreq != 0 {
		t.Fatalf("linux.SIOCGIFCONF length: %d", need)
	}
	binary.LittleEndian.PutUint32(ifc, uint32(need))
	binary.LittleEndian.PutUint64(ifc[8:], 0x10000+64)
	if _, err := b.Ioctl(ctx, mem, linux.SIOCGIFCONF, 0x10000); err != nil {
		t.Fatal(err)
	}
	if got := int(binary.LittleEndian.Uint32(ifc)); got != need {
		t.Errorf("linux.SIOCGIFCONF filled %d of %d", got, need)
	}
	found := false
	for off := 64; off < 64+need; off += linux.SizeofIfreq {
		rec := mem.b[off : off+linux.SizeofIfreq]
		if string(rec[:3]) == "lo\x00" && bytes.Equal(rec[linux.IFNAMSIZ+4:linux.IFNAMSIZ+8], []byte{127, 0, 0, 1}) {
			found = true
		}
	}
	if !found {
		t.Errorf("linux.SIOCGIFCONF has no lo 127.0.0.1: %x", mem.b[64:64+need])
	}
}

func TestReleaseClosesHostFD(t *testing.T) {
	f, err := socket.New(ctx, linux.AF_INET, linux.SOCK_DGRAM, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd := f.Impl().(*Socket).fd
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
		t.Fatalf("host fd not open: %v", err)
	}
	f.DecRef()
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
		t.Errorf("host fd after release: %v", err)
	}
}

func TestPingSocket(t *testing.T) {
	lo, hi := hostConfig.pingLow.Load(), hostConfig.pingHigh.Load()
	defer func() { hostConfig.pingLow.Store(lo); hostConfig.pingHigh.Store(hi) }()
	// The guest's groups are checked against net.ipv4.ping_group_range
	// first, whatever its capabilities.
	hostConfig.pingLow.Store(100)
	hostConfig.pingHigh.Store(200)
	if _, err := socket.New(fakeCtx{uid: 0}, linux.AF_INET, linux.SOCK_DGRAM, linux.IPPROTO_ICMP, 0); err != errno.EACCES {
		t.Fatalf("ping socket for gid 0 outside the range: %v", err)
	}
	hostConfig.pingLow.Store(0)
	hostConfig.pingHigh.Store(2000)
	f, err := socket.New(ctx, linux.AF_INET, linux.SOCK_DGRAM, linux.IPPROTO_ICMP, 0)
	if err == errno.EACCES {
		t.Skip("the host refuses ping sockets to the sentry's group (net.ipv4.ping_group_range)")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef()
	s := f.Impl().(*Socket)
	tv := binary.LittleEndian.AppendUint64(nil, 5)
	tv = binary.LittleEndian.AppendUint64(tv, 0)
	if err := s.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_RCVTIMEO, tv); err != nil {
		t.Fatal(err)
	}
	// ICMP echo request: type 8, code 0, checksum and id (the kernel
	// fills both in for ping sockets), sequence 1.
	echo := []byte{8, 0, 0, 0, 0, 0, 0, 1, 'h', 'i'}
	if _, err := s.SendMsg(ctx, echo, sockaddr4(loopback, 0)[:8], socket.ControlMessages{}, 0, false); err != errno.EINVAL {
		t.Errorf("short ping sendto: %v", err)
	}
	if _, err := s.SendMsg(ctx, echo, sockaddr4(loopback, 0), socket.ControlMessages{}, 0, false); err != nil {
		t.Fatalf("send echo: %v", err)
	}
	data, res, err := s.RecvMsg(ctx, 64, 0, false, false)
	if err != nil || len(data) != len(echo) || data[0] != 0 || addrFamily(res.From) != linux.AF_INET {
		t.Fatalf("echo reply: %x %+v %v", data, res, err)
	}
}

// connected returns the two ends of a TCP connection over 127.0.0.1.
func connected(t *testing.T) (client, server *Socket) {
	t.Helper()
	l, addr := listener(t)
	_, c := newSock(t, linux.AF_INET, linux.SOCK_STREAM, 0, 0)
	if err := c.Connect(ctx, addr, false); err != nil {
		t.Fatal(err)
	}
	sf, _, err := l.Accept(ctx, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sf.DecRef)
	return c, sf.Impl().(*Socket)
}

func TestBlockingSendWaitsForRoom(t *testing.T) {
	c, srv := connected(t)
	// Fill the pipe without blocking: the last send is short or EAGAIN.
	chunk := make([]byte, 64<<10)
	total := 0
	for {
		n, err := c.SendMsg(ctx, chunk, nil, socket.ControlMessages{}, 0, true)
		total += n
		if err == errno.EAGAIN {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// A send with SO_SNDTIMEO times out with EAGAIN when nothing fits.
	tv := make([]byte, 16)
	binary.LittleEndian.PutUint64(tv[8:], 30000)
	if err := c.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_SNDTIMEO, tv); err != nil {
		t.Fatal(err)
	}
	if n, err := c.SendMsg(ctx, chunk, nil, socket.ControlMessages{}, 0, false); n != 0 || err != errno.EAGAIN {
		t.Fatalf("send into a full pipe with SO_SNDTIMEO: %d %v", n, err)
	}
	if err := c.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_SNDTIMEO, make([]byte, 16)); err != nil {
		t.Fatal(err)
	}
	// A blocking send is woken as the reader drains, and sends all.
	done := make(chan error, 1)
	go func() {
		n, err := c.SendMsg(ctx, chunk, nil, socket.ControlMessages{}, 0, false)
		if err == nil && n != len(chunk) {
			err = errno.EIO
		}
		done <- err
	}()
	want := total + len(chunk)
	for got := 0; got < want; {
		data, _, err := srv.RecvMsg(ctx, 1<<20, 0, false, false)
		if err != nil {
			t.Fatalf("drain: %v", err)
		}
		got += len(data)
	}
	if err := <-done; err != nil {
		t.Fatalf("blocking send: %v", err)
	}
}

func TestAcceptWaits(t *testing.T) {
	l, addr := listener(t)
	if _, _, err := l.Accept(ctx, 0, true); err != errno.EAGAIN {
		t.Fatalf("non-blocking accept: %v", err)
	}
	tv := make([]byte, 16)
	binary.LittleEndian.PutUint64(tv[8:], 20000)
	if err := l.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_RCVTIMEO, tv); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Accept(ctx, 0, false); err != errno.EAGAIN {
		t.Fatalf("accept with SO_RCVTIMEO: %v", err)
	}
	if err := l.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_RCVTIMEO, make([]byte, 16)); err != nil {
		t.Fatal(err)
	}
	client := make(chan *vfs.FileDescription, 1)
	go func() {
		time.Sleep(20 * time.Millisecond)
		c, err := socket.New(ctx, linux.AF_INET, linux.SOCK_STREAM, 0, 0)
		if err == nil {
			c.Impl().(*Socket).Connect(ctx, addr, false)
		}
		client <- c
	}()
	f, _, err := l.Accept(ctx, linux.O_NONBLOCK, false)
	if c := <-client; c != nil {
		defer c.DecRef()
	}
	if err != nil {
		t.Fatalf("blocking accept: %v", err)
	}
	defer f.DecRef()
	if f.StatusFlags()&linux.O_NONBLOCK == 0 {
		t.Error("accepted file lost O_NONBLOCK")
	}
}

func TestIPv6Loopback(t *testing.T) {
	_, l := newSock(t, linux.AF_INET6, linux.SOCK_STREAM, 0, 0)
	sa := make([]byte, linux.SizeofSockAddrInet6)
	binary.LittleEndian.PutUint16(sa, linux.AF_INET6)
	sa[8+15] = 1 // ::1
	if err := l.Bind(ctx, sa); err == errno.EADDRNOTAVAIL {
		t.Skip("no ::1")
	} else if err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(ctx, 1); err != nil {
		t.Fatal(err)
	}
	addr, _ := l.GetSockName(ctx)
	_, c := newSock(t, linux.AF_INET6, linux.SOCK_STREAM, 0, 0)
	// The RFC 2133 length (no sin6_scope_id) is accepted.
	if err := c.Connect(ctx, addr[:linux.SIN6_LEN_RFC2133], false); err != nil {
		t.Fatalf("connect to [::1]: %v", err)
	}
	f, peer, err := l.Accept(ctx, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef()
	if len(peer) != linux.SizeofSockAddrInet6 || addrFamily(peer) != linux.AF_INET6 {
		t.Errorf("peer: %x", peer)
	}
}

func TestControlMessages(t *testing.T) {
	a, _ := boundUDP(t)
	b, bAddr := boundUDP(t)
	one := binary.LittleEndian.AppendUint32(nil, 1)
	for _, opt := range []int{linux.IP_PKTINFO, linux.IP_RECVTTL} {
		if err := b.SetSockOpt(ctx, linux.SOL_IP, opt, one); err != nil {
			t.Fatalf("setsockopt(%d): %v", opt, err)
		}
	}
	for range 2 {
		if _, err := a.SendMsg(ctx, []byte("x"), bAddr, socket.ControlMessages{}, 0, false); err != nil {
			t.Fatal(err)
		}
	}
	_, res, err := b.RecvMsg(ctx, 4, 0, false, true)
	if err != nil {
		t.Fatal(err)
	}
	var pktinfo, ttl bool
	for _, m := range res.Control.Extra {
		switch {
		case m.Level == linux.SOL_IP && m.Type == linux.IP_PKTINFO && len(m.Data) == 12:
			// struct in_pktinfo: ifindex, spec_dst, addr.
			pktinfo = bytes.Equal(m.Data[8:], loopback[:])
		case m.Level == linux.SOL_IP && m.Type == linux.IP_TTL && len(m.Data) == 4:
			ttl = binary.LittleEndian.Uint32(m.Data) > 0
		}
	}
	if !pktinfo || !ttl || res.CtrlTrunc {
		t.Errorf("control messages: %+v trunc %v", res.Control.Extra, res.CtrlTrunc)
	}
	// recvfrom(2) takes none.
	if _, res, err := b.RecvMsg(ctx, 4, 0, false, false); err != nil || res.Control.Extra != nil {
		t.Errorf("recv without control: %+v %v", res.Control, err)
	}

	// linux.IP_RECVERR: an ICMP port unreachable is queued on the error queue,
	// which is read without waiting.
	if err := a.SetSockOpt(ctx, linux.SOL_IP, linux.IP_RECVERR, one); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.RecvMsg(ctx, 4, linux.MSG_ERRQUEUE, false, true); err != errno.EAGAIN {
		t.Fatalf("empty error queue: %v", err)
	}
	// A port that was just free: bind one, note it, close it.
	pf, err := socket.New(ctx, linux.AF_INET, linux.SOCK_DGRAM, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	pf.Impl().(*Socket).Bind(ctx, sockaddr4(loopback, 0))
	closed, _ := pf.Impl().(*Socket).GetSockName(ctx)
	pf.DecRef()
	if _, err := a.SendMsg(ctx, []byte("x"), closed, socket.ControlMessages{}, 0, false); err != nil {
		t.Fatal(err)
	}
	w := vfs.NewWaiter(vfs.EventErr)
	a.EventRegister(w)
	defer a.EventUnregister(w)
	for a.Readiness(0)&vfs.EventErr == 0 {
		select {
		case <-w.C:
		case <-time.After(5 * time.Second):
			t.Fatal("no error reported")
		}
	}
	_, res, err = a.RecvMsg(ctx, 4, linux.MSG_ERRQUEUE, false, true)
	if err != nil || len(res.Control.Extra) != 1 || res.Control.Extra[0].Type != linux.IP_RECVERR {
		t.Fatalf("error queue: %+v %v", res.Control.Extra, err)
	}
	// struct sock_extended_err starts with ee_errno.
	if e := errno.Errno(binary.LittleEndian.Uint32(res.Control.Extra[0].Data)); e != errno.ECONNREFUSED {
		t.Errorf("ee_errno: %v", e)
	}
}
