/* socket_inet_tcp: AF_INET and AF_INET6 TCP over loopback (127.0.0.1 and
 * ::1): socket flags, bind/getsockname, listen, connect, accept/accept4,
 * getpeername, send/recv flags (MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL,
 * MSG_TRUNC), FIONREAD, sendmsg/recvmsg, sendmmsg/recvmmsg, shutdown,
 * EPIPE/SIGPIPE, ECONNRESET, non-blocking connect, ECONNREFUSED,
 * poll/select/epoll readiness, and IPv4-mapped addresses on IPv6 sockets.
 * usage: socket_inet_tcp [SECTION...]  (probe.h: "v4"/"v6" hold the
 * per-family sections basic, data, shutdown, pipe, reset, connect, poll;
 * "mapped" runs once)
 *
 * Ports are ephemeral and never printed: only relations ("match", nonzero).
 * Loopback delivery is asynchronous (softirq), so every check that needs
 * data, a FIN or a RST to have arrived first waits for it with poll and a
 * generous timeout, then prints the state.
 */
#include "probe.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 5000

static int sigpipes;
static void onpipe(int sig) { (void)sig; sigpipes++; }

typedef struct {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_storage ss;
	} u;
	socklen_t len;
} addr_t;

static int fam;          /* the family under test */
static const char *pfx;  /* "v4" or "v6" */

/* W prefixes a check's name with the family ("v4 bind"). */
static const char *W(const char *what)
{
	static char bufs[4][160];
	static int i;
	char *b = bufs[i++ % 4];
	snprintf(b, sizeof bufs[0], "%s %s", pfx, what);
	return b;
}

static void P(const char *fmt, ...)
{
	va_list ap;
	printf("%s ", pfx);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static addr_t loopback(int family, int port)
{
	addr_t a;
	memset(&a, 0, sizeof a);
	if (family == AF_INET) {
		a.u.in.sin_family = AF_INET;
		a.u.in.sin_port = htons(port);
		a.u.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.len = sizeof a.u.in;
	} else {
		a.u.in6.sin6_family = AF_INET6;
		a.u.in6.sin6_port = htons(port);
		a.u.in6.sin6_addr = in6addr_loopback;
		a.len = sizeof a.u.in6;
	}
	return a;
}

/* mapped4 is [::ffff:127.0.0.1]:port. */
static addr_t mapped4(int port)
{
	addr_t a = loopback(AF_INET6, port);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.u.in6.sin6_addr);
	return a;
}

static int port_of(const addr_t *a)
{
	return ntohs(a->u.sa.sa_family == AF_INET ? a->u.in.sin_port : a->u.in6.sin6_port);
}

static int addr_eq(const addr_t *a, const addr_t *b)
{
	if (a->len != b->len || a->u.sa.sa_family != b->u.sa.sa_family)
		return 0;
	if (a->u.sa.sa_family == AF_INET)
		return a->u.in.sin_port == b->u.in.sin_port && a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
	return a->u.in6.sin6_port == b->u.in6.sin6_port &&
	       memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16) == 0 &&
	       a->u.in6.sin6_scope_id == b->u.in6.sin6_scope_id && a->u.in6.sin6_flowinfo == b->u.in6.sin6_flowinfo;
}

/* same_host says a has b's address, whatever the ports. */
static int same_host(const addr_t *a, const addr_t *b)
{
	addr_t x = *a, y = *b;
	if (x.u.sa.sa_family == AF_INET)
		x.u.in.sin_port = y.u.in.sin_port = 0;
	else
		x.u.in6.sin6_port = y.u.in6.sin6_port = 0;
	return addr_eq(&x, &y);
}

static addr_t sockname(int fd)
{
	addr_t a;
	memset(&a, 0, sizeof a);
	a.len = sizeof a.u;
	if (getsockname(fd, &a.u.sa, &a.len) < 0)
		a.len = 0;
	return a;
}

