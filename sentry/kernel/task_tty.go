package kernel

import (
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// ttyFile is implemented by file implementations that are terminals (an
// imported host tty).
type ttyFile interface {
	IsTTY() bool
}

// ControllingTTY implements dev.TTYContext for /dev/tty: the caller's
// controlling terminal, with a new reference, or ENXIO if it has none.
// The sandbox has one terminal so far, the host's, which is the
// controlling terminal of the processes whose standard fds still refer to
// it; a process that has detached (setsid) or redirected its standard fds
// away from it has none, as when run from cron.
func (t *Task) ControllingTTY() (*vfs.FileDescription, error) {
	for fd := int32(0); fd < 3; fd++ {
		f := t.GetFile(fd)
		if f == nil {
			continue
		}
		if tf, ok := f.Impl().(ttyFile); ok && tf.IsTTY() {
			return f, nil
		}
		f.DecRef()
	}
	// "ENXIO ... the process has no controlling terminal" (tty_open).
	return nil, errno.ENXIO
}
