package linux

// Address families, from <linux/socket.h>.
const (
	AF_UNSPEC  = 0
	AF_UNIX    = 1
	AF_INET    = 2
	AF_INET6   = 10
	AF_NETLINK = 16
	AF_PACKET  = 17
	AF_MAX     = 46
)

// Socket types, from <linux/net.h>. The flags share the type argument of
// socket(2) and have O_NONBLOCK's and O_CLOEXEC's values.
const (
	SOCK_STREAM    = 1
	SOCK_DGRAM     = 2
	SOCK_RAW       = 3
	SOCK_RDM       = 4
	SOCK_SEQPACKET = 5
	SOCK_DCCP      = 6
	SOCK_PACKET    = 10
	SOCK_TYPE_MASK = 0xf
	SOCK_NONBLOCK  = O_NONBLOCK
	SOCK_CLOEXEC   = O_CLOEXEC
)

// shutdown(2) hows, from <linux/net.h>.
const (
	SHUT_RD   = 0
	SHUT_WR   = 1
	SHUT_RDWR = 2
)

// Message flags, from <linux/socket.h>.
const (
	MSG_OOB          = 0x1
	MSG_PEEK         = 0x2
	MSG_DONTROUTE    = 0x4
	MSG_CTRUNC       = 0x8
	MSG_PROBE        = 0x10
	MSG_TRUNC        = 0x20
	MSG_DONTWAIT     = 0x40
	MSG_EOR          = 0x80
	MSG_WAITALL      = 0x100
	MSG_FIN          = 0x200
	MSG_SYN          = 0x400
	MSG_CONFIRM      = 0x800
	MSG_RST          = 0x1000
	MSG_ERRQUEUE     = 0x2000
	MSG_NOSIGNAL     = 0x4000
	MSG_MORE         = 0x8000
	MSG_WAITFORONE   = 0x10000
	MSG_BATCH        = 0x40000
	MSG_ZEROCOPY     = 0x4000000
	MSG_FASTOPEN     = 0x20000000
	MSG_CMSG_CLOEXEC = 0x40000000
)

// Socket option levels and SOL_SOCKET options, from
// <asm-generic/socket.h>.
const (
	SOL_SOCKET = 1

	SO_DEBUG       = 1
	SO_REUSEADDR   = 2
	SO_TYPE        = 3
	SO_ERROR       = 4
	SO_DONTROUTE   = 5
	SO_BROADCAST   = 6
	SO_SNDBUF      = 7
	SO_RCVBUF      = 8
	SO_KEEPALIVE   = 9
	SO_OOBINLINE   = 10
	SO_NO_CHECK    = 11
	SO_PRIORITY    = 12
	SO_LINGER      = 13
	SO_BSDCOMPAT   = 14
	SO_REUSEPORT   = 15
	SO_PASSCRED    = 16
	SO_PEERCRED    = 17
	SO_RCVLOWAT    = 18
	SO_SNDLOWAT    = 19
	SO_RCVTIMEO    = 20 // SO_RCVTIMEO_OLD: a struct timeval.
	SO_SNDTIMEO    = 21 // SO_SNDTIMEO_OLD: a struct timeval.
	SO_PASSSEC     = 34
	SO_ACCEPTCONN  = 30
	SO_PEERSEC     = 31
	SO_SNDBUFFORCE = 32
	SO_RCVBUFFORCE = 33
	SO_PROTOCOL    = 38
	SO_DOMAIN      = 39
)

// Control message types at SOL_SOCKET, from <linux/socket.h>.
const (
	SCM_RIGHTS      = 1
	SCM_CREDENTIALS = 2
)

// SCM_MAX_FD is the most fds one SCM_RIGHTS message may carry
// (include/net/scm.h).
const SCM_MAX_FD = 253

// Sizes of the socket structures on x86-64.
const (
	// SizeofSockAddrUnix is sizeof(struct sockaddr_un): sun_family and a
	// 108-byte sun_path.
	SizeofSockAddrUnix = 110
	// UnixPathMax is UNIX_PATH_MAX.
	UnixPathMax = 108
	// SizeofSockAddrStorage is sizeof(struct sockaddr_storage), the most
	// any address may be (net/socket.c:move_addr_to_kernel).
	SizeofSockAddrStorage = 128
	// SizeofMsghdr is sizeof(struct msghdr) (the user one).
	SizeofMsghdr = 56
	// SizeofMMsghdr is sizeof(struct mmsghdr): a msghdr and msg_len,
	// padded.
	SizeofMMsghdr = 64
	// SizeofCmsghdr is sizeof(struct cmsghdr): cmsg_len (size_t),
	// cmsg_level and cmsg_type.
	SizeofCmsghdr = 16
	// SizeofUCred is sizeof(struct ucred).
	SizeofUCred = 12
	// SizeofLinger is sizeof(struct linger).
	SizeofLinger = 8
	// SizeofTimeval is sizeof(struct timeval).
	SizeofTimeval = 16
)

// CmsgAlign rounds n up to the alignment of control messages (sizeof(long)).
func CmsgAlign(n int) int { return (n + 7) &^ 7 }

// CmsgLen is CMSG_LEN(n).
func CmsgLen(n int) int { return SizeofCmsghdr + n }

// CmsgSpace is CMSG_SPACE(n).
func CmsgSpace(n int) int { return SizeofCmsghdr + CmsgAlign(n) }

// UCred is struct ucred: SO_PEERCRED's value and SCM_CREDENTIALS' payload.
type UCred struct {
	PID int32
	UID uint32
	GID uint32
}

// Socket ioctls, from <linux/sockios.h>.
const (
	SIOCINQ  = FIONREAD
	SIOCOUTQ = TIOCOUTQ
)

// SOMAXCONN is net.core.somaxconn's default: the largest backlog.
const SOMAXCONN = 4096
