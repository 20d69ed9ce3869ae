/* Per-mount flags: noexec and nodev on a tmpfs, set at mount time and by
 * remount. Natively the probe works in a private mount namespace of its own,
 * so the host's mount table never changes; in the sandbox unshare is refused
 * and the sandbox's own table is used. The argument is a directory to make
 * and mount on. */
#include "probe.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256], exe[300], dev[300];

/* run execs exe in a child and reports its exit status, or the errno name
 * execve failed with. */
static void run(const char *what)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return;
	pid_t child = fork();
	if (child == 0) {
		char *argv[] = {exe, "exit7", NULL};
		execv(exe, argv);
		int e = errno;
		write(p[1], &e, sizeof e);
		_exit(127);
	}
	close(p[1]);
	int e = 0, st = 0;
	ssize_t n = read(p[0], &e, sizeof e);
	close(p[0]);
	waitpid(child, &st, 0);
	if (n == sizeof e)
		printf("%s: %s\n", what, errname(e));
	else
		printf("%s: exit %d\n", what, WEXITSTATUS(st));
}

/* mountopt reports whether /proc/self/mounts lists opt for dir. */
static int mountopt(const char *opt)
{
	FILE *f = fopen("/proc/self/mounts", "r");
	char line[1024];
	int found = 0;
	while (f && fgets(line, sizeof line, f)) {
		char src[128], point[300], type[64], opts[256];
		if (sscanf(line, "%127s %299s %63s %255s", src, point, type, opts) != 4 || strcmp(point, dir) != 0)
			continue;
		for (char *o = strtok(opts, ","); o; o = strtok(NULL, ","))
			found |= strcmp(o, opt) == 0;
	}
	if (f)
		fclose(f);
	return found;
}

static void checks(const char *when)
{
	char what[128];
	snprintf(what, sizeof what, "%s: access X_OK", when);
	result(what, access(exe, X_OK));
	snprintf(what, sizeof what, "%s: execve", when);
	run(what);
	int fd = open(exe, O_RDONLY);
	void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	snprintf(what, sizeof what, "%s: mmap PROT_EXEC", when);
	result(what, m == MAP_FAILED ? -1 : 0);
	if (m != MAP_FAILED)
		munmap(m, 4096);
	m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	snprintf(what, sizeof what, "%s: mprotect to PROT_EXEC", when);
	result(what, m == MAP_FAILED ? -1 : mprotect(m, 4096, PROT_READ | PROT_EXEC));
	if (m != MAP_FAILED)
		munmap(m, 4096);
	close(fd);
	snprintf(what, sizeof what, "%s: open device", when);
	int d = open(dev, O_RDWR);
	result(what, d);
	if (d >= 0)
		close(d);
	printf("%s: listed noexec=%d nodev=%d\n", when, mountopt("noexec"), mountopt("nodev"));
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exit7") == 0)
		return 7;
	if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		perror("make / private");
		return 1;
	}
	if (argc != 2 || strlen(argv[1]) >= sizeof dir) {
		fprintf(stderr, "usage: fs_mountflags DIR (a new directory to mount on)\n");
		return 2;
	}
	strcpy(dir, argv[1]);
	if (mkdir(dir, 0755) != 0) {
		perror("mkdir");
		return 1;
	}
	result("mount tmpfs noexec,nodev", mount("tmpfs", dir, "tmpfs", MS_NOEXEC | MS_NODEV, "mode=755"));
	snprintf(exe, sizeof exe, "%s/exe", dir);
	snprintf(dev, sizeof dev, "%s/null", dir);
	/* Copy this program into the tmpfs. */
	int in = open("/proc/self/exe", O_RDONLY), out = open(exe, O_WRONLY | O_CREAT, 0755);
	char buf[65536];
	ssize_t n;
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
		write(out, buf, n);
	close(in);
	close(out);
	result("mknod char 1:3", mknod(dev, S_IFCHR | 0666, makedev(1, 3)));

	checks("noexec,nodev");
	result("remount nodev", mount(NULL, dir, NULL, MS_REMOUNT | MS_NODEV, NULL));
	checks("nodev");
	result("remount noexec", mount(NULL, dir, NULL, MS_REMOUNT | MS_NOEXEC, NULL));
	checks("noexec");
	result("remount none", mount(NULL, dir, NULL, MS_REMOUNT, NULL));
	checks("none");

	unlink(dev);
	unlink(exe);
	result("umount", umount(dir));
	result("rmdir", rmdir(dir));
	return 0;
}
