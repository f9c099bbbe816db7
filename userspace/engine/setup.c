/* A worker's setup and teardown: connections placed, schedule share,
 * buffers, histograms, the ring and its provided receive buffers. */
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

#include "engine/io.h"
#include "engine/measure.h"
#include "engine/protocol.h"
#include "engine/ring.h"
#include "engine/setup.h"
#include "engine/worker.h"
#include "payload/protobuf.h"
#include "stats/clock.h"
#include "transport/transport.h"

static bool times_arrivals(const struct proto_ops *p, const struct blast_opts *o);
static bool batch_capable(const struct proto_ops *p, const struct blast_opts *o);
static bool rbuf_geometry(const struct proto_ops *p, const struct blast_opts *o, bool seg_stamps,
			  uint32_t n_conns, uint32_t *size, uint32_t *count);
static int setup_ring(struct worker *w);
static bool same_endpoint(const struct blast_target *a, const struct blast_target *b);
static uint32_t connects_in_flight(const struct worker *w);

/* Runs that time what arrives: acks (qos > 0, or as the protocol says)
 * or receipts (fan-out). Others have nothing to stamp. */
static bool times_arrivals(const struct proto_ops *p, const struct blast_opts *o)
{
	if (p->times_arrivals)
		return p->times_arrivals(o);
	return o->qos > 0 || opts_fanout(o);
}

/* Runs where no send waits on an ack: the loop may batch its waits. */
static bool batch_capable(const struct proto_ops *p, const struct blast_opts *o)
{
	return o->qos == 0 && o->sub_qos == 0 && !p->sends_wait && !o->churn;
}

/* Receive buffer size and count. With segment stamps every message is
 * timed by its own segment whatever the read holds: 16 KiB reads, and the
 * loop batches wherever nothing waits on it. Otherwise a read's stamp is
 * that of its newest segment, and a batched wait lets segments pile up in
 * the socket: so when the loop batches, buffers hold about one message,
 * and the stamp that times a frame is that of its own last segment or of
 * one at most about a message behind it. Otherwise 16 KiB reads. Returns
 * whether the loop may batch: not when messages may be much smaller than
 * a read (payload files, protobuf), as one stamp would then time many. */
static bool rbuf_geometry(const struct proto_ops *p, const struct blast_opts *o, bool seg_stamps,
			  uint32_t n_conns, uint32_t *size, uint32_t *count)
{
	uint32_t hdr = (uint32_t)(sizeof(struct io_uring_recvmsg_out) + RXSTAMP_CONTROL_LEN);

	*size = 16384;
	/* Eight reads in flight per connection, 32 to 256 of them: a few
	 * connections need not touch 4 MiB (ENOBUFS re-arms when short). */
	*count = 32;
	while (*count < 256 && *count < 8ull * n_conns)
		*count *= 2;
	if (seg_stamps)
		return batch_capable(p, o);
	*count = 256;
	if (!batch_capable(p, o) || o->payloads.n || o->payload_proto)
		return false;
	if (o->payload_size > 8192)
		return true; /* a 16 KiB read holds at most about two */
	uint32_t room = (o->payload_size + 16 + 63) / 64 * 64; /* + frame header */
	*size = hdr + room;
	/* About 4 MiB in all, a power of two of buffers (the ring's rule). */
	*count = 256;
	while (*count < 16384 && (uint64_t)*count * 2 * *size <= (4u << 20))
		*count *= 2;
	return true;
}

