/* socket_unix: AF_UNIX sockets: socketpair (stream, dgram, seqpacket),
 * bind/listen/accept/connect on a path and on an abstract name, SCM_RIGHTS
 * across fork, SCM_CREDENTIALS, shutdown, EPIPE/SIGPIPE, poll and epoll
 * readiness, message boundaries, socket options and errno cases.
 * usage: socket_unix SCRATCH_DIR (must not exist)
 */
#include "probe.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/sockios.h>
#include <time.h>
#include <unistd.h>

static int sigpipes;
static void onpipe(int sig) { (void)sig; sigpipes++; }

static socklen_t path_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, path);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path + 1, name);
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static void pollv(const char *what, int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n = poll(&p, 1, 0);
	printf("%s: n=%d revents=%#x\n", what, n, n > 0 ? p.revents : 0);
}

static void sockpairs(void)
{
	int sv[2];
	char buf[64];
	result("socketpair stream", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	int v;
	socklen_t vl = sizeof v;
	getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &vl);
	printf("SO_TYPE=%d len=%d\n", v, vl);
	getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &v, &vl);
	printf("SO_DOMAIN=%d\n", v);
	getsockopt(sv[0], SOL_SOCKET, SO_PROTOCOL, &v, &vl);
	printf("SO_PROTOCOL=%d\n", v);
	getsockopt(sv[0], SOL_SOCKET, SO_ACCEPTCONN, &v, &vl);
	printf("SO_ACCEPTCONN=%d\n", v);
	struct ucred uc;
	socklen_t ul = sizeof uc;
	result("SO_PEERCRED", getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &ul));
	printf("peercred len=%d pid_is_self=%d uid=%d gid=%d\n", ul, uc.pid == getpid(), uc.uid, uc.gid);

	struct stat st;
	fstat(sv[0], &st);
	printf("fstat issock=%d\n", S_ISSOCK(st.st_mode));
	char link[64], path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", sv[0]);
	ssize_t ln = readlink(path, link, sizeof link - 1);
	link[ln > 0 ? ln : 0] = 0;
	printf("fd link socket:[=%d\n", strncmp(link, "socket:[", 8) == 0);
	expect_err("lseek", lseek(sv[0], 0, SEEK_SET));

	struct sockaddr_un a;
	socklen_t al = sizeof a;
	result("getsockname", getsockname(sv[0], (struct sockaddr *)&a, &al));
	printf("getsockname len=%d family=%d\n", al, a.sun_family);
	al = sizeof a;
	result("getpeername", getpeername(sv[0], (struct sockaddr *)&a, &al));
	printf("getpeername len=%d\n", al);

	/* Streams coalesce. */
	value("write abc", write(sv[0], "abc", 3));
	value("send def", send(sv[0], "def", 3, 0));
	int n = 0;
	ioctl(sv[1], FIONREAD, &n);
	printf("FIONREAD=%d\n", n);
	n = 0;
	ioctl(sv[0], SIOCOUTQ, &n);
	/* Linux counts buffer overhead, not bytes. */
	printf("SIOCOUTQ>0=%d\n", n > 0);
	value("recv peek", recv(sv[1], buf, 2, MSG_PEEK));
	value("read", read(sv[1], buf, sizeof buf));
	buf[6] = 0;
	printf("data=%s\n", buf);
	expect_err("recv dontwait empty", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
	struct iovec iov[2] = {{"12", 2}, {"345", 3}};
	value("writev", writev(sv[0], iov, 2));
	char b1[1], b2[8];
	struct iovec riov[2] = {{b1, 1}, {b2, 8}};
	value("readv", readv(sv[1], riov, 2));
	printf("readv data=%c%.4s\n", b1[0], b2);

	/* Polling. */
	pollv("poll idle", sv[1], POLLIN | POLLOUT | POLLRDHUP);
	write(sv[0], "x", 1);
	pollv("poll readable", sv[1], POLLIN | POLLOUT | POLLRDHUP);
	read(sv[1], buf, 1);

	/* Shutdown. */
	expect_err("shutdown bad how", shutdown(sv[0], 7));
	result("shutdown SHUT_WR", shutdown(sv[0], SHUT_WR));
	pollv("poll peer after SHUT_WR", sv[1], POLLIN | POLLOUT | POLLRDHUP);
	value("read eof", read(sv[1], buf, sizeof buf));
	sigpipes = 0;
	expect_err("write after SHUT_WR", write(sv[0], "x", 1));
	printf("sigpipes=%d\n", sigpipes);
	expect_err("send nosignal", send(sv[0], "x", 1, MSG_NOSIGNAL));
	printf("sigpipes=%d\n", sigpipes);
	value("reverse write", write(sv[1], "back", 4));
	value("reverse read", read(sv[0], buf, sizeof buf));
	result("shutdown SHUT_RD", shutdown(sv[0], SHUT_RD));
	expect_err("peer write after SHUT_RD", send(sv[1], "x", 1, MSG_NOSIGNAL));
	value("read after SHUT_RD", read(sv[0], buf, sizeof buf));
	pollv("poll after both", sv[0], POLLIN | POLLOUT | POLLRDHUP);
	close(sv[0]);
	close(sv[1]);

	/* The peer closes. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	write(sv[0], "tail", 4);
	close(sv[0]);
	pollv("poll after peer close", sv[1], POLLIN | POLLOUT | POLLRDHUP);
	value("read remaining", read(sv[1], buf, sizeof buf));
	value("read eof after close", read(sv[1], buf, sizeof buf));
	sigpipes = 0;
	expect_err("write to closed peer", write(sv[1], "x", 1));
	printf("sigpipes=%d\n", sigpipes);
	close(sv[1]);

	/* Closing with unread data resets the connection. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	write(sv[0], "unread", 6);
	close(sv[1]);
	expect_err("read after reset", read(sv[0], buf, sizeof buf));
	value("read after reset again", read(sv[0], buf, sizeof buf));
	close(sv[0]);

	/* A full buffer: EAGAIN, not writable; drained: writable again. */
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
	static char big[65536];
	long total = 0;
	for (;;) {
		ssize_t w = write(sv[0], big, sizeof big);
		if (w < 0)
			break;
		total += w;
	}
	printf("fill stopped: %s total>0=%d\n", errname(errno), total > 0);
	pollv("poll full", sv[0], POLLOUT);
	long got = 0;
	for (;;) {
		ssize_t r = read(sv[1], big, sizeof big);
		if (r <= 0)
			break;
		got += r;
	}
	printf("drained all=%d\n", got == total);
	pollv("poll drained", sv[0], POLLOUT);
	close(sv[0]);
	close(sv[1]);

	/* A blocking writer larger than the buffer. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[1]);
		static char m[1 << 20];
		memset(m, 'm', sizeof m);
		ssize_t w = write(sv[0], m, sizeof m);
		_exit(w == sizeof m ? 0 : 1);
	}
	close(sv[0]);
	got = 0;
	for (;;) {
		ssize_t r = read(sv[1], big, sizeof big);
		if (r <= 0)
			break;
		got += r;
	}
	int status;
	waitpid(pid, &status, 0);
	printf("big write: got=%ld child=%d\n", got, WEXITSTATUS(status));
	close(sv[1]);

	/* MSG_WAITALL waits for the whole buffer. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 3; i++) {
			usleep(20000);
			write(sv[0], "abc", 3);
		}
		_exit(0);
	}
	value("recv waitall", recv(sv[1], buf, 9, MSG_WAITALL));
	waitpid(pid, &status, 0);
	close(sv[0]);
	close(sv[1]);
}

static void dgrams(void)
{
	int sv[2];
	char buf[64];
	result("socketpair dgram", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	send(sv[0], "abc", 3, 0);
	send(sv[0], "defg", 4, 0);
	send(sv[0], "", 0, 0);
	int n = 0;
	ioctl(sv[1], FIONREAD, &n);
	printf("dgram FIONREAD=%d\n", n);
	value("dgram recv 1", recv(sv[1], buf, sizeof buf, 0));
	value("dgram recv 2", recv(sv[1], buf, sizeof buf, 0));
	value("dgram recv empty", recv(sv[1], buf, sizeof buf, 0));
	send(sv[0], "hello", 5, 0);
	value("dgram recv trunc", recv(sv[1], buf, 2, MSG_PEEK | MSG_TRUNC));
	struct iovec iov = {buf, 2};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	value("dgram recvmsg short", recvmsg(sv[1], &m, 0));
	printf("msg_flags trunc=%d\n", !!(m.msg_flags & MSG_TRUNC));
	expect_err("dgram recv dontwait", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));

	/* sendmmsg/recvmmsg. */
	struct mmsghdr mm[3];
	struct iovec iovs[3];
	char data[3][8] = {"one", "three", "fourty"};
	for (int i = 0; i < 3; i++) {
		iovs[i].iov_base = data[i];
		iovs[i].iov_len = strlen(data[i]);
		memset(&mm[i], 0, sizeof mm[i]);
		mm[i].msg_hdr.msg_iov = &iovs[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	value("sendmmsg", sendmmsg(sv[0], mm, 3, 0));
	char rb[3][16];
	for (int i = 0; i < 3; i++) {
		iovs[i].iov_base = rb[i];
		iovs[i].iov_len = sizeof rb[i];
	}
	value("recvmmsg", recvmmsg(sv[1], mm, 3, MSG_DONTWAIT, NULL));
	printf("recvmmsg lens=%u,%u,%u\n", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);

	pollv("dgram poll", sv[0], POLLIN | POLLOUT);
	close(sv[1]);
	expect_err("dgram send to closed", send(sv[0], "x", 1, 0));
	expect_err("dgram send again", send(sv[0], "x", 1, 0));
	close(sv[0]);

	/* seqpacket. */
	result("socketpair seqpacket", socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	send(sv[0], "ab", 2, 0);
	send(sv[0], "cde", 3, 0);
	value("seqpacket recv 1", recv(sv[1], buf, sizeof buf, 0));
	value("seqpacket recv trunc", recv(sv[1], buf, 1, 0));
	pollv("seqpacket poll", sv[1], POLLIN | POLLOUT);
	close(sv[0]);
	pollv("seqpacket poll after close", sv[1], POLLIN | POLLOUT | POLLRDHUP);
	value("seqpacket recv eof", recv(sv[1], buf, sizeof buf, 0));
	sigpipes = 0;
	expect_err("seqpacket send to closed", send(sv[1], "x", 1, 0));
	printf("sigpipes=%d\n", sigpipes);
	expect_err("seqpacket write to closed", write(sv[1], "x", 1));
	printf("sigpipes=%d\n", sigpipes);
	close(sv[1]);
}

static void named(const char *dir)
{
	char path[256], file[256];
	snprintf(path, sizeof path, "%s/sock", dir);
	snprintf(file, sizeof file, "%s/file", dir);
	close(open(file, O_CREAT | O_WRONLY, 0644));
	struct sockaddr_un a, b;
	socklen_t al = path_addr(&a, path);
	char buf[64];

	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	expect_err("listen unbound", listen(l, 5));
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	expect_err("connect missing", connect(c, (struct sockaddr *)&a, al));
	socklen_t fl = path_addr(&b, file);
	expect_err("connect regular file", connect(c, (struct sockaddr *)&b, fl));
	result("bind path", bind(l, (struct sockaddr *)&a, al));
	struct stat st;
	result("stat socket", stat(path, &st));
	printf("S_ISSOCK=%d mode=%o\n", S_ISSOCK(st.st_mode), st.st_mode & 0777);
	expect_err("bind again", bind(l, (struct sockaddr *)&b, fl));
	int o = socket(AF_UNIX, SOCK_STREAM, 0);
	expect_err("bind taken path", bind(o, (struct sockaddr *)&a, al));
	expect_err("connect before listen", connect(c, (struct sockaddr *)&a, al));
	result("listen", listen(l, 0));
	int v;
	socklen_t vl = sizeof v;
	getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl);
	printf("SO_ACCEPTCONN=%d\n", v);
	pollv("poll listener idle", l, POLLIN | POLLOUT);
	int flags = fcntl(c, F_GETFL);
	fcntl(c, F_SETFL, flags | O_NONBLOCK);
	result("connect", connect(c, (struct sockaddr *)&a, al));
	expect_err("connect again", connect(c, (struct sockaddr *)&a, al));
	pollv("poll listener pending", l, POLLIN | POLLOUT);
	int c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	expect_err("connect backlog full", connect(c2, (struct sockaddr *)&a, al));
	socklen_t pl = sizeof b;
	memset(&b, 0, sizeof b);
	result("getpeername client", getpeername(c, (struct sockaddr *)&b, &pl));
	printf("peer len=%d path_match=%d\n", pl, strcmp(b.sun_path, path) == 0);
	pl = sizeof b;
	int s = accept4(l, (struct sockaddr *)&b, &pl, SOCK_CLOEXEC);
	result("accept4", s);
	printf("accepted addr len=%d cloexec=%d\n", pl, !!(fcntl(s, F_GETFD) & FD_CLOEXEC));
	pl = sizeof b;
	getsockname(s, (struct sockaddr *)&b, &pl);
	printf("accepted sockname len=%d path_match=%d\n", pl, strcmp(b.sun_path, path) == 0);
	value("client send", send(c, "ping", 4, 0));
	value("server recv", recv(s, buf, sizeof buf, 0));
	struct ucred uc;
	socklen_t ul = sizeof uc;
	getsockopt(s, SOL_SOCKET, SO_PEERCRED, &uc, &ul);
	printf("server peercred pid_is_self=%d\n", uc.pid == getpid());
	expect_err("accept on connected", accept(c, NULL, NULL));
	expect_err("recv on listener", recv(l, buf, 1, MSG_DONTWAIT));
	fcntl(l, F_SETFL, O_NONBLOCK);
	expect_err("accept empty nonblock", accept(l, NULL, NULL));
	shutdown(l, SHUT_RD);
	expect_err("accept nonblock after SHUT_RD", accept(l, NULL, NULL));
	fcntl(l, F_SETFL, 0);
	expect_err("accept after SHUT_RD", accept(l, NULL, NULL));
	expect_err("sendto on connected stream", sendto(c, "x", 1, 0, (struct sockaddr *)&a, al));
	int u = socket(AF_UNIX, SOCK_STREAM, 0);
	expect_err("send unconnected stream", send(u, "x", 1, 0));
	expect_err("sendto unconnected stream", sendto(u, "x", 1, 0, (struct sockaddr *)&a, al));
	result("shutdown unconnected", shutdown(u, SHUT_RDWR));
	expect_err("getpeername unconnected", getpeername(u, (struct sockaddr *)&b, &pl));
	pollv("poll unconnected stream", u, POLLIN | POLLOUT);
	close(u);
	close(s);
	close(c);
	close(c2);
	close(o);
	close(l);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	expect_err("connect after listener closed", connect(c, (struct sockaddr *)&a, al));
	unlink(path);
	expect_err("connect after unlink", connect(c, (struct sockaddr *)&a, al));
	close(c);

	/* Datagrams to a path. */
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	result("bind dgram", bind(d, (struct sockaddr *)&a, al));
	int ds = socket(AF_UNIX, SOCK_DGRAM, 0);
	expect_err("dgram send unconnected", send(ds, "x", 1, 0));
	value("dgram sendto path", sendto(ds, "hey", 3, 0, (struct sockaddr *)&a, al));
	pl = sizeof b;
	value("dgram recvfrom", recvfrom(d, buf, sizeof buf, 0, (struct sockaddr *)&b, &pl));
	printf("unnamed sender addrlen=%d\n", pl);
	int sc = socket(AF_UNIX, SOCK_STREAM, 0);
	expect_err("stream connect to dgram", connect(sc, (struct sockaddr *)&a, al));
	expect_err("listen dgram", listen(d, 1));
	close(sc);
	close(ds);
	close(d);
	unlink(path);

	/* Address errors. */
	int e = socket(AF_UNIX, SOCK_STREAM, 0);
	char longaddr[200];
	memset(longaddr, 'a', sizeof longaddr);
	((struct sockaddr *)longaddr)->sa_family = AF_UNIX;
	expect_err("bind addrlen 111", bind(e, (struct sockaddr *)longaddr, 111));
	expect_err("bind addrlen 200", bind(e, (struct sockaddr *)longaddr, 200));
	expect_err("bind addrlen 1", bind(e, (struct sockaddr *)&a, 1));
	a.sun_family = AF_INET;
	expect_err("bind wrong family", bind(e, (struct sockaddr *)&a, al));
	expect_err("bind bad pointer", bind(e, (struct sockaddr *)8, al));
	expect_err("bind negative len", bind(e, (struct sockaddr *)&a, -1));
	close(e);
}

static void abstract(void)
{
	char name[64];
	snprintf(name, sizeof name, "runsc-lite-probe-%d", getpid());
	struct sockaddr_un a, b;
	socklen_t al = abstract_addr(&a, name);
	int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	result("bind abstract", bind(l, (struct sockaddr *)&a, al));
	socklen_t bl = sizeof b;
	getsockname(l, (struct sockaddr *)&b, &bl);
	printf("abstract sockname len_ok=%d name_ok=%d\n", bl == al, memcmp(&a, &b, al) == 0);
	int o = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	expect_err("bind abstract taken", bind(o, (struct sockaddr *)&a, al));
	result("listen abstract", listen(l, 4));
	int c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	result("connect abstract", connect(c, (struct sockaddr *)&a, al));
	int s = accept(l, NULL, NULL);
	result("accept abstract", s);
	send(c, "one", 3, 0);
	send(c, "two!", 4, 0);
	char buf[16];
	value("seqpacket recv", recv(s, buf, sizeof buf, 0));
	value("seqpacket recv", recv(s, buf, sizeof buf, 0));
	int st = socket(AF_UNIX, SOCK_STREAM, 0);
	expect_err("connect wrong type", connect(st, (struct sockaddr *)&a, al));
	close(st);
	close(s);
	close(c);
	close(l);
	result("bind abstract after close", bind(o, (struct sockaddr *)&a, al));
	close(o);
	int missing = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	al = abstract_addr(&a, "runsc-lite-probe-nobody-here");
	expect_err("connect abstract missing", connect(missing, (struct sockaddr *)&a, al));
	close(missing);

	/* Autobind. */
	int ab = socket(AF_UNIX, SOCK_DGRAM, 0);
	result("autobind", bind(ab, (struct sockaddr *)&a, sizeof(sa_family_t)));
	bl = sizeof b;
	getsockname(ab, (struct sockaddr *)&b, &bl);
	printf("autobind len=%d abstract=%d\n", bl, b.sun_path[0] == 0);
	close(ab);
}

static int recv_fds(int sock, int *fds, int max, int cmsgflags, int *mflags, char *data, int dlen)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = {data, dlen};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			   .msg_controllen = CMSG_SPACE(sizeof(int) * max)};
	ssize_t n = recvmsg(sock, &m, cmsgflags);
	if (n < 0)
		return -1;
	*mflags = m.msg_flags;
	int got = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds + got, CMSG_DATA(c), k * sizeof(int));
			got += k;
		}
	}
	return got;
}

