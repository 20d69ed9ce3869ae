package syscalls

import (
	"encoding/binary"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/epoll"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// pollSyscalls are poll, select and epoll.
var pollSyscalls = map[uintptr]kernel.Syscall{
	7:   {Name: "poll", Fn: Poll, Support: kernel.SupportFull},
	23:  {Name: "select", Fn: Select, Support: kernel.SupportFull},
	213: {Name: "epoll_create", Fn: EpollCreate, Support: kernel.SupportFull},
	232: {Name: "epoll_wait", Fn: EpollWait, Support: kernel.SupportFull},
	233: {Name: "epoll_ctl", Fn: EpollCtl, Support: kernel.SupportPartial, Note: "EPOLLEXCLUSIVE may wake more than one waiter."},
	270: {Name: "pselect6", Fn: Pselect6, Support: kernel.SupportFull},
	271: {Name: "ppoll", Fn: Ppoll, Support: kernel.SupportFull},
	281: {Name: "epoll_pwait", Fn: EpollPwait, Support: kernel.SupportFull},
	291: {Name: "epoll_create1", Fn: EpollCreate1, Support: kernel.SupportFull},
	441: {Name: "epoll_pwait2", Fn: EpollPwait2, Support: kernel.SupportFull},
}

// poll(2) bits beyond vfs's.
const (
	pollNval = 0x20
)

type pollFD struct {
	fd      int32
	events  int16
	revents int16
}

// doPoll checks the files, waiting until one is ready, the deadline passes
// or a signal arrives. It returns the number of ready entries.
func doPoll(t *kernel.Task, pfds []pollFD, deadline time.Time, has bool) (int, error) {
	files := make([]*vfs.FileDescription, len(pfds))
	for i, p := range pfds {
		if p.fd >= 0 {
			files[i] = t.GetFile(p.fd)
		}
	}
	defer func() {
		for _, f := range files {
			if f != nil {
				f.DecRef()
			}
		}
	}()
	check := func() int {
		n := 0
		for i := range pfds {
			p := &pfds[i]
			p.revents = 0
			if p.fd < 0 {
				continue
			}
			f := files[i]
			if f == nil {
				p.revents = pollNval
				n++
				continue
			}
			mask := vfs.EventMask(uint16(p.events)) | vfs.EventErr | vfs.EventHUp
			if r := f.Readiness(mask); r != 0 {
				p.revents = int16(r & mask)
				n++
			}
		}
		return n
	}
	if n := check(); n > 0 || (has && !time.Now().Before(deadline)) {
		return n, nil
	}
	w := vfs.NewWaiter(vfs.EventIn | vfs.EventOut | vfs.EventPri)
	for _, f := range files {
		if f != nil {
			f.EventRegister(w)
			defer f.EventUnregister(w)
		}
	}
	for {
		if n := check(); n > 0 {
			return n, nil
		}
		if err := t.BlockUntil(w.C, deadline, has); err != nil {
			if err == errno.ETIMEDOUT {
				return 0, nil
			}
			// Restarted with its whole timeout again if no handler runs.
			return 0, errno.ERESTARTNOHAND
		}
	}
}

func copyInPollFDs(t *kernel.Task, addr hostarch.Addr, nfds uint) ([]pollFD, error) {
	if nfds > uint(t.FDTable().Limit()) {
		return nil, errno.EINVAL
	}
	b := make([]byte, 8*nfds)
	if _, err := t.CopyInBytes(addr, b); err != nil {
		return nil, errno.EFAULT
	}
	p := make([]pollFD, nfds)
	for i := range p {
		p[i].fd = int32(binary.LittleEndian.Uint32(b[8*i:]))
		p[i].events = int16(binary.LittleEndian.Uint16(b[8*i+4:]))
	}
	return p, nil
}

func copyOutRevents(t *kernel.Task, addr hostarch.Addr, p []pollFD) error {
	for i := range p {
		var b [2]byte
		binary.LittleEndian.PutUint16(b[:], uint16(p[i].revents))
		if _, err := t.CopyOutBytes(addr+hostarch.Addr(8*i+6), b[:]); err != nil {
			return errno.EFAULT
		}
	}
	return nil
}

// Poll implements Linux syscall poll(2).
func Poll(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	addr, nfds, timeout := args[0].Pointer(), args[1].SizeT(), args[2].Int()
	p, err := copyInPollFDs(t, addr, nfds)
	if err != nil {
		return 0, err
	}
	var deadline time.Time
	has := timeout >= 0
	if has {
		deadline = time.Now().Add(time.Duration(timeout) * time.Millisecond)
	}
	n, err := doPoll(t, p, deadline, has)
	if err != nil {
		return 0, err
	}
	return uintptr(n), copyOutRevents(t, addr, p)
}

// Ppoll implements Linux syscall ppoll(2).
func Ppoll(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	addr, nfds, tsAddr, maskAddr, maskSize := args[0].Pointer(), args[1].SizeT(), args[2].Pointer(), args[3].Pointer(), args[4].SizeT()
	p, err := copyInPollFDs(t, addr, nfds)
	if err != nil {
		return 0, err
	}
	deadline, has, err := copyInTimeout(t, tsAddr)
	if err != nil {
		return 0, err
	}
	if err := applyTempMask(t, maskAddr, maskSize); err != nil {
		return 0, err
	}
	n, err := doPoll(t, p, deadline, has)
	if err != nil {
		return 0, err
	}
	return uintptr(n), copyOutRevents(t, addr, p)
}

// copyInTimeout reads an optional relative timespec as a deadline.
func copyInTimeout(t *kernel.Task, addr hostarch.Addr) (time.Time, bool, error) {
	if addr == 0 {
		return time.Time{}, false, nil
	}
	d, err := copyInDuration(t, addr)
	if err != nil {
		return time.Time{}, false, err
	}
	return time.Now().Add(d), true, nil
}

// applyTempMask installs the temporary signal mask of ppoll, pselect6 and
// epoll_pwait; the old one comes back when the call returns (or after the
// handler that interrupted it).
func applyTempMask(t *kernel.Task, addr hostarch.Addr, size uint) error {
	if addr == 0 {
		return nil
	}
	if size != sigsetSize {
		return errno.EINVAL
	}
	mask, err := copyInSigset(t, addr)
	if err != nil {
		return err
	}
	t.SetSavedSignalMask(t.SignalMask())
	t.SetSignalMask(mask)
	return nil
}

// fdSet is select(2)'s bitmap.
func copyInFDSet(t *kernel.Task, addr hostarch.Addr, nfds int) ([]byte, error) {
	if addr == 0 {
		return nil, nil
	}
	b := make([]byte, (nfds+63)/64*8)
	if _, err := t.CopyInBytes(addr, b); err != nil {
		return nil, errno.EFAULT
	}
	return b, nil
}

func isSet(b []byte, fd int) bool { return b != nil && b[fd/8]&(1<<(fd%8)) != 0 }

func doSelect(t *kernel.Task, nfds int, rAddr, wAddr, eAddr hostarch.Addr, deadline time.Time, has bool) (uintptr, error) {
	if nfds < 0 || nfds > int(t.FDTable().Limit()) {
		return 0, errno.EINVAL
	}
	var sets [3][]byte
	for i, a := range []hostarch.Addr{rAddr, wAddr, eAddr} {
		s, err := copyInFDSet(t, a, nfds)
		if err != nil {
			return 0, err
		}
		sets[i] = s
	}
	var p []pollFD
	var fds []int
	for fd := 0; fd < nfds; fd++ {
		var ev int16
		if isSet(sets[0], fd) {
			ev |= int16(vfs.EventIn | vfs.EventHUp | vfs.EventErr)
		}
		if isSet(sets[1], fd) {
			ev |= int16(vfs.EventOut | vfs.EventErr)
		}
		if isSet(sets[2], fd) {
			ev |= int16(vfs.EventPri)
		}
		if ev == 0 {
			continue
		}
		if f := t.GetFile(int32(fd)); f == nil {
			return 0, errno.EBADF
		} else {
			f.DecRef()
		}
		p = append(p, pollFD{fd: int32(fd), events: ev})
		fds = append(fds, fd)
	}
	if _, err := doPoll(t, p, deadline, has); err != nil {
		return 0, err
	}
	var out [3][]byte
	for i := range out {
		if sets[i] != nil {
			out[i] = make([]byte, len(sets[i]))
		}
	}
	n := 0
	for i, q := range p {
		fd := fds[i]
		r := vfs.EventMask(uint16(q.revents))
		set := func(k int, cond bool) {
			if cond && isSet(sets[k], fd) {
				out[k][fd/8] |= 1 << (fd % 8)
				n++
			}
		}
		set(0, r&(vfs.EventIn|vfs.EventHUp|vfs.EventErr) != 0)
		set(1, r&(vfs.EventOut|vfs.EventErr) != 0)
		set(2, r&vfs.EventPri != 0)
	}
	for i, a := range []hostarch.Addr{rAddr, wAddr, eAddr} {
		if a != 0 {
			if _, err := t.CopyOutBytes(a, out[i]); err != nil {
				return 0, errno.EFAULT
			}
		}
	}
	return uintptr(n), nil
}

// Select implements Linux syscall select(2).
func Select(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	nfds, r, w, e, tvAddr := int(args[0].Int()), args[1].Pointer(), args[2].Pointer(), args[3].Pointer(), args[4].Pointer()
	var deadline time.Time
	has := tvAddr != 0
	if has {
		var b [16]byte
		if _, err := t.CopyInBytes(tvAddr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
		sec, usec := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
		if sec < 0 || usec < 0 {
			return 0, errno.EINVAL
		}
		deadline = time.Now().Add(time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond)
	}
	n, err := doSelect(t, nfds, r, w, e, deadline, has)
	if err == nil && has {
		// Linux updates the timeout with the time not slept.
		left := max(time.Until(deadline), 0)
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], uint64(left/time.Second))
		binary.LittleEndian.PutUint64(b[8:], uint64(left%time.Second/time.Microsecond))
		t.CopyOutBytes(tvAddr, b[:])
	}
	return n, err
}

