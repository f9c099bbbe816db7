/* An agent's clock offset (see clock.h). */
#include "dist/clock.h"

bool dist_clock_add(struct dist_clock *c, uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4)
{
	if (t4 < t1 || t3 < t2 || t3 - t2 > t4 - t1)
		return false;
	uint64_t rtt = (t4 - t1) - (t3 - t2);
	/* Differences first: wall-clock ns since the epoch do not fit twice in int64. */
	int64_t offset = ((int64_t)(t2 - t1) + (int64_t)(t3 - t4)) / 2;

	if (!c->samples || rtt < c->rtt_ns) {
		c->rtt_ns = rtt;
		c->offset_ns = offset;
	}
	c->samples++;
	return true;
}

double dist_clock_offset_ms(const struct dist_clock *c)
{
	return (double)c->offset_ns / 1e6;
}

double dist_clock_uncertainty_ms(const struct dist_clock *c)
{
	return (double)c->rtt_ns / 2e6;
}

bool dist_clock_beyond(const struct dist_clock *c, double bound_ms)
{
	double off = dist_clock_offset_ms(c);

	return (off < 0 ? -off : off) > bound_ms;
}
