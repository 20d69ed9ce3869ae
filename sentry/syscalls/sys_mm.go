package syscalls

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/memmap"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// mmSyscalls are the memory management syscalls.
var mmSyscalls = map[uintptr]kernel.Syscall{
	9:   {Name: "mmap", Fn: Mmap, Support: kernel.SupportPartial, Note: "Writable MAP_SHARED mappings of host files (rootfs, volumes) return ENODEV; tmpfs files and memfds share pages."},
	10:  {Name: "mprotect", Fn: Mprotect, Support: kernel.SupportFull},
	11:  {Name: "munmap", Fn: Munmap, Support: kernel.SupportFull},
	12:  {Name: "brk", Fn: Brk, Support: kernel.SupportFull},
	25:  {Name: "mremap", Fn: Mremap, Support: kernel.SupportPartial, Note: "MREMAP_DONTUNMAP and old_size 0 return EINVAL."},
	26:  {Name: "msync", Fn: Msync, Support: kernel.SupportFull},
	28:  {Name: "madvise", Fn: Madvise, Support: kernel.SupportPartial, Note: "MADV_DONTNEED is honoured; other advice is accepted and ignored."},
	329: {Name: "pkey_mprotect", Fn: PkeyMprotect, Support: kernel.SupportPartial, Note: "No protection keys, as on a CPU without PKU: only pkey -1 or 0."},
	330: {Name: "pkey_alloc", Fn: PkeyAlloc, Support: kernel.SupportPartial, Note: "No protection keys, as on a CPU without PKU: ENOSPC."},
	331: {Name: "pkey_free", Fn: PkeyFree, Support: kernel.SupportPartial, Note: "No protection keys: EINVAL."},
}

const protMask = linux.PROT_READ | linux.PROT_WRITE | linux.PROT_EXEC

// Mmap implements Linux syscall mmap(2).
func Mmap(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	addr, length, prot, flags, fd, off := args[0].Pointer(), args[1].Uint64(), args[2].Int(), args[3].Int(), args[4].Int(), args[5].Uint64()

	if prot&^protMask != 0 {
		return 0, errno.EINVAL
	}
	typ := flags & linux.MAP_TYPE
	if typ != linux.MAP_SHARED && typ != linux.MAP_PRIVATE && typ != linux.MAP_SHARED_VALIDATE {
		return 0, errno.EINVAL
	}
	if length == 0 {
		return 0, errno.EINVAL
	}
	// "EINVAL ... offset not aligned on a page boundary" - mmap(2).
	if off%hostarch.PageSize != 0 {
		return 0, errno.EINVAL
	}
	if flags&linux.MAP_HUGETLB != 0 {
		// No hugetlbfs in the sandbox: as on a host with no huge pages.
		return 0, errno.ENOMEM
	}
	opts := mm.MMapOpts{
		Length:    length,
		Addr:      addr,
		Fixed:     flags&linux.MAP_FIXED != 0,
		NoReplace: flags&linux.MAP_FIXED_NOREPLACE != 0 && flags&linux.MAP_FIXED == 0,
		Perms:     hostarch.ProtToAccessType(int(prot)),
		MaxPerms:  hostarch.AnyAccess,
		Private:   typ == linux.MAP_PRIVATE,
		GrowsDown: flags&linux.MAP_GROWSDOWN != 0,
	}
	if flags&linux.MAP_ANONYMOUS == 0 {
		file := t.GetFile(fd)
		if file == nil {
			return 0, errno.EBADF
		}
		defer file.DecRef()
		shared := typ != linux.MAP_PRIVATE
		var mappable memmap.Mappable
		if mf, ok := any(file).(mappableFile); ok && shared {
			mappable, _ = mf.Mappable()
		}
		if err := checkMappable(t, file, opts, mappable != nil); err != nil {
			return 0, err
		}
		opts.File, opts.Offset = file, off
		if file.VirtualDentry().Mount.NoExec() {
			// mprotect can't make it executable later either (no
			// VM_MAYEXEC).
			opts.MaxPerms.Execute = false
		}
		if !file.IsWritable() {
			// mprotect can never make a read-only file's shared mapping
			// writable.
			if shared {
				opts.MaxPerms.Write = false
			}
		}
		if mappable != nil {
			opts.Mappable, opts.Private = mappable, false
		} else {
			// Read-only shared mappings of files without shareable pages
			// behave as private ones: nothing can write through them.
			opts.Private = true
		}
	} else if !opts.Private {
		opts.Name = "/dev/zero (deleted)"
	}
	a, err := t.MemoryManager().MMap(opts)
	return uintptr(a), err
}

// mappableFile is implemented by files whose pages can be mapped shared
// (tmpfs files and memfds).
type mappableFile interface {
	Mappable() (memmap.Mappable, bool)
}

