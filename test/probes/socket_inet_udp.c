/* socket_inet_udp: AF_INET and AF_INET6 UDP over loopback: sendto/recvfrom
 * and source addresses, autobind, connect (peer filtering, sendto
 * override, AF_UNSPEC dissolving), datagram boundaries, MSG_PEEK,
 * MSG_TRUNC (return value and msg_flags), FIONREAD, sendmmsg/recvmmsg,
 * SO_BROADCAST and the multicast options, IP_PKTINFO/IPV6_RECVPKTINFO,
 * ECONNREFUSED from an ICMP port unreachable, an echo round trip with a
 * child process, and IPv4-mapped sources on a dual-stack socket.
 * usage: socket_inet_udp [SECTION...]  (probe.h: "v4"/"v6" hold the
 * per-family sections basic, connect, unspec, unspecport, bounds, opts, pktinfo, refused,
 * echo; "mapped" runs once)
 *
 * Ports are ephemeral and never printed. Receivers wait for datagrams
 * with poll, or block with SO_RCVTIMEO set, so that a lost datagram
 * prints EAGAIN instead of hanging.
 */
#include "probe.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
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

static addr_t any(int family, int port)
{
	addr_t a = loopback(family, port);
	if (family == AF_INET)
		a.u.in.sin_addr.s_addr = htonl(INADDR_ANY);
	else
		a.u.in6.sin6_addr = in6addr_any;
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

static short waitev(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n = poll(&p, 1, WAIT_MS);
	return n > 0 ? p.revents : 0;
}

#define PEV (POLLIN | POLLPRI | POLLOUT | POLLERR | POLLHUP | POLLRDHUP)

static void pollv(const char *what, int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLPRI | POLLOUT | POLLRDHUP};
	int n = poll(&p, 1, 0);
	P("%s: n=%d revents=%#x", what, n, n > 0 ? p.revents & PEV : 0);
}

/* udp returns a UDP socket whose blocking receives give up after
 * WAIT_MS. */
static int udp(int family)
{
	int s = socket(family, SOCK_DGRAM, 0);
	struct timeval tv = {WAIT_MS / 1000, 0};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return s;
}

/* bound returns a UDP socket bound to the loopback address. */
static int bound(int family, addr_t *a)
{
	int s = udp(family);
	addr_t b = loopback(family, 0);
	if (bind(s, &b.u.sa, b.len) < 0) {
		P("setup bind: %s", errname(errno));
		exit(1);
	}
	*a = sockname(s);
	return s;
}

