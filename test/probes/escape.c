/* Path resolution must stay inside the rootfs. Each argument is
 * "read:PATH" (print the first line of PATH or the errno name) or
 * "write:PATH" (open with O_CREAT and write a marker). */
#include "probe.h"
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *arg = argv[i], buf[256];
		if (strncmp(arg, "read:", 5) == 0) {
			int fd = open(arg + 5, O_RDONLY);
			if (fd < 0) {
				printf("%s: %s\n", arg, errname(errno));
				continue;
			}
			ssize_t n = read(fd, buf, sizeof buf - 1);
			close(fd);
			if (n < 0) {
				printf("%s: read %s\n", arg, errname(errno));
				continue;
			}
			buf[n] = 0;
			buf[strcspn(buf, "\n")] = 0;
			printf("%s: content %s\n", arg, buf);
		} else if (strncmp(arg, "write:", 6) == 0) {
			int fd = open(arg + 6, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0) {
				printf("%s: %s\n", arg, errname(errno));
				continue;
			}
			ssize_t n = write(fd, "PWNED\n", 6);
			close(fd);
			printf("%s: wrote %zd\n", arg, n);
		} else {
			fprintf(stderr, "bad argument %s\n", arg);
			return 2;
		}
	}
	return 0;
}
