package netstack

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
)

// addrUse says what an address is for: the checks differ a little between
// bind(2), connect(2) and sendto(2) (net/ipv4/af_inet.c, net/ipv6/af_inet6.c,
// ip4_datagram_connect, udp_sendmsg).
type addrUse int

const (
	useBind addrUse = iota
	useConnect
	useSendTo
)

// parseAddr decodes a guest sockaddr for a socket of family: EINVAL if it
// is shorter than the family's sockaddr, EAFNOSUPPORT for another family.
// An AF_INET6 datagram socket also takes an AF_INET address, which it
// reaches as a v4-mapped one (ip6_datagram_connect, udpv6_sendmsg). The
// unspecified address becomes netstack's empty address ("any").
func parseAddr(family int, b []byte, use addrUse, dgram bool) (tcpip.FullAddress, error) {
	if len(b) < 2 {
		return tcpip.FullAddress{}, errno.EINVAL
	}
	fam := int(binary.LittleEndian.Uint16(b))
	if family == linux.AF_INET6 && fam == linux.AF_INET && dgram && use != useBind {
		a, err := parseInet(b)
		if err != nil {
			return a, err
		}
		// The v4-mapped form; netstack unwraps it, and refuses it on a
		// V6ONLY socket.
		var m [16]byte
		m[10], m[11] = 0xff, 0xff
		if a.Addr.Len() == 4 {
			copy(m[12:], a.Addr.AsSlice())
		}
		a.Addr = tcpip.AddrFrom16(m)
		return a, nil
	}
	switch family {
	case linux.AF_INET:
		if len(b) < linux.SizeofSockAddrInet {
			return tcpip.FullAddress{}, errno.EINVAL
		}
		// "AF_UNSPEC with INADDR_ANY" binds as AF_INET, for old
		// programs (__inet_bind); sendto with AF_UNSPEC is taken as
		// AF_INET too (udp_sendmsg).
		if fam != linux.AF_INET && !(fam == linux.AF_UNSPEC && (use == useSendTo || (use == useBind && isZero(b[4:8])))) {
			return tcpip.FullAddress{}, errno.EAFNOSUPPORT
		}
		return parseInet(b)
	case linux.AF_INET6:
		if len(b) < linux.SIN6_LEN_RFC2133 {
			return tcpip.FullAddress{}, errno.EINVAL
		}
		if fam != linux.AF_INET6 {
			return tcpip.FullAddress{}, errno.EAFNOSUPPORT
		}
		a := tcpip.FullAddress{Port: binary.BigEndian.Uint16(b[2:])}
		var ip [16]byte
		copy(ip[:], b[8:24])
		if !isZero(ip[:]) {
			a.Addr = tcpip.AddrFrom16(ip)
		}
		if len(b) >= linux.SizeofSockAddrInet6 {
			if scope := binary.LittleEndian.Uint32(b[24:]); scope != 0 && header.IsV6LinkLocalUnicastAddress(a.Addr) {
				a.NIC = tcpip.NICID(scope)
			}
		}
		return a, nil
	}
	return tcpip.FullAddress{}, errno.EAFNOSUPPORT
}

// parseInet decodes a sockaddr_in whose length was checked.
func parseInet(b []byte) (tcpip.FullAddress, error) {
	if len(b) < linux.SizeofSockAddrInet {
		return tcpip.FullAddress{}, errno.EINVAL
	}
	a := tcpip.FullAddress{Port: binary.BigEndian.Uint16(b[2:])}
	if !isZero(b[4:8]) {
		a.Addr = tcpip.AddrFrom4([4]byte(b[4:8]))
	}
	return a, nil
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// sockaddr encodes a as a sockaddr of family, as getsockname(2) and
// recvfrom(2) return it: an IPv4 address on an AF_INET6 socket is shown
// v4-mapped, and the empty address as the unspecified one.
func sockaddr(family int, a tcpip.FullAddress) []byte {
	le, be := binary.LittleEndian, binary.BigEndian
	if family == linux.AF_INET {
		b := make([]byte, linux.SizeofSockAddrInet)
		le.PutUint16(b, linux.AF_INET)
		be.PutUint16(b[2:], a.Port)
		switch a.Addr.Len() {
		case 4:
			copy(b[4:8], a.Addr.AsSlice())
		case 16:
			if header.IsV4MappedAddress(a.Addr) {
				copy(b[4:8], a.Addr.AsSlice()[12:])
			}
		}
		return b
	}
	b := make([]byte, linux.SizeofSockAddrInet6)
	le.PutUint16(b, linux.AF_INET6)
	be.PutUint16(b[2:], a.Port)
	switch a.Addr.Len() {
	case 4:
		b[18], b[19] = 0xff, 0xff
		copy(b[20:24], a.Addr.AsSlice())
	case 16:
		copy(b[8:24], a.Addr.AsSlice())
		if header.IsV6LinkLocalUnicastAddress(a.Addr) {
			le.PutUint32(b[24:], uint32(a.NIC))
		}
	}
	return b
}
