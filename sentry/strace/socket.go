package strace

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
)

// Socket syscalls pass some lengths by reference (accept's addrlen,
// getsockopt's optlen, recvmsg's msg_namelen): the guest says how big its
// buffer is and the syscall overwrites that with how much it filled in.
// strace shows both, [128 => 16], so the guest's value is read at entry
// and kept in the call until exit.

// inLen is a by-reference length as the guest passed it.
type inLen struct {
	n  int32
	ok bool // false if the guest's pointer could not be read
}

// hasInLen reports whether an argument's kind is a by-reference length.
func (k argKind) hasInLen() bool {
	return k == argSockLenPtr || k == argOptLenPtr || k == argOutMsghdr
}

func itoa32(v int32) string { return strconv.FormatInt(int64(v), 10) }

// readUint32 reads the 32-bit value at v.
func readUint32(mem memory, v uintptr) (uint32, bool) {
	if mem == nil || v == 0 {
		return 0, false
	}
	var b [4]byte
	if n, _ := mem.CopyInBytes(hostarch.Addr(v), b[:]); n != len(b) {
		return 0, false
	}
	return binary.LittleEndian.Uint32(b[:]), true
}

// readInLen reads, at entry, the length that an argument of kind k refers
// to.
func readInLen(mem memory, k argKind, v uintptr) inLen {
	if k == argOutMsghdr {
		h, ok := readMsghdr(mem, v)
		return inLen{h.namelen, ok}
	}
	n, ok := readUint32(mem, v)
	return inLen{int32(n), ok}
}

// formatInLen prints at entry an argument whose length readInLen read.
func formatInLen(spec argSpec, args arch.SyscallArguments, v uintptr, in inLen) string {
	switch {
	case spec.kind == argSockLenPtr && args[spec.lenArg].Value == 0:
		// With no address the kernel ignores the length, and strace
		// shows only the pointer.
		return formatPointer(v)
	case !in.ok:
		return formatPointer(v)
	case spec.kind == argOutMsghdr:
		// Until recvmsg fills the message in, only the size of its name
		// buffer means anything.
		return "{msg_namelen=" + itoa32(in.n) + "}"
	}
	return "[" + itoa32(in.n) + "]"
}

// formatLenResult prints a by-reference length at exit: 16, or 128 => 16
// when the syscall changed it.
func formatLenResult(in inLen, out int32) string {
	if in.ok && in.n != out {
		return itoa32(in.n) + " => " + itoa32(out)
	}
	return itoa32(out)
}

// filledLen returns how many bytes the syscall filled in a buffer whose
// by-reference length is at p. The kernel reports the object's full size
// even when it truncated it to the buffer (net/socket.c:move_addr_to_user),
// so the answer is the smaller of the two lengths.
func filledLen(mem memory, p uintptr, in inLen) (int64, bool) {
	out, ok := readUint32(mem, p)
	if !ok {
		return 0, false
	}
	n := int64(int32(out))
	if in.ok {
		n = min(n, int64(in.n))
	}
	return n, true
}

// formatOutSocketArg prints socket argument n once its syscall has
// succeeded with return value rv. in holds the lengths read at entry.
func formatOutSocketArg(mem memory, spec argSpec, args arch.SyscallArguments, n int, rv uintptr, in *[6]inLen) string {
	v := args[n].Value
	switch spec.kind {
	case argSockLenPtr, argOptLenPtr:
		if spec.kind == argSockLenPtr && args[spec.lenArg].Value == 0 {
			return formatPointer(v)
		}
		out, ok := readUint32(mem, v)
		if !ok {
			return formatPointer(v)
		}
		return "[" + formatLenResult(in[n], int32(out)) + "]"
	case argOutSockaddr:
		l, ok := filledLen(mem, args[spec.lenArg].Value, in[spec.lenArg])
		if !ok {
			return formatPointer(v)
		}
		return formatSockaddr(mem, v, l)
	case argOutSockoptVal:
		l, ok := filledLen(mem, args[spec.lenArg].Value, in[spec.lenArg])
		if !ok {
			return formatPointer(v)
		}
		return formatSockoptValue(mem, v, sockoptOf(args), l, false /* set */)
	case argOutMsghdr:
		return formatRecvMsghdr(mem, v, uint64(rv), in[n])
	}
	return formatPointer(v)
}

