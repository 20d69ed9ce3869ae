package linux

// mount(2) flags, from <linux/mount.h>.
const (
	MS_RDONLY      = 0x1
	MS_NOSUID      = 0x2
	MS_NODEV       = 0x4
	MS_NOEXEC      = 0x8
	MS_SYNCHRONOUS = 0x10
	MS_REMOUNT     = 0x20
	MS_MANDLOCK    = 0x40
	MS_DIRSYNC     = 0x80
	MS_NOATIME     = 0x400
	MS_NODIRATIME  = 0x800
	MS_BIND        = 0x1000
	MS_MOVE        = 0x2000
	MS_REC         = 0x4000
	MS_SILENT      = 0x8000
	MS_UNBINDABLE  = 1 << 17
	MS_PRIVATE     = 1 << 18
	MS_SLAVE       = 1 << 19
	MS_SHARED      = 1 << 20
	MS_RELATIME    = 1 << 21
	MS_STRICTATIME = 1 << 24
	MS_LAZYTIME    = 1 << 25

	// MS_MGC_VAL is the old magic in the top half of flags, ignored.
	MS_MGC_MSK = 0xffff0000
	MS_MGC_VAL = 0xc0ed0000
)

// umount2(2) flags, from <linux/fs.h>.
const (
	MNT_FORCE       = 0x1
	MNT_DETACH      = 0x2
	MNT_EXPIRE      = 0x4
	UMOUNT_NOFOLLOW = 0x8
)
