package proc

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// pidDir is /proc/[pid] or /proc/[pid]/task/[tid].
type pidDir struct {
	roDir
	base
	p Process
	// entries are the directory's children, by name.
	entries map[string]vfs.Inode
}

var _ vfs.DirInode = (*pidDir)(nil)

// newPIDDir builds the directory of process p, or of thread p if thread
// is set (which has no task/ of its own).
func newPIDDir(k Kernel, p Process, thread bool) *pidDir {
	creds := p.Credentials()
	id := p.PID()
	if thread {
		id = p.TID()
	}
	d := &pidDir{base: base{ino: pidIno(id, 0), mode: linux.S_IFDIR | 0o555, owner: creds}, p: p}
	slot := uint64(0)
	next := func(mode linux.FileMode) base {
		slot++
		return base{ino: pidIno(id, slot), mode: mode, owner: creds}
	}
	text := func(gen func() []byte) vfs.Inode { return &file{base: next(linux.S_IFREG | 0o444), gen: gen} }
	mounts := func(info bool) func() []byte {
		return func() []byte {
			root := p.Root()
			if !root.Ok() {
				return nil
			}
			return mountsText(root.Mount.VFS().Mounts(root), info)
		}
	}
	d.entries = map[string]vfs.Inode{
		"cmdline":   text(p.Cmdline),
		"environ":   &file{base: next(linux.S_IFREG | 0o400), gen: p.Environ},
		"comm":      text(func() []byte { return []byte(p.Comm() + "\n") }),
		"maps":      text(func() []byte { return []byte(p.Maps()) }),
		"smaps":     text(func() []byte { return smapsText(p.Maps()) }),
		"stat":      text(func() []byte { return statText(k, p, thread) }),
		"statm":     text(func() []byte { return statmText(p) }),
		"status":    text(func() []byte { return statusText(p, thread) }),
		"limits":    text(func() []byte { return limitsText(p) }),
		"cgroup":    text(func() []byte { return []byte("0::/\n") }),
		"mounts":    text(mounts(false)),
		"mountinfo": text(mounts(true)),
		"io":        &file{base: next(linux.S_IFREG | 0o400), gen: ioText},
		"oom_score": text(func() []byte { return []byte("0\n") }),
		"oom_score_adj": &file{base: next(linux.S_IFREG | 0o644), gen: func() []byte { return []byte("0\n") },
			// Accepted and forgotten: the sandbox has no OOM killer of
			// its own.
			write: func(vfs.Context, []byte) error { return nil }},
		"loginuid": text(func() []byte { return []byte("4294967295") }),
		"exe": &symlink{base: next(linux.S_IFLNK | 0o777), target: func() (string, error) {
			if e := p.ExePath(); e != "" {
				return e, nil
			}
			return "", errno.ENOENT
		}},
		"cwd":    dirLink(next(linux.S_IFLNK|0o777), p.Cwd),
		"root":   dirLink(next(linux.S_IFLNK|0o777), p.Root),
		"fd":     &fdDir{base: next(linux.S_IFDIR | 0o500), p: p},
		"fdinfo": &fdDir{base: next(linux.S_IFDIR | 0o500), p: p, info: true},
	}
	if !thread {
		d.entries["task"] = &taskDir{base: next(linux.S_IFDIR | 0o555), k: k, p: p}
	}
	d.entries["net"] = newNetDir(k, next)
	return d
}

// dirLink is a magic link to a directory (cwd, root). Resolution follows
// it without reading it: Readlink takes the VFS lock that resolution holds.
func dirLink(b base, get func() vfs.VirtualDentry) *symlink {
	return &symlink{base: b,
		target: func() (string, error) {
			vd := get()
			if !vd.Ok() {
				return "", errno.ENOENT
			}
			return vd.Mount.VFS().PathName(vd), nil
		},
		magic: func() (vfs.VirtualDentry, bool) { vd := get(); return vd, vd.Ok() },
	}
}

// Open implements vfs.Inode.Open.
func (d *pidDir) Open(vfs.Context, uint32) (vfs.FileDescriptionImpl, error) { return nil, errno.EISDIR }

// Lookup implements vfs.DirInode.Lookup.
func (d *pidDir) Lookup(_ vfs.Context, name string) (vfs.Inode, error) {
	if in, ok := d.entries[name]; ok {
		return in, nil
	}
	return nil, errno.ENOENT
}

// Readdir implements vfs.DirInode.Readdir.
func (d *pidDir) Readdir(ctx vfs.Context) ([]vfs.Dirent, error) {
	return direntsOf(ctx, d.entries), nil
}