static void basic(void)
{
	char buf[64];
	addr_t ra;
	int r = udp(fam);
	result(W("socket"), r);
	addr_t lb = loopback(fam, 0);
	result(W("bind loopback:0"), bind(r, &lb.u.sa, lb.len));
	ra = sockname(r);
	addr_t want = loopback(fam, port_of(&ra));
	P("getsockname: len=%d port_nonzero=%d is_loopback=%d", ra.len, port_of(&ra) != 0, addr_eq(&ra, &want));
	pollv("poll idle", r);
	expect_err(W("recv MSG_DONTWAIT empty"), recv(r, buf, sizeof buf, MSG_DONTWAIT));

	int s = udp(fam);
	addr_t sa = sockname(s);
	P("unbound sockname: len=%d port=%d", sa.len, port_of(&sa));
	value(W("sendto"), sendto(s, "hello", 5, 0, &ra.u.sa, ra.len));
	sa = sockname(s);
	want = any(fam, port_of(&sa));
	P("autobound on send: port_nonzero=%d addr_is_any=%d", port_of(&sa) != 0, addr_eq(&sa, &want));
	waitev(r, POLLIN);
	pollv("poll with datagram", r);
	addr_t from;
	memset(&from, 0, sizeof from);
	from.len = sizeof from.u;
	memset(buf, 0, sizeof buf);
	value(W("recvfrom"), recvfrom(r, buf, sizeof buf, 0, &from.u.sa, &from.len));
	want = loopback(fam, port_of(&sa));
	P("data=%s source is loopback:sender_port: %s (len=%d)", buf, addr_eq(&from, &want) ? "ok" : "mismatch",
	  from.len);
	expect_err(W("recvfrom MSG_DONTWAIT drained"), recvfrom(r, buf, sizeof buf, MSG_DONTWAIT, NULL, NULL));

	/* Boundaries: one datagram per receive, however big the buffer. */
	sendto(s, "abc", 3, 0, &ra.u.sa, ra.len);
	sendto(s, "defgh", 5, 0, &ra.u.sa, ra.len);
	sendto(s, "", 0, 0, &ra.u.sa, ra.len);
	waitev(r, POLLIN);
	int n = -1;
	result(W("FIONREAD"), ioctl(r, FIONREAD, &n));
	P("FIONREAD is the first datagram: %d", n);
	value(W("recv 1"), recv(r, buf, sizeof buf, 0));
	value(W("recv 2"), recv(r, buf, sizeof buf, 0));
	value(W("recv empty datagram"), recv(r, buf, sizeof buf, 0));

	/* MSG_PEEK leaves the datagram. */
	sendto(s, "peek", 4, 0, &ra.u.sa, ra.len);
	waitev(r, POLLIN);
	memset(buf, 0, sizeof buf);
	value(W("recv MSG_PEEK 2"), recv(r, buf, 2, MSG_PEEK));
	P("peeked=%s", buf);
	memset(&from, 0, sizeof from);
	from.len = sizeof from.u;
	value(W("recvfrom MSG_PEEK"), recvfrom(r, buf, sizeof buf, MSG_PEEK, &from.u.sa, &from.len));
	P("peek source: %s", addr_eq(&from, &want) ? "ok" : "mismatch");
	memset(buf, 0, sizeof buf);
	value(W("recv after peek"), recv(r, buf, sizeof buf, 0));
	P("data=%s", buf);

	/* MSG_TRUNC: the datagram's real length; the rest is dropped. */
	sendto(s, "hello world", 11, 0, &ra.u.sa, ra.len);
	waitev(r, POLLIN);
	value(W("recv MSG_TRUNC|MSG_PEEK 4"), recv(r, buf, 4, MSG_TRUNC | MSG_PEEK));
	char small[4];
	struct iovec iov = {small, sizeof small};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	value(W("recvmsg 4-byte buffer"), recvmsg(r, &m, 0));
	P("msg_flags MSG_TRUNC=%d data=%.4s", !!(m.msg_flags & MSG_TRUNC), small);
	expect_err(W("rest of truncated datagram is gone"), recv(r, buf, sizeof buf, MSG_DONTWAIT));
	sendto(s, "0123456789", 10, 0, &ra.u.sa, ra.len);
	waitev(r, POLLIN);
	value(W("recv MSG_TRUNC 4"), recv(r, buf, 4, MSG_TRUNC));
	sendto(s, "ab", 2, 0, &ra.u.sa, ra.len);
	waitev(r, POLLIN);
	m.msg_flags = -1;
	value(W("recvmsg whole datagram"), recvmsg(r, &m, 0));
	P("msg_flags=%#x", m.msg_flags);

	/* write/read work on a connected socket only; see connect. Big
	 * datagrams arrive whole. */
	static char big[60000], bigr[65536];
	memset(big, 'b', sizeof big);
	value(W("sendto 60000"), sendto(s, big, sizeof big, 0, &ra.u.sa, ra.len));
	value(W("recv 60000"), recv(r, bigr, sizeof bigr, 0));
	P("60000 bytes intact: %s", memcmp(big, bigr, sizeof big) == 0 ? "ok" : "mismatch");
	close(s);
	close(r);
}

