/* Fan-out figures shared by --proto ws and MQTT subscribers. */
#ifndef BLAST_FANOUT_H
#define BLAST_FANOUT_H

#include <stdint.h>

#include "config/opts.h"
#include "stats/stats.h"

/* Receipts a run's totals make expected: sent x --fanout F when given;
 * otherwise every connection receives every message it may: for --proto
 * ws every message (sent x connections), for MQTT every message whose
 * topic --sub-topic matches (matched x connections: every connection,
 * publishers included, subscribes). */
uint64_t fanout_expected(const struct blast_opts *o, const struct blast_totals *t);

/* Subscriptions the broker refused (SUBACK codes 0x80 and up). */
uint64_t fanout_refused(const struct blast_totals *t);

#endif
