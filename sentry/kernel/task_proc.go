package kernel

import (
	"github.com/runsc-lite/runsc-lite/sentry/inet"
	"slices"
	"time"

	"github.com/runsc-lite/runsc-lite/fs/proc"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

// A Task lets procfs find the calling thread and the whole sandbox.
var _ proc.KernelContext = (*Task)(nil)

// ProcSelf implements proc.Context: the thread t, as procfs shows it.
func (t *Task) ProcSelf() proc.Process { return procProcess{tg: t.tg, t: t, tid: t.TID()} }

// ProcKernel implements proc.KernelContext.
func (t *Task) ProcKernel() proc.Kernel { return procKernel{t.k} }

// maxProcArgs bounds how much of the argument or environment area
// /proc/[pid]/cmdline and environ copy (fs/exec.c caps the two together at
// a quarter of the stack limit; 4 MiB covers the default 8 MiB stack).
const maxProcArgs = 4 << 20

// procKernel adapts a Kernel to proc.Kernel.
type procKernel struct{ k *Kernel }

// processOf returns the process view of tg: through its leader, or any
// live thread once the leader has exited, or none for a zombie.
func processOf(tg *ThreadGroup) procProcess {
	p := procProcess{tg: tg, tid: tg.pid}
	if tasks := tg.Tasks(); len(tasks) != 0 {
		p.t = tasks[0]
		if l := tg.Leader(); l != nil && slices.Contains(tasks, l) {
			p.t = l
		}
	}
	return p
}

func (k procKernel) Processes() []proc.Process {
	tgs := k.k.ThreadGroups()
	slices.SortFunc(tgs, func(a, b *ThreadGroup) int { return int(a.pid) - int(b.pid) })
	out := make([]proc.Process, 0, len(tgs))
	for _, tg := range tgs {
		out = append(out, processOf(tg))
	}
	return out
}

func (k procKernel) Process(pid int32) proc.Process {
	if tg := k.k.ThreadGroupByID(ThreadID(pid)); tg != nil {
		return processOf(tg)
	}
	return nil
}

func (k procKernel) Thread(tid int32) proc.Process {
	if t := k.k.TaskByID(ThreadID(tid)); t != nil {
		return procProcess{tg: t.tg, t: t, tid: ThreadID(tid)}
	}
	return nil
}

func (k procKernel) Uptime() time.Duration         { return k.k.Uptime() }
func (k procKernel) BootTime() time.Time           { return k.k.BootTime() }
func (k procKernel) MemInfo() (total, free uint64) { return k.k.MemInfo() }
func (k procKernel) Hostname() string              { return k.k.Hostname }
func (k procKernel) Release() string               { return k.k.Release }
func (k procKernel) NetworkStack() inet.Stack      { return k.k.Net }
func (k procKernel) LastPID() int32                { return int32(k.k.LastPID()) }

// procProcess adapts a thread group, seen through one of its tasks, to
// proc.Process. t is nil for a zombie.
type procProcess struct {
	tg  *ThreadGroup
	t   *Task
	tid ThreadID
}

func (p procProcess) PID() int32  { return int32(p.tg.PID()) }
func (p procProcess) PPID() int32 { return int32(p.tg.PPID()) }
func (p procProcess) TID() int32  { return int32(p.tid) }
func (p procProcess) Comm() string {
	if p.t == nil {
		if l := p.tg.Leader(); l != nil {
			return l.Name()
		}
		return ""
	}
	return p.t.Name()
}

func (p procProcess) ExePath() string { return p.tg.ExePath() }

func (p procProcess) Cwd() vfs.VirtualDentry {
	if p.t == nil || p.t.FSContext() == nil {
		return vfs.VirtualDentry{}
	}
	return p.t.FSContext().WorkingDirectory()
}

func (p procProcess) Root() vfs.VirtualDentry {
	if p.t == nil || p.t.FSContext() == nil {
		return vfs.VirtualDentry{}
	}
	return p.t.FSContext().RootDirectory()
}

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
	if p.t == nil {
		return nil
	}
	if mm := p.t.MemoryManager(); mm != nil {
		return p.readArea(mm.ArgvRange())
	}
	return nil
}

func (p procProcess) Environ() []byte {
	if p.t == nil {
		return nil
	}
	if mm := p.t.MemoryManager(); mm != nil {
		return p.readArea(mm.EnvvRange())
	}
	return nil
}

func (p procProcess) Maps() string {
	if p.t == nil {
		return ""
	}
	if mm := p.t.MemoryManager(); mm != nil {
		return mm.Maps()
	}
	return ""
}

func (p procProcess) VirtualSize() uint64 {
	if p.t == nil {
		return 0
	}
	if mm := p.t.MemoryManager(); mm != nil {
		return mm.VirtualSize()
	}
	return 0
}

func (p procProcess) Credentials() *auth.Credentials {
	if p.t == nil {
		if l := p.tg.Leader(); l != nil {
			return l.Credentials()
		}
		return auth.NewCredentials(0, 0)
	}
	return p.t.Credentials()
}

func (p procProcess) NumThreads() int { return p.tg.NumThreads() }

func (p procProcess) Threads() []proc.Process {
	var out []proc.Process
	for _, t := range p.tg.Tasks() {
		out = append(out, procProcess{tg: p.tg, t: t, tid: t.TID()})
	}
	return out
}

func (p procProcess) Umask() uint32 {
	if p.t == nil || p.t.FSContext() == nil {
		return 0o022
	}
	return p.t.FSContext().Umask()
}

func (p procProcess) FDs() []int32 {
	if p.t == nil || p.t.FDTable() == nil {
		return nil
	}
	return p.t.FDTable().FDs()
}

func (p procProcess) FD(fd int32) *vfs.FileDescription {
	if p.t == nil || p.t.FDTable() == nil {
		return nil
	}
	return p.t.GetFile(fd)
}

func (p procProcess) State() byte { return p.tg.ProcState() }

func (p procProcess) PGID() int32 {
	pg, _ := p.tg.ProcessGroupAndSession()
	return int32(pg)
}

func (p procProcess) SID() int32 {
	_, s := p.tg.ProcessGroupAndSession()
	return int32(s)
}

func (p procProcess) Limit(r int) (cur, max uint64) {
	l := p.tg.Limit(r)
	return l.Cur, l.Max
}
