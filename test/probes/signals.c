/* Signal handlers and masks: SA_SIGINFO, SA_ONSTACK on a sigaltstack,
 * SA_NODEFER, SA_RESETHAND, SA_RESTART versus EINTR on a blocking pipe
 * read, sigsuspend, sigprocmask/sigpending, rt_sigqueueinfo's value,
 * synchronous faults (SIGSEGV, SIGFPE, SIGILL, SIGTRAP from int3, SIGBUS)
 * with their si_code and si_addr, and default actions. */
#include "probe.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static volatile sig_atomic_t hits;
static volatile int last_sig, last_code, last_errno_seen;
static volatile void *last_addr;
static volatile int last_value, value_sum;
static volatile int on_altstack;
static volatile int nested_depth, max_depth, nested_calls;
static char *alt_base;
static size_t alt_size = 64 * 1024;
static sigjmp_buf jb;

static void install(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0)
		printf("sigaction(%s): %s\n", sigabbrev_np(sig), errname(errno));
}

static void record(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	hits++;
	last_sig = sig;
	last_code = si->si_code;
	last_addr = si->si_addr;
	last_value = si->si_value.sival_int;
	value_sum += last_value;
	char here;
	on_altstack = &here >= alt_base && &here < alt_base + alt_size;
}

static void basics(void)
{
	/* SA_SIGINFO from kill(2): si_code SI_USER and the sender's pid. */
	install(SIGUSR1, record, 0);
	hits = 0;
	kill(getpid(), SIGUSR1);
	printf("kill SIGUSR1: hits=%d sig=%s code=%s\n", hits, sigabbrev_np(last_sig), last_code == SI_USER ? "SI_USER" : "?");

	/* rt_sigqueueinfo carries a value; the queue keeps every instance of
	 * an RT signal but only one of a standard signal. */
	install(SIGRTMIN + 1, record, 0);
	hits = 0;
	union sigval v = {.sival_int = 4242};
	result("sigqueue", sigqueue(getpid(), SIGRTMIN + 1, v));
	printf("sigqueue: hits=%d value=%d code=%s\n", hits, last_value, last_code == SI_QUEUE ? "SI_QUEUE" : "?");
	siginfo_t info;
	memset(&info, 0, sizeof info);
	info.si_signo = SIGRTMIN + 1;
	info.si_code = SI_QUEUE;
	info.si_pid = getpid();
	info.si_uid = getuid();
	info.si_value.sival_int = 77;
	result("rt_sigqueueinfo", syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN + 1, &info));
	printf("rt_sigqueueinfo: value=%d\n", last_value);

	sigset_t set, old, pend;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &set, &old);
	hits = 0;
	value_sum = 0;
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR1);
	for (int i = 1; i <= 3; i++) {
		v.sival_int = i;
		sigqueue(getpid(), SIGRTMIN + 1, v);
	}
	sigpending(&pend);
	printf("blocked: hits=%d pending USR1=%d RTMIN+1=%d USR2=%d\n", hits, sigismember(&pend, SIGUSR1),
	       sigismember(&pend, SIGRTMIN + 1), sigismember(&pend, SIGUSR2));
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("unblocked: hits=%d (1 USR1 + 3 RTMIN+1) value sum=%d\n", hits, value_sum);
	sigpending(&pend);
	printf("pending after: USR1=%d\n", sigismember(&pend, SIGUSR1));

	/* SIGKILL and SIGSTOP cannot be caught or blocked. */
	struct sigaction sa = {0};
	sa.sa_handler = SIG_IGN;
	expect_err("sigaction SIGKILL", sigaction(SIGKILL, &sa, NULL));
	expect_err("sigaction SIGSTOP", sigaction(SIGSTOP, &sa, NULL));
	expect_err("sigaction 0", sigaction(0, &sa, NULL));
	expect_err("sigaction 65", syscall(SYS_rt_sigaction, 65, NULL, NULL, 8));
	expect_err("rt_sigprocmask bad size", syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, NULL, 4));
	sigemptyset(&set);
	sigaddset(&set, SIGKILL);
	sigaddset(&set, SIGSTOP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigprocmask(SIG_BLOCK, NULL, &old);
	printf("block KILL/STOP: KILL=%d STOP=%d\n", sigismember(&old, SIGKILL), sigismember(&old, SIGSTOP));
	/* The old action comes back from sigaction. */
	struct sigaction got;
	sigaction(SIGUSR1, NULL, &got);
	check("old action", got.sa_sigaction == record && (got.sa_flags & SA_SIGINFO));
	/* SIG_IGN discards. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGUSR2, &sa, NULL);
	result("kill ignored SIGUSR2", kill(getpid(), SIGUSR2));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGUSR2, &sa, NULL);
}

/* SA_ONSTACK runs the handler on the sigaltstack; SS_ONSTACK is reported
 * from inside and sigaltstack cannot be changed while on it. */
static volatile int ss_flags_inside, ss_change_err;
static void altstack_handler(int sig, siginfo_t *si, void *uc)
{
	record(sig, si, uc);
	stack_t cur;
	sigaltstack(NULL, &cur);
	ss_flags_inside = cur.ss_flags;
	stack_t n = {.ss_sp = alt_base, .ss_size = alt_size};
	ss_change_err = sigaltstack(&n, NULL) < 0 ? errno : 0;
}

static void altstack(void)
{
	alt_base = mmap(NULL, alt_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	stack_t ss = {.ss_sp = alt_base, .ss_size = alt_size, .ss_flags = 0};
	result("sigaltstack", sigaltstack(&ss, NULL));
	stack_t small = {.ss_sp = alt_base, .ss_size = 512};
	expect_err("sigaltstack too small", sigaltstack(&small, NULL));
	stack_t cur;
	sigaltstack(NULL, &cur);
	check("sigaltstack get", cur.ss_sp == alt_base && cur.ss_size == alt_size && cur.ss_flags == 0);
	install(SIGUSR2, altstack_handler, SA_ONSTACK);
	raise(SIGUSR2);
	printf("SA_ONSTACK: on altstack=%d SS_ONSTACK=%d change inside=%s\n", on_altstack, !!(ss_flags_inside & SS_ONSTACK),
	       ss_change_err ? errname(ss_change_err) : "ok");
	install(SIGUSR2, record, 0);
	raise(SIGUSR2);
	printf("without SA_ONSTACK: on altstack=%d\n", on_altstack);
}

/* SA_NODEFER lets a handler be interrupted by its own signal; without it
 * the signal is blocked during the handler. */
static void nested(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	nested_depth++;
	if (nested_depth > max_depth)
		max_depth = nested_depth;
	if (++nested_calls < 3)
		raise(sig);
	nested_depth--;
}

static void nodefer(void)
{
	install(SIGUSR1, nested, SA_NODEFER);
	max_depth = nested_calls = 0;
	raise(SIGUSR1);
	printf("SA_NODEFER: depth=%d\n", max_depth);
	install(SIGUSR1, nested, 0);
	max_depth = nested_calls = 0;
	raise(SIGUSR1);
	printf("deferred: depth=%d calls=%d\n", max_depth, nested_calls);

	/* SA_RESETHAND: the handler runs once, then the default returns. */
	install(SIGUSR1, record, SA_RESETHAND);
	hits = 0;
	raise(SIGUSR1);
	struct sigaction got;
	sigaction(SIGUSR1, NULL, &got);
	printf("SA_RESETHAND: hits=%d reset=%d\n", hits, got.sa_handler == SIG_DFL);

	/* sa_mask is blocked during the handler. */
	install(SIGUSR1, record, 0);
}

static volatile int mask_had_usr2;
static void check_mask(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	mask_had_usr2 = sigismember(&cur, SIGUSR2);
	/* The saved mask in the ucontext is the one to be restored. */
	ucontext_t *u = uc;
	sigaddset(&u->uc_sigmask, SIGWINCH);
}

static void samask(void)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = check_mask;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	printf("sa_mask in handler: USR2=%d; after: USR2=%d, uc_sigmask edit WINCH=%d\n", mask_had_usr2,
	       sigismember(&cur, SIGUSR2), sigismember(&cur, SIGWINCH));
	sigemptyset(&cur);
	sigprocmask(SIG_SETMASK, &cur, NULL);
}

/* SA_RESTART: a blocking read interrupted by a handled signal restarts;
 * without it the read fails with EINTR. A child sends the signal. */
static void noop(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	hits++;
}

static void restart(int flags, const char *what)
{
	int p[2];
	pipe(p);
	install(SIGALRM, noop, flags);
	hits = 0;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		usleep(100000);
		kill(parent, SIGALRM);
		usleep(100000);
		write(p[1], "x", 1);
		_exit(0);
	}
	char c;
	ssize_t n = read(p[0], &c, 1);
	printf("%s: read=%zd %s hits=%d\n", what, n, n < 0 ? errname(errno) : "ok", hits);
	waitpid(pid, NULL, 0);
	close(p[0]);
	close(p[1]);
}

