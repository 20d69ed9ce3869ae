package proc

import (
	"strings"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
	"github.com/runsc-lite/runsc-lite/sentry/inet"
)

// netStack is an inet.Stack with lo, eth0, their addresses, routes and
// sockets.
type netStack struct{}

func (netStack) Interfaces() []inet.Interface {
	return []inet.Interface{
		{Index: 1, Name: "lo", Flags: inet.IFF_UP | inet.IFF_LOOPBACK | inet.IFF_RUNNING, Type: inet.ARPHRD_LOOPBACK, MTU: 65536,
			Stats: inet.InterfaceStats{RxBytes: 38665446665, RxPackets: 3170747, TxBytes: 38665446665, TxPackets: 3170747}},
		{Index: 2, Name: "eth0", Flags: inet.IFF_UP | inet.IFF_BROADCAST | inet.IFF_RUNNING, Type: inet.ARPHRD_ETHER, MTU: 1500,
			Stats: inet.InterfaceStats{RxErrors: 1, RxDropped: 2, TxErrors: 3, TxDropped: 4}},
	}
}

func (netStack) InterfaceAddrs() map[int32][]inet.InterfaceAddr {
	return map[int32][]inet.InterfaceAddr{
		1: {
			{Family: inet.AF_INET, PrefixLen: 8, Flags: 0x80, Addr: []byte{127, 0, 0, 1}},
			{Family: inet.AF_INET6, PrefixLen: 128, Flags: 0x80, Addr: append(make([]byte, 15), 1)},
		},
		2: {
			{Family: inet.AF_INET6, PrefixLen: 64, Flags: 0x82, Addr: append([]byte{0xfd, 0}, append(make([]byte, 13), 2)...)},
			{Family: inet.AF_INET6, PrefixLen: 64, Flags: 0x80, Addr: []byte{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0xfc, 0, 0xff, 0xfe, 0, 0, 1}},
		},
	}
}

func (netStack) Routes() []inet.Route {
	return []inet.Route{
		{Family: inet.AF_INET, Gateway: []byte{192, 0, 2, 1}, OutputInterface: 2, Table: inet.RT_TABLE_MAIN, Type: inet.RTN_UNICAST},
		{Family: inet.AF_INET, DstLen: 24, Dst: []byte{192, 0, 2, 0}, OutputInterface: 2, Table: inet.RT_TABLE_MAIN, Type: inet.RTN_UNICAST},
		// Local-table routes are not in /proc/net/route.
		{Family: inet.AF_INET, DstLen: 32, Dst: []byte{127, 0, 0, 1}, OutputInterface: 1, Table: inet.RT_TABLE_LOCAL, Type: inet.RTN_LOCAL},
		{Family: inet.AF_INET6, DstLen: 64, Dst: append([]byte{0xfd}, make([]byte, 15)...), OutputInterface: 2, Table: inet.RT_TABLE_MAIN, Type: inet.RTN_UNICAST},
		{Family: inet.AF_INET6, Gateway: append([]byte{0xfd}, append(make([]byte, 14), 1)...), OutputInterface: 2, Table: inet.RT_TABLE_MAIN, Type: inet.RTN_UNICAST},
		{Family: inet.AF_INET6, DstLen: 128, Dst: append(make([]byte, 15), 1), OutputInterface: 1, Table: inet.RT_TABLE_LOCAL, Type: inet.RTN_LOCAL},
	}
}

