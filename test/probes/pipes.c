/* Pipes: PIPE_BUF atomicity with concurrent writers, EPIPE and SIGPIPE,
 * O_NONBLOCK EAGAIN on both ends, F_GETPIPE_SZ/F_SETPIPE_SZ, EOF after the
 * last writer closes, pipe2 flags, FIONREAD, and a 1 MiB transfer. */
#include "probe.h"
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void pipe_buf_atomicity(void)
{
	/* 4 writers each write 200 records of PIPE_BUF bytes filled with one
	 * letter; every record read back must be uniform. */
	int p[2];
	pipe(p);
	for (int w = 0; w < 4; w++) {
		if (fork() == 0) {
			close(p[0]);
			char buf[PIPE_BUF];
			memset(buf, 'a' + w, sizeof buf);
			for (int i = 0; i < 200; i++)
				if (write(p[1], buf, sizeof buf) != sizeof buf)
					_exit(1);
			_exit(0);
		}
	}
	close(p[1]);
	char rec[PIPE_BUF];
	int counts[4] = {0}, torn = 0;
	for (;;) {
		size_t got = 0;
		while (got < sizeof rec) {
			ssize_t n = read(p[0], rec + got, sizeof rec - got);
			if (n <= 0)
				break;
			got += n;
		}
		if (got == 0)
			break;
		if (got != sizeof rec) {
			torn++;
			break;
		}
		for (size_t i = 1; i < sizeof rec; i++)
			if (rec[i] != rec[0]) {
				torn++;
				break;
			}
		if (rec[0] >= 'a' && rec[0] < 'a' + 4)
			counts[rec[0] - 'a']++;
	}
	close(p[0]);
	int st, ok = 1;
	while (wait(&st) > 0)
		ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
	printf("PIPE_BUF records: %d %d %d %d, torn=%d, writers ok=%d\n", counts[0], counts[1], counts[2], counts[3], torn, ok);
}

static volatile int sigpipes;
static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int p[2];
	char buf[65536];

	/* EOF after the writer closes; data first. */
	pipe(p);
	write(p[1], "abc", 3);
	close(p[1]);
	value("read data", read(p[0], buf, sizeof buf));
	value("read EOF", read(p[0], buf, sizeof buf));
	close(p[0]);

	/* A second writer keeps the pipe open; EOF only after both close. */
	pipe(p);
	int dup1 = dup(p[1]);
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	expect_err("read with a writer left", read(p[0], buf, 1));
	close(dup1);
	value("read after last writer", read(p[0], buf, 1));
	close(p[0]);

	/* EPIPE with SIGPIPE ignored, then SIGPIPE delivered to a handler,
	 * then death by SIGPIPE's default action. */
	pipe(p);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	expect_err("write no reader (SIGPIPE ignored)", write(p[1], "x", 1));
	signal(SIGPIPE, on_sigpipe);
	expect_err("write no reader (handler)", write(p[1], "x", 1));
	value("SIGPIPE handled", sigpipes);
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		write(p[1], "x", 1);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("write no reader (default): %s\n", WIFSIGNALED(st) ? sigabbrev_np(WTERMSIG(st)) : "exited");
	close(p[1]);

	/* O_NONBLOCK: EAGAIN on an empty pipe and on a full one; the
	 * capacity is 64 KiB. Writes are whole pages: Linux keeps a pipe as 16
	 * page buffers and does not merge a small write into a buffer that
	 * lacks room for it, which a byte ring would not reproduce. */
	result("pipe2 O_NONBLOCK|O_CLOEXEC", pipe2(p, O_NONBLOCK | O_CLOEXEC));
	printf("flags: O_NONBLOCK=%d FD_CLOEXEC=%d\n", !!(fcntl(p[0], F_GETFL) & O_NONBLOCK), fcntl(p[1], F_GETFD));
	expect_err("read empty nonblocking", read(p[0], buf, 1));
	value("F_GETPIPE_SZ", fcntl(p[1], F_GETPIPE_SZ));
	long total = 0, n;
	memset(buf, 'z', sizeof buf);
	while ((n = write(p[1], buf, 4096)) > 0)
		total += n;
	printf("filled: %ld then %s\n", total, errname(errno));
	int avail = -1;
	ioctl(p[0], FIONREAD, &avail);
	value("FIONREAD", avail);
	value("read 4096 from full", read(p[0], buf, 4096));
	value("write 4096 with a page free", write(p[1], buf, 4096));
	expect_err("write 1 to full", write(p[1], buf, 1));
	expect_err("write PIPE_BUF to full", write(p[1], buf, PIPE_BUF));

	/* F_SETPIPE_SZ rounds up to a power-of-two number of pages and
	 * refuses to shrink below the data held. */
	value("F_SETPIPE_SZ 4096 with 64K held", fcntl(p[1], F_SETPIPE_SZ, 4096));
	close(p[0]);
	close(p[1]);
	pipe(p);
	value("F_SETPIPE_SZ 5000", fcntl(p[0], F_SETPIPE_SZ, 5000));
	value("F_GETPIPE_SZ", fcntl(p[1], F_GETPIPE_SZ));
	value("F_SETPIPE_SZ 1 MiB", fcntl(p[0], F_SETPIPE_SZ, 1 << 20));
	value("F_GETPIPE_SZ", fcntl(p[1], F_GETPIPE_SZ));
	expect_err("F_SETPIPE_SZ too big", fcntl(p[0], F_SETPIPE_SZ, 1 << 30));
	close(p[0]);
	close(p[1]);

	/* Wrong-direction I/O. */
	pipe(p);
	expect_err("write read end", write(p[0], "x", 1));
	expect_err("read write end", read(p[1], buf, 1));
	expect_err("lseek pipe", lseek(p[0], 0, SEEK_SET));
	close(p[0]);
	close(p[1]);

	/* 1 MiB through a pipe from a child, with a checksum. */
	pipe(p);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		unsigned char b[7000];
		long sent = 0;
		while (sent < (1 << 20)) {
			long chunk = sizeof b;
			if (chunk > (1 << 20) - sent)
				chunk = (1 << 20) - sent;
			for (long i = 0; i < chunk; i++)
				b[i] = (unsigned char)((sent + i) * 31);
			if (write(p[1], b, chunk) != chunk)
				_exit(1);
			sent += chunk;
		}
		_exit(0);
	}
	close(p[1]);
	long got = 0, bad = 0;
	while ((n = read(p[0], buf, sizeof buf)) > 0) {
		for (long i = 0; i < n; i++)
			bad += (unsigned char)buf[i] != (unsigned char)((got + i) * 31);
		got += n;
	}
	waitpid(pid, &st, 0);
	printf("1 MiB transfer: got=%ld bad=%ld child=%d\n", got, bad, WEXITSTATUS(st));
	close(p[0]);

	pipe_buf_atomicity();
	return 0;
}
