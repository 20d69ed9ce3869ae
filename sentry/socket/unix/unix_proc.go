package unix

import (
	"slices"
	"strings"
	"sync"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/sentry/inet"
)

// The live sockets, for /proc/net/unix (net/unix/af_unix.c:unix_seq_show
// walks the same set, the unix socket hash table).
//
// live has its own lock because sockets are created both with mu held (the
// server end of a connection, in Connect) and without it. liveMu nests
// inside mu and takes no other lock.
var (
	liveMu sync.Mutex
	// live holds every socket from creation until it closes. Protected
	// by liveMu.
	live = map[*Socket]struct{}{}
)

func init() {
	inet.SetUnixLister(listSockets)
}

// track adds s to the live sockets.
func track(s *Socket) {
	liveMu.Lock()
	defer liveMu.Unlock()
	live[s] = struct{}{}
}

// untrack removes s from the live sockets.
func untrack(s *Socket) {
	liveMu.Lock()
	defer liveMu.Unlock()
	delete(live, s)
}

// Socket states of struct socket, from <linux/net.h>.
const (
	ssUnconnected   = 1
	ssConnecting    = 2
	ssConnected     = 3
	ssDisconnecting = 4
)

// listSockets describes the live sockets, by inode number.
func listSockets() []inet.UnixSocketInfo {
	liveMu.Lock()
	socks := make([]*Socket, 0, len(live))
	for s := range live {
		socks = append(socks, s)
	}
	liveMu.Unlock()

	mu.Lock()
	out := make([]inet.UnixSocketInfo, 0, len(socks))
	for _, s := range socks {
		if s.closed {
			continue
		}
		out = append(out, s.infoLocked())
	}
	mu.Unlock()
	slices.SortFunc(out, func(a, b inet.UnixSocketInfo) int {
		switch {
		case a.Inode < b.Inode:
			return -1
		case a.Inode > b.Inode:
			return 1
		}
		return 0
	})
	return out
}

// infoLocked describes s as unix_seq_show does: St is SS_CONNECTED or
// SS_UNCONNECTED for a socket with a file, and SS_CONNECTING or
// SS_DISCONNECTING for a connection not yet accepted (no struct socket
// yet). A datagram socket with a default destination counts as connected
// (unix_dgram_connect sets TCP_ESTABLISHED).
//
// Preconditions: mu is held.
func (s *Socket) infoLocked() inet.UnixSocketInfo {
	established := s.connected || (s.typ == linux.SOCK_DGRAM && s.peer != nil && !s.peer.closed)
	state := ssUnconnected
	switch {
	case s.file != nil && established:
		state = ssConnected
	case s.file == nil && established:
		state = ssConnecting
	case s.file == nil:
		state = ssDisconnecting
	}
	return inet.UnixSocketInfo{
		Inode:     s.ino,
		Type:      s.typ,
		Listening: s.listening,
		State:     state,
		Path:      procPath(s.addr),
	}
}

// procPath renders a bound address as /proc/net/unix does: a path as it
// is, an abstract name with '@' for its leading NUL and for any NUL in
// it; "" when unbound.
func procPath(addr []byte) string {
	if len(addr) <= sunPathOffset {
		return ""
	}
	path := addr[sunPathOffset:]
	if path[0] != 0 {
		// A path's sockaddr ends with its NUL.
		return strings.TrimSuffix(string(path), "\x00")
	}
	return strings.ReplaceAll(string(path), "\x00", "@")
}
