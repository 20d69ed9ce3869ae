package kernel

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
)

// hostMemTotal is the host's memory size, which the sandbox reports as its
// own (as gVisor does without a memory limit).
var hostMemTotal = sync.OnceValue(func() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 1 << 30
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			if kb, err := strconv.ParseUint(fields[1], 10, 64); err == nil {
				return kb << 10
			}
		}
	}
	return 1 << 30
})

// MemInfo returns the sandbox's total and free memory in bytes: free is
// what the guest has not allocated from the memory file.
func (k *Kernel) MemInfo() (total, free uint64) {
	total = hostMemTotal()
	used := k.MemFile.Allocated()
	if used > total {
		return total, 0
	}
	return total, total - used
}
