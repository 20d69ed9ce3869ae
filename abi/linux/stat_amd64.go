package linux

import "encoding/binary"

// Statx mask bits, from <linux/stat.h>.
const (
	STATX_TYPE        = 0x1
	STATX_MODE        = 0x2
	STATX_NLINK       = 0x4
	STATX_UID         = 0x8
	STATX_GID         = 0x10
	STATX_ATIME       = 0x20
	STATX_MTIME       = 0x40
	STATX_CTIME       = 0x80
	STATX_INO         = 0x100
	STATX_SIZE        = 0x200
	STATX_BLOCKS      = 0x400
	STATX_BASIC_STATS = 0x7ff
	STATX_BTIME       = 0x800
	STATX__RESERVED   = 0x80000000
)

// StatxTimestamp is struct statx_timestamp.
type StatxTimestamp struct {
	Sec  int64
	Nsec uint32
	_    int32 // __reserved
}

// NsecToStatxTimestamp converts nanoseconds since the epoch.
func NsecToStatxTimestamp(ns int64) StatxTimestamp {
	return StatxTimestamp{Sec: ns / 1e9, Nsec: uint32(ns % 1e9)}
}

// ToNsec returns ts in nanoseconds since the epoch.
func (ts StatxTimestamp) ToNsec() int64 { return ts.Sec*1e9 + int64(ts.Nsec) }

// SizeofStatx is the size of struct statx.
const SizeofStatx = 256

// Statx is struct statx from <linux/stat.h>. The VFS uses it as its one
// attribute record; Stat is derived from it.
type Statx struct {
	Mask           uint32
	Blksize        uint32
	Attributes     uint64
	Nlink          uint32
	UID            uint32
	GID            uint32
	Mode           uint16
	_              uint16 // __spare0
	Ino            uint64
	Size           uint64
	Blocks         uint64
	AttributesMask uint64
	Atime          StatxTimestamp
	Btime          StatxTimestamp
	Ctime          StatxTimestamp
	Mtime          StatxTimestamp
	RdevMajor      uint32
	RdevMinor      uint32
	DevMajor       uint32
	DevMinor       uint32
	MntID          uint64
	_              [104]byte // the rest of the 256-byte struct, zero.
}

func putStatxTimestamp(dst []byte, ts StatxTimestamp) {
	binary.LittleEndian.PutUint64(dst[0:], uint64(ts.Sec))
	binary.LittleEndian.PutUint32(dst[8:], ts.Nsec)
	binary.LittleEndian.PutUint32(dst[12:], 0)
}

// MarshalBytes encodes s into dst, which must be SizeofStatx bytes long.
func (s *Statx) MarshalBytes(dst []byte) {
	le := binary.LittleEndian
	clear(dst[:SizeofStatx])
	le.PutUint32(dst[0:], s.Mask)
	le.PutUint32(dst[4:], s.Blksize)
	le.PutUint64(dst[8:], s.Attributes)
	le.PutUint32(dst[16:], s.Nlink)
	le.PutUint32(dst[20:], s.UID)
	le.PutUint32(dst[24:], s.GID)
	le.PutUint16(dst[28:], s.Mode)
	le.PutUint64(dst[32:], s.Ino)
	le.PutUint64(dst[40:], s.Size)
	le.PutUint64(dst[48:], s.Blocks)
	le.PutUint64(dst[56:], s.AttributesMask)
	putStatxTimestamp(dst[64:], s.Atime)
	putStatxTimestamp(dst[80:], s.Btime)
	putStatxTimestamp(dst[96:], s.Ctime)
	putStatxTimestamp(dst[112:], s.Mtime)
	le.PutUint32(dst[128:], s.RdevMajor)
	le.PutUint32(dst[132:], s.RdevMinor)
	le.PutUint32(dst[136:], s.DevMajor)
	le.PutUint32(dst[140:], s.DevMinor)
	le.PutUint64(dst[144:], s.MntID)
}

// FileMode returns s.Mode as a FileMode.
func (s *Statx) FileMode() FileMode { return FileMode(s.Mode) }

// SizeofStat is the size of x86-64 struct stat.
const SizeofStat = 144

// Stat is struct stat from <asm/stat.h> for x86-64.
type Stat struct {
	Dev       uint64
	Ino       uint64
	Nlink     uint64
	Mode      uint32
	UID       uint32
	GID       uint32
	_         int32 // __pad0
	Rdev      uint64
	Size      int64
	Blksize   int64
	Blocks    int64
	Atime     int64
	AtimeNsec int64
	Mtime     int64
	MtimeNsec int64
	Ctime     int64
	CtimeNsec int64
	_         [3]int64 // __unused
}

