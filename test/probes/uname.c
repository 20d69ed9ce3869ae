/* uname(2) must look like an x86-64 Linux. The release is the sandbox's
 * own fixed value, so only its presence is compared. */
#include "probe.h"
#include <sys/utsname.h>

int main(void)
{
	struct utsname u;
	if (uname(&u) != 0) {
		printf("uname: %s\n", errname(errno));
		return 1;
	}
	printf("sysname=%s\n", u.sysname);
	printf("machine=%s\n", u.machine);
	printf("release-set=%s\n", u.release[0] ? "yes" : "no");
	printf("nodename-set=%s\n", u.nodename[0] ? "yes" : "no");
	return 0;
}
