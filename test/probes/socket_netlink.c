/* socket_netlink: what a program learns about the network interfaces:
 * NETLINK_ROUTE (RTM_GETLINK and RTM_GETADDR dumps and gets, NLM_F_ACK,
 * errors), getifaddrs(3), if_nametoindex(3) and friends, and the SIOCGIF*
 * ioctls, all about lo: ifindex 1, IFF_UP|IFF_LOOPBACK|IFF_RUNNING, MTU
 * 65536, 127.0.0.1/8 and ::1/128.
 * usage: socket_netlink [SECTION...]  (sections: netlink, getifaddrs,
 * ifindex, ioctl)
 *
 * The host has more interfaces than the sandbox (eth0...), so the probe
 * prints facts about lo only and never counts interfaces or addresses.
 */
#include "probe.h"
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MS 5000

static unsigned int seqno = 100;
static unsigned int portid;

static int nl_open(void)
{
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0)
		return -1;
	struct sockaddr_nl a = {.nl_family = AF_NETLINK};
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0)
		return -1;
	socklen_t al = sizeof a;
	getsockname(s, (struct sockaddr *)&a, &al);
	portid = a.nl_pid;
	return s;
}

/* nl_send sends a request with the given payload. */
static int nl_send(int s, int type, int flags, const void *payload, size_t len)
{
	struct {
		struct nlmsghdr h;
		char body[64];
	} req;
	memset(&req, 0, sizeof req);
	req.h.nlmsg_len = NLMSG_LENGTH(len);
	req.h.nlmsg_type = type;
	req.h.nlmsg_flags = flags;
	req.h.nlmsg_seq = ++seqno;
	memcpy(req.body, payload, len);
	struct sockaddr_nl k = {.nl_family = AF_NETLINK};
	return sendto(s, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&k, sizeof k);
}

/* reply state, gathered over all the messages of one request. */
struct reply {
	int msgs, done, err_seen, err, bad_seq, bad_pid, not_multi, truncated;
};

typedef void (*visit_fn)(struct nlmsghdr *h, void *arg);

/* nl_recv reads the reply to the last request: until NLMSG_DONE for a
 * dump, until an NLMSG_ERROR (or a single message, if !ack) otherwise. */
static struct reply nl_recv(int s, int dump, int ack, visit_fn fn, void *arg)
{
	struct reply r = {0};
	static char buf[65536];
	for (;;) {
		struct pollfd p = {.fd = s, .events = POLLIN};
		if (poll(&p, 1, WAIT_MS) <= 0) {
			r.err = -ETIMEDOUT;
			return r;
		}
		struct sockaddr_nl from;
		struct iovec iov = {buf, sizeof buf};
		struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n = recvmsg(s, &m, 0);
		if (n < 0) {
			r.err = -errno;
			return r;
		}
		if (m.msg_flags & MSG_TRUNC)
			r.truncated = 1;
		if (from.nl_pid != 0)
			r.bad_pid = 1;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seqno)
				r.bad_seq = 1;
			if (h->nlmsg_pid != portid)
				r.bad_pid = 1;
			if (h->nlmsg_type == NLMSG_DONE) {
				r.done = 1;
				return r;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				r.err_seen = 1;
				r.err = e->error;
				return r;
			}
			if (dump && !(h->nlmsg_flags & NLM_F_MULTI))
				r.not_multi = 1;
			r.msgs++;
			fn(h, arg);
			if (!dump && !ack)
				return r;
		}
	}
}

static void print_reply(const char *what, struct reply r)
{
	printf("%s: msgs>0=%d done=%d error=%s seq_ok=%d pid_ok=%d multi_ok=%d truncated=%d\n", what, r.msgs > 0,
	       r.done, r.err ? errname(-r.err) : (r.err_seen ? "ack" : "none"), !r.bad_seq, !r.bad_pid, !r.not_multi,
	       r.truncated);
}

struct link_info {
	int found, index, type, up, loopback, running, mtu, addrlen, addrzero, name_ok;
};

