package vfs

import (
	"github.com/runsc-lite/runsc-lite/abi/linux"
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

// AccessTypes is a set of MAY_* bits: MayRead, MayWrite, MayExec.
type AccessTypes uint32

// Access bits, with the values of MAY_EXEC/MAY_WRITE/MAY_READ in
// <linux/fs.h> (and of X_OK/W_OK/R_OK).
const (
	MayExec  AccessTypes = 1
	MayWrite AccessTypes = 2
	MayRead  AccessTypes = 4
)

// AccessTypesForOpenFlags returns the accesses open(2) flags ask for.
func AccessTypesForOpenFlags(flags uint32) AccessTypes {
	var ats AccessTypes
	switch flags & linux.O_ACCMODE {
	case linux.O_RDONLY:
		ats = MayRead
	case linux.O_WRONLY:
		ats = MayWrite
	default:
		ats = MayRead | MayWrite
	}
	if flags&linux.O_TRUNC != 0 {
		ats |= MayWrite
	}
	return ats
}

// CheckPermissions reports whether creds may access a file with the given
// mode and owner, following fs/namei.c:generic_permission.
func CheckPermissions(creds *auth.Credentials, ats AccessTypes, mode linux.FileMode, uid auth.KUID, gid auth.KGID) error {
	perms := uint32(mode.Permissions())
	switch {
	case creds.FSKUID == uid:
		perms >>= 6
	case creds.FSKGID == gid || creds.InGroup(gid):
		perms >>= 3
	}
	if AccessTypes(perms)&ats == ats {
		return nil
	}
	// "CAP_DAC_OVERRIDE: Bypass file read, write, and execute permission
	// checks. ... execute permission is granted if at least one of the
	// file's three execute permission bits is set" - capabilities(7). The
	// exec exception does not apply to directories (search).
	if creds.HasCapability(auth.CAP_DAC_OVERRIDE) {
		if ats&MayExec == 0 || mode.IsDir() || mode&0o111 != 0 {
			return nil
		}
	}
	// "CAP_DAC_READ_SEARCH: Bypass file read permission checks and
	// directory read and execute permission checks" - capabilities(7).
	if creds.HasCapability(auth.CAP_DAC_READ_SEARCH) {
		if ats&MayWrite == 0 && (ats&MayExec == 0 || mode.IsDir()) {
			return nil
		}
	}
	return errno.EACCES
}

// checkStatPermissions is CheckPermissions for a statx record.
func checkStatPermissions(creds *auth.Credentials, ats AccessTypes, st *linux.Statx) error {
	return CheckPermissions(creds, ats, st.FileMode(), auth.KUID(st.UID), auth.KGID(st.GID))
}

// isOwner reports whether creds own a file (or may act as its owner).
func isOwner(creds *auth.Credentials, uid auth.KUID) bool {
	return creds.FSKUID == uid || creds.HasCapability(auth.CAP_FOWNER)
}

// checkSticky enforces the sticky bit: in a sticky directory only the
// owner of the file or of the directory (or CAP_FOWNER) may delete or
// rename the file (fs/namei.c:check_sticky).
func checkSticky(creds *auth.Credentials, dir, child *linux.Statx) error {
	if dir.Mode&linux.S_ISVTX == 0 {
		return nil
	}
	if creds.FSKUID == auth.KUID(child.UID) || creds.FSKUID == auth.KUID(dir.UID) ||
		creds.HasCapability(auth.CAP_FOWNER) {
		return nil
	}
	return errno.EPERM
}
