package netstack

import (
	"bytes"
	"encoding/binary"
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

// SendMsg implements socket.Socket.
func (s *Socket) SendMsg(ctx socket.Context, data []byte, to []byte, ctrl socket.ControlMessages, flags int, nonblocking bool) (int, error) {
	// Files and credentials mean nothing to an IP socket; the kernel
	// ignores SOL_SOCKET control messages other than its own there.
	ctrl.Release()
	if flags&linux.MSG_OOB != 0 {
		// netstack has no urgent data.
		return 0, errno.EOPNOTSUPP
	}
	return s.sendFlags(ctx, data, to, flags, nonblocking)
}

// send is sendmsg without control messages.
func (s *Socket) send(ctx socket.Context, data []byte, to []byte, flags int, nonblocking bool) (int, error) {
	return s.sendFlags(ctx, data, to, flags, nonblocking)
}

// sendFlags sends data: a stream socket queues all of it, waiting for
// room unless nonblocking (then it returns what fit); a datagram socket
// sends one datagram.
func (s *Socket) sendFlags(ctx socket.Context, data []byte, to []byte, flags int, nonblocking bool) (int, error) {
	opts := tcpip.WriteOptions{More: flags&linux.MSG_MORE != 0, EndOfRecord: flags&linux.MSG_EOR != 0}
	if to != nil && !s.isStream() {
		// tcp_sendmsg ignores the address; a datagram goes to it.
		a, err := parseAddr(s.family, to, useSendTo, true)
		if err != nil {
			return 0, err
		}
		opts.To = &a
	}
	_, timeout := s.timeouts()
	r := bytes.NewReader(data)
	sent := 0
	err := s.block(ctx, nonblocking, timeout, vfs.EventOut, func() error {
		for {
			n, terr := s.ep.Write(r, opts)
			sent += int(n)
			if terr != nil {
				if _, ok := terr.(*tcpip.ErrWouldBlock); ok && n > 0 {
					continue
				}
				return errnoOf(terr)
			}
			if !s.isStream() || r.Len() == 0 {
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
	if flags&linux.MSG_OOB != 0 {
		// "EINVAL ... no urgent data" (tcp_recv_urg); netstack keeps
		// none. UDP has no OOB data at all.
		if s.isStream() {
			return nil, socket.RecvResult{}, errno.EINVAL
		}
		return nil, socket.RecvResult{}, errno.EOPNOTSUPP
	}
	if flags&linux.MSG_ERRQUEUE != 0 {
		// The error queue (IP_RECVERR) stays empty on loopback.
		return nil, socket.RecvResult{}, errno.EAGAIN
	}
	return s.recv(ctx, n, flags, nonblocking)
}

// recv receives at most n bytes: for TCP, what is queued (all n with
// MSG_WAITALL), 0 at end of file; otherwise one datagram, its excess
// discarded unless MSG_PEEK.
func (s *Socket) recv(ctx socket.Context, n int, flags int, nonblocking bool) ([]byte, socket.RecvResult, error) {
	peek := flags&linux.MSG_PEEK != 0
	timeout, _ := s.timeouts()
	var res socket.RecvResult
	if !s.isStream() {
		buf := make([]byte, min(n, maxDatagram))
		err := s.block(ctx, nonblocking, timeout, vfs.EventIn, func() error {
			w := tcpip.SliceWriter(buf)
			rr, terr := s.ep.Read(&w, tcpip.ReadOptions{Peek: peek, NeedRemoteAddr: true})
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
		if err != nil {
			return nil, res, err
		}
		return buf[:res.N], res, nil
	}
	if n == 0 {
		// tcp_recvmsg copies nothing and returns at once.
		return nil, res, nil
	}
	buf := make([]byte, min(n, maxStreamRead))
	waitAll := flags&linux.MSG_WAITALL != 0 && !peek
	got := 0
	eof := false
	err := s.block(ctx, nonblocking, timeout, vfs.EventIn, func() error {
		for got < len(buf) {
			w := tcpip.SliceWriter(buf[got:])
			rr, terr := s.ep.Read(&w, tcpip.ReadOptions{Peek: peek})
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
			if !waitAll || peek {
				return nil
			}
		}
		return nil
	})
	if got > 0 {
		// Bytes already taken are the result, whatever ended the wait.
		res.N, res.MsgLen = got, got
		return buf[:got], res, nil
	}
	if eof {
		return nil, res, nil
	}
	return nil, res, err
}

// Control message types, from <linux/in.h>, <linux/in6.h> and
// <asm-generic/socket.h>.
const (
	scmTimestamp   = 29 // SO_TIMESTAMP_OLD
	scmTimestampNS = 35 // SO_TIMESTAMPNS_OLD
	ipv6PktInfo    = 50
	ipv6HopLimit   = 52
)

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
			out = append(out, socket.Cmsg{Level: linux.SOL_SOCKET, Type: scmTimestampNS, Data: b})
		} else {
			b = le.AppendUint64(b, uint64(t.Nanosecond()/1000))
			out = append(out, socket.Cmsg{Level: linux.SOL_SOCKET, Type: scmTimestamp, Data: b})
		}
	}
	if cm.HasIPPacketInfo {
		// struct in_pktinfo: ipi_ifindex, ipi_spec_dst, ipi_addr.
		b := le.AppendUint32(nil, uint32(cm.PacketInfo.NIC))
		b = append(b, addrBytes(linux.AF_INET, cm.PacketInfo.LocalAddr)...)
		b = append(b, addrBytes(linux.AF_INET, cm.PacketInfo.DestinationAddr)...)
		out = append(out, socket.Cmsg{Level: solIP, Type: ipPktInfo, Data: b})
	}
	if cm.HasTTL {
		out = append(out, socket.Cmsg{Level: solIP, Type: ipTTL, Data: int32Bytes(int32(cm.TTL))})
	}
	if cm.HasTOS {
		// IP_TOS comes as one byte (ip_cmsg_recv_tos).
		out = append(out, socket.Cmsg{Level: solIP, Type: ipTOS, Data: []byte{cm.TOS}})
	}
	if cm.HasIPv6PacketInfo {
		// struct in6_pktinfo: ipi6_addr, ipi6_ifindex.
		b := append([]byte(nil), addrBytes(linux.AF_INET6, cm.IPv6PacketInfo.Addr)...)
		b = le.AppendUint32(b, uint32(cm.IPv6PacketInfo.NIC))
		out = append(out, socket.Cmsg{Level: solIPv6, Type: ipv6PktInfo, Data: b})
	}
	if cm.HasHopLimit {
		out = append(out, socket.Cmsg{Level: solIPv6, Type: ipv6HopLimit, Data: int32Bytes(int32(cm.HopLimit))})
	}
	if cm.HasTClass {
		out = append(out, socket.Cmsg{Level: solIPv6, Type: ipv6TClass, Data: int32Bytes(int32(cm.TClass))})
	}
	return out
}
