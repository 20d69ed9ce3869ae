// Package host imports host file descriptors (the sandbox's stdin, stdout
// and stderr) as guest files. Reads and writes go straight to the host fd;
// the guest sees its own names for them ("/dev/pts/0", "pipe:[N]"), never
// host paths or inode numbers.
//
// Ttys and pipes are reopened through /proc/self/fd so that the sentry
// owns a separate open file description which it can make non-blocking
// without changing the flags of the terminal it shares with the user's
// shell. Reads and writes on them never block in the host: they return
// EAGAIN, and the sentry waits for the fd with poll(2) in a helper
// goroutine (see poller.go), so a signal can interrupt the wait.
package host

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// nextIno numbers imported files for the guest (they are anonymous: their
// host inode numbers are not shown).
var nextIno atomic.Uint64

// File is an imported host fd.
type File struct {
	vfs.FileDescriptionDefaultImpl
	poller
	// f owns the sentry's host fd. Immutable.
	f *os.File
	// hostFD is f's descriptor. Immutable.
	hostFD int
	// mode is the host file type with the original permissions.
	mode linux.FileMode
	ino  uint64
	tty  bool
}

// Import makes a guest file of the host fd hostFD, which the caller keeps
// (Import works on its own duplicate). flags are the guest's open flags
// for it (O_RDONLY for stdin, O_WRONLY for stdout/stderr; O_RDWR suits a
// tty).
func Import(ctx vfs.Context, hostFD int, flags uint32) (*vfs.FileDescription, error) {
	var st unix.Stat_t
	if err := unix.Fstat(hostFD, &st); err != nil {
		return nil, os.NewSyscallError("fstat", err)
	}
	_, ttyErr := unix.IoctlGetTermios(hostFD, unix.TCGETS)
	isTTY := ttyErr == nil
	ftype := st.Mode & unix.S_IFMT
	fd := -1
	var err error
	if isTTY || ftype == unix.S_IFIFO {
		// A new open file description: O_NONBLOCK on it affects only us.
		accmode := unix.O_RDONLY
		switch flags & linux.O_ACCMODE {
		case linux.O_WRONLY:
			accmode = unix.O_WRONLY
		case linux.O_RDWR:
			accmode = unix.O_RDWR
		}
		fd, err = unix.Open(fmt.Sprintf("/proc/self/fd/%d", hostFD), accmode|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		if err != nil {
			fd = -1
		}
	}
	if fd < 0 {
		// Regular files, sockets and anything that cannot be reopened
		// share the host's open file description (and its offset, as a
		// shell's redirections expect).
		fd, err = unix.FcntlInt(uintptr(hostFD), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return nil, os.NewSyscallError("fcntl(F_DUPFD_CLOEXEC)", err)
		}
	}
	hf := &File{f: os.NewFile(uintptr(fd), "host"), hostFD: fd, mode: linux.FileMode(st.Mode), ino: nextIno.Add(1), tty: isTTY}
	hf.poller.fd = fd
	name := "host:[" + fmt.Sprint(hf.ino) + "]"
	switch {
	case isTTY:
		name = "/dev/pts/0"
	case ftype == unix.S_IFIFO:
		name = fmt.Sprintf("pipe:[%d]", hf.ino)
	case ftype == unix.S_IFSOCK:
		name = fmt.Sprintf("socket:[%d]", hf.ino)
	case ftype == unix.S_IFCHR && st.Rdev == unix.Mkdev(1, 3):
		name = "/dev/null"
	}
	stream := ftype != unix.S_IFREG && ftype != unix.S_IFBLK
	opts := vfs.FileDescriptionOptions{Stream: stream, ImplOffset: !stream, Name: name}
	return vfs.NewFileDescription(hf, flags, vfs.VirtualDentry{}, opts), nil
}

// IsTTY reports whether the file is a terminal.
func (hf *File) IsTTY() bool { return hf.tty }

// Release implements vfs.FileDescriptionImpl.Release.
func (hf *File) Release() {
	hf.poller.stop()
	hf.f.Close()
}

// Read implements vfs.FileDescriptionImpl.Read: off is used for regular
// files; streams return EAGAIN rather than block (see the package doc).
func (hf *File) Read(ctx vfs.Context, dst []byte, off int64) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	if jc, ok := ctx.(JobControl); ok && hf.tty {
		if err := jc.TTYAccess(linux.SIGTTIN); err != nil {
			return 0, err
		}
	}
	for {
		var n int
		var err error
		if off >= 0 && hf.mode.IsRegular() {
			n, err = unix.Pread(hf.hostFD, dst, off)
		} else {
			n, err = unix.Read(hf.hostFD, dst)
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, hostErr(err)
		}
		return n, nil
	}
}

