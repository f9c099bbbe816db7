#include <stdlib.h>
#include <string.h>

#include "protocol/receipts.h"
#include "engine/worker.h"

int receipt_count(struct worker *w, struct conn *c, struct receipt_set *rs, uint64_t seq,
		  uint64_t sent_ns)
{
	uint64_t byte = seq / 8;

	if (byte >= rs->bytes) {
		uint64_t nb = rs->bytes ? rs->bytes : 1024;
		while (nb <= byte)
			nb *= 2;
		uint8_t *ns = realloc(rs->seen, nb);
		if (!ns) {
			conn_fail(w, c, ERR_RECV);
			return -1;
		}
		memset(ns + rs->bytes, 0, nb - rs->bytes);
		rs->seen = ns;
		rs->bytes = nb;
	}
	uint8_t bit = (uint8_t)(1u << (seq & 7));
	if (rs->seen[byte] & bit) {
		w->t.duplicates++;
		return 0;
	}
	rs->seen[byte] |= bit;
	w->t.received++;
	/* Timed when the kernel received it, not when the loop got to it. */
	uint64_t t = worker_rx_ns(w);
	w->last_recv_ns = t;
	int64_t e2e = t > sent_ns ? (int64_t)(t - sent_ns) : 0;
	hist_record(w->e2e, e2e);
	if (w->interval_e2e)
		hist_record(w->interval_e2e, e2e);
	c->received++;
	return 0;
}

uint64_t receipt_wall_off(const struct worker *w)
{
	return w->shm->start_wall_ns - w->shm->start_ns;
}

int receipt_count_marked(struct worker *w, struct conn *c, struct receipt_set *rs, uint64_t seq,
			 uint64_t sent_wall_ns)
{
	if (seq >= RECEIPT_SEQ_LIMIT)
		return 0;
	/* The send time back on this host's monotonic clock, as the receipt is. */
	return receipt_count(w, c, rs, seq, sent_wall_ns - receipt_wall_off(w));
}

void receipt_set_free(struct receipt_set *rs)
{
	free(rs->seen);
	rs->seen = NULL;
	rs->bytes = 0;
}
