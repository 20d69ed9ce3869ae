package linux

// UTSLen is the length of each field of struct new_utsname (<linux/utsname.h>).
const UTSLen = 65

// UtsName is struct new_utsname.
type UtsName struct {
	Sysname    [UTSLen]byte
	Nodename   [UTSLen]byte
	Release    [UTSLen]byte
	Version    [UTSLen]byte
	Machine    [UTSLen]byte
	Domainname [UTSLen]byte
}

// Arch_prctl codes from <asm/prctl.h>.
const (
	ARCH_SET_GS    = 0x1001
	ARCH_SET_FS    = 0x1002
	ARCH_GET_FS    = 0x1003
	ARCH_GET_GS    = 0x1004
	ARCH_GET_CPUID = 0x1011
	ARCH_SET_CPUID = 0x1012
)

// getrandom(2) flags from <linux/random.h>.
const (
	GRND_NONBLOCK = 0x1
	GRND_RANDOM   = 0x2
	GRND_INSECURE = 0x4
)
