package strace

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
)

// The expected strings in this file are what strace 6.1 printed for the
// same bytes on Linux, with the pointers changed to the fake memory's.

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func sockaddrIn(port uint16, ip string) []byte {
	a := netip.MustParseAddr(ip).As4()
	b := binary.BigEndian.AppendUint16(le16(afInet), port)
	b = append(b, a[:]...)
	return append(b, make([]byte, 8)...) // sin_zero
}

func sockaddrIn6(port uint16, flow uint32, ip string, scope uint32) []byte {
	a := netip.MustParseAddr(ip).As16()
	b := binary.BigEndian.AppendUint16(le16(afInet6), port)
	b = binary.BigEndian.AppendUint32(b, flow)
	b = append(b, a[:]...)
	return binary.LittleEndian.AppendUint32(b, scope)
}

func sockaddrUn(path string) []byte { return append(le16(afUnix), path...) }

func sockaddrNl(pad uint16, pid int32, groups uint32) []byte {
	b := binary.LittleEndian.AppendUint16(le16(afNetlink), pad)
	b = binary.LittleEndian.AppendUint32(b, uint32(pid))
	return binary.LittleEndian.AppendUint32(b, groups)
}

func msghdrBytes(h msghdr) []byte {
	b := make([]byte, sizeofMsghdr)
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(h.name))
	le.PutUint32(b[8:], uint32(h.namelen))
	le.PutUint64(b[16:], uint64(h.iov))
	le.PutUint64(b[24:], h.iovlen)
	le.PutUint64(b[32:], uint64(h.control))
	le.PutUint64(b[40:], h.controllen)
	le.PutUint32(b[48:], h.flags)
	return b
}

