package vdso

import (
	"math"
	"math/bits"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
)

// The vvar page's layout: struct vvar in src/vdso.c.
const (
	vvarSeq      = 0  // uint32: odd while the sentry rewrites the page
	vvarFlags    = 4  // uint32: flagTSC
	vvarTSCBase  = 8  // uint64
	vvarMonoBase = 16 // int64 ns
	vvarMult     = 24 // uint64: ns per TSC cycle, fixed point with 32 fraction bits
	vvarRealOff  = 32 // int64 ns: CLOCK_REALTIME - CLOCK_MONOTONIC
	vvarBootOff  = 40 // int64 ns: CLOCK_BOOTTIME - CLOCK_MONOTONIC

	// flagTSC says the formula is valid; without it the vDSO makes the
	// real syscall.
	flagTSC = 1
)

// params is one version of the formula the vvar page publishes:
// monotonic ns = monoBase + (tsc-tscBase)*mult>>32.
type params struct {
	tscBase          uint64
	monoBase         int64
	mult             uint64
	realOff, bootOff int64
}

// mono evaluates the formula at tsc. Like the vDSO, it takes a TSC reading
// that trails tscBase (another CPU's, a few cycles behind) as tscBase.
func (p *params) mono(tsc uint64) int64 {
	var delta uint64
	if tsc > p.tscBase {
		delta = tsc - p.tscBase
	}
	hi, lo := bits.Mul64(delta, p.mult)
	return p.monoBase + int64(hi<<32|lo>>32)
}

// The update schedule: the formula is first published once the TSC
// frequency is known to some parts per million, then refined on a growing
// baseline, then kept on course once a second.
var updateIntervals = []time.Duration{5 * time.Millisecond, 20 * time.Millisecond, 100 * time.Millisecond, 500 * time.Millisecond, time.Second}

const (
	// firstLead puts the formula's start a microsecond ahead of the host
	// clock, so that no host reading the guest made before (through the
	// sentry) is later than the first vDSO reading.
	firstLead = 1000
	// maxSlew bounds how much faster or slower than the TSC rate the guest
	// clock runs while it catches up with the host: 5%, so an error of
	// 50 ms is gone within a second of updates.
	maxSlew = 0.05
	// maxLag is how far the guest clock may trail the host before it steps
	// forward instead of slewing (after the sentry was starved of CPU for
	// a long time, or the host suspended).
	maxLag = 50 * int64(time.Millisecond)
)

// Clock names the clocks the vDSO serves.
type Clock int

// Clocks the vDSO serves; the COARSE variants read the same values.
const (
	Monotonic Clock = iota
	Realtime
	Boottime
)

// VDSO is one sandbox's vDSO: the vvar page in its memory file, shared by
// every guest mapping, and the goroutine that keeps it current.
type VDSO struct {
	mf   *memfile.MemoryFile
	off  uint64
	page []byte // the sentry's view of the vvar page
	tsc  bool   // the TSC is invariant: the formula may be used

	// refTSC and refMono are the first sample, the baseline from which
	// the TSC frequency is measured. Immutable.
	refTSC  uint64
	refMono int64

	startOnce sync.Once
	stopOnce  sync.Once
	stop      chan struct{}
	done      chan struct{}
}

