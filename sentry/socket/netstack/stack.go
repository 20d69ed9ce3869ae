// Package netstack implements AF_INET and AF_INET6 sockets (TCP, UDP and
// ICMP echo "ping" sockets) in the sentry on gVisor's user-space TCP/IP
// stack, gvisor.dev/gvisor/pkg/tcpip, used as a library. No host socket is
// involved: a sandbox's stack has a loopback interface and nothing else, so
// nothing inside reaches the host's network or is reachable from it, except
// through the forwarder of --publish (forward.go), which the sentry runs on
// the host side.
//
// The glue follows the library's contract (../shared/design/netstack-notes.md):
// every endpoint call is non-blocking, tcpip.Error is converted to an errno
// once (errors.go), and blocking is the caller's job: the socket waits on its
// own vfs.WaitQueue, which netstack's waiter.Queue feeds through one bridge
// entry per socket.
package netstack

import (
	"fmt"
	"sort"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/sentry/inet"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// loopbackNIC is lo's NIC id, which is also its ifindex.
const loopbackNIC = 1

// loopbackMTU is lo's MTU, as Linux sets it.
const loopbackMTU = 65536

// Stack is one sandbox's network stack. It implements inet.Stack.
type Stack struct {
	s *stack.Stack

	// mu protects sockets.
	mu sync.Mutex
	// sockets are the live sockets, for /proc/net.
	sockets map[*Socket]struct{}
}

// NewLoopback returns a stack with only a loopback interface, lo, holding
// 127.0.0.1/8 and ::1/128 (--network=sandbox and --network=none).
func NewLoopback() (*Stack, error) {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
		// Packets to the stack's own addresses are delivered locally.
		HandleLocal: true,
	})
	// SACK is off by default in netstack and on in Linux; receive-buffer
	// auto-tuning needs ModerateRecvBuf after each read, which RecvMsg
	// does.
	sack := tcpip.TCPSACKEnabled(true)
	moderate := tcpip.TCPModerateReceiveBufferOption(true)
	// Linux's net.ipv4.tcp_{r,w}mem maxima, so that bulk transfers are
	// not window-limited on a link with a 64 KiB MTU.
	rcv := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: 6 << 20}
	snd := tcpip.TCPSendBufferSizeRangeOption{Min: 4096, Default: 1 << 20, Max: 4 << 20}
	// Nagle's algorithm is on by default in Linux (TCP_NODELAY reads 0).
	delay := tcpip.TCPDelayEnabled(true)
	for _, opt := range []tcpip.SettableTransportProtocolOption{&sack, &moderate, &rcv, &snd, &delay} {
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, opt); err != nil {
			s.Close()
			return nil, fmt.Errorf("netstack: tcp option %T: %s", opt, err)
		}
	}
	ttl := tcpip.DefaultTTLOption(64)
	for _, p := range []tcpip.NetworkProtocolNumber{ipv4.ProtocolNumber, ipv6.ProtocolNumber} {
		if err := s.SetNetworkProtocolOption(p, &ttl); err != nil {
			s.Close()
			return nil, fmt.Errorf("netstack: default TTL: %s", err)
		}
	}
	if err := s.CreateNICWithOptions(loopbackNIC, loopback.New(), stack.NICOptions{Name: "lo"}); err != nil {
		s.Close()
		return nil, fmt.Errorf("netstack: create lo: %s", err)
	}
	addrs := []tcpip.ProtocolAddress{
		{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4([4]byte{127, 0, 0, 1}), PrefixLen: 8}},
		{Protocol: ipv6.ProtocolNumber, AddressWithPrefix: header.IPv6Loopback.WithPrefix()},
	}
	for _, a := range addrs {
		if err := s.AddProtocolAddress(loopbackNIC, a, stack.AddressProperties{}); err != nil {
			s.Close()
			return nil, fmt.Errorf("netstack: add %s: %s", a.AddressWithPrefix, err)
		}
	}
	v4, err := tcpip.NewSubnet(tcpip.AddrFrom4([4]byte{127, 0, 0, 0}), tcpip.MaskFromBytes([]byte{255, 0, 0, 0}))
	if err != nil {
		s.Close()
		return nil, err
	}
	s.SetRouteTable([]tcpip.Route{
		{Destination: v4, NIC: loopbackNIC},
		{Destination: header.IPv6Loopback.WithPrefix().Subnet(), NIC: loopbackNIC},
	})
	return &Stack{s: s, sockets: map[*Socket]struct{}{}}, nil
}

// Stack returns the netstack stack (for the --publish forwarder).
func (st *Stack) Stack() *stack.Stack { return st.s }

// Register makes st the provider of AF_INET and AF_INET6 sockets. A
// runsc-lite process runs one sandbox, so providers are process-wide.
func (st *Stack) Register() {
	socket.Register(linux.AF_INET, provider{st: st, family: linux.AF_INET})
	socket.Register(linux.AF_INET6, provider{st: st, family: linux.AF_INET6})
}

// Close tears the stack down.
func (st *Stack) Close() {
	st.s.Close()
	st.s.Wait()
}

func (st *Stack) add(s *Socket) {
	st.mu.Lock()
	st.sockets[s] = struct{}{}
	st.mu.Unlock()
}

func (st *Stack) remove(s *Socket) {
	st.mu.Lock()
	delete(st.sockets, s)
	st.mu.Unlock()
}

