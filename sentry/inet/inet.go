// Package inet describes a sandbox's network stack to the parts of the
// sentry that report on it rather than carry traffic: NETLINK_ROUTE
// (interfaces, addresses, routes), the SIOCGIF* ioctls and /proc/net. It is
// a leaf package: the netstack glue (sentry/socket/netstack) and the host
// mode (sentry/socket/hostinet) each implement Stack, and readers never
// learn which one they have.
//
// Addresses are raw bytes in network order (4 bytes for IPv4, 16 for
// IPv6), as the kernel's structures carry them.
package inet

import "sync"

// Interface flags, from <linux/if.h>.
const (
	IFF_UP          = 0x1
	IFF_BROADCAST   = 0x2
	IFF_LOOPBACK    = 0x8
	IFF_POINTOPOINT = 0x10
	IFF_RUNNING     = 0x40
	IFF_NOARP       = 0x80
	IFF_PROMISC     = 0x100
	IFF_MULTICAST   = 0x1000
	IFF_LOWER_UP    = 0x10000
)

// Link types (ARPHRD_*), from <linux/if_arp.h>.
const (
	ARPHRD_ETHER    = 1
	ARPHRD_LOOPBACK = 772
	ARPHRD_NONE     = 0xfffe
)

// InterfaceStats are an interface's counters, as /proc/net/dev shows them.
type InterfaceStats struct {
	RxBytes, RxPackets, RxErrors, RxDropped uint64
	TxBytes, TxPackets, TxErrors, TxDropped uint64
}

// Interface is one network interface.
type Interface struct {
	// Index is the ifindex, from 1.
	Index int32
	// Name is the interface's name ("lo", "eth0").
	Name string
	// Flags are IFF_* flags.
	Flags uint32
	// Type is an ARPHRD_* link type.
	Type uint16
	// MTU is the link MTU.
	MTU uint32
	// HardwareAddr is the link-layer address (empty for none; loopback has
	// six zero bytes, as Linux shows it).
	HardwareAddr []byte
	// Stats are the interface's counters.
	Stats InterfaceStats
}

// Address families used in InterfaceAddr and Route, as AF_INET and
// AF_INET6.
const (
	AF_INET  = 2
	AF_INET6 = 10
)

// InterfaceAddr is one address of an interface.
type InterfaceAddr struct {
	// Family is AF_INET or AF_INET6.
	Family int
	// PrefixLen is the prefix length (8 for 127.0.0.1/8).
	PrefixLen uint8
	// Flags are IFA_F_* flags (IFA_F_PERMANENT = 0x80 for static ones).
	Flags uint8
	// Addr is the address.
	Addr []byte
}

// Route scopes and types, from <linux/rtnetlink.h>.
const (
	RT_SCOPE_UNIVERSE = 0
	RT_SCOPE_LINK     = 253
	RT_SCOPE_HOST     = 254

	RTN_UNICAST = 1
	RTN_LOCAL   = 2

	RT_TABLE_MAIN  = 254
	RT_TABLE_LOCAL = 255

	RTPROT_KERNEL = 2
	RTPROT_BOOT   = 3
	RTPROT_STATIC = 4
)

// Route is one routing table entry.
type Route struct {
	// Family is AF_INET or AF_INET6.
	Family int
	// DstLen is the destination prefix length; Dst the destination
	// (empty for a default route).
	DstLen uint8
	Dst    []byte
	// Gateway is the next hop (empty for a directly connected route).
	Gateway []byte
	// PrefSrc is the preferred source address (empty for none).
	PrefSrc []byte
	// OutputInterface is the ifindex packets leave by.
	OutputInterface int32
	// Table, Protocol, Scope and Type are the RT_TABLE_*, RTPROT_*,
	// RT_SCOPE_* and RTN_* values of struct rtmsg.
	Table, Protocol, Scope, Type uint8
}

// TCP states as /proc/net/tcp numbers them (include/net/tcp_states.h).
const (
	TCP_ESTABLISHED = 1
	TCP_SYN_SENT    = 2
	TCP_SYN_RECV    = 3
	TCP_FIN_WAIT1   = 4
	TCP_FIN_WAIT2   = 5
	TCP_TIME_WAIT   = 6
	TCP_CLOSE       = 7
	TCP_CLOSE_WAIT  = 8
	TCP_LAST_ACK    = 9
	TCP_LISTEN      = 10
	TCP_CLOSING     = 11
)

// SocketInfo is one IP socket as /proc/net/{tcp,tcp6,udp,udp6} lists it.
type SocketInfo struct {
	// Family is AF_INET or AF_INET6; Type SOCK_STREAM or SOCK_DGRAM;
	// Protocol the IPPROTO_* number.
	Family, Type, Protocol int
	// LocalAddr/LocalPort and RemoteAddr/RemotePort are the endpoints
	// (ports in host order; addresses empty when unset).
	LocalAddr  []byte
	LocalPort  uint16
	RemoteAddr []byte
	RemotePort uint16
	// State is a TCP_* state (UDP sockets use TCP_CLOSE, or
	// TCP_ESTABLISHED once connected, as Linux shows them).
	State uint8
	// TxQueue and RxQueue are the bytes queued to send and to read.
	TxQueue, RxQueue uint32
	// UID is the socket owner's uid; Inode its sockfs inode number.
	UID   uint32
	Inode uint64
}

// Stack is a sandbox's network stack as reporting code sees it.
type Stack interface {
	// Interfaces returns the interfaces in index order.
	Interfaces() []Interface
	// InterfaceAddrs returns the addresses of each interface, by index.
	InterfaceAddrs() map[int32][]InterfaceAddr
	// Routes returns the routing table.
	Routes() []Route
	// Sockets returns the IP sockets of the sandbox (none for a stack
	// that cannot enumerate them).
	Sockets() []SocketInfo
}

// UnixSocketInfo is one AF_UNIX socket as /proc/net/unix lists it.
type UnixSocketInfo struct {
	// Inode is the sockfs inode number; Type SOCK_STREAM, SOCK_DGRAM or
	// SOCK_SEQPACKET.
	Inode uint64
	Type  int
	// Listening is set for a listening socket (__SO_ACCEPTCON in Flags).
	Listening bool
	// State is SS_UNCONNECTED (1), SS_CONNECTED (3) or the like
	// (include/uapi/linux/net.h).
	State int
	// Path is the bound name: a path, "@name" for an abstract one, or
	// empty.
	Path string
}

// unixMu protects unixLister.
var unixMu sync.Mutex

// unixLister lists the sandbox's AF_UNIX sockets; set by the AF_UNIX
// implementation, which cannot be imported from where it is needed.
var unixLister func() []UnixSocketInfo

// SetUnixLister makes f the source of UnixSockets.
func SetUnixLister(f func() []UnixSocketInfo) {
	unixMu.Lock()
	defer unixMu.Unlock()
	unixLister = f
}

// UnixSockets returns the AF_UNIX sockets of the sandbox (nil if none are
// registered).
func UnixSockets() []UnixSocketInfo {
	unixMu.Lock()
	f := unixLister
	unixMu.Unlock()
	if f == nil {
		return nil
	}
	return f()
}
