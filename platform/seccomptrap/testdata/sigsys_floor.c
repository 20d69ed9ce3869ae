// The kernel floor of the seccomptrap round trip: an in-process seccomp
// SECCOMP_RET_TRAP for getppid, a SIGSYS handler that only sets rax, and
// rt_sigreturn. No handoff, no second process.
//
//   gcc -O2 sigsys_floor.c -o /tmp/sigsys_floor && /tmp/sigsys_floor
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static void handler(int sig, siginfo_t *si, void *uc) {
	((ucontext_t *)uc)->uc_mcontext.gregs[REG_RAX] = 42;
}

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(void) {
	enum { N = 200000 };
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);
	double t0 = now();
	for (int i = 0; i < N; i++)
		syscall(SYS_getppid);
	double t1 = now();
	printf("native getppid: %.0f ns\n", (t1 - t0) / N);

	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof f / sizeof f[0], f};
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
		perror("seccomp");
		return 1;
	}
	t0 = now();
	for (int i = 0; i < N; i++)
		syscall(SYS_getppid);
	t1 = now();
	printf("trapped getppid (SIGSYS + rt_sigreturn): %.0f ns\n", (t1 - t0) / N);
	return 0;
}