// Write implements vfs.FileDescriptionImpl.Write.
func (hf *File) Write(ctx vfs.Context, src []byte, off int64) (int, error) {
	if jc, ok := ctx.(JobControl); ok && hf.tty && hf.tostop() {
		if err := jc.TTYAccess(linux.SIGTTOU); err != nil {
			return 0, err
		}
	}
	for {
		var n int
		var err error
		if off >= 0 && hf.mode.IsRegular() {
			n, err = unix.Pwrite(hf.hostFD, src, off)
		} else {
			n, err = unix.Write(hf.hostFD, src)
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return max(n, 0), hostErr(err)
		}
		return n, nil
	}
}

// SeekOffset implements vfs.Seeker: the offset is the host open file
// description's, shared with whoever else holds it.
func (hf *File) SeekOffset(off int64, whence int32) (int64, error) {
	n, err := unix.Seek(hf.hostFD, off, int(whence))
	if err != nil {
		return 0, hostErr(err)
	}
	return n, nil
}

// hostErr converts errors from os.File: end of file is a zero read, and
// host errnos keep their numbers.
func hostErr(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return errno.Errno(e)
	}
	return errno.EIO
}

// Stat implements vfs.FileDescriptionImpl.Stat with a guest-side identity.
func (hf *File) Stat(vfs.Context) (linux.Statx, error) {
	var st unix.Stat_t
	if err := unix.Fstat(hf.hostFD, &st); err != nil {
		return linux.Statx{}, hostErr(err)
	}
	x := linux.Statx{
		Mask: linux.STATX_BASIC_STATS, Blksize: 4096, Nlink: 1,
		UID: st.Uid, GID: st.Gid, Mode: uint16(st.Mode), Ino: hf.ino, Size: uint64(st.Size), Blocks: uint64(st.Blocks),
		Atime: linux.StatxTimestamp{Sec: st.Atim.Sec, Nsec: uint32(st.Atim.Nsec)},
		Mtime: linux.StatxTimestamp{Sec: st.Mtim.Sec, Nsec: uint32(st.Mtim.Nsec)},
		Ctime: linux.StatxTimestamp{Sec: st.Ctim.Sec, Nsec: uint32(st.Ctim.Nsec)},
	}
	if hf.tty {
		// The guest's terminal is /dev/pts/0: UNIX98_PTY_SLAVE_MAJOR 136.
		x.RdevMajor, x.RdevMinor = 136, 0
		x.UID, x.GID = 0, 5
	}
	// Dev 0:N with a fixed small N marks "anonymous" files, like pipefs.
	x.DevMinor = 12
	return x, nil
}

// Readiness implements vfs.FileDescriptionImpl.Readiness with poll(2) on
// the host fd.
func (hf *File) Readiness(mask vfs.EventMask) vfs.EventMask {
	fds := []unix.PollFd{{Fd: int32(hf.hostFD), Events: int16(mask)}}
	if n, err := unix.Poll(fds, 0); err != nil || n == 0 {
		return 0
	}
	return vfs.EventMask(fds[0].Revents) & (mask | vfs.EventErr | vfs.EventHUp)
}

