package proc

import (
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// pidDir is /proc/[pid].
type pidDir struct {
	roDir
	base
	p Process
	// entries are the directory's children, by name.
	entries map[string]vfs.Inode
	names   []string
}

var _ vfs.DirInode = (*pidDir)(nil)

func newPIDDir(p Process) *pidDir {
	creds := p.Credentials()
	pid := p.PID()
	d := &pidDir{base: base{ino: pidIno(pid, 0), mode: linux.S_IFDIR | 0o555, owner: creds}, p: p}
	slot := uint64(0)
	next := func(mode linux.FileMode) base {
		slot++
		return base{ino: pidIno(pid, slot), mode: mode, owner: creds}
	}
	text := func(gen func() []byte) vfs.Inode { return &file{base: next(linux.S_IFREG | 0o444), gen: gen} }
	d.entries = map[string]vfs.Inode{
		"cmdline": text(p.Cmdline),
		"environ": &file{base: next(linux.S_IFREG | 0o400), gen: p.Environ},
		"comm":    text(func() []byte { return []byte(p.Comm() + "\n") }),
		"maps":    text(func() []byte { return []byte(p.Maps()) }),
		"stat":    text(func() []byte { return statText(p) }),
		"statm":   text(func() []byte { return statmText(p) }),
		"status":  text(func() []byte { return statusText(p) }),
		"exe": &symlink{base: next(linux.S_IFLNK | 0o777), target: func() (string, error) {
			if e := p.ExePath(); e != "" {
				return e, nil
			}
			return "", errno.ENOENT
		}},
		"cwd": &symlink{base: next(linux.S_IFLNK | 0o777),
			target: func() (string, error) {
				vd := p.Cwd()
				if !vd.Ok() {
					return "", errno.ENOENT
				}
				return vd.Mount.VFS().PathName(vd), nil
			},
			// Resolution follows the link without reading it: Readlink
			// here takes the VFS lock that resolution holds.
			magic: func() (vfs.VirtualDentry, bool) { vd := p.Cwd(); return vd, vd.Ok() },
		},
		"root": &symlink{base: next(linux.S_IFLNK | 0o777), target: func() (string, error) { return "/", nil }},
		"fd":   &fdDir{base: next(linux.S_IFDIR | 0o500), p: p},
	}
	for name := range d.entries {
		d.names = append(d.names, name)
	}
	slices.Sort(d.names)
	return d
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
	ents := make([]vfs.Dirent, 0, len(d.names))
	for _, name := range d.names {
		st, _ := d.entries[name].Stat(ctx)
		ents = append(ents, vfs.Dirent{Name: name, Ino: st.Ino, Type: st.FileMode().DirentType()})
	}
	return ents, nil
}

// fdDir is /proc/[pid]/fd.
type fdDir struct {
	roDir
	base
	p Process
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
	return d.link(fd), nil
}

func (d *fdDir) link(fd int32) *symlink {
	p := d.p
	return &symlink{
		base: base{ino: pidIno(p.PID(), 1<<16+uint64(fd)), mode: linux.S_IFLNK | 0o700, owner: d.owner},
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
	for _, fd := range fds {
		ents = append(ents, vfs.Dirent{Name: strconv.Itoa(int(fd)), Ino: d.link(fd).ino, Type: linux.DT_LNK})
	}
	return ents, nil
}

// statText formats /proc/[pid]/stat (fs/proc/array.c:do_task_stat). Fields
// the sentry does not track are zero.
func statText(p Process) []byte {
	pid := p.PID()
	vsize := p.VirtualSize()
	// Fields 1-3: pid, (comm), state; then 4..52.
	f := []any{
		p.PPID(), pid, pid, // ppid pgrp session
		0, -1, 0, // tty_nr tpgid flags
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
	fmt.Fprintf(&b, "%d (%s) R", pid, p.Comm())
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
func statusText(p Process) []byte {
	c := p.Credentials()
	var b strings.Builder
	fmt.Fprintf(&b, "Name:\t%s\n", p.Comm())
	fmt.Fprintf(&b, "Umask:\t%04o\n", p.Umask())
	fmt.Fprintf(&b, "State:\tR (running)\n")
	fmt.Fprintf(&b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", p.PID(), p.PID(), p.PPID())
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
	kb := p.VirtualSize() / 1024
	fmt.Fprintf(&b, "VmPeak:\t%8d kB\nVmSize:\t%8d kB\nVmRSS:\t%8d kB\n", kb, kb, 0)
	fmt.Fprintf(&b, "Threads:\t%d\n", p.NumThreads())
	fmt.Fprintf(&b, "CapInh:\t%016x\nCapPrm:\t%016x\nCapEff:\t%016x\nCapBnd:\t%016x\n",
		c.InheritableCaps, c.PermittedCaps, c.EffectiveCaps, c.BoundingCaps)
	return []byte(b.String())
}
