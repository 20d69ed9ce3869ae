package unix

import (
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// Garbage collection of sockets that only keep each other alive
// (net/unix/garbage.c). A socket whose file was sent with SCM_RIGHTS into
// a receive queue is referenced by that queue. If it sits in its own
// queue, or in the queue of a socket that sits in its queue, closing every
// descriptor leaves them referencing each other forever. The collector
// finds sockets whose every file reference is in flight and which no
// socket with other references can reach, and empties their queues; the
// references then drain and the sockets are released as usual.
//
// It runs when a socket's file loses a reference and the references left
// could all be in flight (RefsDropped), which is rare: only sockets sent
// over sockets count.

// queuesWithRights are the sockets whose receive queues may hold
// SCM_RIGHTS files. Protected by mu.
var queuesWithRights = map[*Socket]struct{}{}

// socketOf returns the AF_UNIX socket f is, or nil.
func socketOf(f *vfs.FileDescription) *Socket {
	s, _ := f.Impl().(*Socket)
	return s
}

// noteQueuedLocked records that rights entered q's receive queue.
//
// Preconditions: mu is held.
func noteQueuedLocked(q *Socket, rights []*vfs.FileDescription) {
	if len(rights) == 0 {
		return
	}
	queuesWithRights[q] = struct{}{}
	for _, f := range rights {
		if t := socketOf(f); t != nil {
			t.inflight.Add(1)
		}
	}
}

// noteDequeued records that rights left a receive queue.
func noteDequeued(rights []*vfs.FileDescription) {
	for _, f := range rights {
		if t := socketOf(f); t != nil {
			t.inflight.Add(-1)
		}
	}
}

// RefsDropped implements vfs.RefsDroppedHook.
func (s *Socket) RefsDropped(remaining int64) {
	if n := s.inflight.Load(); n > 0 && remaining <= n {
		collectGarbage()
	}
}

// collectGarbage releases the references held by the queues of sockets
// nothing else can reach.
func collectGarbage() {
	mu.Lock()
	drop := gcLocked()
	mu.Unlock()
	releaseFiles(drop)
}

// gcLocked empties the queues of unreachable sockets and returns the files
// they held.
//
// Preconditions: mu is held.
func gcLocked() []*vfs.FileDescription {
	// How often each socket is in flight.
	inflight := map[*Socket]int64{}
	for q := range queuesWithRights {
		has := false
		for _, m := range q.rq {
			for _, f := range m.rights {
				has = true
				if t := socketOf(f); t != nil {
					inflight[t]++
				}
			}
		}
		if !has {
			delete(queuesWithRights, q)
		}
	}
	// Candidates: every reference is in flight. (A file held by a
	// descriptor table, or by a syscall in progress, has more.) A
	// connection not yet accepted has no file and is never one.
	cand := map[*Socket]bool{}
	for t, n := range inflight {
		if t.file != nil && t.file.Refs() == n {
			cand[t] = true
		}
	}
	if len(cand) == 0 {
		return nil
	}
	// A candidate also in flight in a non-candidate's queue is reachable,
	// and so is everything in the queues of reachable candidates.
	internal := map[*Socket]int64{}
	for c := range cand {
		forEachRight(c, func(t *Socket) {
			if cand[t] {
				internal[t]++
			}
		})
	}
	live := map[*Socket]bool{}
	var work []*Socket
	for c := range cand {
		if inflight[c] > internal[c] {
			live[c] = true
			work = append(work, c)
		}
	}
	for len(work) > 0 {
		c := work[len(work)-1]
		work = work[:len(work)-1]
		forEachRight(c, func(t *Socket) {
			if cand[t] && !live[t] {
				live[t] = true
				work = append(work, t)
			}
		})
	}
	var drop []*vfs.FileDescription
	for c := range cand {
		if live[c] {
			continue
		}
		for _, m := range c.rq {
			drop = append(drop, m.rights...)
			m.rights = nil
		}
	}
	noteDequeued(drop)
	return drop
}

// forEachRight calls f for each socket in flight in s's receive queue.
func forEachRight(s *Socket, f func(*Socket)) {
	for _, m := range s.rq {
		for _, r := range m.rights {
			if t := socketOf(r); t != nil {
				f(t)
			}
		}
	}
}
