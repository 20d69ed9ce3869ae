/* socket_inet_errno: the errno cases of AF_INET/AF_INET6 sockets on
 * loopback: EADDRINUSE (bind, listen, dual-stack, TIME_WAIT with and
 * without SO_REUSEADDR), EADDRNOTAVAIL, ENOTCONN, EPIPE, EISCONN, EINVAL,
 * EOPNOTSUPP, EFAULT, EAFNOSUPPORT, EPROTONOSUPPORT/ESOCKTNOSUPPORT,
 * ENOPROTOOPT, EDESTADDRREQ and EMSGSIZE.
 * usage: socket_inet_errno [SECTION...]  (sections: addrinuse, timewait,
 * addrnotavail, port0, notconn, isconn, inval, fault, afnosupport, socket,
 * noprotoopt, dgram)
 *
 * Ports are ephemeral and never printed.
 */
#include "probe.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WAIT_MS 5000
#define BAD ((void *)8)

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

static addr_t sockname(int fd)
{
	addr_t a;
	memset(&a, 0, sizeof a);
	a.len = sizeof a.u;
	if (getsockname(fd, &a.u.sa, &a.len) < 0)
		a.len = 0;
	return a;
}

static int port_of(const addr_t *a)
{
	return ntohs(a->u.sa.sa_family == AF_INET ? a->u.in.sin_port : a->u.in6.sin6_port);
}

static short waitev(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n = poll(&p, 1, WAIT_MS);
	return n > 0 ? p.revents : 0;
}

static int sock(int family, int type, int reuse)
{
	int s = socket(family, type, 0);
	if (reuse)
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
	return s;
}

/* bound returns a socket bound to the loopback address, the port chosen
 * by the kernel, and the port. */
static int bound(int family, int type, int reuse, int *port)
{
	int s = sock(family, type, reuse);
	addr_t a = loopback(family, 0);
	if (bind(s, &a.u.sa, a.len) < 0) {
		printf("setup bind: %s\n", errname(errno));
		exit(1);
	}
	*port = port_of((addr_t[]){sockname(s)});
	return s;
}

static int bind_port(int s, int family, int port)
{
	addr_t a = loopback(family, port);
	return bind(s, &a.u.sa, a.len);
}

static void pair(int family, int *c, int *s)
{
	int port;
	int l = bound(family, SOCK_STREAM, 0, &port);
	listen(l, 4);
	*c = socket(family, SOCK_STREAM, 0);
	addr_t a = loopback(family, port);
	if (connect(*c, &a.u.sa, a.len) < 0 || (*s = accept(l, NULL, NULL)) < 0) {
		printf("setup pair: %s\n", errname(errno));
		exit(1);
	}
	close(l);
}

