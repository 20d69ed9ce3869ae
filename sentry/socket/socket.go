// Package socket defines what a socket is to the syscall layer: a
// vfs.FileDescriptionImpl that also implements Socket, created by the
// Provider registered for its address family. AF_UNIX lives in unix/; a
// netstack-backed provider for AF_INET/AF_INET6 will sit beside it and
// register itself the same way.
//
// The syscall layer (sentry/syscalls/sys_socket*.go) decodes guest
// memory: addresses arrive here as the raw sockaddr bytes, data as byte
// slices, and control messages as ControlMessages. Files passed with
// SCM_RIGHTS travel as *vfs.FileDescription references; the syscall layer
// installs received ones in the receiver's fd table.
package socket

import (
	"sync"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/inet"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// Context is what socket operations need from their caller, normally a
// task (see ContextOf).
type Context interface {
	vfs.Context
	// BlockUntil waits for ch, as kernel.Task.BlockUntil: ETIMEDOUT at the
	// deadline, ERESTARTSYS when a signal interrupts.
	BlockUntil(ch <-chan struct{}, deadline time.Time, hasDeadline bool) error
	// PID is the caller's process id in the sandbox (SO_PEERCRED,
	// SCM_CREDENTIALS).
	PID() int32
	// Umask is the caller's file mode creation mask (bind(2) of a path).
	Umask() uint32
	// PathOperation says how to resolve path for the caller: from its
	// cwd, within its root. ok is false if the caller has no file system
	// (then only abstract unix addresses work).
	PathOperation(path string, follow bool) (pop vfs.PathOperation, v *vfs.VirtualFilesystem, ok bool)
	// NetworkStack is the sandbox's network stack as reporting code
	// sees it (netlink, SIOCGIF*); nil if it has none.
	NetworkStack() inet.Stack
}

// taskContext adapts a kernel task to Context.
type taskContext struct{ *kernel.Task }

// PID implements Context.PID.
func (c taskContext) PID() int32 { return int32(c.ThreadGroup().PID()) }

// Umask implements Context.Umask.
func (c taskContext) Umask() uint32 { return c.FSContext().Umask() }

// NetworkStack implements Context.NetworkStack.
func (c taskContext) NetworkStack() inet.Stack { return c.Kernel().Net }

// PathOperation implements Context.PathOperation.
func (c taskContext) PathOperation(path string, follow bool) (vfs.PathOperation, *vfs.VirtualFilesystem, bool) {
	fsc := c.FSContext()
	if fsc == nil {
		return vfs.PathOperation{}, nil, false
	}
	pop := vfs.PathOperation{Root: fsc.RootDirectory(), Start: fsc.WorkingDirectory(), Path: path, FollowFinalSymlink: follow}
	if path != "" && path[0] == '/' {
		pop.Start = pop.Root
	}
	return pop, pop.Root.Mount.VFS(), true
}

// ContextOf returns ctx as a socket Context, or ok false for contexts that
// can neither block nor name a process (the sentry's own RootContext).
func ContextOf(ctx vfs.Context) (Context, bool) {
	switch c := ctx.(type) {
	case Context:
		return c, true
	case *kernel.Task:
		return taskContext{c}, true
	}
	return nil, false
}

// ControlMessages are the SOL_SOCKET control messages of one message.
type ControlMessages struct {
	// Rights are the files of SCM_RIGHTS, each with a reference that the
	// holder of the ControlMessages owns.
	Rights []*vfs.FileDescription
	// Creds are SCM_CREDENTIALS, if HasCreds.
	Creds    linux.UCred
	HasCreds bool
	// Extra are other received control messages (IP_TTL, IP_PKTINFO,
	// SO_TIMESTAMP ...), already encoded, in the order Linux puts them.
	Extra []Cmsg
}

// Cmsg is one control message: cmsg_level, cmsg_type and the data after
// the header.
type Cmsg struct {
	Level, Type int32
	Data        []byte
}

// Release drops the references to Rights.
func (c *ControlMessages) Release() {
	for _, f := range c.Rights {
		f.DecRef()
	}
	c.Rights = nil
}

// RecvResult is what one RecvMsg delivers.
type RecvResult struct {
	// N is the number of bytes copied into the buffer.
	N int
	// MsgLen is the full length of the message for message-based sockets
	// (MSG_TRUNC reporting); equal to N for streams.
	MsgLen int
	// From is the sender's address (recvfrom's src_addr); nil if none.
	From []byte
	// Control carries the message's control data; the receiver owns its
	// references.
	Control ControlMessages
	// CtrlTrunc is set when control data was dropped because the
	// receiver cannot take it (MSG_CTRUNC); the syscall layer also sets
	// it when the guest's buffer is too small.
	CtrlTrunc bool
}

// Socket is a socket's behaviour beyond a file's. Every method's errors are
// errno values for the guest. nonblocking combines the file's O_NONBLOCK
// with MSG_DONTWAIT.
type Socket interface {
	vfs.FileDescriptionImpl
	vfs.Waitable

	// Bind assigns the address addr (the raw sockaddr).
	Bind(ctx Context, addr []byte) error
	// Listen marks the socket passive with the given backlog.
	Listen(ctx Context, backlog int) error
	// Connect connects to addr (or, for datagram sockets, sets the
	// default destination; AF_UNSPEC dissolves it).
	Connect(ctx Context, addr []byte, nonblocking bool) error
	// Accept returns a new connected socket file with status flags
	// flags (O_NONBLOCK) and the peer's address.
	Accept(ctx Context, flags uint32, nonblocking bool) (*vfs.FileDescription, []byte, error)
	// SendMsg sends data to to (nil: the connected peer) with ctrl,
	// whose references it consumes whether or not it fails.
	SendMsg(ctx Context, data []byte, to []byte, ctrl ControlMessages, flags int, nonblocking bool) (int, error)
	// RecvMsg receives at most n bytes. wantCtrl says whether the caller
	// can take control messages (recvmsg); if not, passed files are
	// closed.
	RecvMsg(ctx Context, n int, flags int, nonblocking bool, wantCtrl bool) ([]byte, RecvResult, error)
	// Shutdown implements shutdown(2).
	Shutdown(ctx Context, how int) error
	// GetSockOpt returns the option's value, at most outLen bytes.
	GetSockOpt(ctx Context, level, name int, outLen int) ([]byte, error)
	// SetSockOpt sets an option.
	SetSockOpt(ctx Context, level, name int, val []byte) error
	// GetSockName returns the bound address.
	GetSockName(ctx Context) ([]byte, error)
	// GetPeerName returns the peer's address, ENOTCONN if none.
	GetPeerName(ctx Context) ([]byte, error)
	// Type returns the family, type and protocol of socket(2).
	Type() (family, typ, protocol int)
}

// Provider creates the sockets of one address family.
type Provider interface {
	// Socket returns a new socket file with status flags flags, or
	// EPROTONOSUPPORT/ESOCKTNOSUPPORT for a type or protocol the family
	// does not have.
	Socket(ctx Context, typ, protocol int, flags uint32) (*vfs.FileDescription, error)
	// Pair returns two connected sockets (socketpair(2)), or EOPNOTSUPP.
	Pair(ctx Context, typ, protocol int, flags uint32) (*vfs.FileDescription, *vfs.FileDescription, error)
}

// providersMu protects providers.
var providersMu sync.RWMutex

// providers maps an address family to its provider.
var providers = map[int]Provider{}

// Register makes p the provider of family. Providers register from their
// package's init.
func Register(family int, p Provider) {
	providersMu.Lock()
	defer providersMu.Unlock()
	providers[family] = p
}

// providerFor returns the provider of family: "EAFNOSUPPORT The
// implementation does not support the specified address family" -
// socket(2).
func providerFor(family int) (Provider, error) {
	if family < 0 || family >= linux.AF_MAX {
		return nil, errno.EAFNOSUPPORT
	}
	providersMu.RLock()
	defer providersMu.RUnlock()
	p, ok := providers[family]
	if !ok {
		return nil, errno.EAFNOSUPPORT
	}
	return p, nil
}

// New implements socket(2) once the arguments are decoded.
func New(ctx Context, family, typ, protocol int, flags uint32) (*vfs.FileDescription, error) {
	p, err := providerFor(family)
	if err != nil {
		return nil, err
	}
	return p.Socket(ctx, typ, protocol, flags)
}

// NewPair implements socketpair(2) once the arguments are decoded.
func NewPair(ctx Context, family, typ, protocol int, flags uint32) (*vfs.FileDescription, *vfs.FileDescription, error) {
	p, err := providerFor(family)
	if err != nil {
		return nil, nil, err
	}
	return p.Pair(ctx, typ, protocol, flags)
}

// FromFile returns f's socket, or ENOTSOCK.
func FromFile(f *vfs.FileDescription) (Socket, error) {
	s, ok := f.Impl().(Socket)
	if !ok {
		return nil, errno.ENOTSOCK
	}
	return s, nil
}
