package strace

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
)

// Limits on what one line shows, so that a hostile or chatty guest cannot
// make the sentry copy megabytes per syscall into the log.
const (
	// maxBufShown is strace's default -s 32: buffers and ordinary strings
	// are cut after this many bytes and marked with "...".
	maxBufShown = 32
	// maxPathLen is PATH_MAX: paths are shown whole, as strace does.
	maxPathLen = 4096
	// maxArgvShown bounds the elements shown of an argv-style array.
	maxArgvShown = 32
)

// memory is the guest memory access strace needs. *kernel.Task provides it;
// tests pass a fake, so the formatting is testable without a kernel.
type memory interface {
	// CopyInString reads a NUL-terminated string of at most maxlen bytes.
	CopyInString(addr hostarch.Addr, maxlen int) (string, error)
	// CopyInBytes reads len(dst) bytes, returning how many it could read.
	CopyInBytes(addr hostarch.Addr, dst []byte) (int, error)
}

// argKind says how to print one syscall argument.
type argKind int

// Argument kinds. Kinds named "out" are printed after the syscall returns,
// because the guest memory they point to is only filled in by the syscall.
const (
	argHex         argKind = iota // raw value, hex (the default)
	argInt                        // signed decimal (int, long, off_t, pid_t)
	argUint                       // unsigned decimal (size_t, unsigned)
	argFd                         // file descriptor
	argDirFd                      // dirfd of *at(2): AT_FDCWD or an fd
	argPtr                        // pointer: NULL or hex
	argPath                       // NUL-terminated path, shown whole
	argString                     // NUL-terminated string, cut at maxBufShown
	argInBuf                      // buffer whose length is args[lenArg], read at entry
	argOutBuf                     // buffer whose length is the return value, read at exit
	argOutString                  // NUL-terminated string read at exit (getcwd)
	argOutFdPair                  // int[2] read at exit (pipe, socketpair)
	argStringArray                // NULL-terminated char *[] (execve argv)
	argInIovec                    // struct iovec[args[lenArg]], read at entry (writev)
	argOutIovec                   // struct iovec[args[lenArg]], filled by the return value, read at exit (readv)
	argOpenFlags
	argMode // octal permission bits
	argMmapProt
	argMmapFlags
	argMremapFlags
	argMadvise
	argAtFlags
	argAccessMode
	argWhence
	argFcntlCmd
	argSignal
	argSigHow
	argClockID
	argFutexOp
	argArchPrctl
	argCloneFlags
	argWaitOptions
	argSocketDomain
	argSocketType
	argSockProtocol   // socket(2)'s protocol, named after the domain in args[0]
	argSockLen        // socklen_t or int length passed by value, signed
	argSockaddr       // struct sockaddr * whose length is args[lenArg], read at entry
	argOutSockaddr    // struct sockaddr * filled by the syscall; args[lenArg] points to its length
	argSockLenPtr     // socklen_t * measuring the sockaddr in args[lenArg], read at entry and exit
	argOptLenPtr      // getsockopt's socklen_t *optlen, read at entry and exit
	argSockoptLevel   // level of setsockopt(2)/getsockopt(2)
	argSetsockoptName // optname, named after the level in args[1]
	argGetsockoptName // likewise, with getsockopt's names where they differ
	argSockoptVal     // setsockopt's optval, whose length is args[lenArg]
	argOutSockoptVal  // getsockopt's optval; args[lenArg] points to its length
	argInMsghdr       // sendmsg's struct msghdr *, read at entry
	argOutMsghdr      // recvmsg's struct msghdr *: msg_namelen at entry, the rest at exit
	argMsgFlags
	argShutdownHow
	argAcceptFlags
	argRlimit
	argPrctl
	argPtrace
	argGetrandomFlags
)

// isOut reports whether an argument is printed after the syscall returns.
func (k argKind) isOut() bool {
	switch k {
	case argOutBuf, argOutString, argOutFdPair, argOutIovec,
		argOutSockaddr, argSockLenPtr, argOptLenPtr, argOutSockoptVal, argOutMsghdr:
		return true
	}
	return false
}