static void addrinuse(void)
{
	static const char *names[] = {"v4", "v6"};
	for (int i = 0; i < 2; i++) {
		int f = i ? AF_INET6 : AF_INET;
		char w[128];
		int port;
		int s1 = bound(f, SOCK_STREAM, 0, &port);
		int s2 = sock(f, SOCK_STREAM, 0);
#define E(what, call) (snprintf(w, sizeof w, "%s %s", names[i], what), expect_err(w, call))
#define R(what, call) (snprintf(w, sizeof w, "%s %s", names[i], what), result(w, call))
		E("tcp bind same port", bind_port(s2, f, port));
		addr_t a = any(f, port);
		E("tcp bind wildcard on same port", bind(s2, &a.u.sa, a.len));
		close(s2);
		s2 = sock(f, SOCK_STREAM, 1);
		E("tcp bind same port, SO_REUSEADDR on one only", bind_port(s2, f, port));
		close(s2);
		close(s1);

		/* SO_REUSEADDR on both: binding is shared until one listens. */
		s1 = bound(f, SOCK_STREAM, 1, &port);
		s2 = sock(f, SOCK_STREAM, 1);
		R("tcp bind same port, SO_REUSEADDR on both", bind_port(s2, f, port));
		R("listen first", listen(s1, 4));
		E("listen second", listen(s2, 4));
		int s3 = sock(f, SOCK_STREAM, 1);
		E("tcp bind SO_REUSEADDR port of a listener", bind_port(s3, f, port));
		close(s3);
		close(s2);
		close(s1);

		/* SO_REUSEPORT on both: both may listen. */
		int one = 1;
		s1 = socket(f, SOCK_STREAM, 0);
		setsockopt(s1, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
		addr_t lb = loopback(f, 0);
		bind(s1, &lb.u.sa, lb.len);
		port = port_of((addr_t[]){sockname(s1)});
		s2 = socket(f, SOCK_STREAM, 0);
		setsockopt(s2, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
		R("tcp bind same port, SO_REUSEPORT on both", bind_port(s2, f, port));
		R("listen first reuseport", listen(s1, 4));
		R("listen second reuseport", listen(s2, 4));
		close(s2);
		close(s1);

		/* UDP. */
		s1 = bound(f, SOCK_DGRAM, 0, &port);
		s2 = sock(f, SOCK_DGRAM, 0);
		E("udp bind same port", bind_port(s2, f, port));
		close(s2);
		close(s1);
		s1 = bound(f, SOCK_DGRAM, 1, &port);
		s2 = sock(f, SOCK_DGRAM, 1);
		R("udp bind same port, SO_REUSEADDR on both", bind_port(s2, f, port));
		close(s2);
		close(s1);

		/* TCP and UDP ports are separate. */
		s1 = bound(f, SOCK_STREAM, 0, &port);
		s2 = sock(f, SOCK_DGRAM, 0);
		R("udp bind port of a tcp socket", bind_port(s2, f, port));
		close(s2);
		close(s1);
#undef E
#undef R
	}

	/* A dual-stack [::] socket holds the IPv4 port too. */
	int s6 = socket(AF_INET6, SOCK_STREAM, 0);
	int off = 0;
	setsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
	addr_t a = any(AF_INET6, 0);
	bind(s6, &a.u.sa, a.len);
	listen(s6, 4);
	int port = port_of((addr_t[]){sockname(s6)});
	int s4 = socket(AF_INET, SOCK_STREAM, 0);
	expect_err("v4 bind port of a dual-stack [::] listener", bind_port(s4, AF_INET, port));
	close(s4);
	close(s6);
}

/* timewait: the side that closes first keeps the port in TIME_WAIT. A new
 * socket cannot bind it, unless both it and the old one have SO_REUSEADDR.
 * Both FIN_WAIT2 and TIME_WAIT hold the port, so how far the close has
 * got does not change the result. */
static void timewait(void)
{
	static const char *names[] = {"v4", "v6"};
	for (int i = 0; i < 2; i++) {
		int f = i ? AF_INET6 : AF_INET;
		char w[128];
		int port;
		int l = bound(f, SOCK_STREAM, 1, &port);
		listen(l, 4);
		int c = socket(f, SOCK_STREAM, 0);
		addr_t a = loopback(f, port);
		connect(c, &a.u.sa, a.len);
		int s = accept(l, NULL, NULL);
		close(l);
		close(s);
		waitev(c, POLLRDHUP);
		close(c);
		int n = sock(f, SOCK_STREAM, 0);
		snprintf(w, sizeof w, "%s bind port in TIME_WAIT", names[i]);
		expect_err(w, bind_port(n, f, port));
		close(n);
		n = sock(f, SOCK_STREAM, 1);
		snprintf(w, sizeof w, "%s bind port in TIME_WAIT with SO_REUSEADDR", names[i]);
		result(w, bind_port(n, f, port));
		snprintf(w, sizeof w, "%s listen on it", names[i]);
		result(w, listen(n, 4));
		/* And it works. */
		c = socket(f, SOCK_STREAM, 0);
		snprintf(w, sizeof w, "%s connect to it", names[i]);
		result(w, connect(c, &a.u.sa, a.len));
		close(c);
		close(n);
	}
}

static void addrnotavail(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, "10.255.255.1", &a.sin_addr);
	expect_err("v4 bind non-local address", bind(s, (struct sockaddr *)&a, sizeof a));
	close(s);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	expect_err("v4 udp bind non-local address", bind(s, (struct sockaddr *)&a, sizeof a));
	close(s);
	s = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
	inet_pton(AF_INET6, "2001:db8::1", &a6.sin6_addr);
	expect_err("v6 bind non-local address", bind(s, (struct sockaddr *)&a6, sizeof a6));
	inet_pton(AF_INET6, "::ffff:10.255.255.1", &a6.sin6_addr);
	expect_err("v6 bind non-local mapped address", bind(s, (struct sockaddr *)&a6, sizeof a6));
	close(s);
	/* Any loopback address in 127/8 is local. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
	result("v4 bind 127.0.0.2", bind(s, (struct sockaddr *)&a, sizeof a));
	close(s);
}

/* port0: nothing listens on port 0. TCP tries and is refused; UDP's
 * sendto rejects the address. */
static void port0(void)
{
	addr_t a = loopback(AF_INET, 0), a6 = loopback(AF_INET6, 0);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	expect_err("v4 tcp connect port 0", connect(s, &a.u.sa, a.len));
	close(s);
	s = socket(AF_INET6, SOCK_STREAM, 0);
	expect_err("v6 tcp connect port 0", connect(s, &a6.u.sa, a6.len));
	close(s);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	expect_err("v4 udp sendto port 0", sendto(s, "x", 1, 0, &a.u.sa, a.len));
	close(s);
	s = socket(AF_INET6, SOCK_DGRAM, 0);
	expect_err("v6 udp sendto port 0", sendto(s, "x", 1, 0, &a6.u.sa, a6.len));
	close(s);
}

static void notconn(void)
{
	static const char *names[] = {"v4", "v6"};
	char buf[8], w[128];
	for (int i = 0; i < 2; i++) {
		int f = i ? AF_INET6 : AF_INET;
#define E(what, call) (snprintf(w, sizeof w, "%s %s", names[i], what), expect_err(w, call))
		int s = socket(f, SOCK_STREAM, 0);
		E("tcp recv unconnected", recv(s, buf, sizeof buf, 0));
		E("tcp read unconnected", read(s, buf, sizeof buf));
		addr_t p;
		p.len = sizeof p.u;
		E("tcp getpeername unconnected", getpeername(s, &p.u.sa, &p.len));
		E("tcp shutdown unconnected", shutdown(s, SHUT_RDWR));
		sigpipes = 0;
		E("tcp send unconnected", send(s, "x", 1, 0));
		printf("sigpipes=%d\n", sigpipes);
		E("tcp send unconnected MSG_NOSIGNAL", send(s, "x", 1, MSG_NOSIGNAL));
		printf("sigpipes=%d\n", sigpipes);
		E("tcp accept unlistened", accept(s, NULL, NULL));
		close(s);
		int port;
		s = bound(f, SOCK_STREAM, 0, &port);
		listen(s, 4);
		E("tcp recv on listener", recv(s, buf, sizeof buf, MSG_DONTWAIT));
		E("tcp send on listener", send(s, "x", 1, MSG_NOSIGNAL));
		close(s);
		s = socket(f, SOCK_DGRAM, 0);
		p.len = sizeof p.u;
		E("udp getpeername unconnected", getpeername(s, &p.u.sa, &p.len));
		E("udp recv unbound nonblocking", recv(s, buf, sizeof buf, MSG_DONTWAIT));
		E("udp shutdown unconnected", shutdown(s, SHUT_RD));
		close(s);
#undef E
	}
}

static void isconn(void)
{
	int c, s;
	pair(AF_INET, &c, &s);
	addr_t a = sockname(s);
	expect_err("connect connected", connect(c, &a.u.sa, a.len));
	expect_err("listen connected", listen(c, 4));
	addr_t b = loopback(AF_INET, 0);
	expect_err("bind connected", bind(c, &b.u.sa, b.len));
	/* TCP ignores sendto's address once connected. */
	value("sendto connected with address", sendto(c, "x", 1, 0, &b.u.sa, b.len));
	close(c);
	close(s);
}

static void inval(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	addr_t a = loopback(AF_INET, 0);
	expect_err("v4 bind addrlen 15", bind(s, &a.u.sa, 15));
	expect_err("v4 bind addrlen 0", bind(s, &a.u.sa, 0));
	expect_err("v4 bind addrlen -1", bind(s, &a.u.sa, -1));
	expect_err("v4 connect addrlen 15", connect(s, &a.u.sa, 15));
	result("v4 bind addrlen 16", bind(s, &a.u.sa, 16));
	expect_err("v4 bind twice", bind(s, &a.u.sa, a.len));
	char buf[4];
	expect_err("recv MSG_OOB without urgent data", recv(s, buf, 1, MSG_OOB | MSG_DONTWAIT));
	int v = 1;
	expect_err("setsockopt SO_REUSEADDR optlen 2", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2));
	expect_err("setsockopt TCP_NODELAY optlen 2", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, 2));
	struct linger lg = {1, 1};
	expect_err("setsockopt SO_LINGER short", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, 4));
	socklen_t vl = -1;
	expect_err("getsockopt negative optlen", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vl));
	expect_err("shutdown how 3", shutdown(s, 3));
	close(s);

	s = socket(AF_INET6, SOCK_STREAM, 0);
	a = loopback(AF_INET6, 0);
	expect_err("v6 bind addrlen 16", bind(s, &a.u.sa, 16));
	expect_err("v6 connect addrlen 16", connect(s, &a.u.sa, 16));
	result("v6 bind addrlen 28", bind(s, &a.u.sa, 28));
	expect_err("v6 bind twice", bind(s, &a.u.sa, a.len));
	int on = 1;
	expect_err("IPV6_V6ONLY after bind", setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on));
	close(s);

	s = socket(AF_INET, SOCK_DGRAM, 0);
	expect_err("listen udp", listen(s, 4));
	expect_err("accept udp", accept(s, NULL, NULL));
	a = loopback(AF_INET, 9);
	expect_err("sendto MSG_OOB udp", sendto(s, "x", 1, MSG_OOB, &a.u.sa, a.len));
	close(s);
	expect_err("socket type 99", socket(AF_INET, 99, 0));
	expect_err("socket bad flag", socket(AF_INET, SOCK_STREAM | 0x100000, 0));
}

