/* Fan-out receipts on one receiving connection (--proto ws listeners and
 * MQTT subscribers alike): a bit per sequence number, so each message
 * counts once per connection and any repeat counts as a duplicate. */
#ifndef BLAST_RECEIPTS_H
#define BLAST_RECEIPTS_H

#include <stdint.h>

struct worker;
struct conn;

/* No run sends this many messages: a larger sequence number is not ours. */
#define RECEIPT_SEQ_LIMIT (1ull << 40)

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

/* Fan-out marks (MQTT's and --proto ws's) carry the send time on the wall
 * clock, so a receiver on another machine (a split run) times them too, as
 * well as the clocks agree: what to add to this host's CLOCK_MONOTONIC for
 * the wall clock (the offset taken at run start). */
uint64_t receipt_wall_off(const struct worker *w);

/* A marked message of this run: the whole run's sequence number seq (one
 * past what any run sends, 2^40 and over, is not ours: ignored) sent at
 * sent_wall_ns on the wall clock, counted as receipt_count does. */
int receipt_count_marked(struct worker *w, struct conn *c, struct receipt_set *rs, uint64_t seq,
			 uint64_t sent_wall_ns);

void receipt_set_free(struct receipt_set *rs);

#endif
