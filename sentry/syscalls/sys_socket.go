package syscalls

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/socket"

	// AF_UNIX and AF_NETLINK register themselves with package socket;
	// AF_INET and AF_INET6 are registered by the sandbox's network mode.
	_ "github.com/runsc-lite/runsc-lite/sentry/socket/netlink"
	_ "github.com/runsc-lite/runsc-lite/sentry/socket/unix"
)

// socketNote says what the socket syscalls cover.
const socketNote = "AF_UNIX and AF_NETLINK (NETLINK_ROUTE) in the sentry; AF_INET and AF_INET6 (TCP, UDP, ICMP echo) on the sandbox's netstack, or on host sockets with --network=host; other families fail with EAFNOSUPPORT."

// socketSyscalls are the BSD socket calls.
var socketSyscalls = map[uintptr]kernel.Syscall{
	41:  {Name: "socket", Fn: Socket, Support: kernel.SupportPartial, Note: socketNote},
	42:  {Name: "connect", Fn: Connect, Support: kernel.SupportPartial, Note: socketNote},
	43:  {Name: "accept", Fn: Accept, Support: kernel.SupportPartial, Note: socketNote},
	44:  {Name: "sendto", Fn: SendTo, Support: kernel.SupportPartial, Note: socketNote},
	45:  {Name: "recvfrom", Fn: RecvFrom, Support: kernel.SupportPartial, Note: socketNote},
	46:  {Name: "sendmsg", Fn: SendMsg, Support: kernel.SupportPartial, Note: socketNote},
	47:  {Name: "recvmsg", Fn: RecvMsg, Support: kernel.SupportPartial, Note: socketNote},
	48:  {Name: "shutdown", Fn: Shutdown, Support: kernel.SupportPartial, Note: socketNote},
	49:  {Name: "bind", Fn: Bind, Support: kernel.SupportPartial, Note: socketNote},
	50:  {Name: "listen", Fn: Listen, Support: kernel.SupportPartial, Note: socketNote},
	51:  {Name: "getsockname", Fn: GetSockName, Support: kernel.SupportPartial, Note: socketNote},
	52:  {Name: "getpeername", Fn: GetPeerName, Support: kernel.SupportPartial, Note: socketNote},
	53:  {Name: "socketpair", Fn: SocketPair, Support: kernel.SupportPartial, Note: socketNote},
	54:  {Name: "setsockopt", Fn: SetSockOpt, Support: kernel.SupportPartial, Note: socketNote + " SOL_SOCKET, SOL_IP, SOL_IPV6 and SOL_TCP options that programs set."},
	55:  {Name: "getsockopt", Fn: GetSockOpt, Support: kernel.SupportPartial, Note: socketNote + " SOL_SOCKET, SOL_IP, SOL_IPV6 and SOL_TCP options that programs set."},
	288: {Name: "accept4", Fn: Accept4, Support: kernel.SupportPartial, Note: socketNote},
	299: {Name: "recvmmsg", Fn: RecvMMsg, Support: kernel.SupportPartial, Note: socketNote + " The timeout is checked between messages, as Linux does."},
	307: {Name: "sendmmsg", Fn: SendMMsg, Support: kernel.SupportPartial, Note: socketNote},
}

// sockMax is SOCK_MAX: socket types at or above it are EINVAL.
const sockMax = 11

// sockFlags are the flags socket(2), socketpair(2) and accept4(2) take.
const sockFlags = linux.SOCK_NONBLOCK | linux.SOCK_CLOEXEC

// getSocket returns fd's file and socket: EBADF if fd is not open,
// ENOTSOCK if it is not a socket. The caller DecRefs the file.
func getSocket(t *kernel.Task, fd int32) (*vfs.FileDescription, socket.Socket, error) {
	f := t.GetFile(fd)
	if f == nil {
		return nil, nil, errno.EBADF
	}
	s, err := socket.FromFile(f)
	if err != nil {
		f.DecRef()
		return nil, nil, err
	}
	return f, s, nil
}

// sockCtx returns t as a socket.Context.
func sockCtx(t *kernel.Task) socket.Context {
	c, _ := socket.ContextOf(t)
	return c
}

// isNonblocking reports whether f is O_NONBLOCK.
func isNonblocking(f *vfs.FileDescription) bool {
	return f.StatusFlags()&linux.O_NONBLOCK != 0
}

