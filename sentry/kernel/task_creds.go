package kernel

import (
	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
	"github.com/runsc-lite/runsc-lite/sentry/auth"
)

// noID is the -1 that leaves an id unchanged in set*id calls.
const noID = ^uint32(0)

// KeepCaps returns PR_GET_KEEPCAPS.
func (t *Task) KeepCaps() bool { return t.keepCaps }

// SetKeepCaps implements PR_SET_KEEPCAPS.
func (t *Task) SetKeepCaps(on bool) { t.keepCaps = on }

// fixCaps applies the capability rules of a uid change, as
// security/commoncap.c:cap_emulate_setxuid: losing uid 0 everywhere drops
// the permitted and effective sets (unless PR_SET_KEEPCAPS keeps the
// permitted one); leaving euid 0 drops the effective set; gaining euid 0
// makes the effective set the permitted one.
func fixCaps(old, c *auth.Credentials, keep bool) {
	oldRoot := old.RealKUID == 0 || old.EffectiveKUID == 0 || old.SavedKUID == 0
	newRoot := c.RealKUID == 0 || c.EffectiveKUID == 0 || c.SavedKUID == 0
	if oldRoot && !newRoot && keep {
		c.EffectiveCaps = 0
	} else if oldRoot && !newRoot {
		c.PermittedCaps, c.EffectiveCaps = 0, 0
	}
	if old.EffectiveKUID == 0 && c.EffectiveKUID != 0 {
		c.EffectiveCaps = 0
	}
	if old.EffectiveKUID != 0 && c.EffectiveKUID == 0 {
		c.EffectiveCaps = c.PermittedCaps
	}
}

// SetResUID implements setresuid(2); -1 leaves an id as it is.
func (t *Task) SetResUID(r, e, s uint32) error {
	old := t.creds
	priv := old.HasCapability(auth.CAP_SETUID)
	ok := func(id uint32) bool {
		if id == noID || priv {
			return true
		}
		k := auth.KUID(id)
		return k == old.RealKUID || k == old.EffectiveKUID || k == old.SavedKUID
	}
	if !ok(r) || !ok(e) || !ok(s) {
		return errno.EPERM
	}
	c := old.Fork()
	if r != noID {
		c.RealKUID = auth.KUID(r)
	}
	if e != noID {
		c.EffectiveKUID = auth.KUID(e)
	}
	if s != noID {
		c.SavedKUID = auth.KUID(s)
	}
	c.FSKUID = c.EffectiveKUID
	fixCaps(old, c, t.keepCaps)
	t.creds = c
	return nil
}

// SetUID implements setuid(2).
func (t *Task) SetUID(uid uint32) error {
	if uid == noID {
		return errno.EINVAL
	}
	old := t.creds
	if old.HasCapability(auth.CAP_SETUID) {
		return t.SetResUID(uid, uid, uid)
	}
	if k := auth.KUID(uid); k != old.RealKUID && k != old.SavedKUID {
		return errno.EPERM
	}
	return t.SetResUID(noID, uid, noID)
}

// SetReUID implements setreuid(2).
func (t *Task) SetReUID(r, e uint32) error {
	old := t.creds
	priv := old.HasCapability(auth.CAP_SETUID)
	if !priv {
		if r != noID && auth.KUID(r) != old.RealKUID && auth.KUID(r) != old.EffectiveKUID {
			return errno.EPERM
		}
		if e != noID && auth.KUID(e) != old.RealKUID && auth.KUID(e) != old.EffectiveKUID && auth.KUID(e) != old.SavedKUID {
			return errno.EPERM
		}
	}
	s := noID
	// "If the real user ID is set or the effective user ID is set to a
	// value not equal to the previous real user ID, the saved set-user-ID
	// will be set to the new effective user ID." - setreuid(2).
	newE := uint32(old.EffectiveKUID)
	if e != noID {
		newE = e
	}
	if r != noID || (e != noID && auth.KUID(e) != old.RealKUID) {
		s = newE
	}
	c := old.Fork()
	if r != noID {
		c.RealKUID = auth.KUID(r)
	}
	c.EffectiveKUID = auth.KUID(newE)
	if s != noID {
		c.SavedKUID = auth.KUID(s)
	}
	c.FSKUID = c.EffectiveKUID
	fixCaps(old, c, t.keepCaps)
	t.creds = c
	return nil
}