func TestDecodeSockaddr(t *testing.T) {
	unspec := append(le16(0), "abc\x00\x01\x02\x00\x00\x00\x00\x00\x00\x00\x00"...)
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"inet", sockaddrIn(80, "127.0.0.1"),
			`{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}`},
		{"inet long", append(sockaddrIn(80, "127.0.0.1"), 1, 2, 3, 4),
			`{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}`},
		{"inet short", sockaddrIn(80, "127.0.0.1")[:8],
			`{sa_family=AF_INET, sa_data="\0P\177\0\0\1"}`},
		{"inet6", sockaddrIn6(8080, 0, "::1", 0),
			`{sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}`},
		{"inet6 scope", sockaddrIn6(1, 5, "fe80::1", 999),
			`{sa_family=AF_INET6, sin6_port=htons(1), sin6_flowinfo=htonl(5), inet_pton(AF_INET6, "fe80::1", &sin6_addr), sin6_scope_id=999}`},
		{"inet6 rfc2133", sockaddrIn6(1, 5, "fe80::1", 3)[:24],
			`{sa_family=AF_INET6, sin6_port=htons(1), sin6_flowinfo=htonl(5), inet_pton(AF_INET6, "fe80::1", &sin6_addr)}`},
		{"inet6 short", sockaddrIn6(1, 5, "fe80::1", 3)[:20],
			`{sa_family=AF_INET6, sa_data="\0\1\0\0\0\5\376\200\0\0\0\0\0\0\0\0\0\0"}`},
		{"inet6 any", sockaddrIn6(0, 0, "::", 0),
			`{sa_family=AF_INET6, sin6_port=htons(0), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::", &sin6_addr), sin6_scope_id=0}`},
		{"inet6 v4 compatible", sockaddrIn6(0, 0xffffffff, "::1.0.0.4", 0xffffffff),
			`{sa_family=AF_INET6, sin6_port=htons(0), sin6_flowinfo=htonl(4294967295), inet_pton(AF_INET6, "::1.0.0.4", &sin6_addr), sin6_scope_id=4294967295}`},
		{"inet6 v4 mapped", sockaddrIn6(0, 0, "::ffff:1.0.0.4", 0),
			`{sa_family=AF_INET6, sin6_port=htons(0), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::ffff:1.0.0.4", &sin6_addr), sin6_scope_id=0}`},
		{"inet6 middle zeros", sockaddrIn6(0, 0, "2001:0:1::1", 0),
			`{sa_family=AF_INET6, sin6_port=htons(0), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:0:1::1", &sin6_addr), sin6_scope_id=0}`},
		{"unix", sockaddrUn("/tmp/sock\x00"), `{sa_family=AF_UNIX, sun_path="/tmp/sock"}`},
		{"unix escapes", sockaddrUn("/tmp/x\"y\n\x00\x00"), `{sa_family=AF_UNIX, sun_path="/tmp/x\"y\n"}`},
		{"unix cut by length", sockaddrUn("/tmp"), `{sa_family=AF_UNIX, sun_path="/tmp"}`},
		{"unix stops at nul", sockaddrUn("ab\x00cd"), `{sa_family=AF_UNIX, sun_path="ab"}`},
		{"unix abstract", sockaddrUn("\x00abstract\x01name"), `{sa_family=AF_UNIX, sun_path=@"abstract\1name"}`},
		{"unix abstract nuls", sockaddrUn("\x00ab\x00cd\x00\x00"), `{sa_family=AF_UNIX, sun_path=@"ab\0cd\0\0"}`},
		{"unix abstract empty", sockaddrUn("\x00"), `{sa_family=AF_UNIX, sun_path=@""}`},
		{"unix unnamed", sockaddrUn(""), `{sa_family=AF_UNIX}`},
		{"unix path max", sockaddrUn(strings.Repeat("B", 118)),
			`{sa_family=AF_UNIX, sun_path="` + strings.Repeat("B", 108) + `"}`},
		{"netlink", sockaddrNl(0, 0, 0), `{sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}`},
		{"netlink groups", sockaddrNl(0, 5, 0x11), `{sa_family=AF_NETLINK, nl_pid=5, nl_groups=0x000011}`},
		{"netlink signed pid", sockaddrNl(0, -1, 0xdeadbeef), `{sa_family=AF_NETLINK, nl_pid=-1, nl_groups=0xdeadbeef}`},
		{"netlink pad", sockaddrNl(0x60f4, 0, 0), `{sa_family=AF_NETLINK, nl_pad=0x60f4, nl_pid=0, nl_groups=00000000}`},
		{"netlink short", sockaddrNl(0, 5, 0)[:8], `{sa_family=AF_NETLINK, sa_data="\0\0\5\0\0\0"}`},
		{"unspec", unspec, `{sa_family=AF_UNSPEC, sa_data="abc\0\1\2\0\0\0\0\0\0\0\0"}`},
		{"unspec family only", unspec[:2], `{sa_family=AF_UNSPEC}`},
		{"unknown family", append(le16(99), unspec[2:]...),
			`{sa_family=0x63 /* AF_??? */, sa_data="abc\0\1\2\0\0\0\0\0\0\0\0"}`},
		{"undecoded family", append(le16(31), unspec[2:]...),
			`{sa_family=AF_BLUETOOTH, sa_data="abc\0\1\2\0\0\0\0\0\0\0\0"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decodeSockaddr(tc.in); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestFormatSockaddr(t *testing.T) {
	big := append(le16(0), strings.Repeat("A", 198)...)
	mem := fakeMemory{0x1000: sockaddrIn(80, "127.0.0.1"), 0x2000: big}
	for _, tc := range []struct {
		name string
		v    uintptr
		n    int64
		want string
	}{
		{"whole", 0x1000, 16, `{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}`},
		{"family only", 0x1000, 2, `{sa_family=AF_INET}`},
		{"null", 0, 16, "NULL"},
		{"null empty", 0, 0, "NULL"},
		{"bad pointer", 0xdead0000, 16, "0xdead0000"},
		{"past the end", 0x1000, 20, "0x1000"},
		{"empty", 0x1000, 0, "0x1000"},
		{"one byte", 0x1000, 1, "0x1000"},
		{"negative", 0x1000, -1, "0x1000"},
		{"sockaddr_storage at most", 0x2000, 200, `{sa_family=AF_UNSPEC, sa_data="` + strings.Repeat("A", 126) + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatSockaddr(mem, tc.v, tc.n); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestSocketFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		{"type flags order", formatSocketType(0x80801), "SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK"},
		{"type zero", formatSocketType(0), "0"},
		{"type unknown flag", formatSocketType(0x63), "SOCK_RAW|0x60 /* SOCK_??? */"},
		{"type unknown", formatSocketType(7), "0x7 /* SOCK_??? */"},
		{"type unknown with flag", formatSocketType(0x80007), "SOCK_CLOEXEC|0x7"},
		{"accept4 flags", formatFlagsNote(0x80800, socketTypeFlags, "SOCK_???"), "SOCK_CLOEXEC|SOCK_NONBLOCK"},
		{"accept4 unknown bit", formatFlagsNote(0x4000800, socketTypeFlags, "SOCK_???"), "SOCK_NONBLOCK|0x4000000"},
		{"msg none", formatMsgFlags(0), "0"},
		{"msg common", formatMsgFlags(0x4040), "MSG_DONTWAIT|MSG_NOSIGNAL"},
		{"msg high", formatMsgFlags(0x40008001), "MSG_OOB|MSG_MORE|MSG_CMSG_CLOEXEC"},
		{"msg mixed unknown", formatMsgFlags(0x811c0000), "MSG_BATCH|MSG_NO_SHARED_FRAGS|MSG_CMSG_COMPAT|0x1100000"},
		{"msg only unknown", formatMsgFlags(0x100000), "0x100000 /* MSG_??? */"},
		{"family unknown", formatEnumHex(0x4d, socketFamilies, "AF_???"), "0x4d /* AF_??? */"},
		{"enum unknown zero", formatEnumHex(0, ipOptions, "IP_???"), "0 /* IP_??? */"},
		{"protocol inet", formatSocketProtocol(afInet, 0), "IPPROTO_IP"},
		{"protocol inet6 icmpv6", formatSocketProtocol(afInet6, 58), "IPPROTO_ICMPV6"},
		{"protocol inet unknown", formatSocketProtocol(afInet6, 200), "0xc8 /* IPPROTO_??? */"},
		{"protocol netlink", formatSocketProtocol(afNetlink, 15), "NETLINK_KOBJECT_UEVENT"},
		{"protocol netlink unknown", formatSocketProtocol(afNetlink, 99), "0x63 /* NETLINK_??? */"},
		{"protocol unix", formatSocketProtocol(afUnix, 5), "5"},
		{"option", formatSockoptName(sockopt{solTCP, 4}, false), "TCP_KEEPIDLE"},
		{"option unknown", formatSockoptName(sockopt{solIPv6, 9999}, false), "0x270f /* IPV6_??? */"},
		{"option at unnamed level", formatSockoptName(sockopt{999, 12345}, false), "12345"},
		{"option at level without names", formatSockoptName(sockopt{255, 1}, false), "1"},
		{"option set name", formatSockoptName(sockopt{solSocket, 26}, false), "SO_ATTACH_FILTER"},
		{"option get name", formatSockoptName(sockopt{solSocket, 26}, true), "SO_GET_FILTER"},
		{"option old timeval", formatSockoptName(sockopt{solSocket, 20}, true), "SO_RCVTIMEO_OLD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %s, want %s", tc.got, tc.want)
			}
		})
	}
}

