package hostinet

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The host calls below take addresses and option values as raw bytes
// that the callers have validated already: x/sys/unix's Sockaddr types
// cannot express AF_UNSPEC or keep sin6_flowinfo, and its getsockopt
// helpers fix the length. Every call is made on a non-blocking socket and
// returns at once; EINTR (from the Go runtime's preemption signal) is
// retried.

// bytePtr returns the address of b's first byte, or nil for an empty b.
func bytePtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// hostBind is bind(2).
func hostBind(fd int, addr []byte) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(fd), uintptr(bytePtr(addr)), uintptr(len(addr)))
		if e != unix.EINTR {
			return errnoErr(e)
		}
	}
}

// hostConnect is connect(2). The socket is non-blocking, so a connection
// still being set up is EINPROGRESS.
func hostConnect(fd int, addr []byte) error {
	// connect(2) on a non-blocking socket is not restarted after EINTR:
	// the connection goes on, and a second call would see EALREADY.
	_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(bytePtr(addr)), uintptr(len(addr)))
	return errnoErr(e)
}

// hostAccept is accept4(2) with SOCK_NONBLOCK|SOCK_CLOEXEC: the new host
// fd and the peer's address.
func hostAccept(fd int) (int, []byte, error) {
	var sa [sockAddrMax]byte
	for {
		n := uint32(len(sa))
		nfd, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd), uintptr(unsafe.Pointer(&sa[0])), uintptr(unsafe.Pointer(&n)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, nil, e
		}
		return int(nfd), append([]byte(nil), sa[:min(int(n), len(sa))]...), nil
	}
}

// hostSockName is getsockname(2) (peer false) or getpeername(2).
func hostSockName(fd int, peer bool) ([]byte, error) {
	sysno := uintptr(unix.SYS_GETSOCKNAME)
	if peer {
		sysno = unix.SYS_GETPEERNAME
	}
	var sa [sockAddrMax]byte
	n := uint32(len(sa))
	_, _, e := unix.Syscall(sysno, uintptr(fd), uintptr(unsafe.Pointer(&sa[0])), uintptr(unsafe.Pointer(&n)))
	if e != 0 {
		return nil, e
	}
	return append([]byte(nil), sa[:min(int(n), len(sa))]...), nil
}

// hostGetSockOpt is getsockopt(2) into buf; it returns the length the
// host wrote.
func hostGetSockOpt(fd, level, name int, buf []byte) (int, error) {
	var dummy [1]byte
	p := bytePtr(buf)
	if p == nil {
		p = unsafe.Pointer(&dummy[0])
	}
	n := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), uintptr(p), uintptr(unsafe.Pointer(&n)), 0)
	if e != 0 {
		return 0, e
	}
	return min(int(n), len(buf)), nil
}

// hostSetSockOpt is setsockopt(2) with val.
func hostSetSockOpt(fd, level, name int, val []byte) error {
	var dummy [1]byte
	p := bytePtr(val)
	if p == nil {
		p = unsafe.Pointer(&dummy[0])
	}
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), uintptr(p), uintptr(len(val)), 0)
	return errnoErr(e)
}

// hostSendMsg is sendmsg(2) of data to to (nil: the connected peer) with
// no control data.
func hostSendMsg(fd int, data, to []byte, flags int) (int, error) {
	var iov unix.Iovec
	iov.Base = (*byte)(bytePtr(data))
	iov.SetLen(len(data))
	msg := unix.Msghdr{
		Name:    (*byte)(bytePtr(to)),
		Namelen: uint32(len(to)),
		Iov:     &iov,
		Iovlen:  1,
	}
	for {
		n, _, e := unix.Syscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(n), nil
	}
}

// recvResult is what one host recvmsg(2) returned.
type recvResult struct {
	// n is recvmsg's return value: the bytes copied, or with MSG_TRUNC
	// on a datagram socket the datagram's full length.
	n int
	// from is the sender's address (nil if the host gave none).
	from []byte
	// ctrl is the control data the host wrote (a prefix of the buffer
	// passed).
	ctrl []byte
	// flags is msg_flags.
	flags int
}

// hostRecvMsg is recvmsg(2) into buf, with control buffer ctrl (nil for
// none).
func hostRecvMsg(fd int, buf, ctrl []byte, flags int) (recvResult, error) {
	var sa [sockAddrMax]byte
	var iov unix.Iovec
	iov.Base = (*byte)(bytePtr(buf))
	iov.SetLen(len(buf))
	for {
		msg := unix.Msghdr{
			Name:    &sa[0],
			Namelen: uint32(len(sa)),
			Iov:     &iov,
			Iovlen:  1,
			Control: (*byte)(bytePtr(ctrl)),
		}
		msg.SetControllen(len(ctrl))
		n, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return recvResult{}, e
		}
		r := recvResult{n: int(n), flags: int(msg.Flags)}
		if l := min(int(msg.Namelen), len(sa)); l > 0 {
			r.from = append([]byte(nil), sa[:l]...)
		}
		r.ctrl = ctrl[:min(int(msg.Controllen), len(ctrl))]
		return r, nil
	}
}

// hostIoctlBuf is an ioctl(2) whose argument points to buf (a struct
// ifreq), which the host reads and writes in place.
func hostIoctlBuf(fd int, req uintptr, buf []byte) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(bytePtr(buf)))
	return errnoErr(e)
}

// ifconf is struct ifconf on x86-64.
type ifconf struct {
	len int32
	_   [4]byte
	buf *byte
}

// hostIfconf is linux.SIOCGIFCONF into buf: with a nil buf, the length the
// records would take; otherwise as many records as fit, and their length.
func hostIfconf(fd int, buf []byte, nilBuf bool) (int, error) {
	var dummy [1]byte
	ic := ifconf{len: int32(len(buf)), buf: (*byte)(bytePtr(buf))}
	if ic.buf == nil && !nilBuf {
		// An empty buffer that is not NULL: nothing fits.
		ic.buf = &dummy[0]
	}
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCGIFCONF, uintptr(unsafe.Pointer(&ic)))
	if e != 0 {
		return 0, e
	}
	return int(ic.len), nil
}
