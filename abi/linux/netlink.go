package linux

import "encoding/binary"

// Netlink protocols, from <linux/netlink.h>.
const (
	NETLINK_ROUTE          = 0
	NETLINK_SOCK_DIAG      = 4
	NETLINK_AUDIT          = 9
	NETLINK_NETFILTER      = 12
	NETLINK_KOBJECT_UEVENT = 15
	NETLINK_GENERIC        = 16
	// MAX_LINKS bounds the protocol numbers socket(2) accepts.
	MAX_LINKS = 32
)

// SOL_NETLINK is the socket option level of netlink options, from
// <linux/socket.h>.
const SOL_NETLINK = 270

// SOL_NETLINK options, from <linux/netlink.h>.
const (
	NETLINK_ADD_MEMBERSHIP   = 1
	NETLINK_DROP_MEMBERSHIP  = 2
	NETLINK_PKTINFO          = 3
	NETLINK_BROADCAST_ERROR  = 4
	NETLINK_NO_ENOBUFS       = 5
	NETLINK_RX_RING          = 6
	NETLINK_TX_RING          = 7
	NETLINK_LISTEN_ALL_NSID  = 8
	NETLINK_LIST_MEMBERSHIPS = 9
	NETLINK_CAP_ACK          = 10
	NETLINK_EXT_ACK          = 11
	NETLINK_GET_STRICT_CHK   = 12
)

// nlmsg_flags, from <linux/netlink.h>.
const (
	NLM_F_REQUEST = 0x1
	NLM_F_MULTI   = 0x2
	NLM_F_ACK     = 0x4
	NLM_F_ECHO    = 0x8
	// Modifiers of GET requests.
	NLM_F_ROOT   = 0x100
	NLM_F_MATCH  = 0x200
	NLM_F_ATOMIC = 0x400
	NLM_F_DUMP   = NLM_F_ROOT | NLM_F_MATCH
	// Modifiers of NEW requests.
	NLM_F_REPLACE = 0x100
	NLM_F_EXCL    = 0x200
	NLM_F_CREATE  = 0x400
	NLM_F_APPEND  = 0x800
	// Flags of NLMSG_ERROR acknowledgements.
	NLM_F_CAPPED   = 0x100
	NLM_F_ACK_TLVS = 0x200
)

// Control message types, from <linux/netlink.h>: types below
// NLMSG_MIN_TYPE are reserved.
const (
	NLMSG_NOOP     = 0x1
	NLMSG_ERROR    = 0x2
	NLMSG_DONE     = 0x3
	NLMSG_OVERRUN  = 0x4
	NLMSG_MIN_TYPE = 0x10
)

// NLMSG_ALIGNTO is the alignment of netlink messages and of attributes
// (NLA_ALIGNTO and RTA_ALIGNTO are the same 4).
const NLMSG_ALIGNTO = 4

// NlmsgAlign is NLMSG_ALIGN(n) (and RTA_ALIGN, NLA_ALIGN).
func NlmsgAlign(n int) int { return (n + NLMSG_ALIGNTO - 1) &^ (NLMSG_ALIGNTO - 1) }

