/* Quick ACKs after a receive.
 *
 * A peer that sets no TCP_NODELAY (mosquitto; nginx with tcp_nodelay off)
 * holds a small answer back while an earlier one is unacknowledged, and
 * this side's delayed ACK then costs it 40 ms per flight: so a receive
 * that leaves answers outstanding is answered by TCP_QUICKACK. Each is a
 * syscall and a bare segment the peer processes: with HTTP --pipeline 16
 * into nginx, one per three answers and a tenth of the client's CPU.
 *
 * With windows refilled whole (HTTP pipelining) and segment stamps, a read
 * tells whether the peer needs them: two of its answers in different
 * segments that both arrived after this side's last quick ACK were sent
 * without waiting for one. After PROOFS such reads that peer gets no more.
 * The proof can deceive: this kernel also ACKs at once at times (a
 * connection's start, a segment bigger than it expects), which lets a
 * Nagle-bound peer go on too (with one proof, 2 or 3 of 4 connections into
 * nginx with tcp_nodelay off were let go; with four, none in four runs).
 * So the first PROBATION reads are not judged, and a connection let go
 * that then waits STALL_NS for answers it is owed gets a quick ACK at once
 * and quick ACKs for good: the price of a wrong proof is one wait of
 * STALL_NS to a loop turn more, once per connection. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "engine/conn.h"
#include "engine/quickack.h"
#include "engine/sched.h"
#include "stats/clock.h"

#define PROBATION 32
#define PROOFS 4
#define STALL_NS (10 * NSEC_PER_MSEC)

static bool send_carries_ack(const struct worker *w, const struct conn *c);
static void judge_peer(struct worker *w, struct conn *c);
static void quickack(struct worker *w, struct conn *c);

/* Unpaced, a receive that freed a good batch of c's window (pump_default's
 * rule) is answered by a send in this turn's pump, with enough messages
 * for every connection queued: that send carries the ACK of what was read,
 * so a quick ACK would only add a syscall and a bare segment. */
static bool send_carries_ack(const struct worker *w, const struct conn *c)
{
	if (w->rate || !c->in_sendq)
		return false;
	uint32_t room = conn_room(w, c);
	uint64_t due = sched_sendable(w);
	uint64_t pending = due > w->next_msg ? due - w->next_msg : 0;
	return room && room >= conn_batch_min(w, c) && pending >= (uint64_t)(w->sendq_len + 1) * room;
}

static void judge_peer(struct worker *w, struct conn *c)
{
	if (c->qa.reads < PROBATION) {
		c->qa.reads++;
		return;
	}
	if (!c->qa.peer_pushes && !c->qa.peer_waits && w->rx_first_ns &&
	    w->rx_last_ns > w->rx_first_ns && w->rx_first_ns > c->qa.t_quickack &&
	    ++c->qa.proofs >= PROOFS) {
		c->qa.peer_pushes = 1;
		w->ms.c.peers_push++;
	}
}

static void quickack(struct worker *w, struct conn *c)
{
	int one = 1;

	setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	c->qa.t_quickack = w->now;
	w->ms.c.quick_acks++;
}

void quickack_after_read(struct worker *w, struct conn *c)
{
	bool owed = c->state == CS_READY && c->inflight;

	if (w->refill_whole && c->seg_stamped)
		judge_peer(w, c);
	c->qa.rx_owed = owed;
	c->qa.t_last_read = w->now;
	if (c->fd < 0)
		return;
	if (c->qa.peer_pushes) {
		/* A reopened connection's stale entry is dropped by the
		 * next watch; the bound keeps a duplicate from overflowing. */
		if (owed && !c->qa.in_ackq && w->n_ackq < w->n_conns) {
			c->qa.in_ackq = 1;
			w->ackq[w->n_ackq++] = (uint32_t)(c - w->conns);
		}
		return;
	}
	/* With none outstanding there is nothing to hold back, and the
	 * syscall and the bare ACK it sends are the largest cost of a paced
	 * run. The protocol's handshake is timed: its answer is never held
	 * back. */
	if (c->state == CS_HANDSHAKE ||
	    (owed && w->o->qos && w->slot_cap < 1024 && !send_carries_ack(w, c)))
		quickack(w, c);
}

uint64_t quickack_watch(struct worker *w)
{
	uint64_t next = UINT64_MAX;
	uint32_t kept = 0;

	for (uint32_t i = 0; i < w->n_ackq; i++) {
		struct conn *c = &w->conns[w->ackq[i]];
		if (c->fd < 0 || c->state != CS_READY || !c->qa.rx_owed || !c->qa.peer_pushes) {
			c->qa.in_ackq = 0;
			continue;
		}
		uint64_t due = c->qa.t_last_read + STALL_NS;
		if (w->now >= due) {
			quickack(w, c);
			c->qa.peer_pushes = 0;
			c->qa.peer_waits = 1;
			c->qa.in_ackq = 0;
			w->ms.c.peers_wait++;
			continue;
		}
		if (due < next)
			next = due;
		w->ackq[kept++] = w->ackq[i];
	}
	w->n_ackq = kept;
	return next;
}