// argSpec describes one argument.
type argSpec struct {
	kind argKind
	// lenArg is, for argInBuf, argSockaddr and argSockoptVal, the index
	// of the argument holding the length; for the iovec kinds, of the one
	// holding the count; for argOutSockaddr and argOutSockoptVal, of the
	// one pointing to the length; for argSockLenPtr, of the address it
	// measures.
	lenArg int
}

// retKind says how to print a successful return value.
type retKind int

const (
	retInt      retKind = iota // signed decimal
	retHex                     // an address (mmap, brk, mremap)
	retNoReturn                // never returns (exit, exit_group): printed as "= ?" at entry
)

// syscallInfo is one entry of the decoding table.
type syscallInfo struct {
	args []argSpec
	ret  retKind
}

// formatArg prints an argument known at entry. Out arguments are printed as
// their pointer here and replaced at exit.
func formatArg(mem memory, spec argSpec, args arch.SyscallArguments, v uintptr) string {
	switch spec.kind {
	case argInt:
		return strconv.FormatInt(int64(v), 10)
	case argUint:
		return strconv.FormatUint(uint64(v), 10)
	case argFd:
		return strconv.FormatInt(int64(int32(v)), 10)
	case argDirFd:
		if int32(v) == atFDCWD {
			return "AT_FDCWD"
		}
		return strconv.FormatInt(int64(int32(v)), 10)
	case argPtr, argOutBuf, argOutString, argOutFdPair, argOutIovec, argOutSockaddr, argOutSockoptVal:
		return formatPointer(v)
	case argSockLenPtr, argOptLenPtr, argOutMsghdr:
		// Strace.enter prints these with formatInLen, as it must keep
		// the length they point to.
		return formatPointer(v)
	case argPath:
		return formatCString(mem, v, maxPathLen, maxPathLen)
	case argString:
		return formatCString(mem, v, maxPathLen, maxBufShown)
	case argInBuf:
		return formatBuffer(mem, v, uint64(args[spec.lenArg].Value))
	case argStringArray:
		return formatStringArray(mem, v)
	case argInIovec:
		return formatIovecs(mem, v, args[spec.lenArg].Value, ^uint64(0))
	case argOpenFlags:
		return formatOpenFlags(uint64(v))
	case argMode:
		// strace prints modes with a leading zero and at least three
		// digits: 0644, 007, 000.
		m := strconv.FormatUint(uint64(v)&0o7777, 8)
		if len(m) < 2 {
			m = "0" + m
		}
		return "0" + m
	case argMmapProt:
		return formatMmapProt(uint64(v))
	case argMmapFlags:
		return formatMmapFlags(uint64(v))
	case argMremapFlags:
		return formatFlags(uint64(v), mremapFlags)
	case argMadvise:
		return formatEnum(int64(int32(v)), madviseAdvice)
	case argAtFlags:
		return formatFlags(uint64(uint32(v)), atFlags)
	case argAccessMode:
		return formatAccessMode(uint64(v))
	case argWhence:
		return formatEnum(int64(int32(v)), whenceNames)
	case argFcntlCmd:
		return formatEnum(int64(int32(v)), fcntlCmds)
	case argSignal:
		return formatSignal(int64(int32(v)))
	case argSigHow:
		return formatEnum(int64(int32(v)), sigprocmaskHow)
	case argClockID:
		return formatEnum(int64(int32(v)), clockIDs)
	case argFutexOp:
		return formatFutexOp(uint64(uint32(v)))
	case argArchPrctl:
		return formatEnum(int64(int32(v)), archPrctlCodes)
	case argCloneFlags:
		return formatCloneFlags(uint64(v))
	case argWaitOptions:
		return formatFlags(uint64(uint32(v)), waitOptions)
	case argSocketDomain:
		return formatEnumHex(int64(int32(v)), socketFamilies, "AF_???")
	case argSocketType:
		return formatSocketType(uint64(uint32(v)))
	case argSockProtocol:
		return formatSocketProtocol(int64(int32(args[0].Value)), int64(int32(v)))
	case argSockLen:
		return strconv.FormatInt(int64(int32(v)), 10)
	case argSockaddr:
		return formatSockaddr(mem, v, int64(int32(args[spec.lenArg].Value)))
	case argSockoptLevel:
		return formatEnumHex(int64(int32(v)), sockoptLevels, "SOL_??")
	case argSetsockoptName, argGetsockoptName:
		return formatSockoptName(sockoptOf(args), spec.kind == argGetsockoptName)
	case argSockoptVal:
		return formatSockoptValue(mem, v, sockoptOf(args), int64(int32(args[spec.lenArg].Value)), true /* set */)
	case argInMsghdr:
		return formatSendMsghdr(mem, v)
	case argMsgFlags:
		return formatMsgFlags(uint64(uint32(v)))
	case argShutdownHow:
		return formatEnumHex(int64(int32(v)), shutdownHows, "SHUT_???")
	case argAcceptFlags:
		return formatFlagsNote(uint64(uint32(v)), socketTypeFlags, "SOCK_???")
	case argRlimit:
		return formatEnum(int64(int32(v)), rlimitResources)
	case argPrctl:
		return formatEnum(int64(int32(v)), prctlOptions)
	case argPtrace:
		return formatEnum(int64(v), ptraceRequests)
	case argGetrandomFlags:
		return formatFlags(uint64(v), getrandomFlags)
	default:
		return formatHex(v)
	}
}

