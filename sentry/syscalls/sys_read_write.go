package syscalls

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/socket"
)

// ioChunk bounds the sentry buffer of one read or write. A longer read is
// short, which read(2) allows; a longer write is done in chunks.
const ioChunk = 1 << 20

// clampCount applies MAX_RW_COUNT: "read() (and similar system calls) will
// transfer at most 0x7ffff000 bytes" - read(2).
func clampCount(n uint64) int {
	return int(min(n, linux.MAX_RW_COUNT))
}

// readInto reads up to count bytes with rd and copies them to addr.
func readInto(t *kernel.Task, addr hostarch.Addr, count int, rd func([]byte) (int, error)) (uintptr, error) {
	if count == 0 {
		return 0, nil
	}
	buf := make([]byte, min(count, ioChunk))
	n, err := rd(buf)
	if n > 0 {
		if _, cerr := t.CopyOutBytes(addr, buf[:n]); cerr != nil {
			return 0, cerr
		}
		return uintptr(n), nil
	}
	return 0, err
}

// writeFrom copies count bytes from addr in chunks and writes them with
// wr, stopping at a short write; an error after some bytes were written
// becomes a short count, as Linux reports it.
func writeFrom(t *kernel.Task, addr hostarch.Addr, count int, wr func([]byte, int64) (int, error)) (uintptr, error) {
	if count == 0 {
		_, err := wr(nil, 0)
		return 0, err
	}
	buf := make([]byte, min(count, ioChunk))
	done := 0
	for done < count {
		chunk := buf[:min(count-done, len(buf))]
		// Overflow: done < count <= MAX_RW_COUNT, and addr+count was
		// checked by the caller.
		if _, err := t.CopyInBytes(addr+hostarch.Addr(done), chunk); err != nil {
			if done > 0 {
				break
			}
			return 0, err
		}
		n, err := wr(chunk, int64(done))
		done += n
		if err != nil {
			if done > 0 {
				break
			}
			return 0, err
		}
		if n < len(chunk) {
			break
		}
	}
	return uintptr(done), nil
}

// checkRange fails with EFAULT if [addr, addr+count) wraps around.
func checkRange(addr hostarch.Addr, count int) error {
	if _, ok := addr.AddLength(uint64(count)); !ok {
		return errno.EFAULT
	}
	return nil
}

// Read implements Linux syscall read(2).
func Read(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, addr, count := args[0].Int(), args[1].Pointer(), clampCount(args[2].Uint64())
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	if !f.IsReadable() {
		return 0, errno.EBADF
	}
	if err := checkRange(addr, count); err != nil {
		return 0, err
	}
	if _, ok := f.Impl().(socket.Socket); ok {
		// A socket's data must stay queued if the copy out would fail.
		if err := t.CheckWritable(addr, uint64(count)); err != nil {
			return 0, err
		}
		if n, ok, err := directRead(t, f, []kernel.IOVec{{Base: addr, Len: uint64(count)}}, count); ok {
			return n, err
		}
	}
	return readInto(t, addr, count, func(b []byte) (int, error) { return f.Read(t, b) })
}

// Write implements Linux syscall write(2).
func Write(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, addr, count := args[0].Int(), args[1].Pointer(), clampCount(args[2].Uint64())
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	if !f.IsWritable() {
		return 0, errno.EBADF
	}
	if err := checkRange(addr, count); err != nil {
		return 0, err
	}
	if n, ok, err := directWrite(t, f, []kernel.IOVec{{Base: addr, Len: uint64(count)}}, count); ok {
		return sigpipeFor(t, f)(n, err)
	}
	return sigpipeFor(t, f)(writeFrom(t, addr, count, func(b []byte, _ int64) (int, error) {
		if len(b) == 0 {
			return 0, nil
		}
		return f.Write(t, b)
	}))
}

// QuietEPIPE is implemented by files whose EPIPE raises no SIGPIPE
// (AF_UNIX datagram and seqpacket sockets: only unix_stream_sendmsg sends
// it).
type QuietEPIPE interface {
	QuietEPIPE() bool
}

// sigpipeFor is sigpipe for a write to f.
func sigpipeFor(t *kernel.Task, f *vfs.FileDescription) func(uintptr, error) (uintptr, error) {
	if q, ok := f.Impl().(QuietEPIPE); ok && q.QuietEPIPE() {
		return func(n uintptr, err error) (uintptr, error) { return n, err }
	}
	return sigpipe(t)
}

// sigpipe returns a pass-through for a write's result that also sends
// SIGPIPE on EPIPE: "EPIPE fd is connected to a pipe or socket whose
// reading end is closed. When this happens the writing process will also
// receive a SIGPIPE signal." - write(2).
func sigpipe(t *kernel.Task) func(uintptr, error) (uintptr, error) {
	return func(n uintptr, err error) (uintptr, error) {
		if err == errno.EPIPE {
			t.SendSignal(&linux.SignalInfo{Signo: linux.SIGPIPE, Code: linux.SI_USER, Pid: int32(t.ThreadGroup().PID())})
		}
		return n, err
	}
}

// Pread64 implements Linux syscall pread64(2).
func Pread64(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, addr, count, off := args[0].Int(), args[1].Pointer(), clampCount(args[2].Uint64()), args[3].Int64()
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	if !f.IsReadable() {
		return 0, errno.EBADF
	}
	if f.IsStream() {
		return 0, errno.ESPIPE
	}
	// pread(2) fails with lseek(2)'s errors: a negative offset is EINVAL.
	if off < 0 {
		return 0, errno.EINVAL
	}
	if err := checkRange(addr, count); err != nil {
		return 0, err
	}
	return readInto(t, addr, count, func(b []byte) (int, error) { return f.PRead(t, b, off) })
}