// formatSocketProtocol prints socket(2)'s protocol, whose names depend on
// the domain. strace names them only for the families below; for the
// others, as here, it is a number.
func formatSocketProtocol(domain, proto int64) string {
	switch domain {
	case afInet, afInet6:
		return formatEnumHex(proto, ipProtocols, "IPPROTO_???")
	case afNetlink:
		return formatEnumHex(proto, netlinkProtocols, "NETLINK_???")
	}
	return strconv.FormatInt(proto, 10)
}

// sockoptOf returns the (level, optname) of setsockopt(2) or
// getsockopt(2), which both take (fd, level, optname, optval, optlen).
func sockoptOf(args arch.SyscallArguments) sockopt {
	return sockopt{int64(int32(args[1].Value)), int64(int32(args[2].Value))}
}

// formatSockoptName prints an option name, whose names depend on the
// level; get selects getsockopt(2)'s names where they differ.
func formatSockoptName(o sockopt, get bool) string {
	if name, ok := getsockoptNames[o]; ok && get {
		return name
	}
	names, ok := sockoptNames[o.level]
	if !ok {
		return strconv.FormatInt(o.name, 10)
	}
	return formatEnumHex(o.name, names.names, names.unknown)
}

// intField is one 32-bit field of a socket option's struct.
type intField struct {
	name     string
	unsigned bool
}

// struct linger and struct ucred, from <linux/socket.h>.
var (
	lingerFields = []intField{{"l_onoff", false}, {"l_linger", false}}
	ucredFields  = []intField{{"pid", false}, {"uid", true}, {"gid", true}}
)

// formatSockoptValue shows an option value of n bytes at v. set is true
// for setsockopt(2), whose value the kernel checks more strictly than
// getsockopt(2) fills it: strace shows a setsockopt value too short for its
// type as a pointer, and a getsockopt one as the fields that were filled.
func formatSockoptValue(mem memory, v uintptr, o sockopt, n int64, set bool) string {
	if mem == nil || v == 0 {
		return formatPointer(v)
	}
	switch {
	case o == sockopt{solSocket, soLinger}:
		return formatIntStruct(mem, v, n, set, lingerFields)
	case o == sockopt{solSocket, soPeercred}:
		return formatIntStruct(mem, v, n, set, ucredFields)
	case o == sockopt{solIP, ipAddMembership} || o == sockopt{solIP, ipDropMembership}:
		return formatIPMreq(mem, v, n)
	case set && o.level == solSocket && socketIntOptions[o.name]:
		if n < 4 {
			return formatHex(v)
		}
		return formatIntOption(mem, v, o)
	case n == 4:
		return formatIntOption(mem, v, o)
	}
	// Anything else shows as bytes; a negative length is a huge one.
	return formatBuffer(mem, v, uint64(n))
}

// formatIntOption shows an int option value as [N]. SO_ERROR's value is an
// errno, which strace names.
func formatIntOption(mem memory, v uintptr, o sockopt) string {
	x, ok := readUint32(mem, v)
	if !ok {
		return formatHex(v)
	}
	s := itoa32(int32(x))
	if o == (sockopt{solSocket, soError}) && x != 0 {
		// Name falls back to "E<n>" for numbers it has no name for;
		// strace shows those as plain numbers.
		if name := errno.Errno(x).Name(); name != "E"+strconv.FormatUint(uint64(x), 10) {
			s = name
		}
	}
	return "[" + s + "]"
}

