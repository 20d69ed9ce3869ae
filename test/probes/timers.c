/* Timers: nanosleep (and its remaining time after a signal),
 * clock_nanosleep relative and TIMER_ABSTIME, alarm, setitimer/getitimer
 * (ITIMER_REAL one-shot and periodic), POSIX timers with SIGEV_SIGNAL and
 * SIGEV_THREAD_ID, timer_settime/gettime/getoverrun/delete. Only facts
 * that hold on any machine are printed: lower bounds on sleeps, counts. */
#include "probe.h"
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t alarms, usr1s;
static volatile int last_value, last_code;
static _Atomic pid_t handler_tid;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* Record who ran and what came before counting: the main thread
	 * polls the counters and then reads these, possibly while this
	 * handler still runs on another thread. */
	last_value = si->si_value.sival_int;
	last_code = si->si_code;
	atomic_store(&handler_tid, gettid());
	if (sig == SIGALRM)
		alarms++;
	else
		usr1s++;
}

static double now(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void install(int sig)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(sig, &sa, NULL);
}

static void sleeps(void)
{
	struct timespec req = {0, 50 * 1000 * 1000}, rem;
	double t0 = now(CLOCK_MONOTONIC);
	result("nanosleep 50ms", nanosleep(&req, NULL));
	check("slept >= 50ms", now(CLOCK_MONOTONIC) - t0 >= 0.0495);
	req.tv_nsec = 1000000000;
	expect_err("nanosleep bad nsec", nanosleep(&req, NULL));
	req.tv_sec = -1;
	req.tv_nsec = 0;
	expect_err("nanosleep negative", nanosleep(&req, NULL));

	/* Interrupted by a handled signal: EINTR and the time left. */
	struct sigaction sa = {0};
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: nanosleep never restarts anyway */
	sigaction(SIGALRM, &sa, NULL);
	alarms = 0;
	struct itimerval it = {.it_value = {0, 100000}};
	setitimer(ITIMER_REAL, &it, NULL);
	req = (struct timespec){2, 0};
	int r = nanosleep(&req, &rem);
	printf("nanosleep interrupted: %s alarms=%d rem in (0.5s,2s): %s\n", r < 0 ? errname(errno) : "ok", alarms,
	       rem.tv_sec >= 1 || rem.tv_nsec > 500000000 ? "ok" : "FAIL");

	/* clock_nanosleep: relative, absolute, absolute in the past, and a
	 * clock that cannot sleep. */
	t0 = now(CLOCK_MONOTONIC);
	req = (struct timespec){0, 30 * 1000 * 1000};
	value("clock_nanosleep relative", clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL));
	check("relative slept >= 30ms", now(CLOCK_MONOTONIC) - t0 >= 0.0295);
	struct timespec abs;
	clock_gettime(CLOCK_MONOTONIC, &abs);
	abs.tv_nsec += 40 * 1000 * 1000;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000;
	}
	value("clock_nanosleep TIMER_ABSTIME", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL));
	struct timespec after;
	clock_gettime(CLOCK_MONOTONIC, &after);
	check("woke at or after the deadline",
	      after.tv_sec > abs.tv_sec || (after.tv_sec == abs.tv_sec && after.tv_nsec >= abs.tv_nsec));
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_sec -= 10;
	value("clock_nanosleep REALTIME past", clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &abs, NULL));
	value("clock_nanosleep THREAD_CPUTIME", clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL));
	value("clock_nanosleep bad clock", clock_nanosleep(12345, 0, &req, NULL));
}

static void alarms_and_itimers(void)
{
	install(SIGALRM);
	alarms = 0;
	value("alarm(5) previous", alarm(5));
	value("alarm(1) previous (rounded)", alarm(1));
	value("alarm(0) previous (rounded)", alarm(0));
	/* ITIMER_REAL one-shot. */
	struct itimerval it = {.it_value = {0, 50000}}, cur, old;
	result("setitimer one-shot", setitimer(ITIMER_REAL, &it, NULL));
	getitimer(ITIMER_REAL, &cur);
	check("getitimer pending", cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 50000 && cur.it_interval.tv_usec == 0);
	while (alarms == 0)
		pause();
	value("one-shot alarms", alarms);
	getitimer(ITIMER_REAL, &cur);
	check("getitimer after expiry", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);
	/* Periodic: 20ms interval, wait for 5 expirations, then disarm and
	 * read the old value back. */
	alarms = 0;
	it = (struct itimerval){.it_value = {0, 20000}, .it_interval = {0, 20000}};
	setitimer(ITIMER_REAL, &it, NULL);
	while (alarms < 5)
		pause();
	it = (struct itimerval){0};
	setitimer(ITIMER_REAL, &it, &old);
	printf("periodic: alarms>=5 interval=%ld\n", (long)old.it_interval.tv_usec);
	/* alarm() and ITIMER_REAL are one timer. */
	alarm(10);
	getitimer(ITIMER_REAL, &cur);
	check("alarm seen by getitimer", cur.it_value.tv_sec >= 9 && cur.it_value.tv_sec <= 10);
	alarm(0);
	/* ITIMER_VIRTUAL counts user CPU time. */
	alarms = 0;
	install(SIGVTALRM);
	it = (struct itimerval){.it_value = {0, 10000}};
	result("setitimer ITIMER_VIRTUAL", setitimer(ITIMER_VIRTUAL, &it, NULL));
	volatile unsigned long spin = 0;
	while (usr1s == 0 && spin < 4000000000UL)
		spin++;
	check("ITIMER_VIRTUAL fired", usr1s == 1);
	expect_err("setitimer bad which", setitimer(7, &it, NULL));
	it.it_value.tv_usec = 2000000;
	expect_err("setitimer bad usec", setitimer(ITIMER_REAL, &it, NULL));
}

