package netlink

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
	"github.com/runsc-lite/runsc-lite/sentry/inet"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// fakeStack is an inet.Stack with lo and eth0.
type fakeStack struct {
	ifaces []inet.Interface
	addrs  map[int32][]inet.InterfaceAddr
	routes []inet.Route
}

func (s *fakeStack) Interfaces() []inet.Interface                   { return s.ifaces }
func (s *fakeStack) InterfaceAddrs() map[int32][]inet.InterfaceAddr { return s.addrs }
func (s *fakeStack) Routes() []inet.Route                           { return s.routes }
func (s *fakeStack) Sockets() []inet.SocketInfo                     { return nil }

func newFakeStack() *fakeStack {
	return &fakeStack{
		ifaces: []inet.Interface{
			{Index: 1, Name: "lo", Flags: inet.IFF_UP | inet.IFF_LOOPBACK | inet.IFF_RUNNING | inet.IFF_LOWER_UP,
				Type: inet.ARPHRD_LOOPBACK, MTU: 65536, HardwareAddr: make([]byte, 6),
				Stats: inet.InterfaceStats{RxBytes: 100, RxPackets: 2, TxBytes: 100, TxPackets: 2}},
			{Index: 2, Name: "eth0", Flags: inet.IFF_UP | inet.IFF_BROADCAST | inet.IFF_MULTICAST | inet.IFF_RUNNING | inet.IFF_LOWER_UP,
				Type: inet.ARPHRD_ETHER, MTU: 1500, HardwareAddr: []byte{2, 0x42, 0xac, 0x11, 0, 2}},
		},
		addrs: map[int32][]inet.InterfaceAddr{
			1: {
				{Family: inet.AF_INET, PrefixLen: 8, Flags: linux.IFA_F_PERMANENT, Addr: []byte{127, 0, 0, 1}},
				{Family: inet.AF_INET6, PrefixLen: 128, Flags: linux.IFA_F_PERMANENT, Addr: append(make([]byte, 15), 1)},
			},
			2: {
				{Family: inet.AF_INET, PrefixLen: 16, Flags: linux.IFA_F_PERMANENT, Addr: []byte{172, 17, 0, 2}},
				{Family: inet.AF_INET6, PrefixLen: 64, Flags: linux.IFA_F_PERMANENT, Addr: []byte{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x42, 0xac, 0xff, 0xfe, 0x11, 0, 2}},
			},
		},
		routes: []inet.Route{
			{Family: inet.AF_INET, Gateway: []byte{172, 17, 0, 1}, OutputInterface: 2, Table: inet.RT_TABLE_MAIN,
				Protocol: inet.RTPROT_BOOT, Scope: inet.RT_SCOPE_UNIVERSE, Type: inet.RTN_UNICAST},
			{Family: inet.AF_INET, DstLen: 16, Dst: []byte{172, 17, 0, 0}, PrefSrc: []byte{172, 17, 0, 2}, OutputInterface: 2,
				Table: inet.RT_TABLE_MAIN, Protocol: inet.RTPROT_KERNEL, Scope: inet.RT_SCOPE_LINK, Type: inet.RTN_UNICAST},
			{Family: inet.AF_INET6, DstLen: 128, Dst: append(make([]byte, 15), 1), OutputInterface: 1,
				Table: inet.RT_TABLE_MAIN, Protocol: inet.RTPROT_KERNEL, Type: inet.RTN_UNICAST},
		},
	}
}

// fakeCtx is a socket.Context that blocks on channels with no signals.
type fakeCtx struct {
	pid   int32
	uid   auth.KUID
	stack inet.Stack
}

func (c fakeCtx) Credentials() *auth.Credentials { return auth.NewCredentials(c.uid, 0) }
func (c fakeCtx) PID() int32                     { return c.pid }
func (fakeCtx) Umask() uint32                    { return 0o22 }
func (c fakeCtx) NetworkStack() inet.Stack {
	if c.stack == nil {
		return nil
	}
	return c.stack
}
func (fakeCtx) PathOperation(string, bool) (vfs.PathOperation, *vfs.VirtualFilesystem, bool) {
	return vfs.PathOperation{}, nil, false
}
func (fakeCtx) BlockUntil(ch <-chan struct{}, deadline time.Time, has bool) error {
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
	}
}

var nextPID int32 = 100

// newCtx returns an unprivileged caller with its own pid (so that each
// test's first socket autobinds to it).
func newCtx(stack inet.Stack) fakeCtx {
	nextPID++
	return fakeCtx{pid: nextPID, uid: 1000, stack: stack}
}

func newSock(t *testing.T, ctx socket.Context) *Socket {
	t.Helper()
	f, err := socket.New(ctx, linux.AF_NETLINK, linux.SOCK_RAW, linux.NETLINK_ROUTE, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.DecRef)
	return f.Impl().(*Socket)
}

// request encodes a request: a header and payload, as a client would.
func request(typ, flags uint16, seq uint32, payload []byte) []byte {
	b := make([]byte, linux.SizeofNlMsghdr)
	h := linux.NlMsghdr{Len: uint32(len(b) + len(payload)), Type: typ, Flags: flags, Seq: seq}
	h.MarshalBytes(b)
	return append(b, payload...)
}

