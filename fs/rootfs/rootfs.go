// Package rootfs assembles the sandbox's filesystem tree.
package rootfs

import (
	"fmt"
	"os"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/fs/dev"
	"github.com/runsc-lite/runsc-lite/fs/hostfs"
	"github.com/runsc-lite/runsc-lite/fs/overlay"
	"github.com/runsc-lite/runsc-lite/fs/proc"
	"github.com/runsc-lite/runsc-lite/fs/tmpfs"
	"github.com/runsc-lite/runsc-lite/fs/vfs"
)

// Build returns the sandbox's tree and its root:
//
//	/          overlay: an in-memory tmpfs upper over the host directory
//	           rootfsDir (read-only hostfs); guest changes never reach the host
//	/dev       devfs (null, zero, full, random, urandom, fd/std* symlinks),
//	           hiding the host's /dev
//	/dev/shm   an empty tmpfs, mode 1777
//	/proc      procfs showing the calling process only
//
// /dev and /proc are created in the overlay if rootfsDir lacks them.
// Build fails with a descriptive error if rootfsDir does not exist or is
// not a directory.
func Build(rootfsDir string) (*vfs.VirtualFilesystem, vfs.VirtualDentry, error) {
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
	v, root, err := build(lowerFS, lowerRoot)
	if err != nil {
		lowerFS.Release()
		return nil, vfs.VirtualDentry{}, fmt.Errorf("rootfs %q: %w", rootfsDir, err)
	}
	return v, root, nil
}

func build(lowerFS *hostfs.Filesystem, lowerRoot vfs.DirInode) (*vfs.VirtualFilesystem, vfs.VirtualDentry, error) {
	ctx := vfs.RootContext()
	v := vfs.New()
	upperFS, upperRoot := tmpfs.New(tmpfs.Options{}, 0o755, 0, 0)
	ofs, oroot, err := overlay.New(ctx, upperFS, upperRoot, lowerRoot)
	if err != nil {
		return nil, vfs.VirtualDentry{}, err
	}
	v.SetRoot(v.NewMount(v.NewFilesystem(ofs), oroot, vfs.MountOptions{}))
	root := v.Root()

	devFS, devRoot, err := dev.New(ctx)
	if err != nil {
		return nil, vfs.VirtualDentry{}, err
	}
	shmFS, shmRoot := tmpfs.New(tmpfs.Options{}, 0o1777, 0, 0)
	procFS, procRoot := proc.New()
	for _, m := range []struct {
		path string
		fs   vfs.FilesystemImpl
		root vfs.Inode
	}{
		{"/dev", devFS, devRoot},
		{"/dev/shm", shmFS, shmRoot},
		{"/proc", procFS, procRoot},
	} {
		pop := &vfs.PathOperation{Root: root, Start: root, Path: m.path, FollowFinalSymlink: true}
		if err := v.MkdirAt(ctx, pop, 0o755); err != nil && err != errno.EEXIST {
			return nil, vfs.VirtualDentry{}, fmt.Errorf("mkdir %s: %w", m.path, err)
		}
		mp, err := v.GetDentryAt(ctx, pop)
		if err != nil {
			return nil, vfs.VirtualDentry{}, fmt.Errorf("mount point %s: %w", m.path, err)
		}
		if err := v.MountAt(mp, v.NewMount(v.NewFilesystem(m.fs), m.root, vfs.MountOptions{})); err != nil {
			return nil, vfs.VirtualDentry{}, fmt.Errorf("mount %s: %w", m.path, err)
		}
	}
	return v, root, nil
}
