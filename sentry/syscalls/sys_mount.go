package syscalls

import (
	"strconv"
	"strings"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/proc"
	"github.com/runsc-lite/runsc-lite/fs/tmpfs"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// mountSyscalls change the sandbox's own mount table; nothing reaches the
// host's.
var mountSyscalls = map[uintptr]kernel.Syscall{
	165: {Name: "mount", Fn: Mount, Support: kernel.SupportPartial, Note: "tmpfs, proc, bind (MS_BIND, MS_REC ignored) and MS_REMOUNT (ro/rw); propagation changes are accepted and have no effect; no MS_MOVE"},
	166: {Name: "umount2", Fn: Umount2, Support: kernel.SupportFull},
}

// maxMountData bounds the data string mount(2) copies in (a page, as
// fs/namespace.c:copy_mount_options).
const maxMountData = 4096

// Mount implements Linux syscall mount(2) on the sandbox's mount table.
func Mount(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	srcAddr, targetAddr, typeAddr, flags, dataAddr := args[0].Pointer(), args[1].Pointer(), args[2].Pointer(), args[3].Uint64(), args[4].Pointer()
	if !t.Credentials().HasCapability(auth.CAP_SYS_ADMIN) {
		return 0, errno.EPERM
	}
	if flags&linux.MS_MGC_MSK == linux.MS_MGC_VAL {
		flags &^= linux.MS_MGC_MSK
	}
	target, err := copyInPathOp(t, linux.AT_FDCWD, targetAddr, true)
	if err != nil {
		return 0, err
	}
	v := t.VFS()
	vd, err := v.GetDentryAt(t, &target)
	if err != nil {
		return 0, err
	}
	readOnly := flags&linux.MS_RDONLY != 0
	mflags := vfs.MountOptions{ReadOnly: readOnly, NoExec: flags&linux.MS_NOEXEC != 0,
		NoDev: flags&linux.MS_NODEV != 0, NoSuid: flags&linux.MS_NOSUID != 0}
	const propagation = linux.MS_SHARED | linux.MS_PRIVATE | linux.MS_SLAVE | linux.MS_UNBINDABLE
	switch {
	case flags&linux.MS_REMOUNT != 0:
		// "EINVAL A remount operation (MS_REMOUNT) was attempted, but
		// source was not already mounted on target" - mount(2).
		return 0, v.Remount(vd, mflags)
	case flags&linux.MS_BIND != 0:
		srcPath, err := copyInPath(t, srcAddr)
		if err != nil {
			return 0, err
		}
		src, err := pathOp(t, linux.AT_FDCWD, srcPath, true)
		if err != nil {
			return 0, err
		}
		svd, err := v.GetDentryAt(t, &src)
		if err != nil {
			return 0, err
		}
		// The read-only flag of a new bind mount is ignored by Linux
		// (fs/namespace.c:do_loopback); it takes a remount.
		return 0, v.MountAt(vd, v.NewBindMount(svd, vfs.MountOptions{Source: srcPath}))
	case flags&propagation != 0:
		// Propagation types only matter across mount namespaces, of which
		// the sandbox has one.
		return 0, nil
	case flags&linux.MS_MOVE != 0:
		return 0, errno.EINVAL
	}
	fstype, err := t.CopyInString(typeAddr, 256)
	if err != nil {
		return 0, err
	}
	var source string
	if srcAddr != 0 {
		if source, err = t.CopyInString(srcAddr, linux.PATH_MAX); err != nil {
			return 0, err
		}
	}
	var data string
	if dataAddr != 0 {
		if data, err = t.CopyInString(dataAddr, maxMountData); err != nil && err != errno.ENAMETOOLONG {
			return 0, err
		}
	}
	if source == "" {
		source = "none"
	}
	opts := mflags
	opts.Source = source
	var fs vfs.FilesystemImpl
	var root vfs.Inode
	switch fstype {
	case "tmpfs":
		topts, mode, uid, gid, err := parseTmpfsData(data)
		if err != nil {
			return 0, err
		}
		if uid < 0 {
			uid = int64(t.Credentials().FSKUID)
		}
		if gid < 0 {
			gid = int64(t.Credentials().FSKGID)
		}
		topts.MemoryFile = t.Kernel().MemFile
		fs, root = tmpfs.New(topts, mode, auth.KUID(uid), auth.KGID(gid))
		if topts.MaxBytes != 0 {
			opts.Data = "size=" + strconv.FormatUint(topts.MaxBytes/1024, 10) + "k"
		}
	case "proc":
		fs, root = proc.New()
	case "":
		return 0, errno.EINVAL
	default:
		// "ENODEV filesystemtype not configured in the kernel" - mount(2).
		return 0, errno.ENODEV
	}
	return 0, v.MountAt(vd, v.NewMount(v.NewFilesystem(fs), root, opts))
}

// parseTmpfsData parses tmpfs's size=, mode=, uid= and gid= options
// (mm/shmem.c:shmem_parse_one); others are ignored.
func parseTmpfsData(data string) (opts tmpfs.Options, mode linux.FileMode, uid, gid int64, err error) {
	mode, uid, gid = 0o1777, -1, -1
	for opt := range strings.SplitSeq(data, ",") {
		key, val, _ := strings.Cut(opt, "=")
		switch key {
		case "size":
			n, perr := parseSize(val)
			if perr != nil {
				return opts, 0, 0, 0, errno.EINVAL
			}
			opts.MaxBytes = n
		case "mode":
			m, perr := strconv.ParseUint(val, 8, 32)
			if perr != nil {
				return opts, 0, 0, 0, errno.EINVAL
			}
			mode = linux.FileMode(m & 0o7777)
		case "uid", "gid":
			n, perr := strconv.ParseUint(val, 10, 32)
			if perr != nil {
				return opts, 0, 0, 0, errno.EINVAL
			}
			if key == "uid" {
				uid = int64(n)
			} else {
				gid = int64(n)
			}
		}
	}
	return opts, mode, uid, gid, nil
}

// parseSize parses a size with an optional k, m or g suffix. A percentage
// of memory is taken as unlimited.
func parseSize(s string) (uint64, error) {
	if strings.HasSuffix(s, "%") {
		return 0, nil
	}
	mult := uint64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'k', 'K':
			mult, s = 1<<10, s[:n-1]
		case 'm', 'M':
			mult, s = 1<<20, s[:n-1]
		case 'g', 'G':
			mult, s = 1<<30, s[:n-1]
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > (1<<62)/mult { // Overflow: n*mult must fit.
		return 0, errno.EINVAL
	}
	return n * mult, nil
}

// Umount2 implements Linux syscall umount2(2).
func Umount2(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	targetAddr, flags := args[0].Pointer(), args[1].Uint()
	if flags&^(linux.MNT_FORCE|linux.MNT_DETACH|linux.MNT_EXPIRE|linux.UMOUNT_NOFOLLOW) != 0 {
		return 0, errno.EINVAL
	}
	// "EINVAL umount2() was called with MNT_EXPIRE and either MNT_DETACH
	// or MNT_FORCE" - umount(2).
	if flags&linux.MNT_EXPIRE != 0 && flags&(linux.MNT_FORCE|linux.MNT_DETACH) != 0 {
		return 0, errno.EINVAL
	}
	if !t.Credentials().HasCapability(auth.CAP_SYS_ADMIN) {
		return 0, errno.EPERM
	}
	target, err := copyInPathOp(t, linux.AT_FDCWD, targetAddr, flags&linux.UMOUNT_NOFOLLOW == 0)
	if err != nil {
		return 0, err
	}
	v := t.VFS()
	vd, err := v.GetDentryAt(t, &target)
	if err != nil {
		return 0, err
	}
	return 0, v.Umount(vd, flags&linux.MNT_DETACH != 0)
}
