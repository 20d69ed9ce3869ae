package pipe

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// eventOpen is a private event on a FIFO's queue: an end was opened. Only
// opens waiting for their partner register for it, so pollers never see
// it.
const eventOpen vfs.EventMask = 1 << 30

// FIFO is a named pipe (mkfifo(3)): the inode of a filesystem that holds
// it keeps one, and each open(2) of the inode opens one or both ends of
// its pipe. As fs/pipe.c:fifo_open, an open for reading blocks until a
// writer opens and an open for writing until a reader does, unless
// O_NONBLOCK (then a writer with no reader fails with ENXIO); O_RDWR
// never blocks. The data is discarded when the last end closes.
type FIFO struct {
	p *Pipe
	// readOpens and writeOpens count the opens of each end so far (Linux's
	// r_counter and w_counter), so that a waiting open sees a partner that
	// came and went. Protected by p.mu.
	readOpens, writeOpens uint64
}

// NewFIFO returns a FIFO with no open ends.
func NewFIFO() *FIFO {
	return &FIFO{p: &Pipe{ino: nextIno.Add(1), size: DefaultSize}}
}

// Open implements the open of a FIFO inode.
func (f *FIFO) Open(_ vfs.Context, flags uint32) (vfs.FileDescriptionImpl, error) {
	p := f.p
	p.mu.Lock()
	fd := &fifoFD{f: f}
	switch flags & linux.O_ACCMODE {
	case linux.O_RDONLY:
		fd.reader = true
		fd.waitFor, fd.waitCount = p.writers == 0, f.writeOpens
	case linux.O_WRONLY:
		// "ENXIO O_NONBLOCK | O_WRONLY is set, the named file is a FIFO,
		// and no process has the FIFO open for reading" - open(2).
		if flags&linux.O_NONBLOCK != 0 && p.readers == 0 {
			p.mu.Unlock()
			return nil, errno.ENXIO
		}
		fd.writer = true
		fd.waitFor, fd.waitCount = p.readers == 0, f.readOpens
	case linux.O_RDWR:
		fd.reader, fd.writer = true, true
	default:
		p.mu.Unlock()
		return nil, errno.EINVAL
	}
	if fd.reader {
		p.readers++
		f.readOpens++
	}
	if fd.writer {
		p.writers++
		f.writeOpens++
	}
	p.mu.Unlock()
	p.Notify(eventOpen | vfs.EventIn | vfs.EventOut)
	return fd, nil
}

// fifoFD is an open FIFO: its read end, its write end, or both.
type fifoFD struct {
	vfs.FileDescriptionDefaultImpl
	f              *FIFO
	reader, writer bool
	// waitFor says the open must wait until the partner's open count
	// moves past waitCount. Immutable.
	waitFor   bool
	waitCount uint64
}

var _ vfs.OpenWaiter = (*fifoFD)(nil)

// WaitOpen implements vfs.OpenWaiter.
func (fd *fifoFD) WaitOpen(ctx vfs.Context, flags uint32) error {
	if !fd.waitFor || flags&linux.O_NONBLOCK != 0 {
		return nil
	}
	p := fd.f.p
	arrived := func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		if fd.reader {
			return fd.f.writeOpens != fd.waitCount
		}
		return fd.f.readOpens != fd.waitCount
	}
	b, ok := ctx.(vfs.Blocker)
	if !ok {
		if arrived() {
			return nil
		}
		return errno.EAGAIN
	}
	w := vfs.NewWaiter(eventOpen)
	p.EventRegister(w)
	defer p.EventUnregister(w)
	for !arrived() {
		if err := b.Block(w.C); err != nil {
			return err
		}
	}
	return nil
}

func (fd *fifoFD) readEnd() *end  { return &end{p: fd.f.p, reader: true} }
func (fd *fifoFD) writeEnd() *end { return &end{p: fd.f.p} }

// EventRegister implements vfs.Waitable.
func (fd *fifoFD) EventRegister(w *vfs.Waiter) { fd.f.p.EventRegister(w) }

// EventUnregister implements vfs.Waitable.
func (fd *fifoFD) EventUnregister(w *vfs.Waiter) { fd.f.p.EventUnregister(w) }

// Release implements vfs.FileDescriptionImpl.
func (fd *fifoFD) Release() {
	p := fd.f.p
	p.mu.Lock()
	if fd.reader {
		p.readers--
	}
	if fd.writer {
		p.writers--
	}
	if p.readers == 0 && p.writers == 0 {
		// fs/pipe.c:pipe_release frees the buffers with the last end.
		p.buf = nil
	}
	p.mu.Unlock()
	p.Notify(vfs.EventIn | vfs.EventOut | vfs.EventHUp | vfs.EventErr)
}

// Read implements vfs.FileDescriptionImpl.
func (fd *fifoFD) Read(ctx vfs.Context, dst []byte, off int64) (int, error) {
	if !fd.reader {
		return 0, errno.EBADF
	}
	return fd.readEnd().Read(ctx, dst, off)
}

// Write implements vfs.FileDescriptionImpl.
func (fd *fifoFD) Write(ctx vfs.Context, src []byte, off int64) (int, error) {
	if !fd.writer {
		return 0, errno.EBADF
	}
	return fd.writeEnd().Write(ctx, src, off)
}

// Readiness implements vfs.FileDescriptionImpl.
func (fd *fifoFD) Readiness(mask vfs.EventMask) vfs.EventMask {
	var ev vfs.EventMask
	if fd.reader {
		ev |= fd.readEnd().Readiness(mask)
	}
	if fd.writer {
		ev |= fd.writeEnd().Readiness(mask)
	}
	return ev
}

// Ioctl implements vfs.FileDescriptionImpl (FIONREAD).
func (fd *fifoFD) Ioctl(ctx vfs.Context, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	return fd.readEnd().Ioctl(ctx, mem, cmd, arg)
}
