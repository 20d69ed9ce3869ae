package devpts

import (
	"encoding/binary"
	"strconv"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// masterFD is an open master (from /dev/ptmx).
type masterFD struct {
	vfs.FileDescriptionDefaultImpl
	fs *Filesystem
	t  *Terminal
}

// slaveFD is an open slave.
type slaveFD struct {
	vfs.FileDescriptionDefaultImpl
	t *Terminal
}

var (
	_ vfs.Waitable   = (*masterFD)(nil)
	_ vfs.Waitable   = (*slaveFD)(nil)
	_ vfs.StreamImpl = (*masterFD)(nil)
	_ vfs.StreamImpl = (*slaveFD)(nil)
)

// Stream implements vfs.StreamImpl: terminals have no offset.
func (*masterFD) Stream() bool { return true }

// Stream implements vfs.StreamImpl.
func (*slaveFD) Stream() bool { return true }

// IsTTY reports that the slave is a terminal (task_tty.go's fallback for
// /dev/tty looks for one on fds 0-2).
func (*slaveFD) IsTTY() bool { return true }

// Terminal returns the pair the slave belongs to.
func (s *slaveFD) Terminal() *Terminal { return s.t }

// Terminal returns the pair the master belongs to.
func (m *masterFD) Terminal() *Terminal { return m.t }

// PeerName implements TIOCGPTPEER's lookup: the slave's name in the
// devpts directory the master was opened from.
func (m *masterFD) PeerName() string { return strconv.FormatUint(uint64(m.t.Index), 10) }

// EventRegister implements vfs.Waitable.
func (m *masterFD) EventRegister(w *vfs.Waiter) { m.t.masterQ.EventRegister(w) }

// EventUnregister implements vfs.Waitable.
func (m *masterFD) EventUnregister(w *vfs.Waiter) { m.t.masterQ.EventUnregister(w) }

// EventRegister implements vfs.Waitable.
func (s *slaveFD) EventRegister(w *vfs.Waiter) { s.t.slaveQ.EventRegister(w) }

// EventUnregister implements vfs.Waitable.
func (s *slaveFD) EventUnregister(w *vfs.Waiter) { s.t.slaveQ.EventUnregister(w) }

// Release implements vfs.FileDescriptionImpl: the slave hangs up.
func (m *masterFD) Release() {
	t := m.t
	t.mu.Lock()
	t.masterOpen = false
	t.mu.Unlock()
	m.fs.release(t)
	t.jc.Hangup()
	t.notifyAll()
}

// Release implements vfs.FileDescriptionImpl: after the slave's last
// close, the master's reads fail with EIO and it polls as hung up.
func (s *slaveFD) Release() {
	t := s.t
	t.mu.Lock()
	t.slaveOpens--
	if t.slaveOpens == 0 {
		t.slaveClosed = true
	}
	t.mu.Unlock()
	t.masterQ.Notify(vfs.EventIn | vfs.EventHUp)
}

// Read implements vfs.FileDescriptionImpl: the slave's output. "EIO" once
// the slave has closed and everything was read.
func (m *masterFD) Read(_ vfs.Context, dst []byte, _ int64) (int, error) {
	t := m.t
	t.mu.Lock()
	if len(dst) == 0 {
		t.mu.Unlock()
		return 0, nil
	}
	if len(t.output) == 0 {
		closed := t.slaveClosed
		t.mu.Unlock()
		if closed {
			return 0, errno.EIO
		}
		return 0, errno.EAGAIN
	}
	n := copy(dst, t.output)
	t.output = t.output[n:]
	if len(t.output) == 0 {
		t.output = nil
	}
	t.mu.Unlock()
	t.slaveQ.Notify(vfs.EventOut)
	return n, nil
}

// Write implements vfs.FileDescriptionImpl: input to the line discipline.
func (m *masterFD) Write(_ vfs.Context, src []byte, _ int64) (int, error) {
	t := m.t
	t.mu.Lock()
	n, sigs := t.writeInputLocked(src)
	t.mu.Unlock()
	for _, s := range sigs {
		t.jc.SignalForeground(s)
	}
	if n > 0 {
		t.slaveQ.Notify(vfs.EventIn)
		t.masterQ.Notify(vfs.EventIn) // Echo.
	}
	if n < len(src) {
		return n, errno.EAGAIN
	}
	return n, nil
}

// Read implements vfs.FileDescriptionImpl: input after the line
// discipline; end of file once the master has closed.
func (s *slaveFD) Read(ctx vfs.Context, dst []byte, _ int64) (int, error) {
	t := s.t
	if err := t.jc.CheckAccess(ctx, linux.SIGTTIN); err != nil {
		return 0, err
	}
	if len(dst) == 0 {
		return 0, nil
	}
	t.mu.Lock()
	n, err := t.readInputLocked(dst)
	if err == errno.EAGAIN && !t.masterOpen {
		n, err = 0, nil
	}
	t.mu.Unlock()
	if n > 0 {
		t.masterQ.Notify(vfs.EventOut)
	}
	return n, err
}

// Write implements vfs.FileDescriptionImpl: output, "EIO" once the master
// has closed.
func (s *slaveFD) Write(ctx vfs.Context, src []byte, _ int64) (int, error) {
	t := s.t
	t.mu.Lock()
	tostop := t.lflag(linux.TOSTOP)
	t.mu.Unlock()
	if tostop {
		if err := t.jc.CheckAccess(ctx, linux.SIGTTOU); err != nil {
			return 0, err
		}
	}
	t.mu.Lock()
	if !t.masterOpen {
		t.mu.Unlock()
		return 0, errno.EIO
	}
	room := outputMax - len(t.output)
	if room <= 0 {
		t.mu.Unlock()
		return 0, errno.EAGAIN
	}
	n := t.outputLocked(src[:min(room, len(src))])
	t.mu.Unlock()
	t.masterQ.Notify(vfs.EventIn)
	if n < len(src) {
		return n, errno.EAGAIN
	}
	return n, nil
}

// Readiness implements vfs.FileDescriptionImpl, as pty_write_room and
// n_tty_poll.
func (m *masterFD) Readiness(mask vfs.EventMask) vfs.EventMask {
	t := m.t
	t.mu.Lock()
	defer t.mu.Unlock()
	var ev vfs.EventMask
	if len(t.output) > 0 || t.slaveClosed {
		ev |= vfs.EventIn
	}
	if t.slaveClosed {
		ev |= vfs.EventHUp
	}
	if len(t.input)+len(t.line) < inputMax {
		ev |= vfs.EventOut
	}
	return ev & (mask | vfs.EventErr | vfs.EventHUp)
}

// Readiness implements vfs.FileDescriptionImpl.
func (s *slaveFD) Readiness(mask vfs.EventMask) vfs.EventMask {
	t := s.t
	t.mu.Lock()
	defer t.mu.Unlock()
	var ev vfs.EventMask
	if _, ok := t.readableLocked(); ok || !t.masterOpen {
		ev |= vfs.EventIn
	}
	if !t.masterOpen {
		ev |= vfs.EventHUp | vfs.EventOut
	} else if len(t.output) < outputMax {
		ev |= vfs.EventOut
	}
	return ev & (mask | vfs.EventErr | vfs.EventHUp)
}

// Stat implements vfs.FileDescriptionImpl for files not in the tree.
func (m *masterFD) Stat(ctx vfs.Context) (linux.Statx, error) {
	return (&ptmxInode{fs: m.fs}).Stat(ctx)
}

// Ioctl implements vfs.FileDescriptionImpl.
func (m *masterFD) Ioctl(ctx vfs.Context, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	t := m.t
	switch cmd {
	case linux.TIOCGPTN:
		return 0, copyOutUint32(mem, arg, t.Index)
	case linux.TIOCSPTLCK:
		v, err := copyInUint32(mem, arg)
		if err != nil {
			return 0, err
		}
		t.mu.Lock()
		t.locked = v != 0
		t.mu.Unlock()
		return 0, nil
	case linux.TIOCGPTLCK:
		t.mu.Lock()
		locked := t.locked
		t.mu.Unlock()
		var v uint32
		if locked {
			v = 1
		}
		return 0, copyOutUint32(mem, arg, v)
	case linux.TIOCPKT:
		// Packet mode is not implemented; turning it off is a no-op.
		v, err := copyInUint32(mem, arg)
		if err != nil {
			return 0, err
		}
		if v != 0 {
			return 0, errno.EINVAL
		}
		return 0, nil
	case linux.FIONREAD:
		t.mu.Lock()
		n := len(t.output)
		t.mu.Unlock()
		return 0, copyOutUint32(mem, arg, uint32(n))
	case linux.TIOCOUTQ:
		t.mu.Lock()
		n := len(t.input) + len(t.line)
		t.mu.Unlock()
		return 0, copyOutUint32(mem, arg, uint32(n))
	case linux.TCFLSH:
		// The master's input queue is the slave's output and vice versa.
		switch arg {
		case linux.TCIFLUSH:
			arg = linux.TCOFLUSH
		case linux.TCOFLUSH:
			arg = linux.TCIFLUSH
		}
	}
	return t.ioctl(ctx, mem, cmd, arg, true)
}

// Ioctl implements vfs.FileDescriptionImpl.
func (s *slaveFD) Ioctl(ctx vfs.Context, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	t := s.t
	switch cmd {
	case linux.FIONREAD:
		t.mu.Lock()
		n, _ := t.readableLocked()
		t.mu.Unlock()
		return 0, copyOutUint32(mem, arg, uint32(n))
	case linux.TIOCOUTQ:
		t.mu.Lock()
		n := len(t.output)
		t.mu.Unlock()
		return 0, copyOutUint32(mem, arg, uint32(n))
	case linux.TIOCGPTN, linux.TIOCSPTLCK, linux.TIOCGPTLCK, linux.TIOCPKT, linux.TIOCGPTPEER:
		return 0, errno.ENOTTY
	}
	return t.ioctl(ctx, mem, cmd, arg, false)
}

// ioctl handles the requests both ends share.
func (t *Terminal) ioctl(ctx vfs.Context, mem vfs.UserMemory, cmd uint32, arg uintptr, master bool) (uintptr, error) {
	switch cmd {
	case linux.TCGETS:
		t.mu.Lock()
		kt := t.termios
		t.mu.Unlock()
		buf := make([]byte, linux.SizeofTermios)
		kt.MarshalBytes(buf)
		_, err := mem.CopyOutBytes(hostarch.Addr(arg), buf)
		return 0, err
	case linux.TCSETS, linux.TCSETSW, linux.TCSETSF:
		if !master {
			if err := t.jc.CheckAccess(ctx, linux.SIGTTOU); err != nil {
				return 0, err
			}
		}
		buf := make([]byte, linux.SizeofTermios)
		if _, err := mem.CopyInBytes(hostarch.Addr(arg), buf); err != nil {
			return 0, err
		}
		var kt linux.Termios
		kt.UnmarshalBytes(buf)
		t.mu.Lock()
		if cmd == linux.TCSETSF {
			t.flushInputLocked()
		}
		t.setTermiosLocked(kt)
		t.mu.Unlock()
		t.notifyAll()
		return 0, nil
	case linux.TIOCGWINSZ:
		t.mu.Lock()
		ws := t.winsize
		t.mu.Unlock()
		buf := make([]byte, linux.SizeofWinsize)
		ws.MarshalBytes(buf)
		_, err := mem.CopyOutBytes(hostarch.Addr(arg), buf)
		return 0, err
	case linux.TIOCSWINSZ:
		buf := make([]byte, linux.SizeofWinsize)
		if _, err := mem.CopyInBytes(hostarch.Addr(arg), buf); err != nil {
			return 0, err
		}
		var ws linux.Winsize
		ws.UnmarshalBytes(buf)
		t.mu.Lock()
		changed := ws != t.winsize
		t.winsize = ws
		t.mu.Unlock()
		// "When the window size changes, a SIGWINCH signal is sent to the
		// foreground process group" - ioctl_tty(2).
		if changed {
			t.jc.SignalForeground(linux.SIGWINCH)
		}
		return 0, nil
	case linux.TCFLSH:
		t.mu.Lock()
		switch arg {
		case linux.TCIFLUSH:
			t.flushInputLocked()
		case linux.TCOFLUSH:
			t.output = nil
		case linux.TCIOFLUSH:
			t.flushInputLocked()
			t.output = nil
		default:
			t.mu.Unlock()
			return 0, errno.EINVAL
		}
		t.mu.Unlock()
		t.notifyAll()
		return 0, nil
	case linux.TCSBRK, linux.TCSBRKP, linux.TCXONC, linux.TIOCEXCL, linux.TIOCNXCL, linux.TIOCSETD:
		// Output is never delayed and there is no flow control or
		// exclusive mode to speak of.
		return 0, nil
	case linux.TIOCGETD:
		return 0, copyOutUint32(mem, arg, 0) // N_TTY.
	case linux.TIOCSCTTY:
		return 0, t.jc.SetControlling(ctx, arg == 1, true)
	case linux.TIOCNOTTY:
		return 0, t.jc.Disassociate(ctx)
	case linux.TIOCGPGRP:
		pg, err := t.jc.ForegroundPgrp(ctx)
		if err != nil {
			return 0, err
		}
		return 0, copyOutUint32(mem, arg, uint32(pg))
	case linux.TIOCSPGRP:
		v, err := copyInUint32(mem, arg)
		if err != nil {
			return 0, err
		}
		if int32(v) < 0 {
			return 0, errno.EINVAL
		}
		return 0, t.jc.SetForegroundPgrp(ctx, int32(v))
	case linux.TIOCGSID:
		sid, err := t.jc.SessionID(ctx)
		if err != nil {
			return 0, err
		}
		return 0, copyOutUint32(mem, arg, uint32(sid))
	}
	return 0, errno.ENOTTY
}

func copyOutUint32(mem vfs.UserMemory, arg uintptr, v uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	_, err := mem.CopyOutBytes(hostarch.Addr(arg), b[:])
	return err
}

func copyInUint32(mem vfs.UserMemory, arg uintptr) (uint32, error) {
	var b [4]byte
	if _, err := mem.CopyInBytes(hostarch.Addr(arg), b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}
