package linux

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestFileStructSizes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"Stat", unsafe.Sizeof(Stat{}), SizeofStat},
		{"Stat(host)", unsafe.Sizeof(unix.Stat_t{}), SizeofStat},
		{"Statx", unsafe.Sizeof(Statx{}), SizeofStatx},
		{"Statx(host)", unsafe.Sizeof(unix.Statx_t{}), SizeofStatx},
		{"StatxTimestamp", unsafe.Sizeof(StatxTimestamp{}), 16},
		{"Statfs", unsafe.Sizeof(Statfs{}), SizeofStatfs},
		{"Statfs(host)", unsafe.Sizeof(unix.Statfs_t{}), SizeofStatfs},
		{"Winsize", unsafe.Sizeof(Winsize{}), SizeofWinsize},
		{"Termios", unsafe.Sizeof(Termios{}), SizeofTermios},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: size %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

// TestStatMarshalMatchesHost checks the hand-written encoders against the
// host's struct layout, field by field.
func TestStatMarshalMatchesHost(t *testing.T) {
	s := Stat{Dev: 1, Ino: 2, Nlink: 3, Mode: 4, UID: 5, GID: 6, Rdev: 7, Size: 8, Blksize: 9,
		Blocks: 10, Atime: 11, AtimeNsec: 12, Mtime: 13, MtimeNsec: 14, Ctime: 15, CtimeNsec: 16}
	buf := make([]byte, SizeofStat)
	s.MarshalBytes(buf)
	h := *(*unix.Stat_t)(unsafe.Pointer(&buf[0]))
	if h.Dev != 1 || h.Ino != 2 || h.Nlink != 3 || h.Mode != 4 || h.Uid != 5 || h.Gid != 6 ||
		h.Rdev != 7 || h.Size != 8 || h.Blksize != 9 || h.Blocks != 10 || h.Atim.Sec != 11 ||
		h.Atim.Nsec != 12 || h.Mtim.Sec != 13 || h.Mtim.Nsec != 14 || h.Ctim.Sec != 15 || h.Ctim.Nsec != 16 {
		t.Errorf("stat layout mismatch: %+v", h)
	}

	x := Statx{Mask: 1, Blksize: 2, Attributes: 3, Nlink: 4, UID: 5, GID: 6, Mode: 7, Ino: 8,
		Size: 9, Blocks: 10, AttributesMask: 11, Atime: StatxTimestamp{Sec: 12, Nsec: 13},
		Btime: StatxTimestamp{Sec: 14}, Ctime: StatxTimestamp{Sec: 15}, Mtime: StatxTimestamp{Sec: 16, Nsec: 17},
		RdevMajor: 18, RdevMinor: 19, DevMajor: 20, DevMinor: 21, MntID: 22}
	xb := make([]byte, SizeofStatx)
	x.MarshalBytes(xb)
	hx := *(*unix.Statx_t)(unsafe.Pointer(&xb[0]))
	if hx.Mask != 1 || hx.Blksize != 2 || hx.Attributes != 3 || hx.Nlink != 4 || hx.Uid != 5 ||
		hx.Gid != 6 || hx.Mode != 7 || hx.Ino != 8 || hx.Size != 9 || hx.Blocks != 10 ||
		hx.Attributes_mask != 11 || hx.Atime.Sec != 12 || hx.Atime.Nsec != 13 || hx.Btime.Sec != 14 ||
		hx.Ctime.Sec != 15 || hx.Mtime.Sec != 16 || hx.Mtime.Nsec != 17 || hx.Rdev_major != 18 ||
		hx.Rdev_minor != 19 || hx.Dev_major != 20 || hx.Dev_minor != 21 || hx.Mnt_id != 22 {
		t.Errorf("statx layout mismatch: %+v", hx)
	}

	f := Statfs{Type: 1, Bsize: 2, Blocks: 3, Bfree: 4, Bavail: 5, Files: 6, Ffree: 7,
		Fsid: [2]int32{8, 9}, Namelen: 10, Frsize: 11, Flags: 12}
	fb := make([]byte, SizeofStatfs)
	f.MarshalBytes(fb)
	hf := *(*unix.Statfs_t)(unsafe.Pointer(&fb[0]))
	if hf.Type != 1 || hf.Bsize != 2 || hf.Blocks != 3 || hf.Bfree != 4 || hf.Bavail != 5 ||
		hf.Files != 6 || hf.Ffree != 7 || hf.Fsid.Val != [2]int32{8, 9} || hf.Namelen != 10 ||
		hf.Frsize != 11 || hf.Flags != 12 {
		t.Errorf("statfs layout mismatch: %+v", hf)
	}
}

func TestMakeDev(t *testing.T) {
	if got, want := MakeDev(259, 70000), unix.Mkdev(259, 70000); got != want {
		t.Errorf("MakeDev = %#x, want %#x", got, want)
	}
}

func TestDirent64(t *testing.T) {
	buf := MarshalDirent64(nil, 7, 1, DT_REG, "abc")
	if len(buf) != 24 || Dirent64Size(3) != 24 || Dirent64Size(5) != 32 {
		t.Fatalf("reclen %d", len(buf))
	}
	n := 0
	consumed, count, names := unix.ParseDirent(buf, -1, nil)
	n = count
	if consumed != 24 || n != 1 || names[0] != "abc" {
		t.Errorf("ParseDirent = %d %d %v", consumed, n, names)
	}
}
