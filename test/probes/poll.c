/* Readiness: poll, ppoll and select on pipes; epoll level-triggered,
 * edge-triggered and EPOLLONESHOT; eventfd (counter and semaphore);
 * timerfd; signalfd. */
#include "probe.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* pev names poll events; two calls may share one printf. */
static const char *pev(short e)
{
	static char bufs[2][64];
	static int next;
	char *buf = bufs[next++ % 2];
	buf[0] = 0;
	if (e & POLLIN)
		strcat(buf, "IN|");
	if (e & POLLOUT)
		strcat(buf, "OUT|");
	if (e & POLLHUP)
		strcat(buf, "HUP|");
	if (e & POLLERR)
		strcat(buf, "ERR|");
	if (e & POLLNVAL)
		strcat(buf, "NVAL|");
	size_t n = strlen(buf);
	if (n)
		buf[n - 1] = 0;
	else
		strcpy(buf, "0");
	return buf;
}

static volatile int usr2_hits;
static void on_usr2(int sig)
{
	(void)sig;
	usr2_hits++;
}

static void polls(void)
{
	int p[2];
	pipe(p);
	struct pollfd fds[2] = {{.fd = p[0], .events = POLLIN}, {.fd = p[1], .events = POLLOUT}};
	int r = poll(fds, 2, 0);
	printf("poll empty: r=%d read=%s write=%s\n", r, pev(fds[0].revents), pev(fds[1].revents));
	write(p[1], "x", 1);
	r = poll(fds, 2, 0);
	printf("poll data: r=%d read=%s write=%s\n", r, pev(fds[0].revents), pev(fds[1].revents));
	close(p[1]);
	fds[1].fd = -1;
	r = poll(fds, 2, 0);
	printf("poll writer closed: r=%d read=%s ignored=%s\n", r, pev(fds[0].revents), pev(fds[1].revents));
	char c;
	read(p[0], &c, 1);
	r = poll(fds, 1, 0);
	printf("poll drained: r=%d read=%s\n", r, pev(fds[0].revents));
	close(p[0]);
	pipe(p);
	close(p[0]);
	fds[0] = (struct pollfd){.fd = p[1], .events = POLLOUT};
	r = poll(fds, 1, 0);
	printf("poll reader closed: r=%d write=%s\n", r, pev(fds[0].revents));
	close(p[1]);
	fds[0] = (struct pollfd){.fd = 999, .events = POLLIN};
	r = poll(fds, 1, 0);
	printf("poll bad fd: r=%d %s\n", r, pev(fds[0].revents));

	/* A timeout, and a wakeup by a child's write. */
	pipe(p);
	fds[0] = (struct pollfd){.fd = p[0], .events = POLLIN};
	value("poll 50ms timeout", poll(fds, 1, 50));
	pid_t pid = fork();
	if (pid == 0) {
		usleep(50000);
		write(p[1], "y", 1);
		_exit(0);
	}
	r = poll(fds, 1, 5000);
	printf("poll woken by child: r=%d %s\n", r, pev(fds[0].revents));
	waitpid(pid, NULL, 0);

	/* ppoll: a timeout; then a pending SIGUSR2, blocked outside, is
	 * delivered during ppoll because its mask unblocks it: EINTR, and the
	 * old mask is back afterwards. */
	sigset_t block, empty, now;
	sigemptyset(&block);
	sigemptyset(&empty);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	struct timespec ts = {0, 10 * 1000 * 1000};
	read(p[0], &c, 1);
	value("ppoll timeout", ppoll(fds, 1, &ts, &empty));
	signal(SIGUSR2, on_usr2);
	raise(SIGUSR2);
	ts.tv_sec = 5;
	expect_err("ppoll unblocking a pending signal", ppoll(fds, 1, &ts, &empty));
	sigprocmask(SIG_BLOCK, NULL, &now);
	printf("ppoll handler ran=%d mask restored=%d\n", usr2_hits, sigismember(&now, SIGUSR2));
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	signal(SIGUSR2, SIG_DFL);

	/* select: readiness and the timeout. */
	write(p[1], "z", 1);
	fd_set rd, wr;
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(p[0], &rd);
	FD_SET(p[1], &wr);
	struct timeval tv = {0, 0};
	r = select(p[1] + 1, &rd, &wr, NULL, &tv);
	printf("select: r=%d read=%d write=%d\n", r, FD_ISSET(p[0], &rd), FD_ISSET(p[1], &wr));
	read(p[0], &c, 1);
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	tv = (struct timeval){0, 20000};
	r = select(p[0] + 1, &rd, NULL, NULL, &tv);
	printf("select timeout: r=%d read=%d\n", r, FD_ISSET(p[0], &rd));
	/* "On Linux, select() modifies timeout to reflect the amount of time
	 * not slept" - select(2). */
	if (section("select-timeout-left"))
		printf("select timeout left: %ld\n", tv.tv_sec + tv.tv_usec);
	/* An fd beyond the fd table's size is ignored by Linux, so use a
	 * closed one inside the initial 64-entry table. */
	close(50);
	FD_ZERO(&rd);
	FD_SET(50, &rd);
	tv = (struct timeval){0, 0};
	expect_err("select closed fd", select(51, &rd, NULL, NULL, &tv));
	close(p[0]);
	close(p[1]);
}

