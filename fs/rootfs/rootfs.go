// Package rootfs assembles the sandbox's filesystem tree.
package rootfs

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/dev"
	"github.com/runsc-lite/runsc-lite/fs/devpts"
	"github.com/runsc-lite/runsc-lite/fs/hostfs"
	"github.com/runsc-lite/runsc-lite/fs/overlay"
	"github.com/runsc-lite/runsc-lite/fs/proc"
	"github.com/runsc-lite/runsc-lite/fs/tmpfs"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
	"github.com/runsc-lite/runsc-lite/sentry/memfile"
)

// Volume is a host directory bind-mounted into the sandbox (--volume).
type Volume struct {
	// Host is the host directory; Guest the absolute guest path where it
	// appears (created in the overlay if missing).
	Host, Guest string
	// ReadOnly refuses every change through the mount (EROFS).
	ReadOnly bool
}

// ParseVolume parses HOST:GUEST[:ro|:rw].
func ParseVolume(spec string) (Volume, error) {
	parts := strings.Split(spec, ":")
	var v Volume
	switch {
	case len(parts) == 3 && (parts[2] == "ro" || parts[2] == "rw"):
		v.ReadOnly = parts[2] == "ro"
	case len(parts) == 2:
	default:
		return v, fmt.Errorf("volume %q: want HOST:GUEST[:ro]", spec)
	}
	v.Host, v.Guest = parts[0], path.Clean(parts[1])
	if v.Host == "" || !path.IsAbs(v.Guest) {
		return v, fmt.Errorf("volume %q: want HOST:GUEST[:ro] with an absolute GUEST path", spec)
	}
	return v, nil
}

// Build returns the sandbox's tree and its root:
//
//	/          overlay: an in-memory tmpfs upper over the host directory
//	           rootfsDir (read-only hostfs); guest changes never reach the host
//	/dev       devfs (null, zero, full, random, urandom, fd/std* symlinks),
//	           hiding the host's /dev
//	/dev/pts   devpts (pseudo-terminals; /dev/ptmx links to pts/ptmx)
//	/dev/shm   an empty tmpfs, mode 1777
//	/proc      procfs showing the sandbox's processes
//	/sys       a minimal read-only sysfs (devices/system/cpu/{online,possible})
//	volumes    each a writable (or, with ReadOnly, read-only) hostfs of its
//	           host directory, whose changes go through to the host
//
// Mount points are created in the overlay if rootfsDir lacks them. Build
// fails with a descriptive error if rootfsDir or a volume's host
// directory does not exist or is not a directory.
func Build(rootfsDir string, volumes ...Volume) (*vfs.VirtualFilesystem, vfs.VirtualDentry, error) {
	return BuildWithOptions(Options{Dir: rootfsDir, Volumes: volumes})
}

// Options configure BuildWithOptions.
type Options struct {
	// Dir is the host directory under the overlay ("/" by default in do).
	Dir string
	// Volumes are bind-mounted in order.
	Volumes []Volume
	// MemoryFile, if set, holds the data of the overlay's upper layer and
	// /dev/shm, so that their files can be mapped MAP_SHARED; without it
	// the data is on the sentry's heap.
	MemoryFile *memfile.MemoryFile
	// OverlaySize bounds the bytes of file data the guest can write to
	// the overlay's upper layer (ENOSPC beyond); zero is no limit.
	// /dev/shm gets the same bound, separately.
	OverlaySize uint64
	// Files are written into the overlay after it is built, by guest
	// path (the host's /etc/hosts and /etc/resolv.conf over a rootfs
	// that is not the host's /). Their directories are created.
	Files map[string][]byte
}

