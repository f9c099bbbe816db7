/* engine/phase.c, inside the engine: the worker's phases (running,
 * draining, closing), opening and reopening connections, the periodic scan
 * and the figures it publishes */
#ifndef BLAST_ENGINE_PHASE_H
#define BLAST_ENGINE_PHASE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/worker.h"

void open_more(struct worker *w);
void reopen_now(struct worker *w);
void scan(struct worker *w);
/* wake, or later when it is due already and the loop has nothing to do. */
uint64_t wake_unless_stalled(const struct worker *w, uint64_t wake);
void publish_counters(struct worker *w);
void publish_interval(struct worker *w, bool last);
bool advance_phase(struct worker *w);

#endif
