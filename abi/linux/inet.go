package linux

// IP sockets: protocols, option levels and names, control messages and
// sizes, from <linux/in.h>, <linux/in6.h>, <linux/tcp.h>, <linux/udp.h>,
// <asm-generic/socket.h> and <linux/sockios.h>. inet_test.go checks them
// against golang.org/x/sys/unix, which has the same numbers on x86-64.

// IP protocol numbers, from <linux/in.h> and <linux/in6.h>.
const (
	IPPROTO_IP     = 0
	IPPROTO_ICMP   = 1
	IPPROTO_TCP    = 6
	IPPROTO_UDP    = 17
	IPPROTO_IPV6   = 41
	IPPROTO_ICMPV6 = 58
	// IPPROTO_MAX bounds socket(2)'s protocol: "if (protocol < 0 ||
	// protocol >= IPPROTO_MAX) return -EINVAL" - net/ipv4/af_inet.c:
	// inet_create.
	IPPROTO_MAX = 263
)

// Option levels, from <linux/socket.h> (SOL_IP is IPPROTO_IP, and so on).
const (
	SOL_IP   = 0
	SOL_TCP  = 6
	SOL_UDP  = 17
	SOL_IPV6 = 41
)

// SOL_SOCKET options that abi/linux lacks, from <asm-generic/socket.h>.
const (
	SO_BINDTODEVICE  = 25
	SO_TIMESTAMP     = 29 // SO_TIMESTAMP_OLD; also its SCM_TIMESTAMP message.
	SO_TIMESTAMPNS   = 35 // SO_TIMESTAMPNS_OLD; also SCM_TIMESTAMPNS.
	SO_INCOMING_CPU  = 49
	SO_BINDTOIFINDEX = 62
	SO_RCVTIMEO_NEW  = 66
	SO_SNDTIMEO_NEW  = 67
)

// SOL_TCP options, from <linux/tcp.h>.
const (
	TCP_NODELAY       = 1
	TCP_MAXSEG        = 2
	TCP_CORK          = 3
	TCP_KEEPIDLE      = 4
	TCP_KEEPINTVL     = 5
	TCP_KEEPCNT       = 6
	TCP_SYNCNT        = 7
	TCP_LINGER2       = 8
	TCP_DEFER_ACCEPT  = 9
	TCP_WINDOW_CLAMP  = 10
	TCP_INFO          = 11
	TCP_QUICKACK      = 12
	TCP_CONGESTION    = 13
	TCP_USER_TIMEOUT  = 18
	TCP_FASTOPEN      = 23
	TCP_NOTSENT_LOWAT = 25
)

// SOL_IP options, from <linux/in.h>.
const (
	IP_TOS                  = 1
	IP_TTL                  = 2
	IP_PKTINFO              = 8
	IP_MTU_DISCOVER         = 10
	IP_RECVERR              = 11
	IP_RECVTTL              = 12
	IP_RECVTOS              = 13
	IP_MTU                  = 14
	IP_FREEBIND             = 15
	IP_RECVORIGDSTADDR      = 20
	IP_BIND_ADDRESS_NO_PORT = 24
	IP_MULTICAST_IF         = 32
	IP_MULTICAST_TTL        = 33
	IP_MULTICAST_LOOP       = 34
	IP_ADD_MEMBERSHIP       = 35
	IP_DROP_MEMBERSHIP      = 36
	IP_MULTICAST_ALL        = 49
)

// SOL_IPV6 options, from <linux/in6.h>.
const (
	IPV6_UNICAST_HOPS    = 16
	IPV6_MULTICAST_IF    = 17
	IPV6_MULTICAST_HOPS  = 18
	IPV6_MULTICAST_LOOP  = 19
	IPV6_ADD_MEMBERSHIP  = 20
	IPV6_DROP_MEMBERSHIP = 21
	IPV6_MTU_DISCOVER    = 23
	IPV6_MTU             = 24
	IPV6_RECVERR         = 25
	IPV6_V6ONLY          = 26
	IPV6_RECVPKTINFO     = 49
	IPV6_RECVHOPLIMIT    = 51
	IPV6_RECVTCLASS      = 66
	IPV6_TCLASS          = 67
)

// SOL_UDP options, from <linux/udp.h>.
const (
	UDP_CORK    = 1
	UDP_SEGMENT = 103
)

// Socket ioctls, from <linux/sockios.h>.
const (
	SIOCATMARK  = 0x8905
	SIOCOUTQNSD = 0x894b
)

// Sizes of the structures on x86-64.
const (
	// SizeofSockAddrInet6 is sizeof(struct sockaddr_in6).
	SizeofSockAddrInet6 = 28
	// SIN6_LEN_RFC2133 is the size of a sockaddr_in6 without
	// sin6_scope_id, which Linux still accepts (<linux/in6.h>).
	SIN6_LEN_RFC2133 = 24
)

// Capabilities the guest needs for some socket operations, from
// <linux/capability.h>.
const (
	CAP_NET_BIND_SERVICE = 10
	CAP_NET_ADMIN        = 12
	CAP_NET_RAW          = 13
)

// More SOL_SOCKET options, from <asm-generic/socket.h>.
const (
	SO_BUSY_POLL = 46
	SO_MARK      = 36
	SO_COOKIE    = 57
)

// More SOL_IP options, from <linux/in.h>.
const (
	IP_HDRINCL  = 3
	IP_OPTIONS  = 4
	IP_RECVOPTS = 6
	IP_RETOPTS  = 7
)

// IPv6 control messages, from <linux/in6.h>.
const (
	IPV6_PKTINFO  = 50
	IPV6_HOPLIMIT = 52
)
