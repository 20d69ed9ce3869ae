package kernel

import (
	"github.com/runsc-lite/runsc-lite/fs/proc"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

// A Task lets procfs find the calling process.
var _ proc.Context = (*Task)(nil)

// ProcSelf implements proc.Context: the process t belongs to, as procfs
// shows it.
func (t *Task) ProcSelf() proc.Process { return procProcess{t} }

// maxProcArgs bounds how much of the argument or environment area
// /proc/[pid]/cmdline and environ copy (fs/exec.c caps the two together at
// a quarter of the stack limit; 4 MiB covers the default 8 MiB stack).
const maxProcArgs = 4 << 20

// procProcess adapts a Task to proc.Process.
type procProcess struct{ t *Task }

func (p procProcess) PID() int32   { return int32(p.t.ThreadGroup().PID()) }
func (p procProcess) PPID() int32  { return int32(p.t.ThreadGroup().PPID()) }
func (p procProcess) Comm() string { return p.t.Name() }

func (p procProcess) ExePath() string { return p.t.ThreadGroup().ExePath() }

func (p procProcess) Cwd() vfs.VirtualDentry { return p.t.FSContext().WorkingDirectory() }

// readArea copies an argument or environment area out of guest memory.
func (p procProcess) readArea(r hostarch.AddrRange) []byte {
	mm := p.t.MemoryManager()
	if mm == nil || r.End <= r.Start {
		return nil
	}
	buf := make([]byte, min(r.Length(), maxProcArgs))
	n, _ := mm.CopyIn(r.Start, buf)
	return buf[:n]
}

func (p procProcess) Cmdline() []byte {
	if mm := p.t.MemoryManager(); mm != nil {
		return p.readArea(mm.ArgvRange())
	}
	return nil
}

func (p procProcess) Environ() []byte {
	if mm := p.t.MemoryManager(); mm != nil {
		return p.readArea(mm.EnvvRange())
	}
	return nil
}

func (p procProcess) Maps() string {
	if mm := p.t.MemoryManager(); mm != nil {
		return mm.Maps()
	}
	return ""
}

func (p procProcess) VirtualSize() uint64 {
	if mm := p.t.MemoryManager(); mm != nil {
		return mm.VirtualSize()
	}
	return 0
}

func (p procProcess) Credentials() *auth.Credentials { return p.t.Credentials() }
func (p procProcess) NumThreads() int                { return p.t.ThreadGroup().NumThreads() }
func (p procProcess) Umask() uint32                  { return p.t.FSContext().Umask() }
func (p procProcess) FDs() []int32                   { return p.t.FDTable().FDs() }
func (p procProcess) FD(fd int32) *vfs.FileDescription {
	return p.t.GetFile(fd)
}
