// Package kernel is the sentry's kernel: tasks, thread groups, the task run
// loop and syscall dispatch.
package kernel

import (
	"sync"

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

	// mu protects the fields below.
	mu      sync.Mutex
	nextTID ThreadID
	tasks   map[ThreadID]*Task
}