// New allocates the vvar page in mf. Until Start's first update the page
// says "no fast path" and every call traps, so the vDSO is correct from
// the first instant.
func New(mf *memfile.MemoryFile) (*VDSO, error) {
	off, err := mf.Allocate(hostarch.PageSize)
	if err != nil {
		return nil, err
	}
	v := &VDSO{
		mf:   mf,
		off:  off,
		page: mf.Slice(off, hostarch.PageSize),
		tsc:  invariantTSC(),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	clear(v.page)
	s := takeSample()
	v.refTSC, v.refMono = s.tsc, s.mono
	return v, nil
}

// Start starts keeping the page current; Map calls it. Without an
// invariant TSC there is nothing to keep and the vDSO always traps.
func (v *VDSO) Start() {
	v.startOnce.Do(func() {
		if !v.tsc {
			close(v.done)
			return
		}
		go v.run()
	})
}

// Close stops the updates and frees the page. Guests must be gone.
func (v *VDSO) Close() {
	v.stopOnce.Do(func() {
		v.Start() // so that done is closed either way
		close(v.stop)
		<-v.done
		v.mf.Free(v.off, hostarch.PageSize)
	})
}

func (v *VDSO) run() {
	defer close(v.done)
	for i := 0; ; i++ {
		d := updateIntervals[min(i, len(updateIntervals)-1)]
		t := time.NewTimer(d)
		select {
		case <-v.stop:
			t.Stop()
			return
		case <-t.C:
		}
		v.update(takeSample(), updateIntervals[min(i+1, len(updateIntervals)-1)])
	}
}

// Now returns clock's current guest reading in ns, the same value the
// vDSO computes, or false if the fast path is off (the caller then reads
// the host clock, as the vDSO's fallback syscall does).
func (v *VDSO) Now(c Clock) (int64, bool) {
	p, ok := v.load()
	if !ok {
		return 0, false
	}
	ns := p.mono(rdtsc())
	switch c {
	case Realtime:
		ns += p.realOff
	case Boottime:
		ns += p.bootOff
	}
	return ns, true
}

// update republishes the formula so that it starts where the old one is
// now (the guest clock never steps back) and reaches the host's monotonic
// clock by the next update (next from now).
func (v *VDSO) update(s sample, next time.Duration) {
	if s.mono <= v.refMono || s.tsc <= v.refTSC {
		return
	}
	nsPerCycle := float64(s.mono-v.refMono) / float64(s.tsc-v.refTSC)
	if nsPerCycle <= 0 || math.IsNaN(nsPerCycle) || math.IsInf(nsPerCycle, 0) {
		return
	}
	old, published := v.load()

	v.beginWrite()
	// Readers spin from here on, so every reading taken with the old
	// formula used a TSC value before tsc1, where the new one starts.
	v.writeParams(nextParams(old, published, s, nsPerCycle, rdtsc(), next))
	v.endWrite(flagTSC)
}

// nextParams computes the formula that takes over at tsc1 from old (if
// published) given a host sample s and the measured TSC period.
func nextParams(old params, published bool, s sample, nsPerCycle float64, tsc1 uint64, next time.Duration) params {
	host := s.mono + int64(float64(int64(tsc1-s.tsc))*nsPerCycle)
	var base int64
	slope := nsPerCycle
	if !published {
		base = host + firstLead
	} else {
		base = old.mono(tsc1)
		lag := host - base
		if lag > maxLag {
			base, lag = host, 0
		}
		slope *= 1 + max(-maxSlew, min(maxSlew, float64(lag)/float64(next)))
	}
	return params{
		tscBase:  tsc1,
		monoBase: base,
		mult:     uint64(slope * (1 << 32)),
		realOff:  s.real - s.mono,
		bootOff:  s.boot - s.mono,
	}
}

// sample is the host's clocks at one TSC reading.
type sample struct {
	tsc              uint64
	mono, real, boot int64
}

// takeSample reads the host's monotonic clock between two TSC readings a
// few times and keeps the tightest pair, so that tsc and mono match to a
// fraction of a microsecond even if the sentry is preempted once.
func takeSample() sample {
	var best sample
	bestWidth := uint64(math.MaxUint64)
	for i := 0; i < 5; i++ {
		t0 := rdtsc()
		m := clockNs(unix.CLOCK_MONOTONIC)
		t1 := rdtsc()
		if t1 >= t0 && t1-t0 < bestWidth {
			bestWidth = t1 - t0
			best.tsc, best.mono = t0+(t1-t0)/2, m
		}
	}
	// The other clocks only need their offset from monotonic.
	m0 := clockNs(unix.CLOCK_MONOTONIC)
	r := clockNs(unix.CLOCK_REALTIME)
	b := clockNs(unix.CLOCK_BOOTTIME)
	m1 := clockNs(unix.CLOCK_MONOTONIC)
	mid := m0 + (m1-m0)/2
	best.real = best.mono + (r - mid)
	best.boot = best.mono + (b - mid)
	return best
}

func clockNs(id int32) int64 {
	var ts unix.Timespec
	unix.ClockGettime(id, &ts)
	return ts.Nano()
}
