/* fs_locks: flock and fcntl record locks across processes.
 * usage: fs_locks SCRATCH_FILE (must not exist) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

static void report(const char *what, int r)
{
	printf("%s: %s\n", what, r < 0 ? (errno == EAGAIN ? "EAGAIN" : errno == EACCES ? "EACCES" : strerror(errno)) : "ok");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	int fd = open(argv[1], O_CREAT | O_EXCL | O_RDWR, 0644);
	if (fd < 0 || write(fd, "0123456789", 10) != 10)
		return 2;
	int p2c[2], c2p[2];
	if (pipe(p2c) || pipe(c2p))
		return 2;
	report("parent setlk wr 0-4", setlk(fd, F_SETLK, F_WRLCK, 0, 5));
	report("parent flock ex", flock(fd, LOCK_EX));
	pid_t pid = fork();
	char c;
	if (pid == 0) {
		int cfd = open(argv[1], O_RDWR);
		report("child setlk wr 2-3", setlk(cfd, F_SETLK, F_WRLCK, 2, 2));
		report("child setlk wr 5-9", setlk(cfd, F_SETLK, F_WRLCK, 5, 5));
		report("child setlk rd 0-0", setlk(cfd, F_SETLK, F_RDLCK, 0, 1));
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
		report("child getlk", fcntl(cfd, F_GETLK, &fl));
		printf("getlk type=%s start=%ld len=%ld pid_is_parent=%d\n",
		       fl.l_type == F_WRLCK ? "F_WRLCK" : fl.l_type == F_UNLCK ? "F_UNLCK" : "other",
		       (long)fl.l_start, (long)fl.l_len, fl.l_pid == getppid());
		report("child flock ex nb", flock(cfd, LOCK_EX | LOCK_NB));
		/* The inherited fd shares the parent's open file description,
		 * so its flock is the parent's own. */
		report("child flock inherited", flock(fd, LOCK_EX | LOCK_NB));
		write(c2p[1], "r", 1);
		/* Both block until the parent unlocks; report after the
		 * parent's lines so that the output order is fixed. */
		int r1 = setlk(cfd, F_SETLKW, F_WRLCK, 0, 5);
		int r2 = flock(cfd, LOCK_EX);
		read(p2c[0], &c, 1);
		report("child setlkw wr 0-4", r1);
		report("child flock ex (blocking)", r2);
		_exit(0);
	}
	read(c2p[0], &c, 1);
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	printf("parent unlocking\n");
	fflush(stdout);
	report("parent unlock", setlk(fd, F_SETLK, F_UNLCK, 0, 0));
	/* Closing any fd of the file drops this process's record locks. */
	report("parent flock un", flock(fd, LOCK_UN));
	write(p2c[1], "d", 1);
	int st;
	waitpid(pid, &st, 0);
	printf("child status %d\n", st);
	/* OFD locks conflict between two opens in one process. */
	int a = open(argv[1], O_RDWR), b = open(argv[1], O_RDWR);
	report("ofd a", setlk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	report("ofd b", setlk(b, F_OFD_SETLK, F_WRLCK, 5, 1));
	report("posix same process", setlk(b, F_SETLK, F_WRLCK, 5, 1));
	close(a);
	report("ofd b after close a", setlk(b, F_OFD_SETLK, F_WRLCK, 5, 1));
	return 0;
}
