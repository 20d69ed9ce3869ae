package socket

import (
	"io"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// GuestIO is a syscall's buffers in guest memory, used in order: the
// source of a send (Read) or the destination of a receive (Write). A
// socket that moves bytes through it avoids the sentry buffer in between,
// which for bulk TCP is a copy and an allocation per call.
type GuestIO struct {
	mem  vfs.UserMemory
	vecs []kernel.IOVec
	// left is the bytes not yet used; done those used.
	left, done int
}

// NewGuestIO returns the buffers vecs, of total bytes, in mem. The caller
// has checked that they do not wrap around (iovecTotal).
func NewGuestIO(mem vfs.UserMemory, vecs []kernel.IOVec, total int) *GuestIO {
	return &GuestIO{mem: mem, vecs: vecs, left: total}
}

// Len returns the bytes left; it makes a GuestIO a tcpip.Payloader.
func (g *GuestIO) Len() int { return g.left }

// Done returns the bytes used so far.
func (g *GuestIO) Done() int { return g.done }

// next returns the guest range at the current position, at most n bytes.
func (g *GuestIO) next(n int) (hostarch.Addr, int) {
	for len(g.vecs) > 0 && g.vecs[0].Len == 0 {
		g.vecs = g.vecs[1:]
	}
	if len(g.vecs) == 0 {
		return 0, 0
	}
	return g.vecs[0].Base, int(min(uint64(n), g.vecs[0].Len, uint64(g.left)))
}

func (g *GuestIO) advance(n int) {
	g.vecs[0].Base += hostarch.Addr(n)
	g.vecs[0].Len -= uint64(n)
	g.left -= n
	g.done += n
}

// Read copies guest bytes into p: the io.Reader a send takes its data
// from. A bad address ends it with EFAULT.
func (g *GuestIO) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && g.left > 0 {
		addr, c := g.next(len(p) - n)
		if c == 0 {
			break
		}
		if _, err := g.mem.CopyInBytes(addr, p[n:n+c]); err != nil {
			return n, errno.EFAULT
		}
		g.advance(c)
		n += c
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// Write copies p to the guest: the io.Writer a receive puts its data in.
// Once the buffers are full it writes short (io.ErrShortWrite), which
// tells netstack to stop and keep the rest queued.
func (g *GuestIO) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) && g.left > 0 {
		addr, c := g.next(len(p) - n)
		if c == 0 {
			break
		}
		if _, err := g.mem.CopyOutBytes(addr, p[n:n+c]); err != nil {
			return n, errno.EFAULT
		}
		g.advance(c)
		n += c
	}
	if n < len(p) {
		// netstack requires a short write to say so.
		return n, io.ErrShortWrite
	}
	return n, nil
}

// DirectIO is implemented by sockets that move data straight between
// guest memory and their queues.
type DirectIO interface {
	// SendMsgIO is SendMsg with the data read from src.
	SendMsgIO(ctx Context, src *GuestIO, to []byte, ctrl ControlMessages, flags int, nonblocking bool) (int, error)
	// RecvMsgIO is RecvMsg with the data written to dst (RecvResult.N
	// bytes of it).
	RecvMsgIO(ctx Context, dst *GuestIO, flags int, nonblocking bool, wantCtrl bool) (RecvResult, error)
}