// Ioctl implements vfs.FileDescriptionImpl.Ioctl: terminal requests on
// ttys, FIONREAD on anything.
func (hf *File) Ioctl(ctx vfs.Context, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	switch cmd {
	case linux.FIONREAD:
		n, err := unix.IoctlGetInt(hf.hostFD, linux.FIONREAD)
		if err != nil {
			return 0, hostErr(err)
		}
		return 0, copyOutInt32(mem, arg, int32(n))
	}
	if !hf.tty {
		return 0, errno.ENOTTY
	}
	switch cmd {
	case linux.TCGETS:
		t, err := unix.IoctlGetTermios(hf.hostFD, unix.TCGETS)
		if err != nil {
			return 0, hostErr(err)
		}
		kt := linux.Termios{InputFlags: t.Iflag, OutputFlags: t.Oflag, ControlFlags: t.Cflag, LocalFlags: t.Lflag, LineDiscipline: t.Line}
		copy(kt.ControlCharacters[:], t.Cc[:])
		buf := make([]byte, linux.SizeofTermios)
		kt.MarshalBytes(buf)
		_, err = mem.CopyOutBytes(addr(arg), buf)
		return 0, err
	case linux.TCSETS, linux.TCSETSW, linux.TCSETSF:
		if jc, ok := ctx.(JobControl); ok {
			if err := jc.TTYAccess(linux.SIGTTOU); err != nil {
				return 0, err
			}
		}
		buf := make([]byte, linux.SizeofTermios)
		if _, err := mem.CopyInBytes(addr(arg), buf); err != nil {
			return 0, err
		}
		var kt linux.Termios
		kt.UnmarshalBytes(buf)
		t := unix.Termios{Iflag: kt.InputFlags, Oflag: kt.OutputFlags, Cflag: kt.ControlFlags, Lflag: kt.LocalFlags, Line: kt.LineDiscipline}
		copy(t.Cc[:], kt.ControlCharacters[:])
		return 0, hostErr(unix.IoctlSetTermios(hf.hostFD, uint(cmd), &t))
	case linux.TIOCGWINSZ:
		ws, err := unix.IoctlGetWinsize(hf.hostFD, unix.TIOCGWINSZ)
		if err != nil {
			return 0, hostErr(err)
		}
		w := linux.Winsize{Row: ws.Row, Col: ws.Col, Xpixel: ws.Xpixel, Ypixel: ws.Ypixel}
		buf := make([]byte, linux.SizeofWinsize)
		w.MarshalBytes(buf)
		_, err = mem.CopyOutBytes(addr(arg), buf)
		return 0, err
	case linux.TIOCSWINSZ:
		buf := make([]byte, linux.SizeofWinsize)
		if _, err := mem.CopyInBytes(addr(arg), buf); err != nil {
			return 0, err
		}
		var w linux.Winsize
		w.UnmarshalBytes(buf)
		return 0, hostErr(unix.IoctlSetWinsize(hf.hostFD, unix.TIOCSWINSZ, &unix.Winsize{Row: w.Row, Col: w.Col, Xpixel: w.Xpixel, Ypixel: w.Ypixel}))
	}
	// Process-group requests work on the sandbox's sessions, never on the
	// host's: the terminal's foreground group inside the sandbox is a
	// sentry notion.
	jc, ok := ctx.(JobControl)
	if !ok {
		return 0, errno.ENOTTY
	}
	switch cmd {
	case linux.TIOCGPGRP:
		return 0, copyOutInt32(mem, arg, jc.ForegroundPgrpID())
	case linux.TIOCSPGRP:
		var b [4]byte
		if _, err := mem.CopyInBytes(addr(arg), b[:]); err != nil {
			return 0, errno.EFAULT
		}
		pgid := int32(binary.LittleEndian.Uint32(b[:]))
		if pgid < 0 {
			return 0, errno.EINVAL
		}
		return 0, jc.SetForegroundPgrpID(pgid)
	case linux.TIOCGSID:
		return 0, copyOutInt32(mem, arg, jc.SessionID())
	case linux.TIOCSCTTY, linux.TIOCNOTTY:
		// The imported terminal is every sandbox session's controlling
		// terminal already.
		return 0, nil
	}
	return 0, errno.ENOTTY
}

// JobControl is what terminal ioctls need from the calling task (a
// *kernel.Task): its session's foreground process group.
type JobControl interface {
	ForegroundPgrpID() int32
	SetForegroundPgrpID(pgid int32) error
	SessionID() int32
	// TTYAccess checks a background access (SIGTTIN for reads, SIGTTOU
	// for writes and settings) and returns the error the call ends with.
	TTYAccess(signo int) error
}

// tostop reports whether the terminal has TOSTOP set: then background
// writes stop the writer too.
func (hf *File) tostop() bool {
	t, err := unix.IoctlGetTermios(hf.hostFD, unix.TCGETS)
	return err == nil && t.Lflag&unix.TOSTOP != 0
}
