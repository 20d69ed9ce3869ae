package netlink

import (
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/inet"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// SendMsg implements socket.Socket, as net/netlink/af_netlink.c:
// netlink_sendmsg. The destination is to (a sockaddr_nl), else the
// connected one, else the kernel, which answers at once into s's receive
// queue. Sending to another port needs CAP_NET_ADMIN. Control messages
// are accepted and dropped (scm_send, then scm_destroy).
func (s *Socket) SendMsg(ctx socket.Context, data []byte, to []byte, ctrl socket.ControlMessages, flags int, nonblocking bool) (int, error) {
	ctrl.Release()
	if flags&linux.MSG_OOB != 0 {
		return 0, errno.EOPNOTSUPP
	}
	s.mu.Lock()
	dstPID, dstGroup := s.dstPortID, s.dstGroup
	s.mu.Unlock()
	if to != nil {
		a, err := parseAddress(to)
		if err != nil {
			return 0, err
		}
		dstPID, dstGroup = a.PID, firstGroup(a.Groups)
		if (dstPID != 0 || dstGroup != 0) && !hasCap(ctx, capNetAdmin) {
			return 0, errno.EPERM
		}
	}
	admin := hasCap(ctx, capNetAdmin)
	var stack inet.Stack
	if ctx != nil {
		stack = ctx.NetworkStack()
	}
	s.mu.Lock()
	s.autobindLocked(ctx)
	if len(data) > s.opts.sndBuf-sndOverhead {
		s.mu.Unlock()
		return 0, errno.EMSGSIZE
	}
	if dstPID != 0 {
		// To another socket: Linux queues the bytes there unchanged.
		// Multicast (dstGroup) reaches no one: no socket subscribes
		// to anything that is ever sent.
		from := s.portID
		s.mu.Unlock()
		return s.sendToPort(dstPID, from, data)
	}
	before := len(s.rq)
	s.processLocked(stack, data, admin)
	queued := len(s.rq) > before
	s.mu.Unlock()
	if queued {
		s.Notify(vfs.EventIn)
	}
	return len(data), nil
}

// sendToPort queues data, from port from, on the socket bound to port
// dst: ECONNREFUSED if there is none. A full receiver drops it and
// records the overrun (netlink_attachskb would make a blocking sender
// wait; here no sender ever waits).
func (s *Socket) sendToPort(dst, from uint32, data []byte) (int, error) {
	portsMu.Lock()
	o := ports[dst]
	portsMu.Unlock()
	if o == nil {
		return 0, errno.ECONNREFUSED
	}
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return 0, errno.ECONNREFUSED
	}
	queued := o.queueLocked(datagram{data: append([]byte(nil), data...), from: from})
	o.mu.Unlock()
	if queued {
		o.Notify(vfs.EventIn)
	} else {
		o.Notify(vfs.EventErr)
	}
	return len(data), nil
}

// unicastLocked queues a kernel message (netlink_unicast to s).
//
// Preconditions: s.mu is held.
func (s *Socket) unicastLocked(b []byte) {
	s.queueLocked(datagram{data: b})
}

// queueLocked appends d to the receive queue unless the queue is over
// SO_RCVBUF, in which case d is dropped and, unless NETLINK_NO_ENOBUFS,
// the next receive fails with ENOBUFS (netlink_overrun).
//
// Preconditions: s.mu is held.
func (s *Socket) queueLocked(d datagram) bool {
	if s.rqBytes > s.opts.rcvBuf {
		if !s.opts.noENOBUFS {
			s.soErr = errno.ENOBUFS
		}
		return false
	}
	s.rq = append(s.rq, d)
	s.rqBytes += len(d.data)
	return true
}

// fillLocked hands out the next datagram of the dump in progress, as one
// call of netlink_dump: nothing while the queue holds SO_RCVBUF or more;
// otherwise as many whole messages as fit the allocation size, and
// NLMSG_DONE after the last one, in the same datagram if it fits.
//
// Preconditions: s.mu is held.
func (s *Socket) fillLocked() {
	d := s.dump
	if d == nil || s.rqBytes >= s.opts.rcvBuf {
		return
	}
	size := max(nlmsgGoodSize, s.maxRecvLen)
	var b []byte
	for len(d.msgs) > 0 && (len(b) == 0 || len(b)+len(d.msgs[0]) <= size) {
		b = append(b, d.msgs[0]...)
		d.msgs = d.msgs[1:]
	}
	if len(d.msgs) == 0 && len(b)+len(d.done) <= size {
		b = append(b, d.done...)
		s.dump = nil
	}
	s.rq = append(s.rq, datagram{data: b})
	s.rqBytes += len(b)
}

// RecvMsg implements socket.Socket, as netlink_recvmsg: one datagram,
// truncated to n bytes (RecvResult.MsgLen has its length for MSG_TRUNC),
// from the sockaddr_nl of its sender. A pending error comes first. After
// the read, a dump in progress continues once the queue is down to half
// of SO_RCVBUF.
func (s *Socket) RecvMsg(ctx socket.Context, n int, flags int, nonblocking bool, wantCtrl bool) ([]byte, socket.RecvResult, error) {
	if flags&linux.MSG_OOB != 0 {
		return nil, socket.RecvResult{}, errno.EOPNOTSUPP
	}
	peek := flags&linux.MSG_PEEK != 0
	s.mu.Lock()
	timeout := s.opts.rcvTimeo
	s.mu.Unlock()
	var (
		d        datagram
		passCred bool
		more     bool
	)
	err := s.wait(ctx, nonblocking, timeout, func() (bool, error) {
		if e := s.soErr; e != 0 {
			s.soErr = 0
			return true, e
		}
		if len(s.rq) == 0 {
			s.fillLocked()
		}
		if len(s.rq) == 0 {
			return false, nil
		}
		d = s.rq[0]
		if !peek {
			s.rq = s.rq[1:]
			s.rqBytes -= len(d.data)
		}
		s.maxRecvLen = min(max(s.maxRecvLen, n), maxRecvmsgLen)
		if s.dump != nil && s.rqBytes <= s.opts.rcvBuf/2 {
			s.fillLocked()
			more = true
		}
		passCred = s.opts.passCred
		return true, nil
	})
	if more {
		s.Notify(vfs.EventIn)
	}
	if err != nil {
		return nil, socket.RecvResult{}, err
	}
	out := d.data[:min(n, len(d.data))]
	res := socket.RecvResult{N: len(out), MsgLen: len(d.data), From: sockaddr(d.from, 0)}
	if passCred {
		// scm_recv: the kernel's messages carry pid 0, uid 0, gid 0.
		res.Control.HasCreds = true
	}
	return append([]byte(nil), out...), res, nil
}

// wait runs try (with s.mu held) until it reports done or fails, waiting
// for input in between (socket.Wait).
func (s *Socket) wait(ctx socket.Context, nonblocking bool, timeout time.Duration, try func() (bool, error)) error {
	return socket.Wait(ctx, s, nonblocking, timeout, vfs.EventIn, func() (bool, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return try()
	})
}