static int send_fds(int sock, const int *fds, int n, const char *data)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 8)];
	memset(cbuf, 0, sizeof cbuf);
	struct iovec iov = {(void *)data, strlen(data)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			   .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	return sendmsg(sock, &m, 0);
}

static void rights(void)
{
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		int p[2];
		pipe(p);
		write(p[1], "through a pipe", 14);
		close(p[1]);
		int r = send_fds(sv[1], &p[0], 1, "F");
		_exit(r == 1 ? 0 : 1);
	}
	close(sv[1]);
	int status;
	waitpid(pid, &status, 0);
	printf("sender exit=%d\n", WEXITSTATUS(status));
	int fds[8], mflags;
	char d[4];
	int got = recv_fds(sv[0], fds, 1, MSG_CMSG_CLOEXEC, &mflags, d, sizeof d);
	printf("SCM_RIGHTS got=%d ctrunc=%d\n", got, !!(mflags & MSG_CTRUNC));
	if (got == 1) {
		char buf[32];
		ssize_t n = read(fds[0], buf, sizeof buf);
		printf("read passed pipe: %.*s\n", (int)(n > 0 ? n : 0), buf);
		printf("passed cloexec=%d\n", !!(fcntl(fds[0], F_GETFD) & FD_CLOEXEC));
		struct stat st;
		fstat(fds[0], &st);
		printf("passed isfifo=%d\n", S_ISFIFO(st.st_mode));
		close(fds[0]);
	}
	close(sv[0]);

	/* Too small a control buffer: MSG_CTRUNC, the rest closed. */
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	int p[2];
	pipe(p);
	int three[3] = {p[0], p[1], p[0]};
	value("send 3 fds", send_fds(sv[0], three, 3, "3"));
	got = recv_fds(sv[1], fds, 1, 0, &mflags, d, sizeof d);
	printf("got=%d ctrunc=%d\n", got, !!(mflags & MSG_CTRUNC));
	for (int i = 0; i < got; i++)
		close(fds[i]);
	int none = 0;
	send_fds(sv[0], three, 1, "0");
	struct msghdr nm = {0};
	struct iovec niov = {d, sizeof d};
	nm.msg_iov = &niov;
	nm.msg_iovlen = 1;
	value("recvmsg without control", recvmsg(sv[1], &nm, 0));
	printf("no control ctrunc=%d controllen=%zu\n", !!(nm.msg_flags & MSG_CTRUNC), (size_t)nm.msg_controllen + none);
	int *two = three;
	/* read(2) drops passed files. */
	send_fds(sv[0], two, 2, "r");
	value("read message with fds", read(sv[1], d, sizeof d));
	int bad = 999;
	expect_err("send bad fd", send_fds(sv[0], &bad, 1, "b"));
	/* A message with a bad cmsg_len. */
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof cbuf);
	struct iovec iov = {"x", 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = sizeof cbuf + 8;
	expect_err("sendmsg bad cmsg_len", sendmsg(sv[0], &m, 0));
	c->cmsg_len = CMSG_LEN(sizeof(int));
	c->cmsg_type = 77;
	expect_err("sendmsg unknown cmsg type", sendmsg(sv[0], &m, 0));
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);

	/* SCM_CREDENTIALS. */
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	int one = 1;
	result("SO_PASSCRED", setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one));
	send(sv[0], "c", 1, 0);
	char cb[CMSG_SPACE(sizeof(struct ucred))];
	iov.iov_base = d;
	iov.iov_len = sizeof d;
	struct msghdr cm = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof cb};
	value("recvmsg creds", recvmsg(sv[1], &cm, 0));
	c = CMSG_FIRSTHDR(&cm);
	if (c && c->cmsg_type == SCM_CREDENTIALS) {
		struct ucred uc;
		memcpy(&uc, CMSG_DATA(c), sizeof uc);
		printf("SCM_CREDENTIALS len=%zu pid_is_self=%d uid=%d gid=%d\n", (size_t)c->cmsg_len,
		       uc.pid == getpid(), uc.uid, uc.gid);
	} else {
		printf("SCM_CREDENTIALS missing\n");
	}
	close(sv[0]);
	close(sv[1]);
}

