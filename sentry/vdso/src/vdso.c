/*
 * The sandbox's vDSO. Guests call these through AT_SYSINFO_EHDR (glibc,
 * musl and Go's runtime all look them up there), so reading a clock costs
 * an rdtsc and a few loads instead of a trap into the sentry.
 *
 * The sentry publishes its guest clock in the vvar page mapped just below
 * this image (sentry/vdso/vvar.go writes it; the layout here must match
 * vvarLayout there):
 *
 *	monotonic ns = mono_base + ((rdtsc - tsc_base) * mult) >> 32
 *	realtime  ns = monotonic ns + real_off
 *	boottime  ns = monotonic ns + boot_off
 *
 * The sentry's own clock_gettime evaluates the same formula, so the guest
 * sees one clock whichever way it asks. seq is a sequence count (odd while
 * the sentry rewrites the page); x86 keeps loads in order, so re-reading seq
 * after the fields is enough. When flags has no VVAR_TSC bit (no invariant
 * TSC, or not calibrated yet) every call falls back to the real syscall.
 *
 * Built by `make vdso`; the result, vdso.so, is embedded by sentry/vdso. It
 * must need no relocations and make no calls (nothing loads it but us).
 */
#include <stdint.h>

#define VVAR_TSC 1u

struct vvar {
	uint32_t seq;
	uint32_t flags;
	uint64_t tsc_base;
	int64_t mono_base;
	uint64_t mult;
	int64_t real_off;
	int64_t boot_off;
};

/* Defined by vdso.lds: the page before the image. */
extern const volatile struct vvar vvar_page __attribute__((visibility("hidden")));

struct kernel_timespec { int64_t tv_sec, tv_nsec; };
struct kernel_timeval { int64_t tv_sec, tv_usec; };
struct kernel_timezone { int32_t tz_minuteswest, tz_dsttime; };

enum {
	SYS_gettimeofday = 96,
	SYS_time = 201,
	SYS_clock_gettime = 228,
	SYS_getcpu = 309,
};

enum {
	CLOCK_REALTIME = 0,
	CLOCK_MONOTONIC = 1,
	CLOCK_REALTIME_COARSE = 5,
	CLOCK_MONOTONIC_COARSE = 6,
	CLOCK_BOOTTIME = 7,
};

static inline long syscall2(long nr, long a, long b)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;
	/* lfence keeps rdtsc from running ahead of the seq load. */
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

/*
 * guest_mono reads the guest's CLOCK_MONOTONIC and the realtime and
 * boottime offsets. It returns 0 if the fast path is off.
 */
static int guest_mono(int64_t *mono, int64_t *real_off, int64_t *boot_off)
{
	for (;;) {
		uint32_t seq = vvar_page.seq;
		if (seq & 1) {
			__asm__ volatile("pause");
			continue;
		}
		__asm__ volatile("" ::: "memory");
		if (!(vvar_page.flags & VVAR_TSC))
			return 0;
		uint64_t base = vvar_page.tsc_base;
		int64_t mbase = vvar_page.mono_base;
		uint64_t mult = vvar_page.mult;
		int64_t ro = vvar_page.real_off, bo = vvar_page.boot_off;
		uint64_t tsc = rdtsc_ordered();
		__asm__ volatile("" ::: "memory");
		if (vvar_page.seq != seq)
			continue;
		/* A TSC read on another CPU may trail tsc_base by a little. */
		uint64_t delta = tsc > base ? tsc - base : 0;
		*mono = mbase + (int64_t)(((unsigned __int128)delta * mult) >> 32);
		*real_off = ro;
		*boot_off = bo;
		return 1;
	}
}

/* clock_ns returns clock's time in ns, or -1 if the vDSO cannot read it. */
static int64_t clock_ns(int clock)
{
	int64_t mono, ro, bo;
	switch (clock) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
		break;
	default:
		return -1;
	}
	if (!guest_mono(&mono, &ro, &bo))
		return -1;
	if (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)
		return mono + ro;
	if (clock == CLOCK_BOOTTIME)
		return mono + bo;
	return mono;
}

int __vdso_clock_gettime(int clock, struct kernel_timespec *ts)
{
	int64_t ns = clock_ns(clock);
	if (ns < 0)
		return (int)syscall2(SYS_clock_gettime, clock, (long)ts);
	ts->tv_sec = ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
	return 0;
}

int __vdso_gettimeofday(struct kernel_timeval *tv, struct kernel_timezone *tz)
{
	if (tv) {
		int64_t ns = clock_ns(CLOCK_REALTIME);
		if (ns < 0)
			return (int)syscall2(SYS_gettimeofday, (long)tv, (long)tz);
		tv->tv_sec = ns / 1000000000;
		tv->tv_usec = ns % 1000000000 / 1000;
	}
	if (tz) {
		/* The sandbox is on UTC, as the sentry's gettimeofday says. */
		tz->tz_minuteswest = 0;
		tz->tz_dsttime = 0;
	}
	return 0;
}

int64_t __vdso_time(int64_t *t)
{
	int64_t ns = clock_ns(CLOCK_REALTIME);
	if (ns < 0)
		return syscall2(SYS_time, (long)t, 0);
	int64_t s = ns / 1000000000;
	if (t)
		*t = s;
	return s;
}

/* The sentry reports CPU 0, node 0 (sys_sched.go:Getcpu); so does this. */
long __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused)
{
	(void)unused;
	if (cpu)
		*cpu = 0;
	if (node)
		*node = 0;
	return 0;
}

int clock_gettime(int, struct kernel_timespec *)
	__attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct kernel_timeval *, struct kernel_timezone *)
	__attribute__((weak, alias("__vdso_gettimeofday")));
int64_t time(int64_t *) __attribute__((weak, alias("__vdso_time")));
long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
