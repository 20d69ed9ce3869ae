package proc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/inet"
)

// /proc/[pid]/net (and /proc/net, a symlink to self/net): the sandbox's
// interfaces, routes and sockets, from Kernel.NetworkStack and
// inet.UnixSockets, formatted as the Linux files they imitate. Every
// process shares the sandbox's one network namespace. Kernel pointers
// (%pK) print as zeros, as Linux shows them to readers without
// CAP_SYSLOG under kptr_restrict.

// newNetDir builds /proc/[pid]/net; next numbers its inodes.
func newNetDir(k Kernel, next func(linux.FileMode) base) *staticDir {
	d := &staticDir{base: next(linux.S_IFDIR | 0o555)}
	stack := func() inet.Stack {
		if k == nil {
			return nil
		}
		return k.NetworkStack()
	}
	text := func(gen func(inet.Stack) []byte) vfs.Inode {
		return &file{base: next(linux.S_IFREG | 0o444), gen: func() []byte { return gen(stack()) }}
	}
	sockets := func(family, typ int) func(inet.Stack) []byte {
		return func(s inet.Stack) []byte { return netSocketsText(s, family, typ) }
	}
	d.entries = map[string]vfs.Inode{
		"dev":        text(netDevText),
		"if_inet6":   text(netIfInet6Text),
		"route":      text(netRouteText),
		"ipv6_route": text(netIPv6RouteText),
		"tcp":        text(sockets(inet.AF_INET, linux.SOCK_STREAM)),
		"tcp6":       text(sockets(inet.AF_INET6, linux.SOCK_STREAM)),
		"udp":        text(sockets(inet.AF_INET, linux.SOCK_DGRAM)),
		"udp6":       text(sockets(inet.AF_INET6, linux.SOCK_DGRAM)),
		"unix":       text(func(inet.Stack) []byte { return netUnixText(inet.UnixSockets()) }),
	}
	return d
}

// padLine pads a line to width with spaces and ends it, as seq_setwidth
// and seq_pad do for the IPv4 socket and route tables.
func padLine(b *strings.Builder, line string, width int) {
	b.WriteString(line)
	for i := len(line); i < width; i++ {
		b.WriteByte(' ')
	}
	b.WriteByte('\n')
}

// netDevText formats /proc/net/dev (net/core/net-procfs.c:dev_seq_show).
// The stacks count bytes, packets, errors and drops; the fifo, frame,
// compressed, multicast, colls and carrier columns are zero.
func netDevText(stack inet.Stack) []byte {
	var b strings.Builder
	b.WriteString("Inter-|   Receive                                                |  Transmit\n")
	b.WriteString(" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n")
	if stack == nil {
		return []byte(b.String())
	}
	for _, ifc := range stack.Interfaces() {
		st := &ifc.Stats
		fmt.Fprintf(&b, "%6s: %7d %7d %4d %4d %4d %5d %10d %9d %8d %7d %4d %4d %4d %5d %7d %10d\n",
			ifc.Name, st.RxBytes, st.RxPackets, st.RxErrors, st.RxDropped, 0, 0, 0, 0,
			st.TxBytes, st.TxPackets, st.TxErrors, st.TxDropped, 0, 0, 0, 0)
	}
	return []byte(b.String())
}

// hex32 prints 4 bytes of an address as the kernel prints a __be32 or one
// s6_addr32 word with %08X: as a host-order (little-endian) integer, so
// 127.0.0.1 is 0100007F.
func hex32(a []byte) string {
	return fmt.Sprintf("%02X%02X%02X%02X", a[3], a[2], a[1], a[0])
}

// ipv4Hex formats an IPv4 address for /proc/net/{tcp,udp,route}; an
// unset address is 00000000.
func ipv4Hex(a []byte) string {
	if len(a) != 4 {
		return "00000000"
	}
	return hex32(a)
}

