package hostinet

import (
	"encoding/binary"
	"log/slog"
	"slices"
	"syscall"

	"github.com/runsc-lite/runsc-lite/sentry/inet"
)

// Stack is the host's network stack as the sandbox reports it (netlink,
// SIOCGIF* answered from it, /proc/net): interfaces, addresses and routes
// read once, when it is made. It cannot list the sandbox's sockets.
type Stack struct {
	interfaces []inet.Interface
	addrs      map[int32][]inet.InterfaceAddr
	routes     []inet.Route
}

var _ inet.Stack = (*Stack)(nil)

// NewStack reads the host's interfaces, addresses and routes with
// NETLINK_ROUTE dumps. It must run before the sandbox's wall goes up; what
// cannot be read is left empty (and logged).
func NewStack() inet.Stack {
	s := &Stack{addrs: map[int32][]inet.InterfaceAddr{}}
	if err := s.readLinks(); err != nil {
		slog.Warn("hostinet: reading host interfaces", "err", err)
	}
	if err := s.readAddrs(); err != nil {
		slog.Warn("hostinet: reading host addresses", "err", err)
	}
	if err := s.readRoutes(); err != nil {
		slog.Warn("hostinet: reading host routes", "err", err)
	}
	return s
}

// Interfaces implements inet.Stack.
func (s *Stack) Interfaces() []inet.Interface { return slices.Clone(s.interfaces) }

// InterfaceAddrs implements inet.Stack.
func (s *Stack) InterfaceAddrs() map[int32][]inet.InterfaceAddr {
	m := make(map[int32][]inet.InterfaceAddr, len(s.addrs))
	for k, v := range s.addrs {
		m[k] = slices.Clone(v)
	}
	return m
}

// Routes implements inet.Stack.
func (s *Stack) Routes() []inet.Route { return slices.Clone(s.routes) }

// Sockets implements inet.Stack: the host's socket tables are not the
// sandbox's, so none are listed.
func (s *Stack) Sockets() []inet.SocketInfo { return nil }

// dump returns the messages of type typ from a NETLINK_ROUTE dump of req
// (RTM_GETLINK, ...) with their attributes.
func dump(req, typ int) ([]rtMessage, error) {
	b, err := syscall.NetlinkRIB(req, syscall.AF_UNSPEC)
	if err != nil {
		return nil, err
	}
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		return nil, err
	}
	var out []rtMessage
	for i := range msgs {
		m := &msgs[i]
		if int(m.Header.Type) != typ {
			continue
		}
		attrs, err := syscall.ParseNetlinkRouteAttr(m)
		if err != nil {
			return nil, err
		}
		out = append(out, rtMessage{data: m.Data, attrs: attrs})
	}
	return out, nil
}

// rtMessage is one route netlink message: its fixed header in data, and
// its attributes.
type rtMessage struct {
	data  []byte
	attrs []syscall.NetlinkRouteAttr
}

// attr returns the value of attribute typ, or nil.
func (m rtMessage) attr(typ uint16) []byte {
	for _, a := range m.attrs {
		if a.Attr.Type == typ {
			return a.Value
		}
	}
	return nil
}

// attrU32 returns attribute typ as a native-endian uint32, or def.
func (m rtMessage) attrU32(typ uint16, def uint32) uint32 {
	if v := m.attr(typ); len(v) >= 4 {
		return binary.NativeEndian.Uint32(v)
	}
	return def
}

// Link attributes, from <linux/if_link.h>.
const (
	iflaAddress = 1
	iflaIfname  = 3
	iflaMTU     = 4
	iflaStats   = 7
	iflaStats64 = 23
)

