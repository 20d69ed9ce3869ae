package ifioctl

import (
	"bytes"
	"encoding/binary"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/inet"
)

// memory is guest memory: size bytes at base; anything else faults.
type memory struct {
	base hostarch.Addr
	b    []byte
}

func newMemory() *memory { return &memory{base: 0x10000, b: make([]byte, 4096)} }

func (m *memory) slice(addr hostarch.Addr, n int) ([]byte, error) {
	if addr < m.base || uint64(addr-m.base)+uint64(n) > uint64(len(m.b)) {
		return nil, errno.EFAULT
	}
	off := int(addr - m.base)
	return m.b[off : off+n], nil
}

func (m *memory) CopyInBytes(addr hostarch.Addr, dst []byte) (int, error) {
	s, err := m.slice(addr, len(dst))
	if err != nil {
		return 0, err
	}
	return copy(dst, s), nil
}

func (m *memory) CopyOutBytes(addr hostarch.Addr, src []byte) (int, error) {
	s, err := m.slice(addr, len(src))
	if err != nil {
		return 0, err
	}
	return copy(s, src), nil
}

type stack struct{}

func (stack) Interfaces() []inet.Interface {
	return []inet.Interface{
		{Index: 1, Name: "lo", Flags: inet.IFF_UP | inet.IFF_LOOPBACK | inet.IFF_RUNNING | inet.IFF_LOWER_UP,
			Type: inet.ARPHRD_LOOPBACK, MTU: 65536, HardwareAddr: make([]byte, 6)},
		{Index: 2, Name: "eth0", Flags: inet.IFF_UP | inet.IFF_BROADCAST | inet.IFF_RUNNING,
			Type: inet.ARPHRD_ETHER, MTU: 1500, HardwareAddr: []byte{2, 0x42, 0xac, 0x11, 0, 2}},
		{Index: 3, Name: "tun0", Flags: inet.IFF_UP | inet.IFF_POINTOPOINT, Type: inet.ARPHRD_NONE, MTU: 1400},
	}
}

func (stack) InterfaceAddrs() map[int32][]inet.InterfaceAddr {
	return map[int32][]inet.InterfaceAddr{
		1: {
			{Family: inet.AF_INET6, PrefixLen: 128, Addr: append(make([]byte, 15), 1)},
			{Family: inet.AF_INET, PrefixLen: 8, Addr: []byte{127, 0, 0, 1}},
		},
		2: {
			{Family: inet.AF_INET, PrefixLen: 16, Addr: []byte{172, 17, 0, 2}},
			{Family: inet.AF_INET, PrefixLen: 24, Addr: []byte{10, 1, 2, 3}},
		},
	}
}

func (stack) Routes() []inet.Route       { return nil }
func (stack) Sockets() []inet.SocketInfo { return nil }

func TestStructSizes(t *testing.T) {
	if s := unsafe.Sizeof(unix.Ifreq{}); s != 40 || linux.SizeofIfreq != 40 {
		t.Errorf("ifreq: host %d, ours %d", s, linux.SizeofIfreq)
	}
	if linux.SizeofIfconf != 16 || linux.IfconfBufOffset != 8 {
		t.Errorf("ifconf layout")
	}
}

// ifreq lays out a struct ifreq named name at the start of mem and
// returns its address.
func (m *memory) ifreq(name string, union []byte) hostarch.Addr {
	clear(m.b[:linux.SizeofIfreq])
	copy(m.b, name)
	copy(m.b[linux.IFNAMSIZ:linux.SizeofIfreq], union)
	return m.base
}

func sockaddrIn(a ...byte) []byte {
	b := []byte{linux.AF_INET, 0, 0, 0}
	return append(b, a...)
}