// BuildWithOptions is Build with the choices of opts.
func BuildWithOptions(opts Options) (*vfs.VirtualFilesystem, vfs.VirtualDentry, error) {
	rootfsDir, volumes := opts.Dir, opts.Volumes
	info, err := os.Stat(rootfsDir)
	if err != nil {
		return nil, vfs.VirtualDentry{}, fmt.Errorf("rootfs: %w", err)
	}
	if !info.IsDir() {
		return nil, vfs.VirtualDentry{}, fmt.Errorf("rootfs %q: not a directory", rootfsDir)
	}
	lowerFS, lowerRoot, err := hostfs.Open(rootfsDir)
	if err != nil {
		return nil, vfs.VirtualDentry{}, fmt.Errorf("rootfs: %w", err)
	}
	v, root, err := build(lowerFS, lowerRoot, tmpfs.Options{MemoryFile: opts.MemoryFile, MaxBytes: opts.OverlaySize})
	if err != nil {
		lowerFS.Release()
		return nil, vfs.VirtualDentry{}, fmt.Errorf("rootfs %q: %w", rootfsDir, err)
	}
	for p, data := range opts.Files {
		if err := writeFile(v, root, p, data); err != nil {
			return nil, vfs.VirtualDentry{}, fmt.Errorf("rootfs: write %s: %w", p, err)
		}
	}
	for _, vol := range volumes {
		if err := mountVolume(v, root, vol); err != nil {
			return nil, vfs.VirtualDentry{}, fmt.Errorf("volume %s:%s: %w", vol.Host, vol.Guest, err)
		}
	}
	return v, root, nil
}

