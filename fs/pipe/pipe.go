// Package pipe implements pipes (pipe(2), and later FIFOs): a bounded
// byte buffer shared by a read end and a write end, with Linux's
// atomicity and end-of-file rules.
package pipe

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// Sizes from include/linux/pipe_fs_i.h and fs/pipe.c.
const (
	// PipeBuf is PIPE_BUF: writes of at most this many bytes are atomic.
	PipeBuf = 4096
	// DefaultSize is a new pipe's capacity (16 pages).
	DefaultSize = 16 * 4096
	// MaxSize is /proc/sys/fs/pipe-max-size's default.
	MaxSize = 1 << 20
)

var nextIno atomic.Uint64

// Pipe is the shared buffer.
type Pipe struct {
	vfs.WaitQueue

	ino   uint64
	ctime time.Time

	// mu protects the fields below.
	mu sync.Mutex
	// buf holds the unread bytes.
	buf []byte
	// size is the capacity (F_SETPIPE_SZ).
	size int
	// readers and writers count the open ends.
	readers, writers int
}

// New returns the two ends of a new pipe, with the given status flags
// (O_NONBLOCK) on both.
func New(flags uint32) (r, w *vfs.FileDescription) {
	p := &Pipe{ino: nextIno.Add(1), ctime: time.Now(), size: DefaultSize, readers: 1, writers: 1}
	opts := vfs.FileDescriptionOptions{Stream: true, Name: fmt.Sprintf("pipe:[%d]", p.ino)}
	r = vfs.NewFileDescription(&end{p: p, reader: true}, linux.O_RDONLY|flags, vfs.VirtualDentry{}, opts)
	w = vfs.NewFileDescription(&end{p: p}, linux.O_WRONLY|flags, vfs.VirtualDentry{}, opts)
	return r, w
}

// end is one end of a pipe.
type end struct {
	vfs.FileDescriptionDefaultImpl
	p      *Pipe
	reader bool
}

// EventRegister implements vfs.Waitable.
func (e *end) EventRegister(w *vfs.Waiter) { e.p.EventRegister(w) }

// EventUnregister implements vfs.Waitable.
func (e *end) EventUnregister(w *vfs.Waiter) { e.p.EventUnregister(w) }

// Release implements vfs.FileDescriptionImpl.
func (e *end) Release() {
	p := e.p
	p.mu.Lock()
	if e.reader {
		p.readers--
	} else {
		p.writers--
	}
	p.mu.Unlock()
	// The other end sees EOF or EPIPE now.
	p.Notify(vfs.EventIn | vfs.EventOut | vfs.EventHUp | vfs.EventErr)
}

// Read implements vfs.FileDescriptionImpl.
func (e *end) Read(_ vfs.Context, dst []byte, _ int64) (int, error) {
	if !e.reader {
		return 0, errno.EBADF
	}
	p := e.p
	p.mu.Lock()
	if len(dst) == 0 {
		p.mu.Unlock()
		return 0, nil
	}
	if len(p.buf) == 0 {
		w := p.writers
		p.mu.Unlock()
		if w == 0 {
			return 0, nil // End of file.
		}
		return 0, errno.EAGAIN
	}
	n := copy(dst, p.buf)
	p.buf = p.buf[n:]
	if len(p.buf) == 0 {
		p.buf = nil // Let the backing array go.
	}
	p.mu.Unlock()
	p.Notify(vfs.EventOut)
	return n, nil
}

// Write implements vfs.FileDescriptionImpl. A write of at most PIPE_BUF
// bytes is all or nothing; a longer one takes what room there is.
func (e *end) Write(_ vfs.Context, src []byte, _ int64) (int, error) {
	if e.reader {
		return 0, errno.EBADF
	}
	p := e.p
	p.mu.Lock()
	if p.readers == 0 {
		p.mu.Unlock()
		// The syscall layer sends SIGPIPE.
		return 0, errno.EPIPE
	}
	if len(src) == 0 {
		p.mu.Unlock()
		return 0, nil
	}
	room := p.size - len(p.buf)
	if room <= 0 || (len(src) <= PipeBuf && room < len(src)) {
		p.mu.Unlock()
		return 0, errno.EAGAIN
	}
	n := min(room, len(src))
	p.buf = append(p.buf, src[:n]...)
	p.mu.Unlock()
	p.Notify(vfs.EventIn)
	if n < len(src) {
		return n, errno.EAGAIN
	}
	return n, nil
}

// Readiness implements vfs.FileDescriptionImpl, as fs/pipe.c:pipe_poll.
func (e *end) Readiness(mask vfs.EventMask) vfs.EventMask {
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	var ev vfs.EventMask
	if e.reader {
		if len(p.buf) > 0 {
			ev |= vfs.EventIn
		}
		if p.writers == 0 {
			ev |= vfs.EventHUp
		}
	} else {
		if p.size-len(p.buf) >= PipeBuf {
			ev |= vfs.EventOut
		}
		if p.readers == 0 {
			ev |= vfs.EventErr
		}
	}
	return ev & (mask | vfs.EventErr | vfs.EventHUp)
}

