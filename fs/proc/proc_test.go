package proc_test

import (
	"strings"
	"testing"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/dev"
	"github.com/runsc-lite/runsc-lite/fs/proc"
	"github.com/runsc-lite/runsc-lite/fs/tmpfs"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

type fakeProc struct {
	fds map[int32]*vfs.FileDescription
	cwd vfs.VirtualDentry
}

func (p *fakeProc) PID() int32                     { return 7 }
func (p *fakeProc) PPID() int32                    { return 1 }
func (p *fakeProc) Comm() string                   { return "cat" }
func (p *fakeProc) ExePath() string                { return "/bin/cat" }
func (p *fakeProc) Cwd() vfs.VirtualDentry         { return p.cwd }
func (p *fakeProc) Cmdline() []byte                { return []byte("cat\x00-n\x00") }
func (p *fakeProc) Environ() []byte                { return []byte("A=b\x00") }
func (p *fakeProc) Maps() string                   { return "00400000-00401000 r-xp 00000000 00:29 5 /bin/cat\n" }
func (p *fakeProc) Credentials() *auth.Credentials { return auth.NewCredentials(1000, 100) }
func (p *fakeProc) NumThreads() int                { return 1 }
func (p *fakeProc) VirtualSize() uint64            { return 8 << 20 }
func (p *fakeProc) Umask() uint32                  { return 0o22 }
func (p *fakeProc) FD(fd int32) *vfs.FileDescription {
	f := p.fds[fd]
	if f != nil {
		f.IncRef()
	}
	return f
}
func (p *fakeProc) FDs() []int32 { return []int32{0, 1, 2} }

func (p *fakeProc) TID() int32                    { return 7 }
func (p *fakeProc) Root() vfs.VirtualDentry       { return p.cwd.Mount.VFS().Root() }
func (p *fakeProc) Threads() []proc.Process       { return []proc.Process{p} }
func (p *fakeProc) State() byte                   { return 'S' }
func (p *fakeProc) PGID() int32                   { return 7 }
func (p *fakeProc) SID() int32                    { return 1 }
func (p *fakeProc) Limit(r int) (cur, max uint64) { return 1024, 4096 }

type procCtx struct {
	creds *auth.Credentials
	p     proc.Process
}

func (c procCtx) Credentials() *auth.Credentials { return c.creds }
func (c procCtx) ProcSelf() proc.Process         { return c.p }

func TestProc(t *testing.T) {
	v := vfs.New()
	rootFS, rootInode := tmpfs.New(tmpfs.Options{}, 0o755, 0, 0)
	v.SetRoot(v.NewMount(v.NewFilesystem(rootFS), rootInode, vfs.MountOptions{}))
	r := v.Root()
	rc := vfs.RootContext()
	pop := func(p string) *vfs.PathOperation {
		return &vfs.PathOperation{Root: r, Start: r, Path: p, FollowFinalSymlink: true}
	}
	for _, d := range []string{"/proc", "/dev"} {
		if err := v.MkdirAt(rc, pop(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pfs, proot := proc.New()
	dfs, droot, err := dev.New(rc, v)
	if err != nil {
		t.Fatal(err)
	}
	for d, m := range map[string]*vfs.Mount{
		"/proc": v.NewMount(v.NewFilesystem(pfs), proot, vfs.MountOptions{}),
		"/dev":  v.NewMount(v.NewFilesystem(dfs), droot, vfs.MountOptions{}),
	} {
		mp, err := v.GetDentryAt(rc, pop(d))
		if err != nil {
			t.Fatal(err)
		}
		if err := v.MountAt(mp, m); err != nil {
			t.Fatal(err)
		}
	}
	null, err := v.OpenAt(rc, pop("/dev/null"), vfs.OpenOptions{Flags: linux.O_RDWR})
	if err != nil {
		t.Fatal(err)
	}
	defer null.DecRef()
	anon := vfs.NewFileDescription(&struct {
		vfs.FileDescriptionDefaultImpl
		noIO
	}{}, linux.O_RDWR, vfs.VirtualDentry{}, vfs.FileDescriptionOptions{Stream: true, Name: "pipe:[3]"})
	defer anon.DecRef()
	devDir, err := v.GetDentryAt(rc, pop("/dev"))
	if err != nil {
		t.Fatal(err)
	}
	p := &fakeProc{fds: map[int32]*vfs.FileDescription{0: null, 1: anon, 2: null}, cwd: devDir}
	ctx := procCtx{auth.NewCredentials(1000, 100), p}

	read := func(path string) (string, error) {
		fd, err := v.OpenAt(ctx, pop(path), vfs.OpenOptions{})
		if err != nil {
			return "", err
		}
		defer fd.DecRef()
		buf := make([]byte, 4096)
		n, err := fd.Read(ctx, buf)
		return string(buf[:n]), err
	}
	readlink := func(path string) string {
		s, err := v.ReadlinkAt(ctx, &vfs.PathOperation{Root: r, Start: r, Path: path})
		if err != nil {
			return err.Error()
		}
		return s
	}
	if got := readlink("/proc/self"); got != "7" {
		t.Errorf("self -> %q", got)
	}
	if got := readlink("/proc/self/exe"); got != "/bin/cat" {
		t.Errorf("exe -> %q", got)
	}
	if got := readlink("/proc/self/fd/0"); got != "/dev/null" {
		t.Errorf("fd/0 -> %q", got)
	}
	if got := readlink("/proc/7/fd/1"); got != "pipe:[3]" {
		t.Errorf("fd/1 -> %q", got)
	}
	if got := readlink("/proc/self/cwd"); got != "/dev" {
		t.Errorf("cwd -> %q", got)
	}
	if s, err := v.StatAt(ctx, pop("/proc/self/cwd/null")); err != nil || s.RdevMinor != 3 {
		t.Errorf("through cwd: %v", err)
	}
	if got := readlink("/dev/stderr"); got != "/proc/self/fd/2" {
		t.Errorf("/dev/stderr -> %q", got)
	}
	// /dev/stdin leads through /proc/self/fd/0 to /dev/null.
	if s, err := v.StatAt(ctx, pop("/dev/stdin")); err != nil || s.RdevMinor != 3 {
		t.Errorf("stat /dev/stdin: %v %+v", err, s)
	}
	if _, err := v.StatAt(ctx, pop("/proc/self/fd/9")); err != errno.ENOENT {
		t.Errorf("closed fd: %v", err)
	}
	if _, err := v.StatAt(ctx, pop("/proc/1")); err != errno.ENOENT {
		t.Errorf("other pid visible: %v", err)
	}
	for path, want := range map[string]string{
		"/proc/self/cmdline": "cat\x00-n\x00",
		"/proc/self/comm":    "cat\n",
		"/proc/self/maps":    "00400000-00401000 r-xp 00000000 00:29 5 /bin/cat\n",
	} {
		if got, err := read(path); err != nil || got != want {
			t.Errorf("%s = %q, %v", path, got, err)
		}
	}
	status, err := read("/proc/self/status")
	for _, want := range []string{"Name:\tcat\n", "Pid:\t7\n", "PPid:\t1\n", "Uid:\t1000\t1000\t1000\t1000\n", "FDSize:\t64\n", "Threads:\t1\n", "VmSize:\t    8192 kB\n"} {
		if !strings.Contains(status, want) {
			t.Errorf("status lacks %q: %v\n%s", want, err, status)
		}
	}
	stat, _ := read("/proc/self/stat")
	if fields := strings.Fields(stat); len(fields) != 52 || fields[0] != "7" || fields[1] != "(cat)" || fields[3] != "1" || fields[22] != "8388608" {
		t.Errorf("stat has %d fields: %q", len(fields), stat)
	}
	fd, err := v.OpenAt(ctx, pop("/proc/self/fd"), vfs.OpenOptions{Flags: linux.O_DIRECTORY})
	if err != nil {
		t.Fatal(err)
	}
	defer fd.DecRef()
	var names []string
	fd.IterDirents(ctx, func(d vfs.Dirent, _ int64) bool { names = append(names, d.Name); return true })
	if strings.Join(names, " ") != ". .. 0 1 2" {
		t.Errorf("fd dir: %v", names)
	}
	// Without a process, there is no self.
	if _, err := v.StatAt(rc, pop("/proc/self")); err != errno.ENOENT {
		t.Errorf("self without process: %v", err)
	}
}

type noIO struct{}

func (noIO) Read(vfs.Context, []byte, int64) (int, error)  { return 0, nil }
func (noIO) Write(vfs.Context, []byte, int64) (int, error) { return 0, nil }
