package kernel

// exitGroup ends every task of t's process with status (exit_group(2) or a
// fatal signal).
func (t *Task) exitGroup(status WaitStatus) {
	tg := t.tg
	tg.mu.Lock()
	if !tg.exiting {
		tg.exiting = true
		tg.status = status
	}
	others := make([]*Task, 0, len(tg.tasks))
	for o := range tg.tasks {
		if o != t {
			others = append(others, o)
		}
	}
	tg.mu.Unlock()
	t.exiting = true
	t.exitStatus = status
	for _, o := range others {
		o.tg.killSignal.CompareAndSwap(0, 9)
		o.Interrupt()
	}
}

// exitThread ends only t (exit(2)).
func (t *Task) exitThread(status WaitStatus) {
	t.exiting = true
	t.exitStatus = status
}

// exit releases the task's resources after its run loop ends. The last
// task of a process releases the process.
func (t *Task) exit() {
	if t.pc != nil {
		t.pc.Release()
	}
	t.mm.DecUsers()
	k, tg := t.k, t.tg
	k.mu.Lock()
	delete(k.tasks, t.tid)
	tg.mu.Lock()
	delete(tg.tasks, t)
	last := len(tg.tasks) == 0
	if last {
		if !tg.exiting {
			// The last thread called exit(2): that is the process's status.
			tg.status = t.exitStatus
		}
		tg.exited = true
		delete(k.threadGroups, tg.pid)
	}
	tg.mu.Unlock()
	k.mu.Unlock()
	if last {
		t.fdTable.RemoveAll()
		close(tg.exitedCh)
	}
}

// Kill ends the process as if by an uncatchable signal signo.
func (tg *ThreadGroup) Kill(signo int) {
	tg.killSignal.CompareAndSwap(0, int32(signo))
	tg.mu.Lock()
	tasks := make([]*Task, 0, len(tg.tasks))
	for t := range tg.tasks {
		tasks = append(tasks, t)
	}
	tg.mu.Unlock()
	for _, t := range tasks {
		t.Interrupt()
	}
}