// taskDir is /proc/[pid]/task.
type taskDir struct {
	roDir
	base
	k Kernel
	p Process
}

// Open implements vfs.Inode.Open.
func (d *taskDir) Open(vfs.Context, uint32) (vfs.FileDescriptionImpl, error) {
	return nil, errno.EISDIR
}

// Lookup implements vfs.DirInode.Lookup.
func (d *taskDir) Lookup(_ vfs.Context, name string) (vfs.Inode, error) {
	for _, th := range d.p.Threads() {
		if strconv.Itoa(int(th.TID())) == name {
			return newPIDDir(d.k, th, true), nil
		}
	}
	return nil, errno.ENOENT
}

// Readdir implements vfs.DirInode.Readdir.
func (d *taskDir) Readdir(vfs.Context) ([]vfs.Dirent, error) {
	var ents []vfs.Dirent
	for _, th := range d.p.Threads() {
		ents = append(ents, vfs.Dirent{Name: strconv.Itoa(int(th.TID())), Ino: pidIno(th.TID(), 0), Type: linux.DT_DIR})
	}
	return ents, nil
}

// fdDir is /proc/[pid]/fd or, with info, /proc/[pid]/fdinfo.
type fdDir struct {
	roDir
	base
	p    Process
	info bool
}

// Open implements vfs.Inode.Open.
func (d *fdDir) Open(vfs.Context, uint32) (vfs.FileDescriptionImpl, error) { return nil, errno.EISDIR }

// Lookup implements vfs.DirInode.Lookup.
func (d *fdDir) Lookup(_ vfs.Context, name string) (vfs.Inode, error) {
	n, err := strconv.ParseInt(name, 10, 32)
	// Only canonical numbers name fds ("01" does not).
	if err != nil || n < 0 || strconv.Itoa(int(n)) != name {
		return nil, errno.ENOENT
	}
	fd := int32(n)
	f := d.p.FD(fd)
	if f == nil {
		return nil, errno.ENOENT
	}
	f.DecRef()
	if d.info {
		return d.infoFile(fd), nil
	}
	return d.link(fd), nil
}

func (d *fdDir) ino(fd int32) uint64 {
	slot := uint64(1)<<16 + uint64(fd)
	if d.info {
		slot += 1 << 24
	}
	return pidIno(d.p.TID(), slot)
}

func (d *fdDir) infoFile(fd int32) *file {
	p := d.p
	return &file{base: base{ino: d.ino(fd), mode: linux.S_IFREG | 0o400, owner: d.owner}, gen: func() []byte {
		f := p.FD(fd)
		if f == nil {
			return nil
		}
		defer f.DecRef()
		var b strings.Builder
		fmt.Fprintf(&b, "pos:\t%d\nflags:\t0%o\n", f.Offset(), f.StatusFlags())
		if vd := f.VirtualDentry(); vd.Ok() {
			st, _ := f.Stat(vfs.RootContext())
			fmt.Fprintf(&b, "mnt_id:\t%d\nino:\t%d\n", vd.Mount.ID(), st.Ino)
		} else {
			fmt.Fprintf(&b, "mnt_id:\t0\nino:\t0\n")
		}
		return []byte(b.String())
	}}
}

func (d *fdDir) link(fd int32) *symlink {
	p := d.p
	return &symlink{
		base: base{ino: d.ino(fd), mode: linux.S_IFLNK | 0o700, owner: d.owner},
		target: func() (string, error) {
			f := p.FD(fd)
			if f == nil {
				return "", errno.ENOENT
			}
			defer f.DecRef()
			return f.PathName(), nil
		},
		magic: func() (vfs.VirtualDentry, bool) {
			f := p.FD(fd)
			if f == nil {
				return vfs.VirtualDentry{}, false
			}
			defer f.DecRef()
			vd := f.VirtualDentry()
			return vd, vd.Ok()
		},
	}
}

// Readdir implements vfs.DirInode.Readdir.
func (d *fdDir) Readdir(vfs.Context) ([]vfs.Dirent, error) {
	fds := d.p.FDs()
	ents := make([]vfs.Dirent, 0, len(fds))
	typ := uint8(linux.DT_LNK)
	if d.info {
		typ = linux.DT_REG
	}
	for _, fd := range fds {
		ents = append(ents, vfs.Dirent{Name: strconv.Itoa(int(fd)), Ino: d.ino(fd), Type: typ})
	}
	return ents, nil
}

// state returns the one-letter state of p as the caller sees it: the
// caller's own thread is running.
func state(p Process, running bool) byte {
	if s := p.State(); s != 'S' {
		return s
	}
	if running {
		return 'R'
	}
	return 'S'
}

