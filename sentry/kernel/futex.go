package kernel

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// futexKey names a futex word, as kernel/futex/core.c:get_futex_key does:
// a private futex (or one in private memory) by address space and address,
// a shared one in MAP_SHARED memory by its memory file offset, which is the
// same in every process that maps it.
type futexKey struct {
	mm     *mm.MemoryManager // nil for shared keys
	addr   hostarch.Addr
	offset uint64
}

// futexWaiter is one blocked FUTEX_WAIT.
type futexWaiter struct {
	bitset uint32
	key    futexKey
	woken  chan struct{}
}

// futexManager holds the kernel's futex wait queues.
type futexManager struct {
	// mu protects queues and every waiter's key.
	mu     sync.Mutex
	queues map[futexKey][]*futexWaiter
}

func (k *Kernel) futexes() *futexManager {
	k.futexOnce.Do(func() { k.futex = &futexManager{queues: map[futexKey][]*futexWaiter{}} })
	return k.futex
}

// futexKeyFor computes the key of the word at addr.
func (t *Task) futexKeyFor(addr hostarch.Addr, private bool) (futexKey, error) {
	if addr%4 != 0 {
		return futexKey{}, errno.EINVAL
	}
	if !private {
		off, shared, err := t.mm.SharedKey(addr)
		if err != nil {
			return futexKey{}, errno.EFAULT
		}
		if shared {
			return futexKey{offset: off}, nil
		}
	}
	return futexKey{mm: t.mm, addr: addr}, nil
}

