/* engine/pump.c, inside the engine: hands out the messages due now to the
 * connections in the send queue */
#ifndef BLAST_ENGINE_PUMP_H
#define BLAST_ENGINE_PUMP_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/worker.h"

void pump(struct worker *w);

#endif
