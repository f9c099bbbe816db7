/* Kafka for the engine: a producer with no client library.
 *
 * Due messages go into per-partition queues: round-robin a batch at a time
 * (a sticky partitioner), or by the Java client's murmur2 of --key. A ready
 * connection to a partition's leader takes every queued partition of its
 * broker into one Produce request once a partition holds a full batch or
 * its oldest message has waited --linger. Responses settle messages per
 * partition: acked, sent again after a metadata refresh (leader moved,
 * transient broker error), or failed (any other error, counted by name).
 *
 * Accounting: a message counts as sent the first time it is encoded; a
 * message sent again is still one message, so nothing is counted twice. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats/clock.h"
#include "encoders/kafka.h"
#include "protocol/kafka_meta.h"
#include "payload/marker.h"
#include "payload/protobuf.h"
#include "engine/protocol.h"
#include "protocol/kafka_auth.h"
#include "protocol/kafka_place.h"
#include "protocol/registry.h"
#include "engine/worker.h"

#define KMSG_RESENT (1ull << 63)
#define REQUEST_TIMEOUT_MS 30000
#define MD_RETRY_NS (200 * NSEC_PER_MSEC)
#define KEY_CAP 1024
#define HDR_BUF_CAP 16384

enum kreq_kind { KREQ_PRODUCE = 1, KREQ_METADATA };

struct kmsg {
	uint64_t idx;      /* schedule index, KMSG_RESENT once it was sent */
	uint64_t intended; /* when the schedule wanted it sent */
};

struct kpart {
	int32_t id;
	int32_t leader;    /* index into the broker table, -1 while none */
	struct kmsg *q;    /* ring */
	uint32_t head, len, cap;
};

struct kent {
	struct kmsg m;
	uint32_t part;     /* index into parts */
};

struct kreq {
	int32_t corr;
	uint8_t kind;
	uint32_t n, cap;
	struct kent *ents;
	uint64_t sent_ns;
};

struct kconn {
	struct kreq *reqs; /* ring: requests awaiting their response, in order */
	uint32_t head, len, cap;
	int32_t next_corr;
	uint32_t part_rr;  /* where the next request starts among partitions */
	struct kauth *auth; /* SASL, while the connection authenticates */
};

struct kstate {
	struct kpart *parts;
	uint32_t n_parts;
	uint32_t rr_part, rr_left, batch_records;
	uint64_t queued_fresh;  /* never sent yet */
	uint64_t queued_resend; /* sent before, waiting to go again */
	uint64_t max_queued;
	uint64_t linger_ns;
	bool need_md, md_inflight;
	uint64_t t_md_retry;
	uint8_t *gz;
	size_t gz_cap;
	char key[KEY_CAP];
	struct kafka_header hdrs[64];
	char hdr_buf[HDR_BUF_CAP];
	bool settled;
	struct scram_cache scram; /* SCRAM's key, derived once for every connection */
};

static struct kstate *kst(const struct worker *w)
{
	return w->pstate;
}

static uint64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int q_push(struct kpart *p, struct kmsg m)
{
	if (p->len == p->cap) {
		uint32_t ncap = p->cap ? p->cap * 2 : 256;
		struct kmsg *nq = malloc(ncap * sizeof(*nq));
		if (!nq)
			return -ENOMEM;
		for (uint32_t i = 0; i < p->len; i++)
			nq[i] = p->q[(p->head + i) % p->cap];
		free(p->q);
		p->q = nq;
		p->head = 0;
		p->cap = ncap;
	}
	p->q[(p->head + p->len) % p->cap] = m;
	p->len++;
	return 0;
}

static struct kmsg q_pop(struct kpart *p)
{
	struct kmsg m = p->q[p->head];

	p->head = (p->head + 1) % p->cap;
	p->len--;
	return m;
}

/* The key of message seq, expanded into k->key. {conn} is the worker: the
 * partition is chosen before a connection is. */
static int kf_key(struct worker *w, uint64_t seq)
{
	return template_expand(kst(w)->key, KEY_CAP, w->o->key, w->id, seq, 0);
}

