// Package strace prints guest syscalls the way strace(1) does, for
// runsc-lite's --strace:
//
//	[pid 1] openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
//	[pid 1] read(3, "root:x:0:0:root:/root:/bin/bash\n"..., 4096) = 1234
//	[pid 1] openat(AT_FDCWD, "/nope", O_RDONLY) = -1 ENOENT (No such file or directory)
//
// Arguments are decoded from a table of argument kinds per syscall name
// (syscalls.go); syscalls missing from it print six raw hex arguments.
// Arguments that point at memory the syscall fills in (read's buffer) are
// read at exit, the others at entry, because a syscall such as execve
// replaces the memory they point to.
//
// A line is written once the syscall returns, so a blocked syscall shows
// up only when it completes. Syscalls that never return (exit, exit_group)
// are written at entry with "= ?".
package strace

import (
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
)

// Strace writes one line per guest syscall to w. It implements
// kernel.Strace and is safe for concurrent use by many task goroutines.
type Strace struct {
	// infos and names are indexed by syscall number. Immutable.
	infos []*syscallInfo
	names []string

	// mu serializes writes so that lines from different tasks never
	// interleave.
	mu sync.Mutex
	w  io.Writer // protected by mu
}

// New returns a kernel.Strace that writes to w, naming syscalls as table
// does.
func New(w io.Writer, table *kernel.SyscallTable) kernel.Strace {
	s := &Strace{w: w}
	if table != nil {
		s.names = make([]string, len(table.Table))
		s.infos = make([]*syscallInfo, len(table.Table))
		for n, e := range table.Table {
			s.names[n] = e.Name
			if info, ok := syscallInfos[e.Name]; ok {
				s.infos[n] = &info
			}
		}
	}
	return s
}

// call is the cookie passed from Enter to Exit.
type call struct {
	prefix string // "[pid 1] name"
	info   *syscallInfo
	args   []string // formatted at entry; out arguments are filled at exit
	// inLens holds the by-reference lengths the guest passed (see
	// inLen), indexed like args.
	inLens [6]inLen
}

// Enter implements kernel.Strace.Enter.
func (s *Strace) Enter(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) any {
	c := s.enter(taskPrefix(t), taskMemory(t), sysno, args)
	if c.info != nil && c.info.ret == retNoReturn {
		s.writeLine(c.prefix + "(" + strings.Join(c.args, ", ") + ") = ?\n")
	}
	return c
}

// Exit implements kernel.Strace.Exit.
func (s *Strace) Exit(t *kernel.Task, sysno uintptr, args arch.SyscallArguments, cookie any, rv uintptr, err error) {
	c, ok := cookie.(*call)
	if !ok {
		// Exit without a matching Enter (tracing switched on mid-call):
		// decode everything now rather than drop the line.
		c = s.enter(taskPrefix(t), taskMemory(t), sysno, args)
	}
	if c.info != nil && c.info.ret == retNoReturn {
		return // written at entry
	}
	s.writeLine(s.exitLine(c, taskMemory(t), args, rv, err))
}

// enter decodes the arguments known at entry.
func (s *Strace) enter(prefix string, mem memory, sysno uintptr, args arch.SyscallArguments) *call {
	c := &call{prefix: prefix + s.name(sysno)}
	if sysno < uintptr(len(s.infos)) {
		c.info = s.infos[sysno]
	}
	if c.info == nil {
		c.args = make([]string, len(args))
		for n, a := range args {
			c.args[n] = formatHex(a.Value)
		}
		return c
	}
	c.args = make([]string, len(c.info.args))
	for n, spec := range c.info.args {
		if spec.kind.hasInLen() {
			c.inLens[n] = readInLen(mem, spec.kind, args[n].Value)
			c.args[n] = formatInLen(spec, args, args[n].Value, c.inLens[n])
			continue
		}
		c.args[n] = formatArg(mem, spec, args, args[n].Value)
		if spec.kind == argMode && n > 0 && c.info.args[n-1].kind == argOpenFlags &&
			args[n-1].Value&(oCreat|oTmpfile) == 0 {
			// open(2) ignores the mode without O_CREAT or O_TMPFILE, and
			// strace leaves it out; so do we.
			c.args = c.args[:n]
			break
		}
	}
	return c
}

// exitLine completes c with the out arguments and the return value.
func (s *Strace) exitLine(c *call, mem memory, args arch.SyscallArguments, rv uintptr, err error) string {
	ret := retInt
	if c.info != nil {
		ret = c.info.ret
		if err == nil {
			for n, spec := range c.info.args {
				if spec.kind.isOut() {
					c.args[n] = formatOutArg(mem, spec, args, n, rv, &c.inLens)
				}
			}
		}
	}
	return c.prefix + "(" + strings.Join(c.args, ", ") + ") = " + formatReturn(ret, rv, err) + "\n"
}

// name returns the syscall's name, or syscall_N for numbers the table does
// not know, as strace does.
func (s *Strace) name(sysno uintptr) string {
	if sysno < uintptr(len(s.names)) && s.names[sysno] != "" {
		return s.names[sysno]
	}
	return "syscall_" + strconv.FormatUint(uint64(sysno), 10)
}

// writeLine writes one whole line with a single Write, so that concurrent
// tasks' lines never interleave even if w is shared with other writers.
func (s *Strace) writeLine(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A failing log must not fail the guest's syscall; there is no one to
	// report the error to.
	_, _ = io.WriteString(s.w, line)
}

// taskPrefix returns "[pid P] " for a thread group leader and
// "[pid P/T] " for its other threads.
func taskPrefix(t *kernel.Task) string {
	if t == nil {
		return ""
	}
	tid := t.TID()
	pid := tid
	if tg := t.ThreadGroup(); tg != nil {
		pid = tg.PID()
	}
	if pid == tid {
		return "[pid " + strconv.Itoa(int(pid)) + "] "
	}
	return "[pid " + strconv.Itoa(int(pid)) + "/" + strconv.Itoa(int(tid)) + "] "
}

// taskMemory returns t's guest memory accessors.
func taskMemory(t *kernel.Task) memory {
	if t == nil {
		return nil // tests
	}
	return t
}

// *kernel.Task is strace's view of guest memory.
var _ memory = (*kernel.Task)(nil)