// recvAll reads datagrams with a buffer of size bufLen until none is
// left (or NLMSG_DONE/NLMSG_ERROR ends a dump), checking each is no
// longer than the buffer, and returns the parsed messages.
func recvAll(t *testing.T, ctx socket.Context, s *Socket, bufLen int) []syscall.NetlinkMessage {
	t.Helper()
	var msgs []syscall.NetlinkMessage
	for {
		data, res, err := s.RecvMsg(ctx, bufLen, 0, true, false)
		if err == errno.EAGAIN {
			return msgs
		}
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		if res.MsgLen > bufLen {
			t.Fatalf("datagram of %d bytes for a %d-byte buffer", res.MsgLen, bufLen)
		}
		if !bytes.Equal(res.From, sockaddr(0, 0)) {
			t.Errorf("from %x, want the kernel", res.From)
		}
		m, err := syscall.ParseNetlinkMessage(data)
		if err != nil {
			t.Fatalf("ParseNetlinkMessage(%x): %v", data, err)
		}
		msgs = append(msgs, m...)
	}
}

// attrTypes returns a message's attributes, parsed by the standard
// library, in order.
func attrTypes(t *testing.T, m *syscall.NetlinkMessage) ([]uint16, map[uint16][]byte) {
	t.Helper()
	attrs, err := syscall.ParseNetlinkRouteAttr(m)
	if err != nil {
		t.Fatalf("ParseNetlinkRouteAttr(type %d): %v", m.Header.Type, err)
	}
	var types []uint16
	vals := map[uint16][]byte{}
	for _, a := range attrs {
		types = append(types, a.Attr.Type)
		vals[a.Attr.Type] = a.Value
	}
	return types, vals
}

func TestStructSizes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"NlMsghdr", unsafe.Sizeof(linux.NlMsghdr{}), syscall.SizeofNlMsghdr},
		{"SockAddrNetlink", unsafe.Sizeof(linux.SockAddrNetlink{}), syscall.SizeofSockaddrNetlink},
		{"IfInfomsg", unsafe.Sizeof(linux.IfInfomsg{}), syscall.SizeofIfInfomsg},
		{"IfAddrmsg", unsafe.Sizeof(linux.IfAddrmsg{}), syscall.SizeofIfAddrmsg},
		{"RtMsg", unsafe.Sizeof(linux.RtMsg{}), syscall.SizeofRtMsg},
		{"SizeofNlMsgerr", linux.SizeofNlMsgerr, syscall.SizeofNlMsgerr},
		{"SizeofRtAttr", linux.SizeofRtAttr, syscall.SizeofRtAttr},
		{"SizeofRtGenmsg", linux.SizeofRtGenmsg, syscall.SizeofRtGenmsg},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: size %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

func TestSocketCreation(t *testing.T) {
	ctx := newCtx(nil)
	for _, tc := range []struct {
		name          string
		typ, protocol int
		want          error
	}{
		{"raw route", linux.SOCK_RAW, linux.NETLINK_ROUTE, nil},
		{"dgram route", linux.SOCK_DGRAM, linux.NETLINK_ROUTE, nil},
		{"stream", linux.SOCK_STREAM, linux.NETLINK_ROUTE, errno.ESOCKTNOSUPPORT},
		{"generic", linux.SOCK_RAW, linux.NETLINK_GENERIC, errno.EPROTONOSUPPORT},
		{"uevent", linux.SOCK_DGRAM, linux.NETLINK_KOBJECT_UEVENT, errno.EPROTONOSUPPORT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := socket.New(ctx, linux.AF_NETLINK, tc.typ, tc.protocol, 0)
			if err != tc.want {
				t.Fatalf("socket: %v, want %v", err, tc.want)
			}
			if f != nil {
				f.DecRef()
			}
		})
	}
	if _, _, err := socket.NewPair(ctx, linux.AF_NETLINK, linux.SOCK_RAW, 0, 0); err != errno.EOPNOTSUPP {
		t.Errorf("socketpair: %v", err)
	}
}

func TestBind(t *testing.T) {
	ctx := newCtx(nil)
	a := newSock(t, ctx)
	if got, _ := a.GetSockName(ctx); !bytes.Equal(got, sockaddr(0, 0)) {
		t.Errorf("unbound name %x", got)
	}
	if err := a.Bind(ctx, sockaddr(0, 0)[:8]); err != errno.EINVAL {
		t.Errorf("short address: %v", err)
	}
	if err := a.Bind(ctx, sockaddr(0, 1)); err != nil {
		t.Fatal(err)
	}
	// The first socket of a process gets its pid.
	if got, _ := a.GetSockName(ctx); !bytes.Equal(got, sockaddr(uint32(ctx.pid), 1)) {
		t.Errorf("autobound name %x, want pid %d", got, ctx.pid)
	}
	if err := a.Bind(ctx, sockaddr(5, 0)); err != errno.EINVAL {
		t.Errorf("rebind to another id: %v", err)
	}
	if err := a.Bind(ctx, sockaddr(uint32(ctx.pid), 0)); err != nil {
		t.Errorf("rebind to own id: %v", err)
	}
	// The next one gets a negative id.
	b := newSock(t, ctx)
	if err := b.Bind(ctx, sockaddr(0, 0)); err != nil {
		t.Fatal(err)
	}
	got, _ := b.GetSockName(ctx)
	if pid := int32(binary.LittleEndian.Uint32(got[4:])); pid > -4096 {
		t.Errorf("second autobind got %d, want below -4096", pid)
	}
	c := newSock(t, ctx)
	if err := c.Bind(ctx, sockaddr(uint32(ctx.pid), 0)); err != errno.EADDRINUSE {
		t.Errorf("bind to a taken id: %v", err)
	}
	if err := c.Bind(ctx, sockaddr(777777, 0)); err != nil {
		t.Errorf("bind to a free id: %v", err)
	}
	if peer, err := c.GetPeerName(ctx); err != nil || !bytes.Equal(peer, sockaddr(0, 0)) {
		t.Errorf("peer %x %v, want the kernel", peer, err)
	}
}