static addr_t peername(int fd)
{
	addr_t a;
	memset(&a, 0, sizeof a);
	a.len = sizeof a.u;
	if (getpeername(fd, &a.u.sa, &a.len) < 0)
		a.len = 0;
	return a;
}

/* waitev waits up to WAIT_MS for any of events (POLLERR/POLLHUP always
 * count) and returns the revents, 0 on timeout. */
static short waitev(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n = poll(&p, 1, WAIT_MS);
	return n > 0 ? p.revents : 0;
}

/* wait_inq waits until fd has at least n bytes queued. */
static int wait_inq(int fd, int n)
{
	for (int i = 0; i < WAIT_MS; i++) {
		int q = 0;
		if (ioctl(fd, FIONREAD, &q) == 0 && q >= n)
			return 1;
		usleep(1000);
	}
	return 0;
}

#define PEV (POLLIN | POLLPRI | POLLOUT | POLLERR | POLLHUP | POLLRDHUP)

/* pollv prints fd's readiness now. */
static void pollv(const char *what, int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLPRI | POLLOUT | POLLRDHUP};
	int n = poll(&p, 1, 0);
	P("%s: n=%d revents=%#x", what, n, n > 0 ? p.revents & PEV : 0);
}

static void fdflags(const char *what, int fd)
{
	P("%s: nonblock=%d cloexec=%d", what, !!(fcntl(fd, F_GETFL) & O_NONBLOCK),
	  !!(fcntl(fd, F_GETFD) & FD_CLOEXEC));
}

/* listener returns a socket listening on the loopback address, port
 * chosen by the kernel, and stores its address in a. */
static int listener(int family, addr_t *a)
{
	int l = socket(family, SOCK_STREAM, 0);
	addr_t b = loopback(family, 0);
	if (l < 0 || bind(l, &b.u.sa, b.len) < 0 || listen(l, 8) < 0) {
		P("listener setup: %s", errname(errno));
		exit(1);
	}
	*a = sockname(l);
	return l;
}

/* pair makes a connected pair of blocking sockets. */
static void pair(int *c, int *s)
{
	addr_t a;
	int l = listener(fam, &a);
	*c = socket(fam, SOCK_STREAM, 0);
	if (connect(*c, &a.u.sa, a.len) < 0) {
		P("pair connect: %s", errname(errno));
		exit(1);
	}
	*s = accept(l, NULL, NULL);
	if (*s < 0) {
		P("pair accept: %s", errname(errno));
		exit(1);
	}
	close(l);
}

/* closed_port returns a socket bound to a loopback port with no listener,
 * which keeps the port from being reused while it is open: connections
 * to it are refused. */
static int closed_port(int family, addr_t *a)
{
	int r = socket(family, SOCK_STREAM, 0);
	addr_t b = loopback(family, 0);
	bind(r, &b.u.sa, b.len);
	*a = sockname(r);
	return r;
}

