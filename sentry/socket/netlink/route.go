package netlink

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/inet"
	"github.com/runsc-lite/runsc-lite/sentry/socket/ifioctl"
)

// The kernel side of NETLINK_ROUTE: requests are handled synchronously,
// in the sender's sendmsg, as net/netlink/af_netlink.c:netlink_rcv_skb
// runs net/core/rtnetlink.c:rtnetlink_rcv_msg for each message, and the
// replies go to the sender's receive queue.

// processLocked handles the messages of one sendmsg to the kernel
// (netlink_rcv_skb): each complete message is answered in turn; a
// truncated one ends the batch silently. Messages that are not requests,
// and control messages, are only acknowledged (with NLM_F_ACK). admin
// is whether the sender has CAP_NET_ADMIN.
//
// Preconditions: s.mu is held.
func (s *Socket) processLocked(stack inet.Stack, data []byte, admin bool) {
	for len(data) >= linux.SizeofNlMsghdr {
		var h linux.NlMsghdr
		h.UnmarshalBytes(data)
		if h.Len < linux.SizeofNlMsghdr || int(h.Len) > len(data) {
			return
		}
		req := data[:h.Len]
		var err error
		ack := true
		if h.Flags&linux.NLM_F_REQUEST != 0 && h.Type >= linux.NLMSG_MIN_TYPE {
			var dumping bool
			err, dumping = s.rtnetlinkLocked(stack, &h, req, admin)
			// A dump answers with its messages and NLMSG_DONE
			// instead of an acknowledgement (netlink_dump_start's
			// -EINTR skips it).
			ack = !dumping
		}
		if ack && (h.Flags&linux.NLM_F_ACK != 0 || err != nil) {
			s.ackLocked(&h, req, err)
		}
		next := min(linux.NlmsgAlign(int(h.Len)), len(data))
		data = data[next:]
	}
}

// RTM_GET* kinds: the low two bits of type-RTM_BASE
// (include/uapi/linux/rtnetlink.h: NEW, DEL, GET, SET).
const kindGet = 2

// rtnetlinkLocked answers one request as rtnetlink_rcv_msg: EOPNOTSUPP
// beyond RTM_MAX, nothing for a message without even a family byte, EPERM
// for a change without CAP_NET_ADMIN (before the type is looked up), then
// a dump (NLM_F_DUMP: either of its bits) or a single answer. dumping
// reports that a dump was started.
//
// Preconditions: s.mu is held.
func (s *Socket) rtnetlinkLocked(stack inet.Stack, h *linux.NlMsghdr, req []byte, admin bool) (err error, dumping bool) {
	if h.Type > linux.RTM_MAX {
		return errno.EOPNOTSUPP, false
	}
	payload := req[linux.SizeofNlMsghdr:]
	// "All the messages must have at least 1 byte length".
	if len(payload) < linux.SizeofRtGenmsg {
		return nil, false
	}
	family := payload[0]
	kind := (h.Type - linux.RTM_BASE) & 3
	if kind != kindGet {
		if !admin {
			return errno.EPERM, false
		}
		// The sandbox's network is configured by the sentry; nothing
		// here changes it.
		return errno.EOPNOTSUPP, false
	}
	if h.Flags&linux.NLM_F_DUMP != 0 {
		msgs, ok := dumpMessages(stack, h.Type, family, h.Seq, s.portID)
		if !ok {
			return errno.EOPNOTSUPP, false
		}
		if s.dump != nil {
			// __netlink_dump_start: one dump at a time per socket.
			return errno.EBUSY, false
		}
		done := newBuilder(linux.NLMSG_DONE, linux.NLM_F_MULTI, h.Seq, s.portID)
		done.data(make([]byte, 4)) // dump_done_errno: 0
		s.dump = &dump{msgs: msgs, done: done.finish()}
		s.fillLocked()
		return nil, true
	}
	switch h.Type {
	case linux.RTM_GETLINK:
		return s.getLinkLocked(stack, h, payload), false
	}
	// RTM_GETADDR has no single-address form for IPv4; RTM_GETROUTE's
	// route lookup ("ip route get") is not implemented.
	return errno.EOPNOTSUPP, false
}