/* sigsuspend waits with a temporary mask and returns EINTR after the
 * handler; the old mask comes back. */
static void suspend(void)
{
	install(SIGUSR1, noop, 0);
	sigset_t block, old, wait;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	hits = 0;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		usleep(50000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	sigemptyset(&wait);
	int r = sigsuspend(&wait);
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	printf("sigsuspend: r=%d %s hits=%d mask restored=%d\n", r, errname(errno), hits, sigismember(&now, SIGUSR1));
	waitpid(pid, NULL, 0);

	/* sigwaitinfo takes a blocked pending signal without a handler. */
	union sigval v = {.sival_int = 9};
	sigqueue(getpid(), SIGUSR1, v);
	siginfo_t si;
	int sig = sigwaitinfo(&block, &si);
	printf("sigwaitinfo: %s value=%d hits=%d\n", sigabbrev_np(sig), si.si_value.sival_int, hits);
	struct timespec zero = {0, 0};
	expect_err("sigtimedwait nothing pending", sigtimedwait(&block, &si, &zero));
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Synchronous faults, caught and skipped with siglongjmp. */
static void fault(int sig, siginfo_t *si, void *uc)
{
	record(sig, si, uc);
	siglongjmp(jb, 1);
}

static const char *code_name(int sig, int code)
{
	switch (sig) {
	case SIGSEGV:
		return code == SEGV_MAPERR ? "SEGV_MAPERR" : code == SEGV_ACCERR ? "SEGV_ACCERR" : "?";
	case SIGFPE:
		return code == FPE_INTDIV ? "FPE_INTDIV" : "?";
	case SIGILL:
		return code == ILL_ILLOPN ? "ILL_ILLOPN" : code == ILL_ILLOPC ? "ILL_ILLOPC" : "?";
	case SIGTRAP:
		return code == SI_KERNEL ? "SI_KERNEL" : code == TRAP_BRKPT ? "TRAP_BRKPT" : "?";
	case SIGBUS:
		return code == BUS_ADRERR ? "BUS_ADRERR" : "?";
	}
	return "?";
}

static void faults(void)
{
	int sigs[] = {SIGSEGV, SIGFPE, SIGILL, SIGTRAP, SIGBUS};
	for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		install(sigs[i], fault, SA_ONSTACK | SA_NODEFER);

	long page = sysconf(_SC_PAGESIZE);
	char *ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *none = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(none, page);

	if (sigsetjmp(jb, 1) == 0)
		*(volatile char *)none = 1;
	printf("unmapped write: %s %s addr ok=%d altstack=%d\n", sigabbrev_np(last_sig), code_name(last_sig, last_code),
	       last_addr == none, on_altstack);
	if (sigsetjmp(jb, 1) == 0)
		*(volatile char *)(ro + 5) = 1;
	printf("read-only write: %s %s addr ok=%d\n", sigabbrev_np(last_sig), code_name(last_sig, last_code), last_addr == ro + 5);

	if (sigsetjmp(jb, 1) == 0) {
		int a = 1, dx = 0, d = 0;
		__asm__ volatile("cltd; idivl %2" : "+a"(a), "+d"(dx) : "r"(d));
	}
	printf("divide by zero: %s %s\n", sigabbrev_np(last_sig), code_name(last_sig, last_code));

	if (sigsetjmp(jb, 1) == 0)
		__asm__ volatile("ud2");
	printf("ud2: %s %s\n", sigabbrev_np(last_sig), code_name(last_sig, last_code));

	if (sigsetjmp(jb, 1) == 0)
		__asm__ volatile("int3");
	printf("int3: %s %s\n", sigabbrev_np(last_sig), code_name(last_sig, last_code));

	/* SIGBUS: touching a file mapping beyond the end of the file. */
	char path[] = "/tmp/probe-sigbus-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	ftruncate(fd, 10);
	char *m = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, fd, 0);
	last_sig = 0;
	if (sigsetjmp(jb, 1) == 0)
		(void)*(volatile char *)(m + page);
	printf("beyond EOF: %s %s addr ok=%d\n", last_sig ? sigabbrev_np(last_sig) : "none", code_name(last_sig, last_code),
	       last_addr == m + page);
	close(fd);

	/* The mask after siglongjmp(…, 1) is the one sigsetjmp saved. */
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	printf("mask after faults: SEGV=%d\n", sigismember(&cur, SIGSEGV));
	for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], SIG_DFL);
}

