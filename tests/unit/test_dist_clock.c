/* An agent's clock offset (userspace/dist/clock.c): the exchange with the
 * smallest round trip is kept, the offset is signed either way, the agent's
 * own time is taken out of the round trip, impossible exchanges are not
 * counted, and the bound is checked on the offset's size. */
#include <stdint.h>

#include "dist/clock.h"
#include "t.h"

#define T0 1796612400000000000ull /* wall-clock ns, as the coordinator sends them */

int main(void)
{
	struct dist_clock c = { 0 };

	/* Agent 2 ms ahead; 1 ms each way; 0.1 ms to answer. */
	CHECK(dist_clock_add(&c, T0, T0 + 3000000, T0 + 3100000, T0 + 2100000));
	CHECK(c.offset_ns == 2000000 && c.rtt_ns == 2000000 && c.samples == 1);
	/* A slower exchange, skewed by its asymmetry, is counted but not kept. */
	CHECK(dist_clock_add(&c, T0, T0 + 6000000, T0 + 6000000, T0 + 5000000));
	CHECK(c.offset_ns == 2000000 && c.samples == 2);
	/* A faster one is: 0.2 ms each way. */
	CHECK(dist_clock_add(&c, T0 + 10, T0 + 10 + 2200000, T0 + 10 + 2200000, T0 + 10 + 400000));
	CHECK(c.offset_ns == 2000000 && c.rtt_ns == 400000 && c.samples == 3);
	CHECK(dist_clock_offset_ms(&c) == 2.0 && dist_clock_uncertainty_ms(&c) == 0.2);
	CHECK(!dist_clock_beyond(&c, 10) && dist_clock_beyond(&c, 1.5));

	/* An agent behind: a negative offset, bounded by its size. */
	struct dist_clock b = { 0 };
	CHECK(dist_clock_add(&b, T0, T0 - 15000000 + 100000, T0 - 15000000 + 100000, T0 + 200000));
	CHECK(b.offset_ns == -15000000 && b.rtt_ns == 200000);
	CHECK(dist_clock_beyond(&b, 10) && !dist_clock_beyond(&b, 20));

	/* Impossible exchanges are refused and not counted. */
	struct dist_clock z = { 0 };
	CHECK(!dist_clock_add(&z, T0, T0, T0, T0 - 1));        /* came back before it left */
	CHECK(!dist_clock_add(&z, T0, T0 + 5, T0 + 1, T0 + 10)); /* answered before it came */
	CHECK(!dist_clock_add(&z, T0, T0, T0 + 20, T0 + 10));    /* took longer than the trip */
	CHECK(z.samples == 0);
	return t_done("dist_clock");
}
