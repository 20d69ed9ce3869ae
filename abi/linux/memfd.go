package linux

// memfd_create(2) flags, from <linux/memfd.h>.
const (
	MFD_CLOEXEC       = 0x1
	MFD_ALLOW_SEALING = 0x2
	MFD_HUGETLB       = 0x4
	MFD_NOEXEC_SEAL   = 0x8
	MFD_EXEC          = 0x10

	// MFD_NAME_MAX is the longest name: NAME_MAX minus "memfd:".
	MFD_NAME_MAX = 249
)

// File seals (fcntl F_ADD_SEALS/F_GET_SEALS), from <linux/fcntl.h>.
const (
	F_ADD_SEALS = 1033
	F_GET_SEALS = 1034

	F_SEAL_SEAL         = 0x1
	F_SEAL_SHRINK       = 0x2
	F_SEAL_GROW         = 0x4
	F_SEAL_WRITE        = 0x8
	F_SEAL_FUTURE_WRITE = 0x10
	F_SEAL_EXEC         = 0x20
)