static void connects(void)
{
	char buf[64];
	addr_t ra, xa;
	int r = bound(fam, &ra);
	int x = bound(fam, &xa);
	int c = udp(fam);
	result(W("connect"), connect(c, &ra.u.sa, ra.len));
	addr_t p = peername(c);
	P("getpeername is the target: %s", addr_eq(&p, &ra) ? "ok" : "mismatch");
	addr_t ca = sockname(c);
	addr_t want = loopback(fam, port_of(&ca));
	P("connect binds loopback:port: %s port_nonzero=%d", addr_eq(&ca, &want) ? "ok" : "mismatch",
	  port_of(&ca) != 0);
	value(W("send connected"), send(c, "conn", 4, 0));
	value(W("write connected"), write(c, "wr", 2));
	addr_t from;
	from.len = sizeof from.u;
	value(W("recvfrom 1"), recvfrom(r, buf, sizeof buf, 0, &from.u.sa, &from.len));
	P("source is the connected socket: %s", addr_eq(&from, &ca) ? "ok" : "mismatch");
	value(W("recvfrom 2"), recvfrom(r, buf, sizeof buf, 0, NULL, NULL));

	/* A connected socket takes datagrams from its peer only. */
	result(W("connect receiver back"), connect(r, &ca.u.sa, ca.len));
	value(W("stranger sends"), sendto(x, "stranger", 8, 0, &ca.u.sa, ca.len));
	value(W("peer sends"), send(r, "peer", 4, 0));
	memset(buf, 0, sizeof buf);
	value(W("recv"), recv(c, buf, sizeof buf, 0));
	P("got=%s", buf);
	expect_err(W("stranger's datagram was dropped"), recv(c, buf, sizeof buf, MSG_DONTWAIT));
	value(W("read connected"), (send(r, "rd", 2, 0), read(c, buf, sizeof buf)));

	/* sendto may name another destination. */
	value(W("sendto other on connected"), sendto(c, "other", 5, 0, &xa.u.sa, xa.len));
	from.len = sizeof from.u;
	value(W("other receives"), recvfrom(x, buf, sizeof buf, 0, &from.u.sa, &from.len));
	P("from the connected socket: %s", addr_eq(&from, &ca) ? "ok" : "mismatch");

	/* Reconnect elsewhere. */
	result(W("connect again elsewhere"), connect(c, &xa.u.sa, xa.len));
	p = peername(c);
	P("new peer: %s", addr_eq(&p, &xa) ? "ok" : "mismatch");
	addr_t ca2 = sockname(c);
	P("local port kept: %s", port_of(&ca2) == port_of(&ca) ? "ok" : "mismatch");

	close(c);
	close(x);
	close(r);
}

/* unspec: connect(AF_UNSPEC) dissolves the association. The local
 * address goes back to what bind gave: nothing for a socket that connect
 * bound; an explicitly bound one keeps its address and named port. */
static void unspec(void)
{
	char buf[8];
	addr_t ra, xa, p;
	int r = bound(fam, &ra);
	int x = bound(fam, &xa);
	int c = udp(fam);
	struct sockaddr un = {.sa_family = AF_UNSPEC};
	result(W("connect AF_UNSPEC unconnected"), connect(c, &un, sizeof un));
	connect(c, &ra.u.sa, ra.len);
	result(W("connect AF_UNSPEC"), connect(c, &un, sizeof un));
	p.len = sizeof p.u;
	expect_err(W("getpeername after AF_UNSPEC"), getpeername(c, &p.u.sa, &p.len));
	addr_t after = sockname(c);
	addr_t want = any(fam, 0);
	P("connect-bound socket after AF_UNSPEC is unbound: %s", addr_eq(&after, &want) ? "ok" : "mismatch");
	expect_err(W("send after AF_UNSPEC"), send(c, "x", 1, 0));
	result(W("connect AF_UNSPEC again"), connect(c, &un, sizeof un));
	result(W("connect after AF_UNSPEC"), connect(c, &xa.u.sa, xa.len));
	value(W("send"), send(c, "y", 1, 0));
	value(W("recv"), recv(x, buf, sizeof buf, 0));
	close(c);

	/* Bound to a named port: address and port stay. The port is one the
	 * kernel just gave out; should another host process take it in
	 * between, try again. */
	int port = 0, b = -1;
	for (int tries = 0; tries < 5 && b < 0; tries++) {
		addr_t t;
		int ts = bound(fam, &t);
		port = port_of(&t);
		close(ts);
		b = udp(fam);
		addr_t named = loopback(fam, port);
		if (bind(b, &named.u.sa, named.len) < 0) {
			close(b);
			b = -1;
		}
	}
	P("bind a named port: %s", b >= 0 ? "ok" : "FAIL");
	addr_t ba = loopback(fam, port);
	connect(b, &xa.u.sa, xa.len);
	result(W("named-port socket connect AF_UNSPEC"), connect(b, &un, sizeof un));
	after = sockname(b);
	P("named-port socket keeps its address and port: %s", addr_eq(&after, &ba) ? "ok" : "mismatch");
	value(W("it takes datagrams from anyone"), sendto(x, "any", 3, 0, &ba.u.sa, ba.len));
	value(W("recv"), recv(b, buf, sizeof buf, 0));
	close(b);
	close(x);
	close(r);
}

