/* Syscall sites that the seccomptrap platform rewrites into jumps to
 * trampolines (sentry/mm/usertrap.go): each check here runs a site often
 * enough to be patched, then exercises what a rewritten site must still do
 * exactly as a real `syscall` does. Natively nothing is rewritten and every
 * check must hold all the same.
 *
 * The inline sites put a `nop` before `mov $nr, %eax; syscall`, so that the
 * byte before the site is never a prefix and the site is always patchable. */
#include "probe.h"

#include <asm/prctl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 2000

/* patched_getpid is a site of the shape glibc's wrappers have. */
__attribute__((noinline)) static long patched_getpid(void)
{
	long r;
	asm volatile("nop\n\tmov $39, %%eax\n\tsyscall" : "=a"(r) : : "rcx", "r11", "memory");
	return r;
}

/* regs_after runs getppid and reports what `syscall` leaves in rcx and r11
 * against the return address and the flags before it. */
__attribute__((noinline)) static void regs_after(int *rcx_ok, int *r11_ok)
{
	uint64_t rcx, r11, ret, flags;
	asm volatile("lea -128(%%rsp), %%rsp\n\tpushfq\n\tpop %[flags]\n\tlea 128(%%rsp), %%rsp\n\t"
		     "lea 1f(%%rip), %[ret]\n\t"
		     "nop\n\tmov $110, %%eax\n\tsyscall\n1:\n\t"
		     "mov %%rcx, %[rcx]\n\tmov %%r11, %[r11]"
		     : [rcx] "=r"(rcx), [r11] "=r"(r11), [ret] "=&r"(ret), [flags] "=&r"(flags)
		     :
		     : "rax", "rcx", "r11", "memory", "cc");
	*rcx_ok = rcx == ret;
	/* The kernel may return with RF or other bits cleared; the
	 * arithmetic flags and DF must be what they were. */
	*r11_ok = (r11 & 0xcd5) == (flags & 0xcd5);
}

/* redzone_kept stores below rsp (the red zone a leaf function may use),
 * runs a site, and reads it back. */
__attribute__((noinline)) static int redzone_kept(void)
{
	uint64_t got;
	asm volatile("movq $0x1234567890, %%rdx\n\tmovq %%rdx, -8(%%rsp)\n\tmovq %%rdx, -128(%%rsp)\n\t"
		     "nop\n\tmov $110, %%eax\n\tsyscall\n\t"
		     "movq -8(%%rsp), %%rdx\n\taddq -128(%%rsp), %%rdx\n\tmov %%rdx, %[got]"
		     : [got] "=r"(got)
		     :
		     : "rax", "rcx", "rdx", "r11", "memory");
	return got == 2 * 0x1234567890ULL;
}

/* flags_kept checks that the carry flag survives a site. */
__attribute__((noinline)) static int flags_kept(void)
{
	uint8_t c1, c0;
	asm volatile("stc\n\tnop\n\tmov $110, %%eax\n\tsyscall\n\tsetc %[c1]\n\t"
		     "clc\n\tnop\n\tmov $110, %%eax\n\tsyscall\n\tsetc %[c0]"
		     : [c1] "=r"(c1), [c0] "=r"(c0)
		     :
		     : "rax", "rcx", "r11", "memory", "cc");
	return c1 == 1 && c0 == 0;
}

/* SIGUSR1's handler dirties the SSE registers the interrupted code keeps
 * live, to check that the signal frame restores them. */
static volatile int usr1_count;
static void on_usr1(int sig)
{
	(void)sig;
	asm volatile("pcmpeqd %%xmm8, %%xmm8\n\tpcmpeqd %%xmm9, %%xmm9" : : : "xmm8", "xmm9");
	usr1_count++;
}

/* xmm_across runs a site n times with a value held in xmm8 and xmm9 the
 * whole time, while signals come in, and reports whether it survived. */
__attribute__((noinline)) static int xmm_across(int n)
{
	uint64_t lo, hi;
	asm volatile("movq $0x1122334455667788, %%rax\n\tmovq %%rax, %%xmm8\n\tmovq %%rax, %%xmm9\n\t"
		     "1:\n\tnop\n\tmov $110, %%eax\n\tsyscall\n\t"
		     "dec %%edx\n\tjnz 1b\n\t"
		     "movq %%xmm8, %[lo]\n\tmovq %%xmm9, %[hi]"
		     : [lo] "=r"(lo), [hi] "=r"(hi), "+d"(n)
		     :
		     : "rax", "rcx", "r11", "xmm8", "xmm9", "memory", "cc");
	return lo == 0x1122334455667788ULL && hi == lo;
}

static volatile int signaller_done;
static void *signaller(void *arg)
{
	pthread_t target = *(pthread_t *)arg;
	for (int i = 0; i < 200; i++) {
		pthread_kill(target, SIGUSR1);
		usleep(200);
	}
	signaller_done = 1;
	return NULL;
}

/* Threads race through the same sites while they get patched. */
static pid_t pid;
static void *racer(void *arg)
{
	long bad = 0;
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		if (patched_getpid() != pid || getppid() != syscall(SYS_getppid))
			bad++;
	}
	return (void *)bad;
}