// ipv6Hex formats an IPv6 address for /proc/net/{tcp6,udp6}: the four
// s6_addr32 words, each with %08X. An IPv4 address is shown v4-mapped,
// as a dual-stack socket's is.
func ipv6Hex(a []byte) string {
	switch len(a) {
	case 16:
	case 4:
		a = append([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, a...)
	default:
		a = make([]byte, 16)
	}
	return hex32(a[0:4]) + hex32(a[4:8]) + hex32(a[8:12]) + hex32(a[12:16])
}

// ipv6Plain formats an IPv6 address as %pi6 does: 32 lower-case hex
// digits in network order (if_inet6, ipv6_route).
func ipv6Plain(a []byte) string {
	if len(a) != 16 {
		a = make([]byte, 16)
	}
	return fmt.Sprintf("%032x", a)
}

// kptr is a kernel pointer under kptr_restrict.
const kptr = "0000000000000000"

// TCP per-socket values the stacks do not expose, at their usual values:
// sk_refcnt, and jiffies_to_clock_t of the retransmission timeout (the
// initial 1 s for a listener, TCP_RTO_MIN's 200 ms once connected), the
// delayed-ACK timeout (not yet measured), the initial congestion window
// (TCP_INIT_CWND) and the slow-start threshold (-1: "initial slow
// start"; a listener shows its fastopen queue, 0).
const (
	tcpRefcnt      = 2
	tcpTWRefcnt    = 3
	tcpRTOListen   = 100
	tcpRTO         = 20
	tcpInitCwnd    = 10
	udpRefcnt      = 2
	unixRefcnt     = 2
	unixConnRefcnt = 3
)

// socketsOf returns the stack's sockets of one family and type: listeners
// first, as the kernel walks its listening hash before the established
// one, then by inode.
func socketsOf(stack inet.Stack, family, typ int) []inet.SocketInfo {
	if stack == nil {
		return nil
	}
	var out []inet.SocketInfo
	for _, s := range stack.Sockets() {
		if s.Family == family && s.Type == typ {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b inet.SocketInfo) int {
		al, bl := a.State == inet.TCP_LISTEN, b.State == inet.TCP_LISTEN
		switch {
		case al && !bl:
			return -1
		case bl && !al:
			return 1
		case a.Inode < b.Inode:
			return -1
		case a.Inode > b.Inode:
			return 1
		}
		return 0
	})
	return out
}

// netSocketsText formats /proc/net/tcp, tcp6, udp or udp6.
func netSocketsText(stack inet.Stack, family, typ int) []byte {
	socks := socketsOf(stack, family, typ)
	var b strings.Builder
	switch {
	case family == inet.AF_INET && typ == linux.SOCK_STREAM:
		// net/ipv4/tcp_ipv4.c:tcp4_seq_show, lines padded to TMPSZ-1.
		padLine(&b, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", 149)
		for i, s := range socks {
			padLine(&b, tcpLine(i, &s, ipv4Hex(s.LocalAddr), ipv4Hex(s.RemoteAddr)), 149)
		}
	case family == inet.AF_INET6 && typ == linux.SOCK_STREAM:
		// net/ipv6/tcp_ipv6.c:tcp6_seq_show: no padding.
		b.WriteString("  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
		for i, s := range socks {
			b.WriteString(tcpLine(i, &s, ipv6Hex(s.LocalAddr), ipv6Hex(s.RemoteAddr)))
			b.WriteByte('\n')
		}
	case family == inet.AF_INET:
		// net/ipv4/udp.c:udp4_seq_show, lines padded to 127.
		padLine(&b, "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops", 127)
		for _, s := range socks {
			padLine(&b, udpLine(&s, ipv4Hex(s.LocalAddr), ipv4Hex(s.RemoteAddr)), 127)
		}
	default:
		// net/ipv6/datagram.c:__ip6_dgram_sock_seq_show.
		b.WriteString("  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n")
		for _, s := range socks {
			b.WriteString(udpLine(&s, ipv6Hex(s.LocalAddr), ipv6Hex(s.RemoteAddr)))
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}

// tcpLine formats one TCP socket (get_tcp4_sock / get_tcp6_sock, or
// get_timewait4_sock for TIME_WAIT, which has no inode or owner) without
// its line end. Timers are never shown running.
func tcpLine(i int, s *inet.SocketInfo, local, remote string) string {
	head := fmt.Sprintf("%4d: %s:%04X %s:%04X %02X", i, local, s.LocalPort, remote, s.RemotePort, s.State)
	if s.State == inet.TCP_TIME_WAIT {
		return head + fmt.Sprintf(" %08X:%08X %02X:%08X %08X %5d %8d %d %d %s", 0, 0, 3, 0, 0, 0, 0, 0, tcpTWRefcnt, kptr)
	}
	rto, ssthresh := tcpRTO, -1
	if s.State == inet.TCP_LISTEN {
		rto, ssthresh = tcpRTOListen, 0
	}
	return head + fmt.Sprintf(" %08X:%08X %02X:%08X %08X %5d %8d %d %d %s %d %d %d %d %d",
		s.TxQueue, s.RxQueue, 0, 0, 0, s.UID, 0, s.Inode, tcpRefcnt, kptr, rto, 0, 0, tcpInitCwnd, ssthresh)
}

// udpLine formats one UDP socket (udp4_format_sock,
// __ip6_dgram_sock_seq_show) without its line end. "sl" is the socket's
// hash bucket, which is its local port in a table of 65536 buckets (the
// kernel also mixes in a per-namespace random value and sizes the table
// by memory); drops are not counted.
func udpLine(s *inet.SocketInfo, local, remote string) string {
	return fmt.Sprintf("%5d: %s:%04X %s:%04X %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %s %d",
		s.LocalPort, local, s.LocalPort, remote, s.RemotePort, s.State,
		s.TxQueue, s.RxQueue, 0, 0, 0, s.UID, 0, s.Inode, udpRefcnt, kptr, 0)
}

// soAcceptCon is __SO_ACCEPTCON from <linux/net.h>: the Flags of a
// listening socket.
const soAcceptCon = 1 << 16

// Socket states of struct socket, from <linux/net.h>.
const ssConnected = 3

// netUnixText formats /proc/net/unix (net/unix/af_unix.c:unix_seq_show).
func netUnixText(socks []inet.UnixSocketInfo) []byte {
	var b strings.Builder
	b.WriteString("Num       RefCount Protocol Flags    Type St Inode Path\n")
	for _, s := range socks {
		flags, refs := 0, unixRefcnt
		if s.Listening {
			flags = soAcceptCon
		}
		if s.State == ssConnected {
			refs = unixConnRefcnt
		}
		fmt.Fprintf(&b, "%s: %08X %08X %08X %04X %02X %5d", kptr, refs, 0, flags, s.Type, s.State, s.Inode)
		if s.Path != "" {
			b.WriteByte(' ')
			b.WriteString(s.Path)
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// IPv6 address scopes as if_inet6 shows them (IPV6_ADDR_SCOPE_* shifted
// into IPV6_ADDR_SCOPE_MASK, include/net/ipv6.h).
const (
	ipv6ScopeGlobal = 0x00
	ipv6ScopeHost   = 0x10 // IPV6_ADDR_LOOPBACK
	ipv6ScopeLink   = 0x20 // IPV6_ADDR_LINKLOCAL
	ipv6ScopeSite   = 0x40 // IPV6_ADDR_SITELOCAL
)

// ipv6Scope returns an address's if_inet6 scope
// (net/ipv6/addrconf_core.c:__ipv6_addr_type).
func ipv6Scope(a []byte) int {
	switch {
	case len(a) != 16:
		return ipv6ScopeGlobal
	case a[0] == 0xfe && a[1]&0xc0 == 0x80:
		return ipv6ScopeLink
	case a[0] == 0xfe && a[1]&0xc0 == 0xc0:
		return ipv6ScopeSite
	}
	for _, c := range a[:15] {
		if c != 0 {
			return ipv6ScopeGlobal
		}
	}
	if a[15] == 1 {
		return ipv6ScopeHost
	}
	return ipv6ScopeGlobal
}

// netIfInet6Text formats /proc/net/if_inet6
// (net/ipv6/addrconf.c:if6_seq_show), interface by interface.
func netIfInet6Text(stack inet.Stack) []byte {
	if stack == nil {
		return nil
	}
	var b strings.Builder
	addrs := stack.InterfaceAddrs()
	for _, ifc := range stack.Interfaces() {
		for _, a := range addrs[ifc.Index] {
			if a.Family != inet.AF_INET6 || len(a.Addr) != 16 {
				continue
			}
			fmt.Fprintf(&b, "%s %02x %02x %02x %02x %8s\n", ipv6Plain(a.Addr), ifc.Index, a.PrefixLen, ipv6Scope(a.Addr), a.Flags, ifc.Name)
		}
	}
	return []byte(b.String())
}

// Route flags, from <linux/route.h> and <linux/ipv6_route.h>.
const (
	rtfUp        = 0x0001
	rtfGateway   = 0x0002
	rtfHost      = 0x0004
	rtfReject    = 0x0200
	rtfNonexthop = 0x00200000
	rtfLocal     = 0x80000000
)

// ifName returns the name of interface idx, or "*" when there is none.
func ifName(ifcs []inet.Interface, idx int32) string {
	for _, ifc := range ifcs {
		if ifc.Index == idx {
			return ifc.Name
		}
	}
	return "*"
}

// netRouteText formats /proc/net/route
// (net/ipv4/fib_trie.c:fib_route_seq_show): the IPv4 main table without
// broadcast and multicast routes, lines padded to 127. The stacks keep
// no metrics, MSS, window or RTT.
func netRouteText(stack inet.Stack) []byte {
	var b strings.Builder
	padLine(&b, "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT", 127)
	if stack == nil {
		return []byte(b.String())
	}
	ifcs := stack.Interfaces()
	for _, r := range stack.Routes() {
		if r.Family != inet.AF_INET || r.Table != inet.RT_TABLE_MAIN || r.Type == linux.RTN_BROADCAST || r.Type == linux.RTN_MULTICAST {
			continue
		}
		// fib_flag_trans.
		flags := rtfUp
		if r.Type == linux.RTN_UNREACHABLE || r.Type == linux.RTN_PROHIBIT {
			flags |= rtfReject
		}
		if len(r.Gateway) == 4 {
			flags |= rtfGateway
		}
		if r.DstLen == 32 {
			flags |= rtfHost
		}
		mask := uint32(0)
		if r.DstLen > 0 {
			mask = ^uint32(0) << (32 - min(r.DstLen, 32))
		}
		maskBytes := []byte{byte(mask >> 24), byte(mask >> 16), byte(mask >> 8), byte(mask)}
		padLine(&b, fmt.Sprintf("%s\t%s\t%s\t%04X\t%d\t%d\t%d\t%s\t%d\t%d\t%d",
			ifName(ifcs, r.OutputInterface), ipv4Hex(r.Dst), ipv4Hex(r.Gateway), flags, 0, 0, 0,
			hex32(maskBytes), 0, 0, 0), 127)
	}
	return []byte(b.String())
}

// netIPv6RouteText formats /proc/net/ipv6_route
// (net/ipv6/route.c:ipv6_route_native_seq_show): every table. Metrics
// are the kernel's defaults (see ip6Metric); the reference count is 1.
func netIPv6RouteText(stack inet.Stack) []byte {
	if stack == nil {
		return nil
	}
	var b strings.Builder
	ifcs := stack.Interfaces()
	zero := ipv6Plain(nil)
	for _, r := range stack.Routes() {
		if r.Family != inet.AF_INET6 {
			continue
		}
		flags := uint32(rtfUp)
		gw := zero
		if len(r.Gateway) == 16 {
			flags |= rtfGateway
			gw = ipv6Plain(r.Gateway)
		}
		if r.Type == linux.RTN_LOCAL {
			flags |= rtfLocal | rtfNonexthop
		}
		name := ""
		if r.OutputInterface != 0 {
			name = ifName(ifcs, r.OutputInterface)
		}
		fmt.Fprintf(&b, "%s %02x %s %02x %s %08x %08x %08x %08x %8s\n",
			ipv6Plain(r.Dst), r.DstLen, zero, 0, gw, ip6Metric(&r), 1, 0, flags, name)
	}
	return []byte(b.String())
}

// ip6Metric is an IPv6 route's metric when the stack keeps none: 0 in
// the local table, IP6_RT_PRIO_USER (1024) for a route via a gateway (a
// default route), IP6_RT_PRIO_ADDRCONF (256) for the prefix routes of
// addresses (include/net/ip6_route.h). rtnetlink reports the same.
func ip6Metric(r *inet.Route) uint32 {
	switch {
	case r.Table == inet.RT_TABLE_LOCAL:
		return 0
	case len(r.Gateway) > 0:
		return 1024
	}
	return 256
}
