// Package ifioctl answers the interface ioctls of sockets (netdevice(7)):
// SIOCGIFCONF and the SIOCGIF* requests on a struct ifreq, from an
// inet.Stack. Sockets call it from their Ioctl for requests they do not
// handle themselves, as net/socket.c:sock_do_ioctl falls back to
// net/core/dev_ioctl.c:dev_ioctl.
//
// There are two entry points because Linux routes the IPv4 address
// requests (SIOCGIFADDR, SIOCGIFNETMASK, ...) through the AF_INET
// socket's own ioctl (net/ipv4/af_inet.c:inet_ioctl →
// net/ipv4/devinet.c:devinet_ioctl): an AF_INET socket uses Ioctl, every
// other socket (AF_INET6, AF_UNIX, AF_NETLINK) uses DevIoctl, and gets
// ENOTTY for those requests, as on Linux.
//
// The guest never has CAP_NET_ADMIN over the sandbox's stack, which no
// request here can change: every SIOCSIF* setter fails with EPERM, after
// the struct is read (a bad pointer is EFAULT first), as dev_ioctl orders
// its checks.
package ifioctl

import (
	"bytes"
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/inet"
)

// TxQueueLen is every interface's transmit queue length: Linux's
// DEFAULT_TX_QUEUE_LEN (include/linux/netdevice.h), which loopback_setup
// also uses. Netstack has no queue discipline to size.
const TxQueueLen = 1000

// Ioctl answers cmd for an AF_INET socket: the IPv4 address requests of
// devinet_ioctl, the route setters of ip_rt_ioctl, and everything
// DevIoctl answers. handled is false for requests it does not know; the
// caller then answers ENOTTY (or its own). stack may be nil (no
// interfaces).
func Ioctl(stack inet.Stack, mem vfs.UserMemory, cmd uint32, arg uintptr) (ret uintptr, handled bool, err error) {
	switch cmd {
	case linux.SIOCGIFADDR, linux.SIOCGIFBRDADDR, linux.SIOCGIFDSTADDR, linux.SIOCGIFNETMASK,
		linux.SIOCSIFADDR, linux.SIOCSIFBRDADDR, linux.SIOCSIFDSTADDR, linux.SIOCSIFNETMASK,
		linux.SIOCSIFFLAGS, linux.SIOCGIFPFLAGS, linux.SIOCSIFPFLAGS:
		return 0, true, devinet(stack, mem, cmd, hostarch.Addr(arg))
	case linux.SIOCADDRT, linux.SIOCDELRT:
		// ip_rt_ioctl checks CAP_NET_ADMIN before it reads the
		// struct rtentry.
		return 0, true, errno.EPERM
	}
	return DevIoctl(stack, mem, cmd, arg)
}

// DevIoctl answers cmd as sock_do_ioctl does for any socket: SIOCGIFCONF
// (dev_ifconf) and the device requests of dev_ioctl. handled is false for
// requests it does not know.
func DevIoctl(stack inet.Stack, mem vfs.UserMemory, cmd uint32, arg uintptr) (ret uintptr, handled bool, err error) {
	addr := hostarch.Addr(arg)
	switch cmd {
	case linux.SIOCGIFCONF:
		return 0, true, ifconf(stack, mem, addr)
	case linux.SIOCGIFNAME,
		linux.SIOCGIFFLAGS, linux.SIOCGIFMETRIC, linux.SIOCGIFMTU, linux.SIOCGIFSLAVE, linux.SIOCGIFMAP,
		linux.SIOCGIFINDEX, linux.SIOCGIFTXQLEN, linux.SIOCGIFHWADDR,
		linux.SIOCSIFFLAGS, linux.SIOCSIFMETRIC, linux.SIOCSIFMTU, linux.SIOCSIFHWADDR, linux.SIOCSIFSLAVE,
		linux.SIOCADDMULTI, linux.SIOCDELMULTI, linux.SIOCSIFHWBROADCAST, linux.SIOCSIFMAP,
		linux.SIOCSIFTXQLEN, linux.SIOCSIFNAME,
		linux.SIOCGIFMEM, linux.SIOCSIFMEM, linux.SIOCSIFLINK:
		return 0, true, devIoctl(stack, mem, cmd, addr)
	}
	return 0, false, nil
}

