package unix

import (
	"bytes"
	"fmt"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// sunPathOffset is offsetof(struct sockaddr_un, sun_path).
const sunPathOffset = 2

// unnamed is the address of an unbound socket: only sun_family.
var unnamed = []byte{linux.AF_UNIX, 0}

// address is a parsed sockaddr_un.
type address struct {
	// abstract is set for a name in the abstract namespace; name then
	// holds the whole sun_path including its leading NUL.
	abstract bool
	// name is the abstract name or the filesystem path.
	name string
}

// parseAddress validates a sockaddr_un as
// net/unix/af_unix.c:unix_validate_addr and unix_mkname_bsd.
func parseAddress(addr []byte) (address, error) {
	if len(addr) <= sunPathOffset || len(addr) > linux.SizeofSockAddrUnix {
		return address{}, errno.EINVAL
	}
	if family := int(addr[0]) | int(addr[1])<<8; family != linux.AF_UNIX {
		return address{}, errno.EINVAL
	}
	path := addr[sunPathOffset:]
	if path[0] == 0 {
		return address{abstract: true, name: string(path)}, nil
	}
	// A filesystem path ends at its first NUL, or at the address's end.
	if i := bytes.IndexByte(path, 0); i >= 0 {
		path = path[:i]
	}
	return address{name: string(path)}, nil
}

// sockaddr returns a's sockaddr_un as getsockname(2) reports it: a path
// with its terminating NUL, an abstract name exactly.
func (a address) sockaddr() []byte {
	b := append([]byte{linux.AF_UNIX, 0}, a.name...)
	if !a.abstract {
		b = append(b, 0)
	}
	return b
}

// mknoder is the VFS's mknod(2) (vfs.VirtualFilesystem.MknodAt), named by
// an interface so that this package builds against trees without it.
type mknoder interface {
	MknodAt(ctx vfs.Context, pop *vfs.PathOperation, mode linux.FileMode, dev uint32) error
}

// Bind implements socket.Socket.
func (s *Socket) Bind(ctx socket.Context, addr []byte) error {
	if len(addr) == sunPathOffset && len(addr) >= 2 && int(addr[0])|int(addr[1])<<8 == linux.AF_UNIX {
		// "If a bind(2) call specifies addrlen as sizeof(sa_family_t) ...
		// then the socket is autobound to an abstract address" - unix(7).
		mu.Lock()
		defer mu.Unlock()
		s.autobindLocked()
		return nil
	}
	a, err := parseAddress(addr)
	if err != nil {
		return err
	}
	if a.abstract {
		mu.Lock()
		defer mu.Unlock()
		if s.addr != nil {
			return errno.EINVAL
		}
		key := abstractKey(s.typ, a.name)
		if _, ok := abstractNames[key]; ok {
			return errno.EADDRINUSE
		}
		abstractNames[key] = s
		s.boundAbstract = key
		s.addr = a.sockaddr()
		return nil
	}
	// "An attempt to bind a stream socket to a filesystem pathname ...
	// creates a socket file" - unix(7): mknod(S_IFSOCK) with the umask
	// applied, as unix_bind_bsd. An existing file of any kind is
	// EADDRINUSE, even for a socket that is bound already.
	pop, v, ok := ctx.PathOperation(a.name, false)
	if !ok {
		return errno.ENOENT
	}
	mode := linux.FileMode(linux.S_IFSOCK) | linux.FileMode(0o777&^ctx.Umask())
	mk, ok := any(v).(mknoder)
	if !ok {
		return errno.EOPNOTSUPP
	}
	if err := mk.MknodAt(ctx, &pop, mode, 0); err != nil {
		if err == errno.EEXIST {
			return errno.EADDRINUSE
		}
		return err
	}
	vd, err := v.GetDentryAt(ctx, &pop)
	if err != nil {
		return err
	}
	inode := vd.Inode()
	mu.Lock()
	defer mu.Unlock()
	if s.addr != nil {
		// unix_bind_bsd makes the node first and then finds the socket
		// bound already: EINVAL, and the node goes again.
		mu.Unlock()
		v.UnlinkAt(ctx, &pop)
		mu.Lock()
		return errno.EINVAL
	}
	bindings[inode] = s
	s.boundInode = inode
	s.addr = a.sockaddr()
	return nil
}

// abstractKey is the key of an abstract name in abstractNames: Linux
// hashes the socket type with the name (unix_abstract_hash), so each type
// has its own abstract namespace.
func abstractKey(typ int, name string) string {
	return string(rune('0'+typ)) + name
}

// autobindLocked binds s to a fresh abstract name of five hex digits, as
// unix_autobind. A bound socket is left alone.
func (s *Socket) autobindLocked() {
	if s.addr != nil {
		return
	}
	for {
		autobindNext = (autobindNext + 1) & 0xfffff
		name := fmt.Sprintf("\x00%05x", autobindNext)
		key := abstractKey(s.typ, name)
		if _, ok := abstractNames[key]; ok {
			continue
		}
		abstractNames[key] = s
		s.boundAbstract = key
		s.addr = address{abstract: true, name: name}.sockaddr()
		return
	}
}

// lookup finds the socket bound to addr, as unix_find_other: ENOENT for a
// missing path, ECONNREFUSED for a file that is not a bound socket or a
// name nobody holds, EACCES without write permission on the socket file,
// EPROTOTYPE for a socket of another type.
func (s *Socket) lookup(ctx socket.Context, addr []byte) (*Socket, error) {
	a, err := parseAddress(addr)
	if err != nil {
		return nil, err
	}
	if a.abstract {
		mu.Lock()
		defer mu.Unlock()
		// The abstract namespace is per socket type (its hash includes
		// the type): another type's name is just not there.
		o, ok := abstractNames[abstractKey(s.typ, a.name)]
		if !ok || o.closed {
			return nil, errno.ECONNREFUSED
		}
		return o, nil
	}
	pop, v, ok := ctx.PathOperation(a.name, true)
	if !ok {
		return nil, errno.ENOENT
	}
	vd, err := v.GetDentryAt(ctx, &pop)
	if err != nil {
		return nil, err
	}
	st, err := v.Stat(ctx, vd)
	if err != nil {
		return nil, err
	}
	if st.FileMode().FileType() != linux.S_IFSOCK {
		return nil, errno.ECONNREFUSED
	}
	if err := vfs.CheckPermissions(ctx.Credentials(), vfs.MayWrite, st.FileMode(), auth.KUID(st.UID), auth.KGID(st.GID)); err != nil {
		return nil, err
	}
	inode := vd.Inode()
	mu.Lock()
	defer mu.Unlock()
	o, ok := bindings[inode]
	if !ok || o.closed {
		return nil, errno.ECONNREFUSED
	}
	if o.typ != s.typ {
		return nil, errno.EPROTOTYPE
	}
	return o, nil
}

// Listen implements socket.Socket, as unix_listen.
func (s *Socket) Listen(ctx socket.Context, backlog int) error {
	if s.typ == linux.SOCK_DGRAM {
		return errno.EOPNOTSUPP
	}
	mu.Lock()
	defer mu.Unlock()
	if s.addr == nil {
		// "EINVAL: the socket is not bound" (unix_listen: u->addr).
		return errno.EINVAL
	}
	if s.connected {
		return errno.EINVAL
	}
	// "If the backlog argument is greater than the value in
	// /proc/sys/net/core/somaxconn, then it is silently capped" -
	// listen(2); a negative one is too (the kernel compares unsigned).
	if backlog < 0 || backlog > linux.SOMAXCONN {
		backlog = linux.SOMAXCONN
	}
	s.backlog = backlog
	if !s.listening {
		s.listening = true
		s.peerCred, s.hasPeerCred = credOf(ctx), true
	}
	var w wakeups
	s.stateChangedLocked(&w)
	defer w.fire()
	return nil
}

// Connect implements socket.Socket, as unix_stream_connect and
// unix_dgram_connect. A stream connection is established at once when the
// listener's backlog has room, before accept(2).
func (s *Socket) Connect(ctx socket.Context, addr []byte, nonblocking bool) error {
	if s.typ == linux.SOCK_DGRAM {
		return s.connectDgram(ctx, addr)
	}
	mu.Lock()
	if s.opts.passCred {
		s.autobindLocked()
	}
	timeout := s.opts.sndTimeo
	mu.Unlock()
	// unix_stream_connect finds the listener and waits for backlog room
	// before it looks at the connecting socket's own state.
	l, err := s.lookup(ctx, addr)
	if err != nil {
		return err
	}
	cred := credOf(ctx)
	err = s.block(ctx, nonblocking, timeout, vfs.EventOut, &l.peerWait, func(w *wakeups) (bool, error) {
		switch {
		case l.closed || !l.listening || l.shutdown&rcvShutdown != 0:
			return true, errno.ECONNREFUSED
		case len(l.acceptQ) > l.backlog:
			// unix_recvq_full: the queue may hold backlog+1.
			return false, nil
		case s.connected:
			return true, errno.EISCONN
		case s.listening || s.closed:
			return true, errno.EINVAL
		}
		n := newSocket(ctx, s.typ)
		n.uid, n.gid = l.uid, l.gid
		n.addr = l.addr
		n.opts.passCred = l.opts.passCred
		n.peer, s.peer = s, n
		n.connected, s.connected = true, true
		n.peerCred, n.hasPeerCred = cred, true
		s.peerCred, s.hasPeerCred = l.peerCred, true
		l.acceptQ = append(l.acceptQ, n)
		w.add(&l.WaitQueue, vfs.EventIn)
		s.stateChangedLocked(w)
		return true, nil
	})
	if err == errno.EAGAIN && !nonblocking {
		// The timeout of a blocking connect: "EINPROGRESS ... The socket
		// is nonblocking and the connection cannot be completed
		// immediately" applies to timeouts too (unix_wait_for_peer).
		return errno.EINPROGRESS
	}
	return err
}

// connectDgram sets or (with AF_UNSPEC) dissolves a datagram socket's
// default destination.
func (s *Socket) connectDgram(ctx socket.Context, addr []byte) error {
	if len(addr) >= 2 && int(addr[0])|int(addr[1])<<8 == linux.AF_UNSPEC {
		mu.Lock()
		s.peer = nil
		mu.Unlock()
		return nil
	}
	mu.Lock()
	if s.opts.passCred {
		s.autobindLocked()
	}
	mu.Unlock()
	o, err := s.lookup(ctx, addr)
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	if o.closed {
		return errno.ECONNREFUSED
	}
	if o.peer != nil && o.peer != s && !o.peer.closed {
		// unix_may_send: the target talks only to its own peer.
		return errno.EPERM
	}
	s.peer = o
	return nil
}

// Accept implements socket.Socket, as unix_accept.
func (s *Socket) Accept(ctx socket.Context, flags uint32, nonblocking bool) (*vfs.FileDescription, []byte, error) {
	if s.typ == linux.SOCK_DGRAM {
		return nil, nil, errno.EOPNOTSUPP
	}
	mu.Lock()
	timeout := s.opts.rcvTimeo
	mu.Unlock()
	var n *Socket
	err := s.block(ctx, nonblocking, timeout, vfs.EventIn, nil, func(w *wakeups) (bool, error) {
		if !s.listening || s.closed {
			return true, errno.EINVAL
		}
		if len(s.acceptQ) == 0 {
			if s.shutdown&rcvShutdown != 0 && !nonblocking {
				// A blocking skb_recv_datagram gives up on a shut-down
				// socket, and unix_accept reports EINVAL; a
				// non-blocking one is EAGAIN first.
				return true, errno.EINVAL
			}
			return false, nil
		}
		n = s.acceptQ[0]
		s.acceptQ = s.acceptQ[1:]
		w.add(&s.peerWait, vfs.EventOut)
		return true, nil
	})
	if err != nil {
		return nil, nil, err
	}
	f := newFile(n, flags)
	mu.Lock()
	peerAddr := unnamed
	if n.peer != nil && n.peer.addr != nil {
		peerAddr = n.peer.addr
	}
	mu.Unlock()
	return f, append([]byte(nil), peerAddr...), nil
}

// GetSockName implements socket.Socket.
func (s *Socket) GetSockName(socket.Context) ([]byte, error) {
	mu.Lock()
	defer mu.Unlock()
	if s.addr == nil {
		return append([]byte(nil), unnamed...), nil
	}
	return append([]byte(nil), s.addr...), nil
}

// GetPeerName implements socket.Socket.
func (s *Socket) GetPeerName(socket.Context) ([]byte, error) {
	mu.Lock()
	defer mu.Unlock()
	p := s.peer
	if p == nil || (s.typ != linux.SOCK_DGRAM && !s.connected) {
		return nil, errno.ENOTCONN
	}
	if p.addr == nil {
		return append([]byte(nil), unnamed...), nil
	}
	return append([]byte(nil), p.addr...), nil
}

// Shutdown implements socket.Socket, as unix_shutdown: the peer of a
// connection sees the mirror image (our SHUT_WR is its end of file).
func (s *Socket) Shutdown(ctx socket.Context, how int) error {
	if how < linux.SHUT_RD || how > linux.SHUT_RDWR {
		return errno.EINVAL
	}
	mode := how + 1 // SHUT_RD -> rcvShutdown, SHUT_WR -> sendShutdown, SHUT_RDWR -> both.
	var w wakeups
	mu.Lock()
	s.shutdown |= mode
	s.stateChangedLocked(&w)
	if p := s.peer; p != nil && s.connected && s.typ != linux.SOCK_DGRAM {
		peerMode := 0
		if mode&rcvShutdown != 0 {
			peerMode |= sendShutdown
		}
		if mode&sendShutdown != 0 {
			peerMode |= rcvShutdown
		}
		p.shutdown |= peerMode
		p.stateChangedLocked(&w)
	}
	mu.Unlock()
	w.fire()
	return nil
}
