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
 * matching shared subscription for the rest). */
uint64_t fanout_expected(const struct blast_opts *o, const struct blast_totals *t);

/* MQTT: the connections that subscribe: --subscribers on every node, and
 * with --chat the publishers too. */
uint32_t fanout_receivers(const struct blast_opts *o);

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
