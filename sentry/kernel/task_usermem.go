package kernel

import (
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
)

// CopyInBytes reads guest memory at addr into dst.
func (t *Task) CopyInBytes(addr hostarch.Addr, dst []byte) (int, error) {
	return t.mm.CopyIn(addr, dst)
}

// CopyOutBytes writes src to guest memory at addr.
func (t *Task) CopyOutBytes(addr hostarch.Addr, src []byte) (int, error) {
	return t.mm.CopyOut(addr, src)
}

// CopyInString reads a NUL-terminated string of at most maxlen bytes.
func (t *Task) CopyInString(addr hostarch.Addr, maxlen int) (string, error) {
	return t.mm.CopyInString(addr, maxlen)
}

// IOVec is struct iovec.
type IOVec struct {
	Base hostarch.Addr
	Len  uint64
}

// UIO_MAXIOV is the largest iovcnt readv(2) accepts (<linux/uio.h>).
const UIO_MAXIOV = 1024

// maxRWCount is MAX_RW_COUNT (include/linux/fs.h): the most one read or
// write transfers, INT_MAX rounded down to a page.
const maxRWCount = (1<<31 - 1) &^ (hostarch.PageSize - 1)

// CopyInIovecs reads iovcnt struct iovecs at addr. As Linux's
// import_iovec, it fails with EINVAL for a bad count or a length that
// overflows ssize_t, and truncates the total to MAX_RW_COUNT.
func (t *Task) CopyInIovecs(addr hostarch.Addr, iovcnt int) ([]IOVec, error) {
	if iovcnt < 0 || iovcnt > UIO_MAXIOV {
		return nil, errno.EINVAL
	}
	if iovcnt == 0 {
		return nil, nil
	}
	buf := make([]byte, 16*iovcnt)
	if _, err := t.CopyInBytes(addr, buf); err != nil {
		return nil, errno.EFAULT
	}
	iovs := make([]IOVec, iovcnt)
	var total uint64
	for i := range iovs {
		b := buf[16*i:]
		base := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		n := uint64(b[8]) | uint64(b[9])<<8 | uint64(b[10])<<16 | uint64(b[11])<<24 |
			uint64(b[12])<<32 | uint64(b[13])<<40 | uint64(b[14])<<48 | uint64(b[15])<<56
		if int64(n) < 0 {
			return nil, errno.EINVAL
		}
		if n > maxRWCount-total {
			n = maxRWCount - total
		}
		total += n
		iovs[i] = IOVec{Base: hostarch.Addr(base), Len: n}
	}
	return iovs, nil
}

// CheckWritable fails with EFAULT unless the guest may write all of
// [addr, addr+length).
func (t *Task) CheckWritable(addr hostarch.Addr, length uint64) error {
	return t.mm.CheckAccess(addr, length, hostarch.Write)
}
