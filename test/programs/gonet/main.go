// Command gonet exercises the Go runtime's use of IP networking over
// loopback: a net/http server and client, UDP echo over 127.0.0.1 and
// [::1], a TCP echo with many concurrent connections (half-closed by the
// client), a dual-stack listener, a localhost lookup and the loopback
// interface. It prints only deterministic results (no ports, no timings),
// so that its output natively and in the sandbox can be compared
// (test/runner TestNetGoProgram). It is built with CGO_ENABLED=0 at test
// time. On any failure it prints a "FAIL" line, carries on, and exits 1.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

var failed bool

func fail(what string, err error) {
	failed = true
	fmt.Printf("FAIL %s: %v\n", what, err)
}

func main() {
	httpServerClient()
	udpEcho("udp4", "127.0.0.1")
	udpEcho("udp6", "::1")
	tcpEcho("tcp4", "127.0.0.1", 100, 64<<10)
	tcpEcho("tcp6", "::1", 20, 16<<10)
	dualStack()
	lookupLocalhost()
	interfaces()
	if failed {
		os.Exit(1)
	}
}

// pattern returns n deterministic bytes, different for each seed.
func pattern(seed, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// httpServerClient runs a net/http server on 127.0.0.1:0 and fetches from
// it with a client that keeps connections alive: GETs, a POST with a
// 1 MiB body, a 404, a chunked streamed response, and concurrent requests.
func httpServerClient() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("http listen", err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, %s", r.URL.Query().Get("name"))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "%s %d bytes sha256 %x", r.Method, len(body), sha256.Sum256(body))
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		f := w.(http.Flusher)
		for i := 0; i < 5; i++ {
			fmt.Fprintf(w, "chunk %d\n", i)
			f.Flush()
		}
	})
	mux.HandleFunc("/remote", func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		fmt.Fprintf(w, "remote %s", host)
	})
	srv := &http.Server{Handler: mux}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 30 * time.Second}

	get := func(path string) {
		resp, err := client.Get(base + path)
		if err != nil {
			fail("http GET "+path, err)
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			fail("http GET "+path+" body", err)
			return
		}
		fmt.Printf("http: GET %s -> %d %q (chunked=%v)\n", path, resp.StatusCode, body,
			len(resp.TransferEncoding) > 0 && resp.TransferEncoding[0] == "chunked")
	}
	get("/hello?name=sandbox")
	get("/hello?name=again")
	get("/missing")
	get("/stream")
	get("/remote")

	big := pattern(1, 1<<20)
	resp, err := client.Post(base+"/echo", "application/octet-stream", bytes.NewReader(big))
	if err != nil {
		fail("http POST", err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("http: POST /echo -> %d %s (want sha256 %x)\n", resp.StatusCode, body, sha256.Sum256(big))
	}

	// Concurrent requests: more than the transport keeps idle.
	const n = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(fmt.Sprintf("%s/hello?name=%d", base, i))
			if err != nil {
				mu.Lock()
				fail("http concurrent GET", err)
				mu.Unlock()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) == fmt.Sprintf("hello, %d", i) {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Printf("http: %d concurrent GETs, %d right\n", n, ok)

	// Connections the transport dialed but never used are StateNew on
	// the server, which Shutdown waits 5s for; close them first.
	client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		fail("http shutdown", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		fail("http serve", err)
	}
	fmt.Println("http: server shut down")
}

// udpEcho sends datagrams of several sizes, one at a time, to an echo
// server on addr and checks each reply, and checks the addresses both
// sides see.
func udpEcho(network, addr string) {
	name := "udp [" + addr + "]"
	srv, err := net.ListenPacket(network, net.JoinHostPort(addr, "0"))
	if err != nil {
		fail(name+" listen", err)
		return
	}
	defer srv.Close()
	peers := make(chan string, 1)
	go func() {
		buf := make([]byte, 65536)
		first := true
		for {
			n, from, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			if first {
				peers <- from.(*net.UDPAddr).IP.String()
				first = false
			}
			if _, err := srv.WriteTo(buf[:n], from); err != nil {
				return
			}
		}
	}()
	c, err := net.Dial(network, srv.LocalAddr().String())
	if err != nil {
		fail(name+" dial", err)
		return
	}
	defer c.Close()
	sizes := []int{0, 1, 100, 1400, 1500, 9000, 32768, 60000}
	good := 0
	buf := make([]byte, 65536)
	for i, size := range sizes {
		msg := pattern(i+100, size)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(msg); err != nil {
			fail(fmt.Sprintf("%s write %d bytes", name, size), err)
			continue
		}
		n, err := c.Read(buf)
		if err != nil {
			fail(fmt.Sprintf("%s read %d bytes", name, size), err)
			continue
		}
		if bytes.Equal(buf[:n], msg) {
			good++
		} else {
			fail(name, fmt.Errorf("echo of %d bytes came back as %d different bytes", size, n))
		}
	}
	fmt.Printf("%s: %d of %d datagrams (sizes %v) echoed\n", name, good, len(sizes), sizes)
	fmt.Printf("%s: client address %s, server saw %s\n", name,
		c.LocalAddr().(*net.UDPAddr).IP, <-peers)

	// A datagram to a port nobody listens on: a connected socket learns
	// of the ICMP port unreachable as ECONNREFUSED on its next read.
	dead, err := net.ListenPacket(network, net.JoinHostPort(addr, "0"))
	if err != nil {
		fail(name+" listen", err)
		return
	}
	deadAddr := dead.LocalAddr().String()
	dead.Close()
	d, err := net.Dial(network, deadAddr)
	if err != nil {
		fail(name+" dial closed port", err)
		return
	}
	defer d.Close()
	d.SetDeadline(time.Now().Add(5 * time.Second))
	d.Write([]byte("anyone?"))
	_, err = d.Read(buf)
	fmt.Printf("%s: read after sending to a closed port: %v\n", name, errName(err))
}

// errName reduces an error to something deterministic.
func errName(err error) string {
	switch {
	case err == nil:
		return "no error"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	}
	return err.Error()
}

// tcpEcho runs an echo server and conns concurrent clients on addr, each
// writing size bytes, half-closing, and reading the echo to EOF.
func tcpEcho(network, addr string, conns, size int) {
	name := "tcp [" + addr + "]"
	ln, err := net.Listen(network, net.JoinHostPort(addr, "0"))
	if err != nil {
		fail(name+" listen", err)
		return
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	good, total := 0, 0
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := func() error {
				c, err := net.DialTimeout(network, ln.Addr().String(), 30*time.Second)
				if err != nil {
					return err
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(60 * time.Second))
				msg := pattern(i, size)
				werr := make(chan error, 1)
				go func() {
					// Odd-sized writes, so that segments and reads do
					// not line up.
					rest := msg
					for len(rest) > 0 {
						k := min(len(rest), 1000+7*i)
						if _, err := c.Write(rest[:k]); err != nil {
							werr <- err
							return
						}
						rest = rest[k:]
					}
					werr <- c.(*net.TCPConn).CloseWrite()
				}()
				got, err := io.ReadAll(c)
				if err != nil {
					return err
				}
				if err := <-werr; err != nil {
					return err
				}
				mu.Lock()
				total += len(got)
				mu.Unlock()
				if !bytes.Equal(got, msg) {
					return fmt.Errorf("echo of %d bytes came back as %d different bytes", len(msg), len(got))
				}
				return nil
			}()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				fail(fmt.Sprintf("%s conn %d", name, i), err)
				return
			}
			good++
		}()
	}
	wg.Wait()
	fmt.Printf("%s: %d of %d concurrent connections echoed %d bytes each, %d in all\n", name, good, conns, size, total)
}