/* A synchronous fault while its signal is blocked, or ignored, kills. */
static void fatal(void)
{
	int st;
	const char *what[] = {"SIGSEGV blocked", "SIGSEGV ignored", "SIGSEGV handler returns to fault, reset", "raise SIGTERM",
			      "raise SIGUSR1 blocked then unblocked"};
	for (int i = 0; i < 5; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			sigset_t set;
			sigemptyset(&set);
			struct sigaction sa = {0};
			volatile char *bad = (char *)(uintptr_t)(getpid() & 0);
			switch (i) {
			case 0:
				sigaddset(&set, SIGSEGV);
				sigprocmask(SIG_BLOCK, &set, NULL);
				*bad = 1;
				break;
			case 1:
				sa.sa_handler = SIG_IGN;
				sigaction(SIGSEGV, &sa, NULL);
				*bad = 1;
				break;
			case 2:
				install(SIGSEGV, record, SA_RESETHAND);
				*bad = 1;
				break;
			case 3:
				raise(SIGTERM);
				break;
			case 4:
				signal(SIGUSR1, SIG_DFL);
				sigaddset(&set, SIGUSR1);
				sigprocmask(SIG_BLOCK, &set, NULL);
				raise(SIGUSR1);
				write(1, "still alive\n", 12);
				sigprocmask(SIG_UNBLOCK, &set, NULL);
				break;
			}
			_exit(100);
		}
		waitpid(pid, &st, 0);
		printf("%s: %s\n", what[i], WIFSIGNALED(st) ? sigabbrev_np(WTERMSIG(st)) : "exited");
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	sections_init(argc, argv);
	if (section("basics"))
		basics();
	if (section("altstack"))
		altstack();
	if (section("nodefer"))
		nodefer();
	if (section("samask"))
		samask();
	if (section("restart")) {
		restart(SA_RESTART, "SA_RESTART");
		restart(0, "no SA_RESTART");
	}
	if (section("suspend"))
		suspend();
	if (section("faults"))
		faults();
	if (section("fatal"))
		fatal();
	return 0;
}
