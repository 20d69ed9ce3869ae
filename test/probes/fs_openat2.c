/* fs_openat2: openat2(2) (open_how checks, RESOLVE_* confinement),
 * O_TMPFILE with linkat(AT_EMPTY_PATH), renameat2(RENAME_EXCHANGE), tee(2),
 * and getdents64 offsets while entries are unlinked.
 * usage: fs_openat2 SCRATCH_DIR (must not exist) */
#include "probe.h"
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static long openat2(int dirfd, const char *path, struct open_how *how, size_t size)
{
	return syscall(SYS_openat2, dirfd, path, how, size);
}

static void oa2(const char *what, int dirfd, const char *path, unsigned long long flags, unsigned long long mode,
		unsigned long long resolve)
{
	struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
	long fd = openat2(dirfd, path, &how, sizeof how);
	result(what, fd);
	if (fd >= 0)
		close(fd);
}

static void cat(const char *what, const char *path)
{
	char buf[64] = {0};
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("%s: %s\n", what, errname(errno));
		return;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	printf("%s: \"%.*s\"\n", what, (int)(n < 0 ? 0 : n), buf);
}

struct linux_dirent64 {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

int main(int argc, char **argv)
{
	if (argc != 2 || mkdir(argv[1], 0755) != 0 || chdir(argv[1]) != 0) {
		perror("setup");
		return 2;
	}
	umask(022);
	mkdir("d", 0755);
	mkdir("d/sub", 0755);
	close(open("d/f", O_CREAT | O_WRONLY, 0644));
	symlink("/etc", "d/abs");
	symlink("../f", "d/sub/up");
	symlink("../..", "d/sub/esc");
	symlink("f", "d/rel");
	int d = open("d", O_RDONLY | O_DIRECTORY);

	/* open_how checks. */
	struct open_how how = {.flags = O_RDONLY};
	result("openat2 size 24", openat2(d, "f", &how, 24));
	expect_err("openat2 size 16", openat2(d, "f", &how, 16));
	char big[64] = {0};
	memcpy(big, &how, sizeof how);
	result("openat2 size 64 zero tail", openat2(d, "f", (struct open_how *)big, sizeof big));
	big[40] = 1;
	expect_err("openat2 size 64 nonzero tail", openat2(d, "f", (struct open_how *)big, sizeof big));
	char *page = calloc(1, 8192);
	memcpy(page, &how, sizeof how);
	expect_err("openat2 size 8192", openat2(d, "f", (struct open_how *)page, 8192));
	oa2("unknown flag bit", d, "f", 1ULL << 40, 0, 0);
	oa2("unknown resolve bit", d, "f", O_RDONLY, 0, 0x1000);
	oa2("mode without O_CREAT", d, "f", O_RDONLY, 0644, 0);
	oa2("mode with type bits", d, "new", O_CREAT | O_WRONLY, 0100644, 0);
	oa2("O_CREAT mode", d, "new", O_CREAT | O_WRONLY, 0600, 0);
	oa2("BENEATH and IN_ROOT", d, "f", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT);
	oa2("O_PATH with O_RDWR", d, "f", O_PATH | O_RDWR, 0, 0);
	oa2("RESOLVE_CACHED with O_CREAT", d, "f", O_CREAT | O_RDONLY, 0, RESOLVE_CACHED);

	/* RESOLVE_BENEATH. */
	oa2("beneath f", d, "f", O_RDONLY, 0, RESOLVE_BENEATH);
	oa2("beneath sub/../f", d, "sub/../f", O_RDONLY, 0, RESOLVE_BENEATH);
	oa2("beneath sub/up", d, "sub/up", O_RDONLY, 0, RESOLVE_BENEATH);
	oa2("beneath ..", d, "..", O_RDONLY, 0, RESOLVE_BENEATH);
	oa2("beneath sub/esc", d, "sub/esc", O_RDONLY, 0, RESOLVE_BENEATH);
	oa2("beneath absolute", d, "/etc", O_RDONLY, 0, RESOLVE_BENEATH);
	oa2("beneath abs symlink", d, "abs", O_RDONLY, 0, RESOLVE_BENEATH);
	oa2("beneath magic link", d, "/proc/self/fd/0", O_RDONLY, 0, RESOLVE_BENEATH);

	/* RESOLVE_IN_ROOT: ".." and absolute paths stay inside. */
	oa2("in_root /f", d, "/f", O_RDONLY, 0, RESOLVE_IN_ROOT);
	oa2("in_root ../../f", d, "../../f", O_RDONLY, 0, RESOLVE_IN_ROOT);
	oa2("in_root sub/esc/f", d, "sub/esc/f", O_RDONLY, 0, RESOLVE_IN_ROOT);
	oa2("in_root abs (/etc inside d)", d, "abs", O_RDONLY, 0, RESOLVE_IN_ROOT);

	/* RESOLVE_NO_SYMLINKS and RESOLVE_NO_MAGICLINKS. */
	oa2("no_symlinks rel", d, "rel", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
	oa2("no_symlinks rel O_PATH|O_NOFOLLOW", d, "rel", O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS);
	oa2("no_symlinks f", d, "f", O_RDONLY, 0, RESOLVE_NO_SYMLINKS);
	oa2("no_magiclinks /proc/self/fd/N", AT_FDCWD, "/proc/self/fd/0", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS);
	oa2("no_magiclinks rel", d, "rel", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS);
	char fdpath[64];
	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", d);
	oa2("magic link to dir", AT_FDCWD, fdpath, O_RDONLY | O_DIRECTORY, 0, 0);

	/* RESOLVE_NO_XDEV: /proc is another mount. */
	oa2("no_xdev within", d, "sub", O_RDONLY, 0, RESOLVE_NO_XDEV);
	int root = open("/", O_RDONLY | O_DIRECTORY);
	oa2("no_xdev into /proc", root, "proc/self", O_RDONLY, 0, RESOLVE_NO_XDEV);
	int procfd = open("/proc", O_RDONLY | O_DIRECTORY);
	oa2("no_xdev out of /proc", procfd, "../etc", O_RDONLY, 0, RESOLVE_NO_XDEV);
	oa2("no_xdev absolute from /proc", procfd, "/etc", O_RDONLY, 0, RESOLVE_NO_XDEV);
	/* "EAGAIN ... RESOLVE_CACHED ... the lookup could not be completed
	 * using only the cache": either answer is Linux's. */
	how = (struct open_how){.flags = O_RDONLY, .resolve = RESOLVE_CACHED};
	long cached = openat2(d, "f", &how, sizeof how);
	check("RESOLVE_CACHED ok or EAGAIN", cached >= 0 || errno == EAGAIN);

	/* O_TMPFILE. */
	expect_err("O_TMPFILE rdonly", open("d", O_TMPFILE | O_RDONLY, 0600));
	expect_err("O_TMPFILE on a file", open("d/f", O_TMPFILE | O_RDWR, 0600));
	int tf = open("d", O_TMPFILE | O_RDWR, 0640);
	result("O_TMPFILE", tf);
	struct stat st;
	fstat(tf, &st);
	printf("tmpfile nlink=%lu mode=%o reg=%d\n", (unsigned long)st.st_nlink, st.st_mode & 0777, S_ISREG(st.st_mode));
	value("tmpfile write", write(tf, "tmp data", 8));
	char link[256] = {0};
	readlink(strrchr(fdpath, '/') ? (snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", tf), fdpath) : fdpath, link,
		 sizeof link - 1);
	check("tmpfile link is (deleted)", strstr(link, "(deleted)") != NULL);
	DIR *dir = opendir("d");
	int entries = 0;
	while (readdir(dir))
		entries++;
	closedir(dir);
	printf("d entries=%d\n", entries);
	result("linkat AT_EMPTY_PATH", linkat(tf, "", d, "named", AT_EMPTY_PATH));
	fstat(tf, &st);
	printf("tmpfile nlink after link=%lu\n", (unsigned long)st.st_nlink);
	cat("named", "d/named");
	close(tf);
	int tx = open("d", O_TMPFILE | O_WRONLY | O_EXCL, 0600);
	result("O_TMPFILE|O_EXCL", tx);
	expect_err("linkat O_EXCL tmpfile", linkat(tx, "", d, "named2", AT_EMPTY_PATH));
	close(tx);
	tf = open("d", O_TMPFILE | O_RDWR, 0600);
	write(tf, "via proc", 8);
	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", tf);
	result("linkat /proc/self/fd AT_SYMLINK_FOLLOW", linkat(AT_FDCWD, fdpath, d, "named3", AT_SYMLINK_FOLLOW));
	cat("named3", "d/named3");
	close(tf);
	expect_err("linkat AT_EMPTY_PATH existing name", linkat(d, "", d, "x", AT_EMPTY_PATH));

	/* renameat2(RENAME_EXCHANGE). */
	int a = open("ea", O_CREAT | O_WRONLY, 0644);
	write(a, "A", 1);
	close(a);
	mkdir("eb", 0755);
	close(open("eb/inner", O_CREAT | O_WRONLY, 0644));
	result("exchange file and dir", syscall(SYS_renameat2, AT_FDCWD, "ea", AT_FDCWD, "eb", RENAME_EXCHANGE));
	cat("eb is the file", "eb");
	result("ea is the dir", stat("ea/inner", &st));
	expect_err("exchange with missing", syscall(SYS_renameat2, AT_FDCWD, "ea", AT_FDCWD, "nope", RENAME_EXCHANGE));
	expect_err("exchange|noreplace", syscall(SYS_renameat2, AT_FDCWD, "ea", AT_FDCWD, "eb", RENAME_EXCHANGE | RENAME_NOREPLACE));
	expect_err("exchange into own subdir", syscall(SYS_renameat2, AT_FDCWD, "ea", AT_FDCWD, "ea/inner", RENAME_EXCHANGE));
	result("exchange across dirs", syscall(SYS_renameat2, AT_FDCWD, "eb", AT_FDCWD, "ea/inner", RENAME_EXCHANGE));
	cat("ea/inner is the file", "ea/inner");
	result("stat eb (empty file now)", stat("eb", &st));
	printf("eb size=%ld\n", (long)st.st_size);
	/* tee(2). */
	int p1[2], p2[2];
	pipe(p1);
	pipe(p2);
	write(p1[1], "teedata", 7);
	value("tee", tee(p1[0], p2[1], 100, 0));
	char buf[64] = {0};
	value("read copy", read(p2[0], buf, sizeof buf));
	printf("copy=%.7s\n", buf);
	value("original still there", read(p1[0], buf, sizeof buf));
	expect_err("tee empty nonblock", tee(p1[0], p2[1], 10, SPLICE_F_NONBLOCK));
	expect_err("tee same pipe", tee(p1[0], p1[1], 10, 0));
	int f = open("d/f", O_RDONLY);
	expect_err("tee from a file", tee(f, p2[1], 10, 0));
	close(f);
	write(p1[1], "ab", 2);
	value("tee len 1", tee(p1[0], p2[1], 1, 0));
	value("read 1", read(p2[0], buf, sizeof buf));
	close(p1[1]);
	read(p1[0], buf, sizeof buf);
	value("tee at eof", tee(p1[0], p2[1], 10, 0));

	/* getdents64 while entries are unlinked: every surviving entry is
	 * seen exactly once. */
	mkdir("g", 0755);
	char name[32];
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof name, "g/e%02d", i);
		close(open(name, O_CREAT | O_WRONLY, 0644));
	}
	int g = open("g", O_RDONLY | O_DIRECTORY);
	char dbuf[256];
	int seen[40] = {0}, batches = 0;
	long n;
	while ((n = syscall(SYS_getdents64, g, dbuf, sizeof dbuf)) > 0) {
		for (long off = 0; off < n;) {
			struct linux_dirent64 *de = (void *)(dbuf + off);
			int i;
			if (sscanf(de->d_name, "e%d", &i) == 1)
				seen[i]++;
			off += de->d_reclen;
		}
		/* After the first batch, unlink every even entry, some already
		 * read and some not. */
		if (batches++ == 0)
			for (int i = 0; i < 40; i += 2) {
				snprintf(name, sizeof name, "g/e%02d", i);
				unlink(name);
			}
	}
	int bad = 0;
	for (int i = 0; i < 40; i++)
		bad += seen[i] > 1 || (i % 2 == 1 && seen[i] != 1);
	printf("getdents: survivors seen once, none twice: %s\n", bad ? "FAIL" : "ok");
	lseek(g, 0, SEEK_SET);
	int left = 0;
	while ((n = syscall(SYS_getdents64, g, dbuf, sizeof dbuf)) > 0)
		for (long off = 0; off < n; off += ((struct linux_dirent64 *)(dbuf + off))->d_reclen)
			left++;
	printf("entries after rewind=%d\n", left);
	return 0;
}