static void visit_link(struct nlmsghdr *h, void *arg)
{
	struct link_info *li = arg;
	if (h->nlmsg_type != RTM_NEWLINK)
		return;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = IFLA_PAYLOAD(h);
	const char *name = NULL;
	int mtu = -1, addrlen = -1, addrzero = 0;
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case IFLA_IFNAME:
			name = RTA_DATA(a);
			break;
		case IFLA_MTU:
			memcpy(&mtu, RTA_DATA(a), sizeof mtu);
			break;
		case IFLA_ADDRESS:
			addrlen = RTA_PAYLOAD(a);
			addrzero = 1;
			for (int i = 0; i < addrlen; i++)
				if (((unsigned char *)RTA_DATA(a))[i])
					addrzero = 0;
			break;
		}
	}
	if (!name || strcmp(name, "lo") != 0)
		return;
	li->found++;
	li->index = ifi->ifi_index;
	li->type = ifi->ifi_type;
	li->up = !!(ifi->ifi_flags & IFF_UP);
	li->loopback = !!(ifi->ifi_flags & IFF_LOOPBACK);
	li->running = !!(ifi->ifi_flags & IFF_RUNNING);
	li->mtu = mtu;
	li->addrlen = addrlen;
	li->addrzero = addrzero;
	li->name_ok = 1;
}

static void print_link(const char *what, struct link_info *li)
{
	printf("%s: lo found=%d index=%d type=%d up=%d loopback=%d running=%d mtu=%d addrlen=%d addrzero=%d\n", what,
	       li->found, li->index, li->type, li->up, li->loopback, li->running, li->mtu, li->addrlen, li->addrzero);
}

struct addr_info {
	int family;
	const char *want; /* the address looked for */
	int found, index, prefixlen, scope, label_lo, local_ok;
};

static void visit_addr(struct nlmsghdr *h, void *arg)
{
	struct addr_info *ai = arg;
	if (h->nlmsg_type != RTM_NEWADDR)
		return;
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	if (ifa->ifa_family != ai->family)
		return;
	int len = IFA_PAYLOAD(h);
	char addr[INET6_ADDRSTRLEN] = "", local[INET6_ADDRSTRLEN] = "";
	int label_lo = 0;
	for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case IFA_ADDRESS:
			inet_ntop(ai->family, RTA_DATA(a), addr, sizeof addr);
			break;
		case IFA_LOCAL:
			inet_ntop(ai->family, RTA_DATA(a), local, sizeof local);
			break;
		case IFA_LABEL:
			label_lo = strcmp(RTA_DATA(a), "lo") == 0;
			break;
		}
	}
	if (strcmp(addr, ai->want) != 0)
		return;
	ai->found++;
	ai->index = ifa->ifa_index;
	ai->prefixlen = ifa->ifa_prefixlen;
	ai->scope = ifa->ifa_scope;
	ai->label_lo = label_lo;
	/* IPv4 addresses carry IFA_LOCAL too; IPv6 ones need not. */
	ai->local_ok = ai->family == AF_INET6 ? (local[0] == 0 || strcmp(local, ai->want) == 0)
					      : strcmp(local, ai->want) == 0;
}

static void dump_addr(int s, int family, const char *want, int req_family)
{
	struct ifaddrmsg ifa = {.ifa_family = req_family};
	struct addr_info ai = {.family = family, .want = want};
	char what[96];
	snprintf(what, sizeof what, "RTM_GETADDR dump %s", req_family == AF_UNSPEC ? "AF_UNSPEC" : (req_family == AF_INET ? "AF_INET" : "AF_INET6"));
	if (nl_send(s, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, &ifa, sizeof ifa) < 0) {
		printf("%s send: %s\n", what, errname(errno));
		return;
	}
	print_reply(what, nl_recv(s, 1, 0, visit_addr, &ai));
	printf("%s: %s found=%d index=%d prefixlen=%d scope=%d label_lo=%d local_ok=%d\n", what, want, ai.found,
	       ai.index, ai.prefixlen, ai.scope, ai.label_lo, ai.local_ok);
}