// Fixed guest addresses of socketMemory.
const (
	saIn      = 0x1000 // sockaddr_in 127.0.0.1:80
	saIn6     = 0x1100 // sockaddr_in6 [::1]:8080
	saUn      = 0x1200 // sockaddr_un "/tmp/sock"
	saAbs     = 0x1300 // sockaddr_un @"name"
	saNl      = 0x1400 // sockaddr_nl
	outAddr   = 0x2000 // 128-byte buffer a syscall fills with an address
	outLen    = 0x2100 // socklen_t 128
	outLen4   = 0x2200 // socklen_t 4
	outLen16  = 0x2300 // socklen_t 16
	data      = 0x3000 // "hello"
	data2     = 0x3010 // "world"
	fds       = 0x3100 // int[2]
	iovs      = 0x3200 // two iovecs over data and data2
	optInt    = 0x3300 // int 1, then more bytes
	optLen    = 0x3400 // socklen_t 4 for getsockopt, and others below
	optLen2   = 0x3410
	optLen16  = 0x3420
	optLen40  = 0x3430
	optLen104 = 0x3440
	optLenNeg = 0x3450
	msg       = 0x4000 // struct msghdr
	recvBuf   = 0x5000 // 16-byte buffer
	recvIov   = 0x5100 // one iovec over recvBuf
	badAddr   = 0xdead0000
	unixPath  = "/tmp/sock\x00"
)

func socketMemory() fakeMemory {
	return fakeMemory{
		saIn:      sockaddrIn(80, "127.0.0.1"),
		saIn6:     sockaddrIn6(8080, 0, "::1", 0),
		saUn:      sockaddrUn(unixPath),
		saAbs:     sockaddrUn("\x00name"),
		saNl:      sockaddrNl(0, 0, 0),
		outAddr:   make([]byte, 128),
		outLen:    le32(128),
		outLen4:   le32(4),
		outLen16:  le32(16),
		data:      []byte("hello"),
		data2:     []byte("world"),
		fds:       []byte{6, 0, 0, 0, 7, 0, 0, 0},
		iovs:      append(iovec(data, 5), iovec(data2, 5)...),
		optInt:    []byte{1, 0, 0, 0, 9, 0, 0, 0, 3, 3, 3, 3, 0, 0, 0, 0},
		optLen:    le32(4),
		optLen2:   le32(2),
		optLen16:  le32(16),
		optLen40:  le32(40),
		optLen104: le32(104),
		optLenNeg: le32(0xffffffff),
		recvBuf:   make([]byte, 16),
		recvIov:   iovec(recvBuf, 3),
	}
}

// socketTable adds the x86-64 socket syscalls to testTable.
func socketTable() *Strace {
	tbl := testTable()
	for n, name := range map[int]string{
		41: "socket", 42: "connect", 43: "accept", 44: "sendto", 45: "recvfrom", 46: "sendmsg",
		47: "recvmsg", 48: "shutdown", 49: "bind", 51: "getsockname", 52: "getpeername",
		53: "socketpair", 54: "setsockopt", 55: "getsockopt", 288: "accept4",
	} {
		tbl.Table[n].Name = name
	}
	return New(nil, tbl).(*Strace)
}

