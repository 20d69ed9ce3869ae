// Package kernel is the sentry's kernel: tasks, thread groups, the task run
// loop and syscall dispatch.
//
// Lock order:
//
//	Kernel.mu
//	  ThreadGroup.mu
package kernel

import (
	"github.com/runsc-lite/runsc-lite/sentry/inet"
	"log/slog"
	"sync"
	"time"

	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
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
	// Net is the sandbox's network stack as reporting code sees it
	// (netlink, /proc/net); nil if the sandbox has none. Set before the
	// first task starts.
	Net inet.Stack

	// bootTime is when the sandbox started, for uptime. Immutable.
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

// Uptime returns how long the sandbox has run.
func (k *Kernel) Uptime() time.Duration { return time.Since(k.bootTime) }

// BootTime returns when the sandbox started.
func (k *Kernel) BootTime() time.Time { return k.bootTime }

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
