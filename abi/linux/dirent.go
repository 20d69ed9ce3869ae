package linux

import "encoding/binary"

// Directory entry types, from <linux/fs_types.h> (FT_* == DT_*). DT_x is
// S_IFx >> 12.
const (
	DT_UNKNOWN = 0
	DT_FIFO    = 1
	DT_CHR     = 2
	DT_DIR     = 4
	DT_BLK     = 6
	DT_REG     = 8
	DT_LNK     = 10
	DT_SOCK    = 12
	DT_WHT     = 14
)

// Dirent64HeaderSize is the size of struct linux_dirent64 up to d_name:
// d_ino u64, d_off s64, d_reclen u16, d_type u8.
const Dirent64HeaderSize = 8 + 8 + 2 + 1

// Dirent64Size returns the record length of a linux_dirent64 with a name of
// nameLen bytes: the header, the name, its NUL, rounded up to 8 bytes as
// fs/readdir.c:filldir64 does.
func Dirent64Size(nameLen int) int {
	return (Dirent64HeaderSize + nameLen + 1 + 7) &^ 7
}

// MarshalDirent64 appends one linux_dirent64 record to buf.
func MarshalDirent64(buf []byte, ino uint64, off int64, typ uint8, name string) []byte {
	reclen := Dirent64Size(len(name))
	start := len(buf)
	buf = append(buf, make([]byte, reclen)...)
	rec := buf[start:]
	binary.LittleEndian.PutUint64(rec[0:], ino)
	binary.LittleEndian.PutUint64(rec[8:], uint64(off))
	binary.LittleEndian.PutUint16(rec[16:], uint16(reclen))
	rec[18] = typ
	copy(rec[19:], name) // the rest of rec is zero: the NUL and padding.
	return buf
}
