/* Threads: pthreads with a mutex and a condition variable, a raw clone
 * thread joined through CLONE_CHILD_CLEARTID, gettid, tgkill to one thread,
 * a thread's exit(2) (the process goes on) versus exit_group(2) from a
 * thread (the whole process ends), and pthread_exit from main. */
#include "probe.h"
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NTHREADS 16
#define NINCR 10000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter;
static int arrived;
static pid_t tids[NTHREADS];

static void *worker(void *arg)
{
	long i = (long)arg;
	tids[i] = gettid();
	for (int n = 0; n < NINCR; n++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
	}
	/* A barrier out of a mutex and a condition variable. */
	pthread_mutex_lock(&mu);
	if (++arrived == NTHREADS)
		pthread_cond_broadcast(&cv);
	while (arrived < NTHREADS)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return (void *)(i * 2);
}

static void pthreads(void)
{
	pthread_t th[NTHREADS];
	for (long i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i) != 0)
			printf("pthread_create: FAIL\n");
	long sum = 0;
	for (int i = 0; i < NTHREADS; i++) {
		void *ret;
		pthread_join(th[i], &ret);
		sum += (long)ret;
	}
	printf("pthreads: counter=%ld sum=%ld\n", counter, sum);
	int distinct = 1;
	for (int i = 0; i < NTHREADS; i++) {
		if (tids[i] == getpid() || tids[i] <= 0)
			distinct = 0;
		for (int j = 0; j < i; j++)
			if (tids[i] == tids[j])
				distinct = 0;
	}
	check("thread tids distinct from each other and the pid", distinct);
	check("main gettid == getpid", gettid() == getpid());
}

/* A raw clone thread: CLONE_CHILD_CLEARTID zeroes ctid and futex-wakes it
 * when the thread exits. */
static _Atomic int raw_ran;
static pid_t raw_ctid;
static pid_t raw_tid_seen;
static pid_t raw_tgid_seen;

static int raw_thread(void *arg)
{
	(void)arg;
	raw_tid_seen = syscall(SYS_gettid);
	raw_tgid_seen = syscall(SYS_getpid);
	atomic_store(&raw_ran, 1);
	syscall(SYS_exit, 0); /* this thread only */
	return 0;
}

static void raw_clone(void)
{
	size_t sz = 64 * 1024;
	char *stack = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
		    CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
	pid_t ptid = 0;
	raw_ctid = -1;
	pid_t tid = clone(raw_thread, stack + sz, flags, NULL, &ptid, NULL, &raw_ctid);
	check("clone thread", tid > 0);
	check("CLONE_PARENT_SETTID", ptid == tid);
	/* Wait on ctid until the kernel clears it. */
	for (;;) {
		pid_t v = __atomic_load_n(&raw_ctid, __ATOMIC_SEQ_CST);
		if (v == 0)
			break;
		syscall(SYS_futex, &raw_ctid, FUTEX_WAIT, v, NULL, NULL, 0);
	}
	check("CLONE_CHILD_CLEARTID join", raw_ctid == 0 && atomic_load(&raw_ran));
	check("clone thread gettid", raw_tid_seen == tid && raw_tid_seen != getpid());
	check("clone thread getpid", raw_tgid_seen == getpid());
	/* The thread is gone: tgkill to it fails. Linux clears ctid before
	 * the thread is released, so allow it a moment. */
	for (int i = 0; i < 1000 && syscall(SYS_tgkill, getpid(), tid, 0) == 0; i++)
		usleep(1000);
	expect_err("tgkill exited thread", syscall(SYS_tgkill, getpid(), tid, 0));
	munmap(stack, sz);
}

/* tgkill directs a signal at one thread, which runs the handler. */
static _Atomic pid_t handled_by;
static void on_usr1(int sig)
{
	(void)sig;
	atomic_store(&handled_by, gettid());
}

static _Atomic int target_tid;
static _Atomic int stop_spin;
static void *spinner(void *arg)
{
	(void)arg;
	atomic_store(&target_tid, gettid());
	while (!atomic_load(&stop_spin))
		usleep(1000);
	return NULL;
}

static void tgkill_one(void)
{
	signal(SIGUSR1, on_usr1);
	pthread_t th;
	pthread_create(&th, NULL, spinner, NULL);
	while (atomic_load(&target_tid) == 0)
		usleep(1000);
	pid_t t = atomic_load(&target_tid);
	result("tgkill", syscall(SYS_tgkill, getpid(), t, SIGUSR1));
	for (int i = 0; i < 5000 && atomic_load(&handled_by) == 0; i++)
		usleep(1000);
	check("handler ran on the target thread", atomic_load(&handled_by) == t);
	expect_err("tgkill wrong tgid", syscall(SYS_tgkill, getpid() + 100000, t, 0));
	atomic_store(&stop_spin, 1);
	pthread_join(th, NULL);
}