static void netlink(void)
{
	int s = nl_open();
	result("netlink socket+bind", s);
	if (s < 0)
		return;
	int v;
	socklen_t vl = sizeof v;
	getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vl);
	printf("SO_TYPE=%d\n", v);
	getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &vl);
	printf("SO_DOMAIN=%d\n", v);
	getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &vl);
	printf("SO_PROTOCOL=%d\n", v);
	struct sockaddr_nl a;
	socklen_t al = sizeof a;
	memset(&a, 0, sizeof a);
	result("getsockname", getsockname(s, (struct sockaddr *)&a, &al));
	printf("sockname len=%d family=%d portid_nonzero=%d groups=%u\n", al, a.nl_family, a.nl_pid != 0, a.nl_groups);
	int d = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
	result("netlink SOCK_DGRAM", d);
	close(d);

	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct link_info li = {0};
	result("RTM_GETLINK dump send", nl_send(s, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &ifi, sizeof ifi));
	print_reply("RTM_GETLINK dump", nl_recv(s, 1, 0, visit_link, &li));
	print_link("RTM_GETLINK dump", &li);

	memset(&li, 0, sizeof li);
	ifi.ifi_index = 1;
	result("RTM_GETLINK index 1 send", nl_send(s, RTM_GETLINK, NLM_F_REQUEST, &ifi, sizeof ifi));
	print_reply("RTM_GETLINK index 1", nl_recv(s, 0, 0, visit_link, &li));
	print_link("RTM_GETLINK index 1", &li);

	memset(&li, 0, sizeof li);
	result("RTM_GETLINK index 1 ack send", nl_send(s, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, &ifi, sizeof ifi));
	print_reply("RTM_GETLINK index 1 with NLM_F_ACK", nl_recv(s, 0, 1, visit_link, &li));
	printf("RTM_GETLINK index 1 with NLM_F_ACK: lo found=%d\n", li.found);

	memset(&li, 0, sizeof li);
	ifi.ifi_index = 9999;
	result("RTM_GETLINK index 9999 send", nl_send(s, RTM_GETLINK, NLM_F_REQUEST, &ifi, sizeof ifi));
	print_reply("RTM_GETLINK index 9999", nl_recv(s, 0, 1, visit_link, &li));

	dump_addr(s, AF_INET, "127.0.0.1", AF_INET);
	dump_addr(s, AF_INET6, "::1", AF_INET6);
	dump_addr(s, AF_INET, "127.0.0.1", AF_UNSPEC);
	dump_addr(s, AF_INET6, "::1", AF_UNSPEC);
	close(s);
}

static void getifaddrs_lo(void)
{
	struct ifaddrs *ifs;
	result("getifaddrs", getifaddrs(&ifs));
	int inet = 0, inet6 = 0, packet = 0;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (strcmp(i->ifa_name, "lo") != 0 || !i->ifa_addr)
			continue;
		char addr[INET6_ADDRSTRLEN] = "", mask[INET6_ADDRSTRLEN] = "";
		int fl = i->ifa_flags;
		switch (i->ifa_addr->sa_family) {
		case AF_INET:
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, addr, sizeof addr);
			if (i->ifa_netmask)
				inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_netmask)->sin_addr, mask, sizeof mask);
			if (strcmp(addr, "127.0.0.1") == 0) {
				inet++;
				printf("getifaddrs lo inet %s netmask %s up=%d loopback=%d running=%d\n", addr, mask,
				       !!(fl & IFF_UP), !!(fl & IFF_LOOPBACK), !!(fl & IFF_RUNNING));
			}
			break;
		case AF_INET6:
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, addr, sizeof addr);
			if (i->ifa_netmask)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr, mask,
					  sizeof mask);
			if (strcmp(addr, "::1") == 0) {
				inet6++;
				printf("getifaddrs lo inet6 %s netmask %s up=%d loopback=%d\n", addr, mask,
				       !!(fl & IFF_UP), !!(fl & IFF_LOOPBACK));
			}
			break;
		case AF_PACKET:
			packet++;
			break;
		}
	}
	printf("getifaddrs lo: inet=%d inet6=%d packet=%d\n", inet, inet6, packet);
	freeifaddrs(ifs);
}

static void ifindex(void)
{
	value("if_nametoindex lo", if_nametoindex("lo"));
	errno = 0;
	unsigned int n = if_nametoindex("nosuchif0");
	printf("if_nametoindex nosuchif0: %u %s\n", n, errno ? errname(errno) : "-");
	char name[IF_NAMESIZE] = "";
	printf("if_indextoname 1: %s\n", if_indextoname(1, name) ? name : errname(errno));
	printf("if_indextoname 9999: %s\n", if_indextoname(9999, name) ? name : errname(errno));
	struct if_nameindex *ni = if_nameindex();
	int lo = 0;
	for (struct if_nameindex *p = ni; p && p->if_index; p++)
		if (strcmp(p->if_name, "lo") == 0)
			lo = p->if_index;
	printf("if_nameindex: %s lo=%d\n", ni ? "ok" : errname(errno), lo);
	if (ni)
		if_freenameindex(ni);
}

