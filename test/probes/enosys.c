/* Numbers with no syscall behind them fail with ENOSYS and nothing else
 * happens. 180 is nfsservctl, removed from Linux in 3.1 and unimplemented
 * in the sandbox; the runner also checks it is logged by name. */
#include "probe.h"
#include <unistd.h>
#include <sys/syscall.h>

int main(void)
{
	expect_err("syscall(400)", syscall(400, 1, 2, 3));
	expect_err("syscall(180 nfsservctl)", syscall(180));
	expect_err("syscall(100000)", syscall(100000));
	printf("still-running: ok\n");
	return 0;
}