// socketCase is one syscall line. call, when set, plays the syscall's
// writes to guest memory between entry and exit.
type socketCase struct {
	name  string
	sysno uintptr
	args  arch.SyscallArguments
	call  func(m fakeMemory)
	rv    uintptr
	err   error
	want  string
}

func runSocketCases(t *testing.T, cases []socketCase) {
	t.Helper()
	s := socketTable()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runSocketCase(t, s, tc, nil) })
	}
}

// runSocketCase checks one line; before, when set, prepares guest memory
// before entry.
func runSocketCase(t *testing.T, s *Strace, tc socketCase, before func(m fakeMemory)) {
	t.Helper()
	mem := socketMemory()
	if before != nil {
		before(mem)
	}
	c := s.enter("", mem, tc.sysno, tc.args)
	if tc.call != nil {
		tc.call(mem)
	}
	if got := s.exitLine(c, mem, tc.args, tc.rv, tc.err); got != tc.want+"\n" {
		t.Errorf("got  %s\nwant %s", got, tc.want)
	}
}

const (
	neg1 = ^uintptr(0)
	in4  = `{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}`
	in6  = `{sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}`
)

// writeAddr plays a syscall that returns address b and its length n.
func writeAddr(b []byte, n uint32) func(m fakeMemory) {
	return func(m fakeMemory) {
		copy(m[outAddr], b)
		m[outLen] = le32(n)
	}
}

