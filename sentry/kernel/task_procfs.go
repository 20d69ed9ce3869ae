package kernel

import "slices"

// Read-only accessors for procfs (fs/proc via task_proc.go).

// Tasks returns tg's live threads in tid order.
func (tg *ThreadGroup) Tasks() []*Task {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	out := make([]*Task, 0, len(tg.tasks))
	for t := range tg.tasks {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Task) int { return int(a.tid) - int(b.tid) })
	return out
}

// ProcState returns 'Z' for a zombie, 'T' for a stopped process, else 'S'.
func (tg *ThreadGroup) ProcState() byte {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	switch {
	case tg.zombie:
		return 'Z'
	case tg.stopped:
		return 'T'
	}
	for t := range tg.tasks {
		if !t.Blocked() {
			return 'R'
		}
	}
	return 'S'
}

// ProcessGroupAndSession returns tg's process group and session ids (0 if
// it has left its group while exiting).
func (tg *ThreadGroup) ProcessGroupAndSession() (pgid, sid ThreadID) {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	if tg.pgrp == nil {
		return 0, 0
	}
	return tg.pgrp.id, tg.pgrp.session.id
}

// LastPID returns the most recently allocated thread id.
func (k *Kernel) LastPID() ThreadID {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.lastTID
}
