package kernel

import (
	"encoding/binary"

	"github.com/runsc-lite/runsc-lite/hostarch"
)

// Robust futex constants from <linux/futex.h>.
const (
	futexOwnerDied = 0x40000000
	futexWaiters   = 0x80000000
	futexTIDMask   = 0x3fffffff
	// robustListLimit bounds the walk, as ROBUST_LIST_LIMIT does, so a
	// circular list can't hang the sentry.
	robustListLimit = 2048
)

// walkRobustList marks the futexes on t's robust list as owner-died and
// wakes a waiter of each, as kernel/futex/core.c:exit_robust_list does.
func (t *Task) walkRobustList() {
	head := hostarch.Addr(t.robustList)
	if head == 0 {
		return
	}
	var b [24]byte
	if _, err := t.mm.CopyIn(head, b[:]); err != nil {
		return
	}
	le := binary.LittleEndian
	entry := hostarch.Addr(le.Uint64(b[0:]))
	offset := int64(le.Uint64(b[8:]))
	pending := hostarch.Addr(le.Uint64(b[16:]))
	tid := uint32(t.tid)
	handle := func(e hostarch.Addr) {
		addr := hostarch.Addr(int64(e) + offset)
		var w [4]byte
		if _, err := t.mm.CopyIn(addr, w[:]); err != nil {
			return
		}
		v := le.Uint32(w[:])
		if v&futexTIDMask != tid {
			return
		}
		le.PutUint32(w[:], (v&futexWaiters)|futexOwnerDied)
		if _, err := t.mm.CopyOut(addr, w[:]); err != nil {
			return
		}
		if v&futexWaiters != 0 {
			t.FutexWakeKey(addr, false /* private */, 1, ^uint32(0))
		}
	}
	for i := 0; entry != head && entry != 0 && i < robustListLimit; i++ {
		var nb [8]byte
		if _, err := t.mm.CopyIn(entry, nb[:]); err != nil {
			return
		}
		next := hostarch.Addr(le.Uint64(nb[:]) &^ 1) // Bit 0 flags a PI futex.
		if entry != pending {
			handle(entry)
		}
		entry = next
	}
	if pending != 0 {
		handle(pending)
	}
}