// copyInAddress reads a socket address, as net/socket.c:
// move_addr_to_kernel: EINVAL for a negative length or one beyond
// sockaddr_storage, EFAULT for a bad pointer.
func copyInAddress(t *kernel.Task, addr hostarch.Addr, addrlen int32) ([]byte, error) {
	if addrlen < 0 || addrlen > linux.SizeofSockAddrStorage {
		return nil, errno.EINVAL
	}
	b := make([]byte, addrlen)
	if addrlen == 0 {
		return b, nil
	}
	if _, err := t.CopyInBytes(addr, b); err != nil {
		return nil, errno.EFAULT
	}
	return b, nil
}

// copyOutAddress writes addr for the guest, as move_addr_to_user: it reads
// the buffer's length at lenAddr (EINVAL if negative), writes as much of
// addr as fits, and stores addr's full length at lenAddr.
func copyOutAddress(t *kernel.Task, addr []byte, bufAddr, lenAddr hostarch.Addr) error {
	var lb [4]byte
	if _, err := t.CopyInBytes(lenAddr, lb[:]); err != nil {
		return errno.EFAULT
	}
	l := int32(binary.LittleEndian.Uint32(lb[:]))
	if l < 0 {
		return errno.EINVAL
	}
	n := min(int(l), len(addr))
	if n > 0 {
		if _, err := t.CopyOutBytes(bufAddr, addr[:n]); err != nil {
			return errno.EFAULT
		}
	}
	binary.LittleEndian.PutUint32(lb[:], uint32(len(addr)))
	if _, err := t.CopyOutBytes(lenAddr, lb[:]); err != nil {
		return errno.EFAULT
	}
	return nil
}

// installFile installs f at the lowest free fd; the table takes its own
// reference and f's is dropped.
func installFile(t *kernel.Task, f *vfs.FileDescription, cloexec bool) (int32, error) {
	defer f.DecRef()
	return t.FDTable().NewFD(0, f, cloexec)
}

// splitType separates socket(2)'s type from its flags: EINVAL for an
// unknown flag or a type beyond SOCK_MAX (net/socket.c:__sys_socket).
func splitType(arg int32) (typ int, flags uint32, err error) {
	flags = uint32(arg) &^ linux.SOCK_TYPE_MASK
	if flags&^sockFlags != 0 {
		return 0, 0, errno.EINVAL
	}
	return int(arg & linux.SOCK_TYPE_MASK), flags, nil
}

// Socket implements Linux syscall socket(2).
func Socket(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	family, typArg, protocol := args[0].Int(), args[1].Int(), args[2].Int()
	typ, flags, err := splitType(typArg)
	if err != nil {
		return 0, err
	}
	if family < 0 || family >= linux.AF_MAX {
		return 0, errno.EAFNOSUPPORT
	}
	if typ >= sockMax {
		return 0, errno.EINVAL
	}
	f, err := socket.New(sockCtx(t), int(family), typ, int(protocol), flags&linux.SOCK_NONBLOCK)
	if err != nil {
		return 0, err
	}
	fd, err := installFile(t, f, flags&linux.SOCK_CLOEXEC != 0)
	return uintptr(fd), err
}

// SocketPair implements Linux syscall socketpair(2).
func SocketPair(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	family, typArg, protocol, sv := args[0].Int(), args[1].Int(), args[2].Int(), args[3].Pointer()
	typ, flags, err := splitType(typArg)
	if err != nil {
		return 0, err
	}
	if family < 0 || family >= linux.AF_MAX {
		return 0, errno.EAFNOSUPPORT
	}
	if typ >= sockMax {
		return 0, errno.EINVAL
	}
	a, b, err := socket.NewPair(sockCtx(t), int(family), typ, int(protocol), flags&linux.SOCK_NONBLOCK)
	if err != nil {
		return 0, err
	}
	cloexec := flags&linux.SOCK_CLOEXEC != 0
	fdt := t.FDTable()
	afd, err := installFile(t, a, cloexec)
	if err != nil {
		b.DecRef()
		return 0, err
	}
	bfd, err := installFile(t, b, cloexec)
	if err != nil {
		fdt.Remove(afd).DecRef()
		return 0, err
	}
	var out [8]byte
	binary.LittleEndian.PutUint32(out[0:], uint32(afd))
	binary.LittleEndian.PutUint32(out[4:], uint32(bfd))
	if _, err := t.CopyOutBytes(sv, out[:]); err != nil {
		fdt.Remove(afd).DecRef()
		fdt.Remove(bfd).DecRef()
		return 0, errno.EFAULT
	}
	return 0, nil
}

// Bind implements Linux syscall bind(2).
func Bind(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, addr, addrlen := args[0].Int(), args[1].Pointer(), args[2].Int()
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	a, err := copyInAddress(t, addr, addrlen)
	if err != nil {
		return 0, err
	}
	return 0, s.Bind(sockCtx(t), a)
}