/* In a child: threads that exit(2) leave the process running; a thread
 * that calls exit_group(2) ends the process with its status. */
static void *exit_thread(void *arg)
{
	(void)arg;
	syscall(SYS_exit, 99);
	return NULL;
}

static void *exit_group_thread(void *arg)
{
	(void)arg;
	usleep(20000);
	syscall(SYS_exit_group, 33);
	return NULL;
}

static void exits(void)
{
	int st;
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t th;
		for (int i = 0; i < 4; i++) {
			pthread_create(&th, NULL, exit_thread, NULL);
			pthread_join(th, NULL);
		}
		_exit(11); /* still here after the threads' exit(2) */
	}
	waitpid(pid, &st, 0);
	printf("thread exit(2) then main _exit(11): %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);

	pid = fork();
	if (pid == 0) {
		pthread_t th;
		pthread_create(&th, NULL, exit_group_thread, NULL);
		for (;;)
			pause();
	}
	waitpid(pid, &st, 0);
	printf("exit_group from a thread: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);

	/* Main returns through pthread_exit; the process lives until the last
	 * thread ends, and exits 0. */
	pid = fork();
	if (pid == 0) {
		pthread_t th;
		pthread_create(&th, NULL, exit_group_thread, NULL);
		pthread_exit(NULL);
	}
	waitpid(pid, &st, 0);
	printf("pthread_exit(main), thread exit_group(33): %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);

	/* A fatal signal in one thread kills the whole group. */
	pid = fork();
	if (pid == 0) {
		pthread_t th;
		atomic_store(&target_tid, 0);
		atomic_store(&stop_spin, 0);
		pthread_create(&th, NULL, spinner, NULL);
		while (atomic_load(&target_tid) == 0)
			usleep(1000);
		syscall(SYS_tgkill, getpid(), atomic_load(&target_tid), SIGTERM);
		for (;;)
			pause();
	}
	waitpid(pid, &st, 0);
	printf("SIGTERM to a thread: %s\n", WIFSIGNALED(st) ? sigabbrev_np(WTERMSIG(st)) : "not signaled");

	/* Fork from a thread: the child has one thread, and runs. */
	pid = fork();
	if (pid == 0) {
		pthread_t th;
		pthread_create(&th, NULL, spinner, NULL);
		pid_t c = fork();
		if (c == 0)
			_exit(gettid() == getpid() ? 21 : 22);
		waitpid(c, &st, 0);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
	}
	waitpid(pid, &st, 0);
	printf("fork in a multithreaded process: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* Threads touching the pages of a private file mapping for the first time
 * at once must all just read them. */
static char *fmap;
static size_t fmap_len;
static pthread_barrier_t fbar;
static _Atomic long fsum;
static volatile int fault_seen;

static void on_segv(int sig)
{
	(void)sig;
	fault_seen = 1;
	_exit(1);
}

static void *toucher(void *arg)
{
	(void)arg;
	long s = 0;
	pthread_barrier_wait(&fbar);
	for (size_t off = 0; off < fmap_len; off += 4096)
		s += fmap[off];
	atomic_fetch_add(&fsum, s);
	return NULL;
}

static void file_fault_race(void)
{
	int st;
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGSEGV, on_segv);
		int fd = open("/proc/self/exe", O_RDONLY);
		fmap_len = lseek(fd, 0, SEEK_END);
		fmap = mmap(NULL, fmap_len, PROT_READ, MAP_PRIVATE, fd, 0);
		pthread_barrier_init(&fbar, NULL, 4);
		pthread_t th[4];
		for (int i = 0; i < 4; i++)
			pthread_create(&th[i], NULL, toucher, NULL);
		for (int i = 0; i < 4; i++)
			pthread_join(th[i], NULL);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	printf("concurrent first touch of a file mapping: %s\n",
	       WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" : "SIGSEGV");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	sections_init(argc, argv);
	if (section("pthreads"))
		pthreads();
	if (section("clone"))
		raw_clone();
	if (section("tgkill"))
		tgkill_one();
	if (section("exits"))
		exits();
	if (section("file-fault-race"))
		for (int i = 0; i < 5; i++)
			file_fault_race();
	return 0;
}