// MakeDev encodes a device number as the kernel's new_encode_dev does for
// the 64-bit st_dev/st_rdev fields (glibc's gnu_dev_makedev layout).
func MakeDev(major, minor uint32) uint64 {
	return uint64(minor&0xff) | uint64(major&0xfff)<<8 |
		uint64(minor&^0xff)<<12 | uint64(major&^0xfff)<<32
}

// StatFromStatx converts the VFS's statx record to a struct stat.
func StatFromStatx(x *Statx) Stat {
	return Stat{
		Dev:       MakeDev(x.DevMajor, x.DevMinor),
		Ino:       x.Ino,
		Nlink:     uint64(x.Nlink),
		Mode:      uint32(x.Mode),
		UID:       x.UID,
		GID:       x.GID,
		Rdev:      MakeDev(x.RdevMajor, x.RdevMinor),
		Size:      int64(x.Size),
		Blksize:   int64(x.Blksize),
		Blocks:    int64(x.Blocks),
		Atime:     x.Atime.Sec,
		AtimeNsec: int64(x.Atime.Nsec),
		Mtime:     x.Mtime.Sec,
		MtimeNsec: int64(x.Mtime.Nsec),
		Ctime:     x.Ctime.Sec,
		CtimeNsec: int64(x.Ctime.Nsec),
	}
}

// MarshalBytes encodes s into dst, which must be SizeofStat bytes long.
func (s *Stat) MarshalBytes(dst []byte) {
	le := binary.LittleEndian
	clear(dst[:SizeofStat])
	le.PutUint64(dst[0:], s.Dev)
	le.PutUint64(dst[8:], s.Ino)
	le.PutUint64(dst[16:], s.Nlink)
	le.PutUint32(dst[24:], s.Mode)
	le.PutUint32(dst[28:], s.UID)
	le.PutUint32(dst[32:], s.GID)
	le.PutUint64(dst[40:], s.Rdev)
	le.PutUint64(dst[48:], uint64(s.Size))
	le.PutUint64(dst[56:], uint64(s.Blksize))
	le.PutUint64(dst[64:], uint64(s.Blocks))
	le.PutUint64(dst[72:], uint64(s.Atime))
	le.PutUint64(dst[80:], uint64(s.AtimeNsec))
	le.PutUint64(dst[88:], uint64(s.Mtime))
	le.PutUint64(dst[96:], uint64(s.MtimeNsec))
	le.PutUint64(dst[104:], uint64(s.Ctime))
	le.PutUint64(dst[112:], uint64(s.CtimeNsec))
}

// SizeofStatfs is the size of x86-64 struct statfs.
const SizeofStatfs = 120

// Filesystem magic numbers, from <linux/magic.h>.
const (
	TMPFS_MAGIC           = 0x01021994
	PROC_SUPER_MAGIC      = 0x9fa0
	OVERLAYFS_SUPER_MAGIC = 0x794c7630
	EXT4_SUPER_MAGIC      = 0xef53
	SYSFS_MAGIC           = 0x62656572
	DEVPTS_SUPER_MAGIC    = 0x1cd1
)

// Statfs is struct statfs from <asm-generic/statfs.h> for x86-64.
type Statfs struct {
	Type    int64
	Bsize   int64
	Blocks  uint64
	Bfree   uint64
	Bavail  uint64
	Files   uint64
	Ffree   uint64
	Fsid    [2]int32
	Namelen int64
	Frsize  int64
	Flags   int64
	_       [4]int64 // f_spare
}

// MarshalBytes encodes s into dst, which must be SizeofStatfs bytes long.
func (s *Statfs) MarshalBytes(dst []byte) {
	le := binary.LittleEndian
	clear(dst[:SizeofStatfs])
	le.PutUint64(dst[0:], uint64(s.Type))
	le.PutUint64(dst[8:], uint64(s.Bsize))
	le.PutUint64(dst[16:], s.Blocks)
	le.PutUint64(dst[24:], s.Bfree)
	le.PutUint64(dst[32:], s.Bavail)
	le.PutUint64(dst[40:], s.Files)
	le.PutUint64(dst[48:], s.Ffree)
	le.PutUint32(dst[56:], uint32(s.Fsid[0]))
	le.PutUint32(dst[60:], uint32(s.Fsid[1]))
	le.PutUint64(dst[64:], uint64(s.Namelen))
	le.PutUint64(dst[72:], uint64(s.Frsize))
	le.PutUint64(dst[80:], uint64(s.Flags))
}

// Statfs f_flags, from <linux/statfs.h>.
const (
	ST_RDONLY = 0x0001
	ST_NOSUID = 0x0002
	ST_NODEV  = 0x0004
)

// DevMajor and DevMinor decode the 32-bit device number of mknod(2) as
// the kernel's new_decode_dev does.
func DevMajor(dev uint32) uint32 { return (dev & 0xfff00) >> 8 }

// DevMinor: see DevMajor.
func DevMinor(dev uint32) uint32 { return dev&0xff | (dev>>12)&0xfff00 }
