package linux

// OpenHow is struct open_how from <linux/openat2.h>, openat2(2)'s
// argument.
type OpenHow struct {
	Flags   uint64
	Mode    uint64
	Resolve uint64
}

// OPEN_HOW_SIZE_VER0 is the size of the first published struct open_how.
const OPEN_HOW_SIZE_VER0 = 24

// RESOLVE_* flags for open_how.resolve, from <linux/openat2.h>.
const (
	RESOLVE_NO_XDEV       = 0x01
	RESOLVE_NO_MAGICLINKS = 0x02
	RESOLVE_NO_SYMLINKS   = 0x04
	RESOLVE_BENEATH       = 0x08
	RESOLVE_IN_ROOT       = 0x10
	RESOLVE_CACHED        = 0x20
)

// VALID_OPEN_FLAGS are the open(2) flags the kernel knows
// (include/linux/fcntl.h), which openat2 insists on.
const VALID_OPEN_FLAGS = O_RDONLY | O_WRONLY | O_RDWR | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC |
	O_APPEND | O_NONBLOCK | O_DSYNC | O_ASYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY |
	O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH | O_TMPFILE | O_SYNC

// VALID_RESOLVE_FLAGS are the known RESOLVE_* flags.
const VALID_RESOLVE_FLAGS = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS |
	RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED
