// Package loader turns an execve(2) request into a fresh guest image: it
// follows `#!` scripts, maps an x86-64 ELF executable (static, static-pie or
// dynamic with PT_INTERP) and its interpreter, and builds the initial stack
// with argv, envp and the auxiliary vector as Linux does.
//
// The loader mirrors fs/exec.c:do_execveat_common, fs/exec.c:exec_binprm,
// fs/binfmt_script.c:load_script and fs/binfmt_elf.c:load_elf_binary. Every
// byte it reads from an executable is treated as hostile: headers are parsed
// by hand with explicit bounds and overflow checks rather than debug/elf.
//
// Unlike Linux, Load validates everything it can (script chain, both ELF
// files, address layout, argument sizes) before it maps anything, so a
// malformed file fails execve with an errno instead of killing the task after
// the point of no return. Errors are always errno.Errno values.
//
// Address space layout (ASLR is off; addresses are deterministic):
//
//	MaxAddr                     stub (not ours), exclusive upper bound
//	MaxAddr-4KiB                stack top: one unmapped guard page below the stub
//	stack top-8MiB              stack bottom ([stack], GrowsDown)
//	stack top-128MiB            "mmap base": the interpreter ends just below it
//	below the interpreter       [vvar] and [vdso] (below mmap base without one)
//	0x555555554000              ET_DYN main binaries (PIE and static-pie)
//	0x400000 etc.               ET_EXEC main binaries, at their link address
//	MinAddr                     lowest usable address
//
// Refcounts: files returned by LoadArgs.Open come with a reference owned by
// the loader. Mappings take their own references (mm.File), so the loader
// drops every reference it holds before returning, except the one on
// Image.Executable, which passes to the caller.
package loader