var stateNames = map[byte]string{'R': "R (running)", 'S': "S (sleeping)", 'T': "T (stopped)", 'Z': "Z (zombie)"}

// statText formats /proc/[pid]/stat (fs/proc/array.c:do_task_stat). Fields
// the sentry does not track (times, faults) are zero.
func statText(k Kernel, p Process, thread bool) []byte {
	id := p.PID()
	if thread {
		id = p.TID()
	}
	vsize := p.VirtualSize()
	// Fields 4..52.
	f := []any{
		p.PPID(), p.PGID(), p.SID(), // ppid pgrp session
		0, -1, 0x400000, // tty_nr tpgid flags (PF_FORKNOEXEC's neighbour PF_RANDOMIZE)
		0, 0, 0, 0, // minflt cminflt majflt cmajflt
		0, 0, 0, 0, // utime stime cutime cstime
		20, 0, p.NumThreads(), 0, // priority nice num_threads itrealvalue
		0, vsize, 0, uint64(1<<64 - 1), // starttime vsize rss rsslim
		0, 0, 0, 0, 0, // startcode endcode startstack kstkesp kstkeip
		0, 0, 0, 0, // signal blocked sigignore sigcatch
		0, 0, 0, // wchan nswap cnswap
		17, 0, 0, 0, 0, 0, // exit_signal processor rt_priority policy delayacct_blkio_ticks guest_time
		0, 0, 0, 0, 0, 0, 0, 0, // cguest_time start_data end_data start_brk arg_start arg_end env_start env_end
		0, // exit_code
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d (%s) %c", id, p.Comm(), state(p, false))
	for _, v := range f {
		fmt.Fprintf(&b, " %v", v)
	}
	b.WriteByte('\n')
	return []byte(b.String())
}

// statmText formats /proc/[pid]/statm: sizes in pages.
func statmText(p Process) []byte {
	return []byte(fmt.Sprintf("%d 0 0 0 0 0 0\n", p.VirtualSize()/4096))
}

// fdSize is the fd table capacity shown as FDSize: Linux grows the table
// in powers of two from 64 (fs/file.c:expand_fdtable).
func fdSize(fds []int32) int {
	n := 64
	if len(fds) > 0 {
		if m := 1 << bits.Len32(uint32(fds[len(fds)-1])); m > n {
			n = m
		}
	}
	return n
}

// statusText formats /proc/[pid]/status (fs/proc/array.c:proc_pid_status).
func statusText(p Process, thread bool) []byte {
	c := p.Credentials()
	pid := p.PID()
	if thread {
		pid = p.TID()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Name:\t%s\n", p.Comm())
	fmt.Fprintf(&b, "Umask:\t%04o\n", p.Umask())
	fmt.Fprintf(&b, "State:\t%s\n", stateNames[state(p, false)])
	fmt.Fprintf(&b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", p.PID(), pid, p.PPID())
	fmt.Fprintf(&b, "Uid:\t%d\t%d\t%d\t%d\n", c.RealKUID, c.EffectiveKUID, c.SavedKUID, c.FSKUID)
	fmt.Fprintf(&b, "Gid:\t%d\t%d\t%d\t%d\n", c.RealKGID, c.EffectiveKGID, c.SavedKGID, c.FSKGID)
	fmt.Fprintf(&b, "FDSize:\t%d\n", fdSize(p.FDs()))
	b.WriteString("Groups:\t")
	for i, g := range c.ExtraKGIDs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d", g)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\n", p.PID(), pid, p.PGID(), p.SID())
	kb := p.VirtualSize() / 1024
	fmt.Fprintf(&b, "VmPeak:\t%8d kB\nVmSize:\t%8d kB\nVmRSS:\t%8d kB\n", kb, kb, 0)
	fmt.Fprintf(&b, "Threads:\t%d\n", p.NumThreads())
	fmt.Fprintf(&b, "SigQ:\t0/63448\nSigPnd:\t%016x\nShdPnd:\t%016x\nSigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\n", 0, 0, 0, 0, 0)
	fmt.Fprintf(&b, "CapInh:\t%016x\nCapPrm:\t%016x\nCapEff:\t%016x\nCapBnd:\t%016x\nCapAmb:\t%016x\n",
		c.InheritableCaps, c.PermittedCaps, c.EffectiveCaps, c.BoundingCaps, 0)
	fmt.Fprintf(&b, "NoNewPrivs:\t0\nSeccomp:\t0\n")
	fmt.Fprintf(&b, "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n")
	return []byte(b.String())
}

// smapsText derives /proc/[pid]/smaps from the maps lines: the sentry
// does not track residency, so only the sizes are real.
func smapsText(maps string) []byte {
	var b strings.Builder
	for line := range strings.SplitSeq(maps, "\n") {
		if line == "" {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
		var start, end uint64
		rng, _, _ := strings.Cut(line, " ")
		if s, e, ok := strings.Cut(rng, "-"); ok {
			start, _ = strconv.ParseUint(s, 16, 64)
			end, _ = strconv.ParseUint(e, 16, 64)
		}
		kb := uint64(0)
		if end > start {
			kb = (end - start) / 1024
		}
		fmt.Fprintf(&b, "Size:           %8d kB\nKernelPageSize:        4 kB\nMMUPageSize:           4 kB\n", kb)
		for _, f := range []string{"Rss", "Pss", "Pss_Dirty", "Shared_Clean", "Shared_Dirty", "Private_Clean",
			"Private_Dirty", "Referenced", "Anonymous", "KSM", "LazyFree", "AnonHugePages", "ShmemPmdMapped",
			"FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked"} {
			fmt.Fprintf(&b, "%-16s%8d kB\n", f+":", 0)
		}
		b.WriteString("THPeligible:           0\nVmFlags: rd mr mw me\n")
	}
	return []byte(b.String())
}

// limitNames are the rows of /proc/[pid]/limits (fs/proc/base.c:lnames).
var limitNames = []struct{ name, unit string }{
	{"Max cpu time", "seconds"}, {"Max file size", "bytes"}, {"Max data size", "bytes"},
	{"Max stack size", "bytes"}, {"Max core file size", "bytes"}, {"Max resident set", "bytes"},
	{"Max processes", "processes"}, {"Max open files", "files"}, {"Max locked memory", "bytes"},
	{"Max address space", "bytes"}, {"Max file locks", "locks"}, {"Max pending signals", "signals"},
	{"Max msgqueue size", "bytes"}, {"Max nice priority", ""}, {"Max realtime priority", ""},
	{"Max realtime timeout", "us"},
}

// limitsText formats /proc/[pid]/limits (fs/proc/base.c:proc_pid_limits).
func limitsText(p Process) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units")
	val := func(v uint64) string {
		if v == ^uint64(0) {
			return "unlimited"
		}
		return strconv.FormatUint(v, 10)
	}
	for r, l := range limitNames {
		cur, max := p.Limit(r)
		if l.unit != "" {
			fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", l.name, val(cur), val(max), l.unit)
		} else {
			fmt.Fprintf(&b, "%-25s %-20s %-20s\n", l.name, val(cur), val(max))
		}
	}
	return []byte(b.String())
}

func ioText() []byte {
	return []byte("rchar: 0\nwchar: 0\nsyscr: 0\nsyscw: 0\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n")
}

// mountsText formats /proc/[pid]/mounts or, with info, mountinfo
// (fs/proc_namespace.c:show_vfsmnt and show_mountinfo).
func mountsText(ms []vfs.MountInfo, info bool) []byte {
	var b strings.Builder
	for _, m := range ms {
		opts := "rw"
		if m.ReadOnly {
			opts = "ro"
		}
		super := opts
		// Per-mount flags, in show_mnt_opts's order.
		for _, f := range []struct {
			on   bool
			name string
		}{{m.NoSuid, ",nosuid"}, {m.NoDev, ",nodev"}, {m.NoExec, ",noexec"}} {
			if f.on {
				opts += f.name
			}
		}
		if m.Data != "" {
			super += "," + m.Data
		}
		if info {
			fmt.Fprintf(&b, "%d %d %d:%d %s %s %s,relatime - %s %s %s\n", m.ID, m.ParentID, m.DevMajor, m.DevMinor,
				escapeMount(m.Root), escapeMount(m.MountPoint), opts, m.FSType, escapeMount(m.Source), super)
		} else {
			all := opts + ",relatime"
			if m.Data != "" {
				all += "," + m.Data
			}
			fmt.Fprintf(&b, "%s %s %s %s 0 0\n", escapeMount(m.Source), escapeMount(m.MountPoint), m.FSType, all)
		}
	}
	return []byte(b.String())
}

// escapeMount escapes space, tab, newline and backslash as octal, as
// fs/proc_namespace.c:mangle does.
func escapeMount(s string) string {
	return strings.NewReplacer(" ", `\040`, "\t", `\011`, "\n", `\012`, `\`, `\134`).Replace(s)
}
