package syscalls

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// Ioctl implements Linux syscall ioctl(2). The generic requests
// (fs/ioctl.c:do_vfs_ioctl) are handled here; the rest go to the file,
// which for imported host ttys handles the terminal requests.
func Ioctl(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, cmd, arg := args[0].Int(), args[1].Uint(), args[2].Value
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	if f.IsPath() {
		return 0, errno.EBADF
	}
	switch cmd {
	case linux.FIOCLEX:
		return 0, t.FDTable().SetCloseOnExec(fd, true)
	case linux.FIONCLEX:
		return 0, t.FDTable().SetCloseOnExec(fd, false)
	case linux.FIONBIO:
		var b [4]byte
		if _, err := t.CopyInBytes(args[2].Pointer(), b[:]); err != nil {
			return 0, err
		}
		flags := f.StatusFlags() &^ linux.O_NONBLOCK
		if binary.LittleEndian.Uint32(b[:]) != 0 {
			flags |= linux.O_NONBLOCK
		}
		f.SetStatusFlags(flags)
		return 0, nil
	case linux.TIOCGPTPEER:
		return openPTYPeer(t, f, uint32(arg))
	case linux.FIONREAD:
		st, err := f.Stat(t)
		if err != nil {
			return 0, err
		}
		if !f.IsStream() && st.FileMode().IsRegular() {
			// For a regular file, the bytes between the offset and the
			// end (fs/ioctl.c:ioctl_fionread on regular files).
			pos, err := f.Seek(t, 0, linux.SEEK_CUR)
			if err != nil {
				return 0, err
			}
			n := max(int64(st.Size)-pos, 0)
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], uint32(min(n, 1<<31-1)))
			_, err = t.CopyOutBytes(args[2].Pointer(), b[:])
			return 0, err
		}
	}
	return f.Ioctl(t, t, cmd, arg)
}

// ptyMaster is a pseudo-terminal master (devpts).
type ptyMaster interface {
	PeerName() string
}

// openPTYPeer implements TIOCGPTPEER: "open the slave ... and return a
// new file descriptor for it" without knowing its path - ioctl_tty(2).
// flags are open(2)'s (O_RDWR, O_NOCTTY, O_CLOEXEC...).
func openPTYPeer(t *kernel.Task, f *vfs.FileDescription, flags uint32) (uintptr, error) {
	m, ok := f.Impl().(ptyMaster)
	if !ok {
		return 0, errno.ENOTTY
	}
	const allowed = linux.O_ACCMODE | linux.O_NOCTTY | linux.O_CLOEXEC | linux.O_NONBLOCK
	if flags&^allowed != 0 {
		return 0, errno.EINVAL
	}
	peer, err := t.VFS().OpenSibling(t, f.VirtualDentry(), m.PeerName(), flags|linux.O_LARGEFILE)
	if err != nil {
		return 0, err
	}
	defer peer.DecRef()
	fd, err := t.FDTable().NewFD(0, peer, flags&linux.O_CLOEXEC != 0)
	return uintptr(fd), err
}
