package kernel

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// futexKey names a futex word. Private futexes are keyed by address space
// and address. sandbox-divergence: shared futexes use the same key until
// processes can share memory (they arrive with fork), when they will be
// keyed by memory file offset.
type futexKey struct {
	mm   *mm.MemoryManager
	addr hostarch.Addr
}

// futexWaiter is one blocked FUTEX_WAIT.
type futexWaiter struct {
	bitset uint32
	woken  chan struct{}
}

// futexManager holds the kernel's futex wait queues.
type futexManager struct {
	// mu protects queues.
	mu     sync.Mutex
	queues map[futexKey][]*futexWaiter
}

func (k *Kernel) futexes() *futexManager {
	k.futexOnce.Do(func() { k.futex = &futexManager{queues: map[futexKey][]*futexWaiter{}} })
	return k.futex
}

// FutexWait implements FUTEX_WAIT(_BITSET): if the word at addr holds val,
// sleep until woken, the deadline passes (ETIMEDOUT) or a signal arrives
// (ERESTARTSYS).
func (t *Task) FutexWait(addr hostarch.Addr, val, bitset uint32, deadline time.Time, hasDeadline bool) error {
	if addr%4 != 0 {
		return errno.EINVAL
	}
	fm := t.k.futexes()
	key := futexKey{t.mm, addr}
	w := &futexWaiter{bitset: bitset, woken: make(chan struct{})}
	// The value check and the enqueue happen under fm.mu, and wakers take
	// fm.mu, so a wake between them cannot be lost.
	fm.mu.Lock()
	var b [4]byte
	if _, err := t.CopyInBytes(addr, b[:]); err != nil {
		fm.mu.Unlock()
		return errno.EFAULT
	}
	if binary.LittleEndian.Uint32(b[:]) != val {
		fm.mu.Unlock()
		return errno.EAGAIN
	}
	fm.queues[key] = append(fm.queues[key], w)
	fm.mu.Unlock()

	err := t.BlockUntil(w.woken, deadline, hasDeadline)
	if err != nil {
		fm.mu.Lock()
		q := fm.queues[key]
		for i, o := range q {
			if o == w {
				fm.queues[key] = append(q[:i], q[i+1:]...)
				break
			}
		}
		if len(fm.queues[key]) == 0 {
			delete(fm.queues, key)
		}
		fm.mu.Unlock()
		select {
		case <-w.woken:
			return nil // Woken after all: the wake wins.
		default:
		}
	}
	return err
}

// FutexWake implements FUTEX_WAKE(_BITSET): wake up to n waiters whose
// bitset intersects bitset, and return how many were woken.
func (t *Task) FutexWake(addr hostarch.Addr, n int, bitset uint32) (int, error) {
	if addr%4 != 0 {
		return 0, errno.EINVAL
	}
	fm := t.k.futexes()
	key := futexKey{t.mm, addr}
	fm.mu.Lock()
	defer fm.mu.Unlock()
	q := fm.queues[key]
	woken := 0
	keep := q[:0]
	for _, w := range q {
		if woken < n && w.bitset&bitset != 0 {
			close(w.woken)
			woken++
			continue
		}
		keep = append(keep, w)
	}
	if len(keep) == 0 {
		delete(fm.queues, key)
	} else {
		fm.queues[key] = keep
	}
	return woken, nil
}
