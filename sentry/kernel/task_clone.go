package kernel

import (
	"encoding/binary"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// clone(2) flags from <linux/sched.h>.
const (
	CSIGNAL              = 0xff
	CLONE_VM             = 0x100
	CLONE_FS             = 0x200
	CLONE_FILES          = 0x400
	CLONE_SIGHAND        = 0x800
	CLONE_PIDFD          = 0x1000
	CLONE_PTRACE         = 0x2000
	CLONE_VFORK          = 0x4000
	CLONE_PARENT         = 0x8000
	CLONE_THREAD         = 0x10000
	CLONE_NEWNS          = 0x20000
	CLONE_SYSVSEM        = 0x40000
	CLONE_SETTLS         = 0x80000
	CLONE_PARENT_SETTID  = 0x100000
	CLONE_CHILD_CLEARTID = 0x200000
	CLONE_DETACHED       = 0x400000
	CLONE_UNTRACED       = 0x800000
	CLONE_CHILD_SETTID   = 0x1000000
	CLONE_NEWCGROUP      = 0x2000000
	CLONE_NEWUTS         = 0x4000000
	CLONE_NEWIPC         = 0x8000000
	CLONE_NEWUSER        = 0x10000000
	CLONE_NEWPID         = 0x20000000
	CLONE_NEWNET         = 0x40000000
	CLONE_IO             = 0x80000000
	CLONE_CLEAR_SIGHAND  = 0x100000000
	CLONE_INTO_CGROUP    = 0x200000000

	cloneNamespaces = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
)

// CloneOptions are clone's and clone3's arguments.
type CloneOptions struct {
	Flags      uint64
	ExitSignal int
	Stack      hostarch.Addr
	ParentTID  hostarch.Addr
	ChildTID   hostarch.Addr
	TLS        uint64
	// PIDFD receives the pidfd with CLONE_PIDFD.
	PIDFD hostarch.Addr
}

// Clone implements clone(2), fork(2) and vfork(2): it creates a thread or
// process running t's code and returns its id.
func (t *Task) Clone(o CloneOptions) (ThreadID, error) {
	f := o.Flags
	// The flag rules of clone(2)'s EINVAL list.
	if f&CLONE_SIGHAND != 0 && f&CLONE_VM == 0 {
		return 0, errno.EINVAL
	}
	if f&CLONE_THREAD != 0 && f&CLONE_SIGHAND == 0 {
		return 0, errno.EINVAL
	}
	if f&CLONE_FS != 0 && f&CLONE_NEWNS != 0 {
		return 0, errno.EINVAL
	}
	if f&CLONE_CLEAR_SIGHAND != 0 && f&CLONE_SIGHAND != 0 {
		return 0, errno.EINVAL
	}
	if f&cloneNamespaces != 0 {
		// sandbox-divergence: namespaces inside the sandbox are not offered.
		return 0, errno.EPERM
	}
	if f&CLONE_INTO_CGROUP != 0 {
		return 0, errno.EINVAL
	}
	// "CLONE_PIDFD ... cannot be used with CLONE_THREAD" (and, for
	// clone(2), not with CLONE_PARENT_SETTID: both use parent_tid; the
	// syscall layer checks that).
	if f&CLONE_PIDFD != 0 && f&CLONE_THREAD != 0 {
		return 0, errno.EINVAL
	}
	if o.ExitSignal < 0 || o.ExitSignal >= linux.NSIG {
		return 0, errno.EINVAL
	}
	k := t.k

	// The address space: shared, or a copy.
	var childMM *mm.MemoryManager
	if f&CLONE_VM != 0 {
		t.mm.IncUsers()
		childMM = t.mm
	} else {
		as, err := k.newAddressSpace()
		if err != nil {
			k.Log.Warn("clone: create address space", "err", err)
			return 0, errno.ENOMEM
		}
		if childMM, err = t.mm.Fork(as); err != nil {
			return 0, errno.ENOMEM
		}
	}

	// The child starts with the parent's registers, FP state included.
	t.pullFP()
	st := t.st
	st.FP = append([]byte(nil), t.st.FP...)
	st.FPValid = len(st.FP) > 0
	st.Regs.Rax = 0
	if o.Stack != 0 {
		st.Regs.Rsp = uint64(o.Stack)
	}
	if f&CLONE_SETTLS != 0 {
		st.Regs.Fs_base = o.TLS
	}

	child := &Task{
		k:           k,
		st:          st,
		pc:          k.Platform.NewContext(),
		mm:          childMM,
		creds:       t.creds,
		keepCaps:    t.keepCaps,
		name:        t.name,
		interruptCh: make(chan struct{}, 1),
		start:       time.Now(),
	}
	if f&CLONE_FILES != 0 {
		t.fdTable.IncUsers()
		child.fdTable = t.fdTable
	} else {
		child.fdTable = t.fdTable.Fork()
	}
	if f&CLONE_FS != 0 {
		child.fsContext = t.fsContext
	} else {
		child.fsContext = t.fsContext.Fork()
	}
	// "A thread created with CLONE_VM without CLONE_VFORK starts with its
	// alternate signal stack cleared" - sigaltstack(2).
	if f&CLONE_VM == 0 || f&CLONE_VFORK != 0 {
		child.altStack = t.altStack
	}
	if f&CLONE_CHILD_CLEARTID != 0 {
		child.clearChildTID = uintptr(o.ChildTID)
	}

	k.mu.Lock()
	if t.tg.exiting {
		k.mu.Unlock()
		childMM.DecUsers()
		child.fdTable.DecUsers()
		return 0, errno.EINTR
	}
	tid := k.allocTIDLocked()
	child.tid = tid
	child.sigMask = t.sigMask
	if f&CLONE_THREAD != 0 {
		child.tg = t.tg
	} else {
		parent := t.tg
		if f&CLONE_PARENT != 0 {
			if parent.parent == nil {
				// init's siblings would have no parent in the sandbox.
				k.mu.Unlock()
				childMM.DecUsers()
				child.fdTable.DecUsers()
				return 0, errno.EINVAL
			}
			parent = parent.parent
		}
		handlers := t.tg.handlers
		if f&CLONE_SIGHAND == 0 {
			handlers = handlers.copy()
		}
		if f&CLONE_CLEAR_SIGHAND != 0 {
			for i := range handlers.actions {
				if handlers.actions[i].Handler != SIG_IGN {
					handlers.actions[i] = SigAction{}
				}
			}
		}
		tg := k.newThreadGroupLocked(tid, parent, handlers, t.tg.limitsCopy())
		tg.exitSignal = o.ExitSignal
		tg.leader = child
		tg.joinPgrpLocked(t.tg.pgrp)
		tg.setExePath(t.tg.ExePath())
		child.tg = tg
	}
	// Seccomp filters are inherited by threads and children alike.
	child.seccomp.Store(t.seccomp.Load())
	child.seccompStrict.Store(t.seccompStrict.Load())
	child.tg.tasks[child] = struct{}{}
	k.tasks[tid] = child
	k.mu.Unlock()

	var tidBytes [4]byte
	binary.LittleEndian.PutUint32(tidBytes[:], uint32(tid))
	if f&CLONE_PARENT_SETTID != 0 {
		t.mm.CopyOut(o.ParentTID, tidBytes[:])
	}
	if f&CLONE_PIDFD != 0 {
		pf := NewPIDFD(child.tg, 0)
		fd, err := t.fdTable.NewFD(0, pf, true)
		pf.DecRef()
		if err == nil {
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], uint32(fd))
			t.mm.CopyOut(o.PIDFD, b[:])
		}
	}
	if f&CLONE_CHILD_SETTID != 0 {
		childMM.CopyOut(o.ChildTID, tidBytes[:])
	}
	var vforkDone chan struct{}
	if f&CLONE_VFORK != 0 {
		vforkDone = make(chan struct{})
		child.vforkDone = vforkDone
	}
	go child.run()
	if vforkDone != nil {
		// "the calling thread is suspended until the child terminates ...
		// or it makes a call to execve(2)" - vfork(2). Only a kill ends the
		// wait early.
		t.blockUnlessKilled(vforkDone)
	}
	return tid, nil
}

// blockUnlessKilled waits for ch, ignoring signals but not a kill of the
// process.
func (t *Task) blockUnlessKilled(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
			return
		case <-t.interruptCh:
			t.k.mu.Lock()
			dying := t.tg.exiting
			t.k.mu.Unlock()
			if dying {
				return
			}
		}
	}
}

func (tg *ThreadGroup) limitsCopy() LimitSet {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.limits
}
