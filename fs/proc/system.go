package proc

import (
	"crypto/rand"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// clockTicks is USER_HZ, the unit of /proc/stat's times.
const clockTicks = 100

// hostCPUInfo is the host's /proc/cpuinfo, read once: the CPUs are the
// host's (a guest sees them through CPUID too), and tools size thread
// pools by counting its "processor" lines.
var hostCPUInfo = sync.OnceValue(func() []byte {
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil && len(b) > 0 {
		return b
	}
	var sb strings.Builder
	for i := range runtime.NumCPU() {
		fmt.Fprintf(&sb, "processor\t: %d\nvendor_id\t: unknown\nmodel name\t: unknown\n\n", i)
	}
	return []byte(sb.String())
})

// NumCPU returns the number of processors /proc/cpuinfo lists.
func NumCPU() int {
	n := 0
	for line := range strings.SplitSeq(string(hostCPUInfo()), "\n") {
		if strings.HasPrefix(line, "processor") {
			n++
		}
	}
	return max(n, 1)
}

func cpuinfoText() []byte { return hostCPUInfo() }

func meminfoText(k Kernel) []byte {
	total, free := k.MemInfo()
	kb := func(v uint64) uint64 { return v / 1024 }
	var b strings.Builder
	for _, f := range []struct {
		name string
		v    uint64
	}{
		{"MemTotal", kb(total)}, {"MemFree", kb(free)}, {"MemAvailable", kb(free)}, {"Buffers", 0},
		{"Cached", 0}, {"SwapCached", 0}, {"Active", kb(total - free)}, {"Inactive", 0},
		{"Active(anon)", kb(total - free)}, {"Inactive(anon)", 0}, {"Active(file)", 0}, {"Inactive(file)", 0},
		{"Unevictable", 0}, {"Mlocked", 0}, {"SwapTotal", 0}, {"SwapFree", 0}, {"Dirty", 0}, {"Writeback", 0},
		{"AnonPages", kb(total - free)}, {"Mapped", 0}, {"Shmem", 0}, {"KReclaimable", 0}, {"Slab", 0},
		{"SReclaimable", 0}, {"SUnreclaim", 0}, {"KernelStack", 0}, {"PageTables", 0}, {"CommitLimit", kb(total)},
		{"Committed_AS", kb(total - free)}, {"VmallocTotal", 34359738367}, {"VmallocUsed", 0}, {"VmallocChunk", 0},
	} {
		fmt.Fprintf(&b, "%-16s%8d kB\n", f.name+":", f.v)
	}
	return []byte(b.String())
}

func statGlobalText(k Kernel) []byte {
	n := NumCPU()
	idle := uint64(k.Uptime().Seconds() * clockTicks)
	var b strings.Builder
	fmt.Fprintf(&b, "cpu  0 0 0 %d 0 0 0 0 0 0\n", idle*uint64(n))
	for i := range n {
		fmt.Fprintf(&b, "cpu%d 0 0 0 %d 0 0 0 0 0 0\n", i, idle)
	}
	fmt.Fprintf(&b, "intr 0\nctxt 0\nbtime %d\nprocesses %d\nprocs_running 1\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
		k.BootTime().Unix(), k.LastPID())
	return []byte(b.String())
}

func uptimeText(k Kernel) []byte {
	up := k.Uptime().Seconds()
	return []byte(fmt.Sprintf("%.2f %.2f\n", up, up*float64(NumCPU())))
}

func loadavgText(k Kernel) []byte {
	threads := 0
	for _, p := range k.Processes() {
		threads += p.NumThreads()
	}
	return []byte(fmt.Sprintf("0.00 0.00 0.00 1/%d %d\n", threads, k.LastPID()))
}

func versionText(k Kernel) []byte {
	return []byte(fmt.Sprintf("Linux version %s (runsc-lite@sandbox) (gcc version 12.2.0) #1 SMP PREEMPT_DYNAMIC\n", k.Release()))
}

func filesystemsText() []byte {
	return []byte("nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\tdevpts\nnodev\toverlay\n")
}

// newUUID returns a random version-4 UUID, as /proc/sys/kernel/random/uuid.
func newUUID() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// sysDir builds /proc/sys: the few read-only knobs programs read.
func (fs *Filesystem) sysDir(k Kernel, next func(linux.FileMode) base) vfs.Inode {
	text := func(s func() string) vfs.Inode {
		return &file{base: next(linux.S_IFREG | 0o444), gen: func() []byte { return []byte(s() + "\n") }}
	}
	fixed := func(s string) vfs.Inode { return text(func() string { return s }) }
	dir := func(entries map[string]vfs.Inode) vfs.Inode {
		return &staticDir{base: next(linux.S_IFDIR | 0o555), entries: entries}
	}
	return dir(map[string]vfs.Inode{
		"kernel": dir(map[string]vfs.Inode{
			"hostname":     text(k.Hostname),
			"domainname":   fixed("(none)"),
			"ostype":       fixed("Linux"),
			"osrelease":    text(k.Release),
			"pid_max":      fixed("4194304"),
			"ngroups_max":  fixed("65536"),
			"cap_last_cap": fixed("40"),
			"random": dir(map[string]vfs.Inode{
				"boot_id": fixed(fs.bootID),
				"uuid":    text(newUUID),
			}),
		}),
		"vm": dir(map[string]vfs.Inode{
			"overcommit_memory": fixed("0"),
			"max_map_count":     fixed("65530"),
		}),
		"fs": dir(map[string]vfs.Inode{
			"nr_open":  fixed("1048576"),
			"file-max": fixed("9223372036854775807"),
			// fs/pipe's MaxSize, the limit of F_SETPIPE_SZ.
			"pipe-max-size": fixed("1048576"),
		}),
	})
}
