/* An agent's clock against the coordinator's, NTP style, over the control
 * broker: the coordinator sends t1 (its clock), the agent notes t2 when the
 * request came and t3 when it answers (its clock), the coordinator takes
 * t4 when the answer comes. Of several exchanges the one with the smallest
 * round trip is kept: offset = ((t2 - t1) + (t3 - t4)) / 2, give or take
 * half that round trip. Pure: numbers in, numbers out. */
#ifndef BLAST_DIST_CLOCK_H
#define BLAST_DIST_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define DIST_CLOCK_ROUNDS 8            /* exchanges per agent */
#define DIST_CLOCK_MAX_OFFSET_MS 10.0  /* --max-clock-offset's default */

struct dist_clock {
	unsigned samples;  /* exchanges that came back */
	int64_t offset_ns; /* agent's clock minus the coordinator's, of the best one */
	uint64_t rtt_ns;   /* its round trip, the agent's own time taken out */
};

/* One exchange; kept when its round trip is the smallest yet. Returns
 * false for an impossible one (t4 before t1, or the agent's time taken
 * longer than the whole round trip), which is not counted. */
bool dist_clock_add(struct dist_clock *c, uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4);

/* In ms; the uncertainty is half the round trip. */
double dist_clock_offset_ms(const struct dist_clock *c);
double dist_clock_uncertainty_ms(const struct dist_clock *c);

/* True when the offset, either way, is more than bound_ms. */
bool dist_clock_beyond(const struct dist_clock *c, double bound_ms);

#endif