static void basic(void)
{
	int l = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	result(W("socket nonblock|cloexec"), l);
	fdflags("socket flags", l);
	int v = -1;
	socklen_t vl = sizeof v;
	getsockopt(l, SOL_SOCKET, SO_DOMAIN, &v, &vl);
	P("SO_DOMAIN is family: %s", v == fam ? "ok" : "mismatch");
	addr_t unb = sockname(l);
	P("unbound sockname: len=%d family_ok=%d port=%d", unb.len, unb.u.sa.sa_family == fam, port_of(&unb));
	addr_t b = loopback(fam, 0);
	result(W("bind loopback:0"), bind(l, &b.u.sa, b.len));
	addr_t la = sockname(l);
	P("getsockname: len=%d family_ok=%d port_nonzero=%d addr_loopback=%d", la.len, la.u.sa.sa_family == fam,
	  port_of(&la) != 0, same_host(&la, &b));
	result(W("listen backlog 8"), listen(l, 8));
	pollv("poll listener idle", l);
	expect_err(W("accept empty nonblocking"), accept(l, NULL, NULL));

	int c1 = socket(fam, SOCK_STREAM, 0);
	result(W("connect 1"), connect(c1, &la.u.sa, la.len));
	addr_t c1a = sockname(c1);
	/* The first connection is queued before the second starts: accept's
	 * order is then the connections' order. */
	waitev(l, POLLIN);
	P("client sockname: family_ok=%d port_nonzero=%d addr_loopback=%d port_differs=%d",
	  c1a.u.sa.sa_family == fam, port_of(&c1a) != 0, same_host(&c1a, &b), port_of(&c1a) != port_of(&la));
	int c2 = socket(fam, SOCK_STREAM, 0);
	result(W("connect 2"), connect(c2, &la.u.sa, la.len));
	addr_t c2a = sockname(c2);
	P("two clients have different ports: %s", port_of(&c1a) != port_of(&c2a) ? "ok" : "mismatch");

	waitev(l, POLLIN);
	pollv("poll listener pending", l);
	addr_t pa;
	memset(&pa, 0, sizeof pa);
	pa.len = sizeof pa.u;
	int s1 = accept4(l, &pa.u.sa, &pa.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	result(W("accept4 nonblock|cloexec"), s1);
	fdflags("accept4 flags", s1);
	P("accept4 peer is first client: %s", addr_eq(&pa, &c1a) ? "ok" : "mismatch");
	waitev(l, POLLIN);
	memset(&pa, 0, sizeof pa);
	pa.len = sizeof pa.u;
	int s2 = accept(l, &pa.u.sa, &pa.len);
	result(W("accept"), s2);
	/* accept(2) does not inherit the listener's O_NONBLOCK. */
	fdflags("accept flags", s2);
	P("accept peer is second client: %s", addr_eq(&pa, &c2a) ? "ok" : "mismatch");
	expect_err(W("accept drained"), accept(l, NULL, NULL));

	addr_t x = peername(c1), y = sockname(s1);
	P("client peername == server sockname: %s", x.len && addr_eq(&x, &y) ? "ok" : "mismatch");
	P("server sockname == listener address: %s", addr_eq(&y, &la) ? "ok" : "mismatch");
	x = peername(s1);
	P("server peername == client sockname: %s", x.len && addr_eq(&x, &c1a) ? "ok" : "mismatch");
	x = peername(s2);
	P("second server peername == second client: %s", x.len && addr_eq(&x, &c2a) ? "ok" : "mismatch");
	pa.len = sizeof pa.u;
	expect_err(W("getpeername listener"), getpeername(l, &pa.u.sa, &pa.len));
	/* A short buffer: the address is truncated, the length is the full one. */
	addr_t sh;
	memset(&sh, 0, sizeof sh);
	sh.len = 4;
	result(W("getsockname short buffer"), getsockname(c1, &sh.u.sa, &sh.len));
	P("short buffer len=%d", sh.len);

	/* Connections outlive their listener. */
	close(l);
	value(W("send after listener closed"), send(c1, "hi", 2, 0));
	char buf[8];
	waitev(s1, POLLIN);
	value(W("recv after listener closed"), recv(s1, buf, sizeof buf, 0));
	close(c1);
	close(c2);
	close(s1);
	close(s2);
}

static void *waitall_writer(void *arg)
{
	int fd = *(int *)arg;
	for (int i = 0; i < 3; i++) {
		usleep(20000);
		send(fd, "abc", 3, 0);
	}
	return NULL;
}

static void data(void)
{
	int c, s;
	char buf[128];
	pair(&c, &s);
	value(W("send"), send(c, "hello", 5, 0));
	waitev(s, POLLIN);
	int n = -1;
	result(W("FIONREAD"), ioctl(s, FIONREAD, &n));
	P("FIONREAD=%d", n);
	memset(buf, 0, sizeof buf);
	value(W("recv MSG_PEEK"), recv(s, buf, 3, MSG_PEEK));
	P("peeked=%s", buf);
	memset(buf, 0, sizeof buf);
	value(W("recv"), recv(s, buf, sizeof buf, 0));
	P("data=%s", buf);
	n = -1;
	ioctl(s, FIONREAD, &n);
	P("FIONREAD empty=%d", n);
	expect_err(W("recv MSG_DONTWAIT empty"), recv(s, buf, sizeof buf, MSG_DONTWAIT));
	expect_err(W("recv MSG_PEEK|MSG_DONTWAIT empty"), recv(s, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT));

	/* write/read and the stream's ordering. */
	value(W("write"), write(c, "0123456789", 10));
	value(W("recv MSG_WAITALL 10"), recv(s, buf, 10, MSG_WAITALL));
	P("read data=%.10s", buf);

	/* sendmsg/recvmsg with iovecs. */
	struct iovec iov[2] = {{"ab", 2}, {"cde", 3}};
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
	value(W("sendmsg 2 iovecs"), sendmsg(c, &m, 0));
	char b1[1], b2[4];
	struct iovec riov[2] = {{b1, 1}, {b2, 4}};
	addr_t from;
	memset(&from, 0, sizeof from);
	struct msghdr rm = {.msg_name = &from.u, .msg_namelen = sizeof from.u, .msg_iov = riov, .msg_iovlen = 2};
	value(W("recvmsg 2 iovecs waitall"), recvmsg(s, &rm, MSG_WAITALL));
	P("recvmsg data=%c%.4s flags=%#x namelen=%d", b1[0], b2, rm.msg_flags, rm.msg_namelen);
	value(W("writev"), writev(c, iov, 2));
	wait_inq(s, 5);
	riov[0].iov_base = b1;
	value(W("readv"), readv(s, riov, 2));
	P("readv data=%c%.4s", b1[0], b2);

	/* sendmmsg/recvmmsg: on a stream each message takes what fits. */
	struct mmsghdr mm[3];
	struct iovec iovs[3];
	char msgs[3][8] = {"one", "three", "fourty"};
	memset(mm, 0, sizeof mm);
	for (int i = 0; i < 3; i++) {
		iovs[i].iov_base = msgs[i];
		iovs[i].iov_len = strlen(msgs[i]);
		mm[i].msg_hdr.msg_iov = &iovs[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	value(W("sendmmsg 3"), sendmmsg(c, mm, 3, 0));
	P("sendmmsg lens=%u,%u,%u", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);
	P("all 14 bytes arrived: %s", wait_inq(s, 14) ? "ok" : "timeout");
	char rb[3][8];
	memset(rb, 0, sizeof rb);
	memset(mm, 0, sizeof mm);
	for (int i = 0; i < 3; i++) {
		iovs[i].iov_base = rb[i];
		iovs[i].iov_len = strlen(msgs[i]);
		mm[i].msg_hdr.msg_iov = &iovs[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	value(W("recvmmsg 3"), recvmmsg(s, mm, 3, MSG_DONTWAIT, NULL));
	P("recvmmsg lens=%u,%u,%u data=%s,%s,%s", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len, rb[0], rb[1], rb[2]);

	/* MSG_WAITALL: a thread sends 3 pieces 20ms apart. */
	pthread_t th;
	pthread_create(&th, NULL, waitall_writer, &c);
	memset(buf, 0, sizeof buf);
	value(W("recv MSG_WAITALL 9 from 3 pieces"), recv(s, buf, 9, MSG_WAITALL));
	pthread_join(th, NULL);
	P("waitall data=%s", buf);

	/* MSG_TRUNC on TCP discards the bytes. */
	send(c, "discarded!", 10, 0);
	wait_inq(s, 10);
	value(W("recv MSG_TRUNC 4"), recv(s, buf, 4, MSG_TRUNC));
	memset(buf, 0, sizeof buf);
	value(W("recv rest"), recv(s, buf, sizeof buf, 0));
	P("rest=%s", buf);

	/* A transfer far larger than any buffer: flow control, no loss. */
	pid_t pid = fork();
	if (pid == 0) {
		close(s);
		static unsigned char m1[1 << 20];
		for (size_t i = 0; i < sizeof m1; i++)
			m1[i] = (unsigned char)(i * 7 + i / 251);
		size_t off = 0;
		while (off < sizeof m1) {
			ssize_t w = send(c, m1 + off, sizeof m1 - off, 0);
			if (w <= 0)
				_exit(1);
			off += w;
		}
		_exit(0);
	}
	long got = 0, bad = 0;
	static unsigned char big[65536];
	while (got < (1 << 20)) {
		ssize_t r = recv(s, big, sizeof big, 0);
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++, got++)
			if (big[i] != (unsigned char)(got * 7 + got / 251))
				bad++;
	}
	int status;
	waitpid(pid, &status, 0);
	P("1MiB transfer: got=%ld corrupt=%ld child=%d", got, bad, WEXITSTATUS(status));
	close(c);
	close(s);
}

static void shutdowns(void)
{
	int c, s;
	char buf[16];
	pair(&c, &s);
	pollv("poll connected idle", c);
	expect_err(W("shutdown bad how"), shutdown(c, 7));
	result(W("shutdown SHUT_WR"), shutdown(c, SHUT_WR));
	waitev(s, POLLRDHUP);
	pollv("poll peer after SHUT_WR", s);
	pollv("poll self after SHUT_WR", c);
	value(W("peer recv eof"), recv(s, buf, sizeof buf, 0));
	value(W("peer recv eof again"), recv(s, buf, sizeof buf, 0));
	sigpipes = 0;
	expect_err(W("send after SHUT_WR MSG_NOSIGNAL"), send(c, "x", 1, MSG_NOSIGNAL));
	P("sigpipes=%d", sigpipes);
	expect_err(W("write after SHUT_WR"), write(c, "x", 1));
	P("sigpipes=%d", sigpipes);
	value(W("peer still sends"), send(s, "back", 4, 0));
	value(W("half-closed side receives"), recv(c, buf, 4, MSG_WAITALL));
	result(W("peer shutdown SHUT_WR"), shutdown(s, SHUT_WR));
	waitev(c, POLLRDHUP);
	value(W("recv eof after both"), recv(c, buf, sizeof buf, 0));
	waitev(c, POLLHUP);
	waitev(s, POLLHUP);
	pollv("poll after both SHUT_WR", c);
	pollv("poll peer after both SHUT_WR", s);
	close(c);
	close(s);

	/* SHUT_RD: reads see end of file at once. */
	pair(&c, &s);
	result(W("shutdown SHUT_RD"), shutdown(s, SHUT_RD));
	value(W("recv after SHUT_RD"), recv(s, buf, sizeof buf, MSG_DONTWAIT));
	result(W("shutdown SHUT_RDWR"), shutdown(c, SHUT_RDWR));
	close(c);
	close(s);
}

static void pipes(void)
{
	int c, s;
	char buf[16];
	pair(&c, &s);
	close(s);
	waitev(c, POLLRDHUP);
	pollv("poll after peer close", c);
	value(W("recv eof after peer close"), recv(c, buf, sizeof buf, 0));
	/* The first write goes out; the closed peer answers with a RST. */
	sigpipes = 0;
	value(W("first write after peer close"), write(c, "x", 1));
	waitev(c, POLLERR);
	pollv("poll after RST", c);
	expect_err(W("write after RST"), write(c, "x", 1));
	P("sigpipes=%d", sigpipes);
	expect_err(W("write again"), write(c, "x", 1));
	P("sigpipes=%d", sigpipes);
	expect_err(W("send MSG_NOSIGNAL"), send(c, "x", 1, MSG_NOSIGNAL));
	P("sigpipes=%d", sigpipes);
	value(W("recv after EPIPE"), recv(c, buf, sizeof buf, 0));
	close(c);
}

static void resets(void)
{
	int c, s;
	char buf[16];
	/* SO_LINGER {1, 0}: close sends a RST. */
	pair(&c, &s);
	struct linger lg = {1, 0};
	result(W("SO_LINGER 1,0"), setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
	close(s);
	waitev(c, POLLERR);
	pollv("poll after RST", c);
	expect_err(W("recv after RST"), recv(c, buf, sizeof buf, 0));
	value(W("recv after ECONNRESET"), recv(c, buf, sizeof buf, 0));
	sigpipes = 0;
	expect_err(W("send after ECONNRESET"), send(c, "x", 1, MSG_NOSIGNAL));
	P("sigpipes=%d", sigpipes);
	close(c);

	/* The error is also SO_ERROR, reported once. */
	pair(&c, &s);
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(s);
	waitev(c, POLLERR);
	int e = -1;
	socklen_t el = sizeof e;
	result(W("SO_ERROR after RST"), getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el));
	P("SO_ERROR=%s", e ? errname(e) : "0");
	getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el);
	P("SO_ERROR again=%s", e ? errname(e) : "0");
	value(W("recv after SO_ERROR read"), recv(c, buf, sizeof buf, 0));
	close(c);

	/* Closing with unread data resets the connection too. */
	pair(&c, &s);
	send(c, "unread", 6, 0);
	wait_inq(s, 6);
	close(s);
	waitev(c, POLLERR);
	expect_err(W("recv after close with unread data"), recv(c, buf, sizeof buf, 0));
	close(c);
}

static void connects(void)
{
	addr_t a;
	int l = listener(fam, &a);
	int c = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
	expect_err(W("nonblocking connect"), connect(c, &a.u.sa, a.len));
	short re = waitev(c, POLLOUT);
	P("poll connecting: revents=%#x", re & PEV);
	int e = -1;
	socklen_t el = sizeof e;
	result(W("SO_ERROR after connect"), getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el));
	P("SO_ERROR=%s", e ? errname(e) : "0");
	/* Linux reports the completed connect once more as success. */
	result(W("connect again (completion)"), connect(c, &a.u.sa, a.len));
	expect_err(W("connect third time"), connect(c, &a.u.sa, a.len));
	addr_t p = peername(c);
	P("peername after nonblocking connect: %s", addr_eq(&p, &a) ? "ok" : "mismatch");
	int s = accept(l, NULL, NULL);
	value(W("send on nonblocking-connected"), send(c, "nb", 2, 0));
	char buf[8];
	value(W("recv"), recv(s, buf, 2, MSG_WAITALL));
	close(s);
	close(c);

	c = socket(fam, SOCK_STREAM, 0);
	result(W("blocking connect"), connect(c, &a.u.sa, a.len));
	expect_err(W("blocking connect again"), connect(c, &a.u.sa, a.len));
	close(c);
	close(l);

	addr_t r;
	int rs = closed_port(fam, &r);
	c = socket(fam, SOCK_STREAM, 0);
	expect_err(W("connect closed port"), connect(c, &r.u.sa, r.len));
	e = -1;
	getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el);
	P("SO_ERROR after refused=%s", e ? errname(e) : "0");
	expect_err(W("getpeername after refused"), getpeername(c, &p.u.sa, &p.len));
	close(c);

	c = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
	expect_err(W("nonblocking connect closed port"), connect(c, &r.u.sa, r.len));
	waitev(c, POLLERR);
	pollv("poll refused", c);
	e = -1;
	getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el);
	P("SO_ERROR refused=%s", e ? errname(e) : "0");
	getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el);
	P("SO_ERROR again=%s", e ? errname(e) : "0");
	close(c);
	close(rs);
}