static void options(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	int v = 8192;
	socklen_t vl = sizeof v;
	result("SO_SNDBUF set", setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
	getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &vl);
	printf("SO_SNDBUF=%d\n", v);
	v = 1;
	result("SO_REUSEADDR set", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
	v = 0;
	getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, &vl);
	printf("SO_REUSEADDR=%d\n", v);
	getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &vl);
	printf("SO_ERROR=%d\n", v);
	struct linger lg = {1, 5};
	result("SO_LINGER set", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
	socklen_t ll = sizeof lg;
	memset(&lg, 0, sizeof lg);
	getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &ll);
	printf("SO_LINGER=%d,%d len=%d\n", lg.l_onoff, lg.l_linger, ll);
	char small = 0;
	socklen_t sl = 1;
	result("getsockopt short", getsockopt(s, SOL_SOCKET, SO_TYPE, &small, &sl));
	printf("short len=%d val=%d\n", sl, small);
	vl = -1;
	expect_err("getsockopt negative len", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vl));
	expect_err("setsockopt short", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2));
	vl = sizeof v;
	expect_err("getsockopt unknown", getsockopt(s, SOL_SOCKET, 999, &v, &vl));
	expect_err("getsockopt SOL_TCP", getsockopt(s, 6, 1, &v, &vl));
	expect_err("getsockopt bad optlen ptr", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, (socklen_t *)8));
	struct timeval tv = {0, 5000000};
	expect_err("SO_RCVTIMEO bad usec", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	close(s);

	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	tv.tv_sec = 0;
	tv.tv_usec = 100000;
	result("SO_RCVTIMEO set", setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
	socklen_t tl = sizeof tv;
	memset(&tv, 0, sizeof tv);
	getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, &tl);
	printf("SO_RCVTIMEO=%ld.%06ld len=%d\n", (long)tv.tv_sec, (long)tv.tv_usec, tl);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char buf[4];
	expect_err("recv timeout", recv(sv[0], buf, sizeof buf, 0));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("waited>=90ms=%d\n", ms >= 90);
	/* read(2) honours SO_RCVTIMEO too. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_err("read timeout", read(sv[0], buf, sizeof buf));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("read waited>=90ms=%d\n", ms >= 90);
	/* write(2) honours SO_SNDTIMEO: fill the peer's queue first. */
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	static char fill[65536];
	long filled = 0, w;
	while ((w = write(sv[1], fill, sizeof fill)) > 0)
		filled += w;
	fcntl(sv[1], F_SETFL, 0);
	result("SO_SNDTIMEO set", setsockopt(sv[1], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_err("write timeout", write(sv[1], fill, sizeof fill));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	printf("write waited>=90ms=%d filled>0=%d\n", ms >= 90, filled > 0);
	/* Drain, so that the rest of the probe starts from an empty queue. */
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	while (read(sv[0], fill, sizeof fill) > 0)
		;
	fcntl(sv[0], F_SETFL, 0);

	/* epoll. */
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = sv[0]};
	epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev);
	value("epoll idle", epoll_wait(ep, &ev, 1, 0));
	write(sv[1], "e", 1);
	int n = epoll_wait(ep, &ev, 1, 1000);
	printf("epoll after write: n=%d events=%#x\n", n, n > 0 ? ev.events : 0);
	read(sv[0], buf, 1);
	close(sv[1]);
	n = epoll_wait(ep, &ev, 1, 1000);
	printf("epoll after close: n=%d events=%#x\n", n, n > 0 ? ev.events : 0);
	close(ep);
	close(sv[0]);
}