/* unspecport: a socket bound to port 0 keeps its address through
 * connect(AF_UNSPEC) but loses the kernel-chosen port, since Linux locks
 * only a port that bind named (SOCK_BINDPORT_LOCK; __udp_disconnect). */
static void unspecport(void)
{
	addr_t ra, xa;
	int r = bound(fam, &ra);
	int x = bound(fam, &xa);
	struct sockaddr un = {.sa_family = AF_UNSPEC};
	connect(r, &xa.u.sa, xa.len);
	result(W("port-0-bound socket connect AF_UNSPEC"), connect(r, &un, sizeof un));
	addr_t after = sockname(r);
	addr_t want = loopback(fam, 0);
	P("port-0-bound socket keeps its address, loses the port: %s", addr_eq(&after, &want) ? "ok" : "mismatch");
	close(x);
	close(r);
}

static void bounds(void)
{
	addr_t ra;
	int r = bound(fam, &ra);
	int s = udp(fam);
	struct mmsghdr mm[3];
	struct iovec iovs[3];
	char msgs[3][8] = {"one", "three", "fourty"};
	memset(mm, 0, sizeof mm);
	for (int i = 0; i < 3; i++) {
		iovs[i].iov_base = msgs[i];
		iovs[i].iov_len = strlen(msgs[i]);
		mm[i].msg_hdr.msg_iov = &iovs[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &ra.u;
		mm[i].msg_hdr.msg_namelen = ra.len;
	}
	value(W("sendmmsg 3"), sendmmsg(s, mm, 3, 0));
	P("sendmmsg lens=%u,%u,%u", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);
	addr_t sa = sockname(s);
	addr_t want = loopback(fam, port_of(&sa));
	char rb[4][16];
	addr_t names[4];
	struct mmsghdr rm[4];
	struct iovec riov[4];
	memset(rm, 0, sizeof rm);
	memset(rb, 0, sizeof rb);
	for (int i = 0; i < 4; i++) {
		riov[i].iov_base = rb[i];
		riov[i].iov_len = sizeof rb[i];
		rm[i].msg_hdr.msg_iov = &riov[i];
		rm[i].msg_hdr.msg_iovlen = 1;
		rm[i].msg_hdr.msg_name = &names[i].u;
		rm[i].msg_hdr.msg_namelen = sizeof names[i].u;
	}
	/* Blocking with vlen 3: waits for all three. */
	value(W("recvmmsg 3"), recvmmsg(r, rm, 3, 0, NULL));
	int src_ok = 1;
	for (int i = 0; i < 3; i++) {
		names[i].len = rm[i].msg_hdr.msg_namelen;
		src_ok &= addr_eq(&names[i], &want);
	}
	P("recvmmsg lens=%u,%u,%u data=%s,%s,%s sources=%s", rm[0].msg_len, rm[1].msg_len, rm[2].msg_len, rb[0], rb[1],
	  rb[2], src_ok ? "ok" : "mismatch");
	expect_err(W("recvmmsg empty nonblocking"), recvmmsg(r, rm, 4, MSG_DONTWAIT, NULL));
	/* MSG_WAITFORONE: returns what is there after the first. */
	sendto(s, "x", 1, 0, &ra.u.sa, ra.len);
	sendto(s, "yy", 2, 0, &ra.u.sa, ra.len);
	waitev(r, POLLIN);
	int got = 0;
	for (int tries = 0; got < 2 && tries < 2; tries++) {
		for (int i = 0; i < 4; i++) {
			riov[i].iov_len = sizeof rb[i];
			rm[i].msg_hdr.msg_namelen = sizeof names[i].u;
		}
		int n = recvmmsg(r, rm, 4, MSG_WAITFORONE, NULL);
		if (n > 0)
			got += n;
	}
	P("recvmmsg MSG_WAITFORONE got both: %s", got == 2 ? "ok" : "mismatch");
	close(s);
	close(r);
}

static void intopt(int fd, int level, int opt, const char *name, int set)
{
	int v = -7;
	socklen_t vl = sizeof v;
	int r = getsockopt(fd, level, opt, &v, &vl);
	if (r < 0) {
		P("%s get: %s", name, errname(errno));
		return;
	}
	P("%s default=%d len=%d", name, v, vl);
	char w[96];
	snprintf(w, sizeof w, "%s set %d", name, set);
	result(W(w), setsockopt(fd, level, opt, &set, sizeof set));
	v = -7;
	vl = sizeof v;
	getsockopt(fd, level, opt, &v, &vl);
	P("%s=%d", name, v);
}

static void opts(void)
{
	int s = udp(fam);
	intopt(s, SOL_SOCKET, SO_BROADCAST, "SO_BROADCAST", 1);
	int v;
	socklen_t vl;
	if (fam == AF_INET) {
		intopt(s, IPPROTO_IP, IP_MULTICAST_TTL, "IP_MULTICAST_TTL", 5);
		v = 256;
		expect_err(W("IP_MULTICAST_TTL 256"), setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &v, sizeof v));
		v = -1;
		result(W("IP_MULTICAST_TTL -1"), setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &v, sizeof v));
		vl = sizeof v;
		getsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &v, &vl);
		P("IP_MULTICAST_TTL after -1=%d", v);
		intopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, "IP_MULTICAST_LOOP", 0);
		struct in_addr ia = {0};
		vl = sizeof ia;
		ia.s_addr = 0xdeadbeef;
		result(W("IP_MULTICAST_IF get"), getsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &ia, &vl));
		char str[INET_ADDRSTRLEN];
		P("IP_MULTICAST_IF default=%s len=%d", inet_ntop(AF_INET, &ia, str, sizeof str), vl);
		ia.s_addr = htonl(INADDR_LOOPBACK);
		result(W("IP_MULTICAST_IF set 127.0.0.1"), setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &ia, sizeof ia));
		ia.s_addr = 0;
		vl = sizeof ia;
		getsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &ia, &vl);
		P("IP_MULTICAST_IF=%s", inet_ntop(AF_INET, &ia, str, sizeof str));
		inet_pton(AF_INET, "10.255.255.1", &ia);
		expect_err(W("IP_MULTICAST_IF non-local"), setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &ia, sizeof ia));
	} else {
		intopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS", 5);
		v = 256;
		expect_err(W("IPV6_MULTICAST_HOPS 256"),
			   setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &v, sizeof v));
		intopt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, "IPV6_MULTICAST_LOOP", 0);
		intopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, "IPV6_MULTICAST_IF", 1);
		v = 9999;
		expect_err(W("IPV6_MULTICAST_IF no such interface"),
			   setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &v, sizeof v));
	}
	close(s);
}

