/* socket_inet_opts: socket options of AF_INET/AF_INET6 TCP and UDP
 * sockets: the SOL_SOCKET ones (SO_TYPE/DOMAIN/PROTOCOL, SO_ACCEPTCONN,
 * SO_ERROR, SO_REUSEADDR/REUSEPORT, SO_KEEPALIVE, SO_LINGER, buffer sizes
 * as relations only, SO_RCVTIMEO/SO_SNDTIMEO and their effect), the
 * IPPROTO_TCP ones (TCP_NODELAY, TCP_CORK, keepalive, TCP_USER_TIMEOUT,
 * TCP_INFO's state, TCP_MAXSEG) and the IP ones (IP_TOS, IP_TTL,
 * IPV6_TCLASS, IPV6_UNICAST_HOPS, IPV6_V6ONLY).
 * usage: socket_inet_opts [SECTION...]  (probe.h: "v4"/"v6" hold the
 * per-family sections sol, tcp, maxseg, ip, info, timeo)
 *
 * Buffer sizes and defaults that are sysctls are printed as relations.
 */
#include "probe.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 5000

typedef struct {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
		struct sockaddr_storage ss;
	} u;
	socklen_t len;
} addr_t;

static int fam;
static const char *pfx;

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

static addr_t sockname(int fd)
{
	addr_t a;
	memset(&a, 0, sizeof a);
	a.len = sizeof a.u;
	getsockname(fd, &a.u.sa, &a.len);
	return a;
}

static short waitev(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n = poll(&p, 1, WAIT_MS);
	return n > 0 ? p.revents : 0;
}

static int listener(addr_t *a)
{
	int l = socket(fam, SOCK_STREAM, 0);
	addr_t b = loopback(fam, 0);
	if (bind(l, &b.u.sa, b.len) < 0 || listen(l, 4) < 0) {
		P("listener setup: %s", errname(errno));
		exit(1);
	}
	*a = sockname(l);
	return l;
}

static void pair(int *c, int *s)
{
	addr_t a;
	int l = listener(&a);
	*c = socket(fam, SOCK_STREAM, 0);
	if (connect(*c, &a.u.sa, a.len) < 0 || (*s = accept(l, NULL, NULL)) < 0) {
		P("pair setup: %s", errname(errno));
		exit(1);
	}
	close(l);
}

static int getint(int fd, int level, int opt, int *v)
{
	socklen_t vl = sizeof *v;
	*v = -7;
	int r = getsockopt(fd, level, opt, v, &vl);
	if (r == 0 && vl != sizeof *v)
		P("optlen=%d", vl);
	return r;
}

/* show prints an int option. */
static void show(int fd, int level, int opt, const char *name)
{
	int v;
	if (getint(fd, level, opt, &v) < 0)
		P("%s: %s", name, errname(errno));
	else
		P("%s=%d", name, v);
}

/* setshow sets an int option and prints what reads back. */
static void setshow(int fd, int level, int opt, const char *name, int set)
{
	char w[96];
	snprintf(w, sizeof w, "%s set %d", name, set);
	int r = setsockopt(fd, level, opt, &set, sizeof set);
	if (r < 0) {
		result(W(w), r);
		return;
	}
	int v;
	getint(fd, level, opt, &v);
	P("%s: ok, reads %d", w, v);
}

static void seterr(int fd, int level, int opt, const char *name, int set)
{
	char w[96];
	snprintf(w, sizeof w, "%s set %d", name, set);
	expect_err(W(w), setsockopt(fd, level, opt, &set, sizeof set));
}