static void epolls(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int p[2];
	pipe2(p, O_NONBLOCK);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7}, out[4];
	result("epoll_ctl ADD", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	expect_err("epoll_ctl ADD again", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	expect_err("epoll_ctl MOD missing", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev));
	expect_err("epoll_ctl add itself", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
	value("epoll_wait empty", epoll_wait(ep, out, 4, 0));
	write(p[1], "ab", 2);
	int n = epoll_wait(ep, out, 4, 0);
	printf("LT: n=%d data=%llu IN=%d\n", n, (unsigned long long)out[0].data.u64, !!(out[0].events & EPOLLIN));
	value("LT again (still readable)", epoll_wait(ep, out, 4, 0));

	/* Edge-triggered: reported once per new arrival. */
	ev.events = EPOLLIN | EPOLLET;
	result("epoll_ctl MOD ET", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	value("ET after MOD (ready)", epoll_wait(ep, out, 4, 0));
	value("ET again", epoll_wait(ep, out, 4, 0));
	write(p[1], "c", 1);
	value("ET new data", epoll_wait(ep, out, 4, 0));
	value("ET again", epoll_wait(ep, out, 4, 0));

	/* One-shot: disarmed after one event until re-armed with MOD. */
	ev.events = EPOLLIN | EPOLLONESHOT;
	epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
	value("ONESHOT first", epoll_wait(ep, out, 4, 0));
	write(p[1], "d", 1);
	value("ONESHOT disarmed", epoll_wait(ep, out, 4, 0));
	epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
	value("ONESHOT re-armed", epoll_wait(ep, out, 4, 0));

	/* Hang-up, and DEL. */
	ev.events = EPOLLIN;
	epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
	char buf[16];
	read(p[0], buf, sizeof buf);
	close(p[1]);
	n = epoll_wait(ep, out, 4, 0);
	printf("writer closed: n=%d HUP=%d IN=%d\n", n, !!(out[0].events & EPOLLHUP), !!(out[0].events & EPOLLIN));
	result("epoll_ctl DEL", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
	value("after DEL", epoll_wait(ep, out, 4, 0));
	/* Closing the last fd removes it from the interest list. */
	pipe(p);
	ev.events = EPOLLOUT;
	epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev);
	value("pipe writable", epoll_wait(ep, out, 4, 0));
	close(p[1]);
	value("after close", epoll_wait(ep, out, 4, 0));
	close(p[0]);

	/* A blocking epoll_wait woken by a child, and a timeout. */
	pipe(p);
	ev.events = EPOLLIN;
	ev.data.u64 = 9;
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	value("epoll_wait 30ms timeout", epoll_wait(ep, out, 4, 30));
	pid_t pid = fork();
	if (pid == 0) {
		usleep(50000);
		write(p[1], "x", 1);
		_exit(0);
	}
	n = epoll_wait(ep, out, 4, 5000);
	printf("woken by child: n=%d data=%llu\n", n, (unsigned long long)out[0].data.u64);
	waitpid(pid, NULL, 0);
	close(p[0]);
	close(p[1]);
	close(ep);
}

static void eventfds(void)
{
	int fd = eventfd(3, EFD_NONBLOCK);
	uint64_t v = 0;
	value("eventfd read", read(fd, &v, 8));
	printf("eventfd value: %llu\n", (unsigned long long)v);
	expect_err("eventfd read empty", read(fd, &v, 8));
	expect_err("eventfd short read", read(fd, &v, 4));
	v = 5;
	write(fd, &v, 8);
	write(fd, &v, 8);
	struct pollfd pfd = {.fd = fd, .events = POLLIN | POLLOUT};
	poll(&pfd, 1, 0);
	printf("eventfd poll: %s\n", pev(pfd.revents));
	read(fd, &v, 8);
	printf("eventfd sum: %llu\n", (unsigned long long)v);
	v = 0xffffffffffffffffULL;
	expect_err("eventfd write max", write(fd, &v, 8));
	v = 0xfffffffffffffffeULL;
	value("eventfd write max-1", write(fd, &v, 8));
	v = 1;
	expect_err("eventfd overflow", write(fd, &v, 8));
	close(fd);
	fd = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
	read(fd, &v, 8);
	printf("semaphore read: %llu\n", (unsigned long long)v);
	read(fd, &v, 8);
	printf("semaphore read: %llu\n", (unsigned long long)v);
	expect_err("semaphore empty", read(fd, &v, 8));
	close(fd);
}

static void timerfds(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	uint64_t n = 0;
	expect_err("timerfd unarmed read", read(fd, &n, 8));
	struct itimerspec its = {.it_value = {0, 20 * 1000 * 1000}, .it_interval = {0, 20 * 1000 * 1000}};
	result("timerfd_settime", timerfd_settime(fd, 0, &its, NULL));
	struct itimerspec cur;
	timerfd_gettime(fd, &cur);
	check("timerfd_gettime", cur.it_interval.tv_nsec == 20 * 1000 * 1000 && cur.it_value.tv_nsec > 0);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	value("poll timerfd", poll(&pfd, 1, 5000));
	usleep(100000);
	read(fd, &n, 8);
	check("expirations >= 4", n >= 4);
	its = (struct itimerspec){0};
	timerfd_settime(fd, 0, &its, NULL);
	expect_err("disarmed read", read(fd, &n, 8));
	/* An absolute time in the past fires at once. */
	its.it_value.tv_sec = 1;
	timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL);
	value("past absolute poll", poll(&pfd, 1, 2000));
	value("past absolute read", read(fd, &n, 8));
	printf("past absolute expirations: %llu\n", (unsigned long long)n);
	close(fd);
	expect_err("timerfd bad clock", timerfd_create(12345, 0));
}

static void signalfds(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int fd = signalfd(-1, &set, SFD_NONBLOCK);
	struct signalfd_siginfo si;
	expect_err("signalfd empty", read(fd, &si, sizeof si));
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	value("signalfd poll empty", poll(&pfd, 1, 0));
	union sigval v = {.sival_int = 31};
	sigqueue(getpid(), SIGUSR2, v);
	kill(getpid(), SIGUSR1);
	value("signalfd poll pending", poll(&pfd, 1, 0));
	for (int i = 0; i < 2; i++) {
		ssize_t r = read(fd, &si, sizeof si);
		printf("signalfd read: %zd %s code=%s\n", r, sigabbrev_np(si.ssi_signo),
		       si.ssi_code == SI_USER ? "SI_USER" : si.ssi_code == SI_QUEUE ? "SI_QUEUE" : "?");
		if (si.ssi_signo == SIGUSR1 || section("signalfd-sigqueue-info"))
			printf("signalfd %s: int=%d pid ok=%d\n", sigabbrev_np(si.ssi_signo), si.ssi_int,
			       si.ssi_pid == (uint32_t)getpid());
	}
	expect_err("signalfd drained", read(fd, &si, sizeof si));
	sigset_t pend;
	sigpending(&pend);
	printf("pending after: USR1=%d\n", sigismember(&pend, SIGUSR1));
	expect_err("signalfd short buffer", read(fd, &si, 8));
	close(fd);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	sections_init(argc, argv);
	if (section("poll"))
		polls();
	if (section("epoll"))
		epolls();
	if (section("eventfd"))
		eventfds();
	if (section("timerfd"))
		timerfds();
	if (section("signalfd"))
		signalfds();
	return 0;
}