// formatOutArg prints out argument n once the syscall has succeeded with
// return value rv. in holds the by-reference lengths read at entry.
func formatOutArg(mem memory, spec argSpec, args arch.SyscallArguments, n int, rv uintptr, in *[6]inLen) string {
	v := args[n].Value
	switch spec.kind {
	case argOutIovec:
		return formatIovecs(mem, v, args[spec.lenArg].Value, uint64(rv))
	case argOutBuf:
		return formatBuffer(mem, v, uint64(rv))
	case argOutString:
		return formatCString(mem, v, maxPathLen, maxPathLen)
	case argOutFdPair:
		var b [8]byte
		if mem == nil || v == 0 {
			return formatPointer(v)
		}
		if n, _ := mem.CopyInBytes(hostarch.Addr(v), b[:]); n != len(b) {
			return formatPointer(v)
		}
		return "[" + strconv.FormatInt(int64(int32(binary.LittleEndian.Uint32(b[:4]))), 10) +
			", " + strconv.FormatInt(int64(int32(binary.LittleEndian.Uint32(b[4:]))), 10) + "]"
	}
	return formatOutSocketArg(mem, spec, args, n, rv, in)
}

// formatHex prints v in hex, and zero as plain 0 as strace does.
func formatHex(v uintptr) string {
	if v == 0 {
		return "0"
	}
	return "0x" + strconv.FormatUint(uint64(v), 16)
}

func formatPointer(v uintptr) string {
	if v == 0 {
		return "NULL"
	}
	return formatHex(v)
}

// formatCString reads a string of at most maxRead bytes and shows at most
// shown bytes of it. An unreadable string shows as its address, as strace
// does.
func formatCString(mem memory, v uintptr, maxRead, shown int) string {
	if v == 0 {
		return "NULL"
	}
	if mem == nil {
		return formatHex(v)
	}
	s, err := mem.CopyInString(hostarch.Addr(v), maxRead)
	if err != nil && s == "" {
		return formatHex(v)
	}
	return quote([]byte(s), shown, len(s) > shown)
}

// formatBuffer shows up to maxBufShown of the n bytes at v.
func formatBuffer(mem memory, v uintptr, n uint64) string {
	if mem == nil || (v == 0 && n != 0) {
		return formatPointer(v)
	}
	shown := n
	if shown > maxBufShown {
		shown = maxBufShown
	}
	b := make([]byte, shown)
	got, err := mem.CopyInBytes(hostarch.Addr(v), b)
	if err != nil && got == 0 && shown != 0 {
		return formatHex(v)
	}
	return quote(b[:got], len(b), n > uint64(got))
}