// Interfaces implements inet.Stack.
func (st *Stack) Interfaces() []inet.Interface {
	var out []inet.Interface
	for id, nic := range st.s.NICInfo() {
		ifc := inet.Interface{
			Index: int32(id),
			Name:  nic.Name,
			MTU:   nic.MTU,
			Type:  uint16(nic.ARPHardwareType),
			Stats: inet.InterfaceStats{
				RxBytes: nic.Stats.Rx.Bytes.Value(), RxPackets: nic.Stats.Rx.Packets.Value(),
				TxBytes: nic.Stats.Tx.Bytes.Value(), TxPackets: nic.Stats.Tx.Packets.Value(),
			},
		}
		if nic.Flags.Up {
			ifc.Flags |= inet.IFF_UP
		}
		if nic.Flags.Running {
			ifc.Flags |= inet.IFF_RUNNING | inet.IFF_LOWER_UP
		}
		if nic.Flags.Loopback {
			ifc.Flags |= inet.IFF_LOOPBACK
			ifc.Type = inet.ARPHRD_LOOPBACK
			ifc.HardwareAddr = make([]byte, 6)
		} else {
			ifc.HardwareAddr = []byte(nic.LinkAddress)
		}
		if nic.Flags.Promiscuous {
			ifc.Flags |= inet.IFF_PROMISC
		}
		out = append(out, ifc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

// InterfaceAddrs implements inet.Stack. netstack gives every IPv4
// interface the limited broadcast address 255.255.255.255 as one of its
// own, which Linux does not list.
func (st *Stack) InterfaceAddrs() map[int32][]inet.InterfaceAddr {
	out := map[int32][]inet.InterfaceAddr{}
	for id, addrs := range st.s.AllAddresses() {
		for _, a := range addrs {
			if a.AddressWithPrefix.Address == header.IPv4Broadcast {
				continue
			}
			fam := inet.AF_INET
			if a.Protocol == ipv6.ProtocolNumber {
				fam = inet.AF_INET6
			}
			out[int32(id)] = append(out[int32(id)], inet.InterfaceAddr{
				Family:    fam,
				PrefixLen: uint8(a.AddressWithPrefix.PrefixLen),
				Flags:     0x80, // IFA_F_PERMANENT: configured, never expires.
				Addr:      a.AddressWithPrefix.Address.AsSlice(),
			})
		}
	}
	return out
}

// Routes implements inet.Stack, laid out as Linux lays out the same
// configuration: IPv4 routes to a loopback interface and a route to each
// local address sit in the local table (ip route show table local), the
// rest (::1/128 on lo) in the main table.
func (st *Stack) Routes() []inet.Route {
	var out []inet.Route
	nics := st.s.NICInfo()
	addrs := st.InterfaceAddrs()
	v4src := func(nic int32) []byte {
		for _, a := range addrs[nic] {
			if a.Family == inet.AF_INET {
				return a.Addr
			}
		}
		return nil
	}
	for _, r := range st.s.GetRouteTable() {
		dst := r.Destination.ID()
		fam := inet.AF_INET
		if dst.BitLen() == 128 {
			fam = inet.AF_INET6
		}
		rt := inet.Route{
			Family: fam, DstLen: uint8(r.Destination.Prefix()), OutputInterface: int32(r.NIC),
			Table: inet.RT_TABLE_MAIN, Protocol: inet.RTPROT_KERNEL, Scope: inet.RT_SCOPE_LINK, Type: inet.RTN_UNICAST,
		}
		if rt.DstLen > 0 {
			rt.Dst = dst.AsSlice()
		}
		if r.Gateway.Len() > 0 {
			rt.Gateway = r.Gateway.AsSlice()
			rt.Scope = inet.RT_SCOPE_UNIVERSE
			rt.Protocol = inet.RTPROT_BOOT
		}
		if fam == inet.AF_INET6 {
			rt.Scope = inet.RT_SCOPE_UNIVERSE
		} else if nic, ok := nics[r.NIC]; ok && nic.Flags.Loopback {
			rt.Table, rt.Type, rt.Scope = inet.RT_TABLE_LOCAL, inet.RTN_LOCAL, inet.RT_SCOPE_HOST
			rt.PrefSrc = v4src(int32(r.NIC))
		}
		out = append(out, rt)
	}
	ids := make([]int32, 0, len(addrs))
	for id := range addrs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		for _, a := range addrs[id] {
			bits := uint8(32)
			if a.Family == inet.AF_INET6 {
				bits = 128
			}
			if a.Family == inet.AF_INET && a.PrefixLen == 32 {
				continue
			}
			local := inet.Route{
				Family: a.Family, DstLen: bits, Dst: a.Addr, OutputInterface: id,
				Table: inet.RT_TABLE_LOCAL, Protocol: inet.RTPROT_KERNEL, Scope: inet.RT_SCOPE_HOST, Type: inet.RTN_LOCAL,
			}
			if a.Family == inet.AF_INET {
				local.PrefSrc = a.Addr
			} else {
				local.Scope = inet.RT_SCOPE_UNIVERSE
			}
			out = append(out, local)
		}
	}
	return out
}

// Sockets implements inet.Stack.
func (st *Stack) Sockets() []inet.SocketInfo {
	st.mu.Lock()
	socks := make([]*Socket, 0, len(st.sockets))
	for s := range st.sockets {
		socks = append(socks, s)
	}
	st.mu.Unlock()
	out := make([]inet.SocketInfo, 0, len(socks))
	for _, s := range socks {
		out = append(out, s.info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Inode < out[j].Inode })
	return out
}
