package vdso

// rdtsc reads the time-stamp counter, ordered after earlier loads.
func rdtsc() uint64

// cpuid executes CPUID with the given leaf and subleaf.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// invariantTSC reports whether the TSC ticks at a constant rate in every
// power state (CPUID 0x80000007 EDX bit 8, Linux's constant_tsc and
// nonstop_tsc), which the vDSO's clock needs.
func invariantTSC() bool {
	if max, _, _, _ := cpuid(0x80000000, 0); max < 0x80000007 {
		return false
	}
	_, _, _, edx := cpuid(0x80000007, 0)
	return edx&(1<<8) != 0
}