static int32_t part_index_by_id(const struct kstate *k, int32_t id)
{
	/* parts are sorted by id; with --key they are all the topic's. */
	if ((uint32_t)id < k->n_parts && k->parts[id].id == id)
		return id;
	for (uint32_t i = 0; i < k->n_parts; i++)
		if (k->parts[i].id == id)
			return (int32_t)i;
	return -1;
}

static uint64_t seq_of(const struct worker *w, uint64_t idx)
{
	return idx * w->n_workers + w->id;
}

static void kf_assign(struct worker *w, uint64_t idx)
{
	struct kstate *k = kst(w);
	uint32_t pi;

	if (w->o->key) {
		int n = kf_key(w, seq_of(w, idx));
		int32_t id = kafka_partition_for_key((const uint8_t *)k->key, n > 0 ? (size_t)n : 0,
						     ((struct kafka_meta *)w->shared)->topic_parts);
		int32_t i = part_index_by_id(k, id);
		pi = i < 0 ? 0 : (uint32_t)i;
	} else {
		if (!k->rr_left) {
			k->rr_part = (k->rr_part + 1) % k->n_parts;
			k->rr_left = k->batch_records;
		}
		pi = k->rr_part;
		k->rr_left--;
	}
	struct kmsg m = { .idx = idx, .intended = worker_msg_start(w, idx) };
	if (q_push(&k->parts[pi], m) == 0)
		k->queued_fresh++;
}

static void requeue(struct worker *w, const struct kent *e)
{
	struct kstate *k = kst(w);
	struct kmsg m = e->m;

	m.idx |= KMSG_RESENT;
	if (q_push(&k->parts[e->part], m) == 0) {
		k->queued_resend++;
	} else {
		w->t.failed++;
		w->t.inflight--;
	}
}

static int req_reserve(struct kreq *r, uint32_t n)
{
	if (n <= r->cap)
		return 0;
	uint32_t ncap = r->cap ? r->cap : 256;
	while (ncap < n)
		ncap *= 2;
	struct kent *ne = realloc(r->ents, ncap * sizeof(*ne));
	if (!ne)
		return -ENOMEM;
	r->ents = ne;
	r->cap = ncap;
	return 0;
}

/* Value of message seq sent on c: the sized payload with its marker, or
 * the next --payload-file line. */
static const uint8_t *kf_value(struct worker *w, struct conn *c, uint64_t seq, size_t *len)
{
	const struct blast_opts *o = w->o;

	if (w->pgen) {
		ssize_t n = payload_gen_fill(w->pgen, seq, w->pbuf, w->pbuf_cap);
		*len = n > 0 ? (size_t)n : 0;
		return w->pbuf;
	}
	if (o->payloads.n) {
		size_t line = w->payload_next++ % o->payloads.n;
		*len = o->payloads.lens[line];
		return (const uint8_t *)o->payloads.lines[line];
	}
	if (w->payload_len >= MARKER_LEN)
		marker_stamp(w->payload, c->idx, seq);
	*len = w->payload_len;
	return w->payload;
}

static size_t kf_headers(struct worker *w, struct conn *c, uint64_t seq)
{
	struct kstate *k = kst(w);
	const struct blast_opts *o = w->o;
	size_t used = 0, n = 0;

	for (uint32_t i = 0; i < o->n_headers && n < 64; i++) {
		int l = template_expand(k->hdr_buf + used, HDR_BUF_CAP - used, o->headers[i].value,
					c->idx, seq, 0);
		if (l < 0)
			break;
		k->hdrs[n].key = o->headers[i].name;
		k->hdrs[n].key_len = strlen(o->headers[i].name);
		k->hdrs[n].value = (const uint8_t *)k->hdr_buf + used;
		k->hdrs[n].value_len = (size_t)l;
		used += (size_t)l + 1;
		n++;
	}
	return n;
}