// ifreq is a struct ifreq as the guest passed it. Requests change only
// the fields they answer and write the whole struct back, as
// net/socket.c:get_user_ifreq and put_user_ifreq do.
type ifreq [linux.SizeofIfreq]byte

func copyInIfreq(mem vfs.UserMemory, addr hostarch.Addr) (*ifreq, error) {
	var r ifreq
	if _, err := mem.CopyInBytes(addr, r[:]); err != nil {
		return nil, errno.EFAULT
	}
	return &r, nil
}

func (r *ifreq) copyOut(mem vfs.UserMemory, addr hostarch.Addr) error {
	if _, err := mem.CopyOutBytes(addr, r[:]); err != nil {
		return errno.EFAULT
	}
	return nil
}

// name returns ifr_name up to its NUL, after terminating it at
// IFNAMSIZ-1 as the kernel does first.
func (r *ifreq) name() []byte {
	r[linux.IFNAMSIZ-1] = 0
	n := r[:linux.IFNAMSIZ]
	if i := bytes.IndexByte(n, 0); i >= 0 {
		n = n[:i]
	}
	return n
}

// deviceName is the name a request looks the device up by: ifr_name cut
// at its first ':' ("eth0:1" is an alias label of eth0), as dev_ioctl and
// devinet_ioctl do before dev_get_by_name.
func deviceName(name []byte) string {
	if i := bytes.IndexByte(name, ':'); i >= 0 {
		name = name[:i]
	}
	return string(name)
}

// union returns the ifr_ifru bytes.
func (r *ifreq) union() []byte { return r[linux.IfreqUnionOffset:] }

// putInt stores an int member of the union (ifr_ifindex, ifr_mtu, ...).
func (r *ifreq) putInt(v int32) {
	binary.LittleEndian.PutUint32(r.union(), uint32(v))
}

func interfaces(stack inet.Stack) []inet.Interface {
	if stack == nil {
		return nil
	}
	return stack.Interfaces()
}

// InterfaceByName returns the interface called name.
func InterfaceByName(stack inet.Stack, name string) (inet.Interface, bool) {
	for _, ifc := range interfaces(stack) {
		if ifc.Name == name {
			return ifc, true
		}
	}
	return inet.Interface{}, false
}

// InterfaceByIndex returns the interface with index idx.
func InterfaceByIndex(stack inet.Stack, idx int32) (inet.Interface, bool) {
	for _, ifc := range interfaces(stack) {
		if ifc.Index == idx {
			return ifc, true
		}
	}
	return inet.Interface{}, false
}

// IPv4Addrs returns the IPv4 addresses of interface idx, in the stack's
// order (in_dev->ifa_list's: primary addresses first).
func IPv4Addrs(stack inet.Stack, idx int32) []inet.InterfaceAddr {
	if stack == nil {
		return nil
	}
	var out []inet.InterfaceAddr
	for _, a := range stack.InterfaceAddrs()[idx] {
		if a.Family == inet.AF_INET && len(a.Addr) == 4 {
			out = append(out, a)
		}
	}
	return out
}

// Netmask returns the IPv4 netmask of a prefix length, in network order
// (inet_make_mask).
func Netmask(prefixLen uint8) []byte {
	m := uint32(0)
	if prefixLen > 0 {
		m = ^uint32(0) << (32 - min(prefixLen, 32))
	}
	return binary.BigEndian.AppendUint32(nil, m)
}

// Broadcast returns the IPv4 broadcast address (ifa_broadcast) of a on
// ifc, or nil for none. Linux stores what was configured; the sandbox's
// stacks configure none, so it is derived as `ip addr add ... brd +`
// (what DHCP clients, Docker and most configurations ask for) would set
// it: the directed broadcast on interfaces with IFF_BROADCAST, none on
// loopback or point-to-point links, and none for /31 and /32 prefixes
// (RFC 3021).
func Broadcast(ifc *inet.Interface, a *inet.InterfaceAddr) []byte {
	if ifc.Flags&inet.IFF_BROADCAST == 0 || a.Family != inet.AF_INET || len(a.Addr) != 4 || a.PrefixLen >= 31 {
		return nil
	}
	mask := Netmask(a.PrefixLen)
	b := make([]byte, 4)
	for i := range b {
		b[i] = a.Addr[i] | ^mask[i]
	}
	return b
}

