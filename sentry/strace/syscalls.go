package strace

// Shorthands that make each table row read like the syscall's prototype.
var (
	hex       = argSpec{kind: argHex}
	num       = argSpec{kind: argInt}
	size      = argSpec{kind: argUint}
	fd        = argSpec{kind: argFd}
	dirfd     = argSpec{kind: argDirFd}
	ptr       = argSpec{kind: argPtr}
	path      = argSpec{kind: argPath}
	str       = argSpec{kind: argString}
	outBuf    = argSpec{kind: argOutBuf}
	outStr    = argSpec{kind: argOutString}
	outFds    = argSpec{kind: argOutFdPair}
	argv      = argSpec{kind: argStringArray}
	oflags    = argSpec{kind: argOpenFlags}
	mode      = argSpec{kind: argMode}
	prot      = argSpec{kind: argMmapProt}
	mflags    = argSpec{kind: argMmapFlags}
	mremapF   = argSpec{kind: argMremapFlags}
	advice    = argSpec{kind: argMadvise}
	atflags   = argSpec{kind: argAtFlags}
	amode     = argSpec{kind: argAccessMode}
	whence    = argSpec{kind: argWhence}
	fcntlCmd  = argSpec{kind: argFcntlCmd}
	sig       = argSpec{kind: argSignal}
	sigHow    = argSpec{kind: argSigHow}
	clockID   = argSpec{kind: argClockID}
	futexOp   = argSpec{kind: argFutexOp}
	archCode  = argSpec{kind: argArchPrctl}
	cloneF    = argSpec{kind: argCloneFlags}
	waitOpts  = argSpec{kind: argWaitOptions}
	domain    = argSpec{kind: argSocketDomain}
	sockType  = argSpec{kind: argSocketType}
	rlimit    = argSpec{kind: argRlimit}
	prctlOpt  = argSpec{kind: argPrctl}
	ptraceReq = argSpec{kind: argPtrace}
	grndF     = argSpec{kind: argGetrandomFlags}
	sockProto = argSpec{kind: argSockProtocol}
	sockLen   = argSpec{kind: argSockLen}
	optLenP   = argSpec{kind: argOptLenPtr}
	optLevel  = argSpec{kind: argSockoptLevel}
	setOpt    = argSpec{kind: argSetsockoptName}
	getOpt    = argSpec{kind: argGetsockoptName}
	inMsg     = argSpec{kind: argInMsghdr}
	outMsg    = argSpec{kind: argOutMsghdr}
	msgF      = argSpec{kind: argMsgFlags}
	shutHow   = argSpec{kind: argShutdownHow}
	acceptF   = argSpec{kind: argAcceptFlags}
)

// inBuf is a buffer read at entry whose length is argument lenArg.
func inBuf(lenArg int) argSpec { return argSpec{kind: argInBuf, lenArg: lenArg} }

// inIovec and outIovec are iovec arrays whose count is argument countArg.
func inIovec(countArg int) argSpec  { return argSpec{kind: argInIovec, lenArg: countArg} }
func outIovec(countArg int) argSpec { return argSpec{kind: argOutIovec, lenArg: countArg} }

// sockaddr is an address read at entry whose length is argument lenArg;
// outSockaddr is one the syscall fills in, whose length argument lenPtrArg
// points to, and addrLen is that pointer, measuring argument addrArg.
func sockaddr(lenArg int) argSpec       { return argSpec{kind: argSockaddr, lenArg: lenArg} }
func outSockaddr(lenPtrArg int) argSpec { return argSpec{kind: argOutSockaddr, lenArg: lenPtrArg} }
func addrLen(addrArg int) argSpec       { return argSpec{kind: argSockLenPtr, lenArg: addrArg} }

// optVal and outOptVal are setsockopt's and getsockopt's values; their
// length is argument lenArg, or is where it points.
func optVal(lenArg int) argSpec       { return argSpec{kind: argSockoptVal, lenArg: lenArg} }
func outOptVal(lenPtrArg int) argSpec { return argSpec{kind: argOutSockoptVal, lenArg: lenPtrArg} }

func sc(args ...argSpec) syscallInfo     { return syscallInfo{args: args} }
func scAddr(args ...argSpec) syscallInfo { return syscallInfo{args: args, ret: retHex} }
func scExit(args ...argSpec) syscallInfo { return syscallInfo{args: args, ret: retNoReturn} }