func TestDumpLinks(t *testing.T) {
	ctx := newCtx(newFakeStack())
	s := newSock(t, ctx)
	// Go's syscall.NetlinkRIB: a struct rtgenmsg, unpadded (17 bytes),
	// sent unbound: sendmsg autobinds.
	req := request(linux.RTM_GETLINK, linux.NLM_F_DUMP|linux.NLM_F_REQUEST, 1, []byte{linux.AF_UNSPEC})
	if n, err := s.SendMsg(ctx, req, sockaddr(0, 0), socket.ControlMessages{}, 0, true); n != len(req) || err != nil {
		t.Fatalf("send: %d %v", n, err)
	}
	msgs := recvAll(t, ctx, s, 4096)
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 2 links and NLMSG_DONE", len(msgs))
	}
	for _, m := range msgs {
		if m.Header.Seq != 1 || m.Header.Pid != uint32(ctx.pid) || m.Header.Flags != linux.NLM_F_MULTI {
			t.Errorf("header %+v, want seq 1 pid %d NLM_F_MULTI", m.Header, ctx.pid)
		}
	}
	if done := msgs[2]; done.Header.Type != linux.NLMSG_DONE || !bytes.Equal(done.Data, []byte{0, 0, 0, 0}) {
		t.Errorf("last message %+v %x, want NLMSG_DONE with 0", done.Header, done.Data)
	}
	for i, want := range []struct {
		name   string
		index  int32
		typ    uint16
		flags  uint32
		mtu    uint32
		oper   uint8
		hw     []byte
		brd    []byte
		rxByte uint64
	}{
		{"lo", 1, inet.ARPHRD_LOOPBACK, 0x10049, 65536, linux.IF_OPER_UNKNOWN, make([]byte, 6), make([]byte, 6), 100},
		{"eth0", 2, inet.ARPHRD_ETHER, 0x11043, 1500, linux.IF_OPER_UP, []byte{2, 0x42, 0xac, 0x11, 0, 2}, bytes.Repeat([]byte{0xff}, 6), 0},
	} {
		m := msgs[i]
		if m.Header.Type != syscall.RTM_NEWLINK {
			t.Fatalf("message %d type %d", i, m.Header.Type)
		}
		ifi := (*syscall.IfInfomsg)(unsafe.Pointer(&m.Data[0]))
		if ifi.Index != want.index || ifi.Type != want.typ || ifi.Flags != want.flags || ifi.Family != syscall.AF_UNSPEC {
			t.Errorf("%s: ifinfomsg %+v", want.name, *ifi)
		}
		types, vals := attrTypes(t, &m)
		wantTypes := []uint16{linux.IFLA_IFNAME, linux.IFLA_TXQLEN, linux.IFLA_OPERSTATE, linux.IFLA_LINKMODE, linux.IFLA_MTU,
			linux.IFLA_GROUP, linux.IFLA_PROMISCUITY, linux.IFLA_NUM_TX_QUEUES, linux.IFLA_NUM_RX_QUEUES, linux.IFLA_CARRIER,
			linux.IFLA_PROTO_DOWN, linux.IFLA_ADDRESS, linux.IFLA_BROADCAST, linux.IFLA_STATS64, linux.IFLA_STATS, linux.IFLA_QDISC}
		if fmt.Sprint(types) != fmt.Sprint(wantTypes) {
			t.Errorf("%s: attributes %v, want %v", want.name, types, wantTypes)
		}
		// What Go's net.Interfaces reads: the name without its NUL,
		// the MTU as a native uint32, the hardware address.
		if string(vals[linux.IFLA_IFNAME]) != want.name+"\x00" {
			t.Errorf("%s: IFLA_IFNAME %q", want.name, vals[linux.IFLA_IFNAME])
		}
		if got := binary.LittleEndian.Uint32(vals[linux.IFLA_MTU]); got != want.mtu {
			t.Errorf("%s: mtu %d", want.name, got)
		}
		if got := vals[linux.IFLA_OPERSTATE]; len(got) != 1 || got[0] != want.oper {
			t.Errorf("%s: operstate %v", want.name, got)
		}
		if !bytes.Equal(vals[linux.IFLA_ADDRESS], want.hw) || !bytes.Equal(vals[linux.IFLA_BROADCAST], want.brd) {
			t.Errorf("%s: address %x broadcast %x", want.name, vals[linux.IFLA_ADDRESS], vals[linux.IFLA_BROADCAST])
		}
		st := vals[linux.IFLA_STATS64]
		if len(st) != linux.SizeofRtnlLinkStats64 || binary.LittleEndian.Uint64(st[16:]) != want.rxByte {
			t.Errorf("%s: stats64 %x", want.name, st)
		}
		if st := vals[linux.IFLA_STATS]; len(st) != linux.SizeofRtnlLinkStats || binary.LittleEndian.Uint32(st[8:]) != uint32(want.rxByte) {
			t.Errorf("%s: stats %x", want.name, st)
		}
		if string(vals[linux.IFLA_QDISC]) != "noqueue\x00" {
			t.Errorf("%s: qdisc %q", want.name, vals[linux.IFLA_QDISC])
		}
	}
}

