package linux

// Terminal ioctl(2) requests beyond those in ioctl.go, from
// <asm-generic/ioctls.h>.
const (
	TCSBRK      = 0x5409
	TCXONC      = 0x540a
	TCFLSH      = 0x540b
	TIOCEXCL    = 0x540c
	TIOCNXCL    = 0x540d
	TIOCSTI     = 0x5412
	TIOCGETD    = 0x5424
	TIOCSETD    = 0x5423
	TIOCPKT     = 0x5420
	TCSBRKP     = 0x5425
	TIOCSPTLCK  = 0x40045431
	TIOCGPTLCK  = 0x80045439
	TIOCGPTPEER = 0x5441
	TIOCVHANGUP = 0x5437
)

// TCFLSH arguments, from <asm-generic/termbits-common.h>.
const (
	TCIFLUSH  = 0
	TCOFLUSH  = 1
	TCIOFLUSH = 2
)

// Input flags (c_iflag), from <asm-generic/termbits.h>.
const (
	IGNBRK  = 0o1
	BRKINT  = 0o2
	IGNPAR  = 0o4
	PARMRK  = 0o10
	INPCK   = 0o20
	ISTRIP  = 0o40
	INLCR   = 0o100
	IGNCR   = 0o200
	ICRNL   = 0o400
	IUCLC   = 0o1000
	IXON    = 0o2000
	IXANY   = 0o4000
	IXOFF   = 0o10000
	IMAXBEL = 0o20000
	IUTF8   = 0o40000
)

// Output flags (c_oflag).
const (
	OPOST  = 0o1
	OLCUC  = 0o2
	ONLCR  = 0o4
	OCRNL  = 0o10
	ONOCR  = 0o20
	ONLRET = 0o40
)

// Control flags (c_cflag).
const (
	B38400 = 0o17
	CS8    = 0o60
	CREAD  = 0o200
	HUPCL  = 0o2000
)

// Local flags (c_lflag).
const (
	ISIG    = 0o1
	ICANON  = 0o2
	XCASE   = 0o4
	ECHO    = 0o10
	ECHOE   = 0o20
	ECHOK   = 0o40
	ECHONL  = 0o100
	NOFLSH  = 0o200
	TOSTOP  = 0o400
	ECHOCTL = 0o1000
	ECHOPRT = 0o2000
	ECHOKE  = 0o4000
	FLUSHO  = 0o10000
	PENDIN  = 0o40000
	IEXTEN  = 0o100000
)

// Indices into c_cc.
const (
	VINTR    = 0
	VQUIT    = 1
	VERASE   = 2
	VKILL    = 3
	VEOF     = 4
	VTIME    = 5
	VMIN     = 6
	VSWTC    = 7
	VSTART   = 8
	VSTOP    = 9
	VSUSP    = 10
	VEOL     = 11
	VREPRINT = 12
	VDISCARD = 13
	VWERASE  = 14
	VLNEXT   = 15
	VEOL2    = 16
)

// Device numbers of pseudo-terminals, from <linux/major.h>.
const (
	TTYAUX_MAJOR           = 5
	PTMX_MINOR             = 2
	UNIX98_PTY_SLAVE_MAJOR = 136
)

// DefaultSlaveTermios is a new pseudo-terminal slave's termios:
// drivers/tty/tty_io.c:tty_std_termios with the pty driver's c_cflag
// (drivers/tty/pty.c:unix98_pty_init).
func DefaultSlaveTermios() Termios {
	t := Termios{
		InputFlags:   ICRNL | IXON,
		OutputFlags:  OPOST | ONLCR,
		ControlFlags: B38400 | CS8 | CREAD,
		LocalFlags:   ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
	}
	// INIT_C_CC from <linux/tty.h>.
	copy(t.ControlCharacters[:], []byte{
		VINTR: 0o3, VQUIT: 0o34, VERASE: 0o177, VKILL: 0o25, VEOF: 0o4, VTIME: 0, VMIN: 1,
		VSWTC: 0, VSTART: 0o21, VSTOP: 0o23, VSUSP: 0o32, VEOL: 0, VREPRINT: 0o22,
		VDISCARD: 0o17, VWERASE: 0o27, VLNEXT: 0o26, VEOL2: 0,
	})
	return t
}
