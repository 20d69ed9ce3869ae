/* File syscalls and their errors, in a fresh directory argv[1] that the
 * probe creates and removes. */
#include "probe.h"
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *base;

/* P returns base/rel in one of a few rotating buffers, so that two paths
 * can be used in one call. */
static const char *P(const char *rel)
{
	static char bufs[4][PATH_MAX];
	static int k;
	k = (k + 1) % 4;
	snprintf(bufs[k], sizeof bufs[k], "%s/%s", base, rel);
	return bufs[k];
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* listdir prints a directory's entries, sorted, because getdents64 order
 * is the filesystem's business. */
static void listdir(const char *rel)
{
	int fd = open(P(rel), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		printf("listdir %s: %s\n", rel, errname(errno));
		return;
	}
	char buf[4096], *names[64];
	int n = 0;
	for (;;) {
		long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (got < 0) {
			printf("getdents64: %s\n", errname(errno));
			break;
		}
		if (got == 0)
			break;
		for (long off = 0; off < got;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			if (n < 64) {
				char *s;
				if (asprintf(&s, "%s:%s", d->d_name,
					     d->d_type == DT_DIR ? "dir" : d->d_type == DT_REG ? "reg" :
					     d->d_type == DT_LNK ? "lnk" : "other") < 0)
					exit(2);
				names[n++] = s;
			}
			off += d->d_reclen;
		}
	}
	close(fd);
	qsort(names, n, sizeof names[0], cmp);
	printf("listdir %s:", rel);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fileops DIR\n");
		return 2;
	}
	base = argv[1];
	char buf[256];
	struct stat st;
	umask(022);

	result("mkdir base", mkdir(base, 0755));
	int fd = open(P("f1"), O_CREAT | O_EXCL | O_RDWR, 0644);
	result("open f1 O_CREAT|O_EXCL", fd);
	value("write", write(fd, "hello world\n", 12));
	value("lseek cur", lseek(fd, 0, SEEK_CUR));
	value("lseek set", lseek(fd, 0, SEEK_SET));
	memset(buf, 0, sizeof buf);
	value("read", read(fd, buf, sizeof buf - 1));
	printf("read data: %s", buf);
	value("read at eof", read(fd, buf, sizeof buf));
	value("pwrite", pwrite(fd, "HELLO", 5, 0));
	memset(buf, 0, sizeof buf);
	value("pread", pread(fd, buf, 5, 6));
	printf("pread data: %s\n", buf);
	value("offset after pread", lseek(fd, 0, SEEK_CUR));
	value("lseek end", lseek(fd, 0, SEEK_END));
	expect_err("lseek negative", lseek(fd, -100, SEEK_SET));
	result("fstat", fstat(fd, &st));
	printf("fstat: size=%ld reg=%d mode=%o nlink=%ld\n", (long)st.st_size, S_ISREG(st.st_mode),
	       st.st_mode & 07777, (long)st.st_nlink);

	/* A write past the end leaves a hole that reads as zeros. */
	value("pwrite past end", pwrite(fd, "x", 1, 100));
	memset(buf, 'q', 4);
	value("pread hole", pread(fd, buf, 4, 50));
	check("hole is zeros", buf[0] == 0 && buf[1] == 0 && buf[2] == 0 && buf[3] == 0);
	result("ftruncate", ftruncate(fd, 5));
	fstat(fd, &st);
	printf("size after ftruncate: %ld\n", (long)st.st_size);

	/* dup'ed descriptors share the file offset. */
	int fd2 = dup(fd);
	result("dup", fd2);
	lseek(fd, 2, SEEK_SET);
	value("dup shares offset", lseek(fd2, 0, SEEK_CUR));
	value("dup2 to 100", dup2(fd, 100));
	value("F_GETFD 100", fcntl(100, F_GETFD));
	value("dup3 O_CLOEXEC to 101", syscall(SYS_dup3, fd, 101, O_CLOEXEC));
	value("F_GETFD 101", fcntl(101, F_GETFD));
	expect_err("dup3 same fd", syscall(SYS_dup3, fd, fd, 0));
	int hi = fcntl(fd, F_DUPFD, 200);
	check("F_DUPFD >= 200", hi >= 200);
	value("F_GETFL accmode", fcntl(fd, F_GETFL) & O_ACCMODE);
	result("F_SETFL O_APPEND", fcntl(fd, F_SETFL, O_APPEND));
	check("F_GETFL has O_APPEND", (fcntl(fd2, F_GETFL) & O_APPEND) != 0);
	lseek(fd, 0, SEEK_SET);
	write(fd, "Z", 1);
	fstat(fd, &st);
	printf("size after append: %ld\n", (long)st.st_size);
	result("close 100", close(100));
	expect_err("close 100 again", close(100));
	close(101);
	close(hi);
	close(fd2);

	/* Bad descriptors and bad pointers. */
	expect_err("read bad fd", read(9999, buf, 1));
	expect_err("write fd -1", write(-1, buf, 1));
	/* volatile keeps gcc from rejecting the deliberately bad pointer. */
	char *volatile bad = (char *)1;
	/* At end of file Linux returns 0 without touching the buffer. */
	value("read into bad pointer at eof", read(fd, bad, 10));
	lseek(fd, 0, SEEK_SET);
	expect_err("read into bad pointer", read(fd, bad, 10));
	expect_err("write from bad pointer", write(fd, bad, 10));
	expect_err("open bad path pointer", open(bad, O_RDONLY));
	close(fd);

	/* Directories. */
	result("mkdir sub", mkdir(P("sub"), 0755));
	for (const char *n = "abc"; *n; n++) {
		char rel[16];
		snprintf(rel, sizeof rel, "sub/%c", *n);
		int f = open(P(rel), O_CREAT | O_WRONLY, 0600);
		result(rel, f);
		close(f);
	}
	result("mkdir sub/d", mkdir(P("sub/d"), 0700));
	result("symlink sub/l", symlink("a", P("sub/l")));
	listdir("sub");
	result("rename sub/a sub/a2", rename(P("sub/a"), P("sub/a2")));
	expect_err("stat sub/a", stat(P("sub/a"), &st));
	result("stat sub/a2", stat(P("sub/a2"), &st));
	printf("sub/a2 mode=%o\n", st.st_mode & 07777);
	expect_err("rename file over dir", rename(P("sub/b"), P("sub/d")));
	expect_err("rename dir over file", rename(P("sub/d"), P("sub/b")));
	expect_err("rename into own subdir", rename(P("sub"), P("sub/d/x")));
	listdir("sub");
	memset(buf, 0, sizeof buf);
	value("readlink sub/l", readlink(P("sub/l"), buf, sizeof buf));
	printf("readlink data: %s\n", buf);
	expect_err("readlink regular file", readlink(P("sub/b"), buf, sizeof buf));
	result("link f1 sub/hard", link(P("f1"), P("sub/hard")));
	stat(P("f1"), &st);
	printf("nlink after link: %ld\n", (long)st.st_nlink);
	result("chmod f1 0600", chmod(P("f1"), 0600));
	stat(P("sub/hard"), &st);
	printf("mode via hard link: %o\n", st.st_mode & 07777);

	/* The classic errors. */
	expect_err("open missing", open(P("nope"), O_RDONLY));
	expect_err("open missing dir component", open(P("nope/x"), O_RDONLY));
	expect_err("mkdir existing", mkdir(P("sub"), 0755));
	expect_err("open O_EXCL existing", open(P("f1"), O_CREAT | O_EXCL | O_RDWR, 0644));
	expect_err("open through file", open(P("f1/x"), O_RDONLY));
	expect_err("open dir for writing", open(P("sub"), O_WRONLY));
	expect_err("open O_DIRECTORY on file", open(P("f1"), O_RDONLY | O_DIRECTORY));
	expect_err("rmdir non-empty", rmdir(P("sub")));
	expect_err("rmdir file", rmdir(P("f1")));
	expect_err("unlink dir", unlink(P("sub/d")));
	expect_err("mkdir missing parent", mkdir(P("nope/x"), 0755));
	char longname[300];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	expect_err("open long name", open(P(longname), O_RDONLY));
	result("symlink loop1", symlink("loop2", P("loop1")));
	result("symlink loop2", symlink("loop1", P("loop2")));
	expect_err("open symlink loop", open(P("loop1"), O_RDONLY));
	expect_err("open O_NOFOLLOW symlink", open(P("sub/l"), O_RDONLY | O_NOFOLLOW));
	expect_err("chdir to file", chdir(P("f1")));
	result("chdir base", chdir(base));
	int rel = open("f1", O_RDONLY);
	result("open relative to cwd", rel);
	close(rel);
	int dfd = open(P("sub"), O_RDONLY | O_DIRECTORY);
	result("open dirfd", dfd);
	result("openat relative to dirfd", rel = openat(dfd, "b", O_RDONLY));
	close(rel);
	result("fstatat AT_SYMLINK_NOFOLLOW", fstatat(dfd, "l", &st, AT_SYMLINK_NOFOLLOW));
	printf("is symlink: %d\n", S_ISLNK(st.st_mode));
	result("unlinkat AT_REMOVEDIR", unlinkat(dfd, "d", AT_REMOVEDIR));
	expect_err("openat on non-dir fd", openat(0 + 9999, "b", O_RDONLY));
	close(dfd);
	result("chdir /", chdir("/"));

	/* Clean up: the directory must be empty and removable at the end. */
	const char *files[] = {"f1", "loop1", "loop2", "sub/a2", "sub/b", "sub/c", "sub/l", "sub/hard"};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(buf, sizeof buf, "unlink %s", files[i]);
		result(buf, unlink(P(files[i])));
	}
	result("rmdir sub", rmdir(P("sub")));
	listdir(".");
	result("rmdir base", rmdir(base));
	expect_err("stat base after rmdir", stat(base, &st));
	return 0;
}
