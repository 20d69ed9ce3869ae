package syscalls

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/pipe"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// pipeSyscalls are pipe and pipe2.
var pipeSyscalls = map[uintptr]kernel.Syscall{
	22:  {Name: "pipe", Fn: Pipe, Support: kernel.SupportFull},
	293: {Name: "pipe2", Fn: Pipe2, Support: kernel.SupportPartial, Note: "O_DIRECT (packet mode) is accepted as a byte stream."},
}

// Pipe implements Linux syscall pipe(2).
func Pipe(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return 0, makePipe(t, args[0].Pointer(), 0)
}

// Pipe2 implements Linux syscall pipe2(2).
func Pipe2(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	flags := args[1].Uint()
	if flags&^(linux.O_CLOEXEC|linux.O_NONBLOCK|linux.O_DIRECT) != 0 {
		return 0, errno.EINVAL
	}
	return 0, makePipe(t, args[0].Pointer(), flags)
}

func makePipe(t *kernel.Task, addr hostarch.Addr, flags uint32) error {
	r, w := pipe.New(flags & linux.O_NONBLOCK)
	defer r.DecRef()
	defer w.DecRef()
	cloexec := flags&linux.O_CLOEXEC != 0
	fdt := t.FDTable()
	rfd, err := fdt.NewFD(0, r, cloexec)
	if err != nil {
		return err
	}
	wfd, err := fdt.NewFD(0, w, cloexec)
	if err != nil {
		fdt.Remove(rfd).DecRef()
		return err
	}
	var b [8]byte
	binary.LittleEndian.PutUint32(b[0:], uint32(rfd))
	binary.LittleEndian.PutUint32(b[4:], uint32(wfd))
	if _, err := t.CopyOutBytes(addr, b[:]); err != nil {
		fdt.Remove(rfd).DecRef()
		fdt.Remove(wfd).DecRef()
		return errno.EFAULT
	}
	return nil
}
