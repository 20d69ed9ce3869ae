/* fs_inotify: inotify_init1, inotify_add_watch (masks and flags),
 * inotify_rm_watch, and the events of changes made by the probe itself:
 * create, delete, modify, attrib, moves with cookies, open/access/close,
 * self events, IN_IGNORED; event records, FIONREAD, poll.
 * usage: fs_inotify SCRATCH_DIR (must not exist) */
#include "probe.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static int wd_dir, wd_file, wd_sub;

static const char *wdname(int wd)
{
	if (wd == wd_dir)
		return "dir";
	if (wd == wd_file)
		return "file";
	if (wd == wd_sub)
		return "sub";
	return "?";
}

static void maskname(unsigned m, char *out)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{IN_ACCESS, "ACCESS"}, {IN_MODIFY, "MODIFY"}, {IN_ATTRIB, "ATTRIB"}, {IN_CLOSE_WRITE, "CLOSE_WRITE"},
		{IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"}, {IN_OPEN, "OPEN"}, {IN_MOVED_FROM, "MOVED_FROM"},
		{IN_MOVED_TO, "MOVED_TO"}, {IN_CREATE, "CREATE"}, {IN_DELETE, "DELETE"}, {IN_DELETE_SELF, "DELETE_SELF"},
		{IN_MOVE_SELF, "MOVE_SELF"}, {IN_IGNORED, "IGNORED"}, {IN_ISDIR, "ISDIR"}, {IN_Q_OVERFLOW, "OVERFLOW"},
	};
	out[0] = 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (m & names[i].bit) {
			if (out[0])
				strcat(out, "|");
			strcat(out, names[i].name);
		}
}

/* drain prints every queued event; cookies print as "c" when nonzero and
 * equal to the previous event's (a rename pair), "C" otherwise. */