func TestAddressRequests(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cmd   uint32
		ifr   string
		union []byte
		want  []byte // sin_addr
		err   error
	}{
		{"addr lo", linux.SIOCGIFADDR, "lo", nil, []byte{127, 0, 0, 1}, nil},
		{"dstaddr lo", linux.SIOCGIFDSTADDR, "lo", nil, []byte{127, 0, 0, 1}, nil},
		{"netmask lo", linux.SIOCGIFNETMASK, "lo", nil, []byte{255, 0, 0, 0}, nil},
		{"broadcast lo", linux.SIOCGIFBRDADDR, "lo", nil, []byte{0, 0, 0, 0}, nil},
		{"addr eth0", linux.SIOCGIFADDR, "eth0", nil, []byte{172, 17, 0, 2}, nil},
		{"broadcast eth0", linux.SIOCGIFBRDADDR, "eth0", nil, []byte{172, 17, 255, 255}, nil},
		// Naming an address (AF_INET) picks it.
		{"netmask of an address", linux.SIOCGIFNETMASK, "eth0", sockaddrIn(10, 1, 2, 3), []byte{255, 255, 255, 0}, nil},
		{"broadcast of an address", linux.SIOCGIFBRDADDR, "eth0", sockaddrIn(10, 1, 2, 3), []byte{10, 1, 2, 255}, nil},
		// A junk address falls back to the first.
		{"unknown address", linux.SIOCGIFNETMASK, "eth0", sockaddrIn(9, 9, 9, 9), []byte{255, 255, 0, 0}, nil},
		{"no such device", linux.SIOCGIFADDR, "eth9", nil, nil, errno.ENODEV},
		{"no address", linux.SIOCGIFADDR, "tun0", nil, nil, errno.EADDRNOTAVAIL},
		// An alias label finds the device but no address of that label.
		{"alias", linux.SIOCGIFADDR, "lo:1", nil, nil, errno.EADDRNOTAVAIL},
		{"alias of nothing", linux.SIOCGIFADDR, "eth9:1", nil, nil, errno.ENODEV},
		{"set address", linux.SIOCSIFADDR, "lo", sockaddrIn(1, 2, 3, 4), nil, errno.EPERM},
		{"set netmask of nothing", linux.SIOCSIFNETMASK, "eth9", nil, nil, errno.EPERM},
		{"pflags", linux.SIOCGIFPFLAGS, "lo", nil, nil, errno.EINVAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemory()
			addr := m.ifreq(tc.ifr, tc.union)
			m.b[33] = 0xaa // Beyond the sockaddr_in: left alone.
			_, handled, err := Ioctl(stack{}, m, tc.cmd, uintptr(addr))
			if !handled || err != tc.err {
				t.Fatalf("handled %v err %v, want %v", handled, err, tc.err)
			}
			if err != nil {
				return
			}
			sin := m.b[linux.IFNAMSIZ:]
			if binary.LittleEndian.Uint16(sin) != linux.AF_INET || !bytes.Equal(sin[4:8], tc.want) || !bytes.Equal(sin[8:14], make([]byte, 6)) {
				t.Errorf("sockaddr %x, want AF_INET %v", sin[:16], tc.want)
			}
			if m.b[33] != 0xaa || string(m.b[:len(tc.ifr)]) != tc.ifr {
				t.Errorf("ifreq clobbered: %x", m.b[:40])
			}
			// Other sockets leave these to the AF_INET one.
			if _, handled, _ := DevIoctl(stack{}, m, tc.cmd, uintptr(addr)); handled {
				t.Error("DevIoctl handled an AF_INET request")
			}
		})
	}
}

