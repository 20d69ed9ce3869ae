/* fs_pty: pseudo-terminals (/dev/ptmx, /dev/pts): posix_openpt, grantpt,
 * unlockpt, ptsname, TIOCGPTN/TIOCSPTLCK/TIOCGPTPEER, the line discipline
 * (canonical editing, echo, ICRNL, ONLCR, EOF, raw VMIN/VTIME), termios and
 * window size, job control (controlling terminal, foreground group, ^C and
 * SIGWINCH), FIONREAD, poll, and hangup (EIO/POLLHUP on the master).
 * usage: fs_pty */
#include "probe.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* drain reads what the master has until it stays quiet for 200ms (a pty
 * hands data over asynchronously on Linux) and prints it escaped. */
static void drain(const char *what, int m)
{
	char buf[512], out[2048];
	size_t len = 0;
	for (;;) {
		struct pollfd p = {m, POLLIN, 0};
		if (poll(&p, 1, 200) <= 0 || !(p.revents & POLLIN))
			break;
		ssize_t n = read(m, buf, sizeof buf);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n && len < sizeof out - 5; i++) {
			unsigned char c = buf[i];
			if (c == '\r')
				len += sprintf(out + len, "\\r");
			else if (c == '\n')
				len += sprintf(out + len, "\\n");
			else if (c == '\b')
				len += sprintf(out + len, "\\b");
			else if (c < 32 || c >= 127)
				len += sprintf(out + len, "\\x%02x", c);
			else
				out[len++] = c;
		}
	}
	out[len] = 0;
	printf("%s: \"%s\"\n", what, out);
}

/* slave_read reads once from the slave (blocking) and prints it. */
static void slave_read(const char *what, int s)
{
	char buf[256];
	ssize_t n = read(s, buf, sizeof buf - 1);
	if (n < 0) {
		printf("%s: %s\n", what, errname(errno));
		return;
	}
	printf("%s: %zd \"", what, n);
	for (ssize_t i = 0; i < n; i++) {
		unsigned char c = buf[i];
		if (c == '\n')
			printf("|");
		else if (c < 32 || c >= 127)
			printf("\\x%02x", c);
		else
			printf("%c", c);
	}
	printf("\"\n");
}

static void settle(void) { usleep(50000); }

static volatile sig_atomic_t got_sig;
static void on_sig(int sig) { got_sig = sig; }

static int open_pair(int *s)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0) {
		perror("openpt");
		exit(2);
	}
	*s = open(ptsname(m), O_RDWR | O_NOCTTY);
	if (*s < 0) {
		perror("open slave");
		exit(2);
	}
	return m;
}

