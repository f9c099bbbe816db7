/* The per-second series (see series.h): the workers' rings and the
 * parent's merge. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats/clock.h"
#include "stats/hlog.h"
#include "stats/series.h"
#include "stats/shm.h"

int series_init(struct series *s, bool keep_hlog)
{
	memset(s, 0, sizeof(*s));
	s->keep_hlog = keep_hlog;
	/* Fresh zero pages, cleared over the buckets used only (hist_clear):
	 * a second's merge touches the pages of its latencies, not 2 x 221 KB. */
	s->merged = calloc(1, sizeof(*s->merged));
	s->merged_e2e = calloc(1, sizeof(*s->merged_e2e));
	return s->merged && s->merged_e2e ? 0 : -1;
}

void series_free(struct series *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->rows[i].hlog);
	free(s->rows);
	free(s->merged);
	free(s->merged_e2e);
	free(s->runs);
	free(s->conn_rx);
	memset(s, 0, sizeof(*s));
}

static double since_origin(const struct series *s, uint64_t ns)
{
	return ns > s->origin_ns ? (double)(ns - s->origin_ns) / 1e9 : 0;
}

/* The run that ends: when it last sent, and its connections' receipts. */
static void end_run(struct series *s)
{
	const struct shm *shm = s->shm;
	uint64_t last = 0;
	size_t want = (size_t)shm->n_workers * SLOT_RX_CONNS;

	for (unsigned i = 0; i < shm->n_workers; i++)
		if (shm->w[i].last_send_ns > last)
			last = shm->w[i].last_send_ns;
	if (s->n_runs) {
		struct series_run *r = &s->runs[s->n_runs - 1];
		r->publish_from = s->publish_ns ? since_origin(s, s->publish_ns) : 0;
		r->publish_to = last ? since_origin(s, last) : 0;
	}
	if (want > s->n_conn_rx) {
		uint64_t *rx = realloc(s->conn_rx, want * sizeof(*rx));
		if (!rx)
			return;
		memset(rx + s->n_conn_rx, 0, (want - s->n_conn_rx) * sizeof(*rx));
		s->conn_rx = rx;
		s->n_conn_rx = want;
	}
	for (unsigned i = 0; i < shm->n_workers; i++)
		for (uint32_t k = 0; k < shm->w[i].n_rx && k < SLOT_RX_CONNS; k++)
			s->conn_rx[(size_t)k * shm->n_workers + i] += shm->w[i].rx_by_conn[k];
}

void series_begin_run(struct series *s, const struct shm *shm)
{
	if (!s)
		return;
	if (!shm) {
		if (s->shm)
			end_run(s);
		s->shm = NULL; /* the run is over */
		return;
	}
	if (!s->origin_ns) {
		uint64_t wall = shm->start_wall_ns;
		if (!wall)
			wall = wall_ns() - (mono_ns() - shm->start_ns);
		s->origin_ns = shm->start_ns;
		s->origin_wall_ms = wall / NSEC_PER_MSEC;
	}
	struct series_run *runs = realloc(s->runs, (s->n_runs + 1) * sizeof(*runs));
	if (runs) {
		s->runs = runs;
		runs[s->n_runs++] = (struct series_run){ .first_row = s->n,
							 .start_s = since_origin(s, shm->start_ns) };
	}
	s->shm = shm;
	s->next = 0;
	s->publish_ns = 0;
	s->run_sent = s->run_errors = 0;
	memset(s->last, 0, sizeof(s->last));
	memset(s->done, 0, sizeof(s->done));
}

void series_worker_gone(struct series *s, unsigned i)
{
	if (s && i < BLAST_MAX_WORKERS)
		s->done[i] = true;
}

/* Copies src's header and counts[lo..hi] into dst; returns lo, made past
 * hi when the range is not a valid one. */
static int32_t snap(struct hist *dst, const struct hist *src, int32_t lo, int32_t hi)
{
	dst->total = src->total;
	dst->clamped = src->clamped;
	dst->min = src->min;
	dst->max = src->max;
	if (lo < 0 || hi >= HIST_COUNTS_LEN || hi < lo)
		return hi + 1;
	memcpy(&dst->counts[lo], &src->counts[lo], (size_t)(hi - lo + 1) * sizeof(dst->counts[0]));
	return lo;
}

/* m += counts[lo..hi] of h and its header. */
static void fold(struct hist *m, const struct hist *h, int32_t lo, int32_t hi)
{
	for (int32_t j = lo; j <= hi; j++)
		m->counts[j] += h->counts[j];
	if (h->total) {
		m->total += h->total;
		m->clamped += h->clamped;
		m->min = h->min < m->min ? h->min : m->min;
		m->max = h->max > m->max ? h->max : m->max;
	}
}

/* Copies worker i's second k out of its ring into the merge. Returns
 * false when the worker has already overwritten it. */