static void polls(void)
{
	int c, s;
	char buf[16];
	pair(&c, &s);
	pollv("poll idle server", s);
	send(c, "x", 1, 0);
	waitev(s, POLLIN);
	pollv("poll with data", s);

	fd_set rf, wf;
	FD_ZERO(&rf);
	FD_ZERO(&wf);
	FD_SET(s, &rf);
	FD_SET(s, &wf);
	struct timeval tv = {0, 0};
	value(W("select readable+writable"), select(s + 1, &rf, &wf, NULL, &tv));
	P("select r=%d w=%d", FD_ISSET(s, &rf), FD_ISSET(s, &wf));
	recv(s, buf, sizeof buf, 0);
	FD_ZERO(&rf);
	FD_SET(s, &rf);
	tv.tv_usec = 0;
	value(W("select drained"), select(s + 1, &rf, NULL, NULL, &tv));

	/* Edge-triggered epoll fires once per arrival. */
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = 7};
	result(W("epoll_ctl ADD EPOLLET"), epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	value(W("epoll idle"), epoll_wait(ep, &ev, 1, 0));
	send(c, "a", 1, 0);
	memset(&ev, 0, sizeof ev);
	int n = epoll_wait(ep, &ev, 1, WAIT_MS);
	P("epoll ET first: n=%d events=%#x data=%u", n, n > 0 ? ev.events : 0, n > 0 ? ev.data.u32 : 0);
	value(W("epoll ET no new data"), epoll_wait(ep, &ev, 1, 0));
	send(c, "b", 1, 0);
	n = epoll_wait(ep, &ev, 1, WAIT_MS);
	P("epoll ET second: n=%d events=%#x", n, n > 0 ? ev.events : 0);
	value(W("epoll ET again quiet"), epoll_wait(ep, &ev, 1, 0));
	wait_inq(s, 2);
	value(W("read both"), recv(s, buf, sizeof buf, 0));
	close(ep);

	/* Level-triggered with EPOLLRDHUP: the peer's FIN. */
	ep = epoll_create1(0);
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	n = epoll_wait(ep, &ev, 1, WAIT_MS);
	P("epoll LT idle: n=%d events=%#x", n, n > 0 ? ev.events : 0);
	shutdown(c, SHUT_WR);
	waitev(s, POLLRDHUP);
	n = epoll_wait(ep, &ev, 1, WAIT_MS);
	P("epoll LT after FIN: n=%d events=%#x", n, n > 0 ? ev.events : 0);
	close(ep);
	close(c);
	close(s);
}

