/* fork, exit statuses and the wait family: WNOHANG, WUNTRACED/WCONTINUED
 * around SIGSTOP/SIGCONT, waitid with WNOWAIT, zombies and their reaping,
 * SIGCHLD's siginfo, process groups, and orphans reparented to init (or to
 * the probe as child subreaper natively, where the probe is not init). */
#include "probe.h"
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *status_str(int st)
{
	static char buf[64];
	if (WIFEXITED(st))
		snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, sizeof buf, "killed %s core=%d", sigabbrev_np(WTERMSIG(st)), WCOREDUMP(st) ? 1 : 0);
	else if (WIFSTOPPED(st))
		snprintf(buf, sizeof buf, "stopped %s", sigabbrev_np(WSTOPSIG(st)));
	else if (WIFCONTINUED(st))
		snprintf(buf, sizeof buf, "continued");
	else
		snprintf(buf, sizeof buf, "unknown %#x", st);
	return buf;
}

static const char *code_str(int code)
{
	switch (code) {
	case CLD_EXITED: return "CLD_EXITED";
	case CLD_KILLED: return "CLD_KILLED";
	case CLD_DUMPED: return "CLD_DUMPED";
	case CLD_STOPPED: return "CLD_STOPPED";
	case CLD_CONTINUED: return "CLD_CONTINUED";
	case CLD_TRAPPED: return "CLD_TRAPPED";
	}
	return "?";
}

