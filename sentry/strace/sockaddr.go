package strace

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"

	"github.com/runsc-lite/runsc-lite/hostarch"
)

// Socket address layouts (x86-64), from <linux/socket.h>, <linux/in.h>,
// <linux/in6.h>, <linux/un.h> and <linux/netlink.h>.
const (
	afUnix    = 1
	afInet    = 2
	afInet6   = 10
	afNetlink = 16

	// maxSockaddrLen is sizeof(struct sockaddr_storage): the kernel takes
	// no more of an address than this (net/socket.c:move_addr_to_kernel),
	// and strace shows no more either.
	maxSockaddrLen = 128
	// sizeofSockaddrUn is sizeof(struct sockaddr_un); sun_path is what
	// follows the 2-byte family, up to this size.
	sizeofSockaddrUn = 110
	sizeofSockaddrIn = 16
	// sizeofSockaddrIn6 is sizeof(struct sockaddr_in6). The RFC 2133
	// layout lacks the trailing sin6_scope_id; the kernel accepts it, and
	// strace then prints every field but the scope.
	sizeofSockaddrIn6        = 28
	sizeofSockaddrIn6RFC2133 = 24
	sizeofSockaddrNl         = 12
)

// formatSockaddr shows the n-byte socket address at v:
// {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}.
// Like strace, it shows the pointer instead when the address is
// unreadable or too short to hold even its family.
func formatSockaddr(mem memory, v uintptr, n int64) string {
	if v == 0 {
		return "NULL"
	}
	if mem == nil || n < 2 {
		return formatHex(v)
	}
	b := make([]byte, min(n, maxSockaddrLen))
	if got, _ := mem.CopyInBytes(hostarch.Addr(v), b); got != len(b) {
		return formatHex(v)
	}
	return decodeSockaddr(b)
}

// decodeSockaddr shows an address of at least the 2-byte family. Fields
// are decoded only when the whole structure is there; a short one shows
// its bytes as sa_data, as strace does.
func decodeSockaddr(b []byte) string {
	family := binary.LittleEndian.Uint16(b)
	s := "{sa_family=" + formatEnumHex(int64(family), socketFamilies, "AF_???")
	if len(b) > 2 {
		s += ", " + sockaddrFields(family, b)
	}
	return s + "}"
}

// sockaddrFields shows what follows sa_family in b.
func sockaddrFields(family uint16, b []byte) string {
	switch {
	case family == afUnix:
		return sunPath(b[2:min(len(b), sizeofSockaddrUn)])
	case family == afInet && len(b) >= sizeofSockaddrIn:
		return "sin_port=" + htons(b[2:]) + ", sin_addr=" + inetAddr(b[4:8])
	case family == afInet6 && len(b) >= sizeofSockaddrIn6RFC2133:
		return sockaddrIn6Fields(b)
	case family == afNetlink && len(b) >= sizeofSockaddrNl:
		return sockaddrNlFields(b)
	}
	return "sa_data=" + quote(b[2:], len(b), false)
}

// sunPath shows an AF_UNIX path. A leading NUL marks an abstract name,
// which is every remaining byte (NULs included) and which strace prints
// with an "@" in front; a filesystem path ends at its first NUL.
func sunPath(p []byte) string {
	if len(p) > 0 && p[0] == 0 {
		return "sun_path=@" + quote(p[1:], len(p), false)
	}
	if i := strings.IndexByte(string(p), 0); i >= 0 {
		p = p[:i]
	}
	return "sun_path=" + quote(p, len(p), false)
}

func sockaddrIn6Fields(b []byte) string {
	s := "sin6_port=" + htons(b[2:]) +
		", sin6_flowinfo=htonl(" + strconv.FormatUint(uint64(binary.BigEndian.Uint32(b[4:])), 10) + ")" +
		`, inet_pton(AF_INET6, "` + formatInet6(b[8:24]) + `", &sin6_addr)`
	if len(b) >= sizeofSockaddrIn6 {
		// strace names the interface (if_nametoindex("eth0")) when its
		// own host has one with this index; the guest's interfaces are
		// not the host's, so the number is the honest answer here.
		s += ", sin6_scope_id=" + strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[24:])), 10)
	}
	return s
}

// sockaddrNlFields shows struct sockaddr_nl. nl_pad is shown only when a
// guest leaves garbage in it, and nl_groups in C's %#08x.
func sockaddrNlFields(b []byte) string {
	var s string
	if pad := binary.LittleEndian.Uint16(b[2:]); pad != 0 {
		s = "nl_pad=0x" + strconv.FormatUint(uint64(pad), 16) + ", "
	}
	s += "nl_pid=" + strconv.FormatInt(int64(int32(binary.LittleEndian.Uint32(b[4:]))), 10)
	groups := "00000000"
	if g := binary.LittleEndian.Uint32(b[8:]); g != 0 {
		groups = strconv.FormatUint(uint64(g), 16)
		groups = "0x" + strings.Repeat("0", max(0, 6-len(groups))) + groups
	}
	return s + ", nl_groups=" + groups
}

// htons shows a port in network byte order as strace does: htons(80).
func htons(b []byte) string {
	return "htons(" + strconv.FormatUint(uint64(binary.BigEndian.Uint16(b)), 10) + ")"
}

// inetAddr shows a 4-byte IPv4 address: inet_addr("127.0.0.1").
func inetAddr(b []byte) string {
	return `inet_addr("` + netip.AddrFrom4([4]byte(b)).String() + `")`
}

// formatInet6 prints an IPv6 address as glibc's inet_ntop does. That
// matches netip's RFC 5952 text except for one legacy form: an address
// whose first 96 bits are zero and whose next 16 are not is shown as an
// IPv4-compatible address, "::1.2.3.4".
func formatInet6(b []byte) string {
	a := [16]byte(b)
	if isZero(a[:12]) && (a[12] != 0 || a[13] != 0) {
		return "::" + netip.AddrFrom4([4]byte(a[12:])).String()
	}
	return netip.AddrFrom16(a).String()
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