static void pktinfo(void)
{
	addr_t ra;
	int r = bound(fam, &ra);
	int s = udp(fam);
	int on = 1;
	if (fam == AF_INET)
		result(W("IP_PKTINFO"), setsockopt(r, IPPROTO_IP, IP_PKTINFO, &on, sizeof on));
	else
		result(W("IPV6_RECVPKTINFO"), setsockopt(r, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on));
	sendto(s, "pi", 2, 0, &ra.u.sa, ra.len);
	char buf[8], cbuf[256];
	struct iovec iov = {buf, sizeof buf};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	value(W("recvmsg"), recvmsg(r, &m, 0));
	int found = 0;
	char str[INET6_ADDRSTRLEN], str2[INET6_ADDRSTRLEN];
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (fam == AF_INET && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			P("IP_PKTINFO ifindex=%d spec_dst=%s addr=%s len_ok=%d", pi.ipi_ifindex,
			  inet_ntop(AF_INET, &pi.ipi_spec_dst, str, sizeof str),
			  inet_ntop(AF_INET, &pi.ipi_addr, str2, sizeof str2), c->cmsg_len == CMSG_LEN(sizeof pi));
			found++;
		} else if (fam == AF_INET6 && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			P("IPV6_PKTINFO ifindex=%d addr=%s len_ok=%d", pi.ipi6_ifindex,
			  inet_ntop(AF_INET6, &pi.ipi6_addr, str, sizeof str), c->cmsg_len == CMSG_LEN(sizeof pi));
			found++;
		} else {
			P("unexpected cmsg level=%d type=%d", c->cmsg_level, c->cmsg_type);
		}
	}
	P("pktinfo messages=%d ctrunc=%d", found, !!(m.msg_flags & MSG_CTRUNC));
	close(s);
	close(r);
}