/* spawn forks a child that sleeps in pause() until killed. */
static pid_t spawn_pauser(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

/* no_core makes a fault's default action not dump core, whatever the
 * host's ulimit -c and core_pattern, so that the core bit is 0 both
 * natively and in the sandbox. */
static void no_core(void)
{
	struct rlimit rl = {0, 0};
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int main(int argc, char **argv)
{
	int st;
	pid_t pid, r;
	setvbuf(stdout, NULL, _IONBF, 0);
	sections_init(argc, argv);

	expect_err("wait no children", wait(&st));

	/* Plain exit statuses, 0..255 truncation. */
	int codes[] = {0, 1, 42, 255, 256 + 3};
	for (unsigned i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		pid = fork();
		if (pid == 0)
			_exit(codes[i]);
		r = waitpid(pid, &st, 0);
		printf("exit(%d): waitpid=%s %s\n", codes[i], r == pid ? "pid" : "?", status_str(st));
	}

	/* WNOHANG on a live child returns 0; the child is then a zombie
	 * (kill(pid, 0) succeeds) until reaped, after which it is ESRCH. */
	int p[2];
	pipe(p);
	pid = fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		read(p[0], &c, 1);
		_exit(9);
	}
	close(p[0]);
	value("WNOHANG running", waitpid(pid, &st, WNOHANG));
	close(p[1]); /* EOF: the child exits */
	siginfo_t si;
	memset(&si, 0, sizeof si);
	r = waitid(P_PID, pid, &si, WEXITED | WNOWAIT);
	printf("waitid WNOWAIT: r=%d pid=%s code=%s status=%d signo=%s\n", r, si.si_pid == pid ? "ok" : "FAIL",
	       code_str(si.si_code), si.si_status, sigabbrev_np(si.si_signo));
	result("zombie kill 0", kill(pid, 0));
	memset(&si, 0, sizeof si);
	r = waitid(P_ALL, 0, &si, WEXITED);
	printf("waitid P_ALL: r=%d pid=%s code=%s status=%d\n", r, si.si_pid == pid ? "ok" : "FAIL", code_str(si.si_code), si.si_status);
	expect_err("reaped kill 0", kill(pid, 0));
	expect_err("reaped waitpid", waitpid(pid, &st, WNOHANG));
	memset(&si, 0, sizeof si);
	r = waitid(P_ALL, 0, &si, WEXITED | WNOHANG);
	expect_err("waitid no children", r);

	/* Stop, continue and kill, seen by waitpid and by waitid. */
	pid = spawn_pauser();
	kill(pid, SIGSTOP);
	r = waitpid(pid, &st, WUNTRACED);
	printf("SIGSTOP: %s %s\n", r == pid ? "pid" : "?", status_str(st));
	value("stopped WNOHANG|WUNTRACED again", waitpid(pid, &st, WNOHANG | WUNTRACED));
	kill(pid, SIGCONT);
	r = waitpid(pid, &st, WCONTINUED);
	printf("SIGCONT: %s %s\n", r == pid ? "pid" : "?", status_str(st));
	kill(pid, SIGTSTP);
	memset(&si, 0, sizeof si);
	r = waitid(P_PID, pid, &si, WSTOPPED);
	printf("SIGTSTP waitid: r=%d code=%s status=%s\n", r, code_str(si.si_code), sigabbrev_np(si.si_status));
	kill(pid, SIGCONT);
	memset(&si, 0, sizeof si);
	r = waitid(P_PID, pid, &si, WCONTINUED);
	printf("SIGCONT waitid: r=%d code=%s status=%s\n", r, code_str(si.si_code), sigabbrev_np(si.si_status));
	kill(pid, SIGTERM);
	r = waitpid(pid, &st, 0);
	printf("SIGTERM: %s %s\n", r == pid ? "pid" : "?", status_str(st));

	/* A stopped child killed with SIGKILL. */
	pid = spawn_pauser();
	kill(pid, SIGSTOP);
	waitpid(pid, &st, WUNTRACED);
	kill(pid, SIGKILL);
	memset(&si, 0, sizeof si);
	r = waitid(P_PID, pid, &si, WEXITED);
	printf("SIGKILL stopped waitid: r=%d code=%s status=%s\n", r, code_str(si.si_code), sigabbrev_np(si.si_status));

	/* Death by a fault's default action, with core dumps disabled so that
	 * the core bit is deterministic. */
	if (section("core")) {
		pid = fork();
		if (pid == 0) {
			no_core();
			volatile int *bad = (int *)(long)getpid();
			bad = (int *)((long)bad & 0);
			*bad = 1;
			_exit(1);
		}
		waitpid(pid, &st, 0);
		printf("SIGSEGV default: %s\n", status_str(st));
		pid = fork();
		if (pid == 0) {
			no_core();
			abort();
		}
		waitpid(pid, &st, 0);
		printf("abort: %s\n", status_str(st));
	}

	/* SIGCHLD, blocked and collected with sigtimedwait: a blocked signal
	 * is queued even when its action is the default "ignore". */
	if (section("sigchld-blocked")) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGCHLD);
		sigprocmask(SIG_BLOCK, &set, NULL);
		pid = fork();
		if (pid == 0)
			_exit(5);
		struct timespec ts = {10, 0};
		memset(&si, 0, sizeof si);
		int sig = sigtimedwait(&set, &si, &ts);
		printf("SIGCHLD: sig=%s code=%s status=%d pid=%s\n", sig > 0 ? sigabbrev_np(sig) : errname(errno), code_str(si.si_code),
		       si.si_status, si.si_pid == pid ? "ok" : "FAIL");
		waitpid(pid, &st, 0);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
	}

	/* Process groups: waitpid(-pgid) and kill(-pgid). */
	pid_t a = spawn_pauser();
	setpgid(a, a);
	pid_t b = fork();
	if (b == 0) {
		setpgid(0, a);
		for (;;)
			pause();
	}
	setpgid(b, a);
	check("getpgid child", getpgid(b) == a);
	result("kill -pgid", kill(-a, SIGUSR1));
	int n = 0;
	while ((r = waitpid(-a, &st, 0)) > 0) {
		n++;
		printf("pgrp member: %s\n", status_str(st));
	}
	printf("pgrp reaped: %d then %s\n", n, errname(errno));

	/* Orphans: a child forks a grandchild and exits; the grandchild is
	 * reparented to init, or natively to the probe as subreaper. In the
	 * sandbox the probe is init (pid 1), so both name the probe. */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	int q[2];
	pipe(q);
	pid_t me = getpid();
	pid = fork();
	if (pid == 0) {
		pid_t g = fork();
		if (g == 0) {
			pid_t parent = getppid();
			close(q[0]);
			for (int i = 0; i < 5000 && getppid() == parent; i++)
				usleep(1000);
			pid_t np = getppid();
			char c = np == me ? 'p' : np == 1 ? 'i' : '?';
			write(q[1], &c, 1);
			_exit(7);
		}
		usleep(10000);
		_exit(0);
	}
	close(q[1]);
	waitpid(pid, &st, 0);
	printf("orphan's parent: %s\n", status_str(st));
	char c = 0;
	read(q[0], &c, 1);
	printf("orphan reparented to: %s\n", c == 'p' ? "probe" : c == 'i' ? "init" : "?");
	r = wait(&st);
	printf("orphan reaped by probe: %s %s\n", r > 0 ? "ok" : errname(errno), status_str(st));
	expect_err("no children left", wait(&st));
	return 0;
}
