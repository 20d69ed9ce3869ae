package vfs

import (
	"strings"

	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

// MaxSymlinkTraversals is MAXSYMLINKS from include/linux/namei.h: "the
// maximum number of symlinks that will be followed" in one resolution.
const MaxSymlinkTraversals = 40

// PathOperation names a file by path.
type PathOperation struct {
	// Root is the caller's root directory: absolute paths and absolute
	// symlink targets start here, and ".." never leaves it.
	Root VirtualDentry
	// Start is where a relative Path starts (the cwd or a dirfd).
	Start VirtualDentry
	// Path is the guest's path, uninterpreted.
	Path string
	// FollowFinalSymlink follows a symlink named by the last component.
	FollowFinalSymlink bool
	// Resolve are openat2(2)'s RESOLVE_* flags restricting the walk
	// (RESOLVE_CACHED is the caller's business).
	Resolve uint32
}

// resolver walks a path one component at a time.
type resolver struct {
	vfs   *VirtualFilesystem
	ctx   Context
	creds *auth.Credentials
	root  VirtualDentry
	// cur is the directory the next component is looked up in.
	cur VirtualDentry
	// comps are the components still to walk; following a symlink
	// prepends its target's components.
	comps []string
	// mustBeDir is set when the path ends in "/".
	mustBeDir bool
	symlinks  int
	// rflags are the RESOLVE_* flags. With RESOLVE_BENEATH or
	// RESOLVE_IN_ROOT ("scoped"), root is the starting directory.
	rflags uint32
}

// scoped reports whether the walk is confined to its starting directory.
func (r *resolver) scoped() bool {
	return r.rflags&(linux.RESOLVE_BENEATH|linux.RESOLVE_IN_ROOT) != 0
}

// checkXDev enforces RESOLVE_NO_XDEV on a move from r.cur to next.
func (r *resolver) checkXDev(next VirtualDentry) error {
	if r.rflags&linux.RESOLVE_NO_XDEV != 0 && next.Mount != r.cur.Mount {
		return errno.EXDEV
	}
	return nil
}

// newResolver prepares to walk pop.
//
// Preconditions: vfs.treeMu is held.
func (vfs *VirtualFilesystem) newResolver(ctx Context, pop *PathOperation) (*resolver, error) {
	p := pop.Path
	if p == "" {
		return nil, errno.ENOENT
	}
	// PATH_MAX counts the terminating NUL.
	if len(p) >= linux.PATH_MAX {
		return nil, errno.ENAMETOOLONG
	}
	r := &resolver{vfs: vfs, ctx: ctx, creds: ctx.Credentials(), root: pop.Root, cur: pop.Start, rflags: pop.Resolve}
	if r.scoped() {
		// "RESOLVE_IN_ROOT: Treat the directory referred to by dirfd as
		// the root directory while resolving pathname" - openat2(2);
		// RESOLVE_BENEATH fails instead of staying there.
		r.root = pop.Start
	}
	if p[0] == '/' {
		// An absolute path starts at the root whatever dirfd is, so
		// RESOLVE_NO_XDEV has nothing to check yet (fs/namei.c:path_init).
		if r.rflags&linux.RESOLVE_BENEATH != 0 {
			return nil, errno.EXDEV
		}
		r.cur = r.root
	}
	if !r.root.Ok() || !r.cur.Ok() {
		return nil, errno.ENOENT
	}
	r.comps, r.mustBeDir = splitPath(p)
	return r, nil
}

// splitPath splits p into its non-empty components and reports whether it
// ends in a slash (and so names a directory).
func splitPath(p string) ([]string, bool) {
	comps := make([]string, 0, strings.Count(p, "/")+1)
	for c := range strings.SplitSeq(p, "/") {
		if c != "" {
			comps = append(comps, c)
		}
	}
	return comps, strings.HasSuffix(p, "/")
}

// fileType returns d's S_IFMT bits, which never change for an inode.
func (d *Dentry) fileType(ctx Context) (linux.FileMode, error) {
	if t := d.ftype.Load(); t != 0 {
		return linux.FileMode(t), nil
	}
	st, err := d.inode.Stat(ctx)
	if err != nil {
		return 0, err
	}
	t := st.FileMode().FileType()
	d.ftype.Store(uint32(t))
	return t, nil
}

// isDir reports whether vd is a directory.
func (r *resolver) isDir(vd VirtualDentry) (bool, error) {
	t, err := vd.Dentry.fileType(r.ctx)
	return t == linux.S_IFDIR, err
}

// mayLookup checks that r may search directory dir.
func (r *resolver) mayLookup(dir VirtualDentry) error {
	// Search permission on a directory is always granted to these; skip
	// the stat (a host syscall for hostfs) on the common root path.
	if r.creds.HasCapability(auth.CAP_DAC_OVERRIDE) || r.creds.HasCapability(auth.CAP_DAC_READ_SEARCH) {
		return nil
	}
	st, err := dir.Dentry.inode.Stat(r.ctx)
	if err != nil {
		return err
	}
	return checkStatPermissions(r.creds, MayExec, &st)
}

// step looks up one component in r.cur, without following a symlink it
// names, and crosses any mount on the result.
func (r *resolver) step(name string) (VirtualDentry, error) {
	dir, err := r.isDir(r.cur)
	if err != nil {
		return VirtualDentry{}, err
	}
	if !dir {
		return VirtualDentry{}, errno.ENOTDIR
	}
	if name == "." {
		return r.cur, nil
	}
	if err := r.mayLookup(r.cur); err != nil {
		return VirtualDentry{}, err
	}
	if name == ".." {
		if r.rflags&linux.RESOLVE_BENEATH != 0 && r.cur == r.root {
			return VirtualDentry{}, errno.EXDEV
		}
		p := r.parent(r.cur)
		if err := r.checkXDev(p); err != nil {
			return VirtualDentry{}, err
		}
		return p, nil
	}
	if len(name) > linux.NAME_MAX {
		return VirtualDentry{}, errno.ENAMETOOLONG
	}
	dirInode, ok := r.cur.Dentry.inode.(DirInode)
	if !ok {
		return VirtualDentry{}, errno.ENOTDIR
	}
	child, err := r.cur.Dentry.child(r.ctx, dirInode, name)
	if err != nil {
		return VirtualDentry{}, err
	}
	next := r.vfs.followMountsLocked(VirtualDentry{r.cur.Mount, child})
	if err := r.checkXDev(next); err != nil {
		return VirtualDentry{}, err
	}
	return next, nil
}

// parent returns vd's "..": vd itself at the caller's root or the tree's
// root, and the mount point's parent at the root of a mount.
func (r *resolver) parent(vd VirtualDentry) VirtualDentry {
	for {
		if vd == r.root {
			return vd
		}
		if vd.Dentry != vd.Mount.root {
			break
		}
		if vd.Mount.parent == nil {
			return vd
		}
		vd = VirtualDentry{vd.Mount.parent, vd.Mount.point}
	}
	if vd.Dentry.parent == nil {
		return vd
	}
	return r.vfs.followMountsLocked(VirtualDentry{vd.Mount, vd.Dentry.parent})
}

// symlinkInode returns vd's inode as a symlink, or nil.
func (r *resolver) symlinkInode(vd VirtualDentry) (SymlinkInode, error) {
	t, err := vd.Dentry.fileType(r.ctx)
	if err != nil || t != linux.S_IFLNK {
		return nil, err
	}
	link, ok := vd.Dentry.inode.(SymlinkInode)
	if !ok {
		return nil, errno.EIO
	}
	return link, nil
}

// follow makes the rest of the walk go through the symlink link. A magic
// link moves r.cur directly; otherwise its target's components are
// prepended to r.comps and an absolute target restarts at r.root, so a
// target can never lead outside the caller's root.
func (r *resolver) follow(link SymlinkInode) error {
	r.symlinks++
	if r.symlinks > MaxSymlinkTraversals || r.rflags&linux.RESOLVE_NO_SYMLINKS != 0 {
		return errno.ELOOP
	}
	if ml, ok := link.(MagicLinkInode); ok {
		vd, ok := ml.MagicLink(r.ctx)
		// fs/namei.c:nd_jump_link: magic links are ELOOP with
		// RESOLVE_NO_MAGICLINKS and "not currently safe for scoped
		// lookups".
		if ok || r.rflags&linux.RESOLVE_NO_MAGICLINKS != 0 {
			switch {
			case r.rflags&linux.RESOLVE_NO_MAGICLINKS != 0:
				return errno.ELOOP
			case r.scoped():
				return errno.EXDEV
			}
		}
		if ok {
			if err := r.checkXDev(vd); err != nil {
				return err
			}
			r.cur = vd
			return nil
		}
	}
	target, err := link.Readlink(r.ctx)
	if err != nil {
		return err
	}
	if target == "" {
		return errno.ENOENT
	}
	if len(target) >= linux.PATH_MAX {
		return errno.ENAMETOOLONG
	}
	if target[0] == '/' {
		if r.rflags&linux.RESOLVE_BENEATH != 0 {
			return errno.EXDEV
		}
		if err := r.checkXDev(r.root); err != nil {
			return err
		}
		r.cur = r.root
	}
	comps, trailing := splitPath(target)
	if trailing {
		comps = append(comps, ".")
	}
	r.comps = append(comps, r.comps...)
	return nil
}

// walkToLast walks every component but the last, following symlinks.
// Afterwards r.comps holds the last component, or nothing if the path
// named the starting directory ("/").
func (r *resolver) walkToLast() error {
	for len(r.comps) > 1 {
		name := r.comps[0]
		r.comps = r.comps[1:]
		next, err := r.step(name)
		if err != nil {
			return err
		}
		link, err := r.symlinkInode(next)
		if err != nil {
			return err
		}
		if link != nil {
			if err := r.follow(link); err != nil {
				return err
			}
			continue
		}
		r.cur = next
	}
	return nil
}

// resolve walks the whole path. The last component's symlink is followed
// if follow is set or the path ends in "/".
func (r *resolver) resolve(follow bool) (VirtualDentry, error) {
	for {
		if err := r.walkToLast(); err != nil {
			return VirtualDentry{}, err
		}
		if len(r.comps) == 0 {
			return r.checkMustBeDir(r.cur)
		}
		next, err := r.step(r.comps[0])
		if err != nil {
			return VirtualDentry{}, err
		}
		link, err := r.symlinkInode(next)
		if err != nil {
			return VirtualDentry{}, err
		}
		if link == nil || !(follow || r.mustBeDir) {
			return r.checkMustBeDir(next)
		}
		r.comps = r.comps[1:]
		if err := r.follow(link); err != nil {
			return VirtualDentry{}, err
		}
	}
}

func (r *resolver) checkMustBeDir(vd VirtualDentry) (VirtualDentry, error) {
	if r.mustBeDir {
		if dir, err := r.isDir(vd); err != nil {
			return VirtualDentry{}, err
		} else if !dir {
			return VirtualDentry{}, errno.ENOTDIR
		}
	}
	return vd, nil
}

// resolveParent walks to the directory that holds the last component and
// returns it with the last component's name ("" if the path is "/", and
// possibly "." or ".."), which callers must handle.
func (r *resolver) resolveParent() (VirtualDentry, string, error) {
	if err := r.walkToLast(); err != nil {
		return VirtualDentry{}, "", err
	}
	dir, err := r.isDir(r.cur)
	if err != nil {
		return VirtualDentry{}, "", err
	}
	if !dir {
		return VirtualDentry{}, "", errno.ENOTDIR
	}
	if len(r.comps) == 0 {
		return r.cur, "", nil
	}
	name := r.comps[0]
	if len(name) > linux.NAME_MAX {
		return VirtualDentry{}, "", errno.ENAMETOOLONG
	}
	return r.cur, name, nil
}