func TestDumpAddrs(t *testing.T) {
	ctx := newCtx(newFakeStack())
	s := newSock(t, ctx)
	v4 := []uint16{linux.IFA_ADDRESS, linux.IFA_LOCAL, linux.IFA_LABEL, linux.IFA_FLAGS, linux.IFA_CACHEINFO}
	v4brd := []uint16{linux.IFA_ADDRESS, linux.IFA_LOCAL, linux.IFA_BROADCAST, linux.IFA_LABEL, linux.IFA_FLAGS, linux.IFA_CACHEINFO}
	v6 := []uint16{linux.IFA_ADDRESS, linux.IFA_CACHEINFO, linux.IFA_FLAGS}
	type addr struct {
		family uint8
		index  uint32
		scope  uint8
		attrs  []uint16
		addr   string
	}
	lo4 := addr{syscall.AF_INET, 1, linux.RT_SCOPE_HOST, v4, "7f000001"}
	eth4 := addr{syscall.AF_INET, 2, linux.RT_SCOPE_UNIVERSE, v4brd, "ac110002"}
	lo6 := addr{syscall.AF_INET6, 1, linux.RT_SCOPE_HOST, v6, "00000000000000000000000000000001"}
	eth6 := addr{syscall.AF_INET6, 2, linux.RT_SCOPE_LINK, v6, "fe800000000000000042acfffe110002"}
	for _, tc := range []struct {
		name   string
		family uint8
		want   []addr
	}{
		// Every family in turn, as rtnl_dump_all: IPv4 then IPv6.
		{"unspec", linux.AF_UNSPEC, []addr{lo4, eth4, lo6, eth6}},
		{"inet", linux.AF_INET, []addr{lo4, eth4}},
		{"inet6", linux.AF_INET6, []addr{lo6, eth6}},
		// glibc's getifaddrs asks with AF_PACKET, which has no address
		// dump of its own.
		{"packet", linux.AF_PACKET, []addr{lo4, eth4, lo6, eth6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := request(linux.RTM_GETADDR, linux.NLM_F_DUMP|linux.NLM_F_REQUEST, 7, []byte{tc.family, 0, 0, 0})
			if _, err := s.SendMsg(ctx, req, nil, socket.ControlMessages{}, 0, true); err != nil {
				t.Fatal(err)
			}
			msgs := recvAll(t, ctx, s, 4096)
			if len(msgs) != len(tc.want)+1 || msgs[len(msgs)-1].Header.Type != linux.NLMSG_DONE {
				t.Fatalf("%d messages, want %d and NLMSG_DONE", len(msgs), len(tc.want))
			}
			for i, w := range tc.want {
				m := msgs[i]
				ifa := (*syscall.IfAddrmsg)(unsafe.Pointer(&m.Data[0]))
				if m.Header.Type != syscall.RTM_NEWADDR || ifa.Family != w.family || ifa.Index != w.index || ifa.Scope != w.scope || ifa.Flags != linux.IFA_F_PERMANENT {
					t.Errorf("%d: %+v %+v", i, m.Header, *ifa)
				}
				types, vals := attrTypes(t, &m)
				if fmt.Sprint(types) != fmt.Sprint(w.attrs) {
					t.Errorf("%d: attributes %v, want %v", i, types, w.attrs)
				}
				if got := fmt.Sprintf("%x", vals[linux.IFA_ADDRESS]); got != w.addr {
					t.Errorf("%d: address %s, want %s", i, got, w.addr)
				}
				if w.family == syscall.AF_INET && !bytes.Equal(vals[linux.IFA_LOCAL], vals[linux.IFA_ADDRESS]) {
					t.Errorf("%d: local %x", i, vals[linux.IFA_LOCAL])
				}
				if ci := vals[linux.IFA_CACHEINFO]; len(ci) != linux.SizeofIfaCacheinfo || binary.LittleEndian.Uint32(ci) != linux.INFINITY_LIFE_TIME {
					t.Errorf("%d: cacheinfo %x", i, ci)
				}
			}
		})
	}
	// eth0's broadcast address and label.
	req := request(linux.RTM_GETADDR, linux.NLM_F_DUMP|linux.NLM_F_REQUEST, 8, []byte{linux.AF_INET})
	s.SendMsg(ctx, req, nil, socket.ControlMessages{}, 0, true)
	msgs := recvAll(t, ctx, s, 4096)
	_, vals := attrTypes(t, &msgs[1])
	if !bytes.Equal(vals[linux.IFA_BROADCAST], []byte{172, 17, 255, 255}) || string(vals[linux.IFA_LABEL]) != "eth0\x00" {
		t.Errorf("eth0: broadcast %x label %q", vals[linux.IFA_BROADCAST], vals[linux.IFA_LABEL])
	}
}

