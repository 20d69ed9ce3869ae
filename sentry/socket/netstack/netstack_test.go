package netstack

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
	"github.com/runsc-lite/runsc-lite/sentry/inet"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// fakeCtx is a socket.Context for tests: it blocks on the channel alone.
type fakeCtx struct{}

func (fakeCtx) Credentials() *auth.Credentials { return auth.NewCredentials(0, 0) }
func (fakeCtx) PID() int32                     { return 1 }
func (fakeCtx) Umask() uint32                  { return 0o22 }
func (fakeCtx) NetworkStack() inet.Stack       { return nil }
func (fakeCtx) PathOperation(string, bool) (vfs.PathOperation, *vfs.VirtualFilesystem, bool) {
	return vfs.PathOperation{}, nil, false
}
func (fakeCtx) BlockUntil(ch <-chan struct{}, deadline time.Time, has bool) error {
	if !has {
		<-ch
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-time.After(time.Until(deadline)):
		return errno.ETIMEDOUT
	}
}

func inet4(port uint16) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b, linux.AF_INET)
	binary.BigEndian.PutUint16(b[2:], port)
	copy(b[4:], []byte{127, 0, 0, 1})
	return b
}

// tcpPair returns a connected client and server socket.
func tcpPair(tb testing.TB, st *Stack) (*Socket, *Socket) {
	ctx := fakeCtx{}
	p := provider{st: st, family: linux.AF_INET}
	lf, err := p.Socket(ctx, linux.SOCK_STREAM, 0, 0)
	if err != nil {
		tb.Fatal(err)
	}
	l := lf.Impl().(*Socket)
	if err := l.Bind(ctx, inet4(0)); err != nil {
		tb.Fatal(err)
	}
	if err := l.Listen(ctx, 10); err != nil {
		tb.Fatal(err)
	}
	name, _ := l.GetSockName(ctx)
	cf, _ := p.Socket(ctx, linux.SOCK_STREAM, 0, 0)
	c := cf.Impl().(*Socket)
	if err := c.Connect(ctx, name, false); err != nil {
		tb.Fatal(err)
	}
	af, _, err := l.Accept(ctx, 0, false)
	if err != nil {
		tb.Fatal(err)
	}
	lf.DecRef()
	return c, af.Impl().(*Socket)
}

// BenchmarkStream measures bulk TCP through the glue alone (no guest):
// 128 KiB sends and receives between two goroutines.
func BenchmarkStream(b *testing.B) {
	st := newStack(b)
	c, s := tcpPair(b, st)
	const chunk = 128 << 10
	buf := make([]byte, chunk)
	rbuf := make([]byte, chunk)
	b.SetBytes(chunk)
	done := make(chan struct{})
	go func() {
		defer close(done)
		got := 0
		for got < b.N*chunk {
			sk := &bufSink{buf: rbuf}
			if _, err := s.recv(fakeCtx{}, sk, 0, false); err != nil {
				b.Error(err)
				return
			}
			got += sk.n
		}
	}()
	for i := 0; i < b.N; i++ {
		if _, err := c.send(fakeCtx{}, bytes.NewReader(buf), nil, 0, false); err != nil {
			b.Fatal(err)
		}
	}
	<-done
}

