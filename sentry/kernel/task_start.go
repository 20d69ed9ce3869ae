package kernel

import (
	"crypto/rand"
	"fmt"
	"time"

	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/arch"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
	"github.com/runsc-lite/runsc-lite/sentry/loader"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// CreateProcessArgs are the arguments of CreateProcess.
type CreateProcessArgs struct {
	// Filename is the guest path of the executable; Argv and Envv are its
	// arguments and environment.
	Filename   string
	Argv, Envv []string
	// Root and WorkingDirectory are the process's root and cwd.
	Root, WorkingDirectory vfs.VirtualDentry
	// Credentials are the process's identity.
	Credentials *auth.Credentials
	// Umask is the file mode creation mask.
	Umask uint32
	// FDTable holds the process's initial files (stdio); the process takes
	// ownership.
	FDTable *FDTable
}

// CreateProcess creates and loads a new process (the sandbox's init when
// it is the first). It does not start it: call Start on the result.
func (k *Kernel) CreateProcess(args CreateProcessArgs) (*ThreadGroup, error) {
	k.mu.Lock()
	tid := k.allocTIDLocked()
	tg := k.newThreadGroupLocked(tid, nil, &SignalHandlers{}, defaultLimits())
	tg.newSessionLocked()
	t := &Task{
		k:           k,
		tg:          tg,
		tid:         tid,
		fdTable:     args.FDTable,
		fsContext:   NewFSContext(args.Root, args.WorkingDirectory, args.Umask),
		creds:       args.Credentials,
		interruptCh: make(chan struct{}, 1),
		pc:          k.Platform.NewContext(),
		start:       time.Now(),
	}
	tg.leader = t
	tg.tasks[t] = struct{}{}
	k.tasks[tid] = t
	k.mu.Unlock()

	as, err := k.newAddressSpace()
	if err != nil {
		k.forget(t)
		return nil, fmt.Errorf("create address space: %w", err)
	}
	t.mm = mm.New(k.MemFile, as, k.Platform)
	if err := t.load(args.Filename, args.Argv, args.Envv); err != nil {
		t.mm.DecUsers()
		k.forget(t)
		return nil, err
	}
	return tg, nil
}

// forget removes a task that never ran.
func (k *Kernel) forget(t *Task) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.tasks, t.tid)
	t.tg.leavePgrpLocked()
	delete(k.threadGroups, t.tg.pid)
	if k.lastTID == t.tid {
		// Give the id back, so that a command found on the second PATH entry
		// still runs as pid 1.
		k.lastTID--
	}
}

// load loads an executable into t's (empty) address space and sets up
// its registers.
func (t *Task) load(filename string, argv, envv []string) error {
	c := t.creds
	args := loader.LoadArgs{
		Path: filename,
		Argv: argv,
		Envv: envv,
		Open: func(p string) (loader.File, error) {
			f, err := t.OpenExecutable(p)
			if err != nil {
				return nil, err
			}
			return f, nil
		},
		Random:   rand.Reader,
		UID:      uint32(c.RealKUID),
		EUID:     uint32(c.EffectiveKUID),
		GID:      uint32(c.RealKGID),
		EGID:     uint32(c.EffectiveKGID),
		MinAddr:  t.k.Platform.MinUserAddress(),
		MaxAddr:  t.k.Platform.MaxUserAddress(),
		HWCap:    hwcap(),
		Platform: "x86_64",
	}
	if t.k.VDSO != nil {
		// A nil *vdso.VDSO in the interface would not read as "none".
		args.VDSO = t.k.VDSO
	}
	img, err := loader.Load(t.mm, args)
	if err != nil {
		return err
	}
	defer img.Executable.DecRef()
	t.st = arch.NewState(img.Entry, img.Stack)
	t.SetName(img.Name)
	t.tg.setExePath(img.ExecPath)
	return nil
}

// Start runs the process's task goroutine.
func (tg *ThreadGroup) Start() {
	t := tg.Leader()
	go t.run()
}