func TestDumpRoutes(t *testing.T) {
	ctx := newCtx(newFakeStack())
	s := newSock(t, ctx)
	rtm := make([]byte, linux.SizeofRtMsg)
	rtm[0] = linux.AF_UNSPEC
	s.SendMsg(ctx, request(linux.RTM_GETROUTE, linux.NLM_F_DUMP|linux.NLM_F_REQUEST, 3, rtm), nil, socket.ControlMessages{}, 0, true)
	msgs := recvAll(t, ctx, s, 4096)
	if len(msgs) != 4 {
		t.Fatalf("%d messages, want 3 routes and NLMSG_DONE", len(msgs))
	}
	for i, w := range []struct {
		hdr   syscall.RtMsg
		attrs []uint16
	}{
		{syscall.RtMsg{Family: syscall.AF_INET, Table: inet.RT_TABLE_MAIN, Protocol: inet.RTPROT_BOOT, Type: inet.RTN_UNICAST},
			[]uint16{linux.RTA_TABLE, linux.RTA_GATEWAY, linux.RTA_OIF}},
		{syscall.RtMsg{Family: syscall.AF_INET, Dst_len: 16, Table: inet.RT_TABLE_MAIN, Protocol: inet.RTPROT_KERNEL, Scope: inet.RT_SCOPE_LINK, Type: inet.RTN_UNICAST},
			[]uint16{linux.RTA_TABLE, linux.RTA_DST, linux.RTA_PREFSRC, linux.RTA_OIF}},
		{syscall.RtMsg{Family: syscall.AF_INET6, Dst_len: 128, Table: inet.RT_TABLE_MAIN, Protocol: inet.RTPROT_KERNEL, Type: inet.RTN_UNICAST},
			[]uint16{linux.RTA_TABLE, linux.RTA_DST, linux.RTA_PRIORITY, linux.RTA_OIF, linux.RTA_CACHEINFO, linux.RTA_PREF}},
	} {
		m := msgs[i]
		if got := *(*syscall.RtMsg)(unsafe.Pointer(&m.Data[0])); m.Header.Type != syscall.RTM_NEWROUTE || got != w.hdr {
			t.Errorf("%d: %+v, want %+v", i, got, w.hdr)
		}
		types, vals := attrTypes(t, &m)
		if fmt.Sprint(types) != fmt.Sprint(w.attrs) {
			t.Errorf("%d: attributes %v, want %v", i, types, w.attrs)
		}
		if got := binary.LittleEndian.Uint32(vals[linux.RTA_TABLE]); got != inet.RT_TABLE_MAIN {
			t.Errorf("%d: table %d", i, got)
		}
	}
	_, vals := attrTypes(t, &msgs[0])
	if !bytes.Equal(vals[linux.RTA_GATEWAY], []byte{172, 17, 0, 1}) || binary.LittleEndian.Uint32(vals[linux.RTA_OIF]) != 2 {
		t.Errorf("default route: gateway %x oif %x", vals[linux.RTA_GATEWAY], vals[linux.RTA_OIF])
	}
	// Filtered by family, and the multicast tables are empty.
	rtm[0] = linux.AF_INET6
	s.SendMsg(ctx, request(linux.RTM_GETROUTE, linux.NLM_F_DUMP|linux.NLM_F_REQUEST, 4, rtm), nil, socket.ControlMessages{}, 0, true)
	if msgs := recvAll(t, ctx, s, 4096); len(msgs) != 2 || msgs[0].Header.Type != syscall.RTM_NEWROUTE {
		t.Errorf("IPv6 dump: %d messages", len(msgs))
	}
	rtm[0] = linux.RTNL_FAMILY_IPMR
	s.SendMsg(ctx, request(linux.RTM_GETROUTE, linux.NLM_F_DUMP|linux.NLM_F_REQUEST, 5, rtm), nil, socket.ControlMessages{}, 0, true)
	if msgs := recvAll(t, ctx, s, 4096); len(msgs) != 1 || msgs[0].Header.Type != linux.NLMSG_DONE {
		t.Errorf("IPMR dump: %d messages", len(msgs))
	}
}

// nlError decodes an NLMSG_ERROR: the errno (positive) and the echoed
// request.
func nlError(t *testing.T, m *syscall.NetlinkMessage) (errno.Errno, []byte) {
	t.Helper()
	if m.Header.Type != syscall.NLMSG_ERROR || len(m.Data) < linux.SizeofNlMsgerr {
		t.Fatalf("not an error: %+v %x", m.Header, m.Data)
	}
	return errno.Errno(-int32(binary.LittleEndian.Uint32(m.Data))), m.Data[4:]
}

func TestGetLink(t *testing.T) {
	ctx := newCtx(newFakeStack())
	s := newSock(t, ctx)
	ifi := func(index int32) []byte {
		b := make([]byte, linux.SizeofIfInfomsg)
		(&linux.IfInfomsg{Index: index}).MarshalBytes(b)
		return b
	}
	withName := func(name string) []byte {
		m := &builder{}
		m.attrString(linux.IFLA_IFNAME, name)
		return append(ifi(0), m.b...)
	}
	for _, tc := range []struct {
		name    string
		payload []byte
		flags   uint16
		want    string // the link's name, or "" for an error
		err     errno.Errno
	}{
		{"by index", ifi(2), 0, "eth0", 0},
		{"by name", withName("lo"), 0, "lo", 0},
		{"by name with ack", withName("lo"), linux.NLM_F_ACK, "lo", 0},
		{"unknown index", ifi(9), 0, "", errno.ENODEV},
		{"unknown name", withName("eth9"), 0, "", errno.ENODEV},
		{"long name", withName("abcdefghijklmnopq"), 0, "", errno.ERANGE},
		{"neither", ifi(0), 0, "", errno.EINVAL},
		{"short header", []byte{0}, 0, "", errno.EINVAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := request(linux.RTM_GETLINK, linux.NLM_F_REQUEST|tc.flags, 9, tc.payload)
			s.SendMsg(ctx, req, nil, socket.ControlMessages{}, 0, true)
			msgs := recvAll(t, ctx, s, 8192)
			if tc.err != 0 {
				if len(msgs) != 1 {
					t.Fatalf("%d messages", len(msgs))
				}
				e, echo := nlError(t, &msgs[0])
				// A failed request comes back whole.
				if e != tc.err || !bytes.Equal(echo, req[:len(echo)]) || len(echo) != linux.NlmsgAlign(len(req)) || msgs[0].Header.Flags != 0 {
					t.Errorf("error %v (flags %#x) echo %x, want %v and %x", e, msgs[0].Header.Flags, echo, tc.err, req)
				}
				return
			}
			want := 1
			if tc.flags&linux.NLM_F_ACK != 0 {
				want = 2
			}
			if len(msgs) != want {
				t.Fatalf("%d messages, want %d", len(msgs), want)
			}
			if msgs[0].Header.Type != syscall.RTM_NEWLINK || msgs[0].Header.Flags != 0 || msgs[0].Header.Seq != 9 {
				t.Errorf("reply %+v", msgs[0].Header)
			}
			if _, vals := attrTypes(t, &msgs[0]); string(vals[linux.IFLA_IFNAME]) != tc.want+"\x00" {
				t.Errorf("name %q, want %q", vals[linux.IFLA_IFNAME], tc.want)
			}
			if want == 2 {
				// A success is acknowledged with the header only.
				e, echo := nlError(t, &msgs[1])
				if e != 0 || msgs[1].Header.Flags != linux.NLM_F_CAPPED || !bytes.Equal(echo, req[:linux.SizeofNlMsghdr]) {
					t.Errorf("ack %v flags %#x echo %x", e, msgs[1].Header.Flags, echo)
				}
			}
		})
	}
}