// dualStack listens on the IPv6 wildcard and connects to it over IPv4 and
// IPv6, as a server on ":port" is reached at 127.0.0.1 and at ::1.
func dualStack() {
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		fail("dual-stack listen", err)
		return
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	fmt.Printf("dual-stack: listening on %s\n", ln.Addr().(*net.TCPAddr).IP)
	accepted := make(chan string, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "hi\n")
			accepted <- c.RemoteAddr().(*net.TCPAddr).IP.String()
			c.Close()
		}
	}()
	for _, host := range []string{"127.0.0.1", "::1"} {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), 10*time.Second)
		if err != nil {
			fail("dual-stack dial "+host, err)
			continue
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		line, err := io.ReadAll(c)
		c.Close()
		fmt.Printf("dual-stack: via %s read %q (%v), server saw %s\n", host, line, errName(err), <-accepted)
	}
}

// lookupLocalhost resolves localhost with the pure-Go resolver
// (/etc/hosts, the same file natively and in the sandbox).
func lookupLocalhost() {
	addrs, err := net.LookupHost("localhost")
	if err != nil {
		fail("lookup localhost", err)
		return
	}
	sort.Strings(addrs)
	fmt.Printf("lookup localhost: %v\n", addrs)
}

// interfaces prints the loopback interface as net.Interfaces and
// InterfaceByName see it: only lo, which every network namespace has.
func interfaces() {
	ifs, err := net.Interfaces()
	if err != nil {
		fail("interfaces", err)
		return
	}
	found := false
	for _, ifi := range ifs {
		if ifi.Name != "lo" {
			continue
		}
		found = true
		addrs, err := ifi.Addrs()
		if err != nil {
			fail("lo addrs", err)
		}
		var as []string
		for _, a := range addrs {
			as = append(as, a.String())
		}
		sort.Strings(as)
		fmt.Printf("interface lo: index>0 %v, mtu %d, flags %v, hardware addr %q, addrs %v\n",
			ifi.Index > 0, ifi.MTU, ifi.Flags, ifi.HardwareAddr.String(), as)
		byName, err := net.InterfaceByName("lo")
		if err != nil {
			fail("InterfaceByName lo", err)
		} else {
			byIndex, err := net.InterfaceByIndex(byName.Index)
			if err != nil {
				fail("InterfaceByIndex", err)
			} else {
				fmt.Printf("interface lo: by name and by index agree: %v\n", byIndex.Name == "lo" && byIndex.Index == ifi.Index)
			}
		}
	}
	if !found {
		fail("interfaces", fmt.Errorf("no lo among %d interfaces", len(ifs)))
	}
	// Every interface's addresses, filtered to loopback ones: none but
	// lo's may be loopback addresses.
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		fail("InterfaceAddrs", err)
		return
	}
	var loop []string
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.IsLoopback() {
			loop = append(loop, a.String())
		}
	}
	sort.Strings(loop)
	fmt.Printf("loopback addresses: %v\n", loop)
}
