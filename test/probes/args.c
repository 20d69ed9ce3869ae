/* argv, envp and auxv as the loader lays them out on the initial stack. */
#include "probe.h"
#include <sys/auxv.h>

int main(int argc, char **argv, char **envp)
{
	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=%s\n", i, argv[i]);
	printf("argv[argc]=%s\n", argv[argc] == NULL ? "NULL" : "non-NULL");
	/* The ABI puts envp right after argv's NULL. */
	printf("envp-follows-argv=%s\n", envp == argv + argc + 1 ? "yes" : "no");
	const char *v = getenv("PROBE_ENV");
	printf("PROBE_ENV=%s\n", v ? v : "(unset)");
	unsigned long rnd = getauxval(AT_RANDOM);
	printf("AT_RANDOM=%s\n", rnd ? "non-NULL" : "NULL");
	if (rnd) {
		/* 16 random bytes: all zero is as good as missing. */
		const unsigned char *p = (const unsigned char *)rnd;
		int nonzero = 0;
		for (int i = 0; i < 16; i++)
			nonzero |= p[i];
		printf("AT_RANDOM-bytes=%s\n", nonzero ? "random" : "zero");
	}
	printf("AT_PAGESZ=%lu\n", getauxval(AT_PAGESZ));
	printf("AT_PHDR=%s\n", getauxval(AT_PHDR) ? "non-NULL" : "NULL");
	printf("AT_ENTRY=%s\n", getauxval(AT_ENTRY) ? "non-NULL" : "NULL");
	printf("AT_SECURE=%lu\n", getauxval(AT_SECURE));
	const char *fn = (const char *)getauxval(AT_EXECFN);
	printf("AT_EXECFN=%s\n", fn ? fn : "NULL");
	return 0;
}
