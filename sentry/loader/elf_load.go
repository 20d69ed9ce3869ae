package loader

import (
	"io"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// Fixed auxv values.
const (
	// clocksPerSec is CLOCKS_PER_SEC (USER_HZ) for AT_CLKTCK.
	clocksPerSec = 100
	// minSigStackSize is AT_MINSIGSTKSZ. Linux reports its real signal
	// frame size (arch/x86/kernel/signal.c:get_sigframe_size): 3376 on an
	// AVX2 host, more with AVX-512 and far more with AMX. Until signal
	// delivery sizes frames from CPUID 0xD and feeds the value here, report
	// a value above the AVX2 frame; glibc uses it only for
	// sysconf(_SC_MINSIGSTKSZ) and _SC_SIGSTKSZ, so erring high is safe.
	minSigStackSize = 3632
)

// loadELF maps the ELF file f (whose first bytes are head), its interpreter
// if any, and the initial stack, following fs/binfmt_elf.c:load_elf_binary.
// It returns the image without the caller-facing fields (Executable,
// ExecPath, Argv, Name), which Load fills in. It does not consume f's
// reference.
func loadELF(mem Memory, f File, head []byte, lay layout, argv []string, random io.Reader, args *LoadArgs) (*Image, error) {
	// Phase 1: read and validate everything. Nothing touches mem yet.
	exe, err := parseELF(f, head, true /* isMain */)
	if err != nil {
		return nil, err
	}
	var interpFile File
	var interp *elfFile
	if exe.hasInterp {
		if interpFile, err = openExec(args.Open, exe.interp); err != nil {
			return nil, err
		}
		// The mappings take their own references.
		defer interpFile.DecRef()
		var ihead [linux.ELF64_EHDR_SIZE]byte
		if err := readFull(interpFile, ihead[:], 0); err != nil {
			return nil, err
		}
		if interp, err = parseELF(interpFile, ihead[:], false /* isMain */); err != nil {
			return nil, err
		}
	}

	exeBias, exeRange, err := lay.placeMain(exe)
	if err != nil {
		return nil, err
	}
	exeEntry := exe.entry + exeBias
	entry := exeEntry
	var interpBias uint64
	if interp != nil {
		if interpBias, err = lay.placeInterp(interp, exeRange); err != nil {
			return nil, err
		}
		entry = interp.entry + interpBias
	}
	var vdsoAddr hostarch.Addr
	if args.VDSO != nil {
		var interpRange hostarch.AddrRange
		if interp != nil {
			interpRange = hostarch.AddrRange{
				Start: hostarch.Addr(interp.start + interpBias).RoundDown(),
				End:   hostarch.Addr(interp.end + interpBias),
			}
		}
		if vdsoAddr, err = lay.placeVDSO(args.VDSO.Size(), exeRange, interpRange); err != nil {
			return nil, err
		}
	}
	// fs/binfmt_elf.c:load_elf_binary fails with EINVAL if the entry point
	// is outside the user address space (BAD_ADDR).
	if hostarch.Addr(entry) >= lay.max || hostarch.Addr(exeEntry) >= lay.max {
		return nil, errno.EINVAL
	}

	var rnd [16]byte
	if _, err := io.ReadFull(random, rnd[:]); err != nil {
		return nil, errno.EIO
	}
	stack, err := buildStack(stackArgs{
		top:      lay.stackTop,
		argv:     argv,
		envv:     args.Envv,
		execfn:   args.Path,
		platform: args.Platform,
		random:   rnd,
		auxv: func(execfn, platform, random hostarch.Addr) []uint64 {
			// The order of fs/binfmt_elf.c:create_elf_tables, where
			// x86's ARCH_DLINFO puts AT_SYSINFO_EHDR first, without
			// AT_RSEQ_* (rseq is ENOSYS).
			var auxv []uint64
			if args.VDSO != nil {
				// The image starts a page above the vvar page.
				auxv = append(auxv, linux.AT_SYSINFO_EHDR, uint64(vdsoAddr)+hostarch.PageSize)
			}
			auxv = append(auxv,
				linux.AT_MINSIGSTKSZ, minSigStackSize,
				linux.AT_HWCAP, args.HWCap,
				linux.AT_PAGESZ, hostarch.PageSize,
				linux.AT_CLKTCK, clocksPerSec,
				linux.AT_PHDR, exe.phdrAddr+exeBias,
				linux.AT_PHENT, linux.ELF64_PHDR_SIZE,
				linux.AT_PHNUM, uint64(exe.phnum),
				linux.AT_BASE, interpBias,
				linux.AT_FLAGS, 0,
				linux.AT_ENTRY, exeEntry,
				linux.AT_UID, uint64(args.UID),
				linux.AT_EUID, uint64(args.EUID),
				linux.AT_GID, uint64(args.GID),
				linux.AT_EGID, uint64(args.EGID),
				linux.AT_SECURE, 0, // setuid is ignored (no_new_privs).
				linux.AT_RANDOM, uint64(random),
				linux.AT_HWCAP2, 0,
				linux.AT_EXECFN, uint64(execfn),
			)
			if platform != 0 {
				auxv = append(auxv, linux.AT_PLATFORM, uint64(platform))
			}
			return auxv
		},
	})
	if err != nil {
		return nil, err
	}

	// Phase 2: build the address space.
	if err := mapELF(mem, f, exe, exeBias); err != nil {
		return nil, err
	}
	if interp != nil {
		if err := mapELF(mem, interpFile, interp, interpBias); err != nil {
			return nil, err
		}
	}
	if args.VDSO != nil {
		if _, err := args.VDSO.Map(mem, vdsoAddr); err != nil {
			return nil, toErrno(err, errno.ENOMEM)
		}
	}
	stackPerms := hostarch.ReadWrite
	// fs/binfmt_elf.c:load_elf_binary: PT_GNU_STACK with PF_X asks for an
	// executable stack (EXSTACK_ENABLE_X); on x86-64 the default is not.
	stackPerms.Execute = exe.execStack
	if _, err := mem.MMap(mm.MMapOpts{
		Length:    stackSize,
		Addr:      lay.stackBottom,
		Fixed:     true,
		Perms:     stackPerms,
		MaxPerms:  hostarch.AnyAccess,
		Private:   true,
		GrowsDown: true,
		Name:      "[stack]",
	}); err != nil {
		return nil, toErrno(err, errno.ENOMEM)
	}
	if _, err := mem.CopyOut(stack.sp, stack.data); err != nil {
		return nil, toErrno(err, errno.EFAULT)
	}
	mem.SetBrkStart(exeRange.End)
	mem.SetArgvRange(stack.argv)
	mem.SetEnvvRange(stack.envv)
	mem.SetAuxv(stack.auxv)
	return &Image{Entry: hostarch.Addr(entry), Stack: stack.sp}, nil
}

// mapELF maps e's PT_LOAD segments at their addresses plus bias, as
// fs/binfmt_elf.c:elf_load does: the file-backed part covers p_filesz, the
// rest of its last page is zeroed (padzero), and whole pages beyond it up to
// p_memsz are anonymous.
func mapELF(mem Memory, f File, e *elfFile, bias uint64) error {
	for i := range e.phdrs {
		p := &e.phdrs[i]
		if p.typ != linux.PT_LOAD || p.memsz == 0 {
			continue
		}
		perms := p.perms()
		// placeMain/placeInterp checked that [start, end)+bias is in
		// range, so none of these can wrap.
		vaddr := hostarch.Addr(p.vaddr + bias)
		pageOff := uint64(vaddr) % hostarch.PageSize
		zeroStart := vaddr.RoundDown()
		if p.filesz > 0 {
			if _, err := mem.MMap(mm.MMapOpts{
				Length:   pageOff + p.filesz,
				Addr:     vaddr.RoundDown(),
				Fixed:    true,
				Perms:    perms,
				MaxPerms: hostarch.AnyAccess,
				Private:  true,
				File:     f,
				Offset:   p.offset - pageOff, // checkLoad: same page offset.
			}); err != nil {
				return toErrno(err, errno.ENOMEM)
			}
			zeroStart = vaddr + hostarch.Addr(p.filesz)
			// The file page holding the end of p_filesz also holds
			// whatever follows in the file; the bss must read as zeros.
			// "Zero the end of the last mapped page but ignore any
			// errors if the segment isn't writable."
			if n := uint64(zeroStart) % hostarch.PageSize; n != 0 && p.memsz > p.filesz {
				zeros := make([]byte, hostarch.PageSize-n)
				if _, err := mem.CopyOut(zeroStart, zeros); err != nil && perms.Write {
					return errno.EFAULT
				}
			}
		}
		// Anonymous pages for the rest of the bss. Linux gives them brk
		// permissions (read/write); we keep the segment's own, which is
		// what the ELF file asked for.
		anonStart, _ := zeroStart.RoundUp()
		anonEnd, _ := (vaddr + hostarch.Addr(p.memsz)).RoundUp()
		if anonEnd > anonStart {
			if _, err := mem.MMap(mm.MMapOpts{
				Length:   uint64(anonEnd - anonStart),
				Addr:     anonStart,
				Fixed:    true,
				Perms:    perms,
				MaxPerms: hostarch.AnyAccess,
				Private:  true,
			}); err != nil {
				return toErrno(err, errno.ENOMEM)
			}
		}
	}
	return nil
}
