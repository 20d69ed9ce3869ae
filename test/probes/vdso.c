/* The vDSO: announced in AT_SYSINFO_EHDR, exporting the clock calls at
 * version LINUX_2.6, agreeing with the real syscalls (interleaved readings
 * never go back, across the sandbox's clock updates too), and its data page
 * not writable. */
#include "probe.h"
#include <elf.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static uintptr_t vdso_base;

/* vdso_sym finds name in the vDSO's dynamic symbol table (DT_HASH's chain
 * count gives the table's size), or returns NULL. */
static void *vdso_sym(const char *name)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)vdso_base;
	Elf64_Phdr *ph = (Elf64_Phdr *)(vdso_base + eh->e_phoff);
	uintptr_t load = 0;
	Elf64_Dyn *dyn = NULL;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !load)
			load = vdso_base + ph[i].p_offset - ph[i].p_vaddr;
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = (Elf64_Dyn *)(vdso_base + ph[i].p_offset);
	}
	if (!dyn)
		return NULL;
	Elf64_Sym *sym = NULL;
	const char *str = NULL;
	uint32_t *hash = NULL;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		if (dyn->d_tag == DT_SYMTAB)
			sym = (Elf64_Sym *)(load + dyn->d_un.d_ptr);
		if (dyn->d_tag == DT_STRTAB)
			str = (const char *)(load + dyn->d_un.d_ptr);
		if (dyn->d_tag == DT_HASH)
			hash = (uint32_t *)(load + dyn->d_un.d_ptr);
	}
	if (!sym || !str || !hash)
		return NULL;
	for (uint32_t i = 0; i < hash[1]; i++)
		if (sym[i].st_shndx != SHN_UNDEF && strcmp(str + sym[i].st_name, name) == 0)
			return (void *)(load + sym[i].st_value);
	return NULL;
}

static int64_t ns(const struct timespec *t) { return t->tv_sec * 1000000000LL + t->tv_nsec; }

typedef int (*clock_fn)(clockid_t, struct timespec *);

/* interleave alternates vDSO and syscall readings of clock and reports
 * whether any reading was earlier than the one before. */
static int interleave(clock_fn vclock, clockid_t clock, int n)
{
	struct timespec a, b;
	int64_t prev = 0;
	int ok = 1;
	for (int i = 0; i < n; i++) {
		vclock(clock, &a);
		syscall(SYS_clock_gettime, clock, &b);
		if (ns(&a) < prev || ns(&b) < ns(&a))
			ok = 0;
		prev = ns(&b);
	}
	return ok;
}

int main(void)
{
	vdso_base = getauxval(AT_SYSINFO_EHDR);
	check("AT_SYSINFO_EHDR", vdso_base != 0);
	if (!vdso_base)
		return 1;
	check("elf-magic", memcmp((void *)vdso_base, ELFMAG, SELFMAG) == 0);
	const char *syms[] = {"__vdso_clock_gettime", "__vdso_gettimeofday", "__vdso_time",
			      "__vdso_getcpu", "clock_gettime", "gettimeofday", "time", "getcpu"};
	for (unsigned i = 0; i < sizeof syms / sizeof *syms; i++)
		check(syms[i], vdso_sym(syms[i]) != NULL);

	clock_fn vclock = (clock_fn)vdso_sym("__vdso_clock_gettime");
	int (*vtod)(struct timeval *, void *) = (int (*)(struct timeval *, void *))vdso_sym("__vdso_gettimeofday");
	time_t (*vtime)(time_t *) = (time_t(*)(time_t *))vdso_sym("__vdso_time");
	long (*vgetcpu)(unsigned *, unsigned *, void *) =
		(long (*)(unsigned *, unsigned *, void *))vdso_sym("__vdso_getcpu");
	if (!vclock || !vtod || !vtime || !vgetcpu)
		return 1;

	/* Long enough to span the sandbox's first clock updates (5 ms, then
	 * 25 ms, 125 ms from its start). */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int mono = 1, boot = 1, rounds = 0;
	do {
		mono &= interleave(vclock, CLOCK_MONOTONIC, 1000);
		boot &= interleave(vclock, CLOCK_BOOTTIME, 100);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		rounds++;
	} while (ns(&t1) - ns(&t0) < 300000000LL || rounds < 3);
	check("monotonic-vdso-and-syscall-never-back", mono);
	check("boottime-vdso-and-syscall-never-back", boot);

	struct timespec rv, rs;
	vclock(CLOCK_REALTIME, &rv);
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &rs);
	int64_t d = ns(&rs) - ns(&rv);
	check("realtime-agrees-within-10ms", d >= 0 && d < 10000000);
	struct timespec cv, cs;
	vclock(CLOCK_MONOTONIC_COARSE, &cv);
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC_COARSE, &cs);
	d = ns(&cs) - ns(&cv);
	check("monotonic-coarse-agrees-within-10ms", d > -10000000 && d < 10000000);

	struct timeval tv;
	check("gettimeofday-ok", vtod(&tv, NULL) == 0);
	time_t now = vtime(NULL), now2 = 0;
	vtime(&now2);
	check("time-agrees", now >= tv.tv_sec && now - tv.tv_sec <= 1 && now2 >= now && now2 - now <= 1);
	/* A clock the vDSO doesn't serve goes to the syscall. */
	struct timespec cpu;
	check("process-cputime-via-vdso", vclock(CLOCK_PROCESS_CPUTIME_ID, &cpu) == 0 && ns(&cpu) > 0);
	/* The vDSO returns the raw syscall result: -errno, not -1. */
	printf("bad-clock-via-vdso: %d\n", vclock(12345, &cpu));

	unsigned c = 99, node = 99;
	check("getcpu", vgetcpu(&c, &node, NULL) == 0 && c < (unsigned)sysconf(_SC_NPROCESSORS_CONF) && node == 0);

	/* [vvar] is the page(s) before the image; none may become writable. */
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	uintptr_t vvar = 0, vdso = 0;
	while (f && fgets(line, sizeof line, f)) {
		uintptr_t lo;
		if (sscanf(line, "%lx-", &lo) != 1)
			continue;
		if (strstr(line, "[vvar]") && !vvar)
			vvar = lo;
		if (strstr(line, "[vdso]"))
			vdso = lo;
	}
	if (f)
		fclose(f);
	check("maps-vdso-at-auxv", vdso == vdso_base);
	check("maps-vvar-below-vdso", vvar && vvar < vdso);
	expect_err("mprotect(vvar, RW)", mprotect((void *)vvar, 4096, PROT_READ | PROT_WRITE));
	return 0;
}