func newStack(t testing.TB) *Stack {
	st, err := NewLoopback()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// TestStreamEchoAndEOF: bytes cross in order, a peek leaves them queued,
// and a shut-down writer reads as end of file.
func TestStreamEchoAndEOF(t *testing.T) {
	st := newStack(t)
	c, s := tcpPair(t, st)
	ctx := fakeCtx{}
	if n, err := c.send(ctx, bytes.NewReader([]byte("hello")), nil, 0, false); n != 5 || err != nil {
		t.Fatalf("send = %d, %v", n, err)
	}
	peek := &bufSink{buf: make([]byte, 3)}
	if _, err := s.recv(ctx, peek, linux.MSG_PEEK, false); err != nil || string(peek.buf[:peek.n]) != "hel" {
		t.Fatalf("peek = %q, %v", peek.buf[:peek.n], err)
	}
	all := &bufSink{buf: make([]byte, 10)}
	if _, err := s.recv(ctx, all, 0, false); err != nil || string(all.buf[:all.n]) != "hello" {
		t.Fatalf("recv = %q, %v", all.buf[:all.n], err)
	}
	if err := c.Shutdown(ctx, linux.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	eof := &bufSink{buf: make([]byte, 10)}
	if res, err := s.recv(ctx, eof, 0, false); err != nil || res.N != 0 {
		t.Fatalf("recv after SHUT_WR = %d, %v; want end of file", res.N, err)
	}
	empty := &bufSink{buf: make([]byte, 10)}
	if _, err := c.recv(ctx, empty, 0, true); err != errno.EAGAIN {
		t.Fatalf("nonblocking recv on empty = %v, want EAGAIN", err)
	}
}

// TestConnectRefused: a blocking connect to a port nobody listens on is
// ECONNREFUSED, and SO_ERROR is clear afterwards.
func TestConnectRefused(t *testing.T) {
	st := newStack(t)
	ctx := fakeCtx{}
	p := provider{st: st, family: linux.AF_INET}
	f, err := p.Socket(ctx, linux.SOCK_STREAM, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.DecRef()
	s := f.Impl().(*Socket)
	if err := s.Connect(ctx, inet4(9), false); err != errno.ECONNREFUSED {
		t.Fatalf("connect = %v, want ECONNREFUSED", err)
	}
	if v, _ := s.GetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_ERROR, 4); binary.LittleEndian.Uint32(v) != 0 {
		t.Fatalf("SO_ERROR = %d after the error was reported", binary.LittleEndian.Uint32(v))
	}
}

// TestAddressChecks: short and foreign sockaddrs are refused as Linux
// refuses them.
func TestAddressChecks(t *testing.T) {
	for _, tc := range []struct {
		family int
		addr   []byte
		use    addrUse
		dgram  bool
		want   error
	}{
		{linux.AF_INET, inet4(80)[:15], useBind, false, errno.EINVAL},
		{linux.AF_INET, []byte{10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, useBind, false, errno.EAFNOSUPPORT},
		{linux.AF_INET6, inet4(80), useConnect, false, errno.EINVAL},
		{linux.AF_INET6, inet4(80), useSendTo, true, nil},
		{linux.AF_INET, nil, useBind, false, errno.EINVAL},
	} {
		if _, err := parseAddr(tc.family, tc.addr, tc.use, tc.dgram); err != tc.want {
			t.Errorf("parseAddr(%d, %x) = %v, want %v", tc.family, tc.addr, err, tc.want)
		}
	}
	// Round trip: an IPv4 peer on an IPv6 socket shows v4-mapped.
	a, _ := parseAddr(linux.AF_INET6, inet4(80), useSendTo, true)
	b := sockaddr(linux.AF_INET6, a)
	if b[18] != 0xff || b[19] != 0xff || b[20] != 127 || binary.BigEndian.Uint16(b[2:]) != 80 {
		t.Errorf("v4-mapped sockaddr = %x", b)
	}
}

// TestDatagramTruncation: a short buffer takes part of a datagram,
// reports its full length, and loses the rest.
func TestDatagramTruncation(t *testing.T) {
	st := newStack(t)
	ctx := fakeCtx{}
	p := provider{st: st, family: linux.AF_INET}
	rf, _ := p.Socket(ctx, linux.SOCK_DGRAM, 0, 0)
	defer rf.DecRef()
	r := rf.Impl().(*Socket)
	if err := r.Bind(ctx, inet4(0)); err != nil {
		t.Fatal(err)
	}
	name, _ := r.GetSockName(ctx)
	sf, _ := p.Socket(ctx, linux.SOCK_DGRAM, 0, 0)
	defer sf.DecRef()
	s := sf.Impl().(*Socket)
	if n, err := s.SendMsg(ctx, []byte("0123456789"), name, socket.ControlMessages{}, 0, false); n != 10 || err != nil {
		t.Fatalf("sendto = %d, %v", n, err)
	}
	data, res, err := r.RecvMsg(ctx, 4, 0, false, false)
	if err != nil || string(data) != "0123" || res.MsgLen != 10 {
		t.Fatalf("recv = %q (len %d), %v", data, res.MsgLen, err)
	}
	if _, _, err := r.RecvMsg(ctx, 4, 0, true, false); err != errno.EAGAIN {
		t.Fatalf("rest of the datagram: %v, want EAGAIN", err)
	}
}

// BenchmarkSocketClose measures creating and closing a TCP socket.
func BenchmarkSocketClose(b *testing.B) {
	st := newStack(b)
	p := provider{st: st, family: linux.AF_INET}
	for i := 0; i < b.N; i++ {
		f, err := p.Socket(fakeCtx{}, linux.SOCK_STREAM, 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		f.DecRef()
	}
}
