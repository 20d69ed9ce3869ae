package runner

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The acceptance tests of IP networking (netstack, loopback only). The
// sandbox's default network, --network=sandbox, is a loopback interface of
// its own: guests reach each other over 127.0.0.1 and ::1, and neither the
// host's sockets nor its interfaces. --publish HOST_PORT:GUEST_PORT lets
// the host in to one guest port; --network=host hands the guest the host's
// network.

// Host tools the tests run (Debian package in the comment).
const (
	curlPath = "/usr/bin/curl" // curl
	ipPath   = "/bin/ip"       // iproute2
	pingPath = "/bin/ping"     // iputils-ping
)

// guestUpTimeout bounds the wait for a server to come up in the sandbox:
// python3's start on ptrace takes seconds.
const guestUpTimeout = 60 * time.Second

// token returns a random string, so that a response proves where it came
// from.
func token(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// freePort returns a TCP port on which nothing listens on the host's
// 127.0.0.1 (the kernel's choice, released again).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// requirePortFree fails t if something listens on the host's port.
func requirePortFree(t *testing.T, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("host port %d is needed free: %v", port, err)
	}
	ln.Close()
}

// serveDir returns a new directory holding "file", with random content
// (also returned), for python3 -m http.server to serve. The sandbox sees
// the host's temporary directories through its overlay.
func serveDir(t *testing.T) (dir, content string) {
	t.Helper()
	dir = t.TempDir()
	content = "served file " + token(t) + "\n"
	mustWrite(t, filepath.Join(dir, "file"), content)
	return dir, content
}

// hostServer starts an HTTP server on the host's 127.0.0.1:0 that answers
// every request with body, and counts the requests.
func hostServer(t *testing.T, body string) (url string, port int, requests *atomic.Int32) {
	t.Helper()
	requests = new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/", srv.Listener.Addr().(*net.TCPAddr).Port, requests
}

// waitUpScript is sh that starts a python3 http.server on port $1 (further
// http.server arguments after it) serving directory $2 in the background,
// waits until curl gets its /file, and leaves $pid set to the server's pid.
const waitUpScript = `port=$1 dir=$2; shift 2
` + python3 + ` -m http.server --directory "$dir" "$@" "$port" >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
end=$(( $(date +%s) + 60 ))
until curl -s --max-time 10 -o /dev/null "http://127.0.0.1:$port/file"; do
	kill -0 $pid 2>/dev/null || { echo "http.server exited" >&2; exit 1; }
	[ "$(date +%s)" -lt "$end" ] || { echo "http.server not up after 60s" >&2; exit 1; }
	sleep 0.1
done
`

// TestNetHTTPServerInSandbox: python3 -m http.server on 127.0.0.1:8000 in
// the background in the sandbox, and curl in the same sandbox fetches a
// file from it.
func TestNetHTTPServerInSandbox(t *testing.T) {
	needTool(t, python3, "python3")
	needTool(t, curlPath, "curl")
	dir, content := serveDir(t)
	script := waitUpScript + `curl -sS --fail --max-time 30 "http://127.0.0.1:$port/file"`
	argv := func(port int) []string {
		return []string{"/bin/sh", "-c", script, "sh", strconv.Itoa(port), dir, "--bind", "127.0.0.1"}
	}
	// Natively on a free port: 8000 may be taken on the host, and the
	// sandbox's own 8000 is not the host's.
	native := runNative(t, argv(freePort(t)), runOpts{})
	checkNoOrphans(t)
	if native.status != 0 || native.stdout != content {
		t.Fatalf("native run: want the file %q\n%s", content, native)
	}
	sandbox := runSandbox(t, argv(8000), runOpts{})
	if sandbox.status != 0 || sandbox.stdout != content {
		t.Errorf("sandbox: want status 0 and the file %q\n%s", content, sandbox)
	}
}

// TestNetGoProgram builds test/programs/gonet statically and compares its
// runs: a net/http server and client, UDP echo over 127.0.0.1 and ::1, a
// TCP echo over 100 concurrent connections, a dual-stack listener, and
// the loopback interface.
func TestNetGoProgram(t *testing.T) {
	exe := buildGoProgram(t, "gonet")
	compareRuns(t, []string{exe}, 0)
}