// Pselect6 implements Linux syscall pselect6(2).
func Pselect6(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	nfds, r, w, e, tsAddr, sigAddr := int(args[0].Int()), args[1].Pointer(), args[2].Pointer(), args[3].Pointer(), args[4].Pointer(), args[5].Pointer()
	deadline, has, err := copyInTimeout(t, tsAddr)
	if err != nil {
		return 0, err
	}
	if sigAddr != 0 {
		// The sixth argument points at {const sigset_t *ss; size_t ss_len}.
		var b [16]byte
		if _, err := t.CopyInBytes(sigAddr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
		if err := applyTempMask(t, hostarch.Addr(binary.LittleEndian.Uint64(b[:])), uint(binary.LittleEndian.Uint64(b[8:]))); err != nil {
			return 0, err
		}
	}
	n, err := doSelect(t, nfds, r, w, e, deadline, has)
	if (err == nil || err == errno.ERESTARTNOHAND) && has {
		// Linux writes the time not slept back to the timespec (glibc's
		// select(2) is pselect6 and relies on it for its timeval).
		var b [16]byte
		putTimespec(b[:], max(time.Until(deadline), 0))
		t.CopyOutBytes(tsAddr, b[:])
	}
	return n, err
}

// EpollCreate implements Linux syscall epoll_create(2).
func EpollCreate(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	if args[0].Int() <= 0 {
		return 0, errno.EINVAL
	}
	return newEpoll(t, 0)
}

// EpollCreate1 implements Linux syscall epoll_create1(2).
func EpollCreate1(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	flags := args[0].Uint()
	if flags&^linux.O_CLOEXEC != 0 {
		return 0, errno.EINVAL
	}
	return newEpoll(t, flags)
}

func newEpoll(t *kernel.Task, flags uint32) (uintptr, error) {
	f := epoll.New(0)
	defer f.DecRef()
	fd, err := t.FDTable().NewFD(0, f, flags&linux.O_CLOEXEC != 0)
	return uintptr(fd), err
}

// EpollCtl implements Linux syscall epoll_ctl(2).
func EpollCtl(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	epfd, op, fd, evAddr := args[0].Int(), int(args[1].Int()), args[2].Int(), args[3].Pointer()
	epf := t.GetFile(epfd)
	if epf == nil {
		return 0, errno.EBADF
	}
	defer epf.DecRef()
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	ep := epoll.FromFile(epf)
	if ep == nil || epf == f {
		return 0, errno.EINVAL
	}
	var events uint32
	var data uint64
	if op != epoll.EPOLL_CTL_DEL {
		var b [epoll.EpollEventSize]byte
		if _, err := t.CopyInBytes(evAddr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
		events = binary.LittleEndian.Uint32(b[:])
		data = binary.LittleEndian.Uint64(b[4:])
		if events&epoll.EPOLLEXCLUSIVE != 0 && (events&epoll.EPOLLONESHOT != 0 || epoll.FromFile(f) != nil) {
			return 0, errno.EINVAL
		}
	}
	return 0, ep.Ctl(op, fd, f, events, data)
}

// epollWait is the common part of the epoll_wait family.
func epollWait(t *kernel.Task, epfd int32, evAddr hostarch.Addr, maxEvents int, deadline time.Time, has bool) (uintptr, error) {
	// "EINVAL ... maxevents is less than or equal to zero" - epoll_wait(2).
	if maxEvents <= 0 || maxEvents > (1<<31-1)/epoll.EpollEventSize {
		return 0, errno.EINVAL
	}
	epf := t.GetFile(epfd)
	if epf == nil {
		return 0, errno.EBADF
	}
	defer epf.DecRef()
	ep := epoll.FromFile(epf)
	if ep == nil {
		return 0, errno.EINVAL
	}
	if _, ok := evAddr.AddLength(uint64(maxEvents * epoll.EpollEventSize)); !ok {
		return 0, errno.EFAULT
	}
	for {
		evs := ep.Collect(maxEvents)
		if len(evs) > 0 {
			b := make([]byte, len(evs)*epoll.EpollEventSize)
			for i, e := range evs {
				binary.LittleEndian.PutUint32(b[i*epoll.EpollEventSize:], e.Events)
				binary.LittleEndian.PutUint64(b[i*epoll.EpollEventSize+4:], e.Data)
			}
			if _, err := t.CopyOutBytes(evAddr, b); err != nil {
				return 0, errno.EFAULT
			}
			return uintptr(len(evs)), nil
		}
		if has && !time.Now().Before(deadline) {
			return 0, nil
		}
		if err := t.BlockUntil(ep.Ready(), deadline, has); err != nil {
			if err == errno.ETIMEDOUT {
				return 0, nil
			}
			// "epoll_wait ... is never restarted after being interrupted by
			// a signal handler" - signal(7).
			return 0, errno.EINTR
		}
	}
}

func msDeadline(ms int32) (time.Time, bool) {
	if ms < 0 {
		return time.Time{}, false
	}
	return time.Now().Add(time.Duration(ms) * time.Millisecond), true
}

// EpollWait implements Linux syscall epoll_wait(2).
func EpollWait(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	d, has := msDeadline(args[3].Int())
	return epollWait(t, args[0].Int(), args[1].Pointer(), int(args[2].Int()), d, has)
}

// EpollPwait implements Linux syscall epoll_pwait(2).
func EpollPwait(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	if err := applyTempMask(t, args[4].Pointer(), args[5].SizeT()); err != nil {
		return 0, err
	}
	d, has := msDeadline(args[3].Int())
	return epollWait(t, args[0].Int(), args[1].Pointer(), int(args[2].Int()), d, has)
}

// EpollPwait2 implements Linux syscall epoll_pwait2(2).
func EpollPwait2(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	deadline, has, err := copyInTimeout(t, args[3].Pointer())
	if err != nil {
		return 0, err
	}
	if err := applyTempMask(t, args[4].Pointer(), args[5].SizeT()); err != nil {
		return 0, err
	}
	return epollWait(t, args[0].Int(), args[1].Pointer(), int(args[2].Int()), deadline, has)
}
