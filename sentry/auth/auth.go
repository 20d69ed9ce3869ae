// Package auth holds guest credentials. It is a leaf package so that the VFS
// can check permissions without importing the kernel.
package auth

// KUID and KGID are guest user and group ids.
type (
	KUID uint32
	KGID uint32
)

// Credentials are a task's identity. A Credentials value is immutable once
// published to a task; changes make a copy (Fork) first.
type Credentials struct {
	RealKUID, EffectiveKUID, SavedKUID, FSKUID KUID
	RealKGID, EffectiveKGID, SavedKGID, FSKGID KGID
	ExtraKGIDs                                 []KGID

	// Capabilities are bitmasks of CAP_* (linux/capability.h).
	PermittedCaps, InheritableCaps, EffectiveCaps, BoundingCaps uint64
}

// AllCapabilities is the mask of every capability up to CAP_CHECKPOINT_RESTORE.
const AllCapabilities = uint64(1)<<41 - 1

// NewCredentials returns credentials for uid/gid. Root gets every
// capability, as a real root login would.
func NewCredentials(uid KUID, gid KGID) *Credentials {
	c := &Credentials{
		RealKUID: uid, EffectiveKUID: uid, SavedKUID: uid, FSKUID: uid,
		RealKGID: gid, EffectiveKGID: gid, SavedKGID: gid, FSKGID: gid,
		BoundingCaps: AllCapabilities,
	}
	if uid == 0 {
		c.PermittedCaps, c.EffectiveCaps = AllCapabilities, AllCapabilities
	}
	return c
}

// Fork returns a copy of c that may be modified.
func (c *Credentials) Fork() *Credentials {
	n := *c
	n.ExtraKGIDs = append([]KGID(nil), c.ExtraKGIDs...)
	return &n
}

// HasCapability reports whether cap (a CAP_* number) is effective.
func (c *Credentials) HasCapability(cap uint) bool {
	return cap < 64 && c.EffectiveCaps&(1<<cap) != 0
}

// InGroup reports whether gid is c's effective group or a supplementary one.
func (c *Credentials) InGroup(gid KGID) bool {
	if c.EffectiveKGID == gid {
		return true
	}
	for _, g := range c.ExtraKGIDs {
		if g == gid {
			return true
		}
	}
	return false
}

// Capability numbers used by permission checks, from <linux/capability.h>.
const (
	CAP_CHOWN           = 0
	CAP_DAC_OVERRIDE    = 1
	CAP_DAC_READ_SEARCH = 2
	CAP_FOWNER          = 3
	CAP_FSETID          = 4
	CAP_KILL            = 5
	CAP_SETGID          = 6
	CAP_SETUID          = 7
	CAP_SYS_ADMIN       = 21
)