// writeFile creates (or replaces) the file p in the overlay with data,
// mode 0644.
func writeFile(v *vfs.VirtualFilesystem, root vfs.VirtualDentry, p string, data []byte) error {
	if _, err := mkdirAll(v, root, path.Dir(p)); err != nil {
		return err
	}
	ctx := vfs.RootContext()
	// A symlink there (Debian's /etc/resolv.conf can be one) is
	// replaced, not followed out of the rootfs's meaning.
	pop := &vfs.PathOperation{Root: root, Start: root, Path: p}
	if err := v.UnlinkAt(ctx, pop); err != nil && err != errno.ENOENT {
		return err
	}
	f, err := v.OpenAt(ctx, pop, vfs.OpenOptions{Flags: linux.O_WRONLY | linux.O_CREAT | linux.O_TRUNC, Mode: 0o644})
	if err != nil {
		return err
	}
	defer f.DecRef()
	for len(data) > 0 {
		n, err := f.Write(ctx, data)
		if err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// mountVolume bind-mounts vol.Host at vol.Guest.
func mountVolume(v *vfs.VirtualFilesystem, root vfs.VirtualDentry, vol Volume) error {
	open := hostfs.OpenWritable
	if vol.ReadOnly {
		open = hostfs.Open
	}
	fs, fsRoot, err := open(vol.Host)
	if err != nil {
		return err
	}
	mp, err := mkdirAll(v, root, vol.Guest)
	if err != nil {
		fs.Release()
		return err
	}
	src := vol.Host
	if abs, err := filepath.Abs(src); err == nil {
		src = abs
	}
	mnt := v.NewMount(v.NewFilesystem(fs), fsRoot, vfs.MountOptions{ReadOnly: vol.ReadOnly, Source: src})
	if err := v.MountAt(mp, mnt); err != nil {
		fs.Release()
		return err
	}
	return nil
}

// mkdirAll creates p and its parents in the tree as needed and returns it.
func mkdirAll(v *vfs.VirtualFilesystem, root vfs.VirtualDentry, p string) (vfs.VirtualDentry, error) {
	ctx := vfs.RootContext()
	cur := "/"
	for _, c := range strings.Split(strings.Trim(path.Clean(p), "/"), "/") {
		if c == "" {
			continue
		}
		cur = path.Join(cur, c)
		pop := &vfs.PathOperation{Root: root, Start: root, Path: cur, FollowFinalSymlink: true}
		if err := v.MkdirAt(ctx, pop, 0o755); err != nil && err != errno.EEXIST {
			return vfs.VirtualDentry{}, fmt.Errorf("mkdir %s: %w", cur, err)
		}
	}
	return v.GetDentryAt(ctx, &vfs.PathOperation{Root: root, Start: root, Path: p, FollowFinalSymlink: true})
}

func build(lowerFS *hostfs.Filesystem, lowerRoot vfs.DirInode, topts tmpfs.Options) (*vfs.VirtualFilesystem, vfs.VirtualDentry, error) {
	ctx := vfs.RootContext()
	v := vfs.New()
	upperFS, upperRoot := tmpfs.New(topts, 0o755, 0, 0)
	ofs, oroot, err := overlay.New(ctx, upperFS, upperRoot, lowerRoot)
	if err != nil {
		return nil, vfs.VirtualDentry{}, err
	}
	v.SetRoot(v.NewMount(v.NewFilesystem(ofs), oroot, vfs.MountOptions{}))
	root := v.Root()

	devFS, devRoot, err := dev.New(ctx, v)
	if err != nil {
		return nil, vfs.VirtualDentry{}, err
	}
	shmFS, shmRoot := tmpfs.New(topts, 0o1777, 0, 0)
	ptsFS, ptsRoot := devpts.New()
	procFS, procRoot := proc.New()
	sysFS, sysRoot, err := newSysfs(ctx)
	if err != nil {
		return nil, vfs.VirtualDentry{}, err
	}
	for _, m := range []struct {
		path string
		fs   vfs.FilesystemImpl
		root vfs.Inode
		opts vfs.MountOptions
	}{
		{"/dev", devFS, devRoot, vfs.MountOptions{Source: "udev", Data: "mode=755"}},
		{"/dev/pts", ptsFS, ptsRoot, vfs.MountOptions{Source: "devpts", Data: "gid=5,mode=620,ptmxmode=666"}},
		{"/dev/shm", shmFS, shmRoot, vfs.MountOptions{Source: "tmpfs", Data: "mode=1777"}},
		{"/proc", procFS, procRoot, vfs.MountOptions{Source: "proc"}},
		{"/sys", sysFS, sysRoot, vfs.MountOptions{Source: "sysfs", ReadOnly: true}},
	} {
		mp, err := mkdirAll(v, root, m.path)
		if err != nil {
			return nil, vfs.VirtualDentry{}, fmt.Errorf("mount point %s: %w", m.path, err)
		}
		if err := v.MountAt(mp, v.NewMount(v.NewFilesystem(m.fs), m.root, m.opts)); err != nil {
			return nil, vfs.VirtualDentry{}, fmt.Errorf("mount %s: %w", m.path, err)
		}
	}
	return v, root, nil
}

// newSysfs builds the minimal /sys: the CPU masks that runtimes read to
// size thread pools, matching /proc/cpuinfo.
func newSysfs(ctx vfs.Context) (*tmpfs.Filesystem, vfs.DirInode, error) {
	fs, root := tmpfs.New(tmpfs.Options{Name: "sysfs", Magic: linux.SYSFS_MAGIC}, 0o555, 0, 0)
	mask := "0\n"
	if n := proc.NumCPU(); n > 1 {
		mask = fmt.Sprintf("0-%d\n", n-1)
	}
	var dir vfs.DirInode = root
	for _, c := range []string{"devices", "system", "cpu"} {
		d, err := dir.Mkdir(ctx, c, 0o755)
		if err != nil {
			return nil, nil, err
		}
		dir = d.(vfs.DirInode)
	}
	for _, name := range []string{"online", "possible", "present"} {
		f, err := dir.Create(ctx, name, 0o444)
		if err != nil {
			return nil, nil, err
		}
		impl, err := f.Open(ctx, linux.O_WRONLY)
		if err != nil {
			return nil, nil, err
		}
		_, err = impl.Write(ctx, []byte(mask), 0)
		impl.Release()
		if err != nil {
			return nil, nil, err
		}
	}
	return fs, root, nil
}