// devinet implements the requests of devinet_ioctl for an AF_INET socket.
func devinet(stack inet.Stack, mem vfs.UserMemory, cmd uint32, addr hostarch.Addr) error {
	r, err := copyInIfreq(mem, addr)
	if err != nil {
		return err
	}
	name := r.name()
	sin := r.union()[:linux.SizeofSockAddrInet]
	origFamily := binary.LittleEndian.Uint16(sin)
	var origAddr [4]byte
	copy(origAddr[:], sin[4:8])
	tryAddrMatch := false
	switch cmd {
	case linux.SIOCGIFADDR, linux.SIOCGIFBRDADDR, linux.SIOCGIFDSTADDR, linux.SIOCGIFNETMASK:
		// "tryaddrmatch = (sin_orig.sin_family == AF_INET)": a caller
		// that names an address gets that address's values.
		tryAddrMatch = origFamily == linux.AF_INET
		clear(sin)
		binary.LittleEndian.PutUint16(sin, linux.AF_INET)
	case linux.SIOCSIFFLAGS, linux.SIOCSIFADDR, linux.SIOCSIFBRDADDR, linux.SIOCSIFDSTADDR, linux.SIOCSIFNETMASK:
		return errno.EPERM
	default:
		// SIOCGIFPFLAGS and SIOCSIFPFLAGS: devinet_ioctl's default.
		return errno.EINVAL
	}
	ifc, ok := InterfaceByName(stack, deviceName(name))
	if !ok {
		return errno.ENODEV
	}
	// Addresses are matched by label, which for the sandbox's stacks is
	// always the interface's name: an alias name ("lo:1") matches none.
	label := string(name)
	var found *inet.InterfaceAddr
	addrs := IPv4Addrs(stack, ifc.Index)
	if label == ifc.Name {
		if tryAddrMatch {
			for i := range addrs {
				if bytes.Equal(addrs[i].Addr, origAddr[:]) {
					found = &addrs[i]
					break
				}
			}
		}
		if found == nil && len(addrs) > 0 {
			found = &addrs[0]
		}
	}
	if found == nil {
		return errno.EADDRNOTAVAIL
	}
	var v []byte
	switch cmd {
	case linux.SIOCGIFADDR, linux.SIOCGIFDSTADDR:
		// ifa_local, and ifa_address: the same for an address that has
		// no peer, which no sandbox address has.
		v = found.Addr
	case linux.SIOCGIFBRDADDR:
		v = Broadcast(&ifc, found)
	case linux.SIOCGIFNETMASK:
		v = Netmask(found.PrefixLen)
	}
	copy(sin[4:8], v) // A nil broadcast leaves 0.0.0.0.
	return r.copyOut(mem, addr)
}