static int setup_ring(struct worker *w)
{
	struct io_uring_params p = { .flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER |
					      IORING_SETUP_DEFER_TASKRUN,
				     .cq_entries = CQ_ENTRIES };
	int r = io_uring_queue_init_params(SQ_ENTRIES, &w->ring, &p);

	if (r == -EINVAL) {
		/* Older kernels: no single-issuer/deferred task work. */
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = CQ_ENTRIES;
		r = io_uring_queue_init_params(SQ_ENTRIES, &w->ring, &p);
	}
	if (r < 0) {
		snprintf(w->slot->error, sizeof(w->slot->error), "io_uring setup failed: %s",
			 strerror(-r));
		return r;
	}
	w->ring_ok = true;

	/* Provided receive buffers, registered the liburing 2.3 way (no
	 * io_uring_setup_buf_ring yet): mmap the ring, register it, fill it. */
	w->batch_ok = rbuf_geometry(w->p, w->o, w->rxs != NULL, w->n_conns, &w->rbuf_size, &w->rbuf_count);
	/* Exact stamps whatever the wait: wait longer, read more at a time. */
	w->batch_ns = w->rxs ? BATCH_SEG_NS : BATCH_NS;
	size_t ring_sz = w->rbuf_count * sizeof(struct io_uring_buf);
	void *ring_mem = mmap(NULL, ring_sz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (ring_mem == MAP_FAILED)
		return -errno;
	w->br = ring_mem;
	io_uring_buf_ring_init(w->br);
	struct io_uring_buf_reg reg = { .ring_addr = (unsigned long)ring_mem,
					.ring_entries = w->rbuf_count,
					.bgid = BGID };
	r = io_uring_register_buf_ring(&w->ring, &reg, 0);
	if (r < 0) {
		snprintf(w->slot->error, sizeof(w->slot->error),
			 "io_uring provided buffer ring failed: %s", strerror(-r));
		return r;
	}
	/* Every receive buffer starts with the recvmsg header and the stamp. */
	w->rx_msg.msg_controllen = RXSTAMP_CONTROL_LEN;
	w->rbufs = malloc((size_t)w->rbuf_count * w->rbuf_size);
	if (!w->rbufs)
		return -ENOMEM;
	for (uint32_t i = 0; i < w->rbuf_count; i++)
		io_uring_buf_ring_add(w->br, w->rbufs + (size_t)i * w->rbuf_size, w->rbuf_size,
				      (unsigned short)i, io_uring_buf_ring_mask(w->rbuf_count), (int)i);
	io_uring_buf_ring_advance(w->br, (int)w->rbuf_count);
	return 0;
}

/* The same listening socket: address and port. */
static bool same_endpoint(const struct blast_target *a, const struct blast_target *b)
{
	return a->addr_len == b->addr_len && !memcmp(&a->addr, &b->addr, a->addr_len);
}

/* Handshakes one worker keeps in flight: CONNECTS_IN_FLIGHT shared by the
 * workers. The accept backlog is per listener, though: with connections
 * dealt round robin over T targets, of which the busiest listener is named
 * M times, each worker may take CONNECTS_IN_FLIGHT * T / (M * workers), up
 * to CONNECTS_PER_WORKER. With 27
 * workers on 27 brokers that is 16 each, not 2: each wake of a worker or
 * a broker then finds a batch of connects, not one or two (a third less
 * CPU per connection on both sides, docs/scale.md); past 16 the broker's
 * queue only adds to the connect latency. Fan-out and placed connections
 * (Kafka) are not dealt evenly: they share the one budget. */
static uint32_t connects_in_flight(const struct worker *w)
{
	uint32_t shared = CONNECTS_IN_FLIGHT / w->n_workers, busiest = 1;

	if (w->p->place || opts_fanout(w->o) || !w->n_addrs)
		return shared ? shared : 1;
	for (uint32_t i = 0; i < w->n_addrs; i++) {
		uint32_t named = 0;
		for (uint32_t j = 0; j < w->n_addrs; j++)
			named += same_endpoint(&w->addrs[i], &w->addrs[j]);
		if (named > busiest)
			busiest = named;
	}
	uint64_t n = (uint64_t)CONNECTS_IN_FLIGHT * w->n_addrs / ((uint64_t)busiest * w->n_workers);
	if (n > CONNECTS_PER_WORKER)
		n = CONNECTS_PER_WORKER;
	if (n < shared)
		n = shared;
	return n ? (uint32_t)n : 1;
}

int setup(struct worker *w)
{
	const struct blast_opts *o = w->o;

	w->tenv = (struct transport_env){
		.o = o, .t = &w->t, .now = &w->now, .ctx = w, .fail = tl_fail,
		.deliver = tl_deliver, .layer_up = tl_layer_up, .rx_offset = tl_rx_offset,
		.rx_mark_at = tl_rx_mark_at, .stage = w->stage, .note = w->slot->tls_note,
		.note_cap = sizeof(w->slot->tls_note),
	};
	if (tstack_build(&w->ts, o, &w->tenv, w->slot->error, sizeof(w->slot->error)) < 0)
		return -EINVAL;
	/* Connections: global index i belongs to worker i % n, unless the
	 * protocol places them itself. */
	if (w->p->place) {
		int r = w->p->place(w);
		if (r < 0)
			return r;
	} else {
		if (opts_fanout(o)) {
			/* Fan-out: the publishers' node, then every --listen-target. */
			w->fan_addrs = calloc(1 + o->n_listen, sizeof(*w->fan_addrs));
			if (!w->fan_addrs)
				return -ENOMEM;
			w->fan_addrs[0] = o->targets[0];
			for (unsigned i = 0; i < o->n_listen; i++)
				w->fan_addrs[1 + i] = o->listen[i];
			w->addrs = w->fan_addrs;
			w->n_addrs = 1 + o->n_listen;
		} else {
			w->addrs = o->targets;
			w->n_addrs = o->n_targets;
		}
		w->n_conns = o->conns / w->n_workers + (w->id < o->conns % w->n_workers);
	}
	w->conns = calloc(w->n_conns ? w->n_conns : 1, sizeof(*w->conns));
	w->rearm = calloc(w->n_conns ? w->n_conns : 1, sizeof(*w->rearm));
	w->ackq = calloc(w->n_conns ? w->n_conns : 1, sizeof(*w->ackq));
	w->reopenq = calloc(w->n_conns ? w->n_conns : 1, sizeof(*w->reopenq));
	if (!w->conns || !w->rearm || !w->ackq || !w->reopenq)
		return -ENOMEM;
	for (uint32_t i = 0; i < w->n_conns; i++) {
		struct conn *c = &w->conns[i];
		c->fd = -1;
		c->idx = i * w->n_workers + w->id;
		c->target = (uint8_t)opts_conn_target(o, c->idx, w->n_addrs);
		if (opts_fanout(o)) {
			/* Publishers first, all on the first target; then
			 * --listeners (--subscribers) per node, the first
			 * target included. */
			if (c->idx < o->publishers) {
				c->target = 0;
			} else {
				c->listener = 1;
				c->target = (uint8_t)((c->idx - o->publishers) /
						      opts_receivers_per_node(o));
			}
		}
		if (w->p->place_conn)
			w->p->place_conn(w, c, i);
		c->sendq_next = NO_CONN;
	}
	w->live = w->n_conns;
	w->sendq_head = w->sendq_tail = NO_CONN;
	w->max_connecting = connects_in_flight(w);
	/* A connect-only run (--messages 0, no receivers) times nothing it
	 * reads (handshakes are timed by the loop's clock): its sockets go
	 * without receive stamps or the segment filter. */
	w->stamp_reads = !(o->has_messages && o->messages == 0 && !opts_fanout(o));

	/* The schedule share of this worker. */
	w->rate = o->rate ? o->rate / w->n_workers + (w->id < o->rate % w->n_workers) : 0;
	if (o->rate && !w->rate)
		w->rate = 1;
	if (o->has_messages)
		w->limit = o->messages / w->n_workers + (w->id < o->messages % w->n_workers);
	else
		w->limit = UINT64_MAX;
	if (opts_fanout(o)) {
		/* Only publishers send: share messages and rate by publisher,
		 * so a worker holding listeners only has nothing to send. */
		uint64_t lim = 0, rt = 0;
		uint32_t pubs = 0;
		for (uint64_t pb = w->id; pb < o->publishers; pb += w->n_workers) {
			pubs++;
			lim += o->messages / o->publishers + (pb < o->messages % o->publishers);
			rt += o->rate / o->publishers + (pb < o->rate % o->publishers);
		}
		w->limit = o->has_messages || !pubs ? lim : UINT64_MAX;
		w->rate = o->rate && pubs && !rt ? 1 : rt;
	}
	uint64_t senders = w->n_conns;
	if (opts_fanout(o)) {
		senders = 0;
		for (uint64_t pb = w->id; pb < o->publishers; pb += w->n_workers)
			senders++;
	}
	w->pace_batch_ns = opts_pace_batch_ns(o, w->rate, senders);
	w->slot_cap = o->qos ? o->inflight : 0;
	w->slot_cap_m = w->slot_cap ? UINT64_MAX / w->slot_cap + 1 : 0;

	/* Big buffers for a few connections, smaller ones for many: memory
	 * stays bounded either way (a buffer is held only while sending). */
	uint64_t cs = (16u << 20) / (w->n_conns ? w->n_conns : 1);
	if (cs > 256 * 1024)
		cs = 256 * 1024;
	if (cs < 16 * 1024)
		cs = 16 * 1024;
	if (w->p->chunk_size)
		cs = w->p->chunk_size(o);
	w->chunk_size = (uint32_t)cs;
	/* An upper bound only: a fill stops when the buffer is full. */
	w->chunk_msgs = w->chunk_size / 4;
	if (o->qos && !o->rate && !o->churn) {
		uint32_t est = w->chunk_size / (16 + (o->payloads.n ? 64 : o->payload_size));
		w->batch_min = w->slot_cap / 4;
		if (w->batch_min > est)
			w->batch_min = est;
	}

	w->interval = hist_new();
	w->interval_raw = hist_new();
	w->latency = hist_new();
	w->latency_raw = hist_new();
	w->connect = hist_new();
	w->e2e = hist_new();
	for (unsigned i = 0; i < HS__COUNT; i++)
		if (!(w->stage[i] = hist_new()))
			return -ENOMEM;
	w->interval_e2e = opts_fanout(o) ? hist_new() : NULL;
	if (!w->interval || !w->interval_raw || !w->latency || !w->latency_raw || !w->connect ||
	    !w->e2e || (opts_fanout(o) && !w->interval_e2e) || measure_init(&w->ms) < 0)
		return -ENOMEM;

	w->scratch = malloc(SCRATCH_LEN);
	if (!w->scratch)
		return -ENOMEM;
	if (o->payload_proto) {
		/* Checked by the parent already; built again here after fork. */
		w->pgen = payload_gen_new(o, w->slot->error, sizeof(w->slot->error));
		if (!w->pgen)
			return -EINVAL;
		payload_gen_seed(w->pgen, w->id + 1);
		w->pbuf_cap = payload_gen_max_size(w->pgen);
		w->pbuf = malloc(w->pbuf_cap ? w->pbuf_cap : 1);
		if (!w->pbuf)
			return -ENOMEM;
	}
	int r = w->p->setup(w);
	if (r < 0) {
		snprintf(w->slot->error, sizeof(w->slot->error), "protocol setup failed: %s",
			 strerror(-r));
		return r;
	}
	if (o->rx_stamps != RX_STAMPS_READ && w->n_conns && w->stamp_reads && times_arrivals(w->p, o)) {
		char why[96];
		if (rxseg_open(&w->rxs, w->n_conns, why, sizeof(why)) < 0 &&
		    o->rx_stamps == RX_STAMPS_SEGMENT) {
			snprintf(w->slot->error, sizeof(w->slot->error), "--rx-stamps segment: %s", why);
			return -EPERM;
		}
	}
	return setup_ring(w);
}

void teardown(struct worker *w)
{
	for (uint32_t i = 0; i < w->n_conns; i++) {
		struct conn *c = &w->conns[i];
		if (c->fd >= 0)
			close(c->fd);
		free(c->carry);
		free(c->slots);
		if (c->tx)
			free(c->tx);
		free(c->tx_after);
	}
	for (uint32_t i = 0; i < w->n_conns; i++)
		tlink_close(&w->conns[i].tl);
	tstack_free(&w->ts);
	if (w->p && w->p->teardown)
		w->p->teardown(w);
	if (w->ring_ok)
		io_uring_queue_exit(&w->ring);
	while (w->free_chunks) {
		struct chunk *ch = w->free_chunks;
		w->free_chunks = ch->next;
		free(ch);
	}
	while (w->free_small) {
		struct chunk *ch = w->free_small;
		w->free_small = ch->next;
		free(ch);
	}
	rxseg_close(w->rxs); /* after the sockets: nothing attached is left */
	free(w->rbufs);
	free(w->conns);
	free(w->rearm);
	free(w->ackq);
	free(w->reopenq);
	free(w->payload);
	free(w->scratch);
	free(w->pbuf);
	if (w->pgen)
		payload_gen_free(w->pgen);
	free(w->interval);
	free(w->interval_raw);
	free(w->latency);
	free(w->latency_raw);
	free(w->connect);
	free(w->e2e);
	for (unsigned i = 0; i < HS__COUNT; i++)
		free(w->stage[i]);
	free(w->interval_e2e);
	measure_free(&w->ms);
	free(w->fan_addrs);
}
