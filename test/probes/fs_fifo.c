/* fs_fifo: mkfifo/mknod and FIFO open semantics (blocking opens, O_NONBLOCK
 * rules, ENXIO, EOF, data discarded after the last close), sockets and
 * device nodes made by mknod.
 * usage: fs_fifo SCRATCH_DIR (must not exist) */
#include "probe.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static void onalarm(int sig) { (void)sig; }

int main(int argc, char **argv)
{
	if (argc != 2 || mkdir(argv[1], 0755) != 0 || chdir(argv[1]) != 0) {
		perror("setup");
		return 2;
	}
	umask(022);
	struct stat st;
	char buf[16];

	result("mkfifo", mkfifo("f", 0666));
	result("mkfifo again", mkfifo("f", 0666));
	stat("f", &st);
	printf("isfifo=%d mode=%o size=%ld\n", S_ISFIFO(st.st_mode), st.st_mode & 0777, (long)st.st_size);

	result("open wronly nonblock, no reader", open("f", O_WRONLY | O_NONBLOCK));
	int r = open("f", O_RDONLY | O_NONBLOCK);
	result("open rdonly nonblock", r);
	value("read, no writer yet", read(r, buf, sizeof buf));
	int w = open("f", O_WRONLY | O_NONBLOCK);
	result("open wronly nonblock, with reader", w);
	value("write", write(w, "hi", 2));
	value("read", read(r, buf, sizeof buf));
	value("read empty", read(r, buf, sizeof buf));
	result("lseek", lseek(r, 0, SEEK_SET));
	close(w);
	value("read after writer closed", read(r, buf, sizeof buf));
	close(r);

	/* A blocking open for reading waits for a writer. */
	pid_t pid = fork();
	if (pid == 0) {
		usleep(100000);
		int fd = open("f", O_WRONLY);
		write(fd, "x", 1);
		_exit(fd < 0);
	}
	r = open("f", O_RDONLY);
	result("blocking open rdonly", r);
	value("read from child", read(r, buf, sizeof buf));
	value("read eof", read(r, buf, sizeof buf));
	int status;
	waitpid(pid, &status, 0);
	printf("child exit=%d\n", WEXITSTATUS(status));
	close(r);

	/* A blocking open for writing waits for a reader. */
	pid = fork();
	if (pid == 0) {
		usleep(100000);
		int fd = open("f", O_RDONLY);
		int n = read(fd, buf, sizeof buf);
		_exit(n);
	}
	w = open("f", O_WRONLY);
	result("blocking open wronly", w);
	value("write to child", write(w, "abc", 3));
	close(w);
	waitpid(pid, &status, 0);
	printf("child read=%d\n", WEXITSTATUS(status));

	/* O_RDWR never blocks; data goes away with the last close. */
	int rw = open("f", O_RDWR);
	result("open rdwr", rw);
	value("write rdwr", write(rw, "abc", 3));
	close(rw);
	rw = open("f", O_RDWR | O_NONBLOCK);
	value("read after last close", read(rw, buf, sizeof buf));
	close(rw);

	/* A signal interrupts a blocked open. */
	struct sigaction sa = {.sa_handler = onalarm};
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	result("open interrupted", open("f", O_RDONLY));

	/* mknod. */
	result("mknod fifo", mknod("f2", S_IFIFO | 0600, 0));
	result("mknod sock", mknod("s", S_IFSOCK | 0600, 0));
	stat("s", &st);
	printf("issock=%d\n", S_ISSOCK(st.st_mode));
	result("open sock", open("s", O_RDONLY));
	result("mknod reg", mknod("reg", 0644, 0));
	stat("reg", &st);
	printf("isreg=%d size=%ld\n", S_ISREG(st.st_mode), (long)st.st_size);
	result("mknod dir", mknod("d", S_IFDIR | 0755, 0));
	result("mknod chr", mknod("c", S_IFCHR | 0600, makedev(240, 7)));
	stat("c", &st);
	printf("ischr=%d major=%u minor=%u\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
	result("mknodat", mknodat(AT_FDCWD, "f3", S_IFIFO | 0600, 0));
	result("unlink fifo", unlink("f"));
	return 0;
}
