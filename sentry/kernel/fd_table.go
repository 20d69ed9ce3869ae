package kernel

import (
	"sync"
	"sync/atomic"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// DefaultNOFILE is the fd limit of a new table: RLIMIT_NOFILE's usual soft
// limit. The setrlimit work can change it with SetLimit.
const DefaultNOFILE = 1024

// MaxNOFILE is the largest fd limit, Linux's default fs.nr_open.
const MaxNOFILE = 1 << 20

// descriptor is one fd table slot.
type descriptor struct {
	file    *vfs.FileDescription
	cloexec bool
}

// FDTable is a task's file descriptor table. Threads created with
// CLONE_FILES share one; it is safe for concurrent use.
//
// Every file in the table holds one reference, taken when it is installed
// and dropped when it is removed.
type FDTable struct {
	// users counts the tasks sharing the table; the last one to leave
	// closes every file.
	users atomic.Int32

	// mu protects the fields below.
	mu sync.Mutex
	// slots is indexed by fd; a nil file is a free slot.
	slots []descriptor
	// lowFree is a lower bound on the lowest free fd.
	lowFree int32
	// limit is RLIMIT_NOFILE: fds must be below it.
	limit int32
}

// NewFDTable returns an empty table with the default limit.
func NewFDTable() *FDTable {
	fdt := &FDTable{limit: DefaultNOFILE}
	fdt.users.Store(1)
	return fdt
}

// IncUsers adds a task sharing the table (CLONE_FILES).
func (fdt *FDTable) IncUsers() { fdt.users.Add(1) }

// DecUsers drops a task; the last closes every file.
func (fdt *FDTable) DecUsers() {
	if fdt.users.Add(-1) == 0 {
		fdt.RemoveAll()
	}
}

// SetLimit sets RLIMIT_NOFILE (clamped to MaxNOFILE). Existing fds above it
// stay open, as on Linux.
func (fdt *FDTable) SetLimit(n uint64) {
	fdt.mu.Lock()
	defer fdt.mu.Unlock()
	fdt.limit = int32(min(n, MaxNOFILE))
}

// Limit returns RLIMIT_NOFILE.
func (fdt *FDTable) Limit() int32 {
	fdt.mu.Lock()
	defer fdt.mu.Unlock()
	return fdt.limit
}

// Get returns the file for fd with a new reference, and whether it is
// close-on-exec; nil if fd is not open. The caller must DecRef the file.
func (fdt *FDTable) Get(fd int32) (*vfs.FileDescription, bool) {
	fdt.mu.Lock()
	defer fdt.mu.Unlock()
	if fd < 0 || int(fd) >= len(fdt.slots) || fdt.slots[fd].file == nil {
		return nil, false
	}
	d := fdt.slots[fd]
	d.file.IncRef()
	return d.file, d.cloexec
}

// NewFD installs file at the lowest free fd not below minFD and returns
// it; EMFILE if every fd below the limit is taken. The table takes its own
// reference.
func (fdt *FDTable) NewFD(minFD int32, file *vfs.FileDescription, cloexec bool) (int32, error) {
	if minFD < 0 {
		return -1, errno.EINVAL
	}
	fdt.mu.Lock()
	defer fdt.mu.Unlock()
	fd := max(minFD, fdt.lowFree)
	for int(fd) < len(fdt.slots) && fdt.slots[fd].file != nil {
		fd++
	}
	if fd >= fdt.limit {
		return -1, errno.EMFILE
	}
	fdt.setLocked(fd, file, cloexec)
	if minFD <= fdt.lowFree {
		fdt.lowFree = fd + 1
	}
	return fd, nil
}

// NewFDAt installs file at fd, closing whatever fd referred to (as dup2
// does). EBADF if fd is negative or not below the limit.
func (fdt *FDTable) NewFDAt(fd int32, file *vfs.FileDescription, cloexec bool) error {
	fdt.mu.Lock()
	if fd < 0 || fd >= fdt.limit {
		fdt.mu.Unlock()
		return errno.EBADF
	}
	old := fdt.setLocked(fd, file, cloexec)
	fdt.mu.Unlock()
	if old != nil {
		old.ReleasePosixLocks(fdt)
		old.DecRef()
	}
	return nil
}

// setLocked puts file in slot fd and returns the file it replaced.
//
// Preconditions: fdt.mu is held; 0 <= fd < MaxNOFILE.
func (fdt *FDTable) setLocked(fd int32, file *vfs.FileDescription, cloexec bool) *vfs.FileDescription {
	if int(fd) >= len(fdt.slots) {
		n := max(int(fd)+1, 2*len(fdt.slots), 64)
		slots := make([]descriptor, n)
		copy(slots, fdt.slots)
		fdt.slots = slots
	}
	file.IncRef()
	old := fdt.slots[fd].file
	fdt.slots[fd] = descriptor{file: file, cloexec: cloexec}
	return old
}

// Remove takes fd out of the table and returns its file, whose table
// reference passes to the caller (who must DecRef it); nil if fd was not
// open. Closing any fd of a file drops the table's record locks on it
// ("If a process closes any file descriptor referring to a file, then all
// of the process's locks on that file are released" - fcntl(2)).
func (fdt *FDTable) Remove(fd int32) *vfs.FileDescription {
	fdt.mu.Lock()
	if fd < 0 || int(fd) >= len(fdt.slots) || fdt.slots[fd].file == nil {
		fdt.mu.Unlock()
		return nil
	}
	f := fdt.slots[fd].file
	fdt.slots[fd] = descriptor{}
	fdt.lowFree = min(fdt.lowFree, fd)
	fdt.mu.Unlock()
	f.ReleasePosixLocks(fdt)
	return f
}

// SetCloseOnExec sets or clears fd's FD_CLOEXEC flag; EBADF if fd is not
// open.
func (fdt *FDTable) SetCloseOnExec(fd int32, cloexec bool) error {
	fdt.mu.Lock()
	defer fdt.mu.Unlock()
	if fd < 0 || int(fd) >= len(fdt.slots) || fdt.slots[fd].file == nil {
		return errno.EBADF
	}
	fdt.slots[fd].cloexec = cloexec
	return nil
}

// Dup installs the file of oldFD at the lowest free fd not below minFD
// (dup, F_DUPFD).
func (fdt *FDTable) Dup(oldFD, minFD int32, cloexec bool) (int32, error) {
	f, _ := fdt.Get(oldFD)
	if f == nil {
		return -1, errno.EBADF
	}
	defer f.DecRef()
	if minFD >= fdt.Limit() {
		// "EINVAL ... arg is negative or is greater than the maximum
		// allowable value" - fcntl(2) F_DUPFD.
		return -1, errno.EINVAL
	}
	return fdt.NewFD(minFD, f, cloexec)
}

// removeIf removes the fds for which pred is true and drops their
// references, outside the lock (a release may do host I/O).
func (fdt *FDTable) removeIf(pred func(descriptor) bool) {
	var drop []*vfs.FileDescription
	fdt.mu.Lock()
	for fd := range fdt.slots {
		if d := fdt.slots[fd]; d.file != nil && pred(d) {
			drop = append(drop, d.file)
			fdt.slots[fd] = descriptor{}
			fdt.lowFree = min(fdt.lowFree, int32(fd))
		}
	}
	fdt.mu.Unlock()
	for _, f := range drop {
		f.ReleasePosixLocks(fdt)
		f.DecRef()
	}
}

// RemoveAll closes every fd (on exit).
func (fdt *FDTable) RemoveAll() { fdt.removeIf(func(descriptor) bool { return true }) }

// CloseOnExec closes the fds marked FD_CLOEXEC (on execve).
func (fdt *FDTable) CloseOnExec() { fdt.removeIf(func(d descriptor) bool { return d.cloexec }) }

// Fork returns a copy of the table for a child created without
// CLONE_FILES; the copy holds its own references.
func (fdt *FDTable) Fork() *FDTable {
	fdt.mu.Lock()
	defer fdt.mu.Unlock()
	n := &FDTable{slots: make([]descriptor, len(fdt.slots)), lowFree: fdt.lowFree, limit: fdt.limit}
	n.users.Store(1)
	for fd, d := range fdt.slots {
		if d.file != nil {
			d.file.IncRef()
			n.slots[fd] = d
		}
	}
	return n
}

// FDs returns the open fds in increasing order.
func (fdt *FDTable) FDs() []int32 {
	fdt.mu.Lock()
	defer fdt.mu.Unlock()
	var fds []int32
	for fd, d := range fdt.slots {
		if d.file != nil {
			fds = append(fds, int32(fd))
		}
	}
	return fds
}