// checkMappable applies mmap(2)'s rules for file mappings. shareable says
// whether the file's pages can back a writable shared mapping.
func checkMappable(t *kernel.Task, file *vfs.FileDescription, opts mm.MMapOpts, shareable bool) error {
	if file.IsPath() {
		return errno.EBADF
	}
	st, err := file.Stat(t)
	if err != nil {
		return err
	}
	// "ENODEV The underlying filesystem of the specified file does not
	// support memory mapping." Only regular files are mapped here.
	if !st.FileMode().IsRegular() {
		return errno.ENODEV
	}
	// "EACCES A file descriptor refers to a non-regular file. Or a file
	// mapping was requested, but fd is not open for reading."
	if !file.IsReadable() {
		return errno.EACCES
	}
	// "EPERM The prot argument asks for PROT_EXEC but the mapped area
	// belongs to a file on a filesystem that was mounted no-exec."
	if opts.Perms.Execute && file.VirtualDentry().Mount.NoExec() {
		return errno.EPERM
	}
	if !opts.Private && opts.Perms.Write {
		if !file.IsWritable() {
			return errno.EACCES
		}
		if !shareable {
			// sandbox-divergence: writable shared mappings of host files
			// would need a page cache kept coherent with the host file.
			return errno.ENODEV
		}
	}
	return nil
}

// Munmap implements Linux syscall munmap(2).
func Munmap(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	addr, length := args[0].Pointer(), args[1].Uint64()
	return 0, t.MemoryManager().MUnmap(addr, length)
}

// Mprotect implements Linux syscall mprotect(2).
func Mprotect(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	addr, length, prot := args[0].Pointer(), args[1].Uint64(), args[2].Int()
	if prot&^(protMask|linux.PROT_GROWSDOWN|linux.PROT_GROWSUP) != 0 {
		return 0, errno.EINVAL
	}
	if prot&linux.PROT_GROWSDOWN != 0 && prot&linux.PROT_GROWSUP != 0 {
		return 0, errno.EINVAL
	}
	return 0, t.MemoryManager().MProtect(addr, length, hostarch.ProtToAccessType(int(prot&protMask)))
}

// The sandbox has no memory protection keys, whatever the host's CPU
// has: the syscalls behave as on a CPU without PKU, where only the default
// key 0 exists and it is always allocated (mm/mprotect.c).

// PkeyMprotect implements Linux syscall pkey_mprotect(2).
func PkeyMprotect(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	if pkey := args[3].Int(); pkey != -1 && pkey != 0 {
		return 0, errno.EINVAL
	}
	return Mprotect(t, sysno, args)
}

// PkeyAlloc implements Linux syscall pkey_alloc(2).
func PkeyAlloc(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	const pkeyAccessMask = 0x3 // PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE
	if args[0].Uint64() != 0 || args[1].Uint64()&^pkeyAccessMask != 0 {
		return 0, errno.EINVAL
	}
	return 0, errno.ENOSPC
}

// PkeyFree implements Linux syscall pkey_free(2): no key the guest could
// have allocated exists.
func PkeyFree(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return 0, errno.EINVAL
}

// Brk implements Linux syscall brk(2).
func Brk(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return uintptr(t.MemoryManager().Brk(args[0].Pointer())), nil
}

// Mremap implements Linux syscall mremap(2).
func Mremap(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	old, oldSize, newSize, flags, newAddr := args[0].Pointer(), args[1].Uint64(), args[2].Uint64(), args[3].Int(), args[4].Pointer()
	a, err := t.MemoryManager().MRemap(old, oldSize, newSize, int(flags), newAddr)
	return uintptr(a), err
}

// Msync implements Linux syscall msync(2). Private mappings have nothing to
// write back, so only the arguments and the range are checked.
func Msync(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	addr, length, flags := args[0].Pointer(), args[1].Uint64(), args[2].Int()
	if !addr.IsPageAligned() || flags&^(linux.MS_ASYNC|linux.MS_SYNC|linux.MS_INVALIDATE) != 0 {
		return 0, errno.EINVAL
	}
	if flags&linux.MS_ASYNC != 0 && flags&linux.MS_SYNC != 0 {
		return 0, errno.EINVAL
	}
	if _, ok := addr.AddLength(length); !ok {
		return 0, errno.ENOMEM
	}
	return 0, nil
}

// Madvise implements Linux syscall madvise(2).
func Madvise(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	addr, length, advice := args[0].Pointer(), args[1].Uint64(), args[2].Int()
	if !addr.IsPageAligned() {
		return 0, errno.EINVAL
	}
	switch advice {
	case linux.MADV_DONTNEED:
		return 0, t.MemoryManager().MAdviseDontNeed(addr, length)
	case linux.MADV_NORMAL, linux.MADV_RANDOM, linux.MADV_SEQUENTIAL, linux.MADV_WILLNEED,
		linux.MADV_FREE, linux.MADV_DONTFORK, linux.MADV_DOFORK, linux.MADV_MERGEABLE,
		linux.MADV_UNMERGEABLE, linux.MADV_HUGEPAGE, linux.MADV_NOHUGEPAGE, linux.MADV_DONTDUMP,
		linux.MADV_DODUMP, linux.MADV_WIPEONFORK, linux.MADV_KEEPONFORK, linux.MADV_COLD,
		linux.MADV_PAGEOUT, linux.MADV_POPULATE_READ, linux.MADV_POPULATE_WRITE, linux.MADV_COLLAPSE:
		// Hints: the sandbox's memory is the host's concern. MADV_FREE may
		// keep the data, which is what ignoring it does.
		return 0, nil
	}
	return 0, errno.EINVAL
}
