package linux

import "encoding/binary"

// ioctl(2) requests, from <asm-generic/ioctls.h>.
const (
	TCGETS     = 0x5401
	TCSETS     = 0x5402
	TCSETSW    = 0x5403
	TCSETSF    = 0x5404
	TIOCSCTTY  = 0x540e
	TIOCGPGRP  = 0x540f
	TIOCSPGRP  = 0x5410
	TIOCOUTQ   = 0x5411
	TIOCGWINSZ = 0x5413
	TIOCSWINSZ = 0x5414
	FIONREAD   = 0x541b
	TIOCINQ    = FIONREAD
	FIONBIO    = 0x5421
	TIOCNOTTY  = 0x5422
	TIOCGSID   = 0x5429
	TIOCGPTN   = 0x80045430
	FIONCLEX   = 0x5450
	FIOCLEX    = 0x5451
	FIOASYNC   = 0x5452
)

// NCCS is the number of control characters in the kernel's struct termios.
const NCCS = 19

// SizeofTermios is the size of struct termios from <asm-generic/termbits.h>
// (the layout TCGETS uses, not glibc's larger one).
const SizeofTermios = 4*4 + 1 + NCCS

// Termios is the kernel's struct termios.
type Termios struct {
	InputFlags, OutputFlags, ControlFlags, LocalFlags uint32
	LineDiscipline                                    uint8
	ControlCharacters                                 [NCCS]uint8
}

// MarshalBytes encodes t into dst, which must be SizeofTermios bytes long.
func (t *Termios) MarshalBytes(dst []byte) {
	le := binary.LittleEndian
	le.PutUint32(dst[0:], t.InputFlags)
	le.PutUint32(dst[4:], t.OutputFlags)
	le.PutUint32(dst[8:], t.ControlFlags)
	le.PutUint32(dst[12:], t.LocalFlags)
	dst[16] = t.LineDiscipline
	copy(dst[17:], t.ControlCharacters[:])
}

// UnmarshalBytes decodes t from src, which must be SizeofTermios bytes long.
func (t *Termios) UnmarshalBytes(src []byte) {
	le := binary.LittleEndian
	t.InputFlags = le.Uint32(src[0:])
	t.OutputFlags = le.Uint32(src[4:])
	t.ControlFlags = le.Uint32(src[8:])
	t.LocalFlags = le.Uint32(src[12:])
	t.LineDiscipline = src[16]
	copy(t.ControlCharacters[:], src[17:])
}

// SizeofWinsize is the size of struct winsize.
const SizeofWinsize = 8

// Winsize is struct winsize from <asm-generic/termios.h>.
type Winsize struct {
	Row, Col, Xpixel, Ypixel uint16
}

// MarshalBytes encodes w into dst, which must be SizeofWinsize bytes long.
func (w *Winsize) MarshalBytes(dst []byte) {
	le := binary.LittleEndian
	le.PutUint16(dst[0:], w.Row)
	le.PutUint16(dst[2:], w.Col)
	le.PutUint16(dst[4:], w.Xpixel)
	le.PutUint16(dst[6:], w.Ypixel)
}

// UnmarshalBytes decodes w from src, which must be SizeofWinsize bytes long.
func (w *Winsize) UnmarshalBytes(src []byte) {
	le := binary.LittleEndian
	w.Row = le.Uint16(src[0:])
	w.Col = le.Uint16(src[2:])
	w.Xpixel = le.Uint16(src[4:])
	w.Ypixel = le.Uint16(src[6:])
}