func TestRefusedRequests(t *testing.T) {
	stack := newFakeStack()
	user := newCtx(stack)
	root := newCtx(stack)
	root.uid = 0 // Every capability, CAP_NET_ADMIN included.
	ifa := make([]byte, linux.SizeofIfAddrmsg)
	for _, tc := range []struct {
		name  string
		ctx   fakeCtx
		typ   uint16
		flags uint16
		err   errno.Errno
	}{
		{"newaddr", user, linux.RTM_NEWADDR, linux.NLM_F_CREATE, errno.EPERM},
		{"newaddr as root", root, linux.RTM_NEWADDR, linux.NLM_F_CREATE, errno.EOPNOTSUPP},
		{"setlink", user, linux.RTM_SETLINK, 0, errno.EPERM},
		{"delroute", user, linux.RTM_DELROUTE, 0, errno.EPERM},
		{"rule dump", user, linux.RTM_GETRULE, linux.NLM_F_DUMP, errno.EOPNOTSUPP},
		{"single address", user, linux.RTM_GETADDR, 0, errno.EOPNOTSUPP},
		{"beyond RTM_MAX", user, linux.RTM_MAX + 1, 0, errno.EOPNOTSUPP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSock(t, tc.ctx)
			s.SendMsg(tc.ctx, request(tc.typ, linux.NLM_F_REQUEST|tc.flags, 1, ifa), nil, socket.ControlMessages{}, 0, true)
			msgs := recvAll(t, tc.ctx, s, 4096)
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			if e, _ := nlError(t, &msgs[0]); e != tc.err {
				t.Errorf("error %v, want %v", e, tc.err)
			}
		})
	}
}

func TestControlMessagesAndBatches(t *testing.T) {
	ctx := newCtx(newFakeStack())
	s := newSock(t, ctx)
	var batch []byte
	// Not a request: only acknowledged, as asked.
	batch = append(batch, request(linux.RTM_GETLINK, linux.NLM_F_ACK, 1, []byte{0, 0, 0, 0})...)
	// A NOOP with an ack.
	batch = append(batch, request(linux.NLMSG_NOOP, linux.NLM_F_REQUEST|linux.NLM_F_ACK, 2, nil)...)
	// An empty rtnetlink request is ignored.
	batch = append(batch, request(linux.RTM_GETLINK, linux.NLM_F_REQUEST, 3, nil)...)
	// A dump in the same batch.
	batch = append(batch, request(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 4, []byte{0, 0, 0, 0})...)
	// A truncated message ends the batch.
	batch = append(batch, request(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_ACK, 5, []byte{0, 0, 0, 0})[:18]...)
	if n, err := s.SendMsg(ctx, batch, nil, socket.ControlMessages{}, 0, true); n != len(batch) || err != nil {
		t.Fatalf("send: %d %v", n, err)
	}
	msgs := recvAll(t, ctx, s, 4096)
	var got []string
	for _, m := range msgs {
		got = append(got, fmt.Sprintf("%d/%d", m.Header.Type, m.Header.Seq))
	}
	want := "[2/1 2/2 16/4 16/4 3/4]"
	if fmt.Sprint(got) != want {
		t.Errorf("replies %v, want %s", got, want)
	}
	// A second dump while one is being read is EBUSY.
	s.SendMsg(ctx, request(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 6, []byte{0}), nil, socket.ControlMessages{}, 0, true)
	s.SendMsg(ctx, request(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 7, []byte{0}), nil, socket.ControlMessages{}, 0, true)
	msgs = recvAll(t, ctx, s, 4096)
	busy := false
	for _, m := range msgs {
		if m.Header.Seq == 7 && m.Header.Type == syscall.NLMSG_ERROR {
			e, _ := nlError(t, &m)
			busy = e == errno.EBUSY
		}
	}
	// The first dump fits one datagram, so it finished at once and the
	// second one ran too; with a many-message dump it would be busy.
	if busy {
		t.Errorf("second dump refused although the first was done")
	}
}

// bigStack has n interfaces.
func bigStack(n int) *fakeStack {
	s := &fakeStack{addrs: map[int32][]inet.InterfaceAddr{}}
	for i := 1; i <= n; i++ {
		s.ifaces = append(s.ifaces, inet.Interface{Index: int32(i), Name: fmt.Sprintf("veth%d", i), Flags: inet.IFF_UP,
			Type: inet.ARPHRD_ETHER, MTU: 1500, HardwareAddr: []byte{2, 0, 0, 0, 0, byte(i)}})
	}
	return s
}

