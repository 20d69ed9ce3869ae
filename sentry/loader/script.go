package loader

import (
	"bytes"
	"errors"
	"io"

	"github.com/runsc-lite/runsc-lite/abi/linux/errno"
)

// binprmBufSize is BINPRM_BUF_SIZE from include/uapi/linux/binfmts.h: how
// much of a file the binfmt handlers look at to recognize it, and the longest
// `#!` line Linux honours.
const binprmBufSize = 256

// readHead fills buf with the start of f, zero-padding a short file as
// fs/exec.c:prepare_binprm does.
func readHead(f File, buf []byte) error {
	clear(buf)
	_, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return toErrno(err, errno.EIO)
	}
	return nil
}

// isScript reports whether head starts with "#!".
func isScript(head []byte) bool {
	return len(head) >= 2 && head[0] == '#' && head[1] == '!'
}

// parseShebang parses the `#!` line in head (binprmBufSize bytes, zero padded)
// into the interpreter path and its optional single argument, following
// fs/binfmt_script.c:load_script byte for byte:
//
//   - The line ends at the first '\n' before any NUL. Without one, the
//     interpreter path must be followed by a space, tab or NUL within the
//     buffer (else it may be truncated: ENOEXEC), and the line is cut at the
//     buffer's last byte; a truncated argument is fine.
//   - Trailing spaces and tabs are trimmed; leading ones are skipped.
//   - The interpreter ends at the first space, tab or NUL; whatever follows,
//     minus leading blanks, is one argument, inner blanks included. The
//     argument may be empty (a NUL right after the blanks) and still counts.
func parseShebang(head []byte) (interp string, args []string, err error) {
	// Work on indexes into head; last is the index of buf_end, the buffer's
	// last byte, and ranges below are inclusive of their end as in Linux.
	last := len(head) - 1
	var iEnd int
	if nl := strnchr(head, '\n'); nl >= 0 {
		iEnd = nl
	} else {
		start := nextNonSpacetab(head, 2, last)
		if start < 0 {
			return "", nil, errno.ENOEXEC // Entire buffer is blanks.
		}
		if nextTerminator(head, start, last) < 0 {
			return "", nil, errno.ENOEXEC // Interpreter path may be truncated.
		}
		iEnd = last
	}
	for iEnd > 2 && spacetab(head[iEnd-1]) {
		iEnd--
	}
	iName := nextNonSpacetab(head, 2, iEnd)
	if iName < 0 || iName == iEnd {
		return "", nil, errno.ENOEXEC // No interpreter name.
	}
	// Linux writes NULs at i_end and (with an argument) at i_sep, then uses
	// both as C strings; cstr reproduces that by stopping at a NUL.
	nameEnd := iEnd
	iSep := nextTerminator(head, iName, iEnd)
	if iSep >= 0 && head[iSep] != 0 {
		if iArg := nextNonSpacetab(head, iSep, iEnd); iArg >= 0 {
			args = []string{cstr(head[iArg:iEnd])}
			nameEnd = iSep
		}
	}
	if iSep >= 0 && iSep < nameEnd {
		nameEnd = iSep
	}
	return cstr(head[iName:nameEnd]), args, nil
}

// scriptArgv rewrites argv for a script as fs/binfmt_script.c:load_script
// does: argv[0] is replaced by the script's path, preceded by the
// interpreter and its optional argument.
func scriptArgv(argv []string, interp string, interpArgs []string, script string) []string {
	out := make([]string, 0, len(argv)+1+len(interpArgs))
	out = append(out, interp)
	out = append(out, interpArgs...)
	out = append(out, script)
	if len(argv) > 1 {
		out = append(out, argv[1:]...)
	}
	return out
}

// spacetab is fs/binfmt_script.c:spacetab.
func spacetab(c byte) bool { return c == ' ' || c == '\t' }

// nextNonSpacetab is fs/binfmt_script.c:next_non_spacetab over the inclusive
// range [first, last]; -1 means none.
func nextNonSpacetab(b []byte, first, last int) int {
	for ; first <= last && first < len(b); first++ {
		if !spacetab(b[first]) {
			return first
		}
	}
	return -1
}

// nextTerminator is fs/binfmt_script.c:next_terminator over the inclusive
// range [first, last]; -1 means none.
func nextTerminator(b []byte, first, last int) int {
	for ; first <= last && first < len(b); first++ {
		if spacetab(b[first]) || b[first] == 0 {
			return first
		}
	}
	return -1
}

// strnchr is lib/string.c:strnchr: the index of the first c before any NUL,
// or -1.
func strnchr(b []byte, c byte) int {
	for i, x := range b {
		if x == 0 {
			return -1
		}
		if x == c {
			return i
		}
	}
	return -1
}

// cstr returns b up to its first NUL.
func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