static _Atomic pid_t target;
static _Atomic int stop;
static void *sleeper(void *arg)
{
	(void)arg;
	atomic_store(&target, gettid());
	while (!atomic_load(&stop))
		usleep(1000);
	return NULL;
}

static void posix_timers(void)
{
	install(SIGUSR1);
	timer_t t;
	struct sigevent sev = {0};
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR1;
	sev.sigev_value.sival_int = 1234;
	result("timer_create SIGEV_SIGNAL", timer_create(CLOCK_MONOTONIC, &sev, &t));
	struct itimerspec its = {.it_value = {0, 30 * 1000 * 1000}}, cur;
	timer_gettime(t, &cur);
	check("timer_gettime unarmed", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);
	usr1s = 0;
	result("timer_settime", timer_settime(t, 0, &its, NULL));
	timer_gettime(t, &cur);
	check("timer_gettime armed", cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 30 * 1000 * 1000);
	while (usr1s == 0)
		pause();
	printf("SIGEV_SIGNAL: fired=%d value=%d code=%s\n", usr1s, last_value, last_code == SI_TIMER ? "SI_TIMER" : "?");
	/* Overruns: block the signal across several periods. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	its = (struct itimerspec){.it_value = {0, 10 * 1000 * 1000}, .it_interval = {0, 10 * 1000 * 1000}};
	timer_settime(t, 0, &its, NULL);
	usleep(200000);
	usr1s = 0;
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	/* One signal for all the expirations, and an overrun count. */
	int overrun = timer_getoverrun(t);
	printf("blocked periodic: signals=%d\n", usr1s);
	if (section("overrun"))
		printf("overrun >= 5: %s (%d)\n", overrun >= 5 ? "ok" : "FAIL", overrun >= 5 ? 5 : overrun);
	its = (struct itimerspec){0};
	struct itimerspec old;
	timer_settime(t, 0, &its, &old);
	check("timer_settime old interval", old.it_interval.tv_nsec == 10 * 1000 * 1000);
	/* Absolute time in the past fires at once. */
	usr1s = 0;
	its.it_value.tv_sec = 1;
	timer_settime(t, TIMER_ABSTIME, &its, NULL);
	for (int i = 0; i < 1000 && usr1s == 0; i++)
		usleep(1000);
	value("absolute past fired", usr1s);
	result("timer_delete", timer_delete(t));
	expect_err("timer_delete again", timer_delete(t));
	expect_err("timer_settime deleted", timer_settime(t, 0, &its, NULL));

	/* SIGEV_THREAD_ID: the signal goes to the named thread. */
	pthread_t th;
	pthread_create(&th, NULL, sleeper, NULL);
	while (atomic_load(&target) == 0)
		usleep(1000);
	sev = (struct sigevent){0};
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGUSR1;
	sev._sigev_un._tid = atomic_load(&target);
	sev.sigev_value.sival_int = 99;
	result("timer_create SIGEV_THREAD_ID", timer_create(CLOCK_MONOTONIC, &sev, &t));
	usr1s = 0;
	atomic_store(&handler_tid, 0);
	its = (struct itimerspec){.it_value = {0, 20 * 1000 * 1000}};
	timer_settime(t, 0, &its, NULL);
	for (int i = 0; i < 5000 && usr1s == 0; i++)
		usleep(1000);
	printf("SIGEV_THREAD_ID: fired=%d value=%d on target thread=%d\n", usr1s, last_value,
	       atomic_load(&handler_tid) == atomic_load(&target));
	timer_delete(t);
	sev._sigev_un._tid = getpid() + 100000;
	expect_err("SIGEV_THREAD_ID bad tid", timer_create(CLOCK_MONOTONIC, &sev, &t));
	atomic_store(&stop, 1);
	pthread_join(th, NULL);

	/* SIGEV_NONE: armed, readable with timer_gettime, never signals. */
	sev = (struct sigevent){.sigev_notify = SIGEV_NONE};
	timer_create(CLOCK_REALTIME, &sev, &t);
	its = (struct itimerspec){.it_value = {5, 0}};
	timer_settime(t, 0, &its, NULL);
	timer_gettime(t, &cur);
	check("SIGEV_NONE gettime", cur.it_value.tv_sec >= 4 && cur.it_value.tv_sec <= 5);
	timer_delete(t);
	expect_err("timer_create bad clock", timer_create(12345, NULL, &t));
	sev = (struct sigevent){.sigev_notify = SIGEV_SIGNAL, .sigev_signo = 99};
	expect_err("timer_create bad signal", timer_create(CLOCK_MONOTONIC, &sev, &t));
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	sections_init(argc, argv);
	if (section("sleep"))
		sleeps();
	if (section("itimer"))
		alarms_and_itimers();
	if (section("posix"))
		posix_timers();
	/* Timers are per process: a forked child starts with none armed. */
	struct itimerval it = {.it_value = {5, 0}}, cur;
	setitimer(ITIMER_REAL, &it, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		getitimer(ITIMER_REAL, &cur);
		_exit(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0 ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child inherits no itimer: %s\n", WEXITSTATUS(st) == 0 ? "ok" : "FAIL");
	alarm(0);
	return 0;
}
