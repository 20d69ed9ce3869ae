/* Memory management: anonymous and file mappings, MAP_FIXED and
 * MAP_FIXED_NOREPLACE, mprotect, mremap, brk and madvise. With an argument,
 * it ends by touching memory it may not, and the runner checks it dies of
 * SIGSEGV. */
// sandbox-divergence: the sandbox has no memory protection keys, as on a CPU without PKU.
// sandbox-expect: pkey_alloc=ENOSPC
#include "probe.h"
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096L

static int all(const char *p, long n, char c)
{
	for (long i = 0; i < n; i++)
		if (p[i] != c)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check("mmap anonymous", p != MAP_FAILED);
	check("page aligned", ((uintptr_t)p & (PG - 1)) == 0);
	check("zero filled", all(p, 4 * PG, 0));
	memset(p, 'a', 4 * PG);
	check("writable", all(p, 4 * PG, 'a'));

	if (strcmp(mode, "segv-unmapped") == 0) {
		munmap(p, 4 * PG);
		printf("touching unmapped memory\n");
		fflush(stdout);
		*(volatile char *)p = 1;
		printf("survived\n");
		return 0;
	}
	if (strcmp(mode, "segv-readonly") == 0) {
		mprotect(p, PG, PROT_READ);
		printf("writing read-only memory\n");
		fflush(stdout);
		*(volatile char *)p = 1;
		printf("survived\n");
		return 0;
	}

	/* MAP_FIXED replaces what is there with fresh zero pages. */
	char *q = mmap(p + PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	check("MAP_FIXED at the address", q == p + PG);
	check("MAP_FIXED zeroed", all(q, PG, 0));
	check("MAP_FIXED left neighbours", all(p, PG, 'a') && all(p + 2 * PG, 2 * PG, 'a'));
	q = mmap(p, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	printf("MAP_FIXED_NOREPLACE on a mapping: %s\n", q == MAP_FAILED ? errname(errno) : "succeeded");
	check("MAP_FIXED_NOREPLACE kept contents", all(p, PG, 'a'));

	/* munmap a hole, then MAP_FIXED_NOREPLACE fits into it exactly. */
	result("munmap middle page", munmap(p + 2 * PG, PG));
	q = mmap(p + 2 * PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	check("MAP_FIXED_NOREPLACE into hole", q == p + 2 * PG);
	check("hole refilled with zeros", all(q, PG, 0));

	/* mprotect. */
	result("mprotect PROT_READ", mprotect(p, PG, PROT_READ));
	check("still readable", all(p, PG, 'a'));
	result("mprotect back to RW", mprotect(p, PG, PROT_READ | PROT_WRITE));
	p[0] = 'b';
	check("writable again", p[0] == 'b');
	expect_err("mprotect unaligned", mprotect(p + 1, PG, PROT_READ));

	/* madvise(MADV_DONTNEED) drops private anonymous pages: they read as
	 * zeros afterwards. */
	memset(p + 3 * PG, 'd', PG);
	result("madvise DONTNEED", madvise(p + 3 * PG, PG, MADV_DONTNEED));
	check("DONTNEED zeroed", all(p + 3 * PG, PG, 0));

	/* mremap: grow with MREMAP_MAYMOVE keeps contents and zero-fills. */
	char *r = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(r, 'r', PG);
	char *r2 = mremap(r, PG, 8 * PG, MREMAP_MAYMOVE);
	check("mremap grow", r2 != MAP_FAILED);
	check("mremap kept contents", all(r2, PG, 'r'));
	check("mremap new pages zero", all(r2 + PG, 7 * PG, 0));
	char *r3 = mremap(r2, 8 * PG, 2 * PG, 0);
	check("mremap shrink in place", r3 == r2);
	/* Growing in place into a mapped neighbour needs to move. */
	char *g = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(g + PG, 2 * PG);
	mmap(g + 2 * PG, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	void *gr = mremap(g, PG, 3 * PG, 0);
	printf("mremap grow into neighbour without MAYMOVE: %s\n", gr == MAP_FAILED ? errname(errno) : "succeeded");
	/* MREMAP_FIXED moves to a chosen address. */
	char *dst = mmap(NULL, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	g[0] = 'm';
	char *moved = mremap(g, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	check("mremap MREMAP_FIXED", moved == dst && moved[0] == 'm');
	char *gone = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, PG);
	gr = mremap(gone, PG, 2 * PG, MREMAP_MAYMOVE);
	printf("mremap from unmapped: %s\n", gr == MAP_FAILED ? errname(errno) : "succeeded");

	/* brk. */
	char *b0 = sbrk(0);
	check("sbrk(0)", b0 != (void *)-1);
	check("sbrk grow", sbrk(2 * PG) == b0);
	memset(b0, 'k', 2 * PG);
	check("brk memory writable", all(b0, 2 * PG, 'k'));
	check("sbrk shrink", sbrk(-2 * PG) != (void *)-1 && sbrk(0) == b0);

	/* Errors. */
	q = mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mmap length 0: %s\n", q == MAP_FAILED ? errname(errno) : "succeeded");
	q = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 9999, 0);
	printf("mmap bad fd: %s\n", q == MAP_FAILED ? errname(errno) : "succeeded");
	q = mmap(NULL, PG, PROT_READ, MAP_ANONYMOUS, -1, 0);
	printf("mmap without MAP_PRIVATE or MAP_SHARED: %s\n", q == MAP_FAILED ? errname(errno) : "succeeded");
	expect_err("munmap unaligned", munmap(p + 1, PG));

	/* A private file mapping sees the file: our own ELF header. */
	int fd = open("/proc/self/exe", O_RDONLY);
	if (fd < 0)
		fd = open(argv[0], O_RDONLY);
	char *f = fd < 0 ? MAP_FAILED : mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	check("mmap own executable", f != MAP_FAILED && memcmp(f, "\177ELF", 4) == 0);
	if (fd >= 0)
		close(fd);
	if (f != MAP_FAILED) {
		check("mapping outlives close", memcmp(f, "\177ELF", 4) == 0);
		munmap(f, PG);
	}

	/* Protection keys: the sandbox has none, as on a CPU without PKU. */
	long key = syscall(SYS_pkey_alloc, 0, 0);
	if (key < 0)
		printf("pkey_alloc=%s\n", errname(errno));
	else
		printf("pkey_alloc=ok\n");
	expect_err("pkey_alloc bad flags", syscall(SYS_pkey_alloc, 1, 0));
	result("pkey_mprotect key -1", syscall(SYS_pkey_mprotect, p, PG, PROT_READ, -1));
	expect_err("pkey_mprotect key 9", syscall(SYS_pkey_mprotect, p, PG, PROT_READ, 9));
	if (key >= 0)
		syscall(SYS_pkey_free, key);

	result("munmap all", munmap(p, 4 * PG));
	printf("done\n");
	return 0;
}