// Sizes of the netlink structures.
const (
	// SizeofNlMsghdr is sizeof(struct nlmsghdr), NLMSG_HDRLEN.
	SizeofNlMsghdr = 16
	// SizeofNlMsgerr is sizeof(struct nlmsgerr): the error and the
	// header of the request it answers.
	SizeofNlMsgerr = 4 + SizeofNlMsghdr
	// SizeofSockAddrNetlink is sizeof(struct sockaddr_nl).
	SizeofSockAddrNetlink = 12
	// SizeofRtAttr is sizeof(struct rtattr) (and of struct nlattr).
	SizeofRtAttr = 4
	// SizeofRtGenmsg is sizeof(struct rtgenmsg): the one-byte family
	// header of the oldest dump requests.
	SizeofRtGenmsg = 1
	// SizeofIfInfomsg is sizeof(struct ifinfomsg).
	SizeofIfInfomsg = 16
	// SizeofIfAddrmsg is sizeof(struct ifaddrmsg).
	SizeofIfAddrmsg = 8
	// SizeofRtMsg is sizeof(struct rtmsg).
	SizeofRtMsg = 12
	// SizeofIfaCacheinfo is sizeof(struct ifa_cacheinfo).
	SizeofIfaCacheinfo = 16
	// SizeofRtaCacheinfo is sizeof(struct rta_cacheinfo).
	SizeofRtaCacheinfo = 32
	// SizeofRtnlLinkIfmap is sizeof(struct rtnl_link_ifmap), padded.
	SizeofRtnlLinkIfmap = 32
	// SizeofRtnlLinkStats is sizeof(struct rtnl_link_stats): 24 __u32.
	SizeofRtnlLinkStats = 96
	// SizeofRtnlLinkStats64 is sizeof(struct rtnl_link_stats64): 25
	// __u64 (rx_otherhost_dropped is the last, since Linux 5.19).
	SizeofRtnlLinkStats64 = 200
)

// NlMsghdr is struct nlmsghdr.
type NlMsghdr struct {
	Len   uint32
	Type  uint16
	Flags uint16
	Seq   uint32
	PID   uint32
}

// MarshalBytes encodes h into dst, which must be SizeofNlMsghdr bytes long.
func (h *NlMsghdr) MarshalBytes(dst []byte) {
	le := binary.LittleEndian
	le.PutUint32(dst[0:], h.Len)
	le.PutUint16(dst[4:], h.Type)
	le.PutUint16(dst[6:], h.Flags)
	le.PutUint32(dst[8:], h.Seq)
	le.PutUint32(dst[12:], h.PID)
}

// UnmarshalBytes decodes h from src, which must be SizeofNlMsghdr bytes
// long.
func (h *NlMsghdr) UnmarshalBytes(src []byte) {
	le := binary.LittleEndian
	h.Len = le.Uint32(src[0:])
	h.Type = le.Uint16(src[4:])
	h.Flags = le.Uint16(src[6:])
	h.Seq = le.Uint32(src[8:])
	h.PID = le.Uint32(src[12:])
}

// SockAddrNetlink is struct sockaddr_nl.
type SockAddrNetlink struct {
	Family uint16
	_      uint16 // nl_pad
	PID    uint32
	Groups uint32
}

// MarshalBytes encodes a into dst, which must be SizeofSockAddrNetlink
// bytes long.
func (a *SockAddrNetlink) MarshalBytes(dst []byte) {
	le := binary.LittleEndian
	le.PutUint16(dst[0:], a.Family)
	le.PutUint16(dst[2:], 0)
	le.PutUint32(dst[4:], a.PID)
	le.PutUint32(dst[8:], a.Groups)
}

// UnmarshalBytes decodes a from src, which must be SizeofSockAddrNetlink
// bytes long.
func (a *SockAddrNetlink) UnmarshalBytes(src []byte) {
	le := binary.LittleEndian
	a.Family = le.Uint16(src[0:])
	a.PID = le.Uint32(src[4:])
	a.Groups = le.Uint32(src[8:])
}

// rtnetlink message types, from <linux/rtnetlink.h>. The low two bits of
// type-RTM_BASE are the kind: NEW, DEL, GET, SET.
const (
	RTM_BASE     = 16
	RTM_NEWLINK  = 16
	RTM_DELLINK  = 17
	RTM_GETLINK  = 18
	RTM_SETLINK  = 19
	RTM_NEWADDR  = 20
	RTM_DELADDR  = 21
	RTM_GETADDR  = 22
	RTM_NEWROUTE = 24
	RTM_DELROUTE = 25
	RTM_GETROUTE = 26
	RTM_NEWNEIGH = 28
	RTM_DELNEIGH = 29
	RTM_GETNEIGH = 30
	RTM_NEWRULE  = 32
	RTM_DELRULE  = 33
	RTM_GETRULE  = 34
	// RTM_MAX is (((__RTM_MAX + 3) & ~3) - 1) with RTM_GETTUNNEL the last
	// type, as of Linux 6.x.
	RTM_MAX = 123
)

