package loader

import (
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/hostarch"
	"github.com/runsc-lite/runsc-lite/sentry/mm"
)

// fakeVDSO maps pages pages (a data page and the image) and records where.
type fakeVDSO struct {
	pages  uint64
	mapped []hostarch.Addr
}

func (v *fakeVDSO) Size() uint64 { return v.pages * hostarch.PageSize }

func (v *fakeVDSO) Map(mem mm.Mapper, addr hostarch.Addr) (hostarch.Addr, error) {
	v.mapped = append(v.mapped, addr)
	if _, err := mem.MMap(mm.MMapOpts{Length: v.Size(), Addr: addr, Fixed: true, Perms: hostarch.Read, MaxPerms: hostarch.Read, Name: "[vdso]"}); err != nil {
		return 0, err
	}
	return addr + hostarch.PageSize, nil
}

// The vDSO goes just below the interpreter (below the mmap base for a
// static binary), as on Linux, and AT_SYSINFO_EHDR leads the auxv.
func TestLoadVDSO(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{name: "static", flags: []string{"-static"}},
		{name: "pie", flags: []string{"-pie", "-fPIE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := buildProgram(t, tc.name, tc.flags...)
			fs := &testFS{hostFallback: true}
			args := testArgs(fs, bin, []string{tc.name}, nil)
			v := &fakeVDSO{pages: 3}
			args.VDSO = v
			img, mem, err := load(t, fs, args)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(v.mapped) != 1 {
				t.Fatalf("mapped %d times", len(v.mapped))
			}
			at := v.mapped[0]
			r := hostarch.AddrRange{Start: at, End: at + hostarch.Addr(v.Size())}
			s := readInitialStack(t, mem, img.Stack)
			if len(s.auxv) == 0 || s.auxv[0][0] != linux.AT_SYSINFO_EHDR || s.auxv[0][1] != uint64(at)+hostarch.PageSize {
				t.Errorf("auxv starts with %v, want AT_SYSINFO_EHDR = %#x", s.auxv[:1], uint64(at)+hostarch.PageSize)
			}
			lay, _ := newLayout(testMinAddr, testMaxAddr)
			top := lay.mmapTop
			if base := s.aux(t, linux.AT_BASE); base != 0 {
				top = hostarch.Addr(base)
			}
			if r.End != top {
				t.Errorf("vDSO at %v, want it to end at %v", r, top)
			}
			for _, m := range mem.maps {
				if m.opts.Name != "[vdso]" && m.r.Overlaps(r) {
					t.Errorf("vDSO %v overlaps %v", r, m.r)
				}
			}
		})
	}
}