static bool take(struct series *s, unsigned i, uint64_t k, struct series_sec *meta)
{
	const struct series_sec *q = &s->shm->w[i].ring.sec[k % SERIES_RING];

	if (__atomic_load_n(&q->seq, __ATOMIC_ACQUIRE) != k + 1)
		return false;
	meta->end_ns = q->end_ns;
	meta->c = q->c;
	/* Added to copies first: a second overwritten mid-read is thrown away. */
	static struct hist h, e2e;
	int32_t lo = snap(&h, &q->h, q->lo, q->hi), elo = snap(&e2e, &q->e2e, q->elo, q->ehi);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&q->seq, __ATOMIC_ACQUIRE) != k + 1)
		return false;
	fold(s->merged, &h, lo, q->hi);
	fold(s->merged_e2e, &e2e, elo, q->ehi);
	return true;
}

static int add_row(struct series *s, const struct series_row *row)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct series_row *r = realloc(s->rows, cap * sizeof(*r));
		if (!r)
			return -1;
		s->rows = r;
		s->cap = cap;
	}
	s->rows[s->n++] = *row;
	return 0;
}

int series_poll(struct series *s)
{
	if (!s || !s->shm)
		return 0;
	const struct shm *shm = s->shm;
	int added = 0;

	for (;;) {
		uint64_t k = s->next;
		unsigned with_data = 0;
		bool ready = true;
		for (unsigned i = 0; i < shm->n_workers && ready; i++) {
			const struct series_ring *r = &shm->w[i].ring;
			uint64_t pub = __atomic_load_n(&r->published, __ATOMIC_ACQUIRE);
			if (pub > k)
				with_data++;
			else if (!__atomic_load_n(&r->final, __ATOMIC_ACQUIRE) && !s->done[i])
				ready = false;
		}
		if (!ready || !with_data)
			return added;

		struct series_row row;
		memset(&row, 0, sizeof(row));
		hist_clear(s->merged);
		hist_clear(s->merged_e2e);
		uint64_t sec_start = shm->start_ns + k * NSEC_PER_SEC, end = sec_start;
		for (unsigned i = 0; i < shm->n_workers; i++) {
			const struct series_ring *r = &shm->w[i].ring;
			struct series_sec meta;
			if (__atomic_load_n(&r->published, __ATOMIC_ACQUIRE) <= k)
				continue;
			if (!take(s, i, k, &meta)) {
				row.lost = true;
				s->lost++;
				continue;
			}
			const struct series_counts *c = &meta.c, *p = &s->last[i];
			row.sent += c->sent - p->sent;
			row.acked += c->acked - p->acked;
			row.failed += c->failed - p->failed;
			row.unacked += c->unacked - p->unacked;
			row.errors += c->errors - p->errors;
			row.cpu_ns += c->cpu_ns - p->cpu_ns;
			row.late_ns += c->late_ns - p->late_ns;
			row.window_ns += c->window_ns - p->window_ns;
			row.socket_ns += c->socket_ns - p->socket_ns;
			row.received += c->received - p->received;
			row.matched += c->matched - p->matched;
			row.share_receipts += c->share_receipts - p->share_receipts;
			s->last[i] = *c;
			if (meta.end_ns > end)
				end = meta.end_ns;
		}
		for (unsigned i = 0; i < shm->n_workers; i++) {
			row.inflight += s->last[i].inflight;
			row.conns_up += s->last[i].conns_up;
			uint64_t ps = s->last[i].publish_start_ns;
			row.publishing |= ps != 0;
			if (ps && (!s->publish_ns || ps < s->publish_ns))
				s->publish_ns = ps;
		}
		if (end > sec_start + NSEC_PER_SEC)
			end = sec_start + NSEC_PER_SEC;
		row.len_s = (double)(end - sec_start) / 1e9;
		row.t_s = (double)(end - s->origin_ns) / 1e9;
		const struct hist *m = s->merged;
		row.count = m->total;
		row.p50 = hist_percentile(m, 50);
		row.p90 = hist_percentile(m, 90);
		row.p99 = hist_percentile(m, 99);
		row.p999 = hist_percentile(m, 99.9);
		row.max = m->total ? m->max : 0;
		const struct hist *e = s->merged_e2e;
		row.e2e_count = e->total;
		row.e2e_p50 = hist_percentile(e, 50);
		row.e2e_p90 = hist_percentile(e, 90);
		row.e2e_p99 = hist_percentile(e, 99);
		row.e2e_p999 = hist_percentile(e, 99.9);
		row.e2e_max = e->total ? e->max : 0;
		if (s->keep_hlog) {
			row.hlog = hlog_interval_line((double)(sec_start - s->origin_ns) / 1e9, row.len_s, m);
			if (!row.hlog)
				return -1;
		}
		if (add_row(s, &row) < 0) {
			free(row.hlog);
			return -1;
		}
		s->next++;
		s->run_sent += row.sent;
		s->run_errors += row.errors;
		added++;
	}
}
