package seccomp

// Return values from <linux/seccomp.h>.
const (
	RetKillProcess = 0x80000000
	RetKillThread  = 0x00000000
	RetTrap        = 0x00030000
	RetErrno       = 0x00050000
	RetUserNotif   = 0x7fc00000
	RetTrace       = 0x7ff00000
	RetLog         = 0x7ffc0000
	RetAllow       = 0x7fff0000

	RetActionFull = 0xffff0000
	RetData       = 0x0000ffff

	// AuditArchX86_64 is AUDIT_ARCH_X86_64.
	AuditArchX86_64 = 0xc000003e
)

// KnownAction reports whether action (without data) is one Linux defines
// (SECCOMP_GET_ACTION_AVAIL).
func KnownAction(action uint32) bool {
	switch action {
	case RetKillProcess, RetKillThread, RetTrap, RetErrno, RetUserNotif, RetTrace, RetLog, RetAllow:
		return true
	}
	return false
}

// Filters is an immutable stack of installed filters; the newest is at
// the top and points to the older ones. Threads and children share it.
type Filters struct {
	prog *Program
	prev *Filters
	// Log is SECCOMP_FILTER_FLAG_LOG.
	log bool
	n   int
}

// Push returns f with p on top.
func (f *Filters) Push(p *Program, log bool) *Filters {
	n := 1
	if f != nil {
		n = f.n + 1
	}
	return &Filters{prog: p, prev: f, log: log, n: n}
}

// Len returns the number of filters.
func (f *Filters) Len() int {
	if f == nil {
		return 0
	}
	return f.n
}

// Evaluate runs every filter on d and returns the verdict that wins:
// "the return value with the highest precedence" - seccomp(2), where a
// lower action value (as a signed 32-bit number) takes precedence.
func (f *Filters) Evaluate(d *Data) uint32 {
	verdict := uint32(RetAllow)
	for ; f != nil; f = f.prev {
		v := f.prog.Run(d)
		if int32(v&RetActionFull) < int32(verdict&RetActionFull) {
			verdict = v
		}
	}
	return verdict
}