static bool part_ready(const struct worker *w, const struct kpart *p, bool flush)
{
	const struct kstate *k = kst(w);

	if (!p->len)
		return false;
	if (flush || p->len >= k->batch_records)
		return true;
	return w->now >= p->q[p->head].intended + k->linger_ns;
}

/* One Produce request for every ready partition c's broker leads. */
static void kf_send_produce(struct worker *w, struct conn *c, bool flush)
{
	struct kstate *k = kst(w);
	struct kconn *kc = c->pstate;
	const struct blast_opts *o = w->o;
	bool any = false;

	for (uint32_t i = 0; i < k->n_parts && !any; i++)
		any = k->parts[i].leader == c->target && part_ready(w, &k->parts[i], flush);
	if (!any)
		return;
	struct chunk *ch = worker_chunk_get(w);
	if (!ch)
		return;
	struct kreq *rq = &kc->reqs[(kc->head + kc->len) % kc->cap];
	struct kafka_produce pr;
	int32_t corr = kc->next_corr++;
	uint64_t ts = realtime_ms();
	rq->n = 0;
	uint32_t h = w->ts.headroom; /* the transport frames in front (none for TLS) */
	kafka_produce_begin(&pr, ch->data + h, ch->cap - h, ((struct kafka_meta *)w->shared)->produce_version, corr, "blast", o->acks,
			    REQUEST_TIMEOUT_MS, o->topic, strlen(o->topic));
	for (uint32_t j = 0; j < k->n_parts; j++) {
		uint32_t pi = (kc->part_rr + j) % k->n_parts;
		struct kpart *p = &k->parts[pi];
		if (p->leader != c->target || !p->len)
			continue;
		/* Room for a batch header and at least one record? */
		size_t used = (size_t)(pr.w.p - pr.w.base);
		if (used + 256 + o->batch_size / 8 > ch->cap - h && rq->n)
			break;
		kafka_produce_partition_begin(&pr, p->id);
		kafka_batch_begin(&pr, (int64_t)ts, o->compression, k->gz, k->gz_cap);
		size_t batch_bytes = 0;
		while (p->len) {
			struct kmsg m = p->q[p->head];
			uint64_t idx = m.idx & ~KMSG_RESENT;
			uint64_t seq = seq_of(w, idx);
			size_t vlen, klen = 0;
			const uint8_t *val = kf_value(w, c, seq, &vlen);
			const uint8_t *key = NULL;
			if (o->key) {
				int n = kf_key(w, seq);
				key = (const uint8_t *)k->key;
				klen = n > 0 ? (size_t)n : 0;
			}
			size_t nh = kf_headers(w, c, seq);
			size_t need = kafka_record_size_max(klen, vlen, k->hdrs, nh);
			size_t now_used = (size_t)(pr.w.p - pr.w.base);
			if (batch_bytes && batch_bytes + need > o->batch_size)
				break;
			if (now_used + need + 128 > ch->cap - h)
				break;
			if (req_reserve(rq, rq->n + 1) < 0)
				break;
			if (kafka_batch_add(&pr, (int64_t)ts, key, klen, val, vlen, k->hdrs, nh) < 0)
				break;
			q_pop(p);
			batch_bytes += need;
			if (m.idx & KMSG_RESENT) {
				k->queued_resend--;
			} else {
				k->queued_fresh--;
				w->t.sent++;
				w->t.inflight++;
				if (!w->first_send_ns)
					w->first_send_ns = w->now;
				w->last_send_ns = w->now;
			}
			rq->ents[rq->n++] = (struct kent){ .m = m, .part = pi };
		}
		kafka_batch_end(&pr);
	}
	kc->part_rr = (kc->part_rr + 1) % k->n_parts;
	ssize_t len = kafka_produce_end(&pr);
	if (len < 0 || !rq->n) {
		/* Could not encode: put the messages back for the next try. */
		for (uint32_t i = 0; i < rq->n; i++)
			requeue(w, &rq->ents[i]);
		worker_chunk_put(w, ch);
		if (len < 0)
			w->t.errors[ERR_SEND]++;
		return;
	}
	rq->corr = corr;
	rq->kind = KREQ_PRODUCE;
	rq->sent_ns = w->now;
	kc->len++;
	ch->off = h;
	ch->len = h + (uint32_t)len;
	ch->n_msgs = rq->n;
	ch->n_frames = 1;
	conn_send_chunk(w, c, ch);
}