static void fault(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	expect_err("bind bad address pointer", bind(s, BAD, sizeof(struct sockaddr_in)));
	expect_err("connect bad address pointer", connect(s, BAD, sizeof(struct sockaddr_in)));
	addr_t a;
	expect_err("getsockname bad length pointer", getsockname(s, &a.u.sa, BAD));
	socklen_t l = sizeof a.u;
	expect_err("getsockname bad address pointer", getsockname(s, BAD, &l));
	int v;
	expect_err("getsockopt bad optlen pointer", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, BAD));
	l = sizeof v;
	expect_err("getsockopt bad optval", getsockopt(s, SOL_SOCKET, SO_TYPE, BAD, &l));
	expect_err("setsockopt bad optval", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, BAD, sizeof v));
	close(s);

	int c;
	pair(AF_INET, &c, &s);
	expect_err("send bad buffer", send(c, BAD, 4, MSG_NOSIGNAL));
	value("send", send(c, "data", 4, 0));
	waitev(s, POLLIN);
	expect_err("recv into bad buffer", recv(s, BAD, 4, 0));
	char buf[8] = {0};
	value("recv after EFAULT keeps the data", recv(s, buf, 4, MSG_WAITALL));
	printf("data=%s\n", buf);
	close(c);
	close(s);

	s = socket(AF_INET, SOCK_DGRAM, 0);
	expect_err("udp sendto bad address pointer", sendto(s, "x", 1, 0, BAD, sizeof(struct sockaddr_in)));
	a = loopback(AF_INET, 9);
	expect_err("udp sendto bad buffer", sendto(s, BAD, 4, 0, &a.u.sa, a.len));
	close(s);
}

