package syscalls

import (
	"encoding/binary"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/eventfd"
	"github.com/runsc-lite/runsc-lite/fs/timerfd"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// timerSyscalls are sleeps, timers and the eventfd/timerfd/signalfd files.
var timerSyscalls = map[uintptr]kernel.Syscall{
	35:  {Name: "nanosleep", Fn: Nanosleep, Support: kernel.SupportFull},
	36:  {Name: "getitimer", Fn: Getitimer, Support: kernel.SupportPartial, Note: "ITIMER_VIRTUAL and ITIMER_PROF count wall-clock time."},
	37:  {Name: "alarm", Fn: Alarm, Support: kernel.SupportFull},
	38:  {Name: "setitimer", Fn: Setitimer, Support: kernel.SupportPartial, Note: "ITIMER_VIRTUAL and ITIMER_PROF count wall-clock time."},
	222: {Name: "timer_create", Fn: TimerCreate, Support: kernel.SupportPartial, Note: "CPU-time clocks run on wall-clock time."},
	223: {Name: "timer_settime", Fn: TimerSettime, Support: kernel.SupportFull},
	224: {Name: "timer_gettime", Fn: TimerGettime, Support: kernel.SupportFull},
	225: {Name: "timer_getoverrun", Fn: TimerGetoverrun, Support: kernel.SupportFull},
	226: {Name: "timer_delete", Fn: TimerDelete, Support: kernel.SupportFull},
	230: {Name: "clock_nanosleep", Fn: ClockNanosleep, Support: kernel.SupportFull},
	282: {Name: "signalfd", Fn: Signalfd, Support: kernel.SupportFull},
	283: {Name: "timerfd_create", Fn: TimerfdCreate, Support: kernel.SupportFull},
	284: {Name: "eventfd", Fn: Eventfd, Support: kernel.SupportFull},
	286: {Name: "timerfd_settime", Fn: TimerfdSettime, Support: kernel.SupportFull},
	287: {Name: "timerfd_gettime", Fn: TimerfdGettime, Support: kernel.SupportFull},
	289: {Name: "signalfd4", Fn: Signalfd4, Support: kernel.SupportFull},
	290: {Name: "eventfd2", Fn: Eventfd2, Support: kernel.SupportFull},
}

func durationTimespec(d time.Duration) linux.Timespec {
	return linux.Timespec{Sec: int64(d / time.Second), Nsec: int64(d % time.Second)}
}

// sleepUntil sleeps to deadline; on a signal it records how to continue
// (restart_syscall) and writes the remaining time to remAddr.
func sleepUntil(t *kernel.Task, deadline time.Time, remAddr hostarch.Addr) (uintptr, error) {
	err := t.BlockUntil(nil, deadline, true)
	if err == errno.ETIMEDOUT {
		return 0, nil
	}
	left := max(time.Until(deadline), 0)
	if remAddr != 0 {
		if err := copyOutTimespec(t, remAddr, durationTimespec(left)); err != nil {
			return 0, err
		}
	}
	t.SetRestartBlock(func(t *kernel.Task) (uintptr, error) { return sleepUntil(t, deadline, remAddr) })
	return 0, errno.ERESTART_RESTARTBLOCK
}

// Nanosleep implements Linux syscall nanosleep(2).
func Nanosleep(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	d, err := copyInDuration(t, args[0].Pointer())
	if err != nil {
		return 0, err
	}
	return sleepUntil(t, time.Now().Add(d), args[1].Pointer())
}

// timerAbstime is TIMER_ABSTIME.
const timerAbstime = 1

// clockDeadline converts an absolute time on clock into a wall deadline.
func clockDeadline(t *kernel.Task, clock int32, abs time.Duration) (time.Time, error) {
	nowTS, err := now(t, clock)
	if err != nil {
		return time.Time{}, err
	}
	cur := time.Duration(nowTS.Sec)*time.Second + time.Duration(nowTS.Nsec)
	return time.Now().Add(abs - cur), nil
}

// ClockNanosleep implements Linux syscall clock_nanosleep(2).
func ClockNanosleep(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	clock, flags, reqAddr, remAddr := args[0].Int(), args[1].Int(), args[2].Pointer(), args[3].Pointer()
	if clock == linux.CLOCK_THREAD_CPUTIME_ID {
		return 0, errno.EINVAL
	}
	if _, err := now(t, clock); err != nil {
		return 0, err
	}
	d, err := copyInDuration(t, reqAddr)
	if err != nil {
		return 0, err
	}
	if flags&timerAbstime == 0 {
		return sleepUntil(t, time.Now().Add(d), remAddr)
	}
	for {
		deadline, err := clockDeadline(t, clock, d)
		if err != nil {
			return 0, err
		}
		if err := t.BlockUntil(nil, deadline, true); err != errno.ETIMEDOUT {
			// An absolute sleep restarts with the same deadline.
			return 0, errno.ERESTARTNOHAND
		}
		// The guest clock is slewed towards the host's, which the sleep
		// was timed on, so it can trail the deadline by a few parts per
		// million of the sleep; Linux never wakes early.
		cur, err := now(t, clock)
		if err != nil || time.Duration(cur.Sec)*time.Second+time.Duration(cur.Nsec) >= d {
			return 0, nil
		}
	}
}

// itimerval and itimerspec codecs.
func copyInTimeval(t *kernel.Task, addr hostarch.Addr) (time.Duration, error) {
	var b [16]byte
	if _, err := t.CopyInBytes(addr, b[:]); err != nil {
		return 0, errno.EFAULT
	}
	sec, usec := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || usec < 0 || usec >= 1e6 {
		return 0, errno.EINVAL
	}
	return time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, nil
}

func putTimeval(b []byte, d time.Duration) {
	binary.LittleEndian.PutUint64(b, uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64(d%time.Second/time.Microsecond))
}

func putTimespec(b []byte, d time.Duration) {
	binary.LittleEndian.PutUint64(b, uint64(d/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64(d%time.Second))
}

// Getitimer implements Linux syscall getitimer(2).
func Getitimer(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	it, err := t.ThreadGroup().ITimer(int(args[0].Int()))
	if err != nil {
		return 0, err
	}
	rem, interval := it.Get()
	var b [32]byte
	putTimeval(b[:], interval)
	putTimeval(b[16:], rem)
	if _, err := t.CopyOutBytes(args[1].Pointer(), b[:]); err != nil {
		return 0, errno.EFAULT
	}
	return 0, nil
}

// Setitimer implements Linux syscall setitimer(2).
func Setitimer(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	which, newAddr, oldAddr := int(args[0].Int()), args[1].Pointer(), args[2].Pointer()
	it, err := t.ThreadGroup().ITimer(which)
	if err != nil {
		return 0, err
	}
	var interval, value time.Duration
	if newAddr != 0 {
		if interval, err = copyInTimeval(t, newAddr); err != nil {
			return 0, err
		}
		if value, err = copyInTimeval(t, newAddr+16); err != nil {
			return 0, err
		}
	}
	var deadline time.Time
	if value > 0 {
		deadline = time.Now().Add(value)
	}
	oldRem, oldInt := it.Set(deadline, interval)
	if oldAddr != 0 {
		var b [32]byte
		putTimeval(b[:], oldInt)
		putTimeval(b[16:], oldRem)
		if _, err := t.CopyOutBytes(oldAddr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
	}
	return 0, nil
}

// Alarm implements Linux syscall alarm(2).
func Alarm(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	secs := time.Duration(args[0].Uint()) * time.Second
	it, _ := t.ThreadGroup().ITimer(kernel.ITIMER_REAL)
	var deadline time.Time
	if secs > 0 {
		deadline = time.Now().Add(secs)
	}
	old, _ := it.Set(deadline, 0)
	// "alarm() returns the number of seconds remaining until any previously
	// scheduled alarm was due", rounded to nearest as Linux does.
	r := (old + time.Second/2) / time.Second
	if old > 0 && r == 0 {
		r = 1
	}
	return uintptr(r), nil
}

// TimerCreate implements Linux syscall timer_create(2).
func TimerCreate(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	clock, sevAddr, idAddr := args[0].Int(), args[1].Pointer(), args[2].Pointer()
	if _, err := now(t, clock); err != nil {
		return 0, err
	}
	notify, signo, tid := kernel.SIGEV_SIGNAL, linux.SIGALRM, kernel.ThreadID(0)
	var value uint64
	useID := true
	if sevAddr != 0 {
		var b [64]byte
		if _, err := t.CopyInBytes(sevAddr, b[:]); err != nil {
			return 0, errno.EFAULT
		}
		value = binary.LittleEndian.Uint64(b[0:])
		signo = int(int32(binary.LittleEndian.Uint32(b[8:])))
		notify = int(int32(binary.LittleEndian.Uint32(b[12:])))
		tid = kernel.ThreadID(binary.LittleEndian.Uint32(b[16:]))
		useID = false
	}
	id, err := t.CreateTimer(notify, signo, value, tid)
	if err != nil {
		return 0, err
	}
	if useID {
		// With no sigevent, "sigev_value.sival_int is the timer ID".
		t.ThreadGroup().DeleteTimer(id)
		if id, err = t.CreateTimer(notify, signo, uint64(id), tid); err != nil {
			return 0, err
		}
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(id))
	if _, err := t.CopyOutBytes(idAddr, b[:]); err != nil {
		t.ThreadGroup().DeleteTimer(id)
		return 0, errno.EFAULT
	}
	return 0, nil
}

// copyInItimerspec reads {it_interval, it_value}.
func copyInItimerspec(t *kernel.Task, addr hostarch.Addr) (interval, value time.Duration, err error) {
	if interval, err = copyInDuration(t, addr); err != nil {
		return
	}
	value, err = copyInDuration(t, addr+16)
	return
}

func copyOutItimerspec(t *kernel.Task, addr hostarch.Addr, interval, value time.Duration) error {
	if addr == 0 {
		return nil
	}
	var b [32]byte
	putTimespec(b[:], interval)
	putTimespec(b[16:], value)
	if _, err := t.CopyOutBytes(addr, b[:]); err != nil {
		return errno.EFAULT
	}
	return nil
}

// settime arms it from an itimerspec with TIMER_ABSTIME semantics.
func settime(t *kernel.Task, it interface {
	Set(time.Time, time.Duration) (time.Duration, time.Duration)
}, clock int32, flags int32, newAddr, oldAddr hostarch.Addr) error {
	interval, value, err := copyInItimerspec(t, newAddr)
	if err != nil {
		return err
	}
	var deadline time.Time
	if value > 0 {
		if flags&timerAbstime != 0 {
			if deadline, err = clockDeadline(t, clock, value); err != nil {
				return err
			}
		} else {
			deadline = time.Now().Add(value)
		}
	}
	oldRem, oldInt := it.Set(deadline, interval)
	return copyOutItimerspec(t, oldAddr, oldInt, oldRem)
}

// TimerSettime implements Linux syscall timer_settime(2).
func TimerSettime(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pt := t.ThreadGroup().Timer(args[0].Int())
	if pt == nil {
		return 0, errno.EINVAL
	}
	return 0, settime(t, pt, linux.CLOCK_REALTIME, args[1].Int(), args[2].Pointer(), args[3].Pointer())
}

// TimerGettime implements Linux syscall timer_gettime(2).
func TimerGettime(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pt := t.ThreadGroup().Timer(args[0].Int())
	if pt == nil {
		return 0, errno.EINVAL
	}
	rem, interval := pt.Get()
	return 0, copyOutItimerspec(t, args[1].Pointer(), interval, rem)
}

// TimerGetoverrun implements Linux syscall timer_getoverrun(2).
func TimerGetoverrun(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	pt := t.ThreadGroup().Timer(args[0].Int())
	if pt == nil {
		return 0, errno.EINVAL
	}
	return uintptr(pt.Overrun()), nil
}

// TimerDelete implements Linux syscall timer_delete(2).
func TimerDelete(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return 0, t.ThreadGroup().DeleteTimer(args[0].Int())
}

// timerfd flags.
const (
	tfdCloexec      = linux.O_CLOEXEC
	tfdNonblock     = linux.O_NONBLOCK
	tfdTimerAbstime = 1
	tfdCancelOnSet  = 2
)

// TimerfdCreate implements Linux syscall timerfd_create(2).
func TimerfdCreate(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	clock, flags := args[0].Int(), args[1].Uint()
	switch clock {
	case linux.CLOCK_REALTIME, linux.CLOCK_MONOTONIC, linux.CLOCK_BOOTTIME, linux.CLOCK_REALTIME_ALARM, linux.CLOCK_BOOTTIME_ALARM:
	default:
		return 0, errno.EINVAL
	}
	if flags&^(tfdCloexec|tfdNonblock) != 0 {
		return 0, errno.EINVAL
	}
	f, tf := timerfd.New(clock, flags&tfdNonblock)
	defer f.DecRef()
	tf.Timer = kernel.NewIntervalTimer(tf.Expire)
	fd, err := t.FDTable().NewFD(0, f, flags&tfdCloexec != 0)
	return uintptr(fd), err
}

// TimerfdSettime implements Linux syscall timerfd_settime(2).
func TimerfdSettime(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	fd, flags, newAddr, oldAddr := args[0].Int(), args[1].Int(), args[2].Pointer(), args[3].Pointer()
	if flags&^(tfdTimerAbstime|tfdCancelOnSet) != 0 {
		return 0, errno.EINVAL
	}
	f := t.GetFile(fd)
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	tf := timerfd.FromFile(f)
	if tf == nil {
		return 0, errno.EINVAL
	}
	tf.ResetExpirations()
	return 0, settime(t, tf.Timer, tf.Clock, flags, newAddr, oldAddr)
}

// TimerfdGettime implements Linux syscall timerfd_gettime(2).
func TimerfdGettime(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	f := t.GetFile(args[0].Int())
	if f == nil {
		return 0, errno.EBADF
	}
	defer f.DecRef()
	tf := timerfd.FromFile(f)
	if tf == nil {
		return 0, errno.EINVAL
	}
	rem, interval := tf.Timer.Get()
	return 0, copyOutItimerspec(t, args[1].Pointer(), interval, rem)
}

// eventfd flags.
const efdSemaphore = 1

// Eventfd implements Linux syscall eventfd(2).
func Eventfd(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return newEventfd(t, args[0].Uint(), 0)
}

// Eventfd2 implements Linux syscall eventfd2(2).
func Eventfd2(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	flags := args[1].Uint()
	if flags&^(linux.O_CLOEXEC|linux.O_NONBLOCK|efdSemaphore) != 0 {
		return 0, errno.EINVAL
	}
	return newEventfd(t, args[0].Uint(), flags)
}

func newEventfd(t *kernel.Task, init, flags uint32) (uintptr, error) {
	f := eventfd.New(uint64(init), flags&efdSemaphore != 0, flags&linux.O_NONBLOCK)
	defer f.DecRef()
	fd, err := t.FDTable().NewFD(0, f, flags&linux.O_CLOEXEC != 0)
	return uintptr(fd), err
}

// Signalfd implements Linux syscall signalfd(2).
func Signalfd(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	return doSignalfd(t, args[0].Int(), args[1].Pointer(), args[2].SizeT(), 0)
}

// Signalfd4 implements Linux syscall signalfd4(2).
func Signalfd4(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
	flags := args[3].Uint()
	if flags&^(linux.O_CLOEXEC|linux.O_NONBLOCK) != 0 {
		return 0, errno.EINVAL
	}
	return doSignalfd(t, args[0].Int(), args[1].Pointer(), args[2].SizeT(), flags)
}

func doSignalfd(t *kernel.Task, fd int32, maskAddr hostarch.Addr, size uint, flags uint32) (uintptr, error) {
	if size != sigsetSize {
		return 0, errno.EINVAL
	}
	mask, err := copyInSigset(t, maskAddr)
	if err != nil {
		return 0, err
	}
	if fd != -1 {
		f := t.GetFile(fd)
		if f == nil {
			return 0, errno.EBADF
		}
		defer f.DecRef()
		sf := kernel.SignalFDFromFile(f)
		if sf == nil {
			return 0, errno.EINVAL
		}
		sf.SetMask(mask)
		return uintptr(fd), nil
	}
	f := t.NewSignalFD(mask, flags&linux.O_NONBLOCK)
	defer f.DecRef()
	nfd, err := t.FDTable().NewFD(0, f, flags&linux.O_CLOEXEC != 0)
	return uintptr(nfd), err
}
