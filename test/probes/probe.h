/* Shared by the conformance probes. A probe prints one line per check, with
 * values that must be identical natively and in the sandbox: results, errno
 * names, "ok"; never addresses, host pids or timings. The runner compares
 * the output of a native run and a sandbox run line by line.
 *
 * Directives read by test/runner from a probe's source:
 *   // sandbox-divergence: WHY       a documented difference from native
 *   // sandbox-expect: LINE          a line starting with LINE's "key=" is
 *                                    LINE in the sandbox; the native line is
 *                                    not compared
 */
#ifndef PROBE_H
#define PROBE_H
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* errname is the symbolic name of e ("ENOENT"), so that output does not
 * depend on the libc's message wording. */
static inline const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

/* result prints "what: ok" or "what: ENAME" for a syscall-style result. */
static inline void result(const char *what, long r)
{
	if (r < 0)
		printf("%s: %s\n", what, errname(errno));
	else
		printf("%s: ok\n", what);
}

/* value prints "what: N" or "what: ENAME". */
static inline void value(const char *what, long r)
{
	if (r < 0)
		printf("%s: %s\n", what, errname(errno));
	else
		printf("%s: %ld\n", what, r);
}

/* check prints "what: ok" or "what: FAIL" for a boolean. */
static inline void check(const char *what, int cond)
{
	printf("%s: %s\n", what, cond ? "ok" : "FAIL");
}

/* expect_err prints "what: ENAME" for a call that must fail, or
 * "what: succeeded" if it did not. */
static inline void expect_err(const char *what, long r)
{
	if (r < 0)
		printf("%s: %s\n", what, errname(errno));
	else
		printf("%s: succeeded (%ld)\n", what, r);
}
#endif