static void kf_send_metadata(struct worker *w)
{
	struct kstate *k = kst(w);

	for (uint32_t i = 0; i < w->n_conns; i++) {
		struct conn *c = &w->conns[i];
		struct kconn *kc = c->pstate;
		if (c->state != CS_READY || c->tx || kc->len >= kc->cap)
			continue;
		struct chunk *ch = worker_chunk_get(w);
		if (!ch)
			return;
		const char *topics[1] = { w->o->topic };
		int32_t corr = kc->next_corr++;
		uint32_t h = w->ts.headroom;
		ssize_t n = kafka_encode_metadata(ch->data + h, ch->cap - h, ((struct kafka_meta *)w->shared)->metadata_version, corr,
						  "blast", topics, 1);
		if (n < 0) {
			worker_chunk_put(w, ch);
			return;
		}
		struct kreq *rq = &kc->reqs[(kc->head + kc->len) % kc->cap];
		rq->corr = corr;
		rq->kind = KREQ_METADATA;
		rq->n = 0;
		rq->sent_ns = w->now;
		kc->len++;
		ch->off = h;
		ch->len = h + (uint32_t)n;
		ch->n_frames = 1;
		k->md_inflight = true;
		conn_send_chunk(w, c, ch);
		return;
	}
}

static void kf_pump(struct worker *w)
{
	struct kstate *k = kst(w);

	if (w->phase == PHASE_RUNNING && w->t0) {
		uint64_t due = worker_sched_sendable(w);
		while (w->next_msg < due && k->queued_fresh < k->max_queued)
			kf_assign(w, w->next_msg++);
	}
	if (w->phase > PHASE_DRAINING)
		return;
	if (k->need_md && !k->md_inflight && w->now >= k->t_md_retry)
		kf_send_metadata(w);
	bool flush = w->phase != PHASE_RUNNING || (w->next_msg >= w->limit && w->limit);
	for (uint32_t i = 0; i < w->n_conns; i++) {
		struct conn *c = &w->conns[i];
		struct kconn *kc = c->pstate;
		if (kc->auth && c->state == CS_HANDSHAKE)
			kauth_flush(w, c, kc->auth);
		/* One slot stays free for a metadata request. */
		if (c->state == CS_READY && !c->tx && kc->len + 1 < kc->cap)
			kf_send_produce(w, c, flush);
	}
}

/* ---- responses ---- */

struct produce_ctx {
	struct worker *w;
	struct kreq *rq;
	uint8_t *done; /* per entry: settled */
};

static void count_kafka_error(struct worker *w, int16_t err)
{
	int slot = err + 1;

	if (slot >= 0 && slot < KAFKA_ERR_SLOTS)
		w->t.kafka_error[slot]++;
	else
		w->t.kafka_error[0]++; /* outside the table: UNKNOWN_SERVER_ERROR */
}

static int on_produce_part(void *ctx, const char *topic, size_t topic_len, int32_t partition,
			   int16_t err, int64_t base_offset)
{
	struct produce_ctx *pc = ctx;
	struct worker *w = pc->w;
	struct kstate *k = kst(w);
	struct kreq *rq = pc->rq;

	(void)topic;
	(void)topic_len;
	(void)base_offset;
	if (err) {
		count_kafka_error(w, err);
		if (kafka_error_refresh_metadata(err))
			k->need_md = true;
	}
	uint64_t t_rx = 0; /* the response's arrival, taken once */
	for (uint32_t i = 0; i < rq->n; i++) {
		struct kent *e = &rq->ents[i];
		if (pc->done[i] || k->parts[e->part].id != partition)
			continue;
		pc->done[i] = 1;
		if (!err) {
			w->t.acked++;
			w->t.inflight--;
			/* When the response arrived (w->now outside a read). */
			if (!t_rx)
				t_rx = worker_rx_ns(w);
			hist_record(w->interval, (int64_t)(t_rx - e->m.intended));
			if (w->rate)
				hist_record(w->interval_raw, (int64_t)(t_rx - rq->sent_ns));
		} else if (kafka_error_retriable(err)) {
			requeue(w, e);
		} else {
			w->t.failed++;
			w->t.inflight--;
		}
	}
	return 0;
}

