package hostinet

import (
	"slices"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// sendFlags are the send(2) flags passed on to the host. MSG_DONTWAIT is
// the sentry's (it decides whether to wait) and MSG_NOSIGNAL is always
// set: the sentry must never get SIGPIPE, and the syscall layer raises the
// guest's. The rest are ignored, as a protocol ignores flags it does not
// use; MSG_FASTOPEN is among them, so a send on an unconnected TCP socket
// is EPIPE rather than a connect.
const sendFlags = linux.MSG_OOB | linux.MSG_DONTROUTE | linux.MSG_EOR | linux.MSG_MORE | linux.MSG_CONFIRM

// recvFlags are the recv(2) flags passed on to the host. MSG_WAITALL and
// MSG_DONTWAIT are the sentry's, since it does the waiting.
const recvFlags = linux.MSG_OOB | linux.MSG_PEEK | linux.MSG_TRUNC | linux.MSG_ERRQUEUE

// SendMsg implements socket.Socket. Control messages are dropped: IP
// sockets ignore SCM_RIGHTS and SCM_CREDENTIALS
// (net/core/sock.c:__sock_cmsg_send), and the files' references are
// released.
func (s *Socket) SendMsg(ctx socket.Context, data []byte, to []byte, ctrl socket.ControlMessages, flags int, nonblocking bool) (int, error) {
	ctrl.Release()
	return s.send(ctx, data, to, flags, nonblocking)
}

// send sends data, waiting up to SO_SNDTIMEO. A blocking stream send
// returns once all of data is sent, or with what was sent when a signal,
// the timeout or an error ends it; a datagram goes whole or not at all.
func (s *Socket) send(ctx socket.Context, data []byte, to []byte, flags int, nonblocking bool) (int, error) {
	var dst []byte
	if to != nil && s.typ != linux.SOCK_STREAM {
		a, err := s.sendAddress(to)
		if err != nil {
			return 0, err
		}
		dst = a
	}
	// A stream ignores the address: tcp_sendmsg reads msg_name only for
	// MSG_FASTOPEN.
	hflags := flags&sendFlags | unix.MSG_NOSIGNAL | unix.MSG_DONTWAIT
	sent := 0
	err := s.block(ctx, nonblocking, s.sndTimeout(), vfs.EventOut, func() (bool, error) {
		n, err := hostSendMsg(s.fd, data[sent:], dst, hflags)
		if err == unix.EAGAIN {
			return false, nil
		}
		if err != nil {
			return true, hostErr(err)
		}
		sent += n
		return s.typ != linux.SOCK_STREAM || sent == len(data), nil
	})
	if sent > 0 {
		return sent, nil
	}
	return 0, err
}

// maxCtrl bounds the control data taken from the host in one receive:
// room for every message the allowed options produce at once.
const maxCtrl = 512

// RecvMsg implements socket.Socket. With wantCtrl (recvmsg(2)), the
// host's control messages for the IP levels and linux.SO_TIMESTAMP{,NS} are
// passed on in Control.Extra; their layouts are the guest's, since both
// are Linux x86-64.
func (s *Socket) RecvMsg(ctx socket.Context, n int, flags int, nonblocking bool, wantCtrl bool) ([]byte, socket.RecvResult, error) {
	buf := make([]byte, min(n, maxRecv))
	res, err := s.recv(ctx, buf, flags, nonblocking, wantCtrl)
	if err != nil {
		return nil, socket.RecvResult{}, err
	}
	if s.typ == linux.SOCK_STREAM && flags&linux.MSG_TRUNC != 0 {
		// "For TCP ... MSG_TRUNC ... the received data [is] discarded"
		// (tcp_recvmsg): the count is reported, nothing copied.
		return nil, res, nil
	}
	return buf[:res.N], res, nil
}

// recv receives into buf, waiting up to SO_RCVTIMEO. A stream read ends
// with any data (all of buf with MSG_WAITALL, unless end of file, a
// signal, the timeout or an error comes first), and returns what it has
// rather than a later error. A datagram read takes one datagram; MsgLen is
// its full length (the host is always asked with MSG_TRUNC).
func (s *Socket) recv(ctx socket.Context, buf []byte, flags int, nonblocking, wantCtrl bool) (socket.RecvResult, error) {
	hflags := flags&recvFlags | unix.MSG_DONTWAIT
	stream := s.typ == linux.SOCK_STREAM
	if !stream {
		hflags |= unix.MSG_TRUNC
	}
	if flags&(linux.MSG_OOB|linux.MSG_ERRQUEUE) != 0 {
		// Urgent data and the error queue are never waited for
		// (tcp_recv_urg, sock_recv_errqueue).
		nonblocking = true
	}
	target := 1
	if stream && flags&linux.MSG_WAITALL != 0 && flags&linux.MSG_PEEK == 0 {
		target = len(buf)
	}
	var (
		res  socket.RecvResult
		ctrl []byte
	)
	if wantCtrl {
		ctrl = make([]byte, maxCtrl)
	}
	got := 0
	err := s.block(ctx, nonblocking, s.rcvTimeout(), vfs.EventIn, func() (bool, error) {
		r, err := hostRecvMsg(s.fd, buf[got:], ctrl, hflags)
		if err == unix.EAGAIN {
			return false, nil
		}
		if err != nil {
			return true, hostErr(err)
		}
		if wantCtrl {
			res.Control.Extra = append(res.Control.Extra, hostControl(r.ctrl)...)
			if r.flags&unix.MSG_CTRUNC != 0 {
				res.CtrlTrunc = true
			}
		}
		if !stream {
			res.N, res.MsgLen, res.From = min(r.n, len(buf)), r.n, r.from
			return true, nil
		}
		if r.n == 0 {
			return true, nil // End of file, or nothing asked for.
		}
		got += r.n
		return got >= target, nil
	})
	if stream {
		res.N, res.MsgLen = got, got
		if got > 0 {
			return res, nil
		}
	}
	if err != nil {
		return socket.RecvResult{}, err
	}
	return res, nil
}

// hostControl turns the host's control messages into the guest's. Only
// the IP levels' and the SOL_SOCKET timestamps are kept: those are what
// the allowed options produce. An IP socket never receives SCM_RIGHTS;
// were the host to pass files anyway, they are closed, not leaked into
// the sentry.
func hostControl(b []byte) []socket.Cmsg {
	if len(b) == 0 {
		return nil
	}
	msgs, err := unix.ParseSocketControlMessage(b)
	if err != nil {
		return nil
	}
	var out []socket.Cmsg
	for i := range msgs {
		m := &msgs[i]
		level, typ := int(m.Header.Level), int(m.Header.Type)
		switch {
		case level == linux.SOL_IP || level == linux.SOL_IPV6:
		case level == linux.SOL_SOCKET && (typ == linux.SO_TIMESTAMP || typ == linux.SO_TIMESTAMPNS):
		case level == linux.SOL_SOCKET && typ == linux.SCM_RIGHTS:
			if fds, err := unix.ParseUnixRights(m); err == nil {
				for _, fd := range fds {
					unix.Close(fd)
				}
			}
			continue
		default:
			continue
		}
		out = append(out, socket.Cmsg{Level: int32(level), Type: int32(typ), Data: slices.Clone(m.Data)})
	}
	return out
}