static void ioctls(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	char str[INET_ADDRSTRLEN];
#define LO() (memset(&ifr, 0, sizeof ifr), strcpy(ifr.ifr_name, "lo"))
	LO();
	result("SIOCGIFINDEX lo", ioctl(s, SIOCGIFINDEX, &ifr));
	printf("ifindex=%d\n", ifr.ifr_ifindex);
	LO();
	result("SIOCGIFFLAGS lo", ioctl(s, SIOCGIFFLAGS, &ifr));
	printf("up=%d loopback=%d running=%d\n", !!(ifr.ifr_flags & IFF_UP), !!(ifr.ifr_flags & IFF_LOOPBACK),
	       !!(ifr.ifr_flags & IFF_RUNNING));
	LO();
	result("SIOCGIFMTU lo", ioctl(s, SIOCGIFMTU, &ifr));
	printf("mtu=%d\n", ifr.ifr_mtu);
	LO();
	result("SIOCGIFADDR lo", ioctl(s, SIOCGIFADDR, &ifr));
	printf("addr family=%d %s\n", ifr.ifr_addr.sa_family,
	       inet_ntop(AF_INET, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, str, sizeof str));
	LO();
	result("SIOCGIFNETMASK lo", ioctl(s, SIOCGIFNETMASK, &ifr));
	printf("netmask %s\n", inet_ntop(AF_INET, &((struct sockaddr_in *)&ifr.ifr_netmask)->sin_addr, str, sizeof str));
	LO();
	result("SIOCGIFHWADDR lo", ioctl(s, SIOCGIFHWADDR, &ifr));
	int zero = 1;
	for (int i = 0; i < 6; i++)
		if (ifr.ifr_hwaddr.sa_data[i])
			zero = 0;
	printf("hwaddr family=%d zero=%d\n", ifr.ifr_hwaddr.sa_family, zero);
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_ifindex = 1;
	result("SIOCGIFNAME 1", ioctl(s, SIOCGIFNAME, &ifr));
	printf("name=%s\n", ifr.ifr_name);
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_ifindex = 9999;
	expect_err("SIOCGIFNAME 9999", ioctl(s, SIOCGIFNAME, &ifr));
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "nosuchif0");
	expect_err("SIOCGIFINDEX nosuchif0", ioctl(s, SIOCGIFINDEX, &ifr));
	expect_err("SIOCGIFFLAGS nosuchif0", ioctl(s, SIOCGIFFLAGS, &ifr));

	/* SIOCGIFCONF: a NULL buffer asks for the size. */
	struct ifconf ifc = {.ifc_len = 0, .ifc_req = NULL};
	result("SIOCGIFCONF size", ioctl(s, SIOCGIFCONF, &ifc));
	printf("size>0=%d multiple of ifreq=%d\n", ifc.ifc_len > 0, ifc.ifc_len % (int)sizeof(struct ifreq) == 0);
	struct ifreq reqs[64];
	ifc.ifc_len = sizeof reqs;
	ifc.ifc_req = reqs;
	result("SIOCGIFCONF", ioctl(s, SIOCGIFCONF, &ifc));
	int lo = 0;
	for (int i = 0; i < ifc.ifc_len / (int)sizeof(struct ifreq); i++) {
		if (strcmp(reqs[i].ifr_name, "lo") != 0)
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)&reqs[i].ifr_addr)->sin_addr, str, sizeof str);
		printf("SIOCGIFCONF lo family=%d addr=%s\n", reqs[i].ifr_addr.sa_family, str);
		lo++;
	}
	printf("SIOCGIFCONF lo entries=%d\n", lo);
	close(s);
#undef LO
}

int main(int argc, char **argv)
{
	sections_init(argc, argv);
	setvbuf(stdout, NULL, _IONBF, 0);
	if (section("netlink"))
		netlink();
	if (section("getifaddrs"))
		getifaddrs_lo();
	if (section("ifindex"))
		ifindex();
	if (section("ioctl"))
		ioctls();
	return 0;
}