// syscallInfos decodes syscalls by name, so the table is the same for every
// architecture whose syscalls share a name. A syscall missing here prints
// six raw hex arguments.
var syscallInfos = map[string]syscallInfo{
	// Files and I/O.
	"read":            sc(fd, outBuf, size),
	"write":           sc(fd, inBuf(2), size),
	"pread64":         sc(fd, outBuf, size, num),
	"pwrite64":        sc(fd, inBuf(2), size, num),
	"readv":           sc(fd, outIovec(2), num),
	"writev":          sc(fd, inIovec(2), num),
	"preadv":          sc(fd, outIovec(2), num, num),
	"pwritev":         sc(fd, inIovec(2), num, num),
	"open":            sc(path, oflags, mode),
	"openat":          sc(dirfd, path, oflags, mode),
	"openat2":         sc(dirfd, path, ptr, size),
	"creat":           sc(path, mode),
	"close":           sc(fd),
	"close_range":     sc(fd, fd, hex),
	"lseek":           sc(fd, num, whence),
	"stat":            sc(path, ptr),
	"lstat":           sc(path, ptr),
	"fstat":           sc(fd, ptr),
	"newfstatat":      sc(dirfd, path, ptr, atflags),
	"statx":           sc(dirfd, path, atflags, hex, ptr),
	"statfs":          sc(path, ptr),
	"fstatfs":         sc(fd, ptr),
	"access":          sc(path, amode),
	"faccessat":       sc(dirfd, path, amode),
	"faccessat2":      sc(dirfd, path, amode, atflags),
	"getdents":        sc(fd, ptr, size),
	"getdents64":      sc(fd, ptr, size),
	"getcwd":          sc(outStr, size),
	"chdir":           sc(path),
	"fchdir":          sc(fd),
	"mkdir":           sc(path, mode),
	"mkdirat":         sc(dirfd, path, mode),
	"rmdir":           sc(path),
	"unlink":          sc(path),
	"unlinkat":        sc(dirfd, path, atflags),
	"rename":          sc(path, path),
	"renameat":        sc(dirfd, path, dirfd, path),
	"renameat2":       sc(dirfd, path, dirfd, path, hex),
	"link":            sc(path, path),
	"linkat":          sc(dirfd, path, dirfd, path, atflags),
	"symlink":         sc(path, path),
	"symlinkat":       sc(path, dirfd, path),
	"readlink":        sc(path, outBuf, size),
	"readlinkat":      sc(dirfd, path, outBuf, size),
	"chmod":           sc(path, mode),
	"fchmod":          sc(fd, mode),
	"fchmodat":        sc(dirfd, path, mode),
	"chown":           sc(path, num, num),
	"fchown":          sc(fd, num, num),
	"lchown":          sc(path, num, num),
	"fchownat":        sc(dirfd, path, num, num, atflags),
	"umask":           sc(mode),
	"truncate":        sc(path, num),
	"ftruncate":       sc(fd, num),
	"fsync":           sc(fd),
	"fdatasync":       sc(fd),
	"flock":           sc(fd, num),
	"utimensat":       sc(dirfd, path, ptr, atflags),
	"dup":             sc(fd),
	"dup2":            sc(fd, fd),
	"dup3":            sc(fd, fd, oflags),
	"fcntl":           sc(fd, fcntlCmd, hex),
	"ioctl":           sc(fd, hex, hex),
	"pipe":            sc(outFds),
	"pipe2":           sc(outFds, oflags),
	"sendfile":        sc(fd, fd, ptr, size),
	"copy_file_range": sc(fd, ptr, fd, ptr, size, hex),
	"fadvise64":       sc(fd, num, num, num),
	"fallocate":       sc(fd, hex, num, num),
	"memfd_create":    sc(str, hex),
	"eventfd2":        sc(size, hex),
	"poll":            sc(ptr, size, num),
	"ppoll":           sc(ptr, size, ptr, ptr, size),
	"select":          sc(num, ptr, ptr, ptr, ptr),
	"pselect6":        sc(num, ptr, ptr, ptr, ptr, ptr),
	"epoll_create1":   sc(hex),
	"epoll_ctl":       sc(fd, num, fd, ptr),
	"epoll_wait":      sc(fd, ptr, num, num),
	"epoll_pwait":     sc(fd, ptr, num, num, ptr, size),

	// Memory.
	"mmap":     scAddr(ptr, size, prot, mflags, fd, hex),
	"munmap":   sc(ptr, size),
	"mprotect": sc(ptr, size, prot),
	"mremap":   scAddr(ptr, size, size, mremapF, ptr),
	"madvise":  sc(ptr, size, advice),
	"msync":    sc(ptr, size, hex),
	"mincore":  sc(ptr, size, ptr),
	"brk":      scAddr(ptr),

	// Processes and threads.
	"execve":            sc(path, argv, ptr),
	"execveat":          sc(dirfd, path, argv, ptr, atflags),
	"clone":             sc(cloneF, ptr, ptr, ptr, hex),
	"clone3":            sc(ptr, size),
	"fork":              sc(),
	"vfork":             sc(),
	"exit":              scExit(num),
	"exit_group":        scExit(num),
	"wait4":             sc(num, ptr, waitOpts, ptr),
	"waitid":            sc(num, num, ptr, waitOpts, ptr),
	"getpid":            sc(),
	"getppid":           sc(),
	"gettid":            sc(),
	"getuid":            sc(),
	"geteuid":           sc(),
	"getgid":            sc(),
	"getegid":           sc(),
	"getresuid":         sc(ptr, ptr, ptr),
	"getresgid":         sc(ptr, ptr, ptr),
	"setuid":            sc(num),
	"setgid":            sc(num),
	"getgroups":         sc(num, ptr),
	"setgroups":         sc(num, ptr),
	"getpgrp":           sc(),
	"getpgid":           sc(num),
	"setpgid":           sc(num, num),
	"getsid":            sc(num),
	"setsid":            sc(),
	"set_tid_address":   sc(ptr),
	"set_robust_list":   sc(ptr, size),
	"get_robust_list":   sc(num, ptr, ptr),
	"rseq":              sc(ptr, size, hex, hex),
	"arch_prctl":        sc(archCode, hex),
	"prctl":             sc(prctlOpt, hex, hex, hex, hex),
	"futex":             sc(ptr, futexOp, num, ptr, ptr, num),
	"sched_yield":       sc(),
	"sched_getaffinity": sc(num, size, ptr),
	"getrlimit":         sc(rlimit, ptr),
	"setrlimit":         sc(rlimit, ptr),
	"prlimit64":         sc(num, rlimit, ptr, ptr),
	"getrusage":         sc(num, ptr),
	"ptrace":            sc(ptraceReq, num, ptr, ptr),

	// Signals.
	"rt_sigaction":   sc(sig, ptr, ptr, size),
	"rt_sigprocmask": sc(sigHow, ptr, ptr, size),
	"rt_sigreturn":   sc(),
	"rt_sigsuspend":  sc(ptr, size),
	"sigaltstack":    sc(ptr, ptr),
	"kill":           sc(num, sig),
	"tkill":          sc(num, sig),
	"tgkill":         sc(num, num, sig),
	"pause":          sc(),

	// Time.
	"nanosleep":       sc(ptr, ptr),
	"clock_nanosleep": sc(clockID, hex, ptr, ptr),
	"clock_gettime":   sc(clockID, ptr),
	"clock_getres":    sc(clockID, ptr),
	"gettimeofday":    sc(ptr, ptr),
	"time":            sc(ptr),
	"times":           sc(ptr),
	"alarm":           sc(size),
	"setitimer":       sc(num, ptr, ptr),
	"getitimer":       sc(num, ptr),

	// System.
	"uname":         sc(ptr),
	"sysinfo":       sc(ptr),
	"getrandom":     sc(outBuf, size, grndF),
	"sethostname":   sc(inBuf(1), size),
	"setdomainname": sc(inBuf(1), size),
	"mount":         sc(str, path, str, hex, ptr),
	"umount2":       sc(path, hex),
	"pivot_root":    sc(path, path),
	"chroot":        sc(path),
	"reboot":        sc(hex, hex, hex, ptr),
	"seccomp":       sc(size, hex, ptr),

	// Sockets.
	"socket":      sc(domain, sockType, sockProto),
	"socketpair":  sc(domain, sockType, sockProto, outFds),
	"connect":     sc(fd, sockaddr(2), sockLen),
	"bind":        sc(fd, sockaddr(2), sockLen),
	"listen":      sc(fd, num),
	"accept":      sc(fd, outSockaddr(2), addrLen(1)),
	"accept4":     sc(fd, outSockaddr(2), addrLen(1), acceptF),
	"sendto":      sc(fd, inBuf(2), size, msgF, sockaddr(5), sockLen),
	"recvfrom":    sc(fd, outBuf, size, msgF, outSockaddr(5), addrLen(4)),
	"sendmsg":     sc(fd, inMsg, msgF),
	"recvmsg":     sc(fd, outMsg, msgF),
	"shutdown":    sc(fd, shutHow),
	"getsockname": sc(fd, outSockaddr(2), addrLen(1)),
	"getpeername": sc(fd, outSockaddr(2), addrLen(1)),
	"setsockopt":  sc(fd, optLevel, setOpt, optVal(4), sockLen),
	"getsockopt":  sc(fd, optLevel, getOpt, outOptVal(4), optLenP),
}
