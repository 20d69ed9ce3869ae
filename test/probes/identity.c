/* Process identity. The sandbox has its own pid namespace, so pid and ppid
 * differ from native on purpose. */
// sandbox-divergence: the guest is init of its own pid namespace.
// sandbox-expect: pid=1
// sandbox-expect: ppid=0
#include "probe.h"
#include <unistd.h>
#include <sys/syscall.h>

int main(void)
{
	pid_t pid = getpid();
	printf("pid=%d\n", (int)pid);
	printf("ppid=%d\n", (int)getppid());
	printf("tid-is-pid=%s\n", syscall(SYS_gettid) == pid ? "yes" : "no");
	/* The runner starts native probes in their own process group, as the
	 * sandbox's init is. */
	printf("pgrp-is-pid=%s\n", getpgrp() == pid ? "yes" : "no");
	printf("uid=%d euid=%d gid=%d egid=%d\n", (int)getuid(), (int)geteuid(),
	       (int)getgid(), (int)getegid());
	return 0;
}
