package syscalls

import (
	"encoding/binary"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// Limits of the message calls.
const (
	// maxMessage bounds one datagram or seqpacket record the sentry will
	// copy in; a larger one exceeds any send buffer (EMSGSIZE anyway).
	maxMessage = 4 << 20
	// maxControl bounds msg_controllen, as net.core.optmem_max does
	// (ENOBUFS beyond).
	maxControl = 128 << 10
)

// Capabilities from <linux/capability.h> that SCM_CREDENTIALS checks.
const (
	capSetgid   = 6
	capSetuid   = 7
	capSysAdmin = 21
)

// msghdr is struct msghdr (user layout, x86-64).
type msghdr struct {
	name       hostarch.Addr
	namelen    int32
	iov        hostarch.Addr
	iovlen     uint64
	control    hostarch.Addr
	controllen uint64
	flags      int32
}

// copyInMsghdr reads a struct msghdr, as net/socket.c:__copy_msghdr: a
// NULL name has length 0, a negative length is EINVAL, a longer one than
// sockaddr_storage is cut to it, and more than UIO_MAXIOV iovecs is
// EMSGSIZE.
func copyInMsghdr(t *kernel.Task, addr hostarch.Addr) (msghdr, error) {
	var b [linux.SizeofMsghdr]byte
	if _, err := t.CopyInBytes(addr, b[:]); err != nil {
		return msghdr{}, errno.EFAULT
	}
	le := binary.LittleEndian
	m := msghdr{
		name:       hostarch.Addr(le.Uint64(b[0:])),
		namelen:    int32(le.Uint32(b[8:])),
		iov:        hostarch.Addr(le.Uint64(b[16:])),
		iovlen:     le.Uint64(b[24:]),
		control:    hostarch.Addr(le.Uint64(b[32:])),
		controllen: le.Uint64(b[40:]),
		flags:      int32(le.Uint32(b[48:])),
	}
	if m.name == 0 {
		m.namelen = 0
	}
	if m.namelen < 0 {
		return msghdr{}, errno.EINVAL
	}
	m.namelen = min(m.namelen, linux.SizeofSockAddrStorage)
	if m.iovlen > kernel.UIO_MAXIOV {
		return msghdr{}, errno.EMSGSIZE
	}
	return m, nil
}

// gatherIovecs copies len(buf) bytes from iovs, starting off bytes in.
func gatherIovecs(t *kernel.Task, iovs []kernel.IOVec, off int, buf []byte) error {
	for _, iov := range iovs {
		if len(buf) == 0 {
			return nil
		}
		if uint64(off) >= iov.Len {
			off -= int(iov.Len)
			continue
		}
		// Overflow: iovecTotal checked base+len.
		n := min(iov.Len-uint64(off), uint64(len(buf)))
		if _, err := t.CopyInBytes(iov.Base+hostarch.Addr(off), buf[:n]); err != nil {
			return errno.EFAULT
		}
		buf = buf[n:]
		off = 0
	}
	return nil
}

// sendCommon sends the bytes of iovs (total of them) to to with ctrl,
// whose references it consumes: a message whole, a stream in chunks. A
// stream's EPIPE raises SIGPIPE unless MSG_NOSIGNAL
// (net/unix/af_unix.c:unix_stream_sendmsg's pipe_err).
func sendCommon(t *kernel.Task, f *vfs.FileDescription, s socket.Socket, iovs []kernel.IOVec, total int, to []byte, ctrl socket.ControlMessages, flags int) (uintptr, error) {
	ctx := sockCtx(t)
	nonblocking := isNonblocking(f) || flags&linux.MSG_DONTWAIT != 0
	_, typ, _ := s.Type()
	if d, ok := s.(socket.DirectIO); ok {
		n, err := d.SendMsgIO(ctx, socket.NewGuestIO(t, iovs, total), to, ctrl, flags, nonblocking)
		if err == errno.EPIPE && typ == linux.SOCK_STREAM && flags&linux.MSG_NOSIGNAL == 0 {
			return sigpipe(t)(0, err)
		}
		return uintptr(n), err
	}
	if typ != linux.SOCK_STREAM {
		if total > maxMessage {
			ctrl.Release()
			return 0, errno.EMSGSIZE
		}
		buf := make([]byte, total)
		if err := gatherIovecs(t, iovs, 0, buf); err != nil {
			ctrl.Release()
			return 0, err
		}
		n, err := s.SendMsg(ctx, buf, to, ctrl, flags, nonblocking)
		return uintptr(n), err
	}
	done := 0
	for {
		buf := make([]byte, min(total-done, ioChunk))
		if err := gatherIovecs(t, iovs, done, buf); err != nil {
			ctrl.Release()
			if done > 0 {
				return uintptr(done), nil
			}
			return 0, err
		}
		n, err := s.SendMsg(ctx, buf, to, ctrl, flags, nonblocking)
		ctrl = socket.ControlMessages{} // Consumed.
		done += n
		if err != nil {
			if done > 0 {
				return uintptr(done), nil
			}
			if err == errno.EPIPE && flags&linux.MSG_NOSIGNAL == 0 {
				return sigpipe(t)(0, err)
			}
			return 0, err
		}
		if n < len(buf) || done == total {
			return uintptr(done), nil
		}
	}
}

// SendTo implements Linux syscall sendto(2).
func SendTo(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, buf, count, flags, addr, addrlen := args[0].Int(), args[1].Pointer(), clampCount(args[2].Uint64()), int(args[3].Int()), args[4].Pointer(), args[5].Int()
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	iovs := []kernel.IOVec{{Base: buf, Len: uint64(count)}}
	if _, err := iovecTotal(iovs); err != nil {
		return 0, err
	}
	var to []byte
	if addr != 0 {
		if to, err = copyInAddress(t, addr, addrlen); err != nil {
			return 0, err
		}
		if len(to) == 0 {
			to = nil
		}
	}
	return sendCommon(t, f, s, iovs, count, to, socket.ControlMessages{}, flags)
}

// SendMsg implements Linux syscall sendmsg(2).
func SendMsg(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, addr, flags := args[0].Int(), args[1].Pointer(), int(args[2].Int())
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return sendMsg(t, f, s, addr, flags)
}

// sendMsg sends the struct msghdr at addr.
func sendMsg(t *kernel.Task, f *vfs.FileDescription, s socket.Socket, addr hostarch.Addr, flags int) (uintptr, error) {
	m, err := copyInMsghdr(t, addr)
	if err != nil {
		return 0, err
	}
	iovs, err := t.CopyInIovecs(m.iov, int(m.iovlen))
	if err != nil {
		return 0, err
	}
	total, err := iovecTotal(iovs)
	if err != nil {
		return 0, err
	}
	var to []byte
	if m.namelen > 0 {
		if to, err = copyInAddress(t, m.name, m.namelen); err != nil {
			return 0, err
		}
	}
	ctrl, err := copyInControl(t, m.control, m.controllen)
	if err != nil {
		return 0, err
	}
	return sendCommon(t, f, s, iovs, total, to, ctrl, flags)
}

// copyInControl reads and parses sendmsg's control messages, as
// net/core/scm.c:__scm_send: EINVAL for a malformed header, an unknown
// SOL_SOCKET type or too many files, EBADF for a bad fd, EPERM for
// credentials the caller may not claim. Other levels are ignored.
func copyInControl(t *kernel.Task, addr hostarch.Addr, n uint64) (socket.ControlMessages, error) {
	var ctrl socket.ControlMessages
	if n > maxControl {
		return ctrl, errno.ENOBUFS
	}
	if n < linux.SizeofCmsghdr {
		return ctrl, nil
	}
	b := make([]byte, n)
	if _, err := t.CopyInBytes(addr, b); err != nil {
		return ctrl, errno.EFAULT
	}
	le := binary.LittleEndian
	for off := 0; off+linux.SizeofCmsghdr <= len(b); {
		clen := le.Uint64(b[off:])
		level := int32(le.Uint32(b[off+8:]))
		typ := int32(le.Uint32(b[off+12:]))
		// CMSG_OK: the header fits and the message does not run past
		// the buffer.
		if clen < linux.SizeofCmsghdr || clen > uint64(len(b)-off) {
			ctrl.Release()
			return socket.ControlMessages{}, errno.EINVAL
		}
		data := b[off+linux.SizeofCmsghdr : off+int(clen)]
		if level == linux.SOL_SOCKET {
			if err := parseCmsg(t, typ, data, &ctrl); err != nil {
				ctrl.Release()
				return socket.ControlMessages{}, err
			}
		} else {
			// Protocol-level messages (IP_TTL, IPV6_HOPLIMIT ...) are
			// the socket's to check and use.
			ctrl.Extra = append(ctrl.Extra, socket.Cmsg{Level: level, Type: typ, Data: data})
		}
		off += linux.CmsgAlign(int(clen))
	}
	return ctrl, nil
}

// parseCmsg adds one SOL_SOCKET control message to ctrl.
func parseCmsg(t *kernel.Task, typ int32, data []byte, ctrl *socket.ControlMessages) error {
	le := binary.LittleEndian
	switch typ {
	case linux.SCM_RIGHTS:
		nfds := len(data) / 4
		if len(ctrl.Rights)+nfds > linux.SCM_MAX_FD {
			return errno.EINVAL
		}
		for i := 0; i < nfds; i++ {
			f := t.GetFile(int32(le.Uint32(data[4*i:])))
			if f == nil {
				return errno.EBADF
			}
			ctrl.Rights = append(ctrl.Rights, f)
		}
		return nil
	case linux.SCM_CREDENTIALS:
		if len(data) != linux.SizeofUCred {
			return errno.EINVAL
		}
		u := linux.UCred{PID: int32(le.Uint32(data)), UID: le.Uint32(data[4:]), GID: le.Uint32(data[8:])}
		// net/core/scm.c:scm_check_creds.
		c := t.Credentials()
		uid, gid := auth.KUID(u.UID), auth.KGID(u.GID)
		pidOK := u.PID == int32(t.ThreadGroup().PID()) || c.HasCapability(capSysAdmin)
		uidOK := uid == c.RealKUID || uid == c.EffectiveKUID || uid == c.SavedKUID || c.HasCapability(capSetuid)
		gidOK := gid == c.RealKGID || gid == c.EffectiveKGID || gid == c.SavedKGID || c.HasCapability(capSetgid)
		if !pidOK || !uidOK || !gidOK {
			return errno.EPERM
		}
		ctrl.Creds, ctrl.HasCreds = u, true
		return nil
	}
	return errno.EINVAL
}

// RecvFrom implements Linux syscall recvfrom(2).
func RecvFrom(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, buf, count, flags, addr, addrlen := args[0].Int(), args[1].Pointer(), clampCount(args[2].Uint64()), int(args[3].Int()), args[4].Pointer(), args[5].Pointer()
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	iovs := []kernel.IOVec{{Base: buf, Len: uint64(count)}}
	if _, err := iovecTotal(iovs); err != nil {
		return 0, err
	}
	if err := checkWritable(t, iovs); err != nil {
		return 0, err
	}
	nonblocking := isNonblocking(f) || flags&linux.MSG_DONTWAIT != 0
	res, err := recvData(t, s, iovs, count, flags, nonblocking, false)
	if err != nil {
		return 0, err
	}
	if addr != 0 {
		if err := copyOutAddress(t, res.From, addr, addrlen); err != nil {
			return 0, err
		}
	}
	return recvReturn(s, flags, &res), nil
}

// recvData receives at most total bytes into iovs: straight into guest
// memory for sockets that can (socket.DirectIO), else through a sentry
// buffer.
func recvData(t *kernel.Task, s socket.Socket, iovs []kernel.IOVec, total, flags int, nonblocking, wantCtrl bool) (socket.RecvResult, error) {
	if d, ok := s.(socket.DirectIO); ok {
		return d.RecvMsgIO(sockCtx(t), socket.NewGuestIO(t, iovs, total), flags, nonblocking, wantCtrl)
	}
	data, res, err := s.RecvMsg(sockCtx(t), total, flags, nonblocking, wantCtrl)
	if err != nil {
		return res, err
	}
	if _, err := scatter(t, iovs, data); err != nil {
		res.Control.Release()
		return res, err
	}
	return res, nil
}

// directRead is read(2) and readv(2) on a socket that receives straight
// into guest memory; ok is false for other files. The caller checked the
// buffers are writable.
func directRead(t *kernel.Task, f *vfs.FileDescription, iovs []kernel.IOVec, total int) (n uintptr, ok bool, err error) {
	d, ok := f.Impl().(socket.DirectIO)
	if !ok {
		return 0, false, nil
	}
	res, err := d.RecvMsgIO(sockCtx(t), socket.NewGuestIO(t, iovs, total), 0, isNonblocking(f), false)
	if err != nil {
		return 0, true, err
	}
	return uintptr(res.N), true, nil
}

// directWrite is write(2) and writev(2) on a socket that sends straight
// from guest memory; ok is false for other files.
func directWrite(t *kernel.Task, f *vfs.FileDescription, iovs []kernel.IOVec, total int) (n uintptr, ok bool, err error) {
	d, ok := f.Impl().(socket.DirectIO)
	if !ok {
		return 0, false, nil
	}
	c, err := d.SendMsgIO(sockCtx(t), socket.NewGuestIO(t, iovs, total), nil, socket.ControlMessages{}, 0, isNonblocking(f))
	return uintptr(c), true, err
}

// checkWritable fails with EFAULT before a receive if the guest could not
// take the data: a socket's bytes must stay queued when the copy would
// fail, as the kernel's copy to user memory fails before it consumes them.
func checkWritable(t *kernel.Task, iovs []kernel.IOVec) error {
	for _, iov := range iovs {
		if err := t.CheckWritable(iov.Base, iov.Len); err != nil {
			return err
		}
	}
	return nil
}

// recvReturn is recv's result: with MSG_TRUNC, a message's full length
// ("return the real length of the packet or datagram, even when it was
// longer than the passed buffer" - recv(2)).
func recvReturn(s socket.Socket, flags int, res *socket.RecvResult) uintptr {
	if _, typ, _ := s.Type(); typ != linux.SOCK_STREAM && flags&linux.MSG_TRUNC != 0 {
		return uintptr(res.MsgLen)
	}
	return uintptr(res.N)
}

// RecvMsg implements Linux syscall recvmsg(2).
func RecvMsg(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, addr, flags := args[0].Int(), args[1].Pointer(), int(args[2].Int())
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	return recvMsg(t, f, s, addr, flags)
}

// recvMsg receives into the struct msghdr at addr and updates its
// msg_namelen, msg_controllen and msg_flags.
func recvMsg(t *kernel.Task, f *vfs.FileDescription, s socket.Socket, addr hostarch.Addr, flags int) (uintptr, error) {
	m, err := copyInMsghdr(t, addr)
	if err != nil {
		return 0, err
	}
	iovs, err := t.CopyInIovecs(m.iov, int(m.iovlen))
	if err != nil {
		return 0, err
	}
	total, err := iovecTotal(iovs)
	if err != nil {
		return 0, err
	}
	if err := checkWritable(t, iovs); err != nil {
		return 0, err
	}
	nonblocking := isNonblocking(f) || flags&linux.MSG_DONTWAIT != 0
	res, err := recvData(t, s, iovs, total, flags, nonblocking, true)
	if err != nil {
		return 0, err
	}
	// "msg_flags ... MSG_CMSG_CLOEXEC" is passed through as Linux does
	// (___sys_recvmsg starts from flags & MSG_CMSG_CLOEXEC).
	outFlags := int32(flags & linux.MSG_CMSG_CLOEXEC)
	if res.MsgLen > res.N {
		outFlags |= linux.MSG_TRUNC
	}
	ctl, trunc, err := buildControl(t, &res, m.control, m.controllen, flags&linux.MSG_CMSG_CLOEXEC != 0)
	if err != nil {
		return 0, err
	}
	if trunc || res.CtrlTrunc {
		outFlags |= linux.MSG_CTRUNC
	}
	if len(ctl) > 0 {
		if _, err := t.CopyOutBytes(m.control, ctl); err != nil {
			return 0, errno.EFAULT
		}
	}
	le := binary.LittleEndian
	if m.name != 0 {
		n := min(int(m.namelen), len(res.From))
		if n > 0 {
			if _, err := t.CopyOutBytes(m.name, res.From[:n]); err != nil {
				return 0, errno.EFAULT
			}
		}
		if _, err := t.CopyOutBytes(addr+8, le.AppendUint32(nil, uint32(len(res.From)))); err != nil {
			return 0, errno.EFAULT
		}
	}
	if _, err := t.CopyOutBytes(addr+40, le.AppendUint64(nil, uint64(len(ctl)))); err != nil {
		return 0, errno.EFAULT
	}
	if _, err := t.CopyOutBytes(addr+48, le.AppendUint32(nil, uint32(outFlags))); err != nil {
		return 0, errno.EFAULT
	}
	return recvReturn(s, flags, &res), nil
}

// buildControl encodes res's control messages for a buffer of size n, as
// net/core/scm.c:put_cmsg and scm_detach_fds: credentials first, then as
// many files as fit, installed in the caller's fd table. trunc reports
// anything left out (MSG_CTRUNC); files that do not fit are closed.
func buildControl(t *kernel.Task, res *socket.RecvResult, addr hostarch.Addr, n uint64, cloexec bool) (ctl []byte, trunc bool, err error) {
	rights := res.Control.Rights
	res.Control.Rights = nil
	defer func() {
		for _, f := range rights {
			f.DecRef()
		}
	}()
	room := int(min(n, maxControl))
	if addr == 0 {
		room = 0
	}
	le := binary.LittleEndian
	header := func(clen, typ int) {
		ctl = le.AppendUint64(ctl, uint64(clen))
		ctl = le.AppendUint32(ctl, linux.SOL_SOCKET)
		ctl = le.AppendUint32(ctl, uint32(typ))
	}
	// put is net/core/scm.c:put_cmsg: a message that does not fit is
	// cut to the room left (MSG_CTRUNC), and none is written if not even
	// its header fits.
	put := func(m socket.Cmsg) {
		avail := room - len(ctl)
		if avail < linux.SizeofCmsghdr {
			trunc = true
			return
		}
		clen := linux.CmsgLen(len(m.Data))
		if avail < clen {
			trunc = true
			clen = avail
		}
		ctl = le.AppendUint64(ctl, uint64(clen))
		ctl = le.AppendUint32(ctl, uint32(m.Level))
		ctl = le.AppendUint32(ctl, uint32(m.Type))
		ctl = append(ctl, m.Data[:clen-linux.SizeofCmsghdr]...)
		for pad := min(linux.CmsgSpace(len(m.Data)), avail) - clen; pad > 0; pad-- {
			ctl = append(ctl, 0)
		}
	}
	for _, m := range res.Control.Extra {
		put(m)
	}
	if res.Control.HasCreds {
		if room-len(ctl) < linux.SizeofCmsghdr {
			trunc = true
		} else {
			var p []byte
			p = le.AppendUint32(p, uint32(res.Control.Creds.PID))
			p = le.AppendUint32(p, res.Control.Creds.UID)
			p = le.AppendUint32(p, res.Control.Creds.GID)
			clen := linux.CmsgLen(len(p))
			avail := room - len(ctl)
			if avail < clen {
				trunc = true
				clen = avail
			}
			header(clen, linux.SCM_CREDENTIALS)
			ctl = append(ctl, p[:clen-linux.SizeofCmsghdr]...)
			// Pad to CMSG_SPACE, within the buffer.
			for pad := min(linux.CmsgSpace(len(p)), avail) - clen; pad > 0; pad-- {
				ctl = append(ctl, 0)
			}
		}
	}
	if len(rights) == 0 {
		return ctl, trunc, nil
	}
	avail := room - len(ctl)
	maxFDs := 0
	if avail > linux.SizeofCmsghdr {
		maxFDs = (avail - linux.SizeofCmsghdr) / 4
	}
	var fds []int32
	for len(fds) < maxFDs && len(rights) > 0 {
		fd, err := t.FDTable().NewFD(0, rights[0], cloexec)
		if err != nil {
			break
		}
		rights[0].DecRef()
		rights = rights[1:]
		fds = append(fds, fd)
	}
	if len(fds) > 0 {
		header(linux.CmsgLen(4*len(fds)), linux.SCM_RIGHTS)
		for _, fd := range fds {
			ctl = le.AppendUint32(ctl, uint32(fd))
		}
		for pad := min(linux.CmsgSpace(4*len(fds)), avail) - linux.CmsgLen(4*len(fds)); pad > 0; pad-- {
			ctl = append(ctl, 0)
		}
	}
	if len(rights) > 0 {
		trunc = true
	}
	return ctl, trunc, nil
}

// mmsgLenOffset is offsetof(struct mmsghdr, msg_len).
const mmsgLenOffset = linux.SizeofMsghdr

// SendMMsg implements Linux syscall sendmmsg(2): messages are sent in
// turn; an error after the first ends the call with the count so far.
func SendMMsg(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, vec, vlen, flags := args[0].Int(), args[1].Pointer(), args[2].Uint(), int(args[3].Int())
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	vlen = min(vlen, kernel.UIO_MAXIOV)
	var i uint32
	for ; i < vlen; i++ {
		addr := vec + hostarch.Addr(i)*linux.SizeofMMsghdr
		n, err := sendMsg(t, f, s, addr, flags)
		if err == nil {
			_, err = t.CopyOutBytes(addr+mmsgLenOffset, binary.LittleEndian.AppendUint32(nil, uint32(n)))
		}
		if err != nil {
			if i == 0 {
				return 0, err
			}
			break
		}
	}
	return uintptr(i), nil
}

// RecvMMsg implements Linux syscall recvmmsg(2). The timeout is checked
// after each message ("the timeout argument does not work as intended" -
// recvmmsg(2) BUGS); MSG_WAITFORONE makes the calls after the first
// non-blocking.
func RecvMMsg(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, vec, vlen, flags, tsAddr := args[0].Int(), args[1].Pointer(), args[2].Uint(), int(args[3].Int()), args[4].Pointer()
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	var deadline time.Time
	if tsAddr != 0 {
		var b [16]byte
		if _, err := t.CopyInBytes(tsAddr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
		sec, nsec := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
		if sec < 0 || nsec < 0 || nsec >= 1e9 {
			return 0, errno.EINVAL
		}
		deadline = time.Now().Add(time.Duration(sec)*time.Second + time.Duration(nsec))
	}
	vlen = min(vlen, kernel.UIO_MAXIOV)
	var i uint32
	for ; i < vlen; i++ {
		addr := vec + hostarch.Addr(i)*linux.SizeofMMsghdr
		n, err := recvMsg(t, f, s, addr, flags)
		if err == nil {
			_, err = t.CopyOutBytes(addr+mmsgLenOffset, binary.LittleEndian.AppendUint32(nil, uint32(n)))
		}
		if err != nil {
			if i == 0 {
				return 0, err
			}
			break
		}
		if flags&linux.MSG_WAITFORONE != 0 {
			flags |= linux.MSG_DONTWAIT
		}
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			i++
			break
		}
	}
	return uintptr(i), nil
}