/* refused: a datagram to a port nobody has draws an ICMP port
 * unreachable, which a connected socket reports as ECONNREFUSED; an
 * unconnected one ignores it. The port is found by binding and closing a
 * socket; should another host process take it in between, the datagram is
 * delivered and no error comes: the probe then tries another port. */
static void refused(void)
{
	char buf[8];
	short re = 0;
	int c = -1;
	for (int tries = 0; tries < 3 && !(re & POLLERR); tries++) {
		addr_t pa;
		int t = bound(fam, &pa);
		close(t);
		if (c >= 0)
			close(c);
		c = udp(fam);
		connect(c, &pa.u.sa, pa.len);
		if (send(c, "x", 1, 0) != 1)
			break;
		re = waitev(c, POLLERR);
	}
	P("connected send to closed port: error arrived: %s", (re & POLLERR) ? "ok" : "timeout");
	pollv("poll with pending error", c);
	expect_err(W("recv"), recv(c, buf, sizeof buf, 0));
	expect_err(W("recv again"), recv(c, buf, sizeof buf, MSG_DONTWAIT));
	pollv("poll after error reported", c);
	int e = -1;
	socklen_t el = sizeof e;
	getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el);
	P("SO_ERROR=%s", e ? errname(e) : "0");
	close(c);

	/* SO_ERROR reports it too. */
	re = 0;
	c = -1;
	for (int tries = 0; tries < 3 && !(re & POLLERR); tries++) {
		addr_t pa;
		int t = bound(fam, &pa);
		close(t);
		if (c >= 0)
			close(c);
		c = udp(fam);
		connect(c, &pa.u.sa, pa.len);
		send(c, "x", 1, 0);
		re = waitev(c, POLLERR);
	}
	e = -1;
	getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el);
	P("SO_ERROR after ICMP=%s", e ? errname(e) : "0");
	getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el);
	P("SO_ERROR again=%s", e ? errname(e) : "0");
	close(c);

	/* Unconnected: the ICMP error is ignored, whenever it comes. */
	addr_t pa, self;
	int t = bound(fam, &pa);
	close(t);
	int u = bound(fam, &self);
	value(W("unconnected sendto closed port"), sendto(u, "x", 1, 0, &pa.u.sa, pa.len));
	sendto(u, "me", 2, 0, &self.u.sa, self.len);
	value(W("unconnected recv own datagram"), recv(u, buf, sizeof buf, 0));
	e = -1;
	getsockopt(u, SOL_SOCKET, SO_ERROR, &e, &el);
	P("unconnected SO_ERROR=%s", e ? errname(e) : "0");
	close(u);
}

