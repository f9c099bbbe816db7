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

uint64_t limit_window_enough(const struct limit_cfg *cfg, uint64_t offered, uint32_t conns)
{
	uint64_t slo = 0;

	for (unsigned i = 0; i < cfg->n_slo; i++)
		if (cfg->slo[i].key != SLO_CONNECT && cfg->slo[i].ns > slo)
			slo = cfg->slo[i].ns;
	if (!slo || !conns)
		return 0;
	double w = 2.0 * (double)offered / conns * (double)slo / 1e9;
	return w < 1 ? 1 : w > 1e12 ? (uint64_t)1e12 : (uint64_t)w + 1;
}

/* A wider window: as deep as the SLO makes enough, or without one
 * LIMIT_WIDEN_FACTOR times deeper, up to the protocol's bound. */
static enum limit_widened widen_window(struct limit_client *c, char *what, size_t cap)
{
	if (!c->inflight_max) {
		snprintf(what, cap, "this protocol has no window to widen");
		return LIMIT_CLIENT_BOUND;
	}
	if (c->enough && c->inflight >= c->enough) {
		snprintf(what, cap, "not blast's window: --inflight %u is enough for the SLO at this rate "
				    "(%llu), so acks came too late", c->inflight, (unsigned long long)c->enough);
		return LIMIT_NOT_CLIENT;
	}
	if (c->inflight >= c->inflight_max) {
		snprintf(what, cap, "--inflight at its bound %u", c->inflight_max);
		return LIMIT_CLIENT_BOUND;
	}
	/* With an SLO, straight to the window it makes enough: fewer reruns. */
	uint64_t w = c->enough > c->inflight ? c->enough : (uint64_t)c->inflight * LIMIT_WIDEN_FACTOR;
	c->inflight = w > c->inflight_max ? c->inflight_max : (uint32_t)w;
	snprintf(what, cap, "--inflight %u", c->inflight);
	return LIMIT_RERUN;
}

/* More workers: twice as many, up to the cores and the connections. But
 * a worker that waited for a CPU longer than it ran was short of the
 * machine, not of workers (more would wait too): that rate is run once
 * more as it was, as a climbing search runs its first failure twice. */
static enum limit_widened more_workers(struct limit_client *c, char *what, size_t cap)
{
	uint32_t most = c->cores < c->conns ? c->cores : c->conns;

	if (c->busy && c->rerun_offered != c->offered) {
		c->rerun_offered = c->offered;
		snprintf(what, cap, "the same settings (the machine was busy: blast waited for a CPU "
				    "longer than it ran)");
		return LIMIT_RERUN;
	}

	if (c->workers >= most) {
		if (c->workers >= c->conns && c->conns < c->cores)
			snprintf(what, cap, "one worker per connection already (--workers %u)", c->workers);
		else
			snprintf(what, cap, "a worker on each of the %u cores already", c->cores);
		return LIMIT_CLIENT_BOUND;
	}
	c->workers = c->workers * 2 > most ? most : c->workers * 2;
	snprintf(what, cap, "--workers %u", c->workers);
	return LIMIT_RERUN;
}

enum limit_widened limit_widen(enum bottleneck b, struct limit_client *c, char *what, size_t cap)
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
		return LIMIT_CLIENT_BOUND;
	default:
		snprintf(what, cap, "not the client's");
		return LIMIT_NOT_CLIENT;
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