func TestDumpPagination(t *testing.T) {
	ctx := newCtx(bigStack(40))
	s := newSock(t, ctx)
	req := request(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 1, []byte{0})
	s.SendMsg(ctx, req, nil, socket.ControlMessages{}, 0, true)
	// Only one datagram is ready at a time, of at most NLMSG_GOODSIZE.
	if got := len(s.rq); got != 1 {
		t.Errorf("%d datagrams queued, want 1", got)
	}
	if got := len(s.rq[0].data); got > nlmsgGoodSize {
		t.Errorf("first datagram %d bytes", got)
	}
	// A second dump is refused while this one runs.
	s.SendMsg(ctx, request(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 2, []byte{0}), nil, socket.ControlMessages{}, 0, true)
	// Peek and truncation: MSG_PEEK leaves the datagram, MsgLen reports
	// its size.
	data, res, err := s.RecvMsg(ctx, 16, linux.MSG_PEEK, true, false)
	if err != nil || len(data) != 16 || res.MsgLen <= 16 {
		t.Fatalf("peek: %d bytes of %d, %v", len(data), res.MsgLen, err)
	}
	msgs := recvAll(t, ctx, s, 4096)
	links, busy := 0, false
	for _, m := range msgs {
		switch {
		case m.Header.Type == syscall.RTM_NEWLINK:
			links++
		case m.Header.Type == syscall.NLMSG_ERROR && m.Header.Seq == 2:
			e, _ := nlError(t, &m)
			busy = e == errno.EBUSY
		}
	}
	if links != 40 || msgs[len(msgs)-1].Header.Type != linux.NLMSG_DONE || !busy {
		t.Errorf("%d links, last %+v, busy %v", links, msgs[len(msgs)-1].Header, busy)
	}
	// After a read with a large buffer, dumps use larger datagrams.
	s.SendMsg(ctx, req, nil, socket.ControlMessages{}, 0, true)
	_, res, err = s.RecvMsg(ctx, 32768, 0, true, false)
	// This one was filled when the request came, sized by the 4096-byte
	// reads before.
	if err != nil || res.MsgLen > 4096 {
		t.Fatalf("first datagram: %d %v", res.MsgLen, err)
	}
	_, res, err = s.RecvMsg(ctx, 32768, 0, true, false)
	if err != nil || res.MsgLen <= 4096 || res.MsgLen > maxRecvmsgLen {
		t.Errorf("second datagram: %d bytes, %v", res.MsgLen, err)
	}
	recvAll(t, ctx, s, 32768)
}

func TestNilStack(t *testing.T) {
	ctx := newCtx(nil)
	s := newSock(t, ctx)
	for _, typ := range []uint16{linux.RTM_GETLINK, linux.RTM_GETADDR, linux.RTM_GETROUTE} {
		s.SendMsg(ctx, request(typ, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 1, []byte{0}), nil, socket.ControlMessages{}, 0, true)
		if msgs := recvAll(t, ctx, s, 4096); len(msgs) != 1 || msgs[0].Header.Type != linux.NLMSG_DONE {
			t.Errorf("type %d: %d messages", typ, len(msgs))
		}
	}
}

func TestOverrunAndOptions(t *testing.T) {
	ctx := newCtx(newFakeStack())
	s := newSock(t, ctx)
	if err := s.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_RCVBUF, socket.Int32Bytes(1)); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.GetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_RCVBUF, 4); binary.LittleEndian.Uint32(v) != minRcvBuf {
		t.Errorf("SO_RCVBUF %d, want the minimum", binary.LittleEndian.Uint32(v))
	}
	ifi := make([]byte, linux.SizeofIfInfomsg)
	(&linux.IfInfomsg{Index: 1}).MarshalBytes(ifi)
	req := request(linux.RTM_GETLINK, linux.NLM_F_REQUEST, 1, ifi)
	for i := 0; i < 10; i++ {
		s.SendMsg(ctx, req, nil, socket.ControlMessages{}, 0, true)
	}
	if s.Readiness(vfs.EventIn)&vfs.EventErr == 0 {
		t.Error("no EPOLLERR after an overrun")
	}
	if _, _, err := s.RecvMsg(ctx, 4096, 0, true, false); err != errno.ENOBUFS {
		t.Errorf("recv after overrun: %v, want ENOBUFS", err)
	}
	if _, _, err := s.RecvMsg(ctx, 4096, 0, true, false); err != nil {
		t.Errorf("recv after ENOBUFS: %v", err)
	}
	// SOL_NETLINK options.
	if err := s.SetSockOpt(ctx, linux.SOL_NETLINK, linux.NETLINK_EXT_ACK, socket.Int32Bytes(1)); err != nil {
		t.Error(err)
	}
	if v, err := s.GetSockOpt(ctx, linux.SOL_NETLINK, linux.NETLINK_EXT_ACK, 4); err != nil || binary.LittleEndian.Uint32(v) != 1 {
		t.Errorf("NETLINK_EXT_ACK: %x %v", v, err)
	}
	if _, err := s.GetSockOpt(ctx, linux.SOL_NETLINK, linux.NETLINK_EXT_ACK, 2); err != errno.EINVAL {
		t.Errorf("short NETLINK_EXT_ACK: %v", err)
	}
	for _, tc := range []struct {
		group uint32
		err   error
	}{{0, errno.EINVAL}, {linux.RTNLGRP_MAX + 1, errno.EINVAL}, {1, nil}, {linux.RTNLGRP_MAX, nil}} {
		if err := s.SetSockOpt(ctx, linux.SOL_NETLINK, linux.NETLINK_ADD_MEMBERSHIP, socket.Int32Bytes(int32(tc.group))); err != tc.err {
			t.Errorf("join %d: %v, want %v", tc.group, err, tc.err)
		}
	}
	if v, _ := s.GetSockOpt(ctx, linux.SOL_NETLINK, linux.NETLINK_LIST_MEMBERSHIPS, 8); !bytes.Equal(v, []byte{1, 0, 0, 0, 8, 0, 0, 0}) {
		t.Errorf("memberships %x", v)
	}
	if err := s.SetSockOpt(ctx, linux.SOL_NETLINK, linux.NETLINK_LISTEN_ALL_NSID, socket.Int32Bytes(1)); err != errno.EPERM {
		t.Errorf("NETLINK_LISTEN_ALL_NSID: %v", err)
	}
	if err := s.SetSockOpt(ctx, linux.SOL_NETLINK, linux.NETLINK_RX_RING, socket.Int32Bytes(1)); err != errno.ENOPROTOOPT {
		t.Errorf("NETLINK_RX_RING: %v", err)
	}
	if _, err := s.GetSockOpt(ctx, 0 /* SOL_IP */, 1, 4); err != errno.ENOPROTOOPT {
		t.Errorf("SOL_IP: %v", err)
	}
	// NETLINK_CAP_ACK: errors echo only the header.
	s.SetSockOpt(ctx, linux.SOL_NETLINK, linux.NETLINK_CAP_ACK, socket.Int32Bytes(1))
	s.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_RCVBUF, socket.Int32Bytes(defaultBuf))
	s.SendMsg(ctx, request(linux.RTM_NEWLINK, linux.NLM_F_REQUEST, 3, ifi), nil, socket.ControlMessages{}, 0, true)
	msgs := recvAll(t, ctx, s, 4096)
	if e, echo := nlError(t, &msgs[len(msgs)-1]); e != errno.EPERM || len(echo) != linux.SizeofNlMsghdr || msgs[len(msgs)-1].Header.Flags != linux.NLM_F_CAPPED {
		t.Errorf("capped error %v echo %d bytes", e, len(echo))
	}
}