static void echo(void)
{
	addr_t sa;
	int srv = bound(fam, &sa);
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 3; i++) {
			char b[64];
			addr_t from;
			from.len = sizeof from.u;
			ssize_t n = recvfrom(srv, b, sizeof b, 0, &from.u.sa, &from.len);
			if (n < 0)
				_exit(1);
			for (ssize_t j = 0; j < n; j++)
				if (b[j] >= 'a' && b[j] <= 'z')
					b[j] -= 32;
			if (sendto(srv, b, n, 0, &from.u.sa, from.len) != n)
				_exit(2);
		}
		_exit(0);
	}
	close(srv);
	int c = udp(fam);
	int ok = 0;
	for (int i = 0; i < 3; i++) {
		char msg[16], b[16] = {0}, want[16];
		snprintf(msg, sizeof msg, "ping%d", i);
		snprintf(want, sizeof want, "PING%d", i);
		sendto(c, msg, strlen(msg), 0, &sa.u.sa, sa.len);
		addr_t from;
		from.len = sizeof from.u;
		ssize_t n = recvfrom(c, b, sizeof b - 1, 0, &from.u.sa, &from.len);
		if (n == (ssize_t)strlen(want) && strcmp(b, want) == 0 && addr_eq(&from, &sa))
			ok++;
		else
			P("echo %d: n=%zd %s", i, n, n < 0 ? errname(errno) : b);
	}
	int status;
	waitpid(pid, &status, 0);
	P("echo round trips ok=%d child=%d", ok, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	close(c);
}

/* mapped: a dual-stack AF_INET6 socket receives IPv4 datagrams from
 * ::ffff:127.0.0.1 and can answer them. */
static void mapped(void)
{
	pfx = "mapped";
	int r = udp(AF_INET6);
	int off = 0;
	result(W("IPV6_V6ONLY=0"), setsockopt(r, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off));
	addr_t a = any(AF_INET6, 0);
	result(W("bind [::]:0"), bind(r, &a.u.sa, a.len));
	int port = port_of((addr_t[]){sockname(r)});
	addr_t s4a;
	int s4 = bound(AF_INET, &s4a);
	addr_t to = loopback(AF_INET, port);
	value(W("v4 sendto dual-stack socket"), sendto(s4, "m", 1, 0, &to.u.sa, to.len));
	char buf[8];
	addr_t from;
	memset(&from, 0, sizeof from);
	from.len = sizeof from.u;
	value(W("v6 recvfrom"), recvfrom(r, buf, sizeof buf, 0, &from.u.sa, &from.len));
	addr_t want = loopback(AF_INET6, port_of(&s4a));
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &want.u.in6.sin6_addr);
	P("source is ::ffff:127.0.0.1:sender_port: %s", addr_eq(&from, &want) ? "ok" : "mismatch");
	value(W("v6 reply to mapped source"), sendto(r, "r", 1, 0, &from.u.sa, from.len));
	from.len = sizeof from.u;
	value(W("v4 recvfrom reply"), recvfrom(s4, buf, sizeof buf, 0, &from.u.sa, &from.len));
	to = loopback(AF_INET, port);
	P("reply source is 127.0.0.1:port: %s", addr_eq(&from, &to) ? "ok" : "mismatch");
	close(s4);
	close(r);
}

/* one_cpu pins the probe to the CPU it runs on. Loopback packets wait in
 * the sending CPU's backlog queue until softirq processing; two datagrams
 * sent from different CPUs could overtake each other, one CPU keeps them
 * in order. Nothing is printed: it only makes the native run steadier. */
static void one_cpu(void)
{
	int cpu = sched_getcpu();
	if (cpu < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof set, &set);
}

int main(int argc, char **argv)
{
	sections_init(argc, argv);
	setvbuf(stdout, NULL, _IONBF, 0);
	one_cpu();
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
		if (section("connect"))
			connects();
		if (section("unspec"))
			unspec();
		if (section("unspecport"))
			unspecport();
		if (section("bounds"))
			bounds();
		if (section("opts"))
			opts();
		if (section("pktinfo"))
			pktinfo();
		if (section("refused"))
			refused();
		if (section("echo"))
			echo();
	}
	if (section("mapped"))
		mapped();
	return 0;
}