int main(void)
{
	struct stat st;
	result("stat /dev/ptmx", stat("/dev/ptmx", &st));
	printf("ptmx chr=%d rdev=%d:%d\n", S_ISCHR(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
	result("stat /dev/pts", stat("/dev/pts", &st));
	printf("pts isdir=%d\n", S_ISDIR(st.st_mode));

	/* Allocation and the lock. */
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	result("posix_openpt", m);
	unsigned int n = 99;
	result("TIOCGPTN", ioctl(m, TIOCGPTN, &n));
	char path[64];
	snprintf(path, sizeof path, "/dev/pts/%u", n);
	check("ptsname", strcmp(ptsname(m), path) == 0);
	result("stat slave", stat(path, &st));
	/* The mode is the devpts mount's mode= option, which hosts vary on. */
	printf("slave chr=%d major=%d minor-matches=%d\n", S_ISCHR(st.st_mode), major(st.st_rdev),
	       minor(st.st_rdev) == n);
	expect_err("open locked slave", open(path, O_RDWR | O_NOCTTY));
	result("grantpt", grantpt(m));
	result("unlockpt", unlockpt(m));
	int lock = 1;
	result("TIOCGPTLCK", ioctl(m, TIOCGPTLCK, &lock));
	printf("locked=%d\n", lock);
	int s = open(path, O_RDWR | O_NOCTTY);
	result("open slave", s);
	check("isatty slave", isatty(s));
	check("isatty master", isatty(m));
	int peer = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	result("TIOCGPTPEER", peer);
	check("ttyname peer", peer >= 0 && strcmp(ttyname(peer), path) == 0);
	close(peer);
	expect_err("TIOCGPTN on slave", ioctl(s, TIOCGPTN, &n));
	expect_err("lseek slave", lseek(s, 0, SEEK_SET));

	/* Default termios. */
	struct termios t;
	result("tcgetattr", tcgetattr(s, &t));
	printf("iflag=%o oflag=%o lflag=%o icanon=%d echo=%d vintr=%d verase=%d vkill=%d veof=%d vmin=%d\n",
	       t.c_iflag, t.c_oflag, t.c_lflag, !!(t.c_lflag & ICANON), !!(t.c_lflag & ECHO), t.c_cc[VINTR],
	       t.c_cc[VERASE], t.c_cc[VKILL], t.c_cc[VEOF], t.c_cc[VMIN]);

	/* Canonical mode: editing, echo, ICRNL and ONLCR. */
	write(m, "abc\x7f" "d\r", 6);
	settle();
	int avail = -1;
	result("FIONREAD slave", ioctl(s, FIONREAD, &avail));
	printf("avail=%d\n", avail);
	slave_read("canonical read", s);
	drain("echo", m);
	write(m, "xyz\x15" "ok\n", 7);
	slave_read("after VKILL", s);
	drain("kill echo", m);
	write(m, "tw\x03", 3); /* ^C without a session: only echo and flush */
	write(m, "o\n", 2);
	slave_read("after ^C", s);
	drain("^C echo", m);
	write(m, "one\ntwo\n", 8);
	settle();
	slave_read("one line per read", s);
	slave_read("second line", s);
	write(m, "part", 4);
	write(m, "\x04", 1);
	slave_read("VEOF ends the line", s);
	write(m, "\x04", 1);
	slave_read("VEOF on empty line", s);
	drain("eof echo", m);

	/* Output processing. */
	write(s, "a\nb\n", 4);
	drain("ONLCR", m);
	t.c_oflag &= ~OPOST;
	tcsetattr(s, TCSANOW, &t);
	write(s, "a\nb\n", 4);
	drain("no OPOST", m);
	t.c_oflag |= OPOST;

	/* ECHOCTL, ECHONL, IGNCR, INLCR. */
	t.c_lflag &= ~ECHO;
	t.c_lflag |= ECHONL;
	tcsetattr(s, TCSANOW, &t);
	write(m, "q\x01w\n", 4);
	slave_read("no echo read", s);
	drain("ECHONL", m);
	t.c_lflag |= ECHO;
	t.c_lflag &= ~ECHONL;
	t.c_iflag |= IGNCR;
	tcsetattr(s, TCSANOW, &t);
	write(m, "c\x01r\r\n", 5);
	slave_read("IGNCR read", s);
	drain("ECHOCTL", m);
	t.c_iflag &= ~(IGNCR | ICRNL);
	t.c_iflag |= INLCR;
	t.c_lflag &= ~ECHO;
	tcsetattr(s, TCSANOW, &t);
	write(m, "x\n\x04", 3);
	slave_read("INLCR read", s);
	t.c_iflag &= ~INLCR;
	t.c_iflag |= ICRNL;
	t.c_lflag |= ECHO;

	/* Raw mode. */
	struct termios raw = t;
	cfmakeraw(&raw);
	raw.c_cc[VMIN] = 3;
	raw.c_cc[VTIME] = 0;
	result("tcsetattr raw", tcsetattr(s, TCSANOW, &raw));
	write(m, "\x03\x7f", 2);
	settle();
	char buf[64];
	result("FIONREAD below VMIN", ioctl(s, FIONREAD, &avail));
	printf("avail=%d\n", avail);
	write(m, "z", 1);
	value("raw read at VMIN", read(s, buf, sizeof buf));
	printf("raw bytes=%02x %02x %c\n", buf[0] & 0xff, buf[1] & 0xff, buf[2]);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 1;
	tcsetattr(s, TCSANOW, &raw);
	value("VMIN 0 VTIME 1 timeout", read(s, buf, sizeof buf));
	raw.c_cc[VTIME] = 0;
	tcsetattr(s, TCSANOW, &raw);
	value("VMIN 0 VTIME 0 poll", read(s, buf, sizeof buf));
	drain("raw echo", m);
	result("tcsetattr canonical", tcsetattr(s, TCSAFLUSH, &t));

	/* Window size. */
	struct winsize ws = {0}, ws2 = {0};
	result("TIOCGWINSZ", ioctl(s, TIOCGWINSZ, &ws));
	printf("winsize=%dx%d\n", ws.ws_row, ws.ws_col);
	ws.ws_row = 24;
	ws.ws_col = 80;
	result("TIOCSWINSZ master", ioctl(m, TIOCSWINSZ, &ws));
	ioctl(s, TIOCGWINSZ, &ws2);
	printf("winsize=%dx%d\n", ws2.ws_row, ws2.ws_col);

	/* Nonblocking and poll. */
	fcntl(m, F_SETFL, O_NONBLOCK);
	expect_err("master read empty (nonblock)", read(m, buf, sizeof buf));
	struct pollfd p[2] = {{m, POLLIN | POLLOUT, 0}, {s, POLLIN | POLLOUT, 0}};
	value("poll", poll(p, 2, 0));
	printf("master revents=%x slave revents=%x\n", p[0].revents, p[1].revents);
	write(s, "x", 1);
	settle();
	p[0].revents = 0;
	poll(p, 1, 1000);
	printf("master revents after write=%x\n", p[0].revents);
	result("FIONREAD master", ioctl(m, FIONREAD, &avail));
	printf("master avail=%d\n", avail);
	drain("x", m);
	fcntl(m, F_SETFL, 0);

	/* Job control: a child makes the slave its controlling terminal. */
	expect_err("TIOCGPGRP not ctty", ioctl(s, TIOCGPGRP, &avail));
	int sync[2];
	pipe(sync);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(m);
		setsid();
		printf("child TIOCSCTTY: %s\n", ioctl(s, TIOCSCTTY, 0) == 0 ? "ok" : errname(errno));
		pid_t fg = tcgetpgrp(s);
		printf("child fg is self: %d\n", fg == getpgrp());
		pid_t sid = -1;
		ioctl(s, TIOCGSID, &sid);
		printf("child sid is self: %d\n", sid == getsid(0));
		int tty = open("/dev/tty", O_RDWR);
		printf("child /dev/tty: %s\n", tty >= 0 ? "ok" : errname(errno));
		close(tty);
		signal(SIGINT, on_sig);
		signal(SIGWINCH, on_sig);
		fflush(stdout);
		write(sync[1], "r", 1);
		char c;
		/* Wait for SIGWINCH, then SIGINT. */
		while (got_sig != SIGWINCH)
			pause();
		printf("child got SIGWINCH\n");
		fflush(stdout);
		got_sig = 0;
		write(sync[1], "w", 1);
		while (got_sig != SIGINT)
			pause();
		printf("child got SIGINT\n");
		/* The session leader's TIOCNOTTY hangs up its foreground group,
		 * itself. */
		signal(SIGHUP, on_sig);
		got_sig = 0;
		printf("child TIOCNOTTY: %s\n", ioctl(s, TIOCNOTTY) == 0 ? "ok" : errname(errno));
		printf("child TIOCGPGRP after: %s\n", ioctl(s, TIOCGPGRP, &fg) == 0 ? "ok" : errname(errno));
		printf("child got SIGHUP: %d\n", got_sig == SIGHUP);
		(void)c;
		fflush(stdout);
		_exit(0);
	}
	char c;
	read(sync[0], &c, 1);
	expect_err("parent TIOCSCTTY (not leader of that session)", ioctl(s, TIOCSCTTY, 0));
	ws.ws_col = 100;
	ioctl(m, TIOCSWINSZ, &ws);
	read(sync[0], &c, 1);
	write(m, "\x03", 1);
	int status;
	waitpid(pid, &status, 0);
	printf("child exit=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	drain("^C echo to ctty", m);

	/* Hangup: after the slave's last close the master reads EIO and
	 * polls POLLHUP; after the master closes the slave reads EOF and
	 * writes fail with EIO. */
	write(s, "last\n", 5);
	close(s);
	settle();
	value("master read buffered", read(m, buf, sizeof buf));
	expect_err("master read after slave closed", read(m, buf, sizeof buf));
	p[0].fd = m;
	p[0].events = POLLIN;
	poll(p, 1, 0);
	printf("master revents hup=%d\n", !!(p[0].revents & POLLHUP));
	close(m);

	int s2;
	int m2 = open_pair(&s2);
	close(m2);
	value("slave read after master closed", read(s2, buf, sizeof buf));
	expect_err("slave write after master closed", write(s2, "x", 1));
	p[0].fd = s2;
	p[0].events = POLLIN | POLLOUT;
	poll(p, 1, 0);
	printf("slave revents hup=%d\n", !!(p[0].revents & POLLHUP));
	close(s2);
	expect_err("reopen a closed pair", open(path, O_RDWR | O_NOCTTY));
	return 0;
}
