/* (i) TCP loopback transaction on 127.0.0.1, microseconds each: connect +
 * send 1 byte + recv 1 byte + close. A forked child accepts, echoes one byte
 * and closes first; the client waits for that FIN before it closes, so
 * TIME_WAIT always lands on the server side and the client's ephemeral
 * ports are not exhausted however many runs follow each other.
 * (From the shared suite's tcp_rr.c, which does not wait for the FIN.) */
#include "bench.h"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

static pid_t server = -1;

/* On any exit of the client (die() included) take the server with it: a
 * server left blocked in accept() would keep stdout open and hang the
 * harness reading it. */
static void kill_server(void)
{
	if (server > 0)
		kill(server, SIGKILL);
}

int main(void)
{
	bench_name = "tcp_rr";
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t alen = sizeof addr;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int one = 1;
	signal(SIGPIPE, SIG_IGN);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0)
		die("socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(ls, (struct sockaddr *)&addr, sizeof addr) || listen(ls, 128) ||
	    getsockname(ls, (struct sockaddr *)&addr, &alen))
		die("bind/listen");

	long n = bench_ops(20000);
	server = fork();
	if (server < 0)
		die("fork");
	if (server == 0) {
		char c;
		for (long i = 0; i < n; i++) {
			int s = accept(ls, NULL, NULL);
			if (s < 0)
				_exit(2);
			if (recv(s, &c, 1, 0) != 1 || send(s, &c, 1, 0) != 1)
				_exit(3);
			close(s);
		}
		_exit(0);
	}
	atexit(kill_server);
	close(ls);
	char c = 'x';
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			die("socket");
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(s, (struct sockaddr *)&addr, sizeof addr))
			die("connect");
		if (send(s, &c, 1, 0) != 1)
			die("send");
		if (recv(s, &c, 1, 0) != 1)
			die("recv");
		ssize_t r = recv(s, &c, 1, 0); /* the server's FIN */
		if (r != 0) {
			if (r > 0)
				errno = EPROTO;
			die("recv EOF");
		}
		close(s);
	}
	double t1 = now_ns();
	int st;
	waitpid(server, &st, 0);
	server = -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "tcp_rr: server failed (status %d)\n", st);
		return 1;
	}
	printf("%s: %.2f us/op\n", bench_name, (t1 - t0) / n / 1e3);
	return 0;
}
