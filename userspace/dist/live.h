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

#define LIVE_LATE_S 3

struct live;

struct live *live_new(uint32_t agents);
void live_free(struct live *lv);
/* Agent i's second (hist: V2 compressed bytes, may be empty). -EINVAL
 * when the histogram does not decode (counted by the caller). */
int live_add(struct live *lv, uint32_t i, uint64_t wall_sec, uint32_t len_ms,
	     const struct ctl_counts *c, const uint8_t *hist, size_t hist_len);
/* Prints the seconds that are complete; active[i]: agent i may still send. */
void live_print(struct live *lv, FILE *f, const bool *active, uint64_t now_wall_ns);

#endif