// ackLocked queues the NLMSG_ERROR answering req (netlink_ack): the errno
// (0 for an acknowledgement) and the request, whole if it failed and
// NETLINK_CAP_ACK is off, else only its header (NLM_F_CAPPED).
//
// Preconditions: s.mu is held.
func (s *Socket) ackLocked(h *linux.NlMsghdr, req []byte, err error) {
	var code int32
	if err != nil {
		e, ok := err.(errno.Errno)
		if !ok {
			e = errno.EINVAL
		}
		code = -int32(e)
	}
	echo := req
	var flags uint16
	if code == 0 || s.opts.capAck {
		echo = req[:linux.SizeofNlMsghdr]
		flags |= linux.NLM_F_CAPPED
	}
	m := newBuilder(linux.NLMSG_ERROR, flags, h.Seq, s.portID)
	m.data(binary.LittleEndian.AppendUint32(nil, uint32(code)))
	m.data(echo)
	s.unicastLocked(m.finish())
}

// dumpMessages returns the messages of a dump of type typ for family, or
// ok false if the type has no dump. rtnetlink falls back to the
// PF_UNSPEC handler for a family with none of its own, which dumps every
// family (rtnl_dump_all): IPv4, then IPv6.
func dumpMessages(stack inet.Stack, typ uint16, family uint8, seq, pid uint32) (msgs [][]byte, ok bool) {
	switch typ {
	case linux.RTM_GETLINK:
		// Links have only the PF_UNSPEC dump: the family is ignored.
		for _, ifc := range interfaces(stack) {
			msgs = append(msgs, linkMessage(&ifc, linux.NLM_F_MULTI, seq, pid))
		}
		return msgs, true
	case linux.RTM_GETADDR:
		var addrs map[int32][]inet.InterfaceAddr
		if stack != nil {
			addrs = stack.InterfaceAddrs()
		}
		ifcs := interfaces(stack)
		for _, fam := range families(family) {
			for i := range ifcs {
				for _, a := range addrs[ifcs[i].Index] {
					if a.Family == fam {
						msgs = append(msgs, addrMessage(&ifcs[i], &a, linux.NLM_F_MULTI, seq, pid))
					}
				}
			}
		}
		return msgs, true
	case linux.RTM_GETROUTE:
		if family == linux.RTNL_FAMILY_IPMR || family == linux.RTNL_FAMILY_IP6MR {
			// The multicast routing tables: the sandbox has none.
			return nil, true
		}
		var routes []inet.Route
		if stack != nil {
			routes = stack.Routes()
		}
		for _, fam := range families(family) {
			for _, r := range routes {
				if r.Family == fam {
					msgs = append(msgs, routeMessage(&r, linux.NLM_F_MULTI, seq, pid))
				}
			}
		}
		return msgs, true
	case linux.RTM_GETNEIGH:
		// "ip neigh": the stacks do not expose their neighbour caches,
		// so the dump is empty, as for a loopback-only Linux.
		return nil, true
	}
	return nil, false
}

// families returns the address families a dump for family covers.
func families(family uint8) []int {
	switch family {
	case linux.AF_INET:
		return []int{inet.AF_INET}
	case linux.AF_INET6:
		return []int{inet.AF_INET6}
	}
	return []int{inet.AF_INET, inet.AF_INET6}
}

func interfaces(stack inet.Stack) []inet.Interface {
	if stack == nil {
		return nil
	}
	return stack.Interfaces()
}

