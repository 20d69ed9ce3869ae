/* Sequential file I/O throughput: write (BENCH_MODE=write, the default)
 * or read (BENCH_MODE=read) a 64 MiB file in BENCH_DIR in 1 MiB chunks.
 * The read pass creates the file first, untimed. */
#include "bench.h"

#define CHUNK (1 << 20)
#define TOTAL (64L << 20)

static void fill(const char *path, char *buf)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0)
		die(path);
	for (long done = 0; done < TOTAL; done += CHUNK)
		if (write(fd, buf, CHUNK) != CHUNK)
			die("write");
	if (fsync(fd) != 0)
		die("fsync");
	close(fd);
}

int main(void)
{
	const char *mode = getenv("BENCH_MODE");
	int reading = mode && strcmp(mode, "read") == 0;
	bench_name = reading ? "seqread" : "seqwrite";
	char path[4096];
	bench_path(path, sizeof path, "seqio");
	static char buf[CHUNK];
	memset(buf, 'x', sizeof buf);
	long passes = bench_ops_fixed(1);
	double total = 0;
	for (long p = 0; p < passes; p++) {
		double t0, t1;
		if (reading) {
			fill(path, buf);
			int fd = open(path, O_RDONLY);
			if (fd < 0)
				die(path);
			t0 = now_ns();
			long got = 0;
			for (ssize_t n; (n = read(fd, buf, CHUNK)) > 0;)
				got += n;
			t1 = now_ns();
			if (got != TOTAL)
				die("short read");
			close(fd);
		} else {
			t0 = now_ns();
			fill(path, buf);
			t1 = now_ns();
		}
		total += t1 - t0;
		unlink(path);
	}
	report("MiB/s", (double)(TOTAL >> 20) * passes / (total / 1e9));
	return 0;
}
