/* seccomp_filter: a guest installs a seccomp filter (ERRNO for getppid,
 * TRAP for getuid) and checks the verdicts, the SIGSYS siginfo, the
 * rolled-back return value, PR_GET_SECCOMP and inheritance by a child. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stddef.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/audit.h>
static void h(int s, siginfo_t *si, void *u){ printf("SIGSYS code=%d syscall=%d arch=%#x errno=%d\n", si->si_code, si->si_syscall, si->si_arch, si->si_errno); }
int main(void){
  struct sock_filter f[] = {
    BPF_STMT(BPF_LD|BPF_W|BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, SYS_getppid, 0, 1), BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ERRNO|EACCES),
    BPF_JUMP(BPF_JMP|BPF_JEQ|BPF_K, SYS_getuid, 0, 1), BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_TRAP|7),
    BPF_STMT(BPF_RET|BPF_K, SECCOMP_RET_ALLOW) };
  struct sock_fprog p = { sizeof f / sizeof f[0], f };
  struct sigaction sa = {0}; sa.sa_sigaction = h; sa.sa_flags = SA_SIGINFO; sigaction(SIGSYS, &sa, 0);
  printf("mode before=%d\n", prctl(PR_GET_SECCOMP));
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  printf("install=%ld\n", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p));
  printf("mode after=%d\n", prctl(PR_GET_SECCOMP));
  errno = 0; long r = syscall(SYS_getppid); printf("getppid=%ld %s\n", r, strerror(errno));
  r = syscall(SYS_getuid); printf("getuid returned %ld\n", r);
  if (fork() == 0) { errno=0; r = syscall(SYS_getppid); printf("child getppid=%ld %s\n", r, strerror(errno)); fflush(stdout); _exit(0); }
  int st; wait(&st); return 0; }
