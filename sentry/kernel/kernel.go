// Package kernel is the sentry's kernel: tasks, thread groups, the task run
// loop and syscall dispatch.
//
// Lock order:
//
//	Kernel.mu
//	  ThreadGroup.mu
package kernel

import (
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/inet"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/sentry/vdso"
)

// Kernel is one sandbox.
type Kernel struct {
	// Platform runs guest code. Immutable.
	Platform platform.Platform
	// MemFile is the sandbox's memory file. Immutable.
	MemFile *memfile.MemoryFile
	// Syscalls is the syscall table. Immutable.
	Syscalls *SyscallTable
	// Log receives the sentry's diagnostics (never guest data at Info or
	// above). Immutable.
	Log *slog.Logger
	// Hostname is the sandbox's hostname (uname nodename). Immutable for
	// now: sethostname is refused.
	Hostname string
	// Release is the Linux release uname reports. Immutable.
	Release string
	// SyscallPatching lets the kernel rewrite hot syscall sites on
	// platforms that support it (sentry/mm/usertrap.go). Set before the
	// first task starts.
	SyscallPatching bool
	// VDSO is mapped into every process and keeps the guest clock; nil
	// gives processes no vDSO. Set before the first task starts.
	VDSO *vdso.VDSO
	// Net is the sandbox's network stack as reporting code sees it
	// (netlink, /proc/net); nil if the sandbox has none. Set before the
	// first task starts.
	Net inet.Stack

	// bootTime is when the sandbox started: the uptime base if the host's
	// boot clock can't be read. Immutable.
	bootTime time.Time

	// unimplemented records the syscalls already logged as unimplemented,
	// so each is logged once.
	unimplemented sync.Map

	// pool keeps started address spaces ready, made on first use.
	poolOnce sync.Once
	pool     *asPool

	// futex holds futex wait queues, made on first use.
	futexOnce sync.Once
	futex     *futexManager

	// mu protects the fields below.
	mu sync.Mutex
	// lastTID is the last thread id allocated.
	lastTID ThreadID
	// tasks are the live tasks by tid.
	tasks map[ThreadID]*Task
	// threadGroups are the processes (zombies included) by pid.
	threadGroups map[ThreadID]*ThreadGroup
	// pgrps are the process groups by id.
	pgrps map[ThreadID]*ProcessGroup
}

// DefaultRelease is the Linux release the sandbox reports: a long-term
// kernel new enough for current glibc and Go.
const DefaultRelease = "6.1.0"

// New returns a kernel over the given platform and memory file.
func New(p platform.Platform, mf *memfile.MemoryFile, table *SyscallTable, log *slog.Logger, hostname string) *Kernel {
	return &Kernel{
		Platform:     p,
		MemFile:      mf,
		Syscalls:     table,
		Log:          log,
		Hostname:     hostname,
		Release:      DefaultRelease,
		bootTime:     time.Now(),
		tasks:        make(map[ThreadID]*Task),
		threadGroups: make(map[ThreadID]*ThreadGroup),
		pgrps:        make(map[ThreadID]*ProcessGroup),
	}
}

// Uptime returns the time since boot: CLOCK_BOOTTIME as the guest reads it
// (through the vDSO or clock_gettime), as /proc/uptime is on Linux, so that
// the two agree. It is the host's boot time, which CLOCK_BOOTTIME shows the
// guest anyway.
func (k *Kernel) Uptime() time.Duration {
	if k.VDSO != nil {
		if ns, ok := k.VDSO.Now(vdso.Boottime); ok {
			return time.Duration(ns)
		}
	}
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		return time.Since(k.bootTime)
	}
	return time.Duration(ts.Nano())
}

// BootTime returns the wall-clock time of boot (/proc/stat's btime).
func (k *Kernel) BootTime() time.Time { return time.Now().Add(-k.Uptime()) }

// ThreadGroupByID returns the process with id pid, or nil.
func (k *Kernel) ThreadGroupByID(pid ThreadID) *ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.threadGroups[pid]
}

// TaskByID returns the task with id tid, or nil.
func (k *Kernel) TaskByID(tid ThreadID) *Task {
	k.mu.Lock()
	defer k.mu.Unlock()
	t := k.tasks[tid]
	if t == nil || t.exited {
		return nil
	}
	return t
}

// ThreadGroups returns the live (not yet reaped) processes.
func (k *Kernel) ThreadGroups() []*ThreadGroup {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]*ThreadGroup, 0, len(k.threadGroups))
	for _, tg := range k.threadGroups {
		out = append(out, tg)
	}
	return out
}

// NumProcesses returns the number of live processes.
func (k *Kernel) NumProcesses() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.threadGroups)
}

// allocTIDLocked returns a free thread id. The first is 1: the sandbox's
// init.
func (k *Kernel) allocTIDLocked() ThreadID {
	for {
		k.lastTID++
		if k.lastTID <= 0 || k.lastTID > maxPID {
			k.lastTID = 1
		}
		// An id is free if no task, process or process group uses it.
		_, t := k.tasks[k.lastTID]
		_, tg := k.threadGroups[k.lastTID]
		_, pg := k.pgrps[k.lastTID]
		if !t && !tg && !pg {
			return k.lastTID
		}
	}
}

// maxPID is the default /proc/sys/kernel/pid_max.
const maxPID = 4194304