// SetResGID implements setresgid(2).
func (t *Task) SetResGID(r, e, s uint32) error {
	old := t.creds
	priv := old.HasCapability(auth.CAP_SETGID)
	ok := func(id uint32) bool {
		if id == noID || priv {
			return true
		}
		k := auth.KGID(id)
		return k == old.RealKGID || k == old.EffectiveKGID || k == old.SavedKGID
	}
	if !ok(r) || !ok(e) || !ok(s) {
		return errno.EPERM
	}
	c := old.Fork()
	if r != noID {
		c.RealKGID = auth.KGID(r)
	}
	if e != noID {
		c.EffectiveKGID = auth.KGID(e)
	}
	if s != noID {
		c.SavedKGID = auth.KGID(s)
	}
	c.FSKGID = c.EffectiveKGID
	t.creds = c
	return nil
}

// SetGID implements setgid(2).
func (t *Task) SetGID(gid uint32) error {
	if gid == noID {
		return errno.EINVAL
	}
	old := t.creds
	if old.HasCapability(auth.CAP_SETGID) {
		return t.SetResGID(gid, gid, gid)
	}
	if k := auth.KGID(gid); k != old.RealKGID && k != old.SavedKGID {
		return errno.EPERM
	}
	return t.SetResGID(noID, gid, noID)
}

// SetReGID implements setregid(2).
func (t *Task) SetReGID(r, e uint32) error {
	old := t.creds
	if !old.HasCapability(auth.CAP_SETGID) {
		if r != noID && auth.KGID(r) != old.RealKGID && auth.KGID(r) != old.EffectiveKGID {
			return errno.EPERM
		}
		if e != noID && auth.KGID(e) != old.RealKGID && auth.KGID(e) != old.EffectiveKGID && auth.KGID(e) != old.SavedKGID {
			return errno.EPERM
		}
	}
	newE := uint32(old.EffectiveKGID)
	if e != noID {
		newE = e
	}
	c := old.Fork()
	if r != noID {
		c.RealKGID = auth.KGID(r)
	}
	c.EffectiveKGID = auth.KGID(newE)
	if r != noID || (e != noID && auth.KGID(e) != old.RealKGID) {
		c.SavedKGID = auth.KGID(newE)
	}
	c.FSKGID = c.EffectiveKGID
	t.creds = c
	return nil
}

// SetFSUID implements setfsuid(2): it returns the old fsuid whether or not
// the change was allowed.
func (t *Task) SetFSUID(id uint32) uint32 {
	old := t.creds
	prev := uint32(old.FSKUID)
	k := auth.KUID(id)
	if id != noID && (old.HasCapability(auth.CAP_SETUID) || k == old.RealKUID || k == old.EffectiveKUID || k == old.SavedKUID || k == old.FSKUID) {
		c := old.Fork()
		c.FSKUID = k
		t.creds = c
	}
	return prev
}

// SetFSGID implements setfsgid(2).
func (t *Task) SetFSGID(id uint32) uint32 {
	old := t.creds
	prev := uint32(old.FSKGID)
	k := auth.KGID(id)
	if id != noID && (old.HasCapability(auth.CAP_SETGID) || k == old.RealKGID || k == old.EffectiveKGID || k == old.SavedKGID || k == old.FSKGID) {
		c := old.Fork()
		c.FSKGID = k
		t.creds = c
	}
	return prev
}

// SetGroups implements setgroups(2).
func (t *Task) SetGroups(groups []auth.KGID) error {
	if !t.creds.HasCapability(auth.CAP_SETGID) {
		return errno.EPERM
	}
	c := t.creds.Fork()
	c.ExtraKGIDs = groups
	t.creds = c
	return nil
}

// SetCapabilities implements capset(2) for the caller.
func (t *Task) SetCapabilities(eff, perm, inh uint64) error {
	old := t.creds
	const capSetpcap = 8
	// "The new permitted set must be a subset of the existing permitted
	// set"; the inheritable set may gain only permitted (or, with
	// CAP_SETPCAP, bounding) capabilities; effective is within permitted.
	if perm&^old.PermittedCaps != 0 {
		return errno.EPERM
	}
	allowedInh := old.InheritableCaps | old.PermittedCaps
	if old.HasCapability(capSetpcap) {
		allowedInh = old.InheritableCaps | old.BoundingCaps
	}
	if inh&^allowedInh != 0 {
		return errno.EPERM
	}
	if eff&^perm != 0 {
		return errno.EPERM
	}
	c := old.Fork()
	c.EffectiveCaps, c.PermittedCaps, c.InheritableCaps = eff, perm, inh
	t.creds = c
	return nil
}
