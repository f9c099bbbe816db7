/* engine/sendq.c, inside the engine: the send queue */
#ifndef BLAST_ENGINE_SENDQ_H
#define BLAST_ENGINE_SENDQ_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/worker.h"

struct conn *sendq_pop(struct worker *w);

#endif
