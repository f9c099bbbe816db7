/* engine/sched.c, inside the engine: the open-loop schedule */
#ifndef BLAST_ENGINE_SCHED_H
#define BLAST_ENGINE_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/worker.h"

bool publishing(const struct worker *w);
uint64_t sched_due(const struct worker *w);
uint64_t sched_time(const struct worker *w, uint64_t idx);

#endif
