package linux

// Open flags, from <asm-generic/fcntl.h> (x86-64 values).
const (
	O_ACCMODE   = 0o3
	O_RDONLY    = 0o0
	O_WRONLY    = 0o1
	O_RDWR      = 0o2
	O_CREAT     = 0o100
	O_EXCL      = 0o200
	O_NOCTTY    = 0o400
	O_TRUNC     = 0o1000
	O_APPEND    = 0o2000
	O_NONBLOCK  = 0o4000
	O_DSYNC     = 0o10000
	O_ASYNC     = 0o20000
	O_DIRECT    = 0o40000
	O_LARGEFILE = 0o100000
	O_DIRECTORY = 0o200000
	O_NOFOLLOW  = 0o400000
	O_NOATIME   = 0o1000000
	O_CLOEXEC   = 0o2000000
	O_SYNC      = 0o4010000
	O_PATH      = 0o10000000
	O_TMPFILE   = 0o20200000
)

// AT_* flags and the special dirfd, from <linux/fcntl.h>.
const (
	AT_FDCWD            = -100
	AT_SYMLINK_NOFOLLOW = 0x100
	AT_REMOVEDIR        = 0x200
	AT_EACCESS          = 0x200
	AT_SYMLINK_FOLLOW   = 0x400
	AT_NO_AUTOMOUNT     = 0x800
	AT_EMPTY_PATH       = 0x1000
	AT_STATX_SYNC_TYPE  = 0x6000
)

// fcntl(2) commands, from <asm-generic/fcntl.h> and <linux/fcntl.h>.
const (
	F_DUPFD         = 0
	F_GETFD         = 1
	F_SETFD         = 2
	F_GETFL         = 3
	F_SETFL         = 4
	F_DUPFD_CLOEXEC = 1024 + 6
)

// FD_CLOEXEC is the only file descriptor flag.
const FD_CLOEXEC = 1

// File type and permission bits of a mode, from <linux/stat.h>.
const (
	S_IFMT   = 0o170000
	S_IFSOCK = 0o140000
	S_IFLNK  = 0o120000
	S_IFREG  = 0o100000
	S_IFBLK  = 0o060000
	S_IFDIR  = 0o040000
	S_IFCHR  = 0o020000
	S_IFIFO  = 0o010000

	S_ISUID = 0o4000
	S_ISGID = 0o2000
	S_ISVTX = 0o1000
)

// Access modes for access(2), from <unistd.h>.
const (
	F_OK = 0
	X_OK = 1
	W_OK = 2
	R_OK = 4
)

// lseek(2) whence values, from <linux/fs.h>.
const (
	SEEK_SET  = 0
	SEEK_CUR  = 1
	SEEK_END  = 2
	SEEK_DATA = 3
	SEEK_HOLE = 4
)

// renameat2(2) flags, from <linux/fs.h>.
const (
	RENAME_NOREPLACE = 1 << 0
	RENAME_EXCHANGE  = 1 << 1
	RENAME_WHITEOUT  = 1 << 2
)

// Path limits, from <linux/limits.h>.
const (
	PATH_MAX = 4096
	NAME_MAX = 255
)

// UTIME_NOW and UTIME_OMIT are special tv_nsec values of utimensat(2).
const (
	UTIME_NOW  = (1 << 30) - 1
	UTIME_OMIT = (1 << 30) - 2
)

// FileMode is a mode_t: file type and permission bits.
type FileMode uint32

// FileType returns m's S_IFMT bits.
func (m FileMode) FileType() FileMode { return m & S_IFMT }

// Permissions returns m's permission, setuid, setgid and sticky bits.
func (m FileMode) Permissions() FileMode { return m & 0o7777 }

// IsDir reports whether m is a directory.
func (m FileMode) IsDir() bool { return m&S_IFMT == S_IFDIR }

// IsRegular reports whether m is a regular file.
func (m FileMode) IsRegular() bool { return m&S_IFMT == S_IFREG }

// IsSymlink reports whether m is a symbolic link.
func (m FileMode) IsSymlink() bool { return m&S_IFMT == S_IFLNK }

// DirentType returns the DT_* value for m's file type.
func (m FileMode) DirentType() uint8 { return uint8((m & S_IFMT) >> 12) }

// Record locking fcntl(2) commands and lock types, from
// <asm-generic/fcntl.h>.
const (
	F_GETLK      = 5
	F_SETLK      = 6
	F_SETLKW     = 7
	F_SETOWN     = 8
	F_GETOWN     = 9
	F_OFD_GETLK  = 36
	F_OFD_SETLK  = 37
	F_OFD_SETLKW = 38

	F_RDLCK = 0
	F_WRLCK = 1
	F_UNLCK = 2
)

// SizeofFlock is the size of struct flock on x86-64: l_type and l_whence
// (shorts), l_start, l_len (off_t), l_pid (int), and padding.
const SizeofFlock = 32

// MAX_RW_COUNT is the most one read or write transfers, from
// <linux/fs.h>: INT_MAX rounded down to a page.
const MAX_RW_COUNT = 0x7ffff000