func TestDeviceRequests(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cmd   uint32
		ifr   string
		union []byte
		want  []byte // the start of the union afterwards
		err   error
	}{
		{"index", linux.SIOCGIFINDEX, "eth0", nil, []byte{2, 0, 0, 0}, nil},
		// ifr_flags is a short: IFF_LOWER_UP is cut off.
		{"flags", linux.SIOCGIFFLAGS, "lo", nil, []byte{0x49, 0, 0, 0}, nil},
		{"flags of an alias", linux.SIOCGIFFLAGS, "lo:0", nil, []byte{0x49, 0, 0, 0}, nil},
		{"mtu", linux.SIOCGIFMTU, "lo", nil, []byte{0, 0, 1, 0}, nil},
		{"txqlen", linux.SIOCGIFTXQLEN, "eth0", nil, []byte{0xe8, 3, 0, 0}, nil},
		{"metric", linux.SIOCGIFMETRIC, "eth0", []byte{9, 9, 9, 9}, []byte{0, 0, 0, 0}, nil},
		{"map", linux.SIOCGIFMAP, "eth0", bytes.Repeat([]byte{9}, 24), append(make([]byte, 21), 9, 9, 9), nil},
		{"hwaddr", linux.SIOCGIFHWADDR, "eth0", nil, []byte{1, 0, 2, 0x42, 0xac, 0x11, 0, 2, 0, 0}, nil},
		{"hwaddr loopback", linux.SIOCGIFHWADDR, "lo", nil, []byte{0x04, 0x03, 0, 0, 0, 0, 0, 0}, nil},
		{"hwaddr none", linux.SIOCGIFHWADDR, "tun0", bytes.Repeat([]byte{9}, 16), append([]byte{0xfe, 0xff}, make([]byte, 14)...), nil},
		{"slave", linux.SIOCGIFSLAVE, "lo", nil, nil, errno.EINVAL},
		{"unknown index", linux.SIOCGIFINDEX, "eth9", nil, nil, errno.ENODEV},
		{"unknown mtu", linux.SIOCGIFMTU, "", nil, nil, errno.ENODEV},
		{"name", linux.SIOCGIFNAME, "", []byte{2, 0, 0, 0}, []byte{2, 0, 0, 0}, nil},
		{"unknown name", linux.SIOCGIFNAME, "", []byte{9, 0, 0, 0}, nil, errno.ENODEV},
		{"set flags", linux.SIOCSIFFLAGS, "lo", nil, nil, errno.EPERM},
		{"set mtu of nothing", linux.SIOCSIFMTU, "eth9", nil, nil, errno.EPERM},
		{"set name", linux.SIOCSIFNAME, "lo", nil, nil, errno.EPERM},
		{"set txqlen", linux.SIOCSIFTXQLEN, "lo", nil, nil, errno.EPERM},
		{"add multicast", linux.SIOCADDMULTI, "lo", nil, nil, errno.EPERM},
		{"mem", linux.SIOCGIFMEM, "lo", nil, nil, errno.ENOTTY},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range []func(inet.Stack, *memory, uint32, uintptr) (uintptr, bool, error){
				func(s inet.Stack, m *memory, c uint32, a uintptr) (uintptr, bool, error) { return Ioctl(s, m, c, a) },
				func(s inet.Stack, m *memory, c uint32, a uintptr) (uintptr, bool, error) { return DevIoctl(s, m, c, a) },
			} {
				m := newMemory()
				addr := m.ifreq(tc.ifr, tc.union)
				_, handled, err := f(stack{}, m, tc.cmd, uintptr(addr))
				if !handled || err != tc.err {
					t.Fatalf("handled %v err %v, want %v", handled, err, tc.err)
				}
				if err != nil {
					continue
				}
				if got := m.b[linux.IFNAMSIZ : linux.IFNAMSIZ+len(tc.want)]; !bytes.Equal(got, tc.want) {
					t.Errorf("union %x, want %x", got, tc.want)
				}
				name := tc.ifr
				if tc.cmd == linux.SIOCGIFNAME {
					name = "eth0"
				}
				if got := string(m.b[:len(name)+1]); got != name+"\x00" {
					t.Errorf("name %q", got)
				}
			}
		})
	}
}

func TestNameKeepsTail(t *testing.T) {
	m := newMemory()
	// SIOCGIFNAME strcpy's the name: bytes after its NUL stay, but
	// ifr_name[15] is cleared first.
	addr := m.ifreq("xxxxxxxxxxxxxxxx", []byte{1, 0, 0, 0})
	if _, _, err := Ioctl(stack{}, m, linux.SIOCGIFNAME, uintptr(addr)); err != nil {
		t.Fatal(err)
	}
	if want := "lo\x00xxxxxxxxxxxx\x00"; string(m.b[:16]) != want {
		t.Errorf("name %q, want %q", m.b[:16], want)
	}
}

func TestFaults(t *testing.T) {
	m := newMemory()
	for _, cmd := range []uint32{linux.SIOCGIFADDR, linux.SIOCGIFINDEX, linux.SIOCGIFNAME, linux.SIOCSIFFLAGS, linux.SIOCSIFADDR, linux.SIOCGIFCONF} {
		if _, handled, err := Ioctl(stack{}, m, cmd, 8); !handled || err != errno.EFAULT {
			t.Errorf("%#x at a bad address: %v %v", cmd, handled, err)
		}
		// The struct runs off the end of memory.
		end := uintptr(m.base) + uintptr(len(m.b)) - 8
		if _, _, err := Ioctl(stack{}, m, cmd, end); err != errno.EFAULT {
			t.Errorf("%#x across the end: %v", cmd, err)
		}
	}
	if _, _, err := Ioctl(stack{}, m, linux.SIOCADDRT, 8); err != errno.EPERM {
		t.Errorf("SIOCADDRT: %v", err)
	}
	if _, handled, _ := DevIoctl(stack{}, m, linux.SIOCADDRT, 8); handled {
		t.Error("DevIoctl handled SIOCADDRT")
	}
	if _, handled, _ := Ioctl(stack{}, m, linux.FIONREAD, 8); handled {
		t.Error("FIONREAD handled")
	}
}

// ifconf lays out a struct ifconf at the start of mem, with its buffer
// right after it (or NULL).
func (m *memory) ifconf(length int32, null bool) hostarch.Addr {
	clear(m.b)
	binary.LittleEndian.PutUint32(m.b, uint32(length))
	if !null {
		binary.LittleEndian.PutUint64(m.b[linux.IfconfBufOffset:], uint64(m.base)+linux.SizeofIfconf)
	}
	return m.base
}

func TestIfconf(t *testing.T) {
	type entry struct {
		name string
		addr []byte
	}
	lo := entry{"lo", []byte{127, 0, 0, 1}}
	eth0 := entry{"eth0", []byte{172, 17, 0, 2}}
	eth0b := entry{"eth0", []byte{10, 1, 2, 3}}
	for _, tc := range []struct {
		name    string
		length  int32
		null    bool
		wantLen int32
		want    []entry
	}{
		// IPv4 addresses only, one struct ifreq each.
		{"size", 0, true, 3 * linux.SizeofIfreq, nil},
		{"all", 4 * linux.SizeofIfreq, false, 3 * linux.SizeofIfreq, []entry{lo, eth0, eth0b}},
		{"whole structs only", 2*linux.SizeofIfreq + 39, false, 2 * linux.SizeofIfreq, []entry{lo, eth0}},
		{"none fits", 39, false, 0, nil},
		{"negative", -1, false, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMemory()
			addr := m.ifconf(tc.length, tc.null)
			if _, handled, err := DevIoctl(stack{}, m, linux.SIOCGIFCONF, uintptr(addr)); !handled || err != nil {
				t.Fatalf("%v %v", handled, err)
			}
			if got := int32(binary.LittleEndian.Uint32(m.b)); got != tc.wantLen {
				t.Errorf("ifc_len %d, want %d", got, tc.wantLen)
			}
			for i, e := range tc.want {
				r := m.b[linux.SizeofIfconf+i*linux.SizeofIfreq:][:linux.SizeofIfreq]
				want := make([]byte, linux.SizeofIfreq)
				copy(want, e.name)
				copy(want[linux.IFNAMSIZ:], sockaddrIn(e.addr...))
				if !bytes.Equal(r, want) {
					t.Errorf("entry %d: %x, want %x", i, r, want)
				}
			}
			if rest := m.b[linux.SizeofIfconf+len(tc.want)*linux.SizeofIfreq:]; !bytes.Equal(rest, make([]byte, len(rest))) {
				t.Error("wrote past the entries")
			}
		})
	}
	// No stack: no interfaces.
	m := newMemory()
	addr := m.ifconf(400, false)
	if _, _, err := Ioctl(nil, m, linux.SIOCGIFCONF, uintptr(addr)); err != nil || binary.LittleEndian.Uint32(m.b) != 0 {
		t.Errorf("nil stack: %v len %d", err, binary.LittleEndian.Uint32(m.b))
	}
	if _, _, err := Ioctl(nil, m, linux.SIOCGIFINDEX, uintptr(m.ifreq("lo", nil))); err != errno.ENODEV {
		t.Errorf("nil stack index: %v", err)
	}
	// A buffer the entries do not fit in faults.
	binary.LittleEndian.PutUint32(m.b, 400)
	binary.LittleEndian.PutUint64(m.b[8:], uint64(m.base)+uint64(len(m.b))-50)
	if _, _, err := Ioctl(stack{}, m, linux.SIOCGIFCONF, uintptr(m.base)); err != errno.EFAULT {
		t.Errorf("short buffer: %v", err)
	}
}

func TestHelpers(t *testing.T) {
	for _, tc := range []struct {
		prefix uint8
		want   []byte
	}{{0, []byte{0, 0, 0, 0}}, {8, []byte{255, 0, 0, 0}}, {23, []byte{255, 255, 254, 0}}, {32, []byte{255, 255, 255, 255}}, {40, []byte{255, 255, 255, 255}}} {
		if got := Netmask(tc.prefix); !bytes.Equal(got, tc.want) {
			t.Errorf("Netmask(%d) = %v", tc.prefix, got)
		}
	}
	eth := inet.Interface{Flags: inet.IFF_BROADCAST}
	for _, tc := range []struct {
		prefix uint8
		want   []byte
	}{{24, []byte{10, 1, 2, 255}}, {31, nil}, {32, nil}, {0, []byte{255, 255, 255, 255}}} {
		a := inet.InterfaceAddr{Family: inet.AF_INET, PrefixLen: tc.prefix, Addr: []byte{10, 1, 2, 3}}
		if got := Broadcast(&eth, &a); !bytes.Equal(got, tc.want) {
			t.Errorf("Broadcast(/%d) = %v, want %v", tc.prefix, got, tc.want)
		}
	}
}
