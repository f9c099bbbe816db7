/* The send queue: ready connections that can take messages or owe control
 * frames, an intrusive FIFO of connection indices. */
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

#include "engine/protocol.h"
#include "engine/ring.h"
#include "engine/sendq.h"
#include "engine/worker.h"
#include "payload/protobuf.h"
#include "stats/clock.h"
#include "transport/transport.h"

void conn_sendq_push(struct worker *w, struct conn *c)
{
	if (c->in_sendq)
		return;
	c->in_sendq = 1;
	c->sendq_next = NO_CONN;
	uint32_t i = (uint32_t)(c - w->conns);
	if (w->sendq_tail == NO_CONN)
		w->sendq_head = i;
	else
		w->conns[w->sendq_tail].sendq_next = i;
	w->sendq_tail = i;
	w->sendq_len++;
}

struct conn *sendq_pop(struct worker *w)
{
	if (w->sendq_head == NO_CONN)
		return NULL;
	struct conn *c = &w->conns[w->sendq_head];
	w->sendq_head = c->sendq_next;
	if (w->sendq_head == NO_CONN)
		w->sendq_tail = NO_CONN;
	c->in_sendq = 0;
	w->sendq_len--;
	return c;
}