static void sol(void)
{
	int t = socket(fam, SOCK_STREAM, 0), u = socket(fam, SOCK_DGRAM, 0);
	int v;
	getint(t, SOL_SOCKET, SO_TYPE, &v);
	P("tcp SO_TYPE=%d", v);
	getint(t, SOL_SOCKET, SO_DOMAIN, &v);
	P("tcp SO_DOMAIN is family: %s", v == fam ? "ok" : "mismatch");
	show(t, SOL_SOCKET, SO_PROTOCOL, "tcp SO_PROTOCOL");
	getint(u, SOL_SOCKET, SO_TYPE, &v);
	P("udp SO_TYPE=%d", v);
	getint(u, SOL_SOCKET, SO_DOMAIN, &v);
	P("udp SO_DOMAIN is family: %s", v == fam ? "ok" : "mismatch");
	show(u, SOL_SOCKET, SO_PROTOCOL, "udp SO_PROTOCOL");
	seterr(t, SOL_SOCKET, SO_TYPE, "SO_TYPE", 2);
	seterr(t, SOL_SOCKET, SO_PROTOCOL, "SO_PROTOCOL", 17);

	show(t, SOL_SOCKET, SO_ACCEPTCONN, "SO_ACCEPTCONN fresh");
	seterr(t, SOL_SOCKET, SO_ACCEPTCONN, "SO_ACCEPTCONN", 1);
	show(t, SOL_SOCKET, SO_ERROR, "SO_ERROR fresh");
	seterr(t, SOL_SOCKET, SO_ERROR, "SO_ERROR", 1);

	show(t, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR default");
	setshow(t, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 1);
	setshow(t, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 5);
	setshow(t, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 0);
	show(t, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT default");
	setshow(t, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", 1);
	show(u, SOL_SOCKET, SO_REUSEPORT, "udp SO_REUSEPORT default");
	setshow(u, SOL_SOCKET, SO_REUSEPORT, "udp SO_REUSEPORT", 1);
	show(t, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE default");
	setshow(t, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", 1);
	setshow(t, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", 0);
	show(t, SOL_SOCKET, SO_OOBINLINE, "SO_OOBINLINE default");
	setshow(t, SOL_SOCKET, SO_OOBINLINE, "SO_OOBINLINE", 1);
	show(t, SOL_SOCKET, SO_DONTROUTE, "SO_DONTROUTE default");
	setshow(t, SOL_SOCKET, SO_DONTROUTE, "SO_DONTROUTE", 1);
	show(t, SOL_SOCKET, SO_RCVLOWAT, "SO_RCVLOWAT default");
	setshow(t, SOL_SOCKET, SO_RCVLOWAT, "SO_RCVLOWAT", 10);
	show(t, SOL_SOCKET, SO_PRIORITY, "SO_PRIORITY default");
	setshow(t, SOL_SOCKET, SO_PRIORITY, "SO_PRIORITY", 6);

	struct linger lg;
	socklen_t ll = sizeof lg;
	memset(&lg, 0x55, sizeof lg);
	result(W("SO_LINGER get"), getsockopt(t, SOL_SOCKET, SO_LINGER, &lg, &ll));
	P("SO_LINGER default=%d,%d len=%d", lg.l_onoff, lg.l_linger, ll);
	lg.l_onoff = 1;
	lg.l_linger = 5;
	result(W("SO_LINGER set 1,5"), setsockopt(t, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
	memset(&lg, 0, sizeof lg);
	getsockopt(t, SOL_SOCKET, SO_LINGER, &lg, &ll);
	P("SO_LINGER=%d,%d", lg.l_onoff, lg.l_linger);

	/* Buffer sizes: the kernel may double and clamp; only relations. */
	int dr, ds;
	getint(t, SOL_SOCKET, SO_RCVBUF, &dr);
	getint(t, SOL_SOCKET, SO_SNDBUF, &ds);
	P("SO_RCVBUF default>0=%d SO_SNDBUF default>0=%d", dr > 0, ds > 0);
	int big = 65536, tiny = 1, r1, r2, s1, s2;
	result(W("SO_RCVBUF set 65536"), setsockopt(t, SOL_SOCKET, SO_RCVBUF, &big, sizeof big));
	getint(t, SOL_SOCKET, SO_RCVBUF, &r1);
	result(W("SO_SNDBUF set 65536"), setsockopt(t, SOL_SOCKET, SO_SNDBUF, &big, sizeof big));
	getint(t, SOL_SOCKET, SO_SNDBUF, &s1);
	P("SO_RCVBUF>=65536=%d SO_SNDBUF>=65536=%d", r1 >= 65536, s1 >= 65536);
	result(W("SO_RCVBUF set 1"), setsockopt(t, SOL_SOCKET, SO_RCVBUF, &tiny, sizeof tiny));
	getint(t, SOL_SOCKET, SO_RCVBUF, &r2);
	result(W("SO_SNDBUF set 1"), setsockopt(t, SOL_SOCKET, SO_SNDBUF, &tiny, sizeof tiny));
	getint(t, SOL_SOCKET, SO_SNDBUF, &s2);
	P("tiny: SO_RCVBUF>1=%d below 65536=%d SO_SNDBUF>1=%d below 65536=%d", r2 > 1, r2 < r1, s2 > 1, s2 < s1);
	result(W("udp SO_RCVBUF set 65536"), setsockopt(u, SOL_SOCKET, SO_RCVBUF, &big, sizeof big));
	getint(u, SOL_SOCKET, SO_RCVBUF, &r1);
	P("udp SO_RCVBUF>=65536=%d", r1 >= 65536);

	/* SO_ACCEPTCONN follows listen. */
	addr_t a;
	int l = listener(&a);
	show(l, SOL_SOCKET, SO_ACCEPTCONN, "SO_ACCEPTCONN listening");
	int c = socket(fam, SOCK_STREAM, 0);
	connect(c, &a.u.sa, a.len);
	int s = accept(l, NULL, NULL);
	show(s, SOL_SOCKET, SO_ACCEPTCONN, "SO_ACCEPTCONN accepted");
	show(c, SOL_SOCKET, SO_ACCEPTCONN, "SO_ACCEPTCONN connected");
	/* The accepted socket inherits the listener's options. */
	int one = 1;
	close(s);
	close(c);
	setsockopt(l, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	setsockopt(l, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c = socket(fam, SOCK_STREAM, 0);
	connect(c, &a.u.sa, a.len);
	s = accept(l, NULL, NULL);
	show(s, SOL_SOCKET, SO_KEEPALIVE, "accepted inherits SO_KEEPALIVE");
	show(s, IPPROTO_TCP, TCP_NODELAY, "accepted inherits TCP_NODELAY");
	close(s);
	close(c);
	close(l);
	close(t);
	close(u);
}

static void tcp(void)
{
	int t = socket(fam, SOCK_STREAM, 0);
	int v;
	show(t, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY default");
	setshow(t, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", 1);
	setshow(t, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", 0);
	show(t, IPPROTO_TCP, TCP_CORK, "TCP_CORK default");
	setshow(t, IPPROTO_TCP, TCP_CORK, "TCP_CORK", 1);
	setshow(t, IPPROTO_TCP, TCP_CORK, "TCP_CORK", 0);

	getint(t, IPPROTO_TCP, TCP_KEEPIDLE, &v);
	P("TCP_KEEPIDLE default>0=%d", v > 0);
	setshow(t, IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", 60);
	seterr(t, IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", 0);
	seterr(t, IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", 32768);
	getint(t, IPPROTO_TCP, TCP_KEEPINTVL, &v);
	P("TCP_KEEPINTVL default>0=%d", v > 0);
	setshow(t, IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL", 10);
	seterr(t, IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL", 0);
	getint(t, IPPROTO_TCP, TCP_KEEPCNT, &v);
	P("TCP_KEEPCNT default>0=%d", v > 0);
	setshow(t, IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT", 3);
	seterr(t, IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT", 0);
	show(t, IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT default");
	setshow(t, IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", 1500);
	seterr(t, IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", -1);
	setshow(t, IPPROTO_TCP, TCP_LINGER2, "TCP_LINGER2", 10);

	/* The options hold on a connected socket too, and TCP_NODELAY data
	 * still flows. */
	int c, s;
	pair(&c, &s);
	setshow(c, IPPROTO_TCP, TCP_NODELAY, "connected TCP_NODELAY", 1);
	setshow(c, SOL_SOCKET, SO_KEEPALIVE, "connected SO_KEEPALIVE", 1);
	setshow(c, IPPROTO_TCP, TCP_KEEPIDLE, "connected TCP_KEEPIDLE", 30);
	char buf[4];
	value(W("send with TCP_NODELAY"), send(c, "nd", 2, 0));
	value(W("recv"), recv(s, buf, 2, MSG_WAITALL));
	close(c);
	close(s);
	close(t);
}

/* maxseg: TCP_MAXSEG on an unconnected socket reads the default MSS, or
 * the value set; connected, the MSS in use. */
static void maxseg(void)
{
	int t = socket(fam, SOCK_STREAM, 0);
	show(t, IPPROTO_TCP, TCP_MAXSEG, "TCP_MAXSEG unconnected");
	setshow(t, IPPROTO_TCP, TCP_MAXSEG, "TCP_MAXSEG", 1000);
	seterr(t, IPPROTO_TCP, TCP_MAXSEG, "TCP_MAXSEG", 10);
	close(t);
	int c, s, v;
	pair(&c, &s);
	getint(c, IPPROTO_TCP, TCP_MAXSEG, &v);
	P("TCP_MAXSEG connected>=536=%d", v >= 536);
	close(c);
	close(s);
}

static void ip(void)
{
	int t = socket(fam, SOCK_STREAM, 0), u = socket(fam, SOCK_DGRAM, 0);
	if (fam == AF_INET) {
		show(t, IPPROTO_IP, IP_TOS, "tcp IP_TOS default");
		setshow(t, IPPROTO_IP, IP_TOS, "tcp IP_TOS", 0x10);
		show(u, IPPROTO_IP, IP_TOS, "udp IP_TOS default");
		setshow(u, IPPROTO_IP, IP_TOS, "udp IP_TOS", 0x10);
		show(t, IPPROTO_IP, IP_TTL, "IP_TTL default");
		setshow(t, IPPROTO_IP, IP_TTL, "IP_TTL", 100);
		seterr(t, IPPROTO_IP, IP_TTL, "IP_TTL", 0);
		seterr(t, IPPROTO_IP, IP_TTL, "IP_TTL", 256);
		setshow(t, IPPROTO_IP, IP_TTL, "IP_TTL", -1);
		setshow(u, IPPROTO_IP, IP_TTL, "udp IP_TTL", 1);
		show(u, IPPROTO_IP, IP_PKTINFO, "IP_PKTINFO default");
		setshow(u, IPPROTO_IP, IP_PKTINFO, "IP_PKTINFO", 1);
		show(u, IPPROTO_IP, IP_RECVTOS, "IP_RECVTOS default");
		setshow(u, IPPROTO_IP, IP_RECVTOS, "IP_RECVTOS", 1);
		show(u, IPPROTO_IP, IP_RECVTTL, "IP_RECVTTL default");
		setshow(u, IPPROTO_IP, IP_RECVTTL, "IP_RECVTTL", 1);
	} else {
		show(t, IPPROTO_IPV6, IPV6_TCLASS, "tcp IPV6_TCLASS default");
		setshow(t, IPPROTO_IPV6, IPV6_TCLASS, "tcp IPV6_TCLASS", 0x10);
		setshow(t, IPPROTO_IPV6, IPV6_TCLASS, "tcp IPV6_TCLASS", -1);
		seterr(t, IPPROTO_IPV6, IPV6_TCLASS, "tcp IPV6_TCLASS", 256);
		show(u, IPPROTO_IPV6, IPV6_TCLASS, "udp IPV6_TCLASS default");
		setshow(u, IPPROTO_IPV6, IPV6_TCLASS, "udp IPV6_TCLASS", 0x10);
		show(t, IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS default");
		setshow(t, IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS", 100);
		seterr(t, IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS", 256);
		setshow(t, IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS", -1);
		show(t, IPPROTO_IPV6, IPV6_V6ONLY, "tcp IPV6_V6ONLY default");
		setshow(t, IPPROTO_IPV6, IPV6_V6ONLY, "tcp IPV6_V6ONLY", 1);
		setshow(t, IPPROTO_IPV6, IPV6_V6ONLY, "tcp IPV6_V6ONLY", 0);
		show(u, IPPROTO_IPV6, IPV6_V6ONLY, "udp IPV6_V6ONLY default");
		setshow(u, IPPROTO_IPV6, IPV6_V6ONLY, "udp IPV6_V6ONLY", 1);
		show(u, IPPROTO_IPV6, IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO default");
		setshow(u, IPPROTO_IPV6, IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO", 1);
		show(u, IPPROTO_IPV6, IPV6_RECVTCLASS, "IPV6_RECVTCLASS default");
		setshow(u, IPPROTO_IPV6, IPV6_RECVTCLASS, "IPV6_RECVTCLASS", 1);
	}
	close(t);
	close(u);
}

static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t tl = sizeof ti;
	memset(&ti, 0, sizeof ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) < 0)
		return -errno;
	return ti.tcpi_state;
}

static const char *state_name(int st)
{
	static const char *names[] = {"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
				      "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"};
	if (st < 0)
		return errname(-st);
	return st < (int)(sizeof names / sizeof names[0]) ? names[st] : "?";
}

static void info(void)
{
	int t = socket(fam, SOCK_STREAM, 0);
	P("TCP_INFO fresh: %s", state_name(tcp_state(t)));
	close(t);
	addr_t a;
	int l = listener(&a);
	P("TCP_INFO listener: %s", state_name(tcp_state(l)));
	int c = socket(fam, SOCK_STREAM, 0);
	connect(c, &a.u.sa, a.len);
	int s = accept(l, NULL, NULL);
	P("TCP_INFO connected: %s", state_name(tcp_state(c)));
	P("TCP_INFO accepted: %s", state_name(tcp_state(s)));
	shutdown(c, SHUT_WR);
	waitev(s, POLLRDHUP);
	P("TCP_INFO after peer's FIN: %s", state_name(tcp_state(s)));
	/* A short buffer is filled as far as it goes. */
	unsigned char st = 0xff;
	socklen_t sl = 1;
	result(W("TCP_INFO 1-byte buffer"), getsockopt(s, IPPROTO_TCP, TCP_INFO, &st, &sl));
	P("TCP_INFO 1-byte: len=%d state=%s", sl, state_name(st));
	close(c);
	close(s);
	close(l);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void timeo(void)
{
	int c, s;
	char buf[8];
	struct timeval tv;
	socklen_t tl = sizeof tv;
	pair(&c, &s);
	memset(&tv, 0x55, sizeof tv);
	result(W("SO_RCVTIMEO get"), getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, &tl));
	P("SO_RCVTIMEO default=%ld.%06ld len=%d", (long)tv.tv_sec, (long)tv.tv_usec, tl);
	tv.tv_sec = 0;
	tv.tv_usec = 100000;
	result(W("SO_RCVTIMEO set 0.1s"), setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	memset(&tv, 0, sizeof tv);
	getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, &tl);
	P("SO_RCVTIMEO=%ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);
	struct timeval bad = {0, 1000000};
	expect_err(W("SO_RCVTIMEO usec 1000000"), setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &bad, sizeof bad));
	expect_err(W("SO_RCVTIMEO short optlen"), setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &bad, 4));
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_err(W("tcp recv times out"), recv(s, buf, sizeof buf, 0));
	P("waited>=90ms=%d", ms_since(&t0) >= 90);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_err(W("tcp read times out"), read(s, buf, sizeof buf));
	P("waited>=90ms=%d", ms_since(&t0) >= 90);
	send(c, "t", 1, 0);
	value(W("recv with SO_RCVTIMEO set, data there"), recv(s, buf, sizeof buf, 0));

	/* SO_SNDTIMEO: fill the connection, then a blocking send times out.
	 * The receiver never reads; a send the timeout cuts short after some
	 * progress returns that progress, so repeat until one makes none. */
	tv.tv_sec = 0;
	tv.tv_usec = 100000;
	result(W("SO_SNDTIMEO set 0.1s"), setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
	memset(&tv, 0, sizeof tv);
	getsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, &tl);
	P("SO_SNDTIMEO=%ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);
	static char fill[1 << 16];
	long filled = 0;
	ssize_t w;
	while ((w = send(c, fill, sizeof fill, MSG_DONTWAIT)) > 0)
		filled += w;
	P("nonblocking fill stopped: %s filled>0=%d", w < 0 ? errname(errno) : "eof", filled > 0);
	int e = 0;
	long ms = 0;
	for (int tries = 0; tries < 50; tries++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		w = send(c, fill, sizeof fill, 0);
		ms = ms_since(&t0);
		if (w < 0) {
			e = errno;
			break;
		}
	}
	P("tcp send times out: %s", e ? errname(e) : "never");
	P("waited>=90ms=%d", ms >= 90);
	close(c);
	close(s);

	/* accept honours SO_RCVTIMEO. */
	addr_t a;
	int l = listener(&a);
	tv.tv_sec = 0;
	tv.tv_usec = 100000;
	setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_err(W("accept times out"), accept(l, NULL, NULL));
	P("waited>=90ms=%d", ms_since(&t0) >= 90);
	close(l);

	/* UDP. */
	int u = socket(fam, SOCK_DGRAM, 0);
	addr_t b = loopback(fam, 0);
	bind(u, &b.u.sa, b.len);
	setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_err(W("udp recv times out"), recv(u, buf, sizeof buf, 0));
	P("waited>=90ms=%d", ms_since(&t0) >= 90);
	close(u);
}

int main(int argc, char **argv)
{
	sections_init(argc, argv);
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
		if (section("sol"))
			sol();
		if (section("tcp"))
			tcp();
		if (section("maxseg"))
			maxseg();
		if (section("ip"))
			ip();
		if (section("info"))
			info();
		if (section("timeo"))
			timeo();
	}
	return 0;
}
