package unix

import (
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// SendMsg implements socket.Socket.
func (s *Socket) SendMsg(ctx socket.Context, data []byte, to []byte, ctrl socket.ControlMessages, flags int, nonblocking bool) (int, error) {
	return s.send(ctx, data, to, ctrl, flags, nonblocking)
}

// send sends data, waiting up to SO_SNDTIMEO.
func (s *Socket) send(ctx socket.Context, data []byte, to []byte, ctrl socket.ControlMessages, flags int, nonblocking bool) (int, error) {
	if flags&linux.MSG_OOB != 0 {
		ctrl.Release()
		return 0, errno.EOPNOTSUPP
	}
	var cred linux.UCred
	if ctx != nil {
		cred = scmCredOf(ctx)
	}
	if ctrl.HasCreds {
		cred = ctrl.Creds
	}
	mu.Lock()
	timeout := s.opts.sndTimeo
	mu.Unlock()
	if s.typ == linux.SOCK_STREAM {
		return s.sendStream(ctx, data, to, ctrl, cred, nonblocking, timeout)
	}
	return s.sendMessage(ctx, data, to, ctrl, cred, nonblocking, timeout)
}

// sendStream is unix_stream_sendmsg: bytes go to the peer's queue as room
// allows; a blocking send waits until all are queued.
func (s *Socket) sendStream(ctx socket.Context, data []byte, to []byte, ctrl socket.ControlMessages, cred linux.UCred, nonblocking bool, timeout time.Duration) (int, error) {
	mu.Lock()
	p, connected := s.peer, s.connected
	mu.Unlock()
	if to != nil {
		ctrl.Release()
		// "EISCONN The connection-mode socket was connected already but
		// a recipient was specified" - send(2); unconnected, a stream
		// socket cannot send to an address at all.
		if connected {
			return 0, errno.EISCONN
		}
		return 0, errno.EOPNOTSUPP
	}
	if !connected {
		ctrl.Release()
		return 0, errno.ENOTCONN
	}
	sent := 0
	rights := ctrl.Rights
	err := s.block(ctx, nonblocking, timeout, vfs.EventOut, &p.peerWait, func(w *wakeups) (bool, error) {
		if s.shutdown&sendShutdown != 0 || p.closed || p.shutdown&rcvShutdown != 0 {
			return true, errno.EPIPE
		}
		if len(data) == 0 {
			// Nothing to send; files without bytes are not sent on a
			// stream (unix_stream_sendmsg loops over the bytes).
			return true, nil
		}
		room := s.opts.sndBuf - p.rqBytes
		if room <= 0 {
			return false, nil
		}
		n := min(room, len(data)-sent)
		chunk := data[sent : sent+n]
		// Coalesce with the last run of bytes when nothing else tells
		// them apart.
		if last := lastMessage(p.rq); last != nil && rights == nil && last.rights == nil && last.cred == cred {
			last.data = append(last.data, chunk...)
		} else {
			p.rq = append(p.rq, &message{data: append([]byte(nil), chunk...), from: s.addr, rights: rights, cred: cred})
			noteQueuedLocked(p, rights)
			rights = nil
		}
		p.rqBytes += n
		sent += n
		w.add(&p.WaitQueue, vfs.EventIn)
		return sent == len(data), nil
	})
	releaseFiles(rights)
	if sent > 0 {
		return sent, nil
	}
	return 0, err
}

// lastMessage returns the last message of q, or nil.
func lastMessage(q []*message) *message {
	if len(q) == 0 {
		return nil
	}
	return q[len(q)-1]
}

// releaseFiles drops the references to fs. mu must not be held.
func releaseFiles(fs []*vfs.FileDescription) {
	for _, f := range fs {
		f.DecRef()
	}
}

// sendMessage is unix_dgram_sendmsg (and unix_seqpacket_sendmsg): one
// message, queued whole.
func (s *Socket) sendMessage(ctx socket.Context, data []byte, to []byte, ctrl socket.ControlMessages, cred linux.UCred, nonblocking bool, timeout time.Duration) (int, error) {
	mu.Lock()
	if s.typ == linux.SOCK_SEQPACKET {
		if err := s.soErr; err != 0 {
			s.soErr = 0
			mu.Unlock()
			ctrl.Release()
			return 0, err
		}
		if !s.connected {
			mu.Unlock()
			ctrl.Release()
			return 0, errno.ENOTCONN
		}
		// unix_seqpacket_sendmsg ignores the address.
		to = nil
	}
	if s.opts.passCred {
		s.autobindLocked()
	}
	sndBuf := s.opts.sndBuf
	dst := s.peer
	mu.Unlock()
	if len(data) > sndBuf-dgramOverhed {
		ctrl.Release()
		return 0, errno.EMSGSIZE
	}
	if to != nil {
		o, err := s.lookup(ctx, to)
		if err != nil {
			ctrl.Release()
			return 0, err
		}
		dst = o
	} else if dst == nil {
		ctrl.Release()
		return 0, errno.ENOTCONN
	}
	m := &message{data: append([]byte(nil), data...), rights: ctrl.Rights, cred: cred}
	queued := false
	err := s.block(ctx, nonblocking, timeout, vfs.EventOut, &dst.peerWait, func(w *wakeups) (bool, error) {
		if s.shutdown&sendShutdown != 0 {
			return true, errno.EPIPE
		}
		if dst.closed {
			if s.typ == linux.SOCK_SEQPACKET {
				return true, errno.EPIPE
			}
			if s.peer == dst {
				// unix_dgram_disconnected: the next send is ENOTCONN.
				s.peer = nil
			}
			return true, errno.ECONNREFUSED
		}
		if s.typ == linux.SOCK_DGRAM && dst.peer != nil && dst.peer != s && !dst.peer.closed {
			return true, errno.EPERM
		}
		if dst.shutdown&rcvShutdown != 0 {
			return true, errno.EPIPE
		}
		if dst.rqBytes >= sndBuf || (dst.peer != s && len(dst.rq) > dgramQLen) {
			return false, nil
		}
		if s.addr != nil {
			m.from = s.addr
		}
		dst.rq = append(dst.rq, m)
		noteQueuedLocked(dst, m.rights)
		dst.rqBytes += len(m.data)
		queued = true
		w.add(&dst.WaitQueue, vfs.EventIn)
		return true, nil
	})
	if !queued {
		releaseFiles(m.rights)
		return 0, err
	}
	return len(data), nil
}

// RecvMsg implements socket.Socket.
func (s *Socket) RecvMsg(ctx socket.Context, n int, flags int, nonblocking bool, wantCtrl bool) ([]byte, socket.RecvResult, error) {
	return s.recv(ctx, n, flags, nonblocking, wantCtrl)
}

// recv receives, waiting up to SO_RCVTIMEO.
func (s *Socket) recv(ctx socket.Context, n int, flags int, nonblocking, wantCtrl bool) ([]byte, socket.RecvResult, error) {
	if flags&linux.MSG_OOB != 0 {
		return nil, socket.RecvResult{}, errno.EOPNOTSUPP
	}
	mu.Lock()
	timeout := s.opts.rcvTimeo
	mu.Unlock()
	var (
		res  socket.RecvResult
		buf  []byte
		drop []*vfs.FileDescription
	)
	var err error
	if s.typ == linux.SOCK_STREAM {
		buf, err = s.recvStream(ctx, n, flags, nonblocking, timeout, &res)
	} else {
		buf, err = s.recvMessage(ctx, n, flags, nonblocking, timeout, &res)
	}
	if !wantCtrl && len(res.Control.Rights) > 0 {
		// Without a control buffer the files are closed and the caller
		// would see MSG_CTRUNC.
		drop, res.Control.Rights = res.Control.Rights, nil
		res.CtrlTrunc = true
	}
	releaseFiles(drop)
	if err != nil {
		return nil, socket.RecvResult{}, err
	}
	return buf, res, nil
}

// takeRights hands m's files to res: moved when the message is consumed,
// with new references for MSG_PEEK (scm_fp_dup).
func takeRights(m *message, peek bool, res *socket.RecvResult) {
	if len(m.rights) == 0 {
		return
	}
	if peek {
		for _, f := range m.rights {
			f.IncRef()
		}
		res.Control.Rights = append([]*vfs.FileDescription(nil), m.rights...)
		return
	}
	res.Control.Rights = m.rights
	noteDequeued(m.rights)
	m.rights = nil
}

// freedLocked wakes writers after bytes left s's queue.
func (s *Socket) freedLocked(w *wakeups) {
	w.add(&s.peerWait, vfs.EventOut)
	if p := s.peer; p != nil && p.peer == s {
		w.add(&p.WaitQueue, vfs.EventOut)
	}
}

// recvStream is unix_stream_read_generic: bytes across queued runs, but
// never past a run with files or, with SO_PASSCRED, one from another
// sender.
func (s *Socket) recvStream(ctx socket.Context, n, flags int, nonblocking bool, timeout time.Duration, res *socket.RecvResult) ([]byte, error) {
	peek := flags&linux.MSG_PEEK != 0
	target := 1
	if flags&linux.MSG_WAITALL != 0 && !peek {
		target = n
	}
	var out []byte
	err := s.block(ctx, nonblocking, timeout, vfs.EventIn, nil, func(w *wakeups) (bool, error) {
		if !s.connected {
			return true, errno.EINVAL
		}
		if n == 0 {
			return true, nil
		}
		if peek {
			out = out[:0]
		}
		for i := 0; len(out) < n && i < len(s.rq); {
			m := s.rq[i]
			if len(out) > 0 && (len(m.rights) > 0 || (s.opts.passCred && m.cred != res.Control.Creds)) {
				break
			}
			if len(out) == 0 || !res.Control.HasCreds {
				res.Control.Creds, res.Control.HasCreds = m.cred, s.opts.passCred
			}
			c := min(n-len(out), len(m.data))
			out = append(out, m.data[:c]...)
			hadRights := len(m.rights) > 0
			takeRights(m, peek, res)
			if peek {
				i++
			} else {
				m.data = m.data[c:]
				s.rqBytes -= c
				if len(m.data) == 0 {
					s.rq = s.rq[1:]
				}
				if c > 0 {
					s.freedLocked(w)
				}
			}
			if hadRights {
				// A read ends after a message with files, even
				// with MSG_WAITALL.
				return true, nil
			}
		}
		if len(out) >= target {
			return true, nil
		}
		if len(out) == 0 {
			if err := s.soErr; err != 0 {
				s.soErr = 0
				return true, err
			}
		}
		if s.shutdown&rcvShutdown != 0 {
			return true, nil // End of file.
		}
		return false, nil
	})
	res.N, res.MsgLen = len(out), len(out)
	if len(out) > 0 {
		// A wait that ends early (signal, timeout, non-blocking) returns
		// what was read.
		return out, nil
	}
	return out, err
}

// recvMessage is unix_dgram_recvmsg: one message, the rest of it
// discarded unless peeking.
func (s *Socket) recvMessage(ctx socket.Context, n, flags int, nonblocking bool, timeout time.Duration, res *socket.RecvResult) ([]byte, error) {
	peek := flags&linux.MSG_PEEK != 0
	var out []byte
	err := s.block(ctx, nonblocking, timeout, vfs.EventIn, nil, func(w *wakeups) (bool, error) {
		if s.typ == linux.SOCK_SEQPACKET && !s.connected {
			if s.listening {
				return true, errno.EINVAL
			}
			return true, errno.ENOTCONN
		}
		if len(s.rq) == 0 {
			if err := s.soErr; err != 0 {
				s.soErr = 0
				return true, err
			}
			if s.shutdown&rcvShutdown != 0 {
				return true, nil
			}
			return false, nil
		}
		m := s.rq[0]
		c := min(n, len(m.data))
		out = append([]byte(nil), m.data[:c]...)
		res.MsgLen = len(m.data)
		res.From = m.from
		res.Control.Creds, res.Control.HasCreds = m.cred, s.opts.passCred
		takeRights(m, peek, res)
		if !peek {
			s.rq = s.rq[1:]
			s.rqBytes -= len(m.data)
			s.freedLocked(w)
		}
		return true, nil
	})
	res.N = len(out)
	return out, err
}