// getLinkLocked answers a single RTM_GETLINK (rtnl_getlink): the link
// with ifi_index, or else the one IFLA_IFNAME or IFLA_ALT_IFNAME names.
//
// Preconditions: s.mu is held.
func (s *Socket) getLinkLocked(stack inet.Stack, h *linux.NlMsghdr, payload []byte) error {
	// nlmsg_parse fails on a message shorter than its family header.
	if len(payload) < linux.SizeofIfInfomsg {
		return errno.EINVAL
	}
	var ifi linux.IfInfomsg
	ifi.UnmarshalBytes(payload)
	var name string
	hasName := false
	for _, a := range parseAttrs(payload[linux.NlmsgAlign(linux.SizeofIfInfomsg):]) {
		limit := 0
		switch a.typ {
		case linux.IFLA_IFNAME:
			limit = linux.IFNAMSIZ - 1
		case linux.IFLA_ALT_IFNAME:
			limit = altIfnameSize - 1
		default:
			continue
		}
		v := a.value
		for i, c := range v {
			if c == 0 {
				v = v[:i]
				break
			}
		}
		// ifla_policy's NLA_STRING length limits.
		if len(v) > limit {
			return errno.ERANGE
		}
		name, hasName = string(v), true
	}
	var (
		ifc inet.Interface
		ok  bool
	)
	switch {
	case ifi.Index > 0:
		ifc, ok = ifioctl.InterfaceByIndex(stack, ifi.Index)
	case hasName:
		ifc, ok = ifioctl.InterfaceByName(stack, name)
	default:
		return errno.EINVAL
	}
	if !ok {
		return errno.ENODEV
	}
	s.unicastLocked(linkMessage(&ifc, 0, h.Seq, s.portID))
	return nil
}

// altIfnameSize is ALTIFNAMSIZ, the size of an alternative name buffer.
const altIfnameSize = 128

// operState returns IFLA_OPERSTATE, as rtnl_fill_ifinfo reports it:
// IF_OPER_DOWN when not running, IF_OPER_UNKNOWN for loopback (whose
// driver never sets one: "state UNKNOWN" in ip-link), else by carrier.
func operState(ifc *inet.Interface) uint8 {
	switch {
	case ifc.Flags&inet.IFF_UP == 0:
		return linux.IF_OPER_DOWN
	case ifc.Flags&inet.IFF_LOOPBACK != 0:
		return linux.IF_OPER_UNKNOWN
	case ifc.Flags&(inet.IFF_LOWER_UP|inet.IFF_RUNNING) != 0:
		return linux.IF_OPER_UP
	}
	return linux.IF_OPER_DOWN
}

// linkMessage encodes ifc as an RTM_NEWLINK, with the attributes of
// net/core/rtnetlink.c:rtnl_fill_ifinfo that iproute2, glibc's
// getifaddrs and Go's net.Interfaces read, in the kernel's order.
func linkMessage(ifc *inet.Interface, flags uint16, seq, pid uint32) []byte {
	m := newBuilder(linux.RTM_NEWLINK, flags, seq, pid)
	hdr := make([]byte, linux.SizeofIfInfomsg)
	ifi := linux.IfInfomsg{Family: linux.AF_UNSPEC, Type: ifc.Type, Index: ifc.Index, Flags: ifc.Flags}
	ifi.MarshalBytes(hdr)
	m.data(hdr)
	m.attrString(linux.IFLA_IFNAME, ifc.Name)
	m.attrU32(linux.IFLA_TXQLEN, ifioctl.TxQueueLen)
	m.attrU8(linux.IFLA_OPERSTATE, operState(ifc))
	m.attrU8(linux.IFLA_LINKMODE, 0) // IF_LINK_MODE_DEFAULT
	m.attrU32(linux.IFLA_MTU, ifc.MTU)
	m.attrU32(linux.IFLA_GROUP, 0) // INIT_NETDEV_GROUP: "group default"
	promisc := uint32(0)
	if ifc.Flags&inet.IFF_PROMISC != 0 {
		promisc = 1
	}
	m.attrU32(linux.IFLA_PROMISCUITY, promisc)
	m.attrU32(linux.IFLA_NUM_TX_QUEUES, 1)
	m.attrU32(linux.IFLA_NUM_RX_QUEUES, 1)
	// netif_carrier_ok: a running link has carrier when LOWER_UP; a
	// link that is down keeps whatever it had, which we take as carrier.
	carrier := uint8(0)
	if ifc.Flags&inet.IFF_LOWER_UP != 0 || ifc.Flags&inet.IFF_UP == 0 {
		carrier = 1
	}
	m.attrU8(linux.IFLA_CARRIER, carrier)
	m.attrU8(linux.IFLA_PROTO_DOWN, 0)
	if n := len(ifc.HardwareAddr); n > 0 {
		// dev->broadcast: all ones on Ethernet, zeros on loopback and
		// the rest.
		brd := make([]byte, n)
		if ifc.Type == inet.ARPHRD_ETHER {
			for i := range brd {
				brd[i] = 0xff
			}
		}
		m.attr(linux.IFLA_ADDRESS, ifc.HardwareAddr)
		m.attr(linux.IFLA_BROADCAST, brd)
	}
	m.attr(linux.IFLA_STATS64, stats64(&ifc.Stats))
	m.attr(linux.IFLA_STATS, stats32(&ifc.Stats))
	// Netstack queues nothing in front of a link: "qdisc noqueue", as
	// Linux shows for loopback and virtual links.
	m.attrString(linux.IFLA_QDISC, "noqueue")
	return m.finish()
}

