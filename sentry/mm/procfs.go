package mm

import (
	"fmt"
	"strings"

	"github.com/runsc-lite/runsc-lite/hostarch"
)

// SetArgvRange records where argv's strings are (for /proc/[pid]/cmdline).
func (mm *MemoryManager) SetArgvRange(r hostarch.AddrRange) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	mm.argv = r
}

// SetEnvvRange records where the environment strings are.
func (mm *MemoryManager) SetEnvvRange(r hostarch.AddrRange) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	mm.envv = r
}

// SetAuxv records the auxiliary vector (for /proc/[pid]/auxv).
func (mm *MemoryManager) SetAuxv(auxv []uint64) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	mm.auxv = append([]uint64(nil), auxv...)
}

// ArgvRange returns the range of the argv strings.
func (mm *MemoryManager) ArgvRange() hostarch.AddrRange {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return mm.argv
}

// EnvvRange returns the range of the environment strings.
func (mm *MemoryManager) EnvvRange() hostarch.AddrRange {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return mm.envv
}

// Auxv returns the auxiliary vector.
func (mm *MemoryManager) Auxv() []uint64 {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	return append([]uint64(nil), mm.auxv...)
}

// VirtualSize returns the total size of all mappings.
func (mm *MemoryManager) VirtualSize() uint64 {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	var n uint64
	for _, v := range mm.vmas {
		n += v.length()
	}
	return n
}

// Maps returns the text of /proc/[pid]/maps, built from the vmas only: the
// stub and the host's view never appear. Adjacent vmas that Linux would
// have merged are shown as one line.
func (mm *MemoryManager) Maps() string {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	var b strings.Builder
	for i := 0; i < len(mm.vmas); i++ {
		v := mm.vmas[i]
		end := v.end
		for i+1 < len(mm.vmas) && mergeable(mm.vmas[i], mm.vmas[i+1]) {
			i++
			end = mm.vmas[i].end
		}
		perm := []byte("---p")
		if v.perms.Read {
			perm[0] = 'r'
		}
		if v.perms.Write {
			perm[1] = 'w'
		}
		if v.perms.Execute {
			perm[2] = 'x'
		}
		if !v.private {
			perm[3] = 's'
		}
		var off, dev, ino uint64
		name := v.name
		if v.file != nil {
			off, dev, ino, name = v.fileOff, v.dev, v.ino, v.path
		}
		line := fmt.Sprintf("%08x-%08x %s %08x %02x:%02x %d ", uint64(v.start), uint64(end), perm, off,
			(dev>>8)&0xfff, dev&0xff|(dev>>12)&0xfff00, ino)
		if name != "" {
			// Linux pads the name to column 73.
			line += strings.Repeat(" ", max(0, 73-len(line))) + name
		}
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// mergeable reports whether Linux would have kept a and b as one vma.
func mergeable(a, b *vma) bool {
	if a.end != b.start || a.perms != b.perms || a.private != b.private || a.name != b.name || a.file != b.file {
		return false
	}
	return a.file == nil || a.fileOff+a.length() == b.fileOff
}
