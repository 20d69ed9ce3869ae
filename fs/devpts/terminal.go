package devpts

import (
	"sync"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// Queue limits. canonMax is N_TTY_BUF_SIZE-1, the longest line a
// canonical read can return (drivers/tty/n_tty.c); inputMax and outputMax
// bound what is buffered before writers wait.
const (
	canonMax  = 4095
	inputMax  = 64 << 10
	outputMax = 64 << 10
)

// JobControl is the kernel's side of a terminal: the session it controls
// and that session's foreground process group. *kernel.TTY implements it;
// ctx arguments are the calling task.
type JobControl interface {
	// SetControlling implements TIOCSCTTY (steal: arg 1 with
	// CAP_SYS_ADMIN); readable says the file was opened for reading.
	SetControlling(ctx vfs.Context, steal, readable bool) error
	// OpenedBy makes the terminal the caller's controlling terminal if it
	// is a session leader without one and the terminal has no session, as
	// an open without O_NOCTTY does.
	OpenedBy(ctx vfs.Context)
	// Disassociate implements TIOCNOTTY.
	Disassociate(ctx vfs.Context) error
	// ForegroundPgrp implements TIOCGPGRP.
	ForegroundPgrp(ctx vfs.Context) (int32, error)
	// SetForegroundPgrp implements TIOCSPGRP.
	SetForegroundPgrp(ctx vfs.Context, pgid int32) error
	// SessionID implements TIOCGSID.
	SessionID(ctx vfs.Context) (int32, error)
	// CheckAccess applies job control to a read (SIGTTIN) or a write or
	// configuration change (SIGTTOU) by a background process.
	CheckAccess(ctx vfs.Context, signo int) error
	// SignalForeground sends signo to the foreground process group.
	SignalForeground(signo int)
	// Hangup is called when the master closes: the session leader gets
	// SIGHUP and SIGCONT and the session loses its terminal.
	Hangup()
}

// TTYContext is implemented by contexts that manage job control (a task).
type TTYContext interface {
	// NewJobControl returns the job-control state for a new terminal.
	NewJobControl(term *Terminal) JobControl
}

// noJobControl is the JobControl of terminals made by contexts without
// job control (unit tests): no sessions, no signals.
type noJobControl struct{}

func (noJobControl) SetControlling(vfs.Context, bool, bool) error { return nil }
func (noJobControl) OpenedBy(vfs.Context)                         {}
func (noJobControl) Disassociate(vfs.Context) error               { return errno.ENOTTY }
func (noJobControl) ForegroundPgrp(vfs.Context) (int32, error)    { return 0, errno.ENOTTY }
func (noJobControl) SetForegroundPgrp(vfs.Context, int32) error   { return errno.ENOTTY }
func (noJobControl) SessionID(vfs.Context) (int32, error)         { return 0, errno.ENOTTY }
func (noJobControl) CheckAccess(vfs.Context, int) error           { return nil }
func (noJobControl) SignalForeground(int)                         {}
func (noJobControl) Hangup()                                      {}

// Terminal is one pseudo-terminal pair: the line discipline between the
// master (the terminal emulator's end) and the slave (/dev/pts/N, the
// program's terminal). Bytes written to the master are input: they go
// through the input modes (ICRNL...), job-control characters, canonical
// line editing and echo before the slave reads them. Bytes written to the
// slave are output: they go through the output modes (OPOST, ONLCR) and
// the master reads them.
type Terminal struct {
	// Index is N in /dev/pts/N. Immutable.
	Index uint32
	// jc is the kernel's job-control state. Immutable.
	jc JobControl

	// masterQ is notified when the master's readiness may have changed,
	// slaveQ when the slave's has.
	masterQ, slaveQ vfs.WaitQueue

	// mu protects the fields below.
	mu      sync.Mutex
	termios linux.Termios
	winsize linux.Winsize
	// locked is the TIOCSPTLCK lock: the slave cannot be opened until
	// unlockpt(3).
	locked bool
	// input is data the slave can read now: raw-mode input, and in
	// canonical mode the data of lines that are complete.
	input []byte
	// lineEnds are offsets into input just past each complete canonical
	// line; a canonical read stops at the first. An end-of-file line adds
	// an end equal to the previous one (an empty line).
	lineEnds []int
	// line is the canonical line being edited.
	line []byte
	// output is slave output (and echo) waiting for the master to read.
	output []byte
	// masterOpen is false once the master closed: the slave is hung up.
	masterOpen bool
	// slaveOpens counts the slave's open file descriptions; slaveClosed
	// is set when it drops to zero after the slave was opened, and makes
	// the master's reads fail with EIO.
	slaveOpens  int
	slaveClosed bool
	// vtimeDeadline is when a raw read with VMIN 0 and VTIME > 0 that
	// found nothing gives up (zero: no such read is waiting).
	vtimeDeadline time.Time
}

func newTerminal(index uint32, jc JobControl) *Terminal {
	if jc == nil {
		jc = noJobControl{}
	}
	return &Terminal{Index: index, jc: jc, termios: linux.DefaultSlaveTermios(), locked: true, masterOpen: true}
}

// JobControl returns the terminal's job-control state.
func (t *Terminal) JobControl() JobControl { return t.jc }

func (t *Terminal) lflag(f uint32) bool { return t.termios.LocalFlags&f != 0 }
func (t *Terminal) iflag(f uint32) bool { return t.termios.InputFlags&f != 0 }
func (t *Terminal) cc(i int) byte       { return t.termios.ControlCharacters[i] }

// isCC reports whether c is the control character at index i (a zero
// entry, _POSIX_VDISABLE, matches nothing).
func (t *Terminal) isCC(c byte, i int) bool { return c != 0 && c == t.cc(i) }

// writeInput processes bytes written to the master. It returns how many
// it took (it stops when the input queue is full) and the signals that
// input generated for the foreground process group.
//
// Preconditions: t.mu is held.
func (t *Terminal) writeInputLocked(src []byte) (int, []int) {
	var sigs []int
	n := 0
	for _, c := range src {
		if len(t.input)+len(t.line) >= inputMax {
			break
		}
		n++
		if t.iflag(linux.ISTRIP) {
			c &= 0x7f
		}
		switch {
		case c == '\r' && t.iflag(linux.IGNCR):
			continue
		case c == '\r' && t.iflag(linux.ICRNL):
			c = '\n'
		case c == '\n' && t.iflag(linux.INLCR):
			c = '\r'
		}
		if t.lflag(linux.ISIG) {
			sig := 0
			switch {
			case t.isCC(c, linux.VINTR):
				sig = linux.SIGINT
			case t.isCC(c, linux.VQUIT):
				sig = linux.SIGQUIT
			case t.isCC(c, linux.VSUSP):
				sig = linux.SIGTSTP
			}
			if sig != 0 {
				if !t.lflag(linux.NOFLSH) {
					t.flushInputLocked()
					t.output = t.output[:0]
				}
				t.echoLocked(c)
				sigs = append(sigs, sig)
				continue
			}
		}
		if !t.lflag(linux.ICANON) {
			t.input = append(t.input, c)
			t.echoLocked(c)
			continue
		}
		switch {
		case t.isCC(c, linux.VERASE):
			t.eraseLocked(1)
		case t.isCC(c, linux.VKILL):
			if !t.lflag(linux.ECHO) {
				t.line = t.line[:0]
				break
			}
			if t.lflag(linux.ECHOK) && t.lflag(linux.ECHOKE) && t.lflag(linux.ECHOE) {
				t.eraseLocked(len(t.line))
				break
			}
			t.line = t.line[:0]
			t.echoLocked(c)
			if t.lflag(linux.ECHOK) {
				t.echoLocked('\n')
			}
		case t.isCC(c, linux.VEOF):
			t.endLineLocked()
		case c == '\n' || t.isCC(c, linux.VEOL) || t.isCC(c, linux.VEOL2):
			t.line = append(t.line, c)
			if c == '\n' && !t.lflag(linux.ECHO) && t.lflag(linux.ECHONL) {
				t.outputLocked([]byte{'\n'})
			} else {
				t.echoLocked(c)
			}
			t.endLineLocked()
		default:
			if len(t.line) >= canonMax {
				continue // Linux drops what does not fit (and beeps).
			}
			t.line = append(t.line, c)
			t.echoLocked(c)
		}
	}
	return n, sigs
}

// endLineLocked makes the line being edited readable.
func (t *Terminal) endLineLocked() {
	t.input = append(t.input, t.line...)
	t.lineEnds = append(t.lineEnds, len(t.input))
	t.line = t.line[:0]
}

// flushInputLocked discards unread input (TCIFLUSH, and ^C without
// NOFLSH).
func (t *Terminal) flushInputLocked() {
	t.input, t.lineEnds, t.line = nil, nil, t.line[:0]
}

// isControl reports whether ECHOCTL shows c as ^X.
func isControl(c byte) bool { return (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f }

// eraseLocked removes up to n characters from the line being edited,
// echoing their erasure.
func (t *Terminal) eraseLocked(n int) {
	for ; n > 0 && len(t.line) > 0; n-- {
		c := t.line[len(t.line)-1]
		t.line = t.line[:len(t.line)-1]
		if !t.lflag(linux.ECHO) {
			continue
		}
		if !t.lflag(linux.ECHOE) {
			t.echoLocked(t.cc(linux.VERASE))
			continue
		}
		cols := 1
		if isControl(c) && t.lflag(linux.ECHOCTL) {
			cols = 2
		}
		for range cols {
			t.outputLocked([]byte("\b \b"))
		}
	}
}

// echoLocked echoes an input character if ECHO is set: control
// characters as ^X with ECHOCTL, the rest through output processing.
func (t *Terminal) echoLocked(c byte) {
	if !t.lflag(linux.ECHO) {
		return
	}
	if isControl(c) && t.lflag(linux.ECHOCTL) {
		t.output = append(t.output, '^', c^0x40)
		return
	}
	t.outputLocked([]byte{c})
}

// outputLocked appends slave output to the master's queue, applying the
// output modes (drivers/tty/n_tty.c:do_output_char). It returns how many
// bytes of src it took.
func (t *Terminal) outputLocked(src []byte) int {
	o := t.termios.OutputFlags
	if o&linux.OPOST == 0 {
		t.output = append(t.output, src...)
		return len(src)
	}
	for _, c := range src {
		switch {
		case c == '\n' && o&linux.ONLCR != 0:
			t.output = append(t.output, '\r', '\n')
		case c == '\r' && o&linux.OCRNL != 0:
			t.output = append(t.output, '\n')
		default:
			t.output = append(t.output, c)
		}
	}
	return len(src)
}

// readableLocked returns how many bytes a slave read could return now
// (FIONREAD), and whether a read would return at once (data, or an
// end-of-file line).
func (t *Terminal) readableLocked() (int, bool) {
	if !t.lflag(linux.ICANON) {
		return len(t.input), len(t.input) > 0 || t.cc(linux.VMIN) == 0
	}
	if len(t.lineEnds) == 0 {
		return 0, false
	}
	return t.lineEnds[0], true
}

// readInputLocked is a slave read.
func (t *Terminal) readInputLocked(dst []byte) (int, error) {
	if !t.lflag(linux.ICANON) {
		vmin := int(t.cc(linux.VMIN))
		vtime := t.cc(linux.VTIME)
		if len(t.input) == 0 && vmin == 0 {
			if vtime == 0 {
				return 0, nil
			}
			now := time.Now()
			if t.vtimeDeadline.IsZero() {
				d := time.Duration(vtime) * 100 * time.Millisecond
				t.vtimeDeadline = now.Add(d)
				time.AfterFunc(d, func() { t.slaveQ.Notify(vfs.EventIn) })
				return 0, errno.EAGAIN
			}
			if now.Before(t.vtimeDeadline) {
				return 0, errno.EAGAIN
			}
			t.vtimeDeadline = time.Time{}
			return 0, nil
		}
		if len(t.input) == 0 || len(t.input) < min(vmin, len(dst)) {
			return 0, errno.EAGAIN
		}
		t.vtimeDeadline = time.Time{}
		n := copy(dst, t.input)
		t.consumeLocked(n)
		return n, nil
	}
	if len(t.lineEnds) == 0 {
		return 0, errno.EAGAIN
	}
	end := t.lineEnds[0]
	n := copy(dst, t.input[:end])
	t.consumeLocked(n)
	if n == end {
		// The line is used up (an empty line is end of file).
		t.lineEnds = t.lineEnds[1:]
	}
	return n, nil
}

// consumeLocked drops n read bytes from input.
func (t *Terminal) consumeLocked(n int) {
	t.input = t.input[n:]
	for i := range t.lineEnds {
		t.lineEnds[i] -= n
	}
	if len(t.input) == 0 {
		t.input = nil
	}
}

// setTermiosLocked installs new settings. Leaving canonical mode makes
// the line being edited readable, as n_tty_set_termios does.
func (t *Terminal) setTermiosLocked(nt linux.Termios) {
	wasCanon := t.lflag(linux.ICANON)
	t.termios = nt
	if wasCanon && !t.lflag(linux.ICANON) {
		t.input = append(t.input, t.line...)
		t.line = t.line[:0]
		t.lineEnds = nil
	} else if !wasCanon && t.lflag(linux.ICANON) && len(t.input) > 0 {
		// Raw input already queued is readable as one line.
		t.lineEnds = []int{len(t.input)}
	}
}

// notifyAll wakes both ends' waiters.
func (t *Terminal) notifyAll() {
	t.masterQ.Notify(vfs.EventIn | vfs.EventOut | vfs.EventHUp)
	t.slaveQ.Notify(vfs.EventIn | vfs.EventOut | vfs.EventHUp)
}
