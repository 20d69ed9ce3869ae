/* fs_errno: path syscalls' errors, as root and as an unprivileged uid.
 * usage: fs_errno SCRATCH_DIR (must not exist) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e)
{
	switch (e) {
	case 0: return "ok";
	case EEXIST: return "EEXIST";
	case ENOENT: return "ENOENT";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case ELOOP: return "ELOOP";
	case EACCES: return "EACCES";
	case EXDEV: return "EXDEV";
	case ENOTEMPTY: return "ENOTEMPTY";
	case EBADF: return "EBADF";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case EBUSY: return "EBUSY";
	default: return strerror(e);
	}
}

static void check(const char *what, int r)
{
	printf("%s: %s\n", what, ename(r < 0 ? errno : 0));
}

int main(int argc, char **argv)
{
	if (argc != 2 || chdir("/") != 0)
		return 2;
	if (mkdir(argv[1], 0755) != 0 || chdir(argv[1]) != 0) {
		perror("scratch");
		return 2;
	}
	umask(022);
	check("mkdir d", mkdir("d", 0755));
	check("mkdir d again", mkdir("d", 0755));
	check("open f creat", open("f", O_CREAT | O_WRONLY, 0644));
	check("open f excl", open("f", O_CREAT | O_EXCL | O_WRONLY, 0644));
	check("open missing", open("missing", O_RDONLY));
	check("open f/x", open("f/x", O_RDONLY));
	check("open d wronly", open("d", O_WRONLY));
	check("open f O_DIRECTORY", open("f", O_RDONLY | O_DIRECTORY));
	check("symlink loop", symlink("loop", "loop"));
	check("open loop", open("loop", O_RDONLY));
	check("symlink l->f", symlink("f", "l"));
	check("open l O_NOFOLLOW", open("l", O_RDONLY | O_NOFOLLOW));
	check("unlink d", unlink("d"));
	check("rmdir f", rmdir("f"));
	check("mkdir d/e", mkdir("d/e", 0755));
	check("rmdir d", rmdir("d"));
	check("rename d into d/e", rename("d", "d/e/x"));
	check("rename f over d", rename("f", "d"));
	check("rename d over f", rename("d", "f"));
	check("link /dev/null", link("/dev/null", "null"));
	check("link d", link("d", "d2"));
	check("close bad", close(1000));
	check("fchmod bad", fchmod(1000, 0644));
	char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	check("open long name", open(longname, O_RDONLY));
	check("readlink f", (int)readlink("f", longname, 10));
	check("rmdir .", rmdir("."));
	check("rename d d2", rename("d", "d2"));
	check("renameat2 noreplace", (int)syscall(316, AT_FDCWD, "f", AT_FDCWD, "l", 1));
	check("chmod f 0600", chmod("f", 0600));
	check("mkdir priv", mkdir("priv", 0700));
	check("chmod dir 0755", chmod(".", 0755));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(3);
		check("user open f rdonly", open("f", O_RDONLY));
		check("user create in priv", open("priv/x", O_CREAT | O_WRONLY, 0644));
		check("user unlink f", unlink("f"));
		check("user mkdir here", mkdir("u", 0755));
		check("user chmod f", chmod("f", 0644));
		check("user chown f", chown("f", 65534, 65534));
		check("user access f W_OK", access("f", W_OK));
		check("user open /proc/1/environ", open("/proc/1/environ", O_RDONLY) < 0 ? -1 : 0);
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child status %d\n", st);
	return 0;
}
