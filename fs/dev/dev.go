// Package dev builds the sandbox's /dev: a small tmpfs holding the memory
// devices (null, zero, full, random, urandom), the conventional symlinks
// into /proc/self/fd and pts/ptmx, and empty pts/ and shm/ directories
// (mount points for devpts and a tmpfs). The host's /dev
// is never visible.
package dev

import (
	"crypto/rand"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/devpts"
	"github.com/runsc-lite/runsc-lite/fs/tmpfs"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// memDevMajor is MEM_MAJOR from <linux/major.h>; the minors are those of
// drivers/char/mem.c:devlist.
const memDevMajor = 1

// memDevice is one of the drivers/char/mem.c devices.
type memDevice struct {
	minor uint32
	// read fills dst; nil reads as end of file (/dev/null).
	read func(dst []byte) (int, error)
	// writeErr is returned by writes; nil discards the data.
	writeErr error
}

func readZeros(dst []byte) (int, error) {
	clear(dst)
	return len(dst), nil
}

func readRandom(dst []byte) (int, error) {
	if _, err := rand.Read(dst); err != nil {
		return 0, errno.EIO
	}
	return len(dst), nil
}

var memDevices = map[string]memDevice{
	"null":    {minor: 3},
	"zero":    {minor: 5, read: readZeros},
	"full":    {minor: 7, read: readZeros, writeErr: errno.ENOSPC},
	"random":  {minor: 8, read: readRandom},
	"urandom": {minor: 9, read: readRandom},
}

// Open implements tmpfs.Device.
func (d memDevice) Open(vfs.Context, uint32) (vfs.FileDescriptionImpl, error) {
	return &memFD{dev: d}, nil
}

// memFD is an open memory device.
type memFD struct {
	vfs.FileDescriptionDefaultImpl
	dev memDevice
}

// Read implements vfs.FileDescriptionImpl.Read.
func (f *memFD) Read(_ vfs.Context, dst []byte, _ int64) (int, error) {
	if f.dev.read == nil {
		return 0, nil
	}
	return f.dev.read(dst)
}

// Write implements vfs.FileDescriptionImpl.Write.
func (f *memFD) Write(_ vfs.Context, src []byte, _ int64) (int, error) {
	if f.dev.writeErr != nil {
		return 0, f.dev.writeErr
	}
	return len(src), nil
}

// TTYContext is implemented by contexts that may have a controlling
// terminal (a task).
type TTYContext interface {
	// ControllingTTY returns the caller's controlling terminal, with a
	// reference for the caller, or ENXIO.
	ControllingTTY() (*vfs.FileDescription, error)
}

// PTYContext is implemented by contexts whose session may have a
// pseudo-terminal as its controlling terminal (a task).
type PTYContext interface {
	// ControllingPTY returns the session's pseudo-terminal, if any.
	ControllingPTY() (*devpts.Terminal, bool)
}

// ttyDevice is /dev/tty (TTYAUX_MAJOR 5, minor 0): opening it opens the
// caller's controlling terminal.
type ttyDevice struct{}

// Open implements tmpfs.Device. The new file shares the terminal's open
// file description's state, which for a terminal is only its flags.
func (ttyDevice) Open(ctx vfs.Context, flags uint32) (vfs.FileDescriptionImpl, error) {
	if pc, ok := ctx.(PTYContext); ok {
		if term, ok := pc.ControllingPTY(); ok {
			return term.OpenTTY(ctx, flags)
		}
	}
	tc, ok := ctx.(TTYContext)
	if !ok {
		return nil, errno.ENXIO
	}
	f, err := tc.ControllingTTY()
	if err != nil {
		return nil, err
	}
	return &ttyFD{FileDescriptionImpl: f.Impl(), f: f}, nil
}

// ttyFD is an open /dev/tty: the controlling terminal's implementation,
// kept alive by a reference to its file.
type ttyFD struct {
	vfs.FileDescriptionImpl
	f *vfs.FileDescription
}

// Release implements vfs.FileDescriptionImpl.
func (t *ttyFD) Release() { t.f.DecRef() }

// IsTTY reports that the file is a terminal.
func (t *ttyFD) IsTTY() bool { return true }

// EventRegister implements vfs.Waitable, as the terminal does.
func (t *ttyFD) EventRegister(w *vfs.Waiter) { t.f.EventRegister(w) }

// EventUnregister implements vfs.Waitable.
func (t *ttyFD) EventUnregister(w *vfs.Waiter) { t.f.EventUnregister(w) }

// Stream implements vfs.StreamImpl: a terminal has no offset.
func (t *ttyFD) Stream() bool { return true }

// New returns a populated devfs and its root directory, and registers its
// drivers with v, so that device nodes made elsewhere (mknod in a tmpfs)
// open them too.
func New(ctx vfs.Context, v *vfs.VirtualFilesystem) (*tmpfs.Filesystem, vfs.DirInode, error) {
	for _, d := range memDevices {
		v.RegisterCharDevice(memDevMajor, d.minor, d)
	}
	v.RegisterCharDevice(5, 0, ttyDevice{})
	fs, root := tmpfs.New(tmpfs.Options{Name: "devtmpfs"}, 0o755, 0, 0)
	for name, d := range memDevices {
		if _, err := root.NewDevice(ctx, name, linux.S_IFCHR|0o666, memDevMajor, d.minor, d); err != nil {
			return nil, nil, err
		}
	}
	if _, err := root.NewDevice(ctx, "tty", linux.S_IFCHR|0o666, 5, 0, ttyDevice{}); err != nil {
		return nil, nil, err
	}
	for name, target := range map[string]string{
		"fd":     "/proc/self/fd",
		"stdin":  "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1",
		"stderr": "/proc/self/fd/2",
		// As on Linux with a devpts mounted newinstance: the
		// multiplexer is the devpts instance's own.
		"ptmx": "pts/ptmx",
	} {
		if _, err := root.Symlink(ctx, name, target); err != nil {
			return nil, nil, err
		}
	}
	if _, err := root.Mkdir(ctx, "pts", 0o755); err != nil {
		return nil, nil, err
	}
	shm, err := root.Mkdir(ctx, "shm", 0o777)
	if err != nil {
		return nil, nil, err
	}
	// /dev/shm is world-writable and sticky, like /tmp.
	err = shm.SetStat(ctx, &vfs.SetStatOptions{Stat: linux.Statx{Mask: linux.STATX_MODE, Mode: 0o1777}})
	return fs, root, err
}