static int on_md_broker(void *ctx, int32_t id, const char *host, size_t host_len, int32_t port)
{
	(void)ctx, (void)id, (void)host, (void)host_len, (void)port;
	return 0; /* the broker set is fixed at bootstrap */
}

static int on_md_part(void *ctx, const char *topic, size_t topic_len, int16_t topic_error,
		      int32_t partition, int16_t partition_error, int32_t leader)
{
	struct worker *w = ctx;
	struct kstate *k = kst(w);

	(void)topic_error;
	if (topic_len != strlen(w->o->topic) || memcmp(topic, w->o->topic, topic_len) || partition < 0)
		return 0;
	int32_t pi = part_index_by_id(k, partition);
	if (pi < 0)
		return 0;
	k->parts[pi].leader = partition_error && leader < 0 ? -1 : kafka_meta_broker_index(((struct kafka_meta *)w->shared), leader);
	return 0;
}

static int kf_on_frame(struct worker *w, struct conn *c, const uint8_t *frame, size_t len)
{
	struct kstate *k = kst(w);
	struct kconn *kc = c->pstate;
	const uint8_t *body;
	size_t body_len;
	int32_t corr;

	if (c->state == CS_HANDSHAKE)
		return kauth_on_frame(w, c, &kc->auth, frame, len);
	/* With acks=0 a broker answers no Produce, but librdkafka's mock does:
	 * an answer to a request already settled on write is let go. */
	if (!kc->len) {
		if (w->o->acks == 0)
			return 0;
		conn_fail(w, c, ERR_PROTOCOL);
		return -1;
	}
	struct kreq *rq = &kc->reqs[kc->head];
	int16_t ver = rq->kind == KREQ_PRODUCE ? ((struct kafka_meta *)w->shared)->produce_version : ((struct kafka_meta *)w->shared)->metadata_version;
	int16_t api = rq->kind == KREQ_PRODUCE ? KAFKA_API_PRODUCE : KAFKA_API_METADATA;
	if (kafka_parse_response_header(frame, len, kafka_is_flexible(api, ver), &corr, &body,
					&body_len) < 0) {
		conn_fail(w, c, ERR_PROTOCOL);
		return -1;
	}
	if (corr != rq->corr) {
		if (w->o->acks == 0)
			return 0;
		conn_fail(w, c, ERR_PROTOCOL);
		return -1;
	}
	if (rq->kind == KREQ_PRODUCE) {
		uint8_t done_small[512];
		uint8_t *done = rq->n <= sizeof(done_small) ? done_small : calloc(rq->n, 1);
		if (!done) {
			conn_fail(w, c, ERR_RECV);
			return -1;
		}
		memset(done, 0, rq->n <= sizeof(done_small) ? rq->n : 0);
		struct produce_ctx pc = { .w = w, .rq = rq, .done = done };
		int r = kafka_parse_produce(body, body_len, ver, on_produce_part, &pc);
		if (r == 0) {
			/* A partition the response left out was not written. */
			for (uint32_t i = 0; i < rq->n; i++)
				if (!done[i])
					requeue(w, &rq->ents[i]);
		}
		if (done != done_small)
			free(done);
		if (r < 0) {
			conn_fail(w, c, ERR_PROTOCOL);
			return -1;
		}
		rq->n = 0;
	} else {
		struct kafka_md_cb cb = { .broker = on_md_broker, .partition = on_md_part, .ctx = w };
		k->md_inflight = false;
		if (kafka_parse_metadata(body, body_len, ver, &cb) < 0) {
			conn_fail(w, c, ERR_PROTOCOL);
			return -1;
		}
		k->need_md = false;
		for (uint32_t i = 0; i < k->n_parts; i++)
			if (k->parts[i].leader < 0)
				k->need_md = true;
		k->t_md_retry = w->now + MD_RETRY_NS;
	}
	kc->head = (kc->head + 1) % kc->cap;
	kc->len--;
	return 0;
}