// formatStringArray shows an argv-style array: ["a", "b"].
func formatStringArray(mem memory, v uintptr) string {
	if v == 0 {
		return "NULL"
	}
	if mem == nil {
		return formatHex(v)
	}
	var parts []string
	for i := 0; ; i++ {
		if i == maxArgvShown {
			parts = append(parts, "...")
			break
		}
		var b [8]byte
		addr, ok := hostarch.Addr(v).AddLength(uint64(i) * 8)
		if !ok {
			break
		}
		if n, _ := mem.CopyInBytes(addr, b[:]); n != len(b) {
			if i == 0 {
				return formatHex(v)
			}
			break
		}
		p := uintptr(binary.LittleEndian.Uint64(b[:]))
		if p == 0 {
			break
		}
		parts = append(parts, formatCString(mem, p, maxPathLen, maxBufShown))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// maxIovecsShown bounds the iovecs shown of a readv/writev.
const maxIovecsShown = 8

// formatIovecs shows an iovec array as strace does:
// [{iov_base="abc", iov_len=3}, ...]. Only the first total bytes hold
// data (the return value of a readv); later buffers show as empty.
func formatIovecs(mem memory, v uintptr, count uintptr, total uint64) string {
	if mem == nil || v == 0 {
		return formatPointer(v)
	}
	var parts []string
	for n := uintptr(0); n < count; n++ {
		if n == maxIovecsShown {
			parts = append(parts, "...")
			break
		}
		var b [16]byte
		addr, ok := hostarch.Addr(v).AddLength(uint64(n) * 16)
		if !ok {
			break
		}
		if got, _ := mem.CopyInBytes(addr, b[:]); got != len(b) {
			if n == 0 {
				return formatHex(v)
			}
			break
		}
		base := uintptr(binary.LittleEndian.Uint64(b[:8]))
		length := binary.LittleEndian.Uint64(b[8:])
		data := min(length, total)
		total -= data
		parts = append(parts, "{iov_base="+formatBuffer(mem, base, data)+", iov_len="+strconv.FormatUint(length, 10)+"}")
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// quote escapes b as strace prints strings: C escapes for the usual control
// characters, octal for other non-printable bytes, and `...` after the
// closing quote when the data was cut. Only the first limit bytes are shown.
func quote(b []byte, limit int, cut bool) string {
	if len(b) > limit {
		b, cut = b[:limit], true
	}
	var sb strings.Builder
	sb.Grow(len(b) + 2)
	sb.WriteByte('"')
	for i, c := range b {
		switch c {
		case '"':
			sb.WriteString(`\"`)
		case '\\':
			sb.WriteString(`\\`)
		case '\t':
			sb.WriteString(`\t`)
		case '\n':
			sb.WriteString(`\n`)
		case '\v':
			sb.WriteString(`\v`)
		case '\f':
			sb.WriteString(`\f`)
		case '\r':
			sb.WriteString(`\r`)
		default:
			if c >= 0x20 && c < 0x7f {
				sb.WriteByte(c)
				continue
			}
			// The shortest octal escape is ambiguous when an octal digit
			// follows ("\1" then "2" reads as "\12"), so pad it then.
			o := strconv.FormatUint(uint64(c), 8)
			if i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '7' {
				o = strings.Repeat("0", 3-len(o)) + o
			}
			sb.WriteByte('\\')
			sb.WriteString(o)
		}
	}
	sb.WriteByte('"')
	if cut {
		sb.WriteString("...")
	}
	return sb.String()
}

// formatReturn prints the " = ..." part of a line.
func formatReturn(ret retKind, rv uintptr, err error) string {
	if err != nil {
		if e, ok := err.(errno.Errno); ok {
			if e.IsRestart() {
				// The guest never sees these: the syscall is restarted or
				// fails with EINTR after a signal handler runs.
				return "? " + restartName(e) + " (To be restarted)"
			}
			return "-1 " + e.Name() + " (" + e.Error() + ")"
		}
		return "-1 (" + err.Error() + ")"
	}
	if ret == retHex {
		return formatHex(rv)
	}
	return strconv.FormatInt(int64(rv), 10)
}

func restartName(e errno.Errno) string {
	switch e {
	case errno.ERESTARTSYS:
		return "ERESTARTSYS"
	case errno.ERESTARTNOINTR:
		return "ERESTARTNOINTR"
	case errno.ERESTARTNOHAND:
		return "ERESTARTNOHAND"
	case errno.ERESTART_RESTARTBLOCK:
		return "ERESTART_RESTARTBLOCK"
	}
	return e.Name()
}
