package kernel

import (
	"encoding/binary"
	"os"
	"sync"
)

// hwcap returns the AT_HWCAP value to give guests: the host's own, which the
// host kernel gave the sentry (CPUID leaf 1 EDX on x86-64). Guest code runs
// on the same CPU, so it must see the same features.
var hwcap = sync.OnceValue(func() uint64 {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 0
	}
	const atHWCap = 16
	for i := 0; i+16 <= len(b); i += 16 {
		if binary.LittleEndian.Uint64(b[i:]) == atHWCap {
			return binary.LittleEndian.Uint64(b[i+8:])
		}
	}
	return 0
})
