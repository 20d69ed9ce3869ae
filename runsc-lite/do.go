package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/host"
	"github.com/runsc-lite/runsc-lite/fs/rootfs"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/platform"
	"github.com/runsc-lite/runsc-lite/platform/ptrace"
	"github.com/runsc-lite/runsc-lite/platform/seccomptrap"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
	"github.com/runsc-lite/runsc-lite/sentry/kernel"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
	"github.com/runsc-lite/runsc-lite/sentry/strace"
	"github.com/runsc-lite/runsc-lite/sentry/syscalls"
	"github.com/runsc-lite/runsc-lite/sentry/vdso"
)

var doCommand = &cli.Command{
	Name:      "do",
	Usage:     "run a command in a sandbox over a host directory (default /), read-only with an in-memory overlay",
	ArgsUsage: "-- CMD [ARGS...]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "rootfs", Value: "/", Usage: "host `DIR` to show as the guest's /"},
		&cli.StringFlag{Name: "platform", Usage: "how guest code is run: ptrace or seccomptrap (overrides the global flag)"},
		&cli.StringFlag{Name: "cwd", Usage: "guest working `DIR` (default: the current directory when it exists in the sandbox, else /)"},
		&cli.StringSliceFlag{Name: "env", KeepSpace: true, Usage: "set `K=V` in the guest's environment (repeatable)"},
		&cli.StringSliceFlag{Name: "volume", Usage: "bind-mount host `HOST:GUEST[:ro]` into the sandbox, writes going to the host (repeatable)"},
		&cli.StringFlag{Name: "overlay-size", Usage: "bound the memory the guest's file writes (overlay, /dev/shm) may use, e.g. `512M` (default: unlimited)"},
		&cli.StringFlag{Name: "network", Value: "sandbox", Usage: "`MODE`: sandbox (a user-space TCP/IP stack with loopback only, isolated from the host), none (loopback only, and never another interface), or host (guest sockets are host sockets owned by the sentry: weaker isolation)"},
		&cli.StringSliceFlag{Name: "publish", Usage: "forward host `[IP:]HOST_PORT:GUEST_PORT` (TCP) to the sandbox's loopback (repeatable; --network=sandbox only)"},
		&cli.BoolFlag{Name: "strace", Usage: "log each guest syscall, decoded, to stderr"},
		&cli.StringFlag{Name: "strace-log", Usage: "write the --strace log to `FILE`"},
	},
	Action: doAction,
}

