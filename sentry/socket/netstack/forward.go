package netstack

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// Publish is one --publish rule: connections to HostAddr:HostPort on the
// host go to GuestPort on the sandbox's loopback.
type Publish struct {
	HostAddr  string
	HostPort  uint16
	GuestPort uint16
}

// ParsePublish parses "[HOST_IP:]HOST_PORT:GUEST_PORT", as docker run -p
// takes it (TCP only). Without HOST_IP the port is published on every
// host address, as Docker does.
func ParsePublish(spec string) (Publish, error) {
	parts := strings.Split(strings.TrimSuffix(spec, "/tcp"), ":")
	var p Publish
	switch len(parts) {
	case 2:
	case 3:
		p.HostAddr = parts[0]
		if net.ParseIP(p.HostAddr) == nil {
			return p, fmt.Errorf("--publish %q: bad host address %q", spec, p.HostAddr)
		}
		parts = parts[1:]
	default:
		return p, fmt.Errorf("--publish %q: want HOST_PORT:GUEST_PORT", spec)
	}
	hp, err1 := strconv.ParseUint(parts[0], 10, 16)
	gp, err2 := strconv.ParseUint(parts[1], 10, 16)
	if err1 != nil || err2 != nil || hp == 0 || gp == 0 {
		return p, fmt.Errorf("--publish %q: ports must be 1-65535", spec)
	}
	p.HostPort, p.GuestPort = uint16(hp), uint16(gp)
	return p, nil
}

// Forwarder runs the host side of --publish rules.
type Forwarder struct {
	st  *Stack
	log *slog.Logger

	mu        sync.Mutex
	listeners []net.Listener
	conns     map[net.Conn]struct{}
	closed    bool
}

// Publish starts listening on the host for each rule and forwarding the
// connections into the stack. The listeners are open when it returns, so
// a failure to bind is reported before the sandbox starts.
func (st *Stack) Publish(rules []Publish, log *slog.Logger) (*Forwarder, error) {
	f := &Forwarder{st: st, log: log, conns: map[net.Conn]struct{}{}}
	for _, r := range rules {
		l, err := net.Listen("tcp", net.JoinHostPort(r.HostAddr, strconv.Itoa(int(r.HostPort))))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("--publish %d:%d: %w", r.HostPort, r.GuestPort, err)
		}
		f.listeners = append(f.listeners, l)
		go f.serve(l, r.GuestPort)
	}
	return f, nil
}

// Close stops listening and drops every forwarded connection.
func (f *Forwarder) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for _, l := range f.listeners {
		l.Close()
	}
	for c := range f.conns {
		c.Close()
	}
}

func (f *Forwarder) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		c.Close()
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *Forwarder) untrack(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	c.Close()
}

func (f *Forwarder) serve(l net.Listener, guestPort uint16) {
	for {
		hc, err := l.Accept()
		if err != nil {
			return
		}
		go f.forward(hc, guestPort)
	}
}

// forward connects hc to the guest's port on 127.0.0.1 and copies both
// ways, passing each direction's end of stream on as a half close. A
// guest that is not listening sees nothing; the host client is reset.
func (f *Forwarder) forward(hc net.Conn, guestPort uint16) {
	if !f.track(hc) {
		return
	}
	defer f.untrack(hc)
	gc, err := gonet.DialTCP(f.st.s, tcpip.FullAddress{NIC: loopbackNIC, Addr: tcpip.AddrFrom4([4]byte{127, 0, 0, 1}), Port: guestPort}, ipv4.ProtocolNumber)
	if err != nil {
		if f.log != nil {
			f.log.Debug("publish: guest connect", "port", guestPort, "err", err)
		}
		if tc, ok := hc.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		return
	}
	if !f.track(gc) {
		return
	}
	defer f.untrack(gc)
	done := make(chan struct{}, 2)
	go func() {
		io.Copy(gc, hc)
		gc.CloseWrite()
		done <- struct{}{}
	}()
	go func() {
		io.Copy(hc, gc)
		if tc, ok := hc.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		done <- struct{}{}
	}()
	<-done
	<-done
}
