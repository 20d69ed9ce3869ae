package loader

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// Argument limits, from include/uapi/linux/binfmts.h and
// fs/exec.c:bprm_stack_limits.
const (
	// maxArgStrlen is MAX_ARG_STRLEN: the longest single string, NUL
	// included.
	maxArgStrlen = 32 * hostarch.PageSize
	// argMax is ARG_MAX: "We've historically supported up to 32 pages
	// (ARG_MAX) of argument strings even with small stacks".
	argMax = 32 * hostarch.PageSize
	// argLimit is the space for strings plus pointers: a quarter of the
	// stack rlimit (2 MiB for the 8 MiB default; Linux caps it at 3/4 of
	// _STK_LIM, which a default rlimit never reaches) and never less than
	// ARG_MAX.
	argLimit = max(stackSize/4, argMax)
	// ptrSize is sizeof(void *).
	ptrSize = 8
)

// checkArgLimits fails with E2BIG if argv, envv and the exec filename would
// not fit, as fs/exec.c:bprm_stack_limits and copy_strings account them:
// every string at most MAX_ARG_STRLEN, and all strings plus the argv/envp
// pointers within argLimit.
func checkArgLimits(argv, envv []string, execfn string) error {
	ptrs := (max(len(argv), 1) + len(envv)) * ptrSize
	if ptrs >= argLimit {
		return errno.E2BIG
	}
	room := argLimit - ptrs
	for _, list := range [][]string{{execfn}, envv, argv} {
		for _, s := range list {
			n := len(s) + 1
			if n > maxArgStrlen || n > room {
				return errno.E2BIG
			}
			room -= n
		}
	}
	return nil
}

// stackArgs are the inputs of buildStack.
type stackArgs struct {
	top        hostarch.Addr
	argv, envv []string
	execfn     string
	platform   string // empty: no AT_PLATFORM string
	random     [16]byte
	// auxv returns the auxiliary vector, without the AT_NULL pair, given
	// the stack addresses of the AT_EXECFN, AT_PLATFORM and AT_RANDOM
	// data (platform is 0 without a platform string).
	auxv func(execfn, platform, random hostarch.Addr) []uint64
}

// stackImage is the initial stack, ready to copy out at sp.
type stackImage struct {
	sp   hostarch.Addr
	data []byte // contents of [sp, top)
	argv hostarch.AddrRange
	envv hostarch.AddrRange
	auxv []uint64 // AT_NULL pair included
}

// buildStack lays out the initial stack exactly as Linux does, top down:
//
//	top-8            a NULL pointer (bprm->p starts below it, fs/exec.c:__bprm_mm_init)
//	                 the exec filename (AT_EXECFN), then envp and argv strings
//	                 in reverse, so argv[0] is lowest (fs/exec.c:do_execveat_common)
//	                 --- aligned down to 16 (arch_align_stack without randomization)
//	                 the AT_PLATFORM string, then the 16 AT_RANDOM bytes, unaligned
//	                 auxv pairs, envp pointers + NULL, argv pointers + NULL, argc
//	sp               --- aligned down to 16 (STACK_ROUND)
//
// as fs/binfmt_elf.c:create_elf_tables writes it. The caller has checked
// the sizes with checkArgLimits, so nothing here can overflow.
func buildStack(a stackArgs) (stackImage, error) {
	var img stackImage
	p := a.top - ptrSize
	p -= hostarch.Addr(len(a.execfn) + 1)
	execfnAddr := p
	envStart := p - hostarch.Addr(stringsLen(a.envv))
	argStart := envStart - hostarch.Addr(stringsLen(a.argv))
	img.argv = hostarch.AddrRange{Start: argStart, End: envStart}
	img.envv = hostarch.AddrRange{Start: envStart, End: execfnAddr}

	p = argStart &^ 15
	var platformAddr hostarch.Addr
	if a.platform != "" {
		p -= hostarch.Addr(len(a.platform) + 1)
		platformAddr = p
	}
	p -= hostarch.Addr(len(a.random))
	randomAddr := p

	img.auxv = append(a.auxv(execfnAddr, platformAddr, randomAddr), 0, 0) // AT_NULL
	sp := p - hostarch.Addr(len(img.auxv)*ptrSize)
	items := (len(a.argv) + 1) + (len(a.envv) + 1) + 1
	sp = (sp - hostarch.Addr(items*ptrSize)) &^ 15
	if a.top-sp > stackSize {
		return stackImage{}, errno.E2BIG
	}
	img.sp = sp

	data := make([]byte, a.top-sp)
	at := func(addr hostarch.Addr) []byte { return data[addr-sp:] }
	le := binary.LittleEndian
	word := sp
	put := func(v uint64) {
		le.PutUint64(at(word), v)
		word += ptrSize
	}
	put(uint64(len(a.argv)))
	s := argStart
	for _, arg := range a.argv {
		put(uint64(s))
		copy(at(s), arg) // The NUL is already there: data starts zeroed.
		s += hostarch.Addr(len(arg) + 1)
	}
	put(0)
	for _, env := range a.envv {
		put(uint64(s))
		copy(at(s), env)
		s += hostarch.Addr(len(env) + 1)
	}
	put(0)
	for _, v := range img.auxv {
		put(v)
	}
	copy(at(execfnAddr), a.execfn)
	if a.platform != "" {
		copy(at(platformAddr), a.platform)
	}
	copy(at(randomAddr), a.random[:])
	img.data = data
	return img, nil
}

// stringsLen is the bytes strs take as C strings.
func stringsLen(strs []string) int {
	n := 0
	for _, s := range strs {
		n += len(s) + 1
	}
	return n
}