static void errors(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	printf("inet=%s\n", s >= 0 ? "ok" : errname(errno));
	if (s >= 0)
		close(s);
	expect_err("socket family 1234", socket(1234, SOCK_STREAM, 0));
	expect_err("socket type 99", socket(AF_UNIX, 99, 0));
	expect_err("socket bad flag", socket(AF_UNIX, SOCK_STREAM | 0x100000, 0));
	expect_err("socket protocol 5", socket(AF_UNIX, SOCK_STREAM, 5));
	expect_err("socket SOCK_RDM", socket(AF_UNIX, SOCK_RDM, 0));
	s = socket(AF_UNIX, SOCK_RAW, 0);
	int v = 0;
	socklen_t vl = sizeof v;
	getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vl);
	printf("SOCK_RAW is type %d\n", v);
	close(s);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	printf("flags nonblock=%d cloexec=%d\n", !!(fcntl(s, F_GETFL) & O_NONBLOCK), !!(fcntl(s, F_GETFD) & FD_CLOEXEC));
	close(s);
	int p[2];
	pipe(p);
	expect_err("listen on pipe", listen(p[0], 1));
	expect_err("listen bad fd", listen(-1, 1));
	expect_err("socketpair bad pointer", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, 8L));
	expect_err("accept4 bad flags", accept4(p[0], NULL, NULL, 0x1));
	expect_err("accept4 on pipe", accept4(p[0], NULL, NULL, 0));
	/* Linux stores the fd numbers before it fails; use throwaway ones. */
	int q[2];
	int r = socketpair(AF_INET, SOCK_STREAM, 0, q);
	printf("inetpair=%s\n", r >= 0 ? "ok" : errname(errno));
	close(p[0]);
	close(p[1]);
}

int main(int argc, char **argv)
{
	if (argc < 2 || mkdir(argv[1], 0755) != 0) {
		perror("setup");
		return 2;
	}
	umask(022);
	signal(SIGPIPE, onpipe);
	setvbuf(stdout, NULL, _IONBF, 0);
	errors();
	sockpairs();
	dgrams();
	named(argv[1]);
	abstract();
	rights();
	options();
	return 0;
}
