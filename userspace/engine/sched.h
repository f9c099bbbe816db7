/* engine/sched.c, inside the engine: the open-loop schedule */
#ifndef BLAST_ENGINE_SCHED_H
#define BLAST_ENGINE_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/worker.h"
#include "stats/clock.h"

/* Paced sends go out in batches, a little ahead of their time. A timer
 * wakes a sleeping thread tens of microseconds late (p99 ~140 us in a
 * VM), and every wake costs ~18 us of CPU here whatever it sends: so the
 * loop wakes PACE_WAKE_EARLY_NS (at most half of --pace-batch) before the
 * next send is due and sends every message due within --pace-batch
 * (default 200 us) of then. A batch gathers about the difference plus the
 * timer's delay; a send seldom leaves late, and one that leaves early is
 * timed from when it left, so no latency is understated. */
#define PACE_WAKE_EARLY_NS (100 * NSEC_PER_USEC)

bool publishing(const struct worker *w);
/* Messages due by now: the schedule's count. */
uint64_t sched_due(const struct worker *w);
/* Messages that may be handed out now: due within --pace-batch. */
uint64_t sched_sendable(const struct worker *w);
/* When message idx is due (now, without --rate). */
uint64_t sched_time(const struct worker *w, uint64_t idx);
/* When the loop should wake for the next paced send. */
uint64_t sched_wake(const struct worker *w);
/* Where message idx's corrected latency starts, sent at sent_ns: its
 * scheduled time, or sent_ns when it left ahead of it. */
uint64_t sched_start(const struct worker *w, uint64_t idx, uint64_t sent_ns);

#endif