// formatIntStruct shows a struct of 32-bit fields from an n-byte value.
func formatIntStruct(mem memory, v uintptr, n int64, set bool, fields []intField) string {
	size := int64(4 * len(fields))
	if n < 4 || (set && n < size) {
		return formatHex(v)
	}
	b := make([]byte, min(n, size)&^3)
	if got, _ := mem.CopyInBytes(hostarch.Addr(v), b); got != len(b) {
		return formatHex(v)
	}
	parts := make([]string, len(b)/4)
	for i := range parts {
		x := binary.LittleEndian.Uint32(b[4*i:])
		val := itoa32(int32(x))
		if fields[i].unsigned {
			val = strconv.FormatUint(uint64(x), 10)
		}
		parts[i] = fields[i].name + "=" + val
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// formatIPMreq shows struct ip_mreq, IP_ADD_MEMBERSHIP's value. The kernel
// also takes the longer struct ip_mreqn there; strace shows its first two
// fields all the same.
func formatIPMreq(mem memory, v uintptr, n int64) string {
	var b [8]byte
	if n < int64(len(b)) {
		return formatHex(v)
	}
	if got, _ := mem.CopyInBytes(hostarch.Addr(v), b[:]); got != len(b) {
		return formatHex(v)
	}
	return "{imr_multiaddr=" + inetAddr(b[:4]) + ", imr_interface=" + inetAddr(b[4:]) + "}"
}

// sizeofMsghdr is sizeof(struct user_msghdr) on x86-64.
const sizeofMsghdr = 56

// msghdr is struct user_msghdr, from <linux/socket.h>.
type msghdr struct {
	name       uintptr
	namelen    int32
	iov        uintptr
	iovlen     uint64
	control    uintptr
	controllen uint64
	flags      uint32
}

func readMsghdr(mem memory, v uintptr) (msghdr, bool) {
	if mem == nil || v == 0 {
		return msghdr{}, false
	}
	var b [sizeofMsghdr]byte
	if n, _ := mem.CopyInBytes(hostarch.Addr(v), b[:]); n != len(b) {
		return msghdr{}, false
	}
	le := binary.LittleEndian
	return msghdr{
		name:       uintptr(le.Uint64(b[0:])),
		namelen:    int32(le.Uint32(b[8:])),
		iov:        uintptr(le.Uint64(b[16:])),
		iovlen:     le.Uint64(b[24:]),
		control:    uintptr(le.Uint64(b[32:])),
		controllen: le.Uint64(b[40:]),
		flags:      le.Uint32(b[48:]),
	}, true
}

// formatSendMsghdr shows sendmsg(2)'s message, at entry.
func formatSendMsghdr(mem memory, v uintptr) string {
	h, ok := readMsghdr(mem, v)
	if !ok {
		return formatPointer(v)
	}
	return formatMsghdr(mem, h, int64(h.namelen), itoa32(h.namelen), ^uint64(0))
}

// formatRecvMsghdr shows recvmsg(2)'s message once it has received rv
// bytes; in is msg_namelen as the guest passed it.
func formatRecvMsghdr(mem memory, v uintptr, rv uint64, in inLen) string {
	h, ok := readMsghdr(mem, v)
	if !ok {
		return formatPointer(v)
	}
	nameLen := int64(h.namelen)
	if in.ok {
		nameLen = min(nameLen, int64(in.n))
	}
	return formatMsghdr(mem, h, nameLen, formatLenResult(in, h.namelen), rv)
}

// formatMsghdr shows a message whose name holds nameLen bytes and whose
// iovecs hold total bytes of data. Control messages are not decoded:
// msg_control, which strace shows only when msg_controllen is set, shows
// as its pointer.
func formatMsghdr(mem memory, h msghdr, nameLen int64, namelen string, total uint64) string {
	s := "{msg_name=" + formatSockaddr(mem, h.name, nameLen) +
		", msg_namelen=" + namelen +
		", msg_iov=" + formatIovecs(mem, h.iov, uintptr(h.iovlen), total) +
		", msg_iovlen=" + strconv.FormatUint(h.iovlen, 10)
	if h.controllen != 0 {
		s += ", msg_control=" + formatPointer(h.control)
	}
	return s + ", msg_controllen=" + strconv.FormatUint(h.controllen, 10) +
		", msg_flags=" + formatMsgFlags(uint64(h.flags)) + "}"
}
