package vdso

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/runsc-lite/runsc-lite/sentry/memfile"
)

func TestImage(t *testing.T) {
	if err := checkImage(image); err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		t.Fatal(err)
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			got[s.Name] = s.Version
		}
	}
	// What glibc, musl and Go's runtime look up.
	for _, name := range []string{"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time", "__vdso_getcpu",
		"clock_gettime", "gettimeofday", "time", "getcpu"} {
		if v, ok := got[name]; !ok || v != "LINUX_2.6" {
			t.Errorf("%s: exported %v at version %q, want LINUX_2.6", name, ok, v)
		}
	}
	if len(got) != 8 {
		t.Errorf("exports %v, want only the eight clock and cpu calls", got)
	}
}

// TestImageIsFresh checks that vdso.so was rebuilt (`make vdso`) after its
// source last changed: vdso.so.srchash holds the source's hash at build
// time.
func TestImageIsFresh(t *testing.T) {
	h := sha256.New()
	for _, name := range []string{"src/vdso.c", "src/vdso.lds", "src/vdso.map"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	want, err := os.ReadFile("vdso.so.srchash")
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.TrimSpace(string(want)) {
		t.Errorf("src/ changed since vdso.so was built: run `make vdso` (hash %s, built from %s)", got, want)
	}
}

// The formula: values at tsc.
func TestParamsMono(t *testing.T) {
	p := params{tscBase: 1000, monoBase: 5e9, mult: 1 << 31} // 0.5 ns per cycle
	for _, c := range []struct {
		tsc  uint64
		want int64
	}{
		{1000, 5e9},
		{999, 5e9}, // a TSC behind the base reads as the base
		{3000, 5e9 + 1000},
		{1000 + 1<<40, 5e9 + 1<<39}, // no overflow for long gaps
	} {
		if got := p.mono(c.tsc); got != c.want {
			t.Errorf("mono(%d) = %d, want %d", c.tsc, got, c.want)
		}
	}
}

// nextParams never steps the clock back, starts at the host's time, and
// slews towards the host by the next update.
func TestNextParams(t *testing.T) {
	const nsPerCycle = 1.0 // a 1 GHz TSC
	next := time.Second
	s := sample{tsc: 1e9, mono: 100e9, real: 1700e9, boot: 101e9}

	first := nextParams(params{}, false, s, nsPerCycle, 1e9+500, next)
	if want := int64(100e9 + 500 + firstLead); first.monoBase != want {
		t.Errorf("first publication at %d, want host time plus lead %d", first.monoBase, want)
	}
	if first.realOff != 1600e9 || first.bootOff != 1e9 {
		t.Errorf("offsets %d %d, want 1600e9 1e9", first.realOff, first.bootOff)
	}

	for _, c := range []struct {
		name string
		lag  int64 // how far the host is ahead of the guest clock, ns
	}{
		{"on time", 0},
		{"guest behind", 2e6},
		{"guest ahead", -2e6},
		{"far behind: step", 10 * maxLag},
		{"far ahead: slew at most", -10 * maxLag},
	} {
		t.Run(c.name, func(t *testing.T) {
			old := params{tscBase: 0, monoBase: 0, mult: 1 << 32}
			tsc1 := uint64(50e9)
			s := sample{tsc: tsc1, mono: int64(tsc1) + c.lag}
			p := nextParams(old, true, s, nsPerCycle, tsc1, next)
			if c.lag > maxLag {
				if p.monoBase != s.mono {
					t.Errorf("base %d, want a step to the host's %d", p.monoBase, s.mono)
				}
				return
			}
			if p.monoBase != old.mono(tsc1) {
				t.Errorf("base %d, want continuity at %d", p.monoBase, old.mono(tsc1))
			}
			// By the next update the gap is closed (or closing at the
			// maximum rate).
			end := tsc1 + uint64(next)
			gap := s.mono + int64(next) - p.mono(end)
			want := c.lag - max(-maxLagPerUpdate(next), min(maxLagPerUpdate(next), c.lag))
			if d := gap - want; d < -1000 || d > 1000 {
				t.Errorf("gap after one interval %d ns, want %d", gap, want)
			}
		})
	}
}

func maxLagPerUpdate(next time.Duration) int64 { return int64(maxSlew * float64(next)) }

// A live clock: readings never go back, across updates, and stay near the
// host's.
func TestClockLive(t *testing.T) {
	if !invariantTSC() {
		t.Skip("no invariant TSC on this CPU: the vDSO always traps, nothing to check")
	}
	mf, err := memfile.New(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Release()
	v, err := New(mf)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, ok := v.Now(Monotonic); ok {
		t.Fatal("published before Start")
	}
	v.Start()
	deadline := time.Now().Add(700 * time.Millisecond) // three updates
	var prev int64
	published := false
	const tol = int64(100 * time.Microsecond)
	for time.Now().Before(deadline) {
		h0 := clockNs(1)
		ns, ok := v.Now(Monotonic)
		h1 := clockNs(1)
		if !ok {
			continue
		}
		published = true
		if ns < prev {
			t.Fatalf("clock went back: %d after %d", ns, prev)
		}
		prev = ns
		// Only readings not interrupted by preemption say anything
		// about the distance from the host.
		if h1-h0 < tol && (ns < h0-tol || ns > h1+tol) {
			t.Fatalf("guest clock %d ns outside the host's [%d, %d]", ns, h0, h1)
		}
	}
	if !published {
		t.Fatal("never published")
	}
	r, _ := v.Now(Realtime)
	if d := time.Now().UnixNano() - r; d < -int64(time.Millisecond) || d > int64(time.Millisecond) {
		t.Errorf("realtime %d ns from the host's", d)
	}
}

func BenchmarkNow(b *testing.B) {
	mf, err := memfile.New(1 << 20)
	if err != nil {
		b.Fatal(err)
	}
	defer mf.Release()
	v, err := New(mf)
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	v.update(takeSample(), time.Second)
	for b.Loop() {
		v.Now(Monotonic)
	}
}