func (netStack) Sockets() []inet.SocketInfo {
	lo6 := append(make([]byte, 15), 1)
	return []inet.SocketInfo{
		{Family: inet.AF_INET, Type: linux.SOCK_STREAM, LocalAddr: []byte{127, 0, 0, 1}, LocalPort: 40002, RemoteAddr: []byte{127, 0, 0, 1},
			RemotePort: 35136, State: inet.TCP_ESTABLISHED, UID: 1000, Inode: 841052},
		{Family: inet.AF_INET, Type: linux.SOCK_STREAM, LocalAddr: []byte{127, 0, 0, 1}, LocalPort: 40002, State: inet.TCP_LISTEN,
			RxQueue: 1, Inode: 841051},
		{Family: inet.AF_INET, Type: linux.SOCK_STREAM, LocalAddr: []byte{127, 0, 0, 1}, LocalPort: 41891, RemoteAddr: []byte{127, 0, 0, 1},
			RemotePort: 57954, State: inet.TCP_TIME_WAIT},
		{Family: inet.AF_INET6, Type: linux.SOCK_STREAM, LocalAddr: lo6, LocalPort: 36890, RemoteAddr: lo6, RemotePort: 54421,
			State: inet.TCP_ESTABLISHED, TxQueue: 5, Inode: 7},
		{Family: inet.AF_INET6, Type: linux.SOCK_STREAM, LocalAddr: []byte{10, 0, 0, 1}, LocalPort: 80, State: inet.TCP_LISTEN, Inode: 8},
		{Family: inet.AF_INET, Type: linux.SOCK_DGRAM, LocalAddr: []byte{127, 0, 0, 1}, LocalPort: 5353, State: inet.TCP_CLOSE, Inode: 841048},
		{Family: inet.AF_INET6, Type: linux.SOCK_DGRAM, LocalAddr: lo6, LocalPort: 40001, State: inet.TCP_CLOSE, Inode: 841050},
	}
}

// checkLines compares text with want line by line, spaces made visible.
func checkLines(t *testing.T, name, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Errorf("%s line %d:\n got  %q\n want %q", name, i, g, w)
		}
	}
}

// pad is s padded to n with spaces, and a newline.
func pad(s string, n int) string { return s + strings.Repeat(" ", n-len(s)) + "\n" }

func TestNetFormats(t *testing.T) {
	var st netStack
	// The expected text is Linux's, for the same sockets (the TCP and
	// UDP lines are from a 6.x host's files, with pointers zeroed and
	// timers stopped).
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"tcp", netSocketsText(st, inet.AF_INET, linux.SOCK_STREAM), "" +
			pad("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", 149) +
			pad("   0: 0100007F:9C42 00000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 841051 2 0000000000000000 100 0 0 10 0", 149) +
			pad("   1: 0100007F:A3A3 0100007F:E262 06 00000000:00000000 03:00000000 00000000     0        0 0 3 0000000000000000", 149) +
			pad("   2: 0100007F:9C42 0100007F:8940 01 00000000:00000000 00:00000000 00000000  1000        0 841052 2 0000000000000000 20 0 0 10 -1", 149)},
		{"tcp6", netSocketsText(st, inet.AF_INET6, linux.SOCK_STREAM), "" +
			"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
			"   0: 0000000000000000FFFF00000100000A:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 8 2 0000000000000000 100 0 0 10 0\n" +
			"   1: 00000000000000000000000001000000:901A 00000000000000000000000001000000:D495 01 00000005:00000000 00:00000000 00000000     0        0 7 2 0000000000000000 20 0 0 10 -1\n"},
		{"udp", netSocketsText(st, inet.AF_INET, linux.SOCK_DGRAM), "" +
			pad("   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops", 127) +
			pad(" 5353: 0100007F:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 841048 2 0000000000000000 0", 127)},
		{"udp6", netSocketsText(st, inet.AF_INET6, linux.SOCK_DGRAM), "" +
			"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n" +
			"40001: 00000000000000000000000001000000:9C41 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 841050 2 0000000000000000 0\n"},
		{"dev", netDevText(st), "" +
			"Inter-|   Receive                                                |  Transmit\n" +
			" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
			"    lo: 38665446665 3170747    0    0    0     0          0         0 38665446665 3170747    0    0    0     0       0          0\n" +
			"  eth0:       0       0    1    2    0     0          0         0        0       0    3    4    0     0       0          0\n"},
		{"if_inet6", netIfInet6Text(st), "" +
			"00000000000000000000000000000001 01 80 10 80       lo\n" +
			"fd000000000000000000000000000002 02 40 00 82     eth0\n" +
			"fe8000000000000000fc00fffe000001 02 40 20 80     eth0\n"},
		{"route", netRouteText(st), "" +
			pad("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT", 127) +
			pad("eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0", 127) +
			pad("eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0", 127)},
		{"ipv6_route", netIPv6RouteText(st), "" +
			"fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n" +
			"00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000001 00000000 00000003     eth0\n" +
			"00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000001 00000000 80200001       lo\n"},
		{"unix", netUnixText([]inet.UnixSocketInfo{
			{Inode: 1153, Type: linux.SOCK_STREAM, State: 3},
			{Inode: 841053, Type: linux.SOCK_STREAM, Listening: true, State: 1, Path: "@abs@x"},
			{Inode: 12, Type: linux.SOCK_DGRAM, State: 1, Path: "/run/sock"},
		}), "" +
			"Num       RefCount Protocol Flags    Type St Inode Path\n" +
			"0000000000000000: 00000003 00000000 00000000 0001 03  1153\n" +
			"0000000000000000: 00000002 00000000 00010000 0001 01 841053 @abs@x\n" +
			"0000000000000000: 00000002 00000000 00000000 0002 01    12 /run/sock\n"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkLines(t, tc.name, string(tc.got), tc.want) })
	}
}