/* acks=0: the broker answers nothing; a request written whole is acked. */
static void kf_on_written(struct worker *w, struct conn *c, struct chunk *ch, uint32_t written)
{
	struct kconn *kc = c->pstate;

	if (w->o->acks != 0 || !kc->len || !ch->n_msgs || written < ch->n_msgs)
		return;
	/* The newest request is the one this chunk carried. */
	uint32_t last = (kc->head + kc->len - 1) % kc->cap;
	struct kreq *rq = &kc->reqs[last];
	if (rq->kind != KREQ_PRODUCE)
		return;
	for (uint32_t i = 0; i < rq->n; i++) {
		w->t.acked++;
		w->t.inflight--;
		hist_record(w->interval, (int64_t)(w->now - rq->ents[i].m.intended));
		if (w->rate)
			hist_record(w->interval_raw, (int64_t)(w->now - rq->sent_ns));
	}
	rq->n = 0;
	kc->len--;
}

/* Lost: every message c carried goes back to its partition's queue, and the
 * leaders are asked again. Run over: they are unacked, and so is whatever
 * waits to be sent again; messages never sent are not_sent. */
static void kf_conn_settle(struct worker *w, struct conn *c, bool lost)
{
	struct kstate *k = kst(w);
	struct kconn *kc = c->pstate;

	for (uint32_t j = 0; j < kc->len; j++) {
		struct kreq *rq = &kc->reqs[(kc->head + j) % kc->cap];
		if (rq->kind == KREQ_METADATA)
			k->md_inflight = false;
		for (uint32_t i = 0; i < rq->n; i++) {
			if (lost) {
				requeue(w, &rq->ents[i]);
			} else {
				w->t.unacked++;
				w->t.inflight--;
			}
		}
		rq->n = 0;
	}
	kc->head = kc->len = 0;
	kauth_free(&kc->auth);
	if (lost) {
		k->need_md = true;
		return;
	}
	if (k->settled)
		return;
	k->settled = true;
	for (uint32_t i = 0; i < k->n_parts; i++) {
		struct kpart *p = &k->parts[i];
		while (p->len) {
			struct kmsg m = q_pop(p);
			if (m.idx & KMSG_RESENT) {
				w->t.unacked++;
				w->t.inflight--;
			} else {
				w->t.not_sent++;
			}
		}
	}
	k->queued_fresh = k->queued_resend = 0;
}

static bool kf_idle(const struct worker *w)
{
	const struct kstate *k = kst(w);

	return !k->queued_fresh && !k->queued_resend;
}

static uint64_t kf_next_wakeup(const struct worker *w)
{
	const struct kstate *k = kst(w);
	uint64_t t = 0;

	for (uint32_t i = 0; i < k->n_parts; i++) {
		const struct kpart *p = &k->parts[i];
		if (!p->len)
			continue;
		uint64_t due = p->q[p->head].intended + k->linger_ns;
		if (!t || due < t)
			t = due;
	}
	if (k->need_md && (!t || k->t_md_retry < t))
		t = k->t_md_retry;
	return t;
}

