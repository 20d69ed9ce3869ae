/* Says "ready" and blocks in read(2) on stdin, so the runner can look at
 * the stub process while the guest is blocked. */
#include "probe.h"
#include <unistd.h>

int main(void)
{
	char buf[64];
	printf("ready\n");
	fflush(stdout);
	ssize_t n = read(0, buf, sizeof buf - 1);
	if (n < 0) {
		printf("read: %s\n", errname(errno));
		return 1;
	}
	buf[n] = 0;
	printf("got %zd: %s", n, buf);
	return 0;
}
