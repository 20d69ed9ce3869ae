package linux

// IFNAMSIZ is the size of an interface name buffer, its NUL included, from
// <linux/if.h>.
const IFNAMSIZ = 16

// Sizes of the interface ioctl structures on x86-64, from <linux/if.h>.
const (
	// SizeofIfreq is sizeof(struct ifreq): ifr_name and a 24-byte union
	// (its largest member is struct ifmap).
	SizeofIfreq = 40
	// SizeofIfconf is sizeof(struct ifconf): int ifc_len, 4 bytes of
	// padding, then the ifc_buf pointer.
	SizeofIfconf = 16
	// IfreqUnionOffset is offsetof(struct ifreq, ifr_ifru): where
	// ifr_addr, ifr_flags, ifr_ifindex, ifr_mtu and the rest start.
	IfreqUnionOffset = IFNAMSIZ
	// IfconfBufOffset is offsetof(struct ifconf, ifc_buf).
	IfconfBufOffset = 8
	// SizeofSockAddrInet is sizeof(struct sockaddr_in).
	SizeofSockAddrInet = 16
	// SizeofIfmap is sizeof(struct ifmap).
	SizeofIfmap = 24
)

// Interface ioctls, from <linux/sockios.h>.
const (
	SIOCADDRT          = 0x890b
	SIOCDELRT          = 0x890c
	SIOCGIFNAME        = 0x8910
	SIOCSIFLINK        = 0x8911
	SIOCGIFCONF        = 0x8912
	SIOCGIFFLAGS       = 0x8913
	SIOCSIFFLAGS       = 0x8914
	SIOCGIFADDR        = 0x8915
	SIOCSIFADDR        = 0x8916
	SIOCGIFDSTADDR     = 0x8917
	SIOCSIFDSTADDR     = 0x8918
	SIOCGIFBRDADDR     = 0x8919
	SIOCSIFBRDADDR     = 0x891a
	SIOCGIFNETMASK     = 0x891b
	SIOCSIFNETMASK     = 0x891c
	SIOCGIFMETRIC      = 0x891d
	SIOCSIFMETRIC      = 0x891e
	SIOCGIFMEM         = 0x891f
	SIOCSIFMEM         = 0x8920
	SIOCGIFMTU         = 0x8921
	SIOCSIFMTU         = 0x8922
	SIOCSIFNAME        = 0x8923
	SIOCSIFHWADDR      = 0x8924
	SIOCGIFHWADDR      = 0x8927
	SIOCGIFSLAVE       = 0x8929
	SIOCSIFSLAVE       = 0x8930
	SIOCADDMULTI       = 0x8931
	SIOCDELMULTI       = 0x8932
	SIOCGIFINDEX       = 0x8933
	SIOCSIFPFLAGS      = 0x8934
	SIOCGIFPFLAGS      = 0x8935
	SIOCDIFADDR        = 0x8936
	SIOCSIFHWBROADCAST = 0x8937
	SIOCGIFCOUNT       = 0x8938
	SIOCGIFTXQLEN      = 0x8942
	SIOCSIFTXQLEN      = 0x8943
	SIOCGIFMAP         = 0x8970
	SIOCSIFMAP         = 0x8971
)