// Listen implements Linux syscall listen(2).
func Listen(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, backlog := args[0].Int(), args[1].Int()
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return 0, s.Listen(sockCtx(t), int(backlog))
}

// Connect implements Linux syscall connect(2).
func Connect(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, addr, addrlen := args[0].Int(), args[1].Pointer(), args[2].Int()
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	a, err := copyInAddress(t, addr, addrlen)
	if err != nil {
		return 0, err
	}
	return 0, s.Connect(sockCtx(t), a, isNonblocking(f))
}

// Accept implements Linux syscall accept(2).
func Accept(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return accept(t, args[0].Int(), args[1].Pointer(), args[2].Pointer(), 0)
}

// Accept4 implements Linux syscall accept4(2).
func Accept4(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	flags := args[3].Int()
	if uint32(flags)&^sockFlags != 0 {
		return 0, errno.EINVAL
	}
	return accept(t, args[0].Int(), args[1].Pointer(), args[2].Pointer(), uint32(flags))
}

func accept(t *kernel.Task, fd int32, addr, addrlen hostarch.Addr, flags uint32) (uintptr, error) {
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	nf, peer, err := s.Accept(sockCtx(t), flags&linux.SOCK_NONBLOCK, isNonblocking(f))
	if err != nil {
		return 0, err
	}
	nfd, err := installFile(t, nf, flags&linux.SOCK_CLOEXEC != 0)
	if err != nil {
		return 0, err
	}
	if addr != 0 {
		if err := copyOutAddress(t, peer, addr, addrlen); err != nil {
			t.FDTable().Remove(nfd).DecRef()
			return 0, err
		}
	}
	return uintptr(nfd), nil
}

// GetSockName implements Linux syscall getsockname(2).
func GetSockName(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, addr, addrlen := args[0].Int(), args[1].Pointer(), args[2].Pointer()
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	a, err := s.GetSockName(sockCtx(t))
	if err != nil {
		return 0, err
	}
	return 0, copyOutAddress(t, a, addr, addrlen)
}

// GetPeerName implements Linux syscall getpeername(2).
func GetPeerName(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, addr, addrlen := args[0].Int(), args[1].Pointer(), args[2].Pointer()
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	a, err := s.GetPeerName(sockCtx(t))
	if err != nil {
		return 0, err
	}
	return 0, copyOutAddress(t, a, addr, addrlen)
}

// Shutdown implements Linux syscall shutdown(2).
func Shutdown(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, how := args[0].Int(), args[1].Int()
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return 0, s.Shutdown(sockCtx(t), int(how))
}

// maxOptLen bounds the option value setsockopt copies in; every option
// we know is shorter.
const maxOptLen = 256

// SetSockOpt implements Linux syscall setsockopt(2).
func SetSockOpt(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, level, name, optval, optlen := args[0].Int(), args[1].Int(), args[2].Int(), args[3].Pointer(), args[4].Int()
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if optlen < 0 {
		return 0, errno.EINVAL
	}
	v := make([]byte, min(int(optlen), maxOptLen))
	if len(v) > 0 {
		if _, err := t.CopyInBytes(optval, v); err != nil {
			return 0, errno.EFAULT
		}
	}
	return 0, s.SetSockOpt(sockCtx(t), int(level), int(name), v)
}

// GetSockOpt implements Linux syscall getsockopt(2): the value is cut to
// the caller's length, which is then set to what was written
// (net/core/sock.c:sk_getsockopt).
func GetSockOpt(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, level, name, optval, optlenAddr := args[0].Int(), args[1].Int(), args[2].Int(), args[3].Pointer(), args[4].Pointer()
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	var lb [4]byte
	if _, err := t.CopyInBytes(optlenAddr, lb[:]); err != nil {
		return 0, errno.EFAULT
	}
	optlen := int32(binary.LittleEndian.Uint32(lb[:]))
	if optlen < 0 {
		return 0, errno.EINVAL
	}
	v, err := s.GetSockOpt(sockCtx(t), int(level), int(name), int(optlen))
	if err != nil {
		return 0, err
	}
	v = v[:min(len(v), int(optlen))]
	if len(v) > 0 {
		if _, err := t.CopyOutBytes(optval, v); err != nil {
			return 0, errno.EFAULT
		}
	}
	binary.LittleEndian.PutUint32(lb[:], uint32(len(v)))
	if _, err := t.CopyOutBytes(optlenAddr, lb[:]); err != nil {
		return 0, errno.EFAULT
	}
	return 0, nil
}
