/* The capture witness's table of requests awaiting an ack (open
 * addressing on (a, b), tombstones on delete, grown past 70% full), and
 * the counts and latencies recorded as requests and acks are matched. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "witness/wire_pend.h"

static size_t pend_slot(const struct wm *m, uint64_t a, uint64_t b)
{
	return (size_t)mix(a * 0x9e3779b97f4a7c15ull ^ b) & (m->p_cap - 1);
}

struct pend *wm_pend_get(struct wm *m, uint64_t a, uint64_t b)
{
	if (!m->p_cap)
		return NULL;
	for (size_t i = pend_slot(m, a, b), k = 0; k < m->p_cap; i = (i + 1) & (m->p_cap - 1), k++) {
		struct pend *e = &m->p[i];
		if (e->state == P_EMPTY)
			return NULL;
		if (e->state == P_USED && e->a == a && e->b == b)
			return e;
	}
	return NULL;
}

static bool pend_grow(struct wm *m)
{
	size_t cap = m->p_cap ? m->p_cap * 2 : 1024;

	if (m->p_cap && m->p_used * 4 < m->p_cap)
		cap = m->p_cap; /* mostly tombstones: rehash in place size */
	struct pend *n = calloc(cap, sizeof(*n));
	if (!n)
		return false;
	for (size_t i = 0; i < m->p_cap; i++) {
		struct pend *e = &m->p[i];
		if (e->state != P_USED)
			continue;
		size_t j = (size_t)mix(e->a * 0x9e3779b97f4a7c15ull ^ e->b) & (cap - 1);
		while (n[j].state == P_USED)
			j = (j + 1) & (cap - 1);
		n[j] = *e;
	}
	free(m->p);
	m->p = n;
	m->p_cap = cap;
	m->p_tombs = 0;
	return true;
}

/* Inserts or finds (a, b); NULL when out of memory. */
struct pend *wm_pend_put(struct wm *m, uint64_t a, uint64_t b, bool *fresh)
{
	struct pend *e = wm_pend_get(m, a, b);

	*fresh = false;
	if (e)
		return e;
	if ((m->p_used + m->p_tombs + 1) * 10 > m->p_cap * 7 && !pend_grow(m)) {
		m->oom = true;
		return NULL;
	}
	size_t i = pend_slot(m, a, b);
	while (m->p[i].state == P_USED)
		i = (i + 1) & (m->p_cap - 1);
	if (m->p[i].state == P_TOMB)
		m->p_tombs--;
	e = &m->p[i];
	memset(e, 0, sizeof(*e));
	e->a = a;
	e->b = b;
	e->state = P_USED;
	m->p_used++;
	*fresh = true;
	return e;
}

void wm_pend_del(struct wm *m, struct pend *e)
{
	free(e->parts);
	e->parts = NULL;
	e->n_parts = 0;
	e->state = P_TOMB;
	m->p_used--;
	m->p_tombs++;
}

void wm_requests(struct wm *m, uint32_t fid, uint64_t n)
{
	m->s.requests += n;
	m->flows[fid]->requests += n;
}

void wm_acks(struct wm *m, uint32_t fid, uint64_t n)
{
	m->s.acks += n;
	m->flows[fid]->acks += n;
}

void wm_acked(struct wm *m, uint32_t fid, uint64_t req_ts, uint64_t ack_ts, uint64_t n)
{
	struct flow *f = m->flows[fid];
	int64_t d = ack_ts >= req_ts ? (int64_t)(ack_ts - req_ts) : 0;

	wm_acks(m, fid, n);
	hist_record_n(&m->s.latency, d, n);
	if (!m->o.flow_rows || !n)
		return;
	if (f->n_lat == f->lat_cap) {
		size_t cap = f->lat_cap ? f->lat_cap * 2 : 256;
		struct wm_sample *l = realloc(f->lat, cap * sizeof(*l));
		if (!l) {
			m->oom = true;
			return;
		}
		f->lat = l;
		f->lat_cap = cap;
	}
	f->lat[f->n_lat++] = (struct wm_sample){ .ns = d, .n = n };
}
