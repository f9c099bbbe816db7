/* The coordinator's live line: second k of every agent added up bucket
 * by bucket as their SECOND messages come, printed once every agent still
 * running has sent it (or it is LIVE_LATE_S old: then marked partial). */
#ifndef BLAST_DIST_LIVE_H
#define BLAST_DIST_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "encoders/control.h"
#include "stats/hist.h"

#define LIVE_LATE_S 3

struct live;

struct live *live_new(uint32_t agents);
void live_free(struct live *lv);
/* Agent i's second (hist: V2 compressed bytes, may be empty). -EINVAL
 * when the histogram does not decode (counted by the caller). */
int live_add(struct live *lv, uint32_t i, uint64_t wall_sec, uint32_t len_ms,
	     const struct ctl_counts *c, const uint8_t *hist, size_t hist_len);
/* --probe: an agent's wire latencies of second wall_sec (V2 compressed),
 * after its live_add. -EINVAL when they do not decode. */
int live_add_wire(struct live *lv, uint64_t wall_sec, const uint8_t *wire, size_t len);
/* Prints the seconds that are complete; active[i]: agent i may still send. */
void live_print(struct live *lv, FILE *f, const bool *active, uint64_t now_wall_ns);

/* A merged second as it is printed (for the dashboard). */
struct live_row {
	uint64_t sec;          /* wall-clock second */
	uint32_t len_ms;       /* the longest of its agents' */
	uint32_t agents, of;   /* agents in it, of how many (fewer: partial) */
	struct ctl_counts c;
	const struct hist *h;  /* its corrected latency */
	const struct hist *wire; /* --probe: the wire's latency, NULL when no agent sent one */
};
/* live_print (f may be NULL: nothing printed), handing each second to
 * row(ctx, r) too. */
void live_emit(struct live *lv, FILE *f, const bool *active, uint64_t now_wall_ns,
	       void (*row)(void *ctx, const struct live_row *r), void *ctx);

#endif