// Stat implements vfs.FileDescriptionImpl.
func (e *end) Stat(vfs.Context) (linux.Statx, error) {
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	ts := linux.StatxTimestamp{Sec: p.ctime.Unix(), Nsec: uint32(p.ctime.Nanosecond())}
	return linux.Statx{
		Mask:    linux.STATX_BASIC_STATS,
		Blksize: 4096,
		Nlink:   1,
		Mode:    uint16(linux.S_IFIFO | 0o600),
		Ino:     p.ino,
		Atime:   ts, Ctime: ts, Mtime: ts,
		DevMinor: 13, // pipefs's anonymous device
	}, nil
}

// Ioctl implements vfs.FileDescriptionImpl: FIONREAD is the unread count.
func (e *end) Ioctl(ctx vfs.Context, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	if cmd != linux.FIONREAD {
		return 0, errno.ENOTTY
	}
	e.p.mu.Lock()
	n := len(e.p.buf)
	e.p.mu.Unlock()
	b := []byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}
	if _, err := mem.CopyOutBytes(hostarch.Addr(arg), b); err != nil {
		return 0, errno.EFAULT
	}
	return 0, nil
}

// SetSize implements F_SETPIPE_SZ: the capacity becomes n rounded up to a
// power-of-two number of pages, and may not drop below what is buffered.
func SetSize(f *vfs.FileDescription, n int64) (int64, error) {
	e, ok := f.Impl().(*end)
	if !ok {
		return 0, errno.EBADF
	}
	if n <= 0 || n > MaxSize {
		if n > MaxSize {
			return 0, errno.EPERM
		}
		n = 4096
	}
	size := int64(4096)
	for size < n {
		size <<= 1
	}
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if int(size) < len(p.buf) {
		return 0, errno.EBUSY
	}
	p.size = int(size)
	return size, nil
}

// Size implements F_GETPIPE_SZ.
func Size(f *vfs.FileDescription) (int64, error) {
	e, ok := f.Impl().(*end)
	if !ok {
		return 0, errno.EBADF
	}
	e.p.mu.Lock()
	defer e.p.mu.Unlock()
	return int64(e.p.size), nil
}

// IsPipe reports whether f is a pipe or FIFO end.
func IsPipe(f *vfs.FileDescription) bool {
	_, ok := f.Impl().(*end)
	return ok
}

// Tee implements tee(2)'s copy: up to n bytes buffered in in's pipe are
// appended to out's pipe without being consumed. It returns EAGAIN when
// in's pipe is empty but has writers, or out's has no room (the caller
// waits), 0 at end of file, and EPIPE if out has no readers. "EINVAL
// fd_in or fd_out does not refer to a pipe; or fd_in and fd_out refer to
// the same pipe" - tee(2).
func Tee(in, out *vfs.FileDescription, n int) (int, error) {
	ie, ok := in.Impl().(*end)
	oe, ok2 := out.Impl().(*end)
	if !ok || !ok2 || ie.p == oe.p {
		return 0, errno.EINVAL
	}
	if !ie.reader || oe.reader {
		return 0, errno.EBADF
	}
	ip, op := ie.p, oe.p
	ip.mu.Lock()
	if len(ip.buf) == 0 {
		w := ip.writers
		ip.mu.Unlock()
		if w == 0 {
			return 0, nil
		}
		return 0, errno.EAGAIN
	}
	data := append([]byte(nil), ip.buf[:min(n, len(ip.buf))]...)
	ip.mu.Unlock()

	op.mu.Lock()
	if op.readers == 0 {
		op.mu.Unlock()
		return 0, errno.EPIPE
	}
	room := op.size - len(op.buf)
	if room <= 0 {
		op.mu.Unlock()
		return 0, errno.EAGAIN
	}
	data = data[:min(room, len(data))]
	op.buf = append(op.buf, data...)
	op.mu.Unlock()
	op.Notify(vfs.EventIn)
	return len(data), nil
}

// Room returns the free space of f's pipe (the write end's view), and
// whether it still has readers; ok is false if f is not a pipe end.
func Room(f *vfs.FileDescription) (room int, readers bool, ok bool) {
	e, ok := f.Impl().(*end)
	if !ok {
		return 0, false, false
	}
	e.p.mu.Lock()
	defer e.p.mu.Unlock()
	return max(e.p.size-len(e.p.buf), 0), e.p.readers > 0, true
}

// Peek copies up to len(dst) buffered bytes of f's pipe without taking
// them, for splice(2), which consumes only what its destination accepted
// (Consume). It returns EAGAIN when the pipe is empty but has writers, and
// 0 at end of file.
func Peek(f *vfs.FileDescription, dst []byte) (int, error) {
	e, ok := f.Impl().(*end)
	if !ok || !e.reader {
		return 0, errno.EBADF
	}
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) == 0 {
		if p.writers == 0 {
			return 0, nil
		}
		return 0, errno.EAGAIN
	}
	return copy(dst, p.buf), nil
}

// Consume drops the first n buffered bytes of f's pipe, which a Peek
// returned.
func Consume(f *vfs.FileDescription, n int) {
	e, ok := f.Impl().(*end)
	if !ok || n <= 0 {
		return
	}
	p := e.p
	p.mu.Lock()
	n = min(n, len(p.buf))
	p.buf = p.buf[n:]
	if len(p.buf) == 0 {
		p.buf = nil
	}
	p.mu.Unlock()
	p.Notify(vfs.EventOut)
}