static int kf_setup(struct worker *w)
{
	const struct blast_opts *o = w->o;
	const struct kafka_meta *m = w->shared;
	struct kstate *k = calloc(1, sizeof(*k));

	if (!k)
		return -ENOMEM;
	w->pstate = k;
	k->n_parts = m->n_parts;
	k->parts = calloc(k->n_parts, sizeof(*k->parts));
	if (!k->parts)
		return -ENOMEM;
	for (uint32_t i = 0; i < k->n_parts; i++) {
		k->parts[i].id = m->part_id[i];
		k->parts[i].leader = kafka_meta_broker_index(m, m->leader[i]);
		if (k->parts[i].leader < 0)
			k->need_md = true;
	}
	size_t vmax = w->pgen ? w->pbuf_cap : o->payloads.n ? 256 : o->payload_size;
	size_t rec = kafka_record_size_max(o->key ? 64 : 0, vmax, NULL, 0) +
		     o->n_headers * 32;
	k->batch_records = (uint32_t)(o->batch_size / (rec ? rec : 1));
	if (!k->batch_records)
		k->batch_records = 1;
	k->rr_part = w->id % k->n_parts;
	k->rr_left = k->batch_records;
	k->linger_ns = o->linger_ns;
	k->max_queued = (uint64_t)k->batch_records * k->n_parts * (o->inflight + 1);
	if (o->compression) {
		k->gz_cap = w->chunk_size;
		k->gz = malloc(k->gz_cap);
		if (!k->gz)
			return -ENOMEM;
	}
	if (!o->payloads.n) {
		w->payload_len = o->payload_size;
		w->payload = malloc(w->payload_len ? w->payload_len : 1);
		if (!w->payload)
			return -ENOMEM;
		for (uint32_t i = 0; i < w->payload_len; i++)
			w->payload[i] = (uint8_t)('a' + i % 26);
	}
	uint32_t window = o->inflight + 1; /* + 1 for a metadata request */
	for (uint32_t i = 0; i < w->n_conns; i++) {
		struct kconn *kc = calloc(1, sizeof(*kc));
		if (!kc)
			return -ENOMEM;
		kc->reqs = calloc(window, sizeof(*kc->reqs));
		if (!kc->reqs) {
			free(kc);
			return -ENOMEM;
		}
		kc->cap = window;
		kc->next_corr = 1;
		kc->part_rr = i % k->n_parts;
		w->conns[i].pstate = kc;
	}
	return 0;
}

static void kf_teardown(struct worker *w)
{
	struct kstate *k = kst(w);

	for (uint32_t i = 0; i < w->n_conns; i++) {
		struct kconn *kc = w->conns[i].pstate;
		if (!kc)
			continue;
		kauth_free(&kc->auth);
		for (uint32_t j = 0; j < kc->cap; j++)
			free(kc->reqs[j].ents);
		free(kc->reqs);
		free(kc);
		w->conns[i].pstate = NULL;
	}
	if (!k)
		return;
	for (uint32_t i = 0; i < k->n_parts; i++)
		free(k->parts[i].q);
	free(k->parts);
	free(k->gz);
	free(k);
	w->pstate = NULL;
}

/* Versions were settled at bootstrap: the hello is SASL's, if asked for. */
static ssize_t kf_hello(struct worker *w, struct conn *c, uint8_t *out, size_t cap)
{
	struct kconn *kc = c->pstate;

	return kauth_hello(w, c, ((struct kafka_meta *)w->shared)->sasl_auth_version,
			   &kst(w)->scram, &kc->auth, out, cap);
}

static ssize_t kf_frame_total(const uint8_t *buf, size_t len)
{
	return kafka_frame_total(buf, len, 64u << 20);
}

const struct proto_ops kafka_proto = {
	.name = "kafka",
	.place = kf_place,
	.place_conn = kf_place_conn,
	.chunk_size = kf_chunk_size,
	.times_arrivals = kf_times_arrivals,
	.sends_wait = true,
	.setup = kf_setup,
	.hello = kf_hello,
	.frame_total = kf_frame_total,
	.on_frame = kf_on_frame,
	/* No fill, goodbye, ping or control frames: kf_pump builds every
	 * request, and a Produce counts as written whole or not at all. */
	.pump = kf_pump,
	.conn_settle = kf_conn_settle,
	.on_written = kf_on_written,
	.idle = kf_idle,
	.next_wakeup = kf_next_wakeup,
	.teardown = kf_teardown,
};