func TestBlockingReceive(t *testing.T) {
	ctx := newCtx(newFakeStack())
	s := newSock(t, ctx)
	s.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_RCVTIMEO, socket.TimevalBytes(20*time.Millisecond))
	start := time.Now()
	if _, _, err := s.RecvMsg(ctx, 4096, 0, false, false); err != errno.EAGAIN || time.Since(start) < 20*time.Millisecond {
		t.Errorf("recv with SO_RCVTIMEO: %v after %v", err, time.Since(start))
	}
	buf := make([]byte, 10)
	if _, err := s.Read(ctx, buf, 0); err != vfs.ErrTimedOut {
		t.Errorf("read with SO_RCVTIMEO: %v", err)
	}
	s.SetSockOpt(ctx, linux.SOL_SOCKET, linux.SO_RCVTIMEO, socket.TimevalBytes(0))
	// A reader blocked in recv wakes for a reply to another thread's
	// request; write(2) sends.
	got := make(chan error)
	go func() {
		_, _, err := s.RecvMsg(ctx, 4096, 0, false, false)
		got <- err
	}()
	time.Sleep(10 * time.Millisecond)
	req := request(linux.RTM_GETLINK, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 1, []byte{0})
	if n, err := s.Write(ctx, req, 0); n != len(req) || err != nil {
		t.Fatalf("write: %d %v", n, err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reader not woken")
	}
}

func TestSendErrors(t *testing.T) {
	ctx := newCtx(newFakeStack())
	s := newSock(t, ctx)
	if _, err := s.SendMsg(ctx, nil, sockaddr(0, 0)[:4], socket.ControlMessages{}, 0, true); err != errno.EINVAL {
		t.Errorf("short address: %v", err)
	}
	// Another port, or a group, needs CAP_NET_ADMIN.
	if _, err := s.SendMsg(ctx, nil, sockaddr(1, 0), socket.ControlMessages{}, 0, true); err != errno.EPERM {
		t.Errorf("to a port: %v", err)
	}
	if err := s.Connect(ctx, sockaddr(0, 1), false); err != errno.EPERM {
		t.Errorf("connect to a group: %v", err)
	}
	if _, err := s.SendMsg(ctx, make([]byte, defaultBuf), nil, socket.ControlMessages{}, 0, true); err != errno.EMSGSIZE {
		t.Errorf("oversized: %v", err)
	}
	if _, err := s.SendMsg(ctx, nil, nil, socket.ControlMessages{}, linux.MSG_OOB, true); err != errno.EOPNOTSUPP {
		t.Errorf("MSG_OOB: %v", err)
	}
	for name, err := range map[string]error{
		"listen":   s.Listen(ctx, 1),
		"shutdown": s.Shutdown(ctx, linux.SHUT_RDWR),
	} {
		if err != errno.EOPNOTSUPP {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Root may send to another socket: the bytes arrive unchanged.
	root := newCtx(nil)
	root.uid = 0
	a, b := newSock(t, root), newSock(t, root)
	b.Bind(root, sockaddr(424242, 0))
	if _, err := a.SendMsg(root, []byte("hi"), sockaddr(424242, 0), socket.ControlMessages{}, 0, true); err != nil {
		t.Fatal(err)
	}
	data, res, err := b.RecvMsg(root, 10, 0, true, false)
	aName, _ := a.GetSockName(root)
	if string(data) != "hi" || err != nil || !bytes.Equal(res.From[4:8], aName[4:8]) {
		t.Errorf("user-to-user: %q from %x, %v", data, res.From, err)
	}
	if _, err := a.SendMsg(root, []byte("hi"), sockaddr(424243, 0), socket.ControlMessages{}, 0, true); err != errno.ECONNREFUSED {
		t.Errorf("to an unbound port: %v", err)
	}
}

func TestIoctl(t *testing.T) {
	ctx := newCtx(newFakeStack())
	s := newSock(t, ctx)
	// FIONREAD is not a netlink request.
	if _, err := s.Ioctl(ctx, nil, linux.FIONREAD, 0); err != errno.ENOTTY {
		t.Errorf("FIONREAD: %v", err)
	}
	st, err := s.Stat(ctx)
	if err != nil || st.Mode != linux.S_IFSOCK|0o777 || st.Ino != s.ino {
		t.Errorf("stat: %+v %v", st, err)
	}
}