import (
	"crypto/rand"
	"errors"
	"io"
	"strings"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// Memory is the target address space (implemented by *mm.MemoryManager).
type Memory interface {
	// MMap creates a mapping as mmap(2) does.
	MMap(opts mm.MMapOpts) (hostarch.Addr, error)
	// CopyOut writes src to guest memory at addr.
	CopyOut(addr hostarch.Addr, src []byte) (int, error)
	// SetBrkStart sets the initial program break: the page-aligned end of
	// the main binary's highest segment (bss included).
	SetBrkStart(addr hostarch.Addr)
	// SetArgvRange records where the argv strings live, for
	// /proc/self/cmdline.
	SetArgvRange(r hostarch.AddrRange)
	// SetEnvvRange records where the envp strings live, for
	// /proc/self/environ.
	SetEnvvRange(r hostarch.AddrRange)
	// SetAuxv records the auxiliary vector as flattened (key, value) pairs,
	// AT_NULL pair included, for /proc/self/auxv.
	SetAuxv(auxv []uint64)
}

// File is an opened executable (implemented by *vfs.FileDescription).
type File = mm.File

// LoadArgs are the inputs of Load.
type LoadArgs struct {
	// Path is the guest path as given to execve; Open resolves it.
	Path string
	// Argv and Envv are the argument and environment strings. They must not
	// contain NUL bytes (they were C strings in the guest).
	Argv, Envv []string
	// Open opens a file for exec: it resolves the path in the sandbox and
	// checks exec permission, and returns errno.Errno errors. The returned
	// File carries a reference that the loader owns.
	Open func(path string) (File, error)
	// Random is the source of AT_RANDOM's 16 bytes (crypto/rand in
	// production; nil means crypto/rand).
	Random io.Reader
	// Credentials reported in the auxv.
	UID, EUID, GID, EGID uint32
	// MinAddr and MaxAddr bound the usable guest address range; MaxAddr is
	// the stub address (exclusive).
	MinAddr, MaxAddr hostarch.Addr
	// HWCap is the AT_HWCAP value.
	HWCap uint64
	// Platform is the AT_PLATFORM string ("x86_64"); empty omits the entry,
	// as Linux does when ELF_PLATFORM is NULL.
	Platform string
	// VDSO, if set, is mapped into the image and announced in
	// AT_SYSINFO_EHDR.
	VDSO VDSO
}

// VDSO is the sandbox's vDSO (implemented by *vdso.VDSO).
type VDSO interface {
	// Size is the page-aligned address space the vDSO and its data take.
	Size() uint64
	// Map maps them at addr and returns the vDSO image's address.
	Map(mem mm.Mapper, addr hostarch.Addr) (hostarch.Addr, error)
}

// Image is a loaded program, ready to run.
type Image struct {
	// Entry is the initial rip (the interpreter's entry with PT_INTERP).
	Entry hostarch.Addr
	// Stack is the initial rsp; it points at argc and is 16-byte aligned.
	Stack hostarch.Addr
	// ExecPath is the guest path of the final executable after `#!`
	// rewriting, for /proc/self/exe. It is the file's own absolute path
	// (mm.File.MappingIdentity) when it has one, else the path it was
	// opened by.
	ExecPath string
	// Executable is the final executable, with a reference the caller owns
	// (DecRef when done).
	Executable File
	// Argv is the final argv after `#!` rewriting.
	Argv []string
	// Name is the new comm: the basename of LoadArgs.Path (the script, not
	// its interpreter), truncated to TASK_COMM_LEN-1 bytes, as
	// fs/exec.c:begin_new_exec sets it.
	Name string
}

// maxRewrites is the number of binfmt rewrites (here: `#!` levels) allowed
// before ELOOP. fs/exec.c:exec_binprm fails with ELOOP once depth > 5, so a
// chain of five scripts ending in an ELF file loads and six fail; checked
// against Linux 6.18.
const maxRewrites = 5

// taskCommLen is TASK_COMM_LEN from include/linux/sched.h.
const taskCommLen = 16

// Load loads the program named by args.Path into mem and returns its image.
//
// mem should be a fresh address space: the loader maps with Fixed and
// relies on nothing else being in the way. On error, mem may hold partial
// mappings and the caller must discard it.
func Load(mem Memory, args LoadArgs) (*Image, error) {
	if args.Open == nil {
		return nil, errno.EINVAL
	}
	lay, err := newLayout(args.MinAddr, args.MaxAddr)
	if err != nil {
		return nil, err
	}
	random := args.Random
	if random == nil {
		random = rand.Reader
	}

	// fs/exec.c:do_execveat_common: "In the case of argc = 0, ... ensure
	// there is space for adding a empty string (which will bump argc to
	// 1)". Copy so that script rewriting never aliases the caller's slice.
	argv := append([]string(nil), args.Argv...)
	if len(argv) == 0 {
		argv = []string{""}
	}

	// Linux opens the file before it copies the strings in, so ENOENT wins
	// over E2BIG.
	f, err := openExec(args.Open, args.Path)
	if err != nil {
		return nil, err
	}
	if err := checkArgLimits(argv, args.Envv, args.Path); err != nil {
		f.DecRef()
		return nil, err
	}

	// Follow `#!` scripts, fs/exec.c:exec_binprm.
	curPath := args.Path
	var head [binprmBufSize]byte
	for depth := 0; ; depth++ {
		if depth > maxRewrites {
			f.DecRef()
			return nil, errno.ELOOP
		}
		if err := readHead(f, head[:]); err != nil {
			f.DecRef()
			return nil, err
		}
		if !isScript(head[:]) {
			break
		}
		interp, interpArgs, err := parseShebang(head[:])
		if err == nil && interp == "" {
			// A bare "#!" (or "#!" then NUL) parses to an empty name.
			// open_exec("") walks no components and lands on the cwd,
			// a directory, so do_open_execat fails with EACCES (checked
			// against Linux 6.18). Don't rely on Open agreeing.
			err = errno.EACCES
		}
		if err != nil {
			f.DecRef()
			return nil, err
		}
		argv = scriptArgv(argv, interp, interpArgs, curPath)
		f.DecRef()
		if err := checkArgLimits(argv, args.Envv, args.Path); err != nil {
			return nil, err
		}
		if f, err = openExec(args.Open, interp); err != nil {
			return nil, err
		}
		curPath = interp
	}

	img, err := loadELF(mem, f, head[:], lay, argv, random, &args)
	if err != nil {
		f.DecRef()
		return nil, err
	}
	img.Executable = f
	img.ExecPath = curPath
	if _, _, name := f.MappingIdentity(); strings.HasPrefix(name, "/") {
		img.ExecPath = name
	}
	img.Argv = argv
	img.Name = commName(args.Path)
	return img, nil
}

// openExec opens p with open and normalizes its error to an errno.
func openExec(open func(string) (File, error), p string) (File, error) {
	f, err := open(p)
	if err != nil {
		return nil, toErrno(err, errno.ENOENT)
	}
	if f == nil {
		return nil, errno.ENOENT
	}
	return f, nil
}

// commName returns the comm Linux derives from an exec path:
// kbasename(bprm->filename) truncated to fit TASK_COMM_LEN
// (fs/exec.c:begin_new_exec). It does not use path.Base, which strips
// trailing slashes and returns "." for "", unlike kbasename.
func commName(p string) string {
	name := p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		name = p[i+1:]
	}
	if len(name) > taskCommLen-1 {
		name = name[:taskCommLen-1]
	}
	return name
}

// toErrno returns err as an errno.Errno, or fallback if it is some other
// error: only errnos may leave the loader.
func toErrno(err error, fallback errno.Errno) error {
	var e errno.Errno
	if errors.As(err, &e) && e != 0 {
		return e
	}
	return fallback
}
