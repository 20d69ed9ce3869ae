package netstack

import (
	"bytes"
	"encoding/binary"
	"io"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// Bounds of the sentry's buffers for one receive.
const (
	// maxStreamRead bounds one TCP read: more than any receive buffer
	// holds, so a larger read is merely short, as read(2) allows.
	maxStreamRead = 8 << 20
	// maxDatagram is the largest datagram an IP socket can receive.
	maxDatagram = 65535
)

// payload is what a send takes its bytes from: a sentry buffer
// (bytes.Reader) or the guest's own (socket.GuestIO). It is a
// tcpip.Payloader.
type payload interface {
	io.Reader
	Len() int
}

// sink is what a receive puts its bytes in; Len is the room left, and a
// full sink writes short, which stops netstack's Read.
type sink interface {
	io.Writer
	Len() int
}

// bufSink is a sink over a sentry buffer.
type bufSink struct {
	buf []byte
	n   int
}

func (b *bufSink) Write(p []byte) (int, error) {
	c := copy(b.buf[b.n:], p)
	b.n += c
	if c < len(p) {
		return c, io.ErrShortWrite
	}
	return c, nil
}

func (b *bufSink) Len() int { return len(b.buf) - b.n }

// SendMsg implements socket.Socket.
func (s *Socket) SendMsg(ctx socket.Context, data []byte, to []byte, ctrl socket.ControlMessages, flags int, nonblocking bool) (int, error) {
	return s.sendMsg(ctx, bytes.NewReader(data), to, ctrl, flags, nonblocking)
}

// SendMsgIO implements socket.DirectIO.
func (s *Socket) SendMsgIO(ctx socket.Context, src *socket.GuestIO, to []byte, ctrl socket.ControlMessages, flags int, nonblocking bool) (int, error) {
	return s.sendMsg(ctx, src, to, ctrl, flags, nonblocking)
}

func (s *Socket) sendMsg(ctx socket.Context, p payload, to []byte, ctrl socket.ControlMessages, flags int, nonblocking bool) (int, error) {
	// Files and credentials mean nothing to an IP socket; the kernel
	// ignores SOL_SOCKET control messages other than its own there.
	ctrl.Release()
	if flags&linux.MSG_OOB != 0 {
		// netstack has no urgent data.
		return 0, errno.EOPNOTSUPP
	}
	var cm tcpip.SendableControlMessages
	if !s.isStream() {
		var err error
		if cm, err = s.sendControl(ctrl.Extra); err != nil {
			return 0, err
		}
	}
	return s.sendCM(ctx, p, to, flags, nonblocking, cm)
}

// sendControl turns a datagram's IP-level control messages into
// netstack's, checking them as ip_cmsg_send and ip6_datagram_send_ctl
// do: a bad length or value is EINVAL; messages of the other IP version's
// level are skipped.
func (s *Socket) sendControl(msgs []socket.Cmsg) (tcpip.SendableControlMessages, error) {
	var cm tcpip.SendableControlMessages
	le := binary.LittleEndian
	intOf := func(m socket.Cmsg) (int32, bool) {
		if len(m.Data) != 4 {
			return 0, false
		}
		return int32(le.Uint32(m.Data)), true
	}
	for _, m := range msgs {
		switch {
		case m.Level == linux.SOL_IP && s.family == linux.AF_INET:
			switch m.Type {
			case linux.IP_TTL:
				v, ok := intOf(m)
				if !ok || v < 1 || v > 255 {
					return cm, errno.EINVAL
				}
				cm.HasTTL, cm.TTL = true, uint8(v)
			case linux.IP_TOS:
				// An int or a byte; netstack cannot set it per
				// datagram, so it is checked and dropped.
				if len(m.Data) != 4 && len(m.Data) != 1 {
					return cm, errno.EINVAL
				}
			case linux.IP_PKTINFO:
				if len(m.Data) != 12 {
					return cm, errno.EINVAL
				}
			default:
				return cm, errno.EINVAL
			}
		case m.Level == linux.SOL_IPV6 && s.family == linux.AF_INET6:
			switch m.Type {
			case linux.IPV6_HOPLIMIT:
				v, ok := intOf(m)
				if !ok || v < -1 || v > 255 {
					return cm, errno.EINVAL
				}
				if v >= 0 {
					cm.HasHopLimit, cm.HopLimit = true, uint8(v)
				}
			case linux.IPV6_TCLASS:
				if v, ok := intOf(m); !ok || v < -1 || v > 255 {
					return cm, errno.EINVAL
				}
			case linux.IPV6_PKTINFO:
				if len(m.Data) != 20 {
					return cm, errno.EINVAL
				}
				var a [16]byte
				copy(a[:], m.Data)
				if !isZero(a[:]) {
					cm.HasIPv6PacketInfo = true
					cm.IPv6PacketInfo = tcpip.IPv6PacketInfo{Addr: tcpip.AddrFrom16(a), NIC: tcpip.NICID(le.Uint32(m.Data[16:]))}
				}
			default:
				return cm, errno.EINVAL
			}
		}
	}
	return cm, nil
}

// send sends p: a stream socket queues all of it, waiting for room unless
// nonblocking (then it returns what fit); a datagram socket sends one
// datagram.
func (s *Socket) send(ctx socket.Context, p payload, to []byte, flags int, nonblocking bool) (int, error) {
	return s.sendCM(ctx, p, to, flags, nonblocking, tcpip.SendableControlMessages{})
}

// sendCM is send with control messages for the datagram.
func (s *Socket) sendCM(ctx socket.Context, p payload, to []byte, flags int, nonblocking bool, cm tcpip.SendableControlMessages) (int, error) {
	opts := tcpip.WriteOptions{More: flags&linux.MSG_MORE != 0, EndOfRecord: flags&linux.MSG_EOR != 0, ControlMessages: cm}
	if to != nil && !s.isStream() {
		// tcp_sendmsg ignores the address; a datagram goes to it.
		a, err := parseAddr(s.family, to, useSendTo, true)
		if err != nil {
			return 0, err
		}
		opts.To = &a
	}
	_, timeout := s.timeouts()
	sent := 0
	err := s.block(ctx, nonblocking, timeout, vfs.EventOut, func() error {
		for {
			n, terr := s.ep.Write(p, opts)
			sent += int(n)
			if terr != nil {
				if _, ok := terr.(*tcpip.ErrWouldBlock); ok && n > 0 {
					continue
				}
				return errnoOf(terr)
			}
			if !s.isStream() || p.Len() == 0 {
				return nil
			}
		}
	})
	if sent > 0 && s.isStream() {
		// Bytes queued before a block ended (a signal, a timeout, a
		// reset) are reported; the error shows on the next call.
		return sent, nil
	}
	if err != nil {
		return 0, err
	}
	return sent, nil
}

// RecvMsg implements socket.Socket.
func (s *Socket) RecvMsg(ctx socket.Context, n int, flags int, nonblocking bool, wantCtrl bool) ([]byte, socket.RecvResult, error) {
	size := min(n, maxStreamRead)
	if !s.isStream() {
		size = min(n, maxDatagram)
	}
	b := &bufSink{buf: make([]byte, size)}
	res, err := s.recvMsg(ctx, b, flags, nonblocking)
	return b.buf[:b.n], res, err
}

// RecvMsgIO implements socket.DirectIO.
func (s *Socket) RecvMsgIO(ctx socket.Context, dst *socket.GuestIO, flags int, nonblocking bool, wantCtrl bool) (socket.RecvResult, error) {
	return s.recvMsg(ctx, dst, flags, nonblocking)
}

func (s *Socket) recvMsg(ctx socket.Context, dst sink, flags int, nonblocking bool) (socket.RecvResult, error) {
	if flags&linux.MSG_OOB != 0 {
		// "EINVAL ... no urgent data" (tcp_recv_urg); netstack keeps
		// none. UDP has no OOB data at all.
		if s.isStream() {
			return socket.RecvResult{}, errno.EINVAL
		}
		return socket.RecvResult{}, errno.EOPNOTSUPP
	}
	if flags&linux.MSG_ERRQUEUE != 0 {
		// The error queue (IP_RECVERR) stays empty on loopback.
		return socket.RecvResult{}, errno.EAGAIN
	}
	return s.recv(ctx, dst, flags, nonblocking)
}

// recv receives into dst: for TCP, what is queued (until dst is full with
// MSG_WAITALL), nothing at end of file; otherwise one datagram, its
// excess discarded unless MSG_PEEK.
func (s *Socket) recv(ctx socket.Context, dst sink, flags int, nonblocking bool) (socket.RecvResult, error) {
	peek := flags&linux.MSG_PEEK != 0
	timeout, _ := s.timeouts()
	var res socket.RecvResult
	if !s.isStream() {
		empty := dst.Len() == 0
		err := s.block(ctx, nonblocking, timeout, vfs.EventIn, func() error {
			rr, terr := s.ep.Read(dst, tcpip.ReadOptions{Peek: peek, NeedRemoteAddr: true})
			if _, ok := terr.(*tcpip.ErrBadBuffer); ok && empty {
				// A zero-length receive takes the datagram (netstack
				// calls writing none of it a bad buffer).
				terr = nil
			}
			if terr != nil {
				if _, ok := terr.(*tcpip.ErrClosedForReceive); ok {
					// A shut-down UDP socket reads end of file.
					return nil
				}
				return errnoOf(terr)
			}
			res.N, res.MsgLen = rr.Count, rr.Total
			res.From = sockaddr(s.family, rr.RemoteAddr)
			res.Control.Extra = s.controlMessages(&rr.ControlMessages)
			return nil
		})
		return res, err
	}
	if dst.Len() == 0 {
		// tcp_recvmsg copies nothing and returns at once.
		return res, nil
	}
	waitAll := flags&linux.MSG_WAITALL != 0 && !peek
	got := 0
	eof := false
	err := s.block(ctx, nonblocking, timeout, vfs.EventIn, func() error {
		for dst.Len() > 0 {
			rr, terr := s.ep.Read(dst, tcpip.ReadOptions{Peek: peek})
			if terr != nil {
				if _, ok := terr.(*tcpip.ErrClosedForReceive); ok {
					eof = true
					return nil
				}
				if got > 0 {
					if _, ok := terr.(*tcpip.ErrWouldBlock); ok && waitAll {
						return errno.EAGAIN
					}
					return nil
				}
				return errnoOf(terr)
			}
			got += rr.Count
			if !peek {
				s.ep.ModerateRecvBuf(rr.Count)
			}
			if !waitAll {
				return nil
			}
		}
		return nil
	})
	if got > 0 {
		// Bytes already taken are the result, whatever ended the wait.
		res.N, res.MsgLen = got, got
		return res, nil
	}
	if eof {
		return res, nil
	}
	return res, err
}

// controlMessages encodes a datagram's control messages that the socket
// asked for, in the order udp_recvmsg writes them: the timestamp
// (sock_recv_cmsgs), then ip_cmsg_recv_offset's IP_PKTINFO, IP_TTL and
// IP_TOS, or ip6_datagram_recv_specific_ctl's IPV6_PKTINFO, IPV6_HOPLIMIT
// and IPV6_TCLASS.
func (s *Socket) controlMessages(cm *tcpip.ReceivableControlMessages) []socket.Cmsg {
	var out []socket.Cmsg
	le := binary.LittleEndian
	s.mu.Lock()
	ts, tsNS := s.timestamp, s.timestampNS
	s.mu.Unlock()
	if ts || tsNS {
		t := cm.Timestamp
		if t.IsZero() {
			t = time.Now()
		}
		b := le.AppendUint64(nil, uint64(t.Unix()))
		if tsNS {
			b = le.AppendUint64(b, uint64(t.Nanosecond()))
			out = append(out, socket.Cmsg{Level: linux.SOL_SOCKET, Type: linux.SO_TIMESTAMPNS, Data: b})
		} else {
			b = le.AppendUint64(b, uint64(t.Nanosecond()/1000))
			out = append(out, socket.Cmsg{Level: linux.SOL_SOCKET, Type: linux.SO_TIMESTAMP, Data: b})
		}
	}
	if cm.HasIPPacketInfo {
		// struct in_pktinfo: ipi_ifindex, ipi_spec_dst, ipi_addr.
		b := le.AppendUint32(nil, uint32(cm.PacketInfo.NIC))
		b = append(b, addrBytes(linux.AF_INET, cm.PacketInfo.LocalAddr)...)
		b = append(b, addrBytes(linux.AF_INET, cm.PacketInfo.DestinationAddr)...)
		out = append(out, socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_PKTINFO, Data: b})
	}
	if cm.HasTTL {
		out = append(out, socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_TTL, Data: socket.Int32Bytes(int32(cm.TTL))})
	}
	if cm.HasTOS {
		// IP_TOS comes as one byte (ip_cmsg_recv_tos).
		out = append(out, socket.Cmsg{Level: linux.SOL_IP, Type: linux.IP_TOS, Data: []byte{cm.TOS}})
	}
	if cm.HasIPv6PacketInfo {
		// struct in6_pktinfo: ipi6_addr, ipi6_ifindex.
		b := append([]byte(nil), addrBytes(linux.AF_INET6, cm.IPv6PacketInfo.Addr)...)
		b = le.AppendUint32(b, uint32(cm.IPv6PacketInfo.NIC))
		out = append(out, socket.Cmsg{Level: linux.SOL_IPV6, Type: linux.IPV6_PKTINFO, Data: b})
	}
	if cm.HasHopLimit {
		out = append(out, socket.Cmsg{Level: linux.SOL_IPV6, Type: linux.IPV6_HOPLIMIT, Data: socket.Int32Bytes(int32(cm.HopLimit))})
	}
	if cm.HasTClass {
		out = append(out, socket.Cmsg{Level: linux.SOL_IPV6, Type: linux.IPV6_TCLASS, Data: socket.Int32Bytes(int32(cm.TClass))})
	}
	return out
}