static void drain(const char *what, int fd)
{
	char buf[4096] __attribute__((aligned(8)));
	unsigned last = 0;
	printf("[%s]\n", what);
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 0) <= 0)
			break;
		ssize_t n = read(fd, buf, sizeof buf);
		if (n <= 0)
			break;
		for (char *q = buf; q < buf + n;) {
			struct inotify_event *e = (void *)q;
			char m[256];
			maskname(e->mask, m);
			printf("  %s %s", wdname(e->wd), m);
			if (e->len)
				printf(" name=%s len=%u", e->name, e->len);
			if (e->cookie)
				printf(" cookie=%s", e->cookie == last ? "c" : "C");
			printf("\n");
			last = e->cookie;
			q += sizeof *e + e->len;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 2 || mkdir(argv[1], 0755) != 0 || chdir(argv[1]) != 0) {
		perror("setup");
		return 2;
	}
	umask(022);
	mkdir("w", 0755);
	close(open("w/f", O_CREAT | O_WRONLY, 0644));
	mkdir("w/sub", 0755);

	expect_err("inotify_init1 bad flags", inotify_init1(0x1234));
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	result("inotify_init1", in);
	printf("cloexec=%d nonblock=%d\n", !!(fcntl(in, F_GETFD) & FD_CLOEXEC), !!(fcntl(in, F_GETFL) & O_NONBLOCK));
	char buf[256];
	expect_err("read empty", read(in, buf, sizeof buf));
	expect_err("add_watch no events", inotify_add_watch(in, "w", 0));
	expect_err("add_watch missing", inotify_add_watch(in, "w/nope", IN_ALL_EVENTS));
	expect_err("add_watch IN_ONLYDIR on file", inotify_add_watch(in, "w/f", IN_MODIFY | IN_ONLYDIR));
	expect_err("add_watch MASK_ADD|MASK_CREATE", inotify_add_watch(in, "w", IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE));
	expect_err("rm_watch bad wd", inotify_rm_watch(in, 999));
	int notinotify = open("w/f", O_RDONLY);
	expect_err("add_watch on non-inotify fd", inotify_add_watch(notinotify, "w", IN_ALL_EVENTS));
	close(notinotify);

	wd_dir = inotify_add_watch(in, "w", IN_ALL_EVENTS);
	result("watch dir", wd_dir);
	wd_file = inotify_add_watch(in, "w/f", IN_ALL_EVENTS);
	result("watch file", wd_file);
	wd_sub = inotify_add_watch(in, "w/sub", IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
	result("watch sub", wd_sub);
	check("distinct wds", wd_dir != wd_file && wd_file != wd_sub);
	value("same inode same wd", inotify_add_watch(in, "w/f", IN_ALL_EVENTS) == wd_file);
	expect_err("IN_MASK_CREATE on watched", inotify_add_watch(in, "w/f", IN_MODIFY | IN_MASK_CREATE));

	/* open/write/read/close of a watched file in a watched dir. */
	int fd = open("w/f", O_RDWR);
	write(fd, "hello", 5);
	int avail = 0;
	result("FIONREAD", ioctl(in, FIONREAD, &avail));
	printf("FIONREAD>0: %d\n", avail > 0);
	struct pollfd p = {in, POLLIN, 0};
	value("poll", poll(&p, 1, 0));
	pread(fd, buf, 5, 0);
	close(fd);
	drain("open write read close", in);
	fd = open("w/f", O_RDONLY);
	close(fd);
	drain("open rdonly close", in);

	/* Record layout: a buffer too small for one event. */
	close(open("w/a-long-enough-name", O_CREAT | O_WRONLY, 0644));
	expect_err("read into small buffer", read(in, buf, 20));
	drain("create", in);

	chmod("w/f", 0600);
	truncate("w/f", 1);
	drain("chmod truncate", in);

	rename("w/a-long-enough-name", "w/b");
	drain("rename within dir", in);
	rename("w/f", "w/sub/f");
	drain("rename watched file out", in);
	rename("w/sub/f", "w/f");
	drain("and back", in);
	link("w/f", "w/hard");
	drain("link", in);
	unlink("w/hard");
	drain("unlink one of two links", in);
	unlink("w/b");
	drain("unlink", in);

	/* Directories: ISDIR, self events. */
	mkdir("w/d2", 0755);
	rmdir("w/d2");
	drain("mkdir rmdir", in);
	rename("w/sub", "w/sub2");
	drain("rename watched dir", in);
	rmdir("w/sub2");
	drain("rmdir watched dir", in);
	expect_err("rm_watch after IN_IGNORED", inotify_rm_watch(in, wd_sub));

	/* IN_MASK_ADD, replacing a mask, IN_ONESHOT. */
	inotify_add_watch(in, "w/f", IN_ATTRIB);
	chmod("w/f", 0644);
	fd = open("w/f", O_RDONLY);
	close(fd);
	drain("mask replaced by ATTRIB", in);
	inotify_add_watch(in, "w/f", IN_OPEN | IN_MASK_ADD);
	chmod("w/f", 0600);
	fd = open("w/f", O_RDONLY);
	close(fd);
	drain("mask ATTRIB|OPEN", in);
	inotify_rm_watch(in, wd_dir);
	drain("rm_watch dir", in);
	wd_dir = inotify_add_watch(in, "w", IN_CREATE | IN_ONESHOT);
	close(open("w/o1", O_CREAT | O_WRONLY, 0644));
	close(open("w/o2", O_CREAT | O_WRONLY, 0644));
	drain("oneshot", in);

	/* Symlinks: IN_DONT_FOLLOW watches the link. */
	symlink("f", "w/ln");
	wd_sub = inotify_add_watch(in, "w/ln", IN_ATTRIB | IN_DONT_FOLLOW);
	check("DONT_FOLLOW is another watch", wd_sub != wd_file);
	chmod("w/ln", 0644); /* follows: the file's watch */
	drain("chmod through symlink", in);

	/* Deleting the watched file. */
	unlink("w/f");
	drain("unlink watched file", in);
	close(in);

	/* Blocking read wakes on an event. */
	in = inotify_init();
	wd_dir = inotify_add_watch(in, "w", IN_CREATE);
	if (fork() == 0) {
		usleep(100000);
		close(open("w/late", O_CREAT | O_WRONLY, 0644));
		_exit(0);
	}
	ssize_t n = read(in, buf, sizeof buf);
	struct inotify_event *e = (void *)buf;
	printf("blocking read: %zd name=%s\n", n, n > 0 ? e->name : "");
	return 0;
}
