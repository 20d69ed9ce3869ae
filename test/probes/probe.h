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

/* Sections. A probe with several parts names each with section(): with no
 * arguments every section runs; "-name" arguments leave sections out, and
 * plain "name" arguments run only those sections. The runner uses this to
 * keep a part that hits a known sandbox bug out of the main comparison.
 * Code outside any section always runs, and a section inside another runs
 * only if the outer one does: name both. */
static int probe_argc;
static char **probe_argv;

static inline void sections_init(int argc, char **argv)
{
	probe_argc = argc;
	probe_argv = argv;
}

static inline int section(const char *name)
{
	int only = 0;
	for (int i = 1; i < probe_argc; i++) {
		const char *a = probe_argv[i];
		if (a[0] == '-' && strcmp(a + 1, name) == 0)
			return 0;
		if (a[0] != '-') {
			only = 1;
			if (strcmp(a, name) == 0)
				return 1;
		}
	}
	return !only;
}
#endif