func TestSocketAddressLines(t *testing.T) {
	runSocketCases(t, []socketCase{
		{"socket", 41, args(2, 0x80801, 6), nil, 3, nil,
			`socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_TCP) = 3`},
		{"socket unix", 41, args(1, 0x80001, 0), nil, 3, nil,
			`socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3`},
		{"socket netlink", 41, args(16, 0x80003, 0), nil, 8, nil,
			`socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE) = 8`},
		{"socket unknown", 41, args(77, 99, 5), nil, 0, errno.EINVAL,
			`socket(0x4d /* AF_??? */, SOCK_RAW|0x60 /* SOCK_??? */, 5) = -1 EINVAL (Invalid argument)`},
		{"socket bad protocol", 41, args(10, 2, 200), nil, 0, errno.EPROTONOSUPPORT,
			`socket(AF_INET6, SOCK_DGRAM, 0xc8 /* IPPROTO_??? */) = -1 EPROTONOSUPPORT (Protocol not supported)`},
		{"socketpair", 53, args(1, 0x80001, 0, fds), nil, 0, nil,
			`socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0, [6, 7]) = 0`},
		{"bind", 49, args(3, saIn, 16), nil, 0, nil, `bind(3, ` + in4 + `, 16) = 0`},
		{"bind unix", 49, args(3, saUn, 2+uintptr(len(unixPath))), nil, 0, nil,
			`bind(3, {sa_family=AF_UNIX, sun_path="/tmp/sock"}, 12) = 0`},
		{"bind abstract", 49, args(4, saAbs, 7), nil, 0, nil,
			`bind(4, {sa_family=AF_UNIX, sun_path=@"name"}, 7) = 0`},
		{"bind netlink", 49, args(8, saNl, 12), nil, 0, nil,
			`bind(8, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12) = 0`},
		{"connect inet6", 42, args(3, saIn6, 28), nil, 0, nil, `connect(3, ` + in6 + `, 28) = 0`},
		{"connect refused", 42, args(9, saIn, 16), nil, 0, errno.ECONNREFUSED,
			`connect(9, ` + in4 + `, 16) = -1 ECONNREFUSED (Connection refused)`},
		{"connect bad pointer", 42, args(3, badAddr, 16), nil, 0, errno.EFAULT,
			`connect(3, 0xdead0000, 16) = -1 EFAULT (Bad address)`},
		{"connect null", 42, args(3, 0, 16), nil, 0, errno.EFAULT,
			`connect(3, NULL, 16) = -1 EFAULT (Bad address)`},
		{"connect negative length", 42, args(3, saIn, 0xffffffff), nil, 0, errno.EINVAL,
			`connect(3, 0x1000, -1) = -1 EINVAL (Invalid argument)`},
		{"getsockname", 51, args(3, outAddr, outLen), writeAddr(sockaddrIn(57583, "127.0.0.1"), 16), 0, nil,
			`getsockname(3, {sa_family=AF_INET, sin_port=htons(57583), sin_addr=inet_addr("127.0.0.1")}, [128 => 16]) = 0`},
		{"getsockname same length", 51, args(3, outAddr, outLen16),
			func(m fakeMemory) { copy(m[outAddr], sockaddrIn(80, "127.0.0.1")) }, 0, nil,
			`getsockname(3, ` + in4 + `, [16]) = 0`},
		{"getsockname truncated", 51, args(3, outAddr, outLen4),
			func(m fakeMemory) {
				// The kernel fills as much as fits and reports the
				// whole length.
				copy(m[outAddr], sockaddrIn(48884, "127.0.0.1")[:4])
				m[outLen4] = le32(16)
			}, 0, nil,
			`getsockname(3, {sa_family=AF_INET, sa_data="\276\364"}, [4 => 16]) = 0`},
		{"getsockname unix unnamed", 51, args(6, outAddr, outLen), writeAddr(sockaddrUn(""), 2), 0, nil,
			`getsockname(6, {sa_family=AF_UNIX}, [128 => 2]) = 0`},
		{"getsockname no address", 51, args(3, 0, outLen), nil, 0, errno.EFAULT,
			`getsockname(3, NULL, 0x2100) = -1 EFAULT (Bad address)`},
		{"getsockname no length", 51, args(3, outAddr, 0), nil, 0, errno.EFAULT,
			`getsockname(3, 0x2000, NULL) = -1 EFAULT (Bad address)`},
		{"getsockname bad length", 51, args(3, outAddr, badAddr), nil, 0, errno.EFAULT,
			`getsockname(3, 0x2000, 0xdead0000) = -1 EFAULT (Bad address)`},
		{"getpeername not connected", 52, args(3, outAddr, outLen), nil, 0, errno.ENOTCONN,
			`getpeername(3, 0x2000, [128]) = -1 ENOTCONN (Transport endpoint is not connected)`},
		{"accept4", 288, args(3, outAddr, outLen, 0x80000),
			func(m fakeMemory) { writeAddr(sockaddrIn(59410, "127.0.0.1"), 16)(m) }, 5, nil,
			`accept4(3, {sa_family=AF_INET, sin_port=htons(59410), sin_addr=inet_addr("127.0.0.1")}, [128 => 16], SOCK_CLOEXEC) = 5`},
		{"accept4 no address", 288, args(4, 0, 0, 0x4000800), nil, 0, errno.EINVAL,
			`accept4(4, NULL, NULL, SOCK_NONBLOCK|0x4000000) = -1 EINVAL (Invalid argument)`},
		{"accept length without address", 43, args(4, 0, outLen), nil, 5, nil,
			`accept(4, NULL, 0x2100) = 5`},
		{"sendto", 44, args(3, data, 5, 0, saIn6, 28), nil, 5, nil,
			`sendto(3, "hello", 5, 0, ` + in6 + `, 28) = 5`},
		{"send", 44, args(6, data, 2, 0x4040, 0, 0), nil, 2, nil,
			`sendto(6, "he", 2, MSG_DONTWAIT|MSG_NOSIGNAL, NULL, 0) = 2`},
		{"sendto unknown flag", 44, args(neg1, data, 0, 0x100000, 0, 0), nil, 0, errno.EBADF,
			`sendto(-1, "", 0, 0x100000 /* MSG_??? */, NULL, 0) = -1 EBADF (Bad file descriptor)`},
		{"recvfrom", 45, args(5, recvBuf, 3, 0, outAddr, outLen),
			func(m fakeMemory) {
				copy(m[recvBuf], "abc")
				writeAddr(sockaddrIn(56469, "127.0.0.1"), 16)(m)
			}, 3, nil,
			`recvfrom(5, "abc", 3, 0, {sa_family=AF_INET, sin_port=htons(56469), sin_addr=inet_addr("127.0.0.1")}, [128 => 16]) = 3`},
		{"recv", 45, args(7, recvBuf, 10, 2, 0, 0), func(m fakeMemory) { copy(m[recvBuf], "zz") }, 2, nil,
			`recvfrom(7, "zz", 10, MSG_PEEK, NULL, NULL) = 2`},
		{"recvfrom would block", 45, args(3, recvBuf, 100, 0, outAddr, outLen), nil, 0, errno.EAGAIN,
			`recvfrom(3, 0x5000, 100, 0, 0x2000, [128]) = -1 EAGAIN (Resource temporarily unavailable)`},
		{"shutdown", 48, args(6, 2), nil, 0, nil, `shutdown(6, SHUT_RDWR) = 0`},
		{"shutdown bad how", 48, args(4, 7), nil, 0, errno.EINVAL,
			`shutdown(4, 0x7 /* SHUT_??? */) = -1 EINVAL (Invalid argument)`},
	})
}

