/* Hands out the messages due now to the connections in the send queue. */
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

#include "engine/conn.h"
#include "engine/protocol.h"
#include "engine/pump.h"
#include "engine/ring.h"
#include "engine/sched.h"
#include "engine/sendq.h"
#include "engine/worker.h"
#include "payload/protobuf.h"
#include "stats/clock.h"
#include "transport/transport.h"

static void stamp_apart(struct worker *w);

void pump(struct worker *w)
{
	if (w->p->pump)
		w->p->pump(w);
	else
		pump_default(w);
}

/* Hands out the messages due now to connections that have room. */
void pump_default(struct worker *w)
{
	uint64_t due = sched_sendable(w);
	uint64_t pending = due > w->next_msg ? due - w->next_msg : 0;

	while (w->sendq_head != NO_CONN) {
		struct conn *c = &w->conns[w->sendq_head];
		uint32_t room = conn_room(w, c);
		if (!room) {
			sendq_pop(w); /* comes back when an ack or a send completes */
			continue;
		}
		if (!pending)
			break;
		uint32_t batch_min = conn_batch_min(w, c);
		if (room < batch_min && room < pending && c->inflight) {
			sendq_pop(w); /* the next receive kicks it back */
			continue;
		}
		sendq_pop(w);
		uint64_t take = pending < room ? pending : room;
		/* Under --rate, share a tick's messages among the ready
		 * connections instead of piling them on the first. */
		if (w->rate && w->sendq_len) {
			uint64_t fair = pending / (w->sendq_len + 1);
			if (fair < 1)
				fair = 1;
			if (take > fair)
				take = fair;
		}
		uint64_t before = w->next_msg;
		conn_flush(w, c, (uint32_t)take);
		pending -= w->next_msg - before;
		if (w->next_msg == before)
			break; /* could not encode: out of memory or frame too big */
		if (pending && w->sendq_head != NO_CONN)
			stamp_apart(w);
	}
}

/* A batch wider than the default (--pace-batch 2ms, auto) hands the kernel
 * each send before stamping the next: submitted together, the last of
 * eight would leave after the other seven's TCP work on loopback (~4 us
 * each), yet be timed from before it, and the burst's latency would be
 * blast's own by that much (p50 82 against 62 us at 4000 req/s into
 * nginx, docs/pacing.md). The default batch holds one or two messages at
 * low rates, and at high ones an io_uring_enter per send would cost more
 * than the error it removes. */
static void stamp_apart(struct worker *w)
{
	if (!w->rate || w->pace_batch_ns <= PACE_BATCH_DEFAULT_NS)
		return;
	io_uring_submit(&w->ring);
	w->now = mono_ns();
}
