package kernel

// Resource numbers from <asm-generic/resource.h>.
const (
	RLIMIT_CPU        = 0
	RLIMIT_FSIZE      = 1
	RLIMIT_DATA       = 2
	RLIMIT_STACK      = 3
	RLIMIT_CORE       = 4
	RLIMIT_RSS        = 5
	RLIMIT_NPROC      = 6
	RLIMIT_NOFILE     = 7
	RLIMIT_MEMLOCK    = 8
	RLIMIT_AS         = 9
	RLIMIT_LOCKS      = 10
	RLIMIT_SIGPENDING = 11
	RLIMIT_MSGQUEUE   = 12
	RLIMIT_NICE       = 13
	RLIMIT_RTPRIO     = 14
	RLIMIT_RTTIME     = 15
	RLIM_NLIMITS      = 16

	// RLIM_INFINITY is "no limit".
	RLIM_INFINITY = ^uint64(0)
)

// Limit is one resource limit.
type Limit struct {
	Cur, Max uint64
}

// LimitSet is a process's resource limits.
type LimitSet [RLIM_NLIMITS]Limit

// defaultLimits are Linux's defaults for init (include/asm-generic/resource.h
// INIT_RLIMITS), with the open file limit a login session typically has.
func defaultLimits() LimitSet {
	inf := Limit{RLIM_INFINITY, RLIM_INFINITY}
	var l LimitSet
	for i := range l {
		l[i] = inf
	}
	l[RLIMIT_CORE] = Limit{0, RLIM_INFINITY}
	l[RLIMIT_STACK] = Limit{8 << 20, RLIM_INFINITY}
	l[RLIMIT_NPROC] = Limit{63448, 63448}
	l[RLIMIT_NOFILE] = Limit{1024, 1048576}
	l[RLIMIT_MEMLOCK] = Limit{8 << 20, 8 << 20}
	l[RLIMIT_SIGPENDING] = Limit{63448, 63448}
	l[RLIMIT_MSGQUEUE] = Limit{819200, 819200}
	l[RLIMIT_NICE] = Limit{0, 0}
	l[RLIMIT_RTPRIO] = Limit{0, 0}
	return l
}

// Limit returns resource r's limit.
func (tg *ThreadGroup) Limit(r int) Limit {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.limits[r]
}

// SetLimit sets resource r's limit and returns the old one.
func (tg *ThreadGroup) SetLimit(r int, l Limit) Limit {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	old := tg.limits[r]
	tg.limits[r] = l
	return old
}
