/* What one timed wake costs this machine, with nothing else to do: N
 * sleeps of a given length in io_uring_submit_and_wait_timeout (as blast's
 * loop sleeps) or in nanosleep, and the CPU they used per wake. A paced
 * sender pays at least this per wake, whatever it sends (docs/pacing.md).
 *
 * usage: wakecost [--wait-us N] [--count N] [--nanosleep] */
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double cpu_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	long wait_us = 250, count = 8000;
	int nano = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--wait-us") && i + 1 < argc)
			wait_us = atol(argv[++i]);
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = atol(argv[++i]);
		else if (!strcmp(argv[i], "--nanosleep"))
			nano = 1;
		else {
			fprintf(stderr, "usage: wakecost [--wait-us N] [--count N] [--nanosleep]\n");
			return 2;
		}
	}
	if (wait_us <= 0 || wait_us >= 1000000 || count <= 0) {
		fprintf(stderr, "wakecost: --wait-us 1 to 999999, --count at least 1\n");
		return 2;
	}

	struct io_uring ring;
	struct io_uring_params p = { .flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN };
	if (!nano && io_uring_queue_init_params(8, &ring, &p) < 0) {
		p.flags = 0; /* an older kernel: the plain ring */
		if (io_uring_queue_init_params(8, &ring, &p) < 0) {
			fprintf(stderr, "wakecost: io_uring_queue_init failed\n");
			return 1;
		}
	}
	for (long i = 0; i < count; i++) {
		if (nano) {
			struct timespec ts = { 0, wait_us * 1000 };
			nanosleep(&ts, NULL);
		} else {
			struct __kernel_timespec ts = { 0, wait_us * 1000 };
			struct io_uring_cqe *cqe;
			io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, NULL);
		}
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double u = cpu_s(&ru.ru_utime), s = cpu_s(&ru.ru_stime);
	printf("wait_us=%ld wakes=%ld via=%s user_s=%.3f sys_s=%.3f cpu_us_per_wake=%.2f\n", wait_us, count,
	       nano ? "nanosleep" : "io_uring", u, s, (u + s) * 1e6 / (double)count);
	return 0;
}