// readLinks reads the interfaces (RTM_NEWLINK: struct ifinfomsg, then
// attributes).
func (s *Stack) readLinks() error {
	msgs, err := dump(syscall.RTM_GETLINK, syscall.RTM_NEWLINK)
	if err != nil {
		return err
	}
	ne := binary.NativeEndian
	for _, m := range msgs {
		if len(m.data) < syscall.SizeofIfInfomsg {
			continue
		}
		ifi := inet.Interface{
			Type:  ne.Uint16(m.data[2:]),
			Index: int32(ne.Uint32(m.data[4:])),
			Flags: ne.Uint32(m.data[8:]),
			MTU:   m.attrU32(iflaMTU, 0),
		}
		if name := m.attr(iflaIfname); name != nil {
			ifi.Name = string(trimNUL(name))
		}
		if hw := m.attr(iflaAddress); hw != nil {
			ifi.HardwareAddr = slices.Clone(hw)
		}
		if st := m.attr(iflaStats64); len(st) >= 8*8 {
			// struct rtnl_link_stats64 starts rx_packets, tx_packets,
			// rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped,
			// tx_dropped.
			u := func(i int) uint64 { return ne.Uint64(st[8*i:]) }
			ifi.Stats = inet.InterfaceStats{
				RxPackets: u(0), TxPackets: u(1), RxBytes: u(2), TxBytes: u(3),
				RxErrors: u(4), TxErrors: u(5), RxDropped: u(6), TxDropped: u(7),
			}
		} else if st := m.attr(iflaStats); len(st) >= 4*8 {
			u := func(i int) uint64 { return uint64(ne.Uint32(st[4*i:])) }
			ifi.Stats = inet.InterfaceStats{
				RxPackets: u(0), TxPackets: u(1), RxBytes: u(2), TxBytes: u(3),
				RxErrors: u(4), TxErrors: u(5), RxDropped: u(6), TxDropped: u(7),
			}
		}
		s.interfaces = append(s.interfaces, ifi)
	}
	slices.SortFunc(s.interfaces, func(a, b inet.Interface) int { return int(a.Index - b.Index) })
	return nil
}

// trimNUL cuts b at its first NUL.
func trimNUL(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

// Address attributes, from <linux/if_addr.h>.
const (
	ifaAddress = 1
	ifaLocal   = 2
)

// readAddrs reads the addresses (RTM_NEWADDR: struct ifaddrmsg, then
// attributes). IFA_LOCAL is the interface's own address where it differs
// from IFA_ADDRESS (the peer's, on a point-to-point link).
func (s *Stack) readAddrs() error {
	msgs, err := dump(syscall.RTM_GETADDR, syscall.RTM_NEWADDR)
	if err != nil {
		return err
	}
	ne := binary.NativeEndian
	for _, m := range msgs {
		if len(m.data) < syscall.SizeofIfAddrmsg {
			continue
		}
		family := int(m.data[0])
		if family != inet.AF_INET && family != inet.AF_INET6 {
			continue
		}
		a := m.attr(ifaLocal)
		if a == nil {
			a = m.attr(ifaAddress)
		}
		if a == nil {
			continue
		}
		idx := int32(ne.Uint32(m.data[4:]))
		s.addrs[idx] = append(s.addrs[idx], inet.InterfaceAddr{
			Family:    family,
			PrefixLen: m.data[1],
			Flags:     m.data[2],
			Addr:      slices.Clone(a),
		})
	}
	return nil
}

// Route attributes, from <linux/rtnetlink.h>.
const (
	rtaDst     = 1
	rtaOIF     = 4
	rtaGateway = 5
	rtaPrefSrc = 7
)

// readRoutes reads the routing tables (RTM_NEWROUTE: struct rtmsg, then
// attributes), IPv4 and IPv6 only.
func (s *Stack) readRoutes() error {
	msgs, err := dump(syscall.RTM_GETROUTE, syscall.RTM_NEWROUTE)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if len(m.data) < syscall.SizeofRtMsg {
			continue
		}
		family := int(m.data[0])
		if family != inet.AF_INET && family != inet.AF_INET6 {
			continue
		}
		r := inet.Route{
			Family:          family,
			DstLen:          m.data[1],
			Dst:             slices.Clone(m.attr(rtaDst)),
			Gateway:         slices.Clone(m.attr(rtaGateway)),
			PrefSrc:         slices.Clone(m.attr(rtaPrefSrc)),
			OutputInterface: int32(m.attrU32(rtaOIF, 0)),
			// rtm_table; RT_TABLE_COMPAT (252) for a table beyond
			// 255, as Linux fills it in.
			Table:    m.data[4],
			Protocol: m.data[5],
			Scope:    m.data[6],
			Type:     m.data[7],
		}
		s.routes = append(s.routes, r)
	}
	return nil
}
