package kernel

import (
	"sync"

	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// FSContext is a task's root directory, working directory and umask.
// Threads created with CLONE_FS share one; it is safe for concurrent use.
type FSContext struct {
	// mu protects the fields below.
	mu    sync.Mutex
	root  vfs.VirtualDentry
	cwd   vfs.VirtualDentry
	umask uint32
}

// NewFSContext returns a context with the given root, cwd and umask.
func NewFSContext(root, cwd vfs.VirtualDentry, umask uint32) *FSContext {
	return &FSContext{root: root, cwd: cwd, umask: umask & 0o777}
}

// RootDirectory returns the root directory.
func (fsc *FSContext) RootDirectory() vfs.VirtualDentry {
	fsc.mu.Lock()
	defer fsc.mu.Unlock()
	return fsc.root
}

// WorkingDirectory returns the working directory.
func (fsc *FSContext) WorkingDirectory() vfs.VirtualDentry {
	fsc.mu.Lock()
	defer fsc.mu.Unlock()
	return fsc.cwd
}

// SetWorkingDirectory changes the working directory (chdir).
func (fsc *FSContext) SetWorkingDirectory(vd vfs.VirtualDentry) {
	fsc.mu.Lock()
	defer fsc.mu.Unlock()
	fsc.cwd = vd
}

// SetRootDirectory changes the root directory (chroot).
func (fsc *FSContext) SetRootDirectory(vd vfs.VirtualDentry) {
	fsc.mu.Lock()
	defer fsc.mu.Unlock()
	fsc.root = vd
}

// Umask returns the file mode creation mask.
func (fsc *FSContext) Umask() uint32 {
	fsc.mu.Lock()
	defer fsc.mu.Unlock()
	return fsc.umask
}

// SwapUmask sets the umask and returns the old one (umask(2)).
func (fsc *FSContext) SwapUmask(mask uint32) uint32 {
	fsc.mu.Lock()
	defer fsc.mu.Unlock()
	old := fsc.umask
	fsc.umask = mask & 0o777
	return old
}

// Fork returns a copy for a child created without CLONE_FS.
func (fsc *FSContext) Fork() *FSContext {
	fsc.mu.Lock()
	defer fsc.mu.Unlock()
	return &FSContext{root: fsc.root, cwd: fsc.cwd, umask: fsc.umask}
}
