/* socket_ping: ICMP echo through ping sockets (SOCK_DGRAM with
 * IPPROTO_ICMP / IPPROTO_ICMPV6) to 127.0.0.1 and ::1: the request goes
 * out with the socket's identifier, the reply comes back with type 0/129,
 * the same sequence number and payload, from the loopback address.
 * usage: socket_ping [own-netns]
 *
 * Linux lets a process open a ping socket only if its group is in
 * net.ipv4.ping_group_range, whose kernel default "1 0" admits nobody,
 * root included (distributions widen it with a sysctl.d file; this host
 * does not, and socket() fails with EACCES). The sandbox admits its
 * users, as a distribution would. So that the native run checks the same
 * thing without changing the host, the runner passes "own-netns" to the
 * native run only: the probe then moves into a network namespace of its
 * own, brings its lo up (127.0.0.1/8 and ::1, as in the sandbox) and
 * widens that namespace's ping_group_range, printing nothing unless that
 * fails.
 */
#include "probe.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define WAIT_MS 5000
#define PAYLOAD "runsc-lite ping payload"

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

static int own_netns(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		printf("setup unshare: %s\n", errname(errno));
		return -1;
	}
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		printf("setup SIOCGIFFLAGS: %s\n", errname(errno));
		return -1;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
		printf("setup SIOCSIFFLAGS: %s\n", errname(errno));
		return -1;
	}
	close(s);
	int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0 2147483647", 12) != 12) {
		printf("setup ping_group_range: %s\n", errname(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static unsigned short cksum(const void *p, size_t n)
{
	const unsigned char *b = p;
	unsigned long sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (n & 1)
		sum += b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (unsigned short)~sum;
}

static short waitev(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n = poll(&p, 1, WAIT_MS);
	return n > 0 ? p.revents : 0;
}

/* echo is an ICMP or ICMPv6 echo header (the same layout) and payload. */
struct echo {
	unsigned char type, code;
	unsigned short cksum, id, seq;
	char data[64];
};

static ssize_t send_echo(int s, int type, int seq, const struct sockaddr *to, socklen_t tolen)
{
	struct echo e;
	memset(&e, 0, sizeof e);
	e.type = type;
	e.seq = htons(seq);
	memcpy(e.data, PAYLOAD, strlen(PAYLOAD));
	return sendto(s, &e, 8 + strlen(PAYLOAD), 0, to, tolen);
}

/* recv_reply receives one reply and prints what it is. The identifier
 * must be the socket's (getsockname's port); v4 replies carry a checksum
 * the probe can check on its own. */
static void recv_reply(int s, int family, int seq)
{
	struct echo e;
	struct sockaddr_storage from;
	socklen_t fl = sizeof from;
	memset(&e, 0, sizeof e);
	memset(&from, 0, sizeof from);
	if (!(waitev(s, POLLIN) & POLLIN)) {
		P("reply seq %d: timeout", seq);
		return;
	}
	ssize_t n = recvfrom(s, &e, sizeof e, 0, (struct sockaddr *)&from, &fl);
	if (n < 0) {
		P("reply seq %d: %s", seq, errname(errno));
		return;
	}
	struct sockaddr_storage me;
	socklen_t ml = sizeof me;
	getsockname(s, (struct sockaddr *)&me, &ml);
	unsigned short ident = family == AF_INET ? ((struct sockaddr_in *)&me)->sin_port
						 : ((struct sockaddr_in6 *)&me)->sin6_port;
	char str[INET6_ADDRSTRLEN] = "?";
	if (from.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, str, sizeof str);
	else if (from.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, str, sizeof str);
	P("reply seq %d: len=%zd type=%d code=%d seq=%d id_is_ident=%d payload=%s from=%s fromlen_ok=%d", seq, n,
	  e.type, e.code, ntohs(e.seq), e.id == ident,
	  n == (ssize_t)(8 + strlen(PAYLOAD)) && memcmp(e.data, PAYLOAD, strlen(PAYLOAD)) == 0 ? "ok" : "mismatch",
	  str, fl == (family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)));
	if (family == AF_INET)
		P("reply seq %d: checksum %s", seq, cksum(&e, n) == 0 ? "ok" : "bad");
}

static void ping(int family)
{
	int proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	int req = family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	struct sockaddr *to = family == AF_INET ? (struct sockaddr *)&a4 : (struct sockaddr *)&a6;
	socklen_t tolen = family == AF_INET ? sizeof a4 : sizeof a6;

	int s = socket(family, SOCK_DGRAM, proto);
	result(W("socket SOCK_DGRAM ICMP"), s);
	if (s < 0)
		return;
	int v;
	socklen_t vl = sizeof v;
	getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vl);
	P("SO_TYPE=%d", v);
	getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &vl);
	P("SO_PROTOCOL is ICMP: %s", v == proto ? "ok" : "mismatch");
	struct sockaddr_storage me;
	socklen_t ml = sizeof me;
	getsockname(s, (struct sockaddr *)&me, &ml);
	P("unbound ident=%d", ntohs(family == AF_INET ? ((struct sockaddr_in *)&me)->sin_port
						     : ((struct sockaddr_in6 *)&me)->sin6_port));
	char buf[64];
	expect_err(W("recv MSG_DONTWAIT empty"), recv(s, buf, sizeof buf, MSG_DONTWAIT));

	value(W("sendto echo request"), send_echo(s, req, 1, to, tolen));
	ml = sizeof me;
	getsockname(s, (struct sockaddr *)&me, &ml);
	P("ident after send nonzero=%d", (family == AF_INET ? ((struct sockaddr_in *)&me)->sin_port
							     : ((struct sockaddr_in6 *)&me)->sin6_port) != 0);
	recv_reply(s, family, 1);
	value(W("sendto seq 2"), send_echo(s, req, 2, to, tolen));
	value(W("sendto seq 3"), send_echo(s, req, 3, to, tolen));
	recv_reply(s, family, 2);
	recv_reply(s, family, 3);
	expect_err(W("recv MSG_DONTWAIT drained"), recv(s, buf, sizeof buf, MSG_DONTWAIT));

	/* Only echo requests may be sent, whole headers only. */
	struct echo e;
	memset(&e, 0, sizeof e);
	e.type = family == AF_INET ? ICMP_TIMESTAMP : ICMP6_DST_UNREACH;
	expect_err(W("sendto non-echo type"), sendto(s, &e, 8, 0, to, tolen));
	e.type = req;
	expect_err(W("sendto 4-byte header"), sendto(s, &e, 4, 0, to, tolen));
	e.type = req;
	e.code = 1;
	expect_err(W("sendto echo with code 1"), sendto(s, &e, 8, 0, to, tolen));
	close(s);

	/* bind, connect, then send and recv. */
	s = socket(family, SOCK_DGRAM, proto);
	result(W("bind loopback"), bind(s, to, tolen));
	result(W("connect loopback"), connect(s, to, tolen));
	struct echo q;
	memset(&q, 0, sizeof q);
	q.type = req;
	q.seq = htons(7);
	memcpy(q.data, PAYLOAD, strlen(PAYLOAD));
	value(W("send connected"), send(s, &q, 8 + strlen(PAYLOAD), 0));
	recv_reply(s, family, 7);
	close(s);
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
	setvbuf(stdout, NULL, _IONBF, 0);
	one_cpu();
	if (argc > 1 && strcmp(argv[1], "own-netns") == 0 && own_netns() < 0)
		return 2;
	pfx = "v4";
	ping(AF_INET);
	pfx = "v6";
	ping(AF_INET6);
	return 0;
}