func TestSocketOptionLines(t *testing.T) {
	// getsockopt plays a getsockopt(2) that returns b.
	getsockopt := func(lenAddr uintptr, b []byte) func(m fakeMemory) {
		return func(m fakeMemory) {
			m[optInt] = append(b, make([]byte, 64)...)
			m[hostarch.Addr(lenAddr)] = le32(uint32(len(b)))
		}
	}
	tcpInfo := append([]byte{7, 0, 0, 0, 0, 0, 0, 1}, make([]byte, 96)...)
	runSocketCases(t, []socketCase{
		{"set int", 54, args(3, 41, 26, optInt, 4), nil, 0, nil,
			`setsockopt(3, SOL_IPV6, IPV6_V6ONLY, [1], 4) = 0`},
		{"set int long", 54, args(3, 41, 26, optInt, 8), nil, 0, nil,
			`setsockopt(3, SOL_IPV6, IPV6_V6ONLY, "\1\0\0\0\t\0\0\0", 8) = 0`},
		{"set socket int long", 54, args(11, 1, 9, optInt, 8), nil, 0, nil,
			`setsockopt(11, SOL_SOCKET, SO_KEEPALIVE, [1], 8) = 0`},
		{"set socket int short", 54, args(3, 1, 2, optInt, 2), nil, 0, errno.EINVAL,
			`setsockopt(3, SOL_SOCKET, SO_REUSEADDR, 0x3300, 2) = -1 EINVAL (Invalid argument)`},
		{"set socket int empty", 54, args(11, 1, 9, optInt, 0), nil, 0, errno.EINVAL,
			`setsockopt(11, SOL_SOCKET, SO_KEEPALIVE, 0x3300, 0) = -1 EINVAL (Invalid argument)`},
		{"set null", 54, args(11, 1, 9, 0, 4), nil, 0, errno.EFAULT,
			`setsockopt(11, SOL_SOCKET, SO_KEEPALIVE, NULL, 4) = -1 EFAULT (Bad address)`},
		{"set bad pointer", 54, args(11, 1, 9, badAddr, 4), nil, 0, errno.EFAULT,
			`setsockopt(11, SOL_SOCKET, SO_KEEPALIVE, 0xdead0000, 4) = -1 EFAULT (Bad address)`},
		{"set tcp", 54, args(9, 6, 1, optInt, 4), nil, 0, nil,
			`setsockopt(9, SOL_TCP, TCP_NODELAY, [1], 4) = 0`},
		{"set empty", 54, args(neg1, 6, 1, optInt, 0), nil, 0, errno.EBADF,
			`setsockopt(-1, SOL_TCP, TCP_NODELAY, "", 0) = -1 EBADF (Bad file descriptor)`},
		{"set negative length", 54, args(neg1, 6, 1, optInt, 0xffffffff), nil, 0, errno.EBADF,
			`setsockopt(-1, SOL_TCP, TCP_NODELAY, "\1\0\0\0\t\0\0\0\3\3\3\3\0\0\0\0"..., -1) = -1 EBADF (Bad file descriptor)`},
		{"set linger", 54, args(neg1, 1, 13, optInt, 16), nil, 0, errno.EBADF,
			`setsockopt(-1, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=9}, 16) = -1 EBADF (Bad file descriptor)`},
		{"set linger short", 54, args(neg1, 1, 13, optInt, 4), nil, 0, errno.EBADF,
			`setsockopt(-1, SOL_SOCKET, SO_LINGER, 0x3300, 4) = -1 EBADF (Bad file descriptor)`},
		{"set timeval", 54, args(3, 1, 20, optInt, 16), nil, 0, nil,
			`setsockopt(3, SOL_SOCKET, SO_RCVTIMEO_OLD, "\1\0\0\0\t\0\0\0\3\3\3\3\0\0\0\0", 16) = 0`},
		{"set unknown option", 54, args(3, 1, 12345, optInt, 4), nil, 0, errno.ENOPROTOOPT,
			`setsockopt(3, SOL_SOCKET, 0x3039 /* SO_??? */, [1], 4) = -1 ENOPROTOOPT (Protocol not available)`},
		{"set unknown level", 54, args(11, 999, 12345, optInt, 3), nil, 0, errno.ENOPROTOOPT,
			`setsockopt(11, 0x3e7 /* SOL_?? */, 12345, "\1\0\0", 3) = -1 ENOPROTOOPT (Protocol not available)`},
		{"set membership", 54, args(11, 0, 35, saIn+4, 8), nil, 0, nil,
			`setsockopt(11, SOL_IP, IP_ADD_MEMBERSHIP, {imr_multiaddr=inet_addr("127.0.0.1"), imr_interface=inet_addr("0.0.0.0")}, 8) = 0`},
		{"set membership short", 54, args(3, 0, 35, optInt, 4), nil, 0, errno.EINVAL,
			`setsockopt(3, SOL_IP, IP_ADD_MEMBERSHIP, 0x3300, 4) = -1 EINVAL (Invalid argument)`},
		{"get int", 55, args(3, 1, 3, optInt, optLen), getsockopt(optLen, le32(2)), 0, nil,
			`getsockopt(3, SOL_SOCKET, SO_TYPE, [2], [4]) = 0`},
		{"get int shrunk", 55, args(3, 1, 8, optInt, optLen16), getsockopt(optLen16, le32(212992)), 0, nil,
			`getsockopt(3, SOL_SOCKET, SO_RCVBUF, [212992], [16 => 4]) = 0`},
		{"get error", 55, args(9, 1, 4, optInt, optLen), getsockopt(optLen, le32(111)), 0, nil,
			`getsockopt(9, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0`},
		{"get no error", 55, args(9, 1, 4, optInt, optLen), getsockopt(optLen, le32(0)), 0, nil,
			`getsockopt(9, SOL_SOCKET, SO_ERROR, [0], [4]) = 0`},
		{"get unnamed error", 55, args(9, 1, 4, optInt, optLen), getsockopt(optLen, le32(4000)), 0, nil,
			`getsockopt(9, SOL_SOCKET, SO_ERROR, [4000], [4]) = 0`},
		{"get short", 55, args(11, 1, 3, optInt, optLen2), getsockopt(optLen2, []byte{2, 0}), 0, nil,
			`getsockopt(11, SOL_SOCKET, SO_TYPE, "\2\0", [2]) = 0`},
		{"get peercred", 55, args(3, 1, 17, optInt, optLen40),
			getsockopt(optLen40, append(le32(20663), make([]byte, 8)...)), 0, nil,
			`getsockopt(3, SOL_SOCKET, SO_PEERCRED, {pid=20663, uid=0, gid=0}, [40 => 12]) = 0`},
		{"get peercred prefix", 55, args(3, 1, 17, optInt, optLen), getsockopt(optLen, le32(20663)), 0, nil,
			`getsockopt(3, SOL_SOCKET, SO_PEERCRED, {pid=20663}, [4]) = 0`},
		{"get linger", 55, args(3, 1, 13, optInt, optLen40), getsockopt(optLen40, make([]byte, 8)), 0, nil,
			`getsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=0, l_linger=0}, [40 => 8]) = 0`},
		{"get linger prefix", 55, args(3, 1, 13, optInt, optLen), getsockopt(optLen, make([]byte, 4)), 0, nil,
			`getsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=0}, [4]) = 0`},
		{"get bytes", 55, args(9, 6, 11, optInt, optLen104), getsockopt(optLen104, tcpInfo), 0, nil,
			`getsockopt(9, SOL_TCP, TCP_INFO, "\7\0\0\0\0\0\0\1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"..., [104]) = 0`},
		{"get negative length", 55, args(3, 1, 16, optInt, optLenNeg), nil, 0, errno.EINVAL,
			`getsockopt(3, SOL_SOCKET, SO_PASSCRED, 0x3300, [-1]) = -1 EINVAL (Invalid argument)`},
		{"get failed", 55, args(11, 1, 12345, optInt, optLen), nil, 0, errno.ENOPROTOOPT,
			`getsockopt(11, SOL_SOCKET, 0x3039 /* SO_??? */, 0x3300, [4]) = -1 ENOPROTOOPT (Protocol not available)`},
		{"get no length", 55, args(11, 1, 3, optInt, 0), nil, 0, errno.EFAULT,
			`getsockopt(11, SOL_SOCKET, SO_TYPE, 0x3300, NULL) = -1 EFAULT (Bad address)`},
		{"get no value", 55, args(11, 1, 3, 0, optLen), nil, 0, errno.EFAULT,
			`getsockopt(11, SOL_SOCKET, SO_TYPE, NULL, [4]) = -1 EFAULT (Bad address)`},
		{"get name differs from set", 55, args(neg1, 1, 26, optInt, optLen), nil, 0, errno.EBADF,
			`getsockopt(-1, SOL_SOCKET, SO_GET_FILTER, 0x3300, [4]) = -1 EBADF (Bad file descriptor)`},
		{"get unknown zero", 55, args(neg1, 0, 0, optInt, optLen), nil, 0, errno.EBADF,
			`getsockopt(-1, SOL_IP, 0 /* IP_??? */, 0x3300, [4]) = -1 EBADF (Bad file descriptor)`},
	})
}

