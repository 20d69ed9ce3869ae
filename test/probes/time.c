/* Clocks run forward and agree with each other. */
#include "probe.h"
#include <sys/time.h>
#include <time.h>

static double ts(const struct timespec *t) { return t->tv_sec + t->tv_nsec / 1e9; }

int main(void)
{
	struct timespec m1, m2, rt, res, cpu;
	struct timeval tv;
	result("clock_gettime(MONOTONIC)", clock_gettime(CLOCK_MONOTONIC, &m1));
	result("clock_gettime(REALTIME)", clock_gettime(CLOCK_REALTIME, &rt));
	result("gettimeofday", gettimeofday(&tv, NULL));
	time_t now = time(NULL);
	check("realtime-after-2024", rt.tv_sec > 1704067200);
	check("gettimeofday-agrees", tv.tv_sec >= rt.tv_sec - 1 && tv.tv_sec <= rt.tv_sec + 1);
	check("time-agrees", now >= rt.tv_sec - 1 && now <= rt.tv_sec + 1);
	struct timespec nap = {0, 20 * 1000 * 1000};
	result("nanosleep(20ms)", nanosleep(&nap, NULL));
	result("clock_gettime(MONOTONIC) again", clock_gettime(CLOCK_MONOTONIC, &m2));
	double slept = ts(&m2) - ts(&m1);
	check("monotonic-advanced-20ms", slept >= 0.020);
	check("monotonic-not-jumped", slept < 10);
	result("clock_getres(MONOTONIC)", clock_getres(CLOCK_MONOTONIC, &res));
	check("resolution-sane", res.tv_sec == 0 && res.tv_nsec > 0 && res.tv_nsec <= 1000000);
	result("clock_gettime(PROCESS_CPUTIME)", clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu));
	expect_err("clock_gettime(bad clock)", clock_gettime(12345, &cpu));
	return 0;
}