// RTNLGRP_MAX is the number of rtnetlink multicast groups, from
// <linux/rtnetlink.h>.
const RTNLGRP_MAX = 36

// Families of rtnetlink requests beyond the AF_* ones, from
// <linux/rtnetlink.h>.
const (
	RTNL_FAMILY_IPMR  = 128
	RTNL_FAMILY_IP6MR = 129
)

// Link attributes (IFLA_*), from <linux/if_link.h>.
const (
	IFLA_UNSPEC          = 0
	IFLA_ADDRESS         = 1
	IFLA_BROADCAST       = 2
	IFLA_IFNAME          = 3
	IFLA_MTU             = 4
	IFLA_LINK            = 5
	IFLA_QDISC           = 6
	IFLA_STATS           = 7
	IFLA_TXQLEN          = 13
	IFLA_MAP             = 14
	IFLA_OPERSTATE       = 16
	IFLA_LINKMODE        = 17
	IFLA_STATS64         = 23
	IFLA_GROUP           = 27
	IFLA_EXT_MASK        = 29
	IFLA_PROMISCUITY     = 30
	IFLA_NUM_TX_QUEUES   = 31
	IFLA_NUM_RX_QUEUES   = 32
	IFLA_CARRIER         = 33
	IFLA_CARRIER_CHANGES = 35
	IFLA_PROTO_DOWN      = 39
	IFLA_ALT_IFNAME      = 53
)

// Operational states (IFLA_OPERSTATE), from <linux/if.h> (RFC 2863).
const (
	IF_OPER_UNKNOWN        = 0
	IF_OPER_NOTPRESENT     = 1
	IF_OPER_DOWN           = 2
	IF_OPER_LOWERLAYERDOWN = 3
	IF_OPER_TESTING        = 4
	IF_OPER_DORMANT        = 5
	IF_OPER_UP             = 6
)

// Address attributes (IFA_*), from <linux/if_addr.h>.
const (
	IFA_UNSPEC    = 0
	IFA_ADDRESS   = 1
	IFA_LOCAL     = 2
	IFA_LABEL     = 3
	IFA_BROADCAST = 4
	IFA_ANYCAST   = 5
	IFA_CACHEINFO = 6
	IFA_MULTICAST = 7
	IFA_FLAGS     = 8
)

// Address flags (IFA_F_*), from <linux/if_addr.h>.
const (
	IFA_F_NODAD     = 0x02
	IFA_F_PERMANENT = 0x80
)

// INFINITY_LIFE_TIME is the lifetime of a permanent address in struct
// ifa_cacheinfo (include/net/addrconf.h).
const INFINITY_LIFE_TIME = 0xffffffff

// Route attributes (RTA_*), from <linux/rtnetlink.h>.
const (
	RTA_UNSPEC    = 0
	RTA_DST       = 1
	RTA_SRC       = 2
	RTA_IIF       = 3
	RTA_OIF       = 4
	RTA_GATEWAY   = 5
	RTA_PRIORITY  = 6
	RTA_PREFSRC   = 7
	RTA_METRICS   = 8
	RTA_CACHEINFO = 12
	RTA_TABLE     = 15
	RTA_PREF      = 20
)