/* A thread with a GS base of its own still gets the right results (the
 * trampolines fall back to a trap). */
static void *gs_user(void *arg)
{
	static uint64_t gsarea[4];
	uint64_t got = 1;
	long bad = 0;
	(void)arg;
	if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)gsarea) != 0)
		return (void *)-1L;
	for (int i = 0; i < ROUNDS; i++)
		if (patched_getpid() != pid)
			bad++;
	if (syscall(SYS_arch_prctl, ARCH_GET_GS, &got) != 0 || got != (uint64_t)gsarea)
		bad += 1000000;
	/* The trampolines' fallback leaves rcx and r11 as syscall does. */
	for (int i = 0; i < 10; i++) {
		int rcx_ok, r11_ok;
		regs_after(&rcx_ok, &r11_ok);
		if (!rcx_ok || !r11_ok)
			bad += 1000;
	}
	return (void *)bad;
}

static pthread_t main_thread;

int main(int argc, char **argv)
{
	sections_init(argc, argv);
	pid = getpid();

	if (section("basic")) {
		long bad = 0;
		for (int i = 0; i < ROUNDS; i++)
			if (patched_getpid() != pid)
				bad++;
		value("basic: wrong results", bad);
		int rcx_ok = 1, r11_ok = 1;
		for (int i = 0; i < 100; i++) {
			int a, b;
			regs_after(&a, &b);
			rcx_ok &= a;
			r11_ok &= b;
		}
		check("basic: rcx is the return address", rcx_ok);
		check("basic: r11 holds the flags", r11_ok);
		int rz = 1, fl = 1;
		for (int i = 0; i < 100; i++) {
			rz &= redzone_kept();
			fl &= flags_kept();
		}
		check("basic: red zone kept", rz);
		check("basic: flags kept", fl);
		uint64_t gs = 1;
		result("basic: arch_prctl(ARCH_GET_GS)", syscall(SYS_arch_prctl, ARCH_GET_GS, &gs));
		value("basic: gs base", (long)gs);
	}

	if (section("threads")) {
		pthread_t th[6];
		long bad = 0;
		for (int i = 0; i < 6; i++)
			pthread_create(&th[i], NULL, i == 5 ? gs_user : racer, NULL);
		for (int i = 0; i < 6; i++) {
			void *r;
			pthread_join(th[i], &r);
			bad += (long)r;
		}
		value("threads: wrong results", bad);
	}

	if (section("signals")) {
		struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
		sigaction(SIGUSR1, &sa, NULL);
		main_thread = pthread_self();
		pthread_t s;
		pthread_create(&s, NULL, signaller, &main_thread);
		int ok = 1;
		while (!signaller_done) {
			ok &= xmm_across(1000);
			struct timespec ts = {0, 0};
			nanosleep(&ts, NULL);
		}
		pthread_join(s, NULL);
		check("signals: xmm kept across sites and handlers", ok);
		check("signals: handlers ran", usr1_count > 0);

		/* A read blocked at a patched site, interrupted by a handler with
		 * SA_RESTART, restarts. The site is patched by the first reads. */
		int p[2];
		if (pipe(p) == 0) {
			char c;
			/* glibc's read(2) sets eax with xor, which is not a
			 * patchable shape; syscall(2)'s site is. */
			for (int i = 0; i < 50; i++) {
				write(p[1], "x", 1);
				syscall(SYS_read, p[0], &c, 1);
			}
			pid_t child = fork();
			if (child == 0) {
				usleep(50000);
				kill(getppid(), SIGUSR1);
				usleep(50000);
				write(p[1], "y", 1);
				_exit(0);
			}
			int before = usr1_count;
			ssize_t n = syscall(SYS_read, p[0], &c, 1);
			printf("signals: restarted read: %zd %c handler=%d\n", n, n == 1 ? c : '?', usr1_count - before);
			waitpid(child, NULL, 0);
		}
	}

	if (section("restart")) {
		/* nanosleep stopped and continued comes back through
		 * restart_syscall at the (patched) site. */
		struct timespec ts = {0, 1000};
		for (int i = 0; i < 50; i++)
			nanosleep(&ts, NULL);
		pid_t child = fork();
		if (child == 0) {
			struct timespec t0, t1, d = {0, 300 * 1000 * 1000};
			clock_gettime(CLOCK_MONOTONIC, &t0);
			int r = nanosleep(&d, NULL);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
			_exit(r == 0 && ms >= 290 ? 0 : 1);
		}
		usleep(100000);
		kill(child, SIGSTOP);
		usleep(50000);
		kill(child, SIGCONT);
		int st;
		waitpid(child, &st, 0);
		check("restart: stopped nanosleep completes", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}

	if (section("fork")) {
		/* A child inherits patched code and the trampolines. */
		pid_t child = fork();
		if (child == 0) {
			pid_t me = getpid();
			long bad = 0;
			for (int i = 0; i < ROUNDS; i++)
				if (patched_getpid() != me || getppid() != pid)
					bad++;
			_exit(bad ? 1 : 0);
		}
		int st;
		waitpid(child, &st, 0);
		check("fork: child's patched sites", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	return 0;
}