static void afnosupport(void)
{
	addr_t a6 = loopback(AF_INET6, 0), a4 = loopback(AF_INET, 0);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	expect_err("v4 bind AF_INET6 address", bind(s, &a6.u.sa, a6.len));
	expect_err("v4 connect AF_INET6 address", connect(s, &a6.u.sa, a6.len));
	/* Compatibility: AF_UNSPEC is accepted for INADDR_ANY only. */
	addr_t u = a4;
	u.u.in.sin_family = AF_UNSPEC;
	expect_err("v4 bind AF_UNSPEC 127.0.0.1", bind(s, &u.u.sa, u.len));
	u.u.in.sin_addr.s_addr = htonl(INADDR_ANY);
	result("v4 bind AF_UNSPEC INADDR_ANY", bind(s, &u.u.sa, u.len));
	close(s);

	s = socket(AF_INET6, SOCK_STREAM, 0);
	addr_t big = a4;
	big.len = sizeof(struct sockaddr_in6);
	expect_err("v6 bind AF_INET address (28 bytes)", bind(s, &big.u.sa, big.len));
	expect_err("v6 bind AF_INET address (16 bytes)", bind(s, &a4.u.sa, a4.len));
	expect_err("v6 connect AF_INET address (28 bytes)", connect(s, &big.u.sa, big.len));
	close(s);

	s = socket(AF_INET, SOCK_DGRAM, 0);
	expect_err("v4 udp sendto AF_INET6 address", sendto(s, "x", 1, 0, &a6.u.sa, a6.len));
	expect_err("v4 udp connect AF_INET6 address", connect(s, &a6.u.sa, a6.len));
	close(s);
	expect_err("socket family 1234", socket(1234, SOCK_STREAM, 0));
}

