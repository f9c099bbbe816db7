/* Send buffers: a free list of full-size chunks and one of small ones (control frames alone). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/chunk.h"
#include "engine/protocol.h"
#include "engine/ring.h"
#include "engine/worker.h"
#include "payload/protobuf.h"
#include "stats/clock.h"
#include "transport/transport.h"

struct chunk *chunk_get(struct worker *w, bool small)
{
	struct chunk **list = small ? &w->free_small : &w->free_chunks;
	uint32_t cap = small ? SMALL_CHUNK : w->chunk_size;
	struct chunk *ch = *list;

	if (ch) {
		*list = ch->next;
	} else {
		/* Fills stop at cap; a layer that grows a send (TLS
		 * records) writes into the room after it. */
		uint32_t tail = tstack_tailroom(&w->ts, cap);
		ch = malloc(sizeof(*ch) + cap + tail);
		if (!ch)
			return NULL;
		ch->cap = cap;
		ch->room = cap + tail;
		w->chunks_alloc++;
	}
	ch->next = NULL;
	ch->len = ch->off = ch->n_msgs = ch->n_frames = 0;
	ch->first_msg = 0;
	ch->queued_ns = w->now;
	return ch;
}

struct chunk *worker_chunk_get(struct worker *w)
{
	return chunk_get(w, false);
}

void chunk_put(struct worker *w, struct chunk *ch)
{
	struct chunk **list = ch->cap == SMALL_CHUNK ? &w->free_small : &w->free_chunks;

	ch->next = *list;
	*list = ch;
}

void worker_chunk_put(struct worker *w, struct chunk *ch)
{
	chunk_put(w, ch);
}
