package syscalls

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/pipe"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// SPLICE_F_NONBLOCK from <linux/splice.h>.
const spliceFNonblock = 0x02

// Tee implements Linux syscall tee(2): "tee() duplicates up to len bytes
// of data from the pipe referred to by the file descriptor fd_in to the
// pipe referred to by the file descriptor fd_out. It does not consume the
// data that is duplicated from fd_in".
func Tee(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	inFD, outFD, count, flags := args[0].Int(), args[1].Int(), args[2].SizeT(), args[3].Uint()
	in := t.GetFile(inFD)
	if in == nil {
		return 0, errno.EBADF
	}
	defer in.DecRef()
	out := t.GetFile(outFD)
	if out == nil {
		return 0, errno.EBADF
	}
	defer out.DecRef()
	if !in.IsReadable() || !out.IsWritable() {
		return 0, errno.EBADF
	}
	if !pipe.IsPipe(in) || !pipe.IsPipe(out) {
		return 0, errno.EINVAL
	}
	if count == 0 {
		return 0, nil
	}
	n := int(min(count, linux.MAX_RW_COUNT))
	nonblock := flags&spliceFNonblock != 0
	for {
		done, err := pipe.Tee(in, out, n)
		if err != errno.EAGAIN {
			if err == errno.EPIPE {
				t.SendSignal(&linux.SignalInfo{Signo: linux.SIGPIPE, Code: linux.SI_USER})
			}
			return uintptr(done), err
		}
		if nonblock {
			return 0, errno.EAGAIN
		}
		// Wait until in has data or out has room.
		w := vfs.NewWaiter(vfs.EventIn | vfs.EventOut)
		in.EventRegister(w)
		out.EventRegister(w)
		if in.Readiness(vfs.EventIn) == 0 || out.Readiness(vfs.EventOut) == 0 {
			err = t.Block(w.C)
		}
		in.EventUnregister(w)
		out.EventUnregister(w)
		if err != nil {
			return 0, err
		}
	}
}