// ipBlocks splits `ip addr` output into one block per interface, by name.
func ipBlocks(out string) map[string]string {
	header := regexp.MustCompile(`(?m)^\d+: ([^:@ ]+)[:@]`)
	blocks := map[string]string{}
	locs := header.FindAllStringSubmatchIndex(out, -1)
	for i, loc := range locs {
		end := len(out)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		blocks[out[loc[2]:loc[3]]] = out[loc[0]:end]
	}
	return blocks
}

// TestNetIPTools runs iproute2 and ping in the sandbox: `ip addr` shows lo
// up with 127.0.0.1/8 and no other interface, `ip route` works, and
// `ping -c1 127.0.0.1` gets its reply.
func TestNetIPTools(t *testing.T) {
	t.Run("ip addr", func(t *testing.T) {
		needTool(t, ipPath, "iproute2")
		argv := []string{ipPath, "addr"}
		for _, sandbox := range []bool{false, true} {
			var r result
			if sandbox {
				r = runSandbox(t, argv, runOpts{})
			} else {
				r = runNative(t, argv, runOpts{})
			}
			where := map[bool]string{false: "native", true: "sandbox"}[sandbox]
			if r.status != 0 {
				t.Errorf("%s: ip addr failed\n%s", where, r)
				continue
			}
			blocks := ipBlocks(r.stdout)
			lo, ok := blocks["lo"]
			switch {
			case !ok:
				t.Errorf("%s: no lo in ip addr\n%s", where, r)
			case !strings.Contains(lo, "inet 127.0.0.1/8"):
				t.Errorf("%s: lo has no inet 127.0.0.1/8\n%s", where, r)
			case !regexp.MustCompile(`<[^>]*\bUP\b[^>]*>`).MatchString(lo):
				t.Errorf("%s: lo is not UP\n%s", where, r)
			}
			if sandbox && len(blocks) != 1 {
				t.Errorf("sandbox: want only lo (loopback-only network), have %d interfaces\n%s", len(blocks), r)
			}
		}
	})
	t.Run("ip route", func(t *testing.T) {
		needTool(t, ipPath, "iproute2")
		argv := []string{ipPath, "route"}
		if r := runNative(t, argv, runOpts{}); r.status != 0 {
			t.Fatalf("native run:\n%s", r)
		}
		if r := runSandbox(t, argv, runOpts{}); r.status != 0 {
			t.Errorf("sandbox: ip route failed\n%s", r)
		}
	})
	t.Run("ping", func(t *testing.T) {
		needTool(t, pingPath, "iputils-ping")
		argv := []string{pingPath, "-c1", "-W10", "127.0.0.1"}
		if r := runNative(t, argv, runOpts{}); r.status != 0 || !strings.Contains(r.stdout, "1 received") {
			t.Fatalf("native run: want status 0 and 1 received\n%s", r)
		}
		if r := runSandbox(t, argv, runOpts{}); r.status != 0 || !strings.Contains(r.stdout, "1 received") {
			t.Errorf("sandbox: want status 0 and 1 received\n%s", r)
		}
	})
}

// bgRun is a command running in the background, killed with its whole
// process group when the test ends.
type bgRun struct {
	cmd            *exec.Cmd
	mu             sync.Mutex
	stdout, stderr bytes.Buffer
	exited         chan struct{}
	err            error
}

type lockedWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// startBackground starts argv with cwd / and env, in a process group of
// its own. Cleanup kills the group, reaps it and checks that nothing was
// left behind.
func startBackground(t *testing.T, argv, env []string) *bgRun {
	t.Helper()
	b := &bgRun{exited: make(chan struct{})}
	b.cmd = exec.Command(argv[0], argv[1:]...)
	b.cmd.Env = env
	b.cmd.Dir = "/"
	b.cmd.Stdout = lockedWriter{&b.mu, &b.stdout}
	b.cmd.Stderr = lockedWriter{&b.mu, &b.stderr}
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	b.cmd.WaitDelay = 10 * time.Second
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		b.err = b.cmd.Wait()
		close(b.exited)
	}()
	t.Cleanup(func() {
		b.kill(t)
		checkNoOrphans(t)
	})
	return b
}

