/* engine/chunk.c, inside the engine: send buffers */
#ifndef BLAST_ENGINE_CHUNK_H
#define BLAST_ENGINE_CHUNK_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/worker.h"

struct chunk *chunk_get(struct worker *w, bool small);
void chunk_put(struct worker *w, struct chunk *ch);

#endif