// Route types (RTN_*), protocols (RTPROT_*), scopes (RT_SCOPE_*) and
// tables (RT_TABLE_*), from <linux/rtnetlink.h>.
const (
	RTN_UNSPEC      = 0
	RTN_UNICAST     = 1
	RTN_LOCAL       = 2
	RTN_BROADCAST   = 3
	RTN_MULTICAST   = 5
	RTN_UNREACHABLE = 7
	RTN_PROHIBIT    = 8

	RTPROT_UNSPEC = 0
	RTPROT_KERNEL = 2
	RTPROT_BOOT   = 3
	RTPROT_STATIC = 4

	RT_SCOPE_UNIVERSE = 0
	RT_SCOPE_SITE     = 200
	RT_SCOPE_LINK     = 253
	RT_SCOPE_HOST     = 254
	RT_SCOPE_NOWHERE  = 255

	RT_TABLE_UNSPEC  = 0
	RT_TABLE_COMPAT  = 252
	RT_TABLE_DEFAULT = 253
	RT_TABLE_MAIN    = 254
	RT_TABLE_LOCAL   = 255
)

// ICMPV6_ROUTER_PREF_MEDIUM is RTA_PREF's usual value, from
// <linux/icmpv6.h>.
const ICMPV6_ROUTER_PREF_MEDIUM = 0

// IfInfomsg is struct ifinfomsg, the header of RTM_*LINK messages.
type IfInfomsg struct {
	Family uint8
	_      uint8 // __ifi_pad
	Type   uint16
	Index  int32
	Flags  uint32
	Change uint32
}

// MarshalBytes encodes m into dst, which must be SizeofIfInfomsg bytes
// long.
func (m *IfInfomsg) MarshalBytes(dst []byte) {
	le := binary.LittleEndian
	dst[0], dst[1] = m.Family, 0
	le.PutUint16(dst[2:], m.Type)
	le.PutUint32(dst[4:], uint32(m.Index))
	le.PutUint32(dst[8:], m.Flags)
	le.PutUint32(dst[12:], m.Change)
}

// UnmarshalBytes decodes m from src, which must be SizeofIfInfomsg bytes
// long.
func (m *IfInfomsg) UnmarshalBytes(src []byte) {
	le := binary.LittleEndian
	m.Family = src[0]
	m.Type = le.Uint16(src[2:])
	m.Index = int32(le.Uint32(src[4:]))
	m.Flags = le.Uint32(src[8:])
	m.Change = le.Uint32(src[12:])
}

// IfAddrmsg is struct ifaddrmsg, the header of RTM_*ADDR messages.
type IfAddrmsg struct {
	Family    uint8
	PrefixLen uint8
	Flags     uint8
	Scope     uint8
	Index     uint32
}

// MarshalBytes encodes m into dst, which must be SizeofIfAddrmsg bytes
// long.
func (m *IfAddrmsg) MarshalBytes(dst []byte) {
	dst[0], dst[1], dst[2], dst[3] = m.Family, m.PrefixLen, m.Flags, m.Scope
	binary.LittleEndian.PutUint32(dst[4:], m.Index)
}

// RtMsg is struct rtmsg, the header of RTM_*ROUTE messages.
type RtMsg struct {
	Family   uint8
	DstLen   uint8
	SrcLen   uint8
	TOS      uint8
	Table    uint8
	Protocol uint8
	Scope    uint8
	Type     uint8
	Flags    uint32
}

// MarshalBytes encodes m into dst, which must be SizeofRtMsg bytes long.
func (m *RtMsg) MarshalBytes(dst []byte) {
	dst[0], dst[1], dst[2], dst[3] = m.Family, m.DstLen, m.SrcLen, m.TOS
	dst[4], dst[5], dst[6], dst[7] = m.Table, m.Protocol, m.Scope, m.Type
	binary.LittleEndian.PutUint32(dst[8:], m.Flags)
}

// UnmarshalBytes decodes m from src, which must be SizeofRtMsg bytes long.
func (m *RtMsg) UnmarshalBytes(src []byte) {
	m.Family, m.DstLen, m.SrcLen, m.TOS = src[0], src[1], src[2], src[3]
	m.Table, m.Protocol, m.Scope, m.Type = src[4], src[5], src[6], src[7]
	m.Flags = binary.LittleEndian.Uint32(src[8:])
}