/* mapped: an AF_INET6 socket with IPV6_V6ONLY=0 bound to [::] takes IPv4
 * connections, seen as ::ffff:a.b.c.d; with IPV6_V6ONLY=1 it does not. */
static void mapped(void)
{
	pfx = "mapped";
	int l = socket(AF_INET6, SOCK_STREAM, 0);
	int off = 0, on = 1;
	result(W("IPV6_V6ONLY=0"), setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off));
	addr_t any = loopback(AF_INET6, 0);
	any.u.in6.sin6_addr = in6addr_any;
	result(W("bind [::]:0"), bind(l, &any.u.sa, any.len));
	result(W("listen"), listen(l, 8));
	int port = port_of((addr_t[]){sockname(l)});

	int c4 = socket(AF_INET, SOCK_STREAM, 0);
	addr_t a4 = loopback(AF_INET, port);
	result(W("v4 connect to dual-stack listener"), connect(c4, &a4.u.sa, a4.len));
	addr_t c4a = sockname(c4);
	addr_t pa;
	memset(&pa, 0, sizeof pa);
	pa.len = sizeof pa.u;
	int s = accept(l, &pa.u.sa, &pa.len);
	result(W("accept v4 client"), s);
	addr_t want = mapped4(port_of(&c4a));
	P("peer is ::ffff:127.0.0.1 with client port: %s", addr_eq(&pa, &want) ? "ok" : "mismatch");
	addr_t sn = sockname(s);
	want = mapped4(port);
	P("accepted sockname is ::ffff:127.0.0.1:port: %s", addr_eq(&sn, &want) ? "ok" : "mismatch");
	addr_t c4p = peername(c4);
	P("v4 client peer is 127.0.0.1:port: %s", addr_eq(&c4p, &a4) ? "ok" : "mismatch");
	value(W("v4 client send"), send(c4, "m4", 2, 0));
	char buf[8] = {0};
	value(W("v6 server recv"), recv(s, buf, 2, MSG_WAITALL));
	value(W("v6 server reply"), send(s, "r", 1, 0));
	value(W("v4 client recv"), recv(c4, buf, 1, 0));
	close(s);
	close(c4);

	int c6 = socket(AF_INET6, SOCK_STREAM, 0);
	addr_t m = mapped4(port);
	result(W("v6 connect to ::ffff:127.0.0.1"), connect(c6, &m.u.sa, m.len));
	addr_t c6a = sockname(c6);
	want = mapped4(port_of(&c6a));
	P("v6 client sockname is mapped: %s", addr_eq(&c6a, &want) ? "ok" : "mismatch");
	pa.len = sizeof pa.u;
	s = accept(l, &pa.u.sa, &pa.len);
	P("peer of mapped v6 client: %s", addr_eq(&pa, &c6a) ? "ok" : "mismatch");
	close(s);
	close(c6);

	c6 = socket(AF_INET6, SOCK_STREAM, 0);
	addr_t a6 = loopback(AF_INET6, port);
	result(W("v6 connect ::1 to dual-stack listener"), connect(c6, &a6.u.sa, a6.len));
	close(c6);
	close(l);

	/* IPV6_V6ONLY=1: the IPv4 port stays free. Hold it with a bound IPv4
	 * socket so that no other host socket answers there. */
	int l6 = -1, hold = -1;
	for (int tries = 0; tries < 20 && hold < 0; tries++) {
		l6 = socket(AF_INET6, SOCK_STREAM, 0);
		setsockopt(l6, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
		bind(l6, &any.u.sa, any.len);
		listen(l6, 8);
		port = port_of((addr_t[]){sockname(l6)});
		hold = socket(AF_INET, SOCK_STREAM, 0);
		a4 = loopback(AF_INET, port);
		if (bind(hold, &a4.u.sa, a4.len) < 0) {
			close(hold);
			close(l6);
			hold = -1;
		}
	}
	P("v6only listener and v4 holder on one port: %s", hold >= 0 ? "ok" : "FAIL");
	c4 = socket(AF_INET, SOCK_STREAM, 0);
	expect_err(W("v4 connect to v6only listener"), connect(c4, &a4.u.sa, a4.len));
	close(c4);
	c6 = socket(AF_INET6, SOCK_STREAM, 0);
	result(W("IPV6_V6ONLY=1 on client"), setsockopt(c6, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on));
	m = mapped4(port);
	expect_err(W("v6only client connect to mapped address"), connect(c6, &m.u.sa, m.len));
	close(c6);
	c6 = socket(AF_INET6, SOCK_STREAM, 0);
	a6 = loopback(AF_INET6, port);
	result(W("v6 connect ::1 to v6only listener"), connect(c6, &a6.u.sa, a6.len));
	close(c6);
	close(hold);
	close(l6);
}

int main(int argc, char **argv)
{
	sections_init(argc, argv);
	signal(SIGPIPE, onpipe);
	setvbuf(stdout, NULL, _IONBF, 0);
	const struct {
		const char *name;
		int family;
	} fams[] = {{"v4", AF_INET}, {"v6", AF_INET6}};
	for (int i = 0; i < 2; i++) {
		if (!section(fams[i].name))
			continue;
		fam = fams[i].family;
		pfx = fams[i].name;
		if (section("basic"))
			basic();
		if (section("data"))
			data();
		if (section("shutdown"))
			shutdowns();
		if (section("pipe"))
			pipes();
		if (section("reset"))
			resets();
		if (section("connect"))
			connects();
		if (section("poll"))
			polls();
	}
	if (section("mapped"))
		mapped();
	return 0;
}