static void sockets(void)
{
	static const struct {
		const char *what;
		int family, type, proto;
	} cases[] = {
		{"socket inet stream tcp", AF_INET, SOCK_STREAM, IPPROTO_TCP},
		{"socket inet dgram udp", AF_INET, SOCK_DGRAM, IPPROTO_UDP},
		{"socket inet6 stream tcp", AF_INET6, SOCK_STREAM, IPPROTO_TCP},
		{"socket inet6 dgram udp", AF_INET6, SOCK_DGRAM, IPPROTO_UDP},
		{"socket inet stream udp", AF_INET, SOCK_STREAM, IPPROTO_UDP},
		{"socket inet dgram tcp", AF_INET, SOCK_DGRAM, IPPROTO_TCP},
		{"socket inet6 stream udp", AF_INET6, SOCK_STREAM, IPPROTO_UDP},
		{"socket inet6 dgram tcp", AF_INET6, SOCK_DGRAM, IPPROTO_TCP},
		{"socket inet stream proto 99", AF_INET, SOCK_STREAM, 99},
		{"socket inet seqpacket", AF_INET, SOCK_SEQPACKET, 0},
		{"socket inet rdm", AF_INET, SOCK_RDM, 0},
		{"socket inet6 seqpacket", AF_INET6, SOCK_SEQPACKET, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int s = socket(cases[i].family, cases[i].type, cases[i].proto);
		if (s >= 0) {
			printf("%s: ok\n", cases[i].what);
			close(s);
		} else {
			printf("%s: %s\n", cases[i].what, errname(errno));
		}
	}
}

static void noprotoopt(void)
{
	int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
	int t6 = socket(AF_INET6, SOCK_STREAM, 0);
	int v = 1;
	socklen_t vl = sizeof v;
	expect_err("getsockopt SOL_SOCKET 9999", getsockopt(t, SOL_SOCKET, 9999, &v, &vl));
	expect_err("setsockopt SOL_SOCKET 9999", setsockopt(t, SOL_SOCKET, 9999, &v, sizeof v));
	expect_err("getsockopt IPPROTO_TCP 9999", getsockopt(t, IPPROTO_TCP, 9999, &v, &vl));
	expect_err("setsockopt IPPROTO_TCP 9999", setsockopt(t, IPPROTO_TCP, 9999, &v, sizeof v));
	expect_err("getsockopt IPPROTO_IP 9999", getsockopt(t, IPPROTO_IP, 9999, &v, &vl));
	expect_err("setsockopt IPPROTO_IP 9999", setsockopt(t, IPPROTO_IP, 9999, &v, sizeof v));
	expect_err("getsockopt IPPROTO_IPV6 9999", getsockopt(t6, IPPROTO_IPV6, 9999, &v, &vl));
	expect_err("setsockopt IPPROTO_IPV6 9999", setsockopt(t6, IPPROTO_IPV6, 9999, &v, sizeof v));
	expect_err("getsockopt SOL_UDP 9999", getsockopt(u, SOL_UDP, 9999, &v, &vl));
	expect_err("setsockopt SOL_UDP 9999", setsockopt(u, SOL_UDP, 9999, &v, sizeof v));
	close(t);
	close(u);
	close(t6);
}

static void dgram(void)
{
	static char big[70000];
	char buf[8];
	static const char *names[] = {"v4", "v6"};
	for (int i = 0; i < 2; i++) {
		int f = i ? AF_INET6 : AF_INET;
		char w[128];
#define E(what, call) (snprintf(w, sizeof w, "%s %s", names[i], what), expect_err(w, call))
#define V(what, call) (snprintf(w, sizeof w, "%s %s", names[i], what), value(w, call))
		int s = socket(f, SOCK_DGRAM, 0);
		E("udp send unconnected", send(s, "x", 1, 0));
		E("udp write unconnected", write(s, "x", 1));
		int port;
		int r = bound(f, SOCK_DGRAM, 0, &port);
		int sz = 1 << 20;
		setsockopt(r, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
		setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
		addr_t a = loopback(f, port);
		E("udp sendto 70000 bytes", sendto(s, big, 70000, 0, &a.u.sa, a.len));
		int max = i ? 65527 : 65507;
		E("udp sendto max+1 bytes", sendto(s, big, max + 1, 0, &a.u.sa, a.len));
		V("udp sendto max bytes", sendto(s, big, max, 0, &a.u.sa, a.len));
		waitev(r, POLLIN);
		V("udp recv max bytes", recv(r, big, sizeof big, MSG_DONTWAIT));
		V("udp sendto 0 bytes", sendto(s, buf, 0, 0, &a.u.sa, a.len));
		waitev(r, POLLIN);
		V("udp recv 0 bytes", recv(r, buf, sizeof buf, MSG_DONTWAIT));
		close(r);
		close(s);
#undef E
#undef V
	}
}

int main(int argc, char **argv)
{
	sections_init(argc, argv);
	signal(SIGPIPE, onpipe);
	setvbuf(stdout, NULL, _IONBF, 0);
	if (section("addrinuse"))
		addrinuse();
	if (section("timewait"))
		timewait();
	if (section("addrnotavail"))
		addrnotavail();
	if (section("port0"))
		port0();
	if (section("notconn"))
		notconn();
	if (section("isconn"))
		isconn();
	if (section("inval"))
		inval();
	if (section("fault"))
		fault();
	if (section("afnosupport"))
		afnosupport();
	if (section("socket"))
		sockets();
	if (section("noprotoopt"))
		noprotoopt();
	if (section("dgram"))
		dgram();
	return 0;
}