func TestNetFormatsNoStack(t *testing.T) {
	for name, got := range map[string][]byte{
		"tcp": netSocketsText(nil, inet.AF_INET, linux.SOCK_STREAM), "udp6": netSocketsText(nil, inet.AF_INET6, linux.SOCK_DGRAM),
		"dev": netDevText(nil), "route": netRouteText(nil),
	} {
		if n := strings.Count(string(got), "\n"); n != 1 && !(name == "dev" && n == 2) {
			t.Errorf("%s without a stack: %q", name, got)
		}
	}
	if netIfInet6Text(nil) != nil || netIPv6RouteText(nil) != nil {
		t.Error("if_inet6 or ipv6_route without a stack is not empty")
	}
}

// netKernel is a Kernel with one process and netStack; the methods /proc
// does not call here are left nil.
type netKernel struct {
	Kernel
	p Process
}

func (k netKernel) NetworkStack() inet.Stack { return netStack{} }
func (k netKernel) Process(pid int32) Process {
	if pid == k.p.PID() {
		return k.p
	}
	return nil
}
func (netKernel) Thread(int32) Process { return nil }

type netProc struct{ Process }

func (netProc) PID() int32                     { return 7 }
func (netProc) TID() int32                     { return 7 }
func (netProc) Credentials() *auth.Credentials { return auth.NewCredentials(0, 0) }

type netCtx struct{ k netKernel }

func (netCtx) Credentials() *auth.Credentials { return auth.NewCredentials(0, 0) }
func (c netCtx) ProcSelf() Process            { return c.k.p }
func (c netCtx) ProcKernel() Kernel           { return c.k }

func TestNetDirectory(t *testing.T) {
	_, root := New()
	ctx := netCtx{netKernel{p: netProc{}}}
	in, err := root.Lookup(ctx, "net")
	if err != nil {
		t.Fatal(err)
	}
	if target, err := in.(*symlink).Readlink(ctx); target != "self/net" || err != nil {
		t.Errorf("/proc/net -> %q %v", target, err)
	}
	pid, err := root.Lookup(ctx, "7")
	if err != nil {
		t.Fatal(err)
	}
	netIn, err := pid.(vfs.DirInode).Lookup(ctx, "net")
	if err != nil {
		t.Fatal(err)
	}
	net := netIn.(vfs.DirInode)
	ents, _ := net.Readdir(ctx)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, " "); got != "dev if_inet6 ipv6_route route tcp tcp6 udp udp6 unix" {
		t.Errorf("entries: %s", got)
	}
	tcp, err := net.Lookup(ctx, "tcp")
	if err != nil {
		t.Fatal(err)
	}
	fd, err := tcp.Open(ctx, linux.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, _ := fd.Read(ctx, buf, 0)
	if !strings.Contains(string(buf[:n]), "0100007F:9C42 00000000:0000 0A") {
		t.Errorf("tcp:\n%s", buf[:n])
	}
	if _, err := tcp.Open(ctx, linux.O_WRONLY); err != errno.EACCES {
		t.Errorf("open for writing: %v", err)
	}
}
