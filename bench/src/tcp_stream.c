/* (i) TCP loopback streaming throughput on 127.0.0.1, one connection, in
 * GB/s (10^9 bytes per second). The parent writes BENCH_BYTES (default
 * 2 GiB; a K, M or G suffix is binary) in BENCH_WRITE-byte writes (default
 * 128 KiB); a forked child reads it into a 128 KiB buffer and acks with one
 * byte at EOF. The clock runs from the first write to that ack.
 * BENCH_OPS, if set, is the number of writes instead of BENCH_BYTES.
 * (From the shared suite's tcp_stream.c, which writes and reads 64 KiB and
 * reports MiB/s.) */
#include "bench.h"
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define RBUF (128 << 10)

static pid_t reader = -1;

/* On any exit of the writer (die() included) take the reader with it. */
static void kill_reader(void)
{
	if (reader > 0)
		kill(reader, SIGKILL);
}

/* "2G", "256M", "64k", "1000": bytes; 0 if unset or malformed. */
static long env_bytes(const char *name)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return 0;
	char *end;
	long v = strtol(s, &end, 10);
	switch (*end) {
	case 'g': case 'G': v <<= 30; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'k': case 'K': v <<= 10; end++; break;
	}
	if (*end == 'i' || *end == 'B') /* "2GiB", "2GB" */
		end += strspn(end, "iB");
	return *end || v <= 0 ? 0 : v;
}

int main(void)
{
	bench_name = "tcp_stream";
	long wsize = env_bytes("BENCH_WRITE");
	if (wsize <= 0)
		wsize = 128 << 10;
	long total = env_bytes("BENCH_BYTES");
	if (getenv("BENCH_OPS") && *getenv("BENCH_OPS"))
		total = bench_ops_fixed(1) * wsize;
	if (total <= 0)
		total = 2L << 30;
	char *buf = malloc(wsize > RBUF ? wsize : RBUF);
	if (!buf)
		die("malloc");
	memset(buf, 's', wsize > RBUF ? wsize : RBUF);

	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t alen = sizeof addr;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	signal(SIGPIPE, SIG_IGN);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0)
		die("socket");
	if (bind(ls, (struct sockaddr *)&addr, sizeof addr) || listen(ls, 1) ||
	    getsockname(ls, (struct sockaddr *)&addr, &alen))
		die("bind/listen");

	reader = fork();
	if (reader < 0)
		die("fork");
	if (reader == 0) {
		int s = accept(ls, NULL, NULL);
		if (s < 0)
			_exit(2);
		long got = 0;
		ssize_t r;
		while ((r = recv(s, buf, RBUF, 0)) > 0 || (r < 0 && errno == EINTR))
			if (r > 0)
				got += r;
		if (r < 0)
			_exit(4);
		char c = 'k';
		if (send(s, &c, 1, 0) != 1)
			_exit(5);
		close(s);
		_exit(got == total ? 0 : 3);
	}
	atexit(kill_reader);
	close(ls);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		die("socket");
	if (connect(s, (struct sockaddr *)&addr, sizeof addr))
		die("connect");
	double t0 = now_ns();
	for (long left = total; left > 0; left -= wsize)
		write_all(s, buf, left < wsize ? (size_t)left : (size_t)wsize);
	if (shutdown(s, SHUT_WR))
		die("shutdown");
	char c;
	if (recv(s, &c, 1, 0) != 1)
		die("recv ack");
	double t1 = now_ns();
	close(s);
	int st;
	waitpid(reader, &st, 0);
	reader = -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "tcp_stream: reader failed (status %d)\n", st);
		return 1;
	}
	printf("%s: %.3f GB/s\n", bench_name, (double)total / ((t1 - t0) / 1e9) / 1e9);
	return 0;
}
