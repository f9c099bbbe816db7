/* Fan-out figures shared by --proto ws and MQTT subscribers. */
#ifndef BLAST_FANOUT_H
#define BLAST_FANOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/opts.h"
#include "stats/stats.h"

/* Receipts a run's totals make expected: sent x --fanout F when given;
 * for --proto ws every message on every connection (sent x connections);
 * for MQTT t->matched x fanout_receivers (messages a plain filter matches
 * reach every subscribing connection) + t->share_receipts (one per
 * matching shared subscription for the rest). A split MQTT run's share
 * expects the whole run's messages on its own receivers: the matched
 * scaled to the whole (fanout_scale_to_whole) x fanout_receivers, shared
 * receipts by the share's part of the receivers (the broker picks the
 * member: an estimate; the merge's sum of fanout_owed is exact), and
 * --fanout F's receipts (of the whole run's messages) likewise. */
uint64_t fanout_expected(const struct blast_opts *o, const struct blast_totals *t);

/* MQTT: the connections that subscribe: --subscribers on every node, and
 * with --chat the publishers too. */
uint32_t fanout_receivers(const struct blast_opts *o);

/* A split run (--shard, an agent's share): every machine's receivers take
 * every publisher's messages, so what they expect is the whole run's.
 * The subscribing connections of all shares together: */
uint32_t fanout_receivers_whole(const struct blast_opts *o);
/* Receipts this machine's publishes owe the whole run (every share's
 * receivers): t->matched x fanout_receivers_whole + t->share_receipts,
 * or sent x --fanout. Exact; summed over the shares it is the run's
 * expected, which is what `blast merge` does. Unsplit: fanout_expected. */
uint64_t fanout_owed(const struct blast_opts *o, const struct blast_totals *t);
/* The whole run's t->matched (or share_receipts) from this share's, by the
 * share's part of the whole (--messages, else --rate, else --publishers):
 * exact when every share published its part of the same topics. */
uint64_t fanout_scale_to_whole(const struct blast_opts *o, uint64_t share_count);

/* Whether every receipt expected is in, so the workers may stop draining
 * before --drain-timeout. Never for a split run with shared subscriptions:
 * which share's member the broker picks is not known, so a share that
 * reached its estimate may still have receipts coming. */
bool fanout_all_in(const struct blast_opts *o, const struct blast_totals *t);

/* The marker's connection and sequence numbers of local publisher idx's
 * message seq: the publisher's number in the whole run (its share's first
 * publisher + idx), and seq x N + I, so the shares' numbers never meet and
 * a receiver tells every publisher's messages apart. Unsplit: as given. */
uint32_t fanout_publisher_no(const struct blast_opts *o, uint32_t idx);
uint64_t fanout_seq(const struct blast_opts *o, uint64_t seq);

/* The id the fan-out markers carry: a split run's shares start at the
 * same --start-at and so agree on it without talking; else the process's
 * own (pid, start). */
uint32_t fanout_run_id(const struct blast_opts *o, uint32_t pid, uint64_t start_ns);

/* "$share/NAME/FILTER" (MQTT 5 4.8.2): the FILTER part, with NAME's length
 * in *name_len; NULL for a plain filter. Does not validate either part. */
const char *fanout_share_filter(const char *filter, size_t *name_len);

/* How many of the --sub-topic filters are shared subscriptions. */
uint32_t fanout_share_groups(const struct blast_opts *o);

/* What one published topic is expected to produce. */
struct fanout_match {
	bool every;      /* a plain filter matches: every subscriber receives it */
	uint32_t shared; /* otherwise: the shared subscriptions that match it */
};
struct fanout_match fanout_match_topic(const struct blast_opts *o, const char *topic, size_t n);

/* Subscriptions the broker refused (SUBACK codes 0x80 and up). */
uint64_t fanout_refused(const struct blast_totals *t);

#endif