// devIoctl implements the ifreq requests of dev_ioctl.
func devIoctl(stack inet.Stack, mem vfs.UserMemory, cmd uint32, addr hostarch.Addr) error {
	// sock_do_ioctl reads the struct before dev_ioctl looks at cmd.
	r, err := copyInIfreq(mem, addr)
	if err != nil {
		return err
	}
	switch cmd {
	case linux.SIOCGIFNAME:
		// dev_ifname: the name of ifr_ifindex, copied over ifr_name
		// with its NUL (strcpy: later bytes stay).
		r.name()
		idx := int32(binary.LittleEndian.Uint32(r.union()))
		ifc, ok := InterfaceByIndex(stack, idx)
		if !ok {
			return errno.ENODEV
		}
		n := copy(r[:linux.IFNAMSIZ-1], ifc.Name)
		r[n] = 0
		return r.copyOut(mem, addr)
	case linux.SIOCGIFMEM, linux.SIOCSIFMEM, linux.SIOCSIFLINK:
		// "We can add this but currently do not support it" - dev_ioctl.
		return errno.ENOTTY
	case linux.SIOCGIFFLAGS, linux.SIOCGIFMETRIC, linux.SIOCGIFMTU, linux.SIOCGIFSLAVE, linux.SIOCGIFMAP,
		linux.SIOCGIFINDEX, linux.SIOCGIFTXQLEN, linux.SIOCGIFHWADDR:
	default:
		// The setters: CAP_NET_ADMIN is checked before the device is
		// looked up, so an unknown name is EPERM too.
		return errno.EPERM
	}
	ifc, ok := InterfaceByName(stack, deviceName(r.name()))
	if !ok {
		return errno.ENODEV
	}
	u := r.union()
	switch cmd {
	case linux.SIOCGIFFLAGS:
		// ifr_flags is a short: "(short) dev_get_flags(dev)" drops
		// IFF_LOWER_UP and the other high flags.
		binary.LittleEndian.PutUint16(u, uint16(ifc.Flags))
	case linux.SIOCGIFMETRIC:
		r.putInt(0) // "currently unused"
	case linux.SIOCGIFMTU:
		r.putInt(int32(ifc.MTU))
	case linux.SIOCGIFSLAVE:
		return errno.EINVAL
	case linux.SIOCGIFMAP:
		// mem_start, mem_end, base_addr, irq, dma, port: a virtual
		// device has none; the struct's padding is left alone.
		clear(u[:8+8+2+1+1+1])
	case linux.SIOCGIFINDEX:
		r.putInt(ifc.Index)
	case linux.SIOCGIFTXQLEN:
		r.putInt(TxQueueLen)
	case linux.SIOCGIFHWADDR:
		// dev_get_mac_address: sa_family is the ARPHRD_* type and
		// sa_data the address, or 14 zero bytes if it has none.
		binary.LittleEndian.PutUint16(u, ifc.Type)
		data := u[2:16]
		if len(ifc.HardwareAddr) == 0 {
			clear(data)
		} else {
			copy(data, ifc.HardwareAddr)
		}
	}
	return r.copyOut(mem, addr)
}

// ifconf implements SIOCGIFCONF (net/core/dev_ioctl.c:dev_ifconf with
// net/ipv4/devinet.c:inet_gifconf): one struct ifreq per IPv4 address,
// ifr_name its label and ifr_addr a sockaddr_in, for as many whole
// structs as ifc_len holds. A NULL ifc_buf asks for the length needed.
// ifc_len is set to the bytes written (or needed).
func ifconf(stack inet.Stack, mem vfs.UserMemory, addr hostarch.Addr) error {
	var lb [4]byte
	if _, err := mem.CopyInBytes(addr, lb[:]); err != nil {
		return errno.EFAULT
	}
	var pb [8]byte
	if _, err := mem.CopyInBytes(addr+linux.IfconfBufOffset, pb[:]); err != nil {
		return errno.EFAULT
	}
	length := int(int32(binary.LittleEndian.Uint32(lb[:])))
	buf := hostarch.Addr(binary.LittleEndian.Uint64(pb[:]))
	total := 0
	for _, ifc := range interfaces(stack) {
		for _, a := range IPv4Addrs(stack, ifc.Index) {
			if buf == 0 {
				total += linux.SizeofIfreq
				continue
			}
			// A negative ifc_len holds nothing.
			if length-total < linux.SizeofIfreq {
				break
			}
			var r ifreq
			copy(r[:linux.IFNAMSIZ-1], ifc.Name)
			binary.LittleEndian.PutUint16(r.union(), linux.AF_INET)
			copy(r.union()[4:8], a.Addr)
			// A buffer that wraps around the address space is a bad
			// pointer.
			at, ok := buf.AddLength(uint64(total))
			if !ok {
				return errno.EFAULT
			}
			if err := r.copyOut(mem, at); err != nil {
				return err
			}
			total += linux.SizeofIfreq
		}
	}
	binary.LittleEndian.PutUint32(lb[:], uint32(total))
	if _, err := mem.CopyOutBytes(addr, lb[:]); err != nil {
		return errno.EFAULT
	}
	return nil
}
