/* Attempts to reach the host from inside the sandbox. Every attempt must
 * be refused. Run only in the sandbox: natively, as root, some would
 * succeed.
 *
 * usage: hostreach MOUNT_TARGET HOST_PID
 *   MOUNT_TARGET  a host directory; mounting on it must fail
 *   HOST_PID      the host pid of the test process; the guest must not be
 *                 able to signal or trace it
 */
#include "probe.h"
#include <linux/reboot.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

/* refused prints "what: refused ENAME" or "what: ALLOWED". */
static void refused(const char *what, long r)
{
	if (r < 0)
		printf("%s: refused %s\n", what, errname(errno));
	else
		printf("%s: ALLOWED\n", what);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: hostreach MOUNT_TARGET HOST_PID\n");
		return 2;
	}
	/* Natively these calls would rename or mount on the host, so refuse to
	 * run unless we are the init of a fresh pid namespace, as in the
	 * sandbox. */
	if (getpid() != 1) {
		printf("not sandboxed: pid %d; refusing to try\n", (int)getpid());
		return 3;
	}
	int hostpid = atoi(argv[2]);
	static const char name[] = "runsc-lite-pwned";
	refused("sethostname", sethostname(name, sizeof name - 1));
	refused("setdomainname", setdomainname(name, sizeof name - 1));
	refused("mount tmpfs", mount("none", argv[1], "tmpfs", 0, ""));
	refused("mount bind /", mount("/", argv[1], NULL, MS_BIND, NULL));
	/* CAD_OFF is the harmless reboot command, in case the sandbox leaked
	 * it to the host. */
	refused("reboot CAD_OFF", syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
					   LINUX_REBOOT_CMD_CAD_OFF, NULL));
	refused("ptrace TRACEME", ptrace(PTRACE_TRACEME, 0, NULL, NULL));
	refused("ptrace ATTACH host pid", ptrace(PTRACE_ATTACH, hostpid, NULL, NULL));
	refused("kill host pid", kill(hostpid, 0));
	return 0;
}
