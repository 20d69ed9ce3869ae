/* fs_memfd: memfd_create (name, seals), MAP_SHARED coherence of a memfd
 * with read/write, preadv2/pwritev2, copy_file_range within one file. */
#include "probe.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void)
{
	char buf[64], link[64];
	int fd = memfd_create("probe", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	result("memfd_create", fd);
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("link=%s\n", buf);
	printf("cloexec=%d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC);
	value("seals", fcntl(fd, F_GET_SEALS));
	result("memfd_create bad flags", memfd_create("x", 0x100));

	/* Shared mapping and file I/O see the same bytes. */
	result("ftruncate", ftruncate(fd, 8192));
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("mmap=%s\n", m == MAP_FAILED ? errname(errno) : "ok");
	if (m != MAP_FAILED) {
		memcpy(m + 4090, "across", 6);
		value("pread", pread(fd, buf, 6, 4090));
		printf("data=%.6s\n", buf);
		pwrite(fd, "PWRITE", 6, 100);
		printf("mapped=%.6s\n", m + 100);
		char *m2 = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 4096);
		printf("second mapping=%.2s\n", m2 == MAP_FAILED ? "--" : m2);
	}

	/* Seals. */
	result("add seal write while mapped", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	result("add seal shrink|grow", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW));
	value("seals", fcntl(fd, F_GET_SEALS));
	result("shrink sealed", ftruncate(fd, 10));
	result("grow sealed", ftruncate(fd, 1 << 20));
	value("write within", pwrite(fd, "w", 1, 0));
	value("write past end", pwrite(fd, "w", 1, 8192));
	result("add seal seal", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	result("add after seal", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	int plain = memfd_create("plain", 0);
	value("unsealable seals", fcntl(plain, F_GET_SEALS));
	result("unsealable add", fcntl(plain, F_ADD_SEALS, F_SEAL_GROW));

	/* preadv2/pwritev2. */
	struct iovec iov[2] = {{"ab", 2}, {"cd", 2}};
	value("pwritev2", pwritev2(plain, iov, 2, 10, 0));
	value("pwritev2 cur", pwritev2(plain, iov, 2, -1, 0));
	char a[3] = {0}, b[3] = {0};
	struct iovec riov[2] = {{a, 2}, {b, 2}};
	value("preadv2", preadv2(plain, riov, 2, 10, RWF_HIPRI));
	printf("preadv2 data=%s%s\n", a, b);
	value("preadv", preadv(plain, riov, 2, 0));
	value("preadv2 bad flags", preadv2(plain, riov, 2, 0, 0x1000));
	value("lseek", lseek(plain, 0, SEEK_CUR));

	/* copy_file_range within one file. */
	loff_t in = 0, out = 2;
	value("copy_file_range overlap", copy_file_range(plain, &in, plain, &out, 4, 0));
	in = 0, out = 20;
	value("copy_file_range disjoint", copy_file_range(plain, &in, plain, &out, 4, 0));
	return 0;
}
