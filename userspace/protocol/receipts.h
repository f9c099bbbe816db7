/* Fan-out receipts on one receiving connection (--proto ws listeners and
 * MQTT subscribers alike): a bit per sequence number, so each message
 * counts once per connection and any repeat counts as a duplicate. */
#ifndef BLAST_RECEIPTS_H
#define BLAST_RECEIPTS_H

#include <stdint.h>

struct worker;
struct conn;

struct receipt_set {
	uint8_t *seen;  /* bit seq is set once message seq arrived */
	uint64_t bytes; /* size of seen, grown by doubling */
};

/* Counts a receipt of message seq, sent at sent_ns, on c into w's figures:
 * received the first time (with its end-to-end latency, timed by the
 * kernel's receive stamp), duplicates after. Returns 0, or -1 when out of
 * memory (c has been failed). */
int receipt_count(struct worker *w, struct conn *c, struct receipt_set *rs, uint64_t seq,
		  uint64_t sent_ns);

void receipt_set_free(struct receipt_set *rs);

#endif