// Pwrite64 implements Linux syscall pwrite64(2).
func Pwrite64(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, addr, count, off := args[0].Int(), args[1].Pointer(), clampCount(args[2].Uint64()), args[3].Int64()
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	if !f.IsWritable() {
		return 0, errno.EBADF
	}
	if f.IsStream() {
		return 0, errno.ESPIPE
	}
	if off < 0 {
		return 0, errno.EINVAL
	}
	if err := checkRange(addr, count); err != nil {
		return 0, err
	}
	return writeFrom(t, addr, count, func(b []byte, done int64) (int, error) {
		if len(b) == 0 {
			return 0, nil
		}
		return f.PWrite(t, b, off+done)
	})
}

// iovecTotal sums the lengths of iovs, failing with EINVAL if the sum
// overflows ssize_t, as fs/read_write.c:import_iovec does; the total is
// then clamped to MAX_RW_COUNT.
func iovecTotal(iovs []kernel.IOVec) (int, error) {
	var total uint64
	for _, iov := range iovs {
		if iov.Len > 1<<63-1 || total+iov.Len > 1<<63-1 {
			return 0, errno.EINVAL
		}
		if _, ok := iov.Base.AddLength(iov.Len); !ok {
			return 0, errno.EFAULT
		}
		total += iov.Len
	}
	return clampCount(total), nil
}

// Readv implements Linux syscall readv(2). The data is read with one call
// to the file (so a pipe is not read twice) and then scattered.
func Readv(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, addr, iovcnt := args[0].Int(), args[1].Pointer(), int(args[2].Int())
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	if !f.IsReadable() {
		return 0, errno.EBADF
	}
	iovs, err := t.CopyInIovecs(addr, iovcnt)
	if err != nil {
		return 0, err
	}
	total, err := iovecTotal(iovs)
	if err != nil || total == 0 {
		return 0, err
	}
	if _, ok := f.Impl().(socket.Socket); ok {
		if err := checkWritable(t, iovs); err != nil {
			return 0, err
		}
		if n, ok, err := directRead(t, f, iovs, total); ok {
			return n, err
		}
	}
	buf := make([]byte, min(total, ioChunk))
	n, err := f.Read(t, buf)
	if n == 0 {
		return 0, err
	}
	return scatter(t, iovs, buf[:n])
}

// scatter copies data out over iovs.
func scatter(t *kernel.Task, iovs []kernel.IOVec, data []byte) (uintptr, error) {
	n := len(data)
	for _, iov := range iovs {
		if len(data) == 0 {
			break
		}
		chunk := data[:min(uint64(len(data)), iov.Len)]
		if _, err := t.CopyOutBytes(iov.Base, chunk); err != nil {
			return 0, err
		}
		data = data[len(chunk):]
	}
	return uintptr(n), nil
}

// Writev implements Linux syscall writev(2).
func Writev(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, addr, iovcnt := args[0].Int(), args[1].Pointer(), int(args[2].Int())
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	if !f.IsWritable() {
		return 0, errno.EBADF
	}
	iovs, err := t.CopyInIovecs(addr, iovcnt)
	if err != nil {
		return 0, err
	}
	total, err := iovecTotal(iovs)
	if err != nil || total == 0 {
		return 0, err
	}
	if n, ok, err := directWrite(t, f, iovs, total); ok {
		return sigpipeFor(t, f)(n, err)
	}
	return sigpipeFor(t, f)(gatherWrite(t, f, iovs, total))
}

// gatherWrite writes the iovecs' data in chunks of at most ioChunk,
// gathering small iovecs into one write so that a writev to a pipe or tty
// is not split needlessly. It stops at a short write; an error after some
// bytes were written becomes a short count.
func gatherWrite(t *kernel.Task, f *vfs.FileDescription, iovs []kernel.IOVec, total int) (uintptr, error) {
	done := 0
	for done < total {
		buf, err := gather(t, iovs, uint64(done), min(total-done, ioChunk))
		if err == nil {
			var n int
			n, err = f.Write(t, buf)
			done += n
			if err == nil && n < len(buf) {
				break
			}
		}
		if err != nil {
			if done > 0 {
				break
			}
			return 0, err
		}
	}
	return uintptr(done), nil
}

// gather copies n bytes from the iovecs' concatenated data, starting skip
// bytes in.
func gather(t *kernel.Task, iovs []kernel.IOVec, skip uint64, n int) ([]byte, error) {
	buf := make([]byte, 0, n)
	for _, iov := range iovs {
		if skip >= iov.Len {
			skip -= iov.Len
			continue
		}
		take := int(min(iov.Len-skip, uint64(n-len(buf))))
		start := len(buf)
		buf = buf[:start+take]
		// Overflow: iovecTotal checked that Base+Len does not wrap.
		if _, err := t.CopyInBytes(iov.Base+hostarch.Addr(skip), buf[start:]); err != nil {
			return nil, err
		}
		skip = 0
		if len(buf) == n {
			break
		}
	}
	return buf, nil
}

// Lseek implements Linux syscall lseek(2).
func Lseek(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, off, whence := args[0].Int(), args[1].Int64(), args[2].Int()
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	n, err := f.Seek(t, off, whence)
	return uintptr(n), err
}
