/* The search and blast's own limits (limit.h, "the client's own
 * limits"): which failures are the client's, what a rerun changes, and
 * which failed trial bounds the answer. Pure, unit-tested in
 * tests/unit/test_limit.c. */
#include <stdio.h>

#include "limit/limit.h"

bool limit_client_fault(enum bottleneck b)
{
	return b == BOTTLENECK_CLIENT_CPU || b == BOTTLENECK_CLIENT_WINDOW ||
	       b == BOTTLENECK_CLIENT_SOCKET;
}

/* A wider window: LIMIT_WIDEN_FACTOR times, up to the protocol's bound. */
static bool widen_window(struct limit_client *c, char *what, size_t cap)
{
	if (!c->inflight_max) {
		snprintf(what, cap, "this protocol has no window to widen");
		return false;
	}
	if (c->inflight >= c->inflight_max) {
		snprintf(what, cap, "--inflight at its bound %u", c->inflight_max);
		return false;
	}
	uint64_t w = (uint64_t)c->inflight * LIMIT_WIDEN_FACTOR;
	c->inflight = w > c->inflight_max ? c->inflight_max : (uint32_t)w;
	snprintf(what, cap, "--inflight %u", c->inflight);
	return true;
}

/* More workers: twice as many, up to the cores and the connections. */
static bool more_workers(struct limit_client *c, char *what, size_t cap)
{
	uint32_t most = c->cores < c->conns ? c->cores : c->conns;

	if (c->workers >= most) {
		if (c->workers >= c->conns && c->conns < c->cores)
			snprintf(what, cap, "one worker per connection already (--workers %u)", c->workers);
		else
			snprintf(what, cap, "a worker on each of the %u cores already", c->cores);
		return false;
	}
	c->workers = c->workers * 2 > most ? most : c->workers * 2;
	snprintf(what, cap, "--workers %u", c->workers);
	return true;
}

bool limit_widen(enum bottleneck b, struct limit_client *c, char *what, size_t cap)
{
	switch (b) {
	case BOTTLENECK_CLIENT_WINDOW:
		return widen_window(c, what, cap);
	case BOTTLENECK_CLIENT_CPU:
		return more_workers(c, what, cap);
	case BOTTLENECK_CLIENT_SOCKET:
		/* The kernel sizes send buffers (net.ipv4.tcp_wmem); blast has no
		 * deeper one to ask for. */
		snprintf(what, cap, "the kernel's send buffers are full and blast cannot deepen them");
		return false;
	default:
		snprintf(what, cap, "not the client's");
		return false;
	}
}

int limit_bound(const struct limit_trial *tr, unsigned n, int ans)
{
	uint64_t above = ans >= 0 && (unsigned)ans < n ? tr[ans].offered : 0;
	int best = -1;

	for (unsigned i = 0; i < n; i++) {
		const struct limit_trial *t = &tr[i];
		if (t->pass || t->conn_rate || t->widened[0] || t->offered <= above)
			continue;
		/* The lowest rate; among equals the newest trial. */
		if (best < 0 || t->offered <= tr[best].offered)
			best = (int)i;
	}
	return best;
}