func TestSocketMsghdrLines(t *testing.T) {
	send := msghdr{iov: iovs, iovlen: 2}
	withName := send
	withName.name, withName.namelen = saIn, 16
	badName := withName
	badName.name = badAddr
	withControl := send
	withControl.control, withControl.controllen, withControl.flags = optInt, 16, 0x20
	recv := msghdr{name: outAddr, namelen: 128, iov: recvIov, iovlen: 1}
	recvNoName := msghdr{iov: recvIov, iovlen: 1}
	recvShort := recv
	recvShort.namelen = 8
	recvEmpty := recv
	recvEmpty.namelen = 0
	peer := sockaddrIn(56469, "127.0.0.1")
	const iovs2 = `msg_iov=[{iov_base="hello", iov_len=5}, {iov_base="world", iov_len=5}], msg_iovlen=2`

	// setMsg puts h at msg before the syscall; received plays a recvmsg
	// that fills msg_name with addr and sets msg_namelen and msg_flags.
	setMsg := func(h msghdr) func(m fakeMemory) { return func(m fakeMemory) { m[msg] = msghdrBytes(h) } }
	received := func(h msghdr, addr []byte, namelen int32, flags uint32) func(m fakeMemory) {
		return func(m fakeMemory) {
			copy(m[recvBuf], "abcdef")
			copy(m[outAddr], addr)
			h.namelen, h.flags = namelen, flags
			m[msg] = msghdrBytes(h)
		}
	}
	cases := []struct {
		socketCase
		h msghdr
	}{
		{socketCase{"sendmsg", 46, args(3, msg, 0x40), nil, 10, nil,
			`sendmsg(3, {msg_name=NULL, msg_namelen=0, ` + iovs2 + `, msg_controllen=0, msg_flags=0}, MSG_DONTWAIT) = 10`}, send},
		{socketCase{"sendmsg name", 46, args(3, msg, 0), nil, 10, nil,
			`sendmsg(3, {msg_name=` + in4 + `, msg_namelen=16, ` + iovs2 + `, msg_controllen=0, msg_flags=0}, 0) = 10`}, withName},
		{socketCase{"sendmsg bad name", 46, args(14, msg, 0), nil, 0, errno.EBADF,
			`sendmsg(14, {msg_name=0xdead0000, msg_namelen=16, ` + iovs2 + `, msg_controllen=0, msg_flags=0}, 0) = -1 EBADF (Bad file descriptor)`}, badName},
		{socketCase{"sendmsg control", 46, args(3, msg, 0), nil, 10, nil,
			`sendmsg(3, {msg_name=NULL, msg_namelen=0, ` + iovs2 + `, msg_control=0x3300, msg_controllen=16, msg_flags=MSG_TRUNC}, 0) = 10`}, withControl},
		{socketCase{"sendmsg bad pointer", 46, args(14, badAddr, 0), nil, 0, errno.EFAULT,
			`sendmsg(14, 0xdead0000, 0) = -1 EFAULT (Bad address)`}, send},
		{socketCase{"sendmsg null", 46, args(14, 0, 0), nil, 0, errno.EFAULT,
			`sendmsg(14, NULL, 0) = -1 EFAULT (Bad address)`}, send},
		{socketCase{"recvmsg", 47, args(5, msg, 0), received(recv, peer, 16, 0x20), 3, nil,
			`recvmsg(5, {msg_name={sa_family=AF_INET, sin_port=htons(56469), sin_addr=inet_addr("127.0.0.1")}, msg_namelen=128 => 16, msg_iov=[{iov_base="abc", iov_len=3}], msg_iovlen=1, msg_controllen=0, msg_flags=MSG_TRUNC}, 0) = 3`}, recv},
		{socketCase{"recvmsg no name", 47, args(4, msg, 0), received(recvNoName, nil, 0, 0), 2, nil,
			`recvmsg(4, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="ab", iov_len=3}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 2`}, recvNoName},
		{socketCase{"recvmsg would block", 47, args(3, msg, 0x40), nil, 0, errno.EAGAIN,
			`recvmsg(3, {msg_namelen=128}, MSG_DONTWAIT) = -1 EAGAIN (Resource temporarily unavailable)`}, recv},
		{socketCase{"recvmsg bad pointer", 47, args(3, badAddr, 0), nil, 0, errno.EFAULT,
			`recvmsg(3, 0xdead0000, 0) = -1 EFAULT (Bad address)`}, recv},
		{socketCase{"recvmsg short name", 47, args(5, msg, 0), received(recvShort, peer, 16, 0x20), 3, nil,
			`recvmsg(5, {msg_name={sa_family=AF_INET, sa_data="\334\225\177\0\0\1"}, msg_namelen=8 => 16, msg_iov=[{iov_base="abc", iov_len=3}], msg_iovlen=1, msg_controllen=0, msg_flags=MSG_TRUNC}, 0) = 3`}, recvShort},
		{socketCase{"recvmsg no room for name", 47, args(5, msg, 0), received(recvEmpty, peer, 16, 0x20), 3, nil,
			`recvmsg(5, {msg_name=0x2000, msg_namelen=0 => 16, msg_iov=[{iov_base="abc", iov_len=3}], msg_iovlen=1, msg_controllen=0, msg_flags=MSG_TRUNC}, 0) = 3`}, recvEmpty},
	}
	s := socketTable()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runSocketCase(t, s, tc.socketCase, setMsg(tc.h)) })
	}
}
