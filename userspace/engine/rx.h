/* engine/rx.c, inside the engine: receive timing */
#ifndef BLAST_ENGINE_RX_H
#define BLAST_ENGINE_RX_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/worker.h"

int rx_open(struct worker *w, unsigned bid, int res, uint8_t **data);
void rx_begin(struct worker *w, struct conn *c, const uint8_t *data, int res);
void rx_end(struct worker *w, struct conn *c);
void rbuf_recycle(struct worker *w, unsigned bid);

/* worker_rx_mark_at for an offset that fits 32 bits. */
static inline void rx_mark_at(struct worker *w, uint32_t off)
{
	if (w->rx_seg)
		w->rx_mark = off < 1 ? 1 : off > w->rx_len ? w->rx_len : off;
}

/* worker_rx_ns, with its commonest answer inline: the segment stamps seen
 * so far already cover the marked byte (every message after the first
 * that one segment completes), so no ring lookup is needed. Same answer
 * and the same count as worker_rx_ns. */
static inline uint64_t rx_time(struct worker *w)
{
	if (w->rx_seg) {
		const struct rxseg_cur *cur = &w->rx_conn->rxs;
		if ((int32_t)(cur->contig - (w->rx_seq0 + w->rx_mark)) >= 0 && cur->contig_ns &&
		    !cur->lapped && cur->contig_ns <= w->now) {
			w->t.rx_by_segment++;
			return cur->contig_ns;
		}
	}
	return worker_rx_ns(w);
}

/* After rx_time answered t: the offset in the read up to which every
 * mark would get the same answer from the segments (they already cover
 * it), or -1. What one segment completes shares its arrival time. */
static inline int64_t rx_time_span(const struct worker *w, uint64_t t)
{
	if (!w->rx_seg)
		return -1;
	const struct rxseg_cur *cur = &w->rx_conn->rxs;
	int32_t span = (int32_t)(cur->contig - w->rx_seq0);
	if (cur->contig_ns != t || cur->lapped || t > w->now || span < 1)
		return -1;
	return span;
}

#endif
