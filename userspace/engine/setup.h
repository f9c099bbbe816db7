/* engine/setup.c, inside the engine: a worker's setup and teardown */
#ifndef BLAST_ENGINE_SETUP_H
#define BLAST_ENGINE_SETUP_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/worker.h"

int setup(struct worker *w);
void teardown(struct worker *w);

#endif