func doAction(c *cli.Context) error {
	argv := c.Args().Slice()
	if len(argv) == 0 {
		return &cmdError{code: 125, err: errors.New("do: no command given (usage: runsc-lite do [flags] -- CMD [ARGS...])")}
	}
	log, closeLog, err := newLogger(c)
	if err != nil {
		return err
	}
	defer closeLog()

	// do's own --platform wins over the global one.
	plat := c.String("platform")
	if plat == "" {
		plat = c.Lineage()[1].String("platform")
	}

	var volumes []rootfs.Volume
	for _, spec := range c.StringSlice("volume") {
		vol, err := rootfs.ParseVolume(spec)
		if err != nil {
			return &cmdError{code: 125, err: err}
		}
		volumes = append(volumes, vol)
	}
	mf, err := memfile.New(memfile.DefaultSize)
	if err != nil {
		return err
	}
	// tmpfs data (the overlay's upper layer, /dev/shm) lives in the memory
	// file, so that those files can be mapped MAP_SHARED.
	overlaySize, err := parseSize(c.String("overlay-size"))
	if err != nil {
		return &cmdError{code: 125, err: fmt.Errorf("--overlay-size: %w", err)}
	}
	_, root, err := rootfs.BuildWithOptions(rootfs.Options{Dir: c.String("rootfs"), Volumes: volumes, MemoryFile: mf, OverlaySize: overlaySize,
		Files: hostNameFiles(c.String("rootfs"))})
	if err != nil {
		return &cmdError{code: 125, err: err}
	}
	// The memory file is never released: task goroutines still tearing down
	// may touch guest memory until the process exits, which frees it.
	var p platform.Platform
	switch plat {
	case "ptrace":
		if p, err = ptrace.New(mf.FD()); err != nil {
			return err
		}
	case "seccomptrap":
		sp, err := seccomptrap.New(mf.FD())
		if err != nil {
			return err
		}
		sp.SetSyscallPatching(c.Bool("syscall-patching"))
		p = sp
	default:
		return &cmdError{code: 125, err: fmt.Errorf("unknown platform %q (have: ptrace, seccomptrap)", plat)}
	}

	table := syscalls.Table()
	if c.Bool("strace") || c.String("strace-log") != "" {
		w := io.Writer(os.Stderr)
		if f := c.String("strace-log"); f != "" {
			lf, err := os.Create(f)
			if err != nil {
				return &cmdError{code: 125, err: fmt.Errorf("strace log: %w", err)}
			}
			defer lf.Close()
			w = lf
		}
		table.Strace = strace.New(w, table)
	}
	hostname, _ := os.Hostname()
	k := kernel.New(p, mf, table, log, hostname)
	k.SyscallPatching = c.Bool("syscall-patching")
	if k.VDSO, err = vdso.New(mf); err != nil {
		return fmt.Errorf("vdso: %w", err)
	}
	defer k.VDSO.Close()
	closeNet, err := setupNetwork(c, k, log)
	if err != nil {
		return err
	}
	defer closeNet()

	fdt := kernel.NewFDTable()
	for fd := 0; fd < 3; fd++ {
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err != nil {
			continue // Not open on the host: not open in the guest either.
		}
		f, err := host.Import(vfs.RootContext(), fd, uint32(fl&unix.O_ACCMODE))
		if err != nil {
			return fmt.Errorf("import host fd %d: %w", fd, err)
		}
		err = fdt.NewFDAt(int32(fd), f, false)
		f.DecRef()
		if err != nil {
			return err
		}
	}

	cwd := guestCwd(c, root)
	creds := auth.NewCredentials(auth.KUID(os.Getuid()), auth.KGID(os.Getgid()))
	envv := append(os.Environ(), c.StringSlice("env")...)

	// Resolve the command as execvp would: names without a slash are looked
	// up along the guest's PATH, inside the sandbox.
	var tg *kernel.ThreadGroup
	for _, cand := range candidates(argv[0], envv) {
		tg, err = k.CreateProcess(kernel.CreateProcessArgs{
			Filename: cand, Argv: argv, Envv: envv,
			Root: root, WorkingDirectory: cwd, Credentials: creds, Umask: 0o022,
			FDTable: fdt,
		})
		if err == nil || (err != errno.ENOENT && err != errno.ENOTDIR) {
			break
		}
	}
	if err != nil {
		code := 126
		if err == errno.ENOENT || err == errno.ENOTDIR {
			code = 127
		}
		var en errno.Errno
		if errors.As(err, &en) {
			err = fmt.Errorf("%s: %s", argv[0], strings.ToLower(en.Error()[:1])+en.Error()[1:])
			if code == 127 && !strings.Contains(argv[0], "/") {
				err = fmt.Errorf("%s: command not found", argv[0])
			}
			if en == errno.ENOEXEC {
				err = fmt.Errorf("%s: not an executable (exec format error)", argv[0])
			}
		}
		return &cmdError{code: code, err: err}
	}

	// Signals to runsc-lite go to the guest: SIGTERM and SIGHUP to its
	// init, and the terminal's SIGINT, SIGQUIT and SIGTSTP to the sandbox's
	// foreground process group, as a terminal would send them. When init
	// exits, the whole sandbox goes.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGINT, unix.SIGQUIT, unix.SIGTSTP, unix.SIGTERM, unix.SIGHUP)
	defer signal.Stop(sigs)
	tg.Start()
	for {
		select {
		case s := <-sigs:
			switch sig := s.(unix.Signal); sig {
			case unix.SIGINT, unix.SIGQUIT, unix.SIGTSTP:
				tg.SignalForeground(int(sig))
			default:
				tg.SendSignal(&linux.SignalInfo{Signo: int32(sig), Code: linux.SI_KERNEL})
			}
		case <-tg.Exited():
			ws := tg.ExitStatus()
			if ws.Signaled() {
				return &exitError{code: 128 + ws.Signal()}
			}
			if code := ws.ExitCode(); code != 0 {
				return &exitError{code: code}
			}
			return nil
		}
	}
}

// candidates returns the paths to try for cmd: itself if it names a path,
// else each PATH directory joined with it.
func candidates(cmd string, envv []string) []string {
	if strings.Contains(cmd, "/") {
		return []string{cmd}
	}
	pathEnv := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range envv {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			pathEnv = v
		}
	}
	var out []string
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		out = append(out, path.Join(dir, cmd))
	}
	return out
}

// guestCwd picks the guest's working directory.
func guestCwd(c *cli.Context, root vfs.VirtualDentry) vfs.VirtualDentry {
	want := c.String("cwd")
	explicit := want != ""
	if !explicit {
		if c.String("rootfs") == "/" {
			want, _ = os.Getwd()
		} else {
			want = "/"
		}
	}
	v := root.Mount.VFS()
	vd, err := v.GetDentryAt(vfs.RootContext(), &vfs.PathOperation{Root: root, Start: root, Path: want, FollowFinalSymlink: true})
	if err != nil {
		return root
	}
	return vd
}

// newLogger returns the sentry's logger: warnings and up, one line each,
// to stderr or --log.
func newLogger(c *cli.Context) (*slog.Logger, func(), error) {
	w := io.Writer(os.Stderr)
	closer := func() {}
	if f := c.String("log"); f != "" {
		lf, err := os.OpenFile(f, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, err
		}
		w, closer = lf, func() { lf.Close() }
	}
	level := slog.LevelWarn
	if c.Bool("debug") {
		level = slog.LevelDebug
	}
	h := slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	})
	return slog.New(h).With("src", "runsc-lite"), closer, nil
}

// parseSize parses a byte count with an optional K, M, G or T suffix
// (powers of 1024); "" is 0, unlimited.
func parseSize(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	mult := uint64(1)
	switch s[len(s)-1] {
	case 'k', 'K':
		mult = 1 << 10
	case 'm', 'M':
		mult = 1 << 20
	case 'g', 'G':
		mult = 1 << 30
	case 't', 'T':
		mult = 1 << 40
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > ^uint64(0)/mult {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}