// kill kills b's process group and waits for it.
func (b *bgRun) kill(t *testing.T) {
	syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-b.exited:
	case <-time.After(15 * time.Second):
		t.Errorf("%q did not exit after SIGKILL", b.cmd.Args)
	}
}

func (b *bgRun) done() bool {
	select {
	case <-b.exited:
		return true
	default:
		return false
	}
}

func (b *bgRun) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := fmt.Sprintf("stdout:\n%s\nstderr:\n%s", b.stdout.String(), tail(b.stderr.String(), 4000))
	if b.done() {
		s = fmt.Sprintf("exited: %v\n%s", b.err, s)
	}
	return s
}

// waitStdout waits until b's stdout contains want. It fails t if b exits
// first or timeout passes.
func (b *bgRun) waitStdout(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b.mu.Lock()
		ok := strings.Contains(b.stdout.String(), want)
		b.mu.Unlock()
		switch {
		case ok:
			return
		case b.done():
			t.Fatalf("exited before printing %q\n%s", want, b)
		case time.Now().After(deadline):
			t.Fatalf("no %q after %v\n%s", want, timeout, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fetchUntilUp GETs url from the host until it answers 200 and returns the
// body. It fails t at timeout, or if b (the process that should be
// serving) exits first.
func fetchUntilUp(t *testing.T, url string, b *bgRun, timeout time.Duration) string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		resp, err := client.Get(url)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && rerr == nil {
				return string(body)
			}
			err = fmt.Errorf("status %d, body %q, %v", resp.StatusCode, body, rerr)
		}
		lastErr = err
		if b.done() {
			t.Fatalf("GET %s: the server exited (last error: %v)\n%s", url, lastErr, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: not up after %v (last error: %v)\n%s", url, timeout, lastErr, b)
	return ""
}

// publishHostPort and publishGuestPort are the ports of TestNetPublish.
const publishHostPort, publishGuestPort = 18080, 8000

// TestNetPublish: with --publish 18080:8000, the host fetches a file with
// net/http from python3 -m http.server on the guest's port 8000, at its own
// 127.0.0.1:18080.
func TestNetPublish(t *testing.T) {
	needTool(t, python3, "python3")
	dir, content := serveDir(t)
	serve := func(port int) []string {
		return []string{python3, "-m", "http.server", "--directory", dir, strconv.Itoa(port)}
	}
	t.Run("native", func(t *testing.T) {
		// The same server and fetch with no sandbox in between.
		port := freePort(t)
		b := startBackground(t, serve(port), baseEnv)
		if got := fetchUntilUp(t, fmt.Sprintf("http://127.0.0.1:%d/file", port), b, guestUpTimeout); got != content {
			t.Fatalf("got %q, want %q", got, content)
		}
	})
	t.Run("sandbox", func(t *testing.T) {
		requirePortFree(t, publishHostPort)
		argv := sandboxArgv(t, serve(publishGuestPort), runOpts{
			sandboxFlags: []string{"--publish", fmt.Sprintf("%d:%d", publishHostPort, publishGuestPort)},
		})
		b := startBackground(t, argv, baseEnv)
		got := fetchUntilUp(t, fmt.Sprintf("http://127.0.0.1:%d/file", publishHostPort), b, guestUpTimeout)
		if got != content {
			t.Errorf("got %q, want %q", got, content)
		}
		b.kill(t)
		checkNoOrphans(t)
		// The sandbox's end releases the host port.
		requirePortFree(t, publishHostPort)
	})
}

// TestNetHostNetwork: with --network=host, the guest's curl reaches an
// HTTP server of the host's on 127.0.0.1.
func TestNetHostNetwork(t *testing.T) {
	needTool(t, curlPath, "curl")
	body := "hello from the host " + token(t) + "\n"
	url, _, requests := hostServer(t, body)
	argv := []string{curlPath, "-sS", "--max-time", "30", url}
	if r := runNative(t, argv, runOpts{}); r.status != 0 || r.stdout != body {
		t.Fatalf("native run: want %q\n%s", body, r)
	}
	r := runSandbox(t, argv, runOpts{sandboxFlags: []string{"--network=host"}})
	if r.status != 0 || r.stdout != body {
		t.Errorf("sandbox --network=host: want status 0 and %q\n%s", body, r)
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("host server saw %d requests, want 2 (native and sandbox)", n)
	}
}

// TestNetIsolation: on the default network the guest cannot reach a host
// server on 127.0.0.1 (connection refused), and the host cannot reach a
// guest server.
func TestNetIsolation(t *testing.T) {
	needTool(t, python3, "python3")
	needTool(t, curlPath, "curl")
	t.Run("guest to host", func(t *testing.T) {
		body := "host only " + token(t) + "\n"
		_, hostPort, requests := hostServer(t, body)
		// curl and a Python connect to the port are both refused, while
		// the guest's own loopback works.
		script := `curl -sS --max-time 10 "http://127.0.0.1:$1/"; echo "curl status $?"
exec ` + python3 + ` -c '
import errno, socket, sys
port = int(sys.argv[1])
try:
    socket.create_connection(("127.0.0.1", port), timeout=10).close()
    print("connect to the port: connected")
except OSError as e:
    print("connect to the port:", errno.errorcode.get(e.errno, e))
l = socket.create_server(("127.0.0.1", 0))
c = socket.create_connection(l.getsockname(), timeout=10)
s, _ = l.accept()
c.sendall(b"x")
print("own loopback:", s.recv(1))
' "$1"`
		want := "curl status 7\nconnect to the port: ECONNREFUSED\nown loopback: b'x'\n"
		// Natively, against a port nobody listens on, the script shows
		// what refusal looks like.
		native := runNative(t, []string{"/bin/sh", "-c", script, "sh", strconv.Itoa(freePort(t))}, runOpts{})
		if native.stdout != want {
			t.Fatalf("native run against a closed port: want\n%s\n%s", want, native)
		}
		sandbox := runSandbox(t, []string{"/bin/sh", "-c", script, "sh", strconv.Itoa(hostPort)}, runOpts{})
		if sandbox.stdout != want {
			t.Errorf("sandbox against the host server's port: want\n%s\n%s", want, sandbox)
		}
		if strings.Contains(sandbox.stdout, body) || requests.Load() != 0 {
			t.Errorf("the guest reached the host's server (%d requests)\n%s", requests.Load(), sandbox)
		}
	})
	t.Run("host to guest", func(t *testing.T) {
		dir, _ := serveDir(t)
		port := freePort(t)
		// A server on the guest's every IPv4 address (http.server's
		// default), up once the guest's own curl gets the file.
		script := waitUpScript + "echo ready; sleep 1000"
		argv := []string{"/bin/sh", "-c", script, "sh", strconv.Itoa(port), dir}
		t.Run("native", func(t *testing.T) {
			// With no sandbox the host reaches the server: the check
			// below would see a leak.
			b := startBackground(t, argv, baseEnv)
			b.waitStdout(t, "ready", guestUpTimeout)
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
			if err != nil {
				t.Fatalf("host cannot reach a native server: %v", err)
			}
			c.Close()
		})
		t.Run("sandbox", func(t *testing.T) {
			requirePortFree(t, port)
			b := startBackground(t, sandboxArgv(t, argv, runOpts{}), baseEnv)
			b.waitStdout(t, "ready", guestUpTimeout)
			for _, addr := range []string{"127.0.0.1", "::1"} {
				c, err := net.DialTimeout("tcp", net.JoinHostPort(addr, strconv.Itoa(port)), 5*time.Second)
				if err == nil {
					c.Close()
					t.Errorf("host reached the guest's server at [%s]:%d", addr, port)
				} else if !errors.Is(err, syscall.ECONNREFUSED) {
					t.Errorf("dial [%s]:%d: %v, want connection refused", addr, port, err)
				}
			}
		})
	})
}