// statsFields are the leading fields of struct rtnl_link_stats{,64} that
// inet.InterfaceStats has, in the structs' order; the rest are zero.
func statsFields(st *inet.InterfaceStats) []uint64 {
	return []uint64{st.RxPackets, st.TxPackets, st.RxBytes, st.TxBytes, st.RxErrors, st.TxErrors, st.RxDropped, st.TxDropped}
}

func stats64(st *inet.InterfaceStats) []byte {
	b := make([]byte, linux.SizeofRtnlLinkStats64)
	for i, v := range statsFields(st) {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return b
}

// stats32 is struct rtnl_link_stats: the counters truncated to 32 bits,
// as copy_rtnl_link_stats does.
func stats32(st *inet.InterfaceStats) []byte {
	b := make([]byte, linux.SizeofRtnlLinkStats)
	for i, v := range statsFields(st) {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return b
}

// addrScope returns an address's scope. The kernel stores the one it was
// configured with; these are the defaults: 127/8 is host scope (as
// iproute2's default_scope and the kernel's own loopback setup give it),
// and IPv6 scopes follow net/ipv6/addrconf_core.c:__ipv6_addr_type.
func addrScope(a *inet.InterfaceAddr) uint8 {
	if a.Family == inet.AF_INET {
		if len(a.Addr) == 4 && a.Addr[0] == 127 {
			return linux.RT_SCOPE_HOST
		}
		return linux.RT_SCOPE_UNIVERSE
	}
	if len(a.Addr) != 16 {
		return linux.RT_SCOPE_UNIVERSE
	}
	switch {
	case isIPv6Loopback(a.Addr):
		return linux.RT_SCOPE_HOST
	case a.Addr[0] == 0xfe && a.Addr[1]&0xc0 == 0x80:
		return linux.RT_SCOPE_LINK
	case a.Addr[0] == 0xfe && a.Addr[1]&0xc0 == 0xc0:
		return linux.RT_SCOPE_SITE
	}
	return linux.RT_SCOPE_UNIVERSE
}

func isIPv6Loopback(a []byte) bool {
	for _, b := range a[:15] {
		if b != 0 {
			return false
		}
	}
	return a[15] == 1
}

// cacheInfo is a permanent address's struct ifa_cacheinfo: infinite
// lifetimes (what "valid_lft forever preferred_lft forever" shows);
// cstamp and tstamp, in hundredths of a second since boot, are not kept.
func cacheInfo() []byte {
	b := make([]byte, linux.SizeofIfaCacheinfo)
	binary.LittleEndian.PutUint32(b[0:], linux.INFINITY_LIFE_TIME)
	binary.LittleEndian.PutUint32(b[4:], linux.INFINITY_LIFE_TIME)
	return b
}

// addrMessage encodes a, an address of ifc, as an RTM_NEWADDR in the
// attribute order of net/ipv4/devinet.c:inet_fill_ifaddr or
// net/ipv6/addrconf.c:inet6_fill_ifaddr. Go's net.InterfaceAddrs takes
// the first attribute after IFA_ADDRESS when IFA_LOCAL is present, so
// IFA_LOCAL must come second.
func addrMessage(ifc *inet.Interface, a *inet.InterfaceAddr, flags uint16, seq, pid uint32) []byte {
	m := newBuilder(linux.RTM_NEWADDR, flags, seq, pid)
	hdr := make([]byte, linux.SizeofIfAddrmsg)
	family := uint8(linux.AF_INET)
	if a.Family == inet.AF_INET6 {
		family = linux.AF_INET6
	}
	ifa := linux.IfAddrmsg{Family: family, PrefixLen: a.PrefixLen, Flags: a.Flags, Scope: addrScope(a), Index: uint32(ifc.Index)}
	ifa.MarshalBytes(hdr)
	m.data(hdr)
	if a.Family == inet.AF_INET {
		m.attr(linux.IFA_ADDRESS, a.Addr)
		m.attr(linux.IFA_LOCAL, a.Addr)
		if brd := ifioctl.Broadcast(ifc, a); brd != nil {
			m.attr(linux.IFA_BROADCAST, brd)
		}
		m.attrString(linux.IFA_LABEL, ifc.Name)
		m.attrU32(linux.IFA_FLAGS, uint32(a.Flags))
		m.attr(linux.IFA_CACHEINFO, cacheInfo())
	} else {
		m.attr(linux.IFA_ADDRESS, a.Addr)
		m.attr(linux.IFA_CACHEINFO, cacheInfo())
		m.attrU32(linux.IFA_FLAGS, uint32(a.Flags))
	}
	return m.finish()
}

// IPv6 route metrics, from include/net/ip6_route.h: routes of the
// addresses (IP6_RT_PRIO_ADDRCONF) and routes added by hand
// (IP6_RT_PRIO_USER), which default routes are. The stacks do not keep
// metrics; local-table routes have 0.
const (
	ip6RtPrioAddrconf = 256
	ip6RtPrioUser     = 1024
)

// routeMessage encodes r as an RTM_NEWROUTE, in the attribute order of
// net/ipv4/fib_semantics.c:fib_dump_info or, for IPv6, of
// net/ipv6/route.c:rt6_fill_node (which also always reports the metric,
// a cache info and the router preference).
func routeMessage(r *inet.Route, flags uint16, seq, pid uint32) []byte {
	m := newBuilder(linux.RTM_NEWROUTE, flags, seq, pid)
	hdr := make([]byte, linux.SizeofRtMsg)
	family := uint8(linux.AF_INET)
	if r.Family == inet.AF_INET6 {
		family = linux.AF_INET6
	}
	rtm := linux.RtMsg{Family: family, DstLen: r.DstLen, Table: r.Table, Protocol: r.Protocol, Scope: r.Scope, Type: r.Type}
	rtm.MarshalBytes(hdr)
	m.data(hdr)
	m.attrU32(linux.RTA_TABLE, uint32(r.Table))
	if r.DstLen > 0 && len(r.Dst) > 0 {
		m.attr(linux.RTA_DST, r.Dst)
	}
	if len(r.PrefSrc) > 0 {
		m.attr(linux.RTA_PREFSRC, r.PrefSrc)
	}
	if r.Family == inet.AF_INET6 {
		metric := uint32(ip6RtPrioAddrconf)
		switch {
		case r.Table == linux.RT_TABLE_LOCAL:
			metric = 0
		case len(r.Gateway) > 0:
			metric = ip6RtPrioUser
		}
		m.attrU32(linux.RTA_PRIORITY, metric)
	}
	if len(r.Gateway) > 0 {
		m.attr(linux.RTA_GATEWAY, r.Gateway)
	}
	if r.OutputInterface != 0 {
		m.attrU32(linux.RTA_OIF, uint32(r.OutputInterface))
	}
	if r.Family == inet.AF_INET6 {
		m.attr(linux.RTA_CACHEINFO, make([]byte, linux.SizeofRtaCacheinfo))
		m.attrU8(linux.RTA_PREF, linux.ICMPV6_ROUTER_PREF_MEDIUM)
	}
	return m.finish()
}
