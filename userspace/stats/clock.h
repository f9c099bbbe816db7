/* One clock for everything: CLOCK_MONOTONIC in nanoseconds, the clock that
 * io_uring timeouts and bpf_ktime_get_ns() use too. */
#ifndef BLAST_CLOCK_H
#define BLAST_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_USEC 1000ULL

static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* The wall clock (CLOCK_REALTIME), for what other machines must agree on:
 * --start-at, and the seconds a split run's reports are merged by. */
static inline uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

#endif
