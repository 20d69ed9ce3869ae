package syscalls

import (
	"strings"
	"sync"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/tmpfs"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// memfdMount is the hidden tmpfs of one sandbox's memfds, as Linux's
// internal shm mount: its files have no name in the tree, and show as
// "/memfd:NAME (deleted)".
type memfdMount struct {
	// mu serializes creations, whose names only live for a moment.
	mu   sync.Mutex
	root vfs.VirtualDentry
}

// memfdMounts maps a VFS to its memfd mount, made on first use.
var memfdMounts sync.Map // *vfs.VirtualFilesystem -> *memfdMount

func memfdMountOf(t *kernel.Task) *memfdMount {
	v := t.VFS()
	if m, ok := memfdMounts.Load(v); ok {
		return m.(*memfdMount)
	}
	fs, root := tmpfs.New(tmpfs.Options{MemoryFile: t.Kernel().MemFile}, 0o1777, 0, 0)
	mnt := v.NewMount(v.NewFilesystem(fs), root, vfs.MountOptions{Source: "tmpfs"})
	m, _ := memfdMounts.LoadOrStore(v, &memfdMount{root: mnt.Root()})
	return m.(*memfdMount)
}

// MemfdCreate implements Linux syscall memfd_create(2): an anonymous tmpfs
// file, readable and writable, whose pages are in the memory file (so
// that MAP_SHARED mappings of it are shared).
func MemfdCreate(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	nameAddr, flags := args[0].Pointer(), args[1].Uint()
	if flags&^(linux.MFD_CLOEXEC|linux.MFD_ALLOW_SEALING|linux.MFD_NOEXEC_SEAL|linux.MFD_EXEC) != 0 {
		return 0, errno.EINVAL
	}
	// "EINVAL The name was too long" (249 bytes, without the NUL).
	name, err := t.CopyInString(nameAddr, linux.MFD_NAME_MAX+1)
	if err != nil {
		if err == errno.ENAMETOOLONG {
			return 0, errno.EINVAL
		}
		return 0, err
	}
	// The name is only shown; a "/" in it would make a path of it here.
	name = "memfd:" + strings.ReplaceAll(name, "/", "\\")
	m := memfdMountOf(t)
	pop := &vfs.PathOperation{Root: m.root, Start: m.root, Path: name}
	ctx := vfs.RootContext()
	m.mu.Lock()
	f, err := t.VFS().OpenAt(ctx, pop, vfs.OpenOptions{Flags: linux.O_RDWR | linux.O_CREAT | linux.O_EXCL | linux.O_LARGEFILE, Mode: 0o777})
	if err == nil {
		err = t.VFS().UnlinkAt(ctx, pop)
	}
	m.mu.Unlock()
	if err != nil {
		if f != nil {
			f.DecRef()
		}
		return 0, err
	}
	defer f.DecRef()
	// The file belongs to the caller, not to the sentry that made it.
	creds := t.Credentials()
	owner := vfs.SetStatOptions{Stat: linux.Statx{Mask: linux.STATX_UID | linux.STATX_GID, UID: uint32(creds.FSKUID), GID: uint32(creds.FSKGID)}}
	in := f.VirtualDentry().Inode().(*tmpfs.Inode)
	if err := in.SetStat(ctx, &owner); err != nil {
		return 0, err
	}
	if flags&linux.MFD_ALLOW_SEALING != 0 {
		in.AllowSealing()
	}
	fd, err := t.FDTable().NewFD(0, f, flags&linux.MFD_CLOEXEC != 0)
	return uintptr(fd), err
}
