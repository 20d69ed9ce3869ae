/* futex(2): WAIT/WAKE between threads, EAGAIN on a value mismatch,
 * relative and absolute timeouts, WAIT_BITSET/WAKE_BITSET masks, WAKE
 * with no waiters, wake counts, REQUEUE and CMP_REQUEUE, shared (non
 * private) futexes across fork, and bad arguments. */
#include "probe.h"
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long futex(_Atomic uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts, _Atomic uint32_t *uaddr2,
		  uint32_t val3)
{
	return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

static _Atomic uint32_t word, word2;
static _Atomic int started, woken;

struct waiter {
	int op;
	uint32_t bitset;
	long ret;
	int err;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	atomic_fetch_add(&started, 1);
	w->ret = futex(&word, w->op, 0, NULL, NULL, w->bitset);
	w->err = w->ret < 0 ? errno : 0;
	atomic_fetch_add(&woken, 1);
	return NULL;
}

/* wait_started waits until n threads have started and had time to block
 * in futex(2). */
static void wait_started(int n)
{
	while (atomic_load(&started) < n)
		usleep(1000);
	usleep(50000);
}

static double elapsed(struct timespec a, struct timespec b)
{
	return (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	sections_init(argc, argv);
	struct timespec t0, t1, ts;

	/* Value mismatch. */
	atomic_store(&word, 1);
	expect_err("WAIT value mismatch", futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
	atomic_store(&word, 0);
	value("WAKE no waiters", futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));

	/* Relative timeout. */
	ts.tv_sec = 0;
	ts.tv_nsec = 100 * 1000 * 1000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long r = futex(&word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("WAIT 100ms timeout: %s, slept >=100ms: %s\n", r < 0 ? errname(errno) : "woken",
	       elapsed(t0, t1) >= 0.099 ? "ok" : "FAIL");
	ts.tv_nsec = 1000000000;
	expect_err("WAIT bad timespec", futex(&word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0));

	/* Absolute timeouts with WAIT_BITSET: CLOCK_MONOTONIC by default,
	 * CLOCK_REALTIME with FUTEX_CLOCK_REALTIME; one in the past. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ts = t0;
	ts.tv_nsec += 50 * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	r = futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, &ts, NULL, FUTEX_BITSET_MATCH_ANY);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("WAIT_BITSET absolute monotonic: %s, slept >=50ms: %s\n", r < 0 ? errname(errno) : "woken",
	       elapsed(t0, t1) >= 0.049 ? "ok" : "FAIL");
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec -= 1;
	expect_err("WAIT_BITSET absolute realtime in the past",
		   futex(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &ts, NULL, FUTEX_BITSET_MATCH_ANY));
	expect_err("WAIT_BITSET bitset 0", futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, 0));
	expect_err("WAIT CLOCK_REALTIME (not BITSET)", futex(&word, FUTEX_WAIT_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &ts, NULL, 0));
	expect_err("unknown op", futex(&word, 99, 0, NULL, NULL, 0));
	expect_err("unaligned", syscall(SYS_futex, (char *)&word + 1, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));
	expect_err("bad address", syscall(SYS_futex, (void *)8, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0));

	/* WAKE between threads: 4 waiters; wake 1, then the rest. */
	pthread_t th[4];
	struct waiter w[4];
	atomic_store(&started, 0);
	atomic_store(&woken, 0);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct waiter){.op = FUTEX_WAIT_PRIVATE};
		pthread_create(&th[i], NULL, wait_thread, &w[i]);
	}
	wait_started(4);
	value("WAKE 1 of 4", futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
	usleep(50000);
	value("woken after WAKE 1", atomic_load(&woken));
	value("WAKE INT_MAX", futex(&word, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0));
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	int ok = 1;
	for (int i = 0; i < 4; i++)
		ok &= w[i].ret == 0;
	check("all waiters returned 0", ok);

	/* Bitsets: a WAKE_BITSET wakes only waiters whose mask intersects. */
	atomic_store(&started, 0);
	atomic_store(&woken, 0);
	uint32_t masks[3] = {1, 2, 3};
	for (int i = 0; i < 3; i++) {
		w[i] = (struct waiter){.op = FUTEX_WAIT_BITSET_PRIVATE, .bitset = masks[i]};
		pthread_create(&th[i], NULL, wait_thread, &w[i]);
	}
	wait_started(3);
	value("WAKE_BITSET 4 (nobody)", futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 10, NULL, NULL, 4));
	value("WAKE_BITSET 2", futex(&word, FUTEX_WAKE_BITSET_PRIVATE, 10, NULL, NULL, 2));
	usleep(50000);
	value("woken after WAKE_BITSET 2", atomic_load(&woken));
	value("WAKE (any) rest", futex(&word, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0));
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);

	/* REQUEUE: wake 1, move the rest to word2; CMP_REQUEUE checks the
	 * value first. */
	atomic_store(&started, 0);
	atomic_store(&woken, 0);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct waiter){.op = FUTEX_WAIT_PRIVATE};
		pthread_create(&th[i], NULL, wait_thread, &w[i]);
	}
	wait_started(4);
	expect_err("CMP_REQUEUE mismatch", futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)2, &word2, 5));
	value("CMP_REQUEUE wake 1 requeue 2", futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)2, &word2, 0));
	/* Linux returns woken + requeued for FUTEX_REQUEUE too
	 * (kernel/futex/requeue.c:futex_requeue), though futex(2) says woken. */
	r = futex(&word, FUTEX_REQUEUE_PRIVATE, 0, (void *)10, &word2, 0);
	if (section("requeue-count"))
		value("REQUEUE wake 0 requeue rest", r);
	usleep(50000);
	value("woken after requeue", atomic_load(&woken));
	value("WAKE word (empty)", futex(&word, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0));
	value("WAKE word2", futex(&word2, FUTEX_WAKE_PRIVATE, 10, NULL, NULL, 0));
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);

	/* A shared futex in MAP_SHARED memory wakes a waiter in another
	 * process; a private one would not be seen across processes. */
	_Atomic uint32_t *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct timespec limit = {5, 0};
		long rr = futex(shared, FUTEX_WAIT, 0, &limit, NULL, 0);
		_exit(rr == 0 && atomic_load(shared) == 1 ? 0 : 1);
	}
	usleep(100000);
	atomic_store(shared, 1);
	long n;
	for (int i = 0; i < 50 && (n = futex(shared, FUTEX_WAKE, 1, NULL, NULL, 0)) == 0; i++)
		usleep(10000);
	value("shared WAKE across fork", n);
	int st;
	waitpid(pid, &st, 0);
	printf("shared waiter: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "woken" : "FAIL");

	/* The same in a MAP_SHARED file mapping (a memfd here; a POSIX
	 * semaphore in /dev/shm is the usual case): the futex is the file's
	 * page, whichever process and address map it. The child maps the
	 * file again at an address of its own. */
	int mfd = memfd_create("futex", 0);
	ftruncate(mfd, 4096);
	_Atomic uint32_t *fw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	pid = fork();
	if (pid == 0) {
		_Atomic uint32_t *mine = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
		struct timespec limit = {5, 0};
		long rr = futex(mine + 1, FUTEX_WAIT, 0, &limit, NULL, 0);
		_exit(rr == 0 && atomic_load(mine + 1) == 1 ? 0 : 1);
	}
	usleep(100000);
	atomic_store(fw + 1, 1);
	for (int i = 0; i < 50 && (n = futex(fw + 1, FUTEX_WAKE, 1, NULL, NULL, 0)) == 0; i++)
		usleep(10000);
	value("file-backed shared WAKE across fork", n);
	waitpid(pid, &st, 0);
	printf("file-backed shared waiter: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "woken" : "FAIL");
	return 0;
}
