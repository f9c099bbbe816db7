/* A run's self-measurement (diag.h): merging the workers' figures. */
#include <stdlib.h>

#include "stats/diag.h"

unsigned diag_batch_bucket(uint64_t n)
{
	unsigned b = n ? 63u - (unsigned)__builtin_clzll(n) : 0;

	return b < DIAG_BATCH_BUCKETS ? b : DIAG_BATCH_BUCKETS - 1;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

void diag_counts_add(struct diag_counts *dst, const struct diag_counts *src)
{
	/* The busiest worker: the one that wanted a CPU the most. */
	if (src->busiest_cpu_pm + src->busiest_runq_pm > dst->busiest_cpu_pm + dst->busiest_runq_pm) {
		dst->busiest_cpu_pm = src->busiest_cpu_pm;
		dst->busiest_runq_pm = src->busiest_runq_pm;
	}
	dst->publish_ns = max_u64(dst->publish_ns, src->publish_ns);
	dst->cpu_user_ns += src->cpu_user_ns;
	dst->cpu_sys_ns += src->cpu_sys_ns;
	dst->runq_ns += src->runq_ns;
	dst->late_ns += src->late_ns;
	dst->window_ns += src->window_ns;
	dst->socket_ns += src->socket_ns;
	dst->ahead_n += src->ahead_n;
	dst->ahead_max_ns = max_u64(dst->ahead_max_ns, src->ahead_max_ns);
	dst->end_window += src->end_window;
	dst->end_socket += src->end_socket;
	dst->end_free += src->end_free;
	dst->stalled_s += src->stalled_s;
	dst->stall_run_s = max_u64(dst->stall_run_s, src->stall_run_s);
	dst->turns += src->turns;
	dst->submits += src->submits;
	dst->sqes += src->sqes;
	dst->reaps += src->reaps;
	dst->cqes += src->cqes;
	for (unsigned i = 0; i < DIAG_BATCH_BUCKETS; i++) {
		dst->sqe_batch[i] += src->sqe_batch[i];
		dst->cqe_batch[i] += src->cqe_batch[i];
	}
	dst->tcp_conns += src->tcp_conns;
	dst->tcp_retrans += src->tcp_retrans;
	dst->tcp_segs_out += src->tcp_segs_out;
	dst->quick_acks += src->quick_acks;
	dst->peers_push += src->peers_push;
	dst->peers_wait += src->peers_wait;
	dst->srtt_us_max = max_u64(dst->srtt_us_max, src->srtt_us_max);
	if (src->min_rtt_us && (!dst->min_rtt_us || src->min_rtt_us < dst->min_rtt_us))
		dst->min_rtt_us = src->min_rtt_us;
}

struct diag_run *diag_run_new(void)
{
	struct diag_run *r = calloc(1, sizeof(*r));

	if (r && !(r->h = calloc(1, sizeof(*r->h)))) {
		free(r);
		return NULL;
	}
	if (r) {
		/* Fresh from calloc: clearing touches no bucket (hist_reset
		 * would write all 3 x 221 KB). */
		hist_clear(&r->h->late);
		hist_clear(&r->h->wait_window);
		hist_clear(&r->h->wait_socket);
	}
	return r;
}

void diag_run_free(struct diag_run *r)
{
	if (r)
		free(r->h);
	free(r);
}

void diag_run_add(struct diag_run *r, const struct diag_counts *c, const struct diag_hists *h)
{
	diag_counts_add(&r->c, c);
	hist_add(&r->h->late, &h->late);
	hist_add(&r->h->wait_window, &h->wait_window);
	hist_add(&r->h->wait_socket, &h->wait_socket);
}
