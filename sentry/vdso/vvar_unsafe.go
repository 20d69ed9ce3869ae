package vdso

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

// The vvar page is read by guests concurrently with the sentry's writes, so
// every access to it is atomic. SAFETY: page is the sentry's mapping of a
// page-aligned memory file page, live until Close, and every offset used is
// aligned for its size.

func (v *VDSO) u32(off int) *uint32 { return (*uint32)(unsafe.Pointer(&v.page[off])) }
func (v *VDSO) u64(off int) *uint64 { return (*uint64)(unsafe.Pointer(&v.page[off])) }

// load reads the published formula under the sequence count; false if
// none is published.
func (v *VDSO) load() (params, bool) {
	for spins := 0; ; spins++ {
		seq := atomic.LoadUint32(v.u32(vvarSeq))
		if seq&1 != 0 {
			if spins > 100 {
				// The writer was preempted mid-update: let it run.
				runtime.Gosched()
			}
			continue
		}
		flags := atomic.LoadUint32(v.u32(vvarFlags))
		p := params{
			tscBase:  atomic.LoadUint64(v.u64(vvarTSCBase)),
			monoBase: int64(atomic.LoadUint64(v.u64(vvarMonoBase))),
			mult:     atomic.LoadUint64(v.u64(vvarMult)),
			realOff:  int64(atomic.LoadUint64(v.u64(vvarRealOff))),
			bootOff:  int64(atomic.LoadUint64(v.u64(vvarBootOff))),
		}
		if atomic.LoadUint32(v.u32(vvarSeq)) == seq {
			return p, flags&flagTSC != 0
		}
	}
}

// beginWrite makes the sequence count odd: readers retry until endWrite.
// Only update writes, from one goroutine.
func (v *VDSO) beginWrite() { atomic.AddUint32(v.u32(vvarSeq), 1) }

func (v *VDSO) writeParams(p params) {
	atomic.StoreUint64(v.u64(vvarTSCBase), p.tscBase)
	atomic.StoreUint64(v.u64(vvarMonoBase), uint64(p.monoBase))
	atomic.StoreUint64(v.u64(vvarMult), p.mult)
	atomic.StoreUint64(v.u64(vvarRealOff), uint64(p.realOff))
	atomic.StoreUint64(v.u64(vvarBootOff), uint64(p.bootOff))
}

func (v *VDSO) endWrite(flags uint32) {
	atomic.StoreUint32(v.u32(vvarFlags), flags)
	atomic.AddUint32(v.u32(vvarSeq), 1)
}