func (t *Task) loadWord(addr hostarch.Addr) (uint32, error) {
	var b [4]byte
	if _, err := t.CopyInBytes(addr, b[:]); err != nil {
		return 0, errno.EFAULT
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// FutexWait implements FUTEX_WAIT(_BITSET): if the word at addr holds val,
// sleep until woken, the deadline passes (ETIMEDOUT) or a signal arrives
// (ERESTARTSYS).
func (t *Task) FutexWait(addr hostarch.Addr, private bool, val, bitset uint32, deadline time.Time, hasDeadline bool) error {
	key, err := t.futexKeyFor(addr, private)
	if err != nil {
		return err
	}
	fm := t.k.futexes()
	w := &futexWaiter{bitset: bitset, key: key, woken: make(chan struct{})}
	// The value check and the enqueue happen under fm.mu, and wakers take
	// fm.mu, so a wake between them cannot be lost.
	fm.mu.Lock()
	cur, err := t.loadWord(addr)
	if err != nil {
		fm.mu.Unlock()
		return err
	}
	if cur != val {
		fm.mu.Unlock()
		return errno.EAGAIN
	}
	fm.queues[key] = append(fm.queues[key], w)
	fm.mu.Unlock()

	err = t.BlockUntil(w.woken, deadline, hasDeadline)
	if err != nil {
		fm.mu.Lock()
		// The waiter may have been requeued: look under its current key.
		q := fm.queues[w.key]
		for i, o := range q {
			if o == w {
				fm.queues[w.key] = append(q[:i], q[i+1:]...)
				break
			}
		}
		if len(fm.queues[w.key]) == 0 {
			delete(fm.queues, w.key)
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

// wakeLocked wakes up to n waiters on key whose bitset intersects bitset.
//
// Preconditions: fm.mu is held.
func (fm *futexManager) wakeLocked(key futexKey, n int, bitset uint32) int {
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
	return woken
}

// FutexWake implements FUTEX_WAKE(_BITSET): wake up to n waiters whose
// bitset intersects bitset, and return how many were woken.
func (t *Task) FutexWake(addr hostarch.Addr, n int, bitset uint32) (int, error) {
	return t.FutexWakeKey(addr, true, n, bitset)
}

// FutexWakeKey is FutexWake for a private or shared futex.
func (t *Task) FutexWakeKey(addr hostarch.Addr, private bool, n int, bitset uint32) (int, error) {
	key, err := t.futexKeyFor(addr, private)
	if err != nil {
		return 0, err
	}
	fm := t.k.futexes()
	fm.mu.Lock()
	defer fm.mu.Unlock()
	return fm.wakeLocked(key, n, bitset), nil
}

// FutexRequeue implements FUTEX_REQUEUE and, with checkVal, FUTEX_CMP_REQUEUE:
// wake up to nWake waiters on addr and move up to nRequeue of the rest to
// addr2.
func (t *Task) FutexRequeue(addr, addr2 hostarch.Addr, private bool, nWake, nRequeue int, checkVal bool, val uint32) (int, error) {
	key, err := t.futexKeyFor(addr, private)
	if err != nil {
		return 0, err
	}
	key2, err := t.futexKeyFor(addr2, private)
	if err != nil {
		return 0, err
	}
	fm := t.k.futexes()
	fm.mu.Lock()
	defer fm.mu.Unlock()
	if checkVal {
		cur, err := t.loadWord(addr)
		if err != nil {
			return 0, err
		}
		if cur != val {
			return 0, errno.EAGAIN
		}
	}
	woken := fm.wakeLocked(key, nWake, ^uint32(0))
	q := fm.queues[key]
	moved := 0
	for len(q) > 0 && moved < nRequeue {
		w := q[0]
		q = q[1:]
		w.key = key2
		fm.queues[key2] = append(fm.queues[key2], w)
		moved++
	}
	if len(q) == 0 {
		delete(fm.queues, key)
	} else {
		fm.queues[key] = q
	}
	// Both return "the number of waiters that were woken up or requeued"
	// (kernel/futex/requeue.c:futex_requeue counts both).
	return woken + moved, nil
}

// FUTEX_WAKE_OP operations and comparisons from <linux/futex.h>.
const (
	futexOpSet      = 0
	futexOpAdd      = 1
	futexOpOr       = 2
	futexOpAndN     = 3
	futexOpXor      = 4
	futexOpArgShift = 8

	futexOpCmpEq = 0
	futexOpCmpNe = 1
	futexOpCmpLt = 2
	futexOpCmpLe = 3
	futexOpCmpGt = 4
	futexOpCmpGe = 5
)

// FutexWakeOp implements FUTEX_WAKE_OP: atomically apply the encoded
// operation to the word at addr2, wake up to n waiters on addr, and, if the
// old value at addr2 passes the encoded comparison, up to n2 on addr2.
func (t *Task) FutexWakeOp(addr, addr2 hostarch.Addr, private bool, n, n2 int, encoded uint32) (int, error) {
	op := (encoded >> 28) & 0xf
	cmp := (encoded >> 24) & 0xf
	oparg := int32(encoded<<8) >> 20 // sign-extended 12 bits
	cmparg := int32(encoded<<20) >> 20
	if op&futexOpArgShift != 0 {
		if oparg < 0 || oparg > 31 {
			return 0, errno.EINVAL
		}
		oparg = 1 << uint(oparg)
		op &^= futexOpArgShift
	}
	if op > futexOpXor || cmp > futexOpCmpGe {
		return 0, errno.ENOSYS
	}
	key, err := t.futexKeyFor(addr, private)
	if err != nil {
		return 0, err
	}
	key2, err := t.futexKeyFor(addr2, private)
	if err != nil {
		return 0, err
	}
	fm := t.k.futexes()
	fm.mu.Lock()
	defer fm.mu.Unlock()
	old, err := t.mm.AtomicUpdate32(addr2, func(v uint32) uint32 {
		a := uint32(oparg)
		switch op {
		case futexOpSet:
			return a
		case futexOpAdd:
			return v + a
		case futexOpOr:
			return v | a
		case futexOpAndN:
			return v &^ a
		default:
			return v ^ a
		}
	})
	if err != nil {
		return 0, errno.EFAULT
	}
	woken := fm.wakeLocked(key, n, ^uint32(0))
	o, c := int32(old), cmparg
	var pass bool
	switch cmp {
	case futexOpCmpEq:
		pass = o == c
	case futexOpCmpNe:
		pass = o != c
	case futexOpCmpLt:
		pass = o < c
	case futexOpCmpLe:
		pass = o <= c
	case futexOpCmpGt:
		pass = o > c
	default:
		pass = o >= c
	}
	if pass {
		woken += fm.wakeLocked(key2, n2, ^uint32(0))
	}
	return woken, nil
}
