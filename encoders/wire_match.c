/* Requests and acks seen in a capture: flows, reassembly, protocol frames,
 * matching. See wire_match.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka.h"
#include "mqtt.h"
#include "wire_match.h"
#include "ws.h"

#define PARSE_ERR ((size_t)-1)
#define WS_HDR 44      /* "BLWS" run(8 hex) seq(16 hex) sent(16 hex): proto_ws.c */
#define HTTP_MAX 16384 /* an upgrade request or response longer than this is not one */

struct held {
	uint32_t seq;
	size_t cap, wire;
	uint64_t ts;
	uint8_t *data;
};

struct dir {
	bool seq_known;
	bool resync;     /* after a gap: the next bytes may not start a frame */
	bool http_done;  /* WebSocket: the upgrade's header block is behind */
	uint32_t next;   /* sequence number of the next byte expected */
	uint8_t *buf;    /* bytes of a frame not yet whole */
	size_t len, cap;
	uint64_t buf_ts; /* when buf[0] was seen */
	struct held *held;
	unsigned n_held;
	/* MQTT over WebSocket: the messages' bytes, an MQTT stream of their own. */
	uint8_t *inner;
	size_t inner_len, inner_cap;
	uint64_t inner_ts;
};

struct flow {
	uint8_t family;
	uint8_t addr[2][16];
	uint16_t port[2];
	int8_t client;    /* side that opened the connection */
	bool client_sure; /* seen in a SYN or in the first bytes, not guessed */
	bool ignored;     /* not on a --port */
	uint8_t proto;    /* enum wm_proto; WM_AUTO until recognised */
	uint8_t mqtt_v;   /* CONNECT's protocol level, 0 until seen */
	bool given_up;    /* first bytes recognised nothing */
	bool ws_mqtt;     /* WebSocket carrying MQTT (a client's first message is a CONNECT) */
	bool ws_checked;  /* the client's first WebSocket message was looked at */
	struct dir d[2];
};

/* Requests awaiting an ack: (a, b) -> when, how many messages. */
enum { K_MQTT = 1, K_KAFKA = 2, K_WS = 3 };
enum { P_EMPTY = 0, P_USED, P_TOMB };
enum { KF_OTHER = 0, KF_PRODUCE, KF_ACKS0 };

/* A Produce request's records per partition, to ack only what the
 * response accepted. */
struct kpart {
	uint32_t topic; /* hash of the topic name */
	int32_t partition;
	uint32_t records;
};

struct pend {
	uint64_t a, b;
	uint64_t ts;
	uint32_t n;     /* Kafka: records; WebSocket: receipts so far */
	uint8_t state, flags;
	int16_t ver;    /* Kafka: the request's version, for its response */
	uint32_t n_parts;
	struct kpart *parts;
};

struct wm {
	struct wm_opts o;
	struct wire_stats s;
	struct wm_counts c;
	struct flow **flows;
	size_t n_flows, flows_cap;
	uint32_t *fslots; /* flow index + 1, 0 = empty */
	size_t fslots_cap;
	struct pend *p;
	size_t p_cap, p_used, p_tombs;
	bool oom;
};

const char *wm_proto_name(enum wm_proto p)
{
	return p == WM_MQTT ? "mqtt" : p == WM_KAFKA ? "kafka" : p == WM_WS ? "ws" : "unknown";
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* ---- pending requests: open addressing, tombstones ---- */

static size_t pend_slot(const struct wm *m, uint64_t a, uint64_t b)
{
	return (size_t)mix(a * 0x9e3779b97f4a7c15ull ^ b) & (m->p_cap - 1);
}

static struct pend *pend_get(struct wm *m, uint64_t a, uint64_t b)
{
	if (!m->p_cap)
		return NULL;
	for (size_t i = pend_slot(m, a, b), k = 0; k < m->p_cap; i = (i + 1) & (m->p_cap - 1), k++) {
		struct pend *e = &m->p[i];
		if (e->state == P_EMPTY)
			return NULL;
		if (e->state == P_USED && e->a == a && e->b == b)
			return e;
	}
	return NULL;
}

static bool pend_grow(struct wm *m)
{
	size_t cap = m->p_cap ? m->p_cap * 2 : 1024;

	if (m->p_cap && m->p_used * 4 < m->p_cap)
		cap = m->p_cap; /* mostly tombstones: rehash in place size */
	struct pend *n = calloc(cap, sizeof(*n));
	if (!n)
		return false;
	for (size_t i = 0; i < m->p_cap; i++) {
		struct pend *e = &m->p[i];
		if (e->state != P_USED)
			continue;
		size_t j = (size_t)mix(e->a * 0x9e3779b97f4a7c15ull ^ e->b) & (cap - 1);
		while (n[j].state == P_USED)
			j = (j + 1) & (cap - 1);
		n[j] = *e;
	}
	free(m->p);
	m->p = n;
	m->p_cap = cap;
	m->p_tombs = 0;
	return true;
}

/* Inserts or finds (a, b); NULL when out of memory. */
static struct pend *pend_put(struct wm *m, uint64_t a, uint64_t b, bool *fresh)
{
	struct pend *e = pend_get(m, a, b);

	*fresh = false;
	if (e)
		return e;
	if ((m->p_used + m->p_tombs + 1) * 10 > m->p_cap * 7 && !pend_grow(m)) {
		m->oom = true;
		return NULL;
	}
	size_t i = pend_slot(m, a, b);
	while (m->p[i].state == P_USED)
		i = (i + 1) & (m->p_cap - 1);
	if (m->p[i].state == P_TOMB)
		m->p_tombs--;
	e = &m->p[i];
	memset(e, 0, sizeof(*e));
	e->a = a;
	e->b = b;
	e->state = P_USED;
	m->p_used++;
	*fresh = true;
	return e;
}

static void pend_del(struct wm *m, struct pend *e)
{
	free(e->parts);
	e->parts = NULL;
	e->n_parts = 0;
	e->state = P_TOMB;
	m->p_used--;
	m->p_tombs++;
}

static void latency(struct wm *m, uint64_t req_ts, uint64_t ack_ts, uint64_t n)
{
	int64_t d = ack_ts >= req_ts ? (int64_t)(ack_ts - req_ts) : 0;
	hist_record_n(&m->s.latency, d, n);
}

/* ---- MQTT ---- */

static uint64_t flow_key(int kind, uint32_t flow, int side)
{
	return (uint64_t)kind << 56 | (uint64_t)flow << 1 | (uint64_t)side;
}

static void mqtt_connect(struct flow *f, const struct mqtt_frame *fr)
{
	if (fr->body_len < 2)
		return;
	size_t nl = be16(fr->body);
	if (fr->body_len < 2 + nl + 1)
		return;
	uint8_t level = fr->body[2 + nl];
	f->mqtt_v = level == MQTT_V5 ? MQTT_V5 : MQTT_V311;
}

/* The packet id of a QoS > 0 PUBLISH, by the decoder when the version is
 * known, else by hand (its place is the same in 3.1.1 and 5). */
static int mqtt_publish_id(const struct flow *f, const struct mqtt_frame *fr, uint16_t *id)
{
	if (f->mqtt_v) {
		struct mqtt_publish pub;
		if (mqtt_parse_publish(fr, (enum mqtt_version)f->mqtt_v, &pub))
			return -EPROTO;
		*id = pub.packet_id;
		return 0;
	}
	if (fr->body_len < 2)
		return -EPROTO;
	size_t tl = be16(fr->body);
	if (fr->body_len < 2 + tl + 2)
		return -EPROTO;
	*id = be16(fr->body + 2 + tl);
	return *id ? 0 : -EPROTO;
}

static void mqtt_frame(struct wm *m, uint32_t fid, struct flow *f, int side,
		       const struct mqtt_frame *fr, uint64_t ts)
{
	switch (fr->type) {
	case MQTT_CONNECT:
		mqtt_connect(f, fr);
		return;
	case MQTT_PUBLISH: {
		uint8_t qos = (fr->flags >> 1) & 3;
		uint16_t id;
		bool fresh;
		m->c.req_frames++;
		if (qos == 0) { /* no ack comes: done once on the wire, as blast counts it */
			m->s.requests++;
			m->s.acks++;
			return;
		}
		if (mqtt_publish_id(f, fr, &id)) {
			m->s.unparsed++;
			return;
		}
		struct pend *e = pend_put(m, flow_key(K_MQTT, fid, side), id, &fresh);
		if (e && fresh) { /* a DUP resend keeps the first time */
			e->ts = ts;
			m->s.requests++;
		}
		return;
	}
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBCOMP: {
		struct mqtt_ack ack;
		enum mqtt_version v = f->mqtt_v ? f->mqtt_v : fr->body_len > 2 ? MQTT_V5 : MQTT_V311;
		if (mqtt_parse_ack(fr, v, &ack)) {
			m->s.unparsed++;
			return;
		}
		struct pend *e = pend_get(m, flow_key(K_MQTT, fid, !side), ack.packet_id);
		if (fr->type == MQTT_PUBREC) { /* QoS 2 goes on to PUBCOMP, unless refused */
			if (e && ack.reason >= 0x80)
				pend_del(m, e);
			return;
		}
		m->c.ack_frames++;
		if (!e) {
			m->s.unmatched++;
			return;
		}
		if (ack.reason < 0x80) {
			m->s.acks++;
			latency(m, e->ts, ts, 1);
		}
		pend_del(m, e);
		return;
	}
	default:
		return;
	}
}

static size_t parse_mqtt(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
			 size_t n, size_t carried, uint64_t cts, uint64_t nts)
{
	size_t off = 0;

	while (off < n) {
		struct mqtt_frame fr;
		ssize_t r = mqtt_decode_frame(p + off, n - off, WM_MAX_FRAME, &fr);
		if (r < 0)
			return PARSE_ERR;
		if (r == 0)
			break;
		mqtt_frame(m, fid, f, side, &fr, off < carried ? cts : nts);
		off += (size_t)r;
	}
	return off;
}

/* ---- Kafka ---- */

struct rd {
	const uint8_t *p;
	size_t n, o;
	bool bad;
};

static bool rd_need(struct rd *r, size_t k)
{
	if (r->bad || k > r->n - r->o) {
		r->bad = true;
		return false;
	}
	return true;
}

static int32_t rd_i32(struct rd *r)
{
	if (!rd_need(r, 4))
		return 0;
	r->o += 4;
	return (int32_t)be32(r->p + r->o - 4);
}

static int16_t rd_i16(struct rd *r)
{
	if (!rd_need(r, 2))
		return 0;
	r->o += 2;
	return (int16_t)be16(r->p + r->o - 2);
}

static uint64_t rd_uvarint(struct rd *r)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 35; shift += 7) {
		if (!rd_need(r, 1))
			return 0;
		uint8_t b = r->p[r->o++];
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

static void rd_skip(struct rd *r, uint64_t k)
{
	if (rd_need(r, k > SIZE_MAX ? SIZE_MAX : (size_t)k))
		r->o += (size_t)k;
}

/* A (nullable) string, or bytes when want is set: returns the bytes. */
static const uint8_t *rd_str(struct rd *r, bool flex, bool i32len, size_t *len)
{
	int64_t l;

	if (flex)
		l = (int64_t)rd_uvarint(r) - 1;
	else
		l = i32len ? rd_i32(r) : rd_i16(r);
	*len = 0;
	if (r->bad || l < 0)
		return NULL;
	if (!rd_need(r, (size_t)l))
		return NULL;
	r->o += (size_t)l;
	*len = (size_t)l;
	return r->p + r->o - (size_t)l;
}

static void rd_tags(struct rd *r, bool flex)
{
	if (!flex)
		return;
	uint64_t n = rd_uvarint(r);
	for (uint64_t i = 0; i < n && !r->bad; i++) {
		rd_uvarint(r);
		rd_skip(r, rd_uvarint(r));
	}
}

static int64_t rd_count(struct rd *r, bool flex)
{
	return flex ? (int64_t)rd_uvarint(r) - 1 : rd_i32(r);
}

static uint32_t topic_hash(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Records in a records field: the RecordBatch v2 recordCount of each batch. */
static int count_records(const uint8_t *p, size_t n, uint64_t *out)
{
	size_t o = 0;

	while (o < n) {
		if (n - o < 61)
			return -EPROTO;
		uint32_t blen = be32(p + o + 8);
		if (p[o + 16] != 2 || blen < 49 || blen > n - o - 12)
			return -EPROTO;
		int32_t c = (int32_t)be32(p + o + 57);
		if (c < 0)
			return -EPROTO;
		*out += (uint64_t)c;
		o += 12 + (size_t)blen;
	}
	return 0;
}

struct kreq {
	int16_t ver, acks;
	uint64_t records;
	struct kpart *parts; /* malloc'd, n_parts of them */
	uint32_t n_parts, cap;
};

static int kreq_add(struct kreq *q, uint32_t topic, int32_t partition, uint64_t records)
{
	if (q->n_parts == q->cap) {
		uint32_t cap = q->cap ? q->cap * 2 : 4;
		struct kpart *n = realloc(q->parts, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		q->parts = n;
		q->cap = cap;
	}
	q->parts[q->n_parts++] = (struct kpart){ topic, partition, (uint32_t)records };
	return 0;
}

/* A Produce request's version, acks, and records per partition. frame
 * starts at Size. */
static int kafka_produce_req(const uint8_t *frame, size_t len, struct kreq *q)
{
	struct rd r = { .p = frame, .n = len, .o = 4 };
	int16_t key = rd_i16(&r), ver = rd_i16(&r);
	size_t l;
	bool flex = kafka_is_flexible(key, ver);

	rd_i32(&r);
	rd_str(&r, false, false, &l); /* client_id: never compact (header v2 too) */
	rd_tags(&r, flex);
	if (ver >= 3)
		rd_str(&r, flex, false, &l); /* transactional_id */
	q->ver = ver;
	q->acks = rd_i16(&r);
	rd_i32(&r); /* timeout */
	int64_t nt = rd_count(&r, flex);
	for (int64_t t = 0; t < nt && !r.bad; t++) {
		size_t tl;
		const uint8_t *name = rd_str(&r, flex, false, &tl);
		int64_t np = rd_count(&r, flex);
		for (int64_t k = 0; k < np && !r.bad; k++) {
			int32_t part = rd_i32(&r);
			uint64_t n = 0;
			const uint8_t *rec = rd_str(&r, flex, true, &l);
			if (rec && count_records(rec, l, &n))
				return -EPROTO;
			if (kreq_add(q, topic_hash(name, name ? tl : 0), part, n))
				return -ENOMEM;
			q->records += n;
			rd_tags(&r, flex);
		}
		rd_tags(&r, flex);
	}
	return r.bad ? -EPROTO : 0;
}

static void kafka_request(struct wm *m, uint32_t fid, const uint8_t *fr, size_t len, uint64_t ts)
{
	if (len < 12) {
		m->s.unparsed++;
		return;
	}
	int16_t key = (int16_t)be16(fr + 4);
	uint32_t corr = be32(fr + 8);
	bool fresh;
	struct pend *e = pend_put(m, flow_key(K_KAFKA, fid, 0), corr, &fresh);
	if (!e)
		return;
	free(e->parts); /* a correlation id used again */
	e->parts = NULL;
	e->n_parts = 0;
	e->ts = ts;
	e->flags = KF_OTHER;
	e->n = 0;
	if (key != KAFKA_API_PRODUCE)
		return;
	struct kreq q = { 0 };
	m->c.req_frames++;
	int r = kafka_produce_req(fr, len, &q);
	if (r) {
		free(q.parts);
		if (r == -ENOMEM)
			m->oom = true;
		else
			m->s.unparsed++;
		return;
	}
	m->s.requests += q.records;
	e->n = (uint32_t)q.records;
	e->ver = q.ver;
	if (q.acks == 0) { /* no response is due: done once on the wire */
		m->s.acks += q.records;
		e->flags = KF_ACKS0;
		free(q.parts);
	} else {
		e->flags = KF_PRODUCE;
		e->parts = q.parts;
		e->n_parts = q.n_parts;
	}
}

/* Records of the partitions a Produce response accepted (error 0). */
struct kresp {
	const struct pend *e;
	uint64_t acked;
};

static int kafka_resp_part(void *ctx, const char *topic, size_t topic_len, int32_t partition,
			   int16_t error, int64_t base_offset)
{
	struct kresp *k = ctx;
	uint32_t h = topic_hash((const uint8_t *)topic, topic ? topic_len : 0);

	(void)base_offset;
	for (uint32_t i = 0; i < k->e->n_parts; i++) {
		const struct kpart *p = &k->e->parts[i];
		if (p->topic == h && p->partition == partition) {
			if (error == 0)
				k->acked += p->records;
			break;
		}
	}
	return 0;
}

static void kafka_response(struct wm *m, uint32_t fid, const uint8_t *fr, size_t len, uint64_t ts)
{
	if (len < 8) {
		m->s.unparsed++;
		return;
	}
	struct pend *e = pend_get(m, flow_key(K_KAFKA, fid, 0), be32(fr + 4));
	if (!e) {
		m->s.unmatched++;
		return;
	}
	if (e->flags != KF_OTHER)
		m->c.ack_frames++;
	if (e->flags == KF_PRODUCE) {
		/* Only what the broker accepted: a refused partition's records
		 * are blast's failed (or sent again, in a later request). */
		const uint8_t *body;
		size_t blen;
		struct kresp k = { .e = e };
		if (kafka_parse_response_header(fr, len, kafka_is_flexible(KAFKA_API_PRODUCE, e->ver),
						NULL, &body, &blen) ||
		    kafka_parse_produce(body, blen, e->ver, kafka_resp_part, &k)) {
			m->s.unparsed++;
		} else {
			m->s.acks += k.acked;
			latency(m, e->ts, ts, k.acked);
		}
	}
	pend_del(m, e);
}

static size_t parse_kafka(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
			  size_t n, size_t carried, uint64_t cts, uint64_t nts)
{
	size_t off = 0;

	while (off < n) {
		ssize_t t = kafka_frame_total(p + off, n - off, WM_MAX_FRAME);
		if (t < 0)
			return PARSE_ERR;
		if (t == 0 || (size_t)t > n - off)
			break;
		uint64_t ts = off < carried ? cts : nts;
		if (side == f->client)
			kafka_request(m, fid, p + off, (size_t)t, ts);
		else
			kafka_response(m, fid, p + off, (size_t)t, ts);
		off += (size_t)t;
	}
	return off;
}

/* ---- WebSocket ---- */

static int sniff(const uint8_t *p, size_t n);
static void ws_message(struct wm *m, bool from_client, const uint8_t *pl, size_t n,
		       const uint8_t *key, uint64_t ts);

/* MQTT over WebSocket: a message's payload (unmasked here) appended to the
 * direction's inner stream, whose whole frames go to the MQTT matcher. */
static void ws_inner(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *pl,
		     size_t n, const uint8_t *key, uint64_t ts)
{
	struct dir *d = &f->d[side];
	size_t carried = d->inner_len;

	if (!n)
		return;
	if (carried + n > WM_MAX_FRAME) {
		m->s.unparsed++;
		d->inner_len = 0;
		return;
	}
	if (carried + n > d->inner_cap) {
		size_t cap = d->inner_cap ? d->inner_cap : 4096;
		while (cap < carried + n)
			cap *= 2;
		uint8_t *b = realloc(d->inner, cap);
		if (!b) {
			m->oom = true;
			return;
		}
		d->inner = b;
		d->inner_cap = cap;
	}
	memcpy(d->inner + carried, pl, n);
	if (key)
		ws_mask(d->inner + carried, n, key, 0);
	d->inner_len += n;
	if (!carried)
		d->inner_ts = ts;
	size_t used = parse_mqtt(m, fid, f, side, d->inner, d->inner_len, carried, d->inner_ts, ts);
	if (used == PARSE_ERR) {
		m->s.unparsed++;
		d->inner_len = 0;
		return;
	}
	if (used > carried)
		d->inner_ts = ts;
	memmove(d->inner, d->inner + used, d->inner_len - used);
	d->inner_len -= used;
}

/* A WebSocket data message: blast's fan-out header, or MQTT inside. */
static void ws_data(struct wm *m, uint32_t fid, struct flow *f, int side, bool from_client,
		    const uint8_t *pl, size_t n, const uint8_t *key, uint64_t ts)
{
	if (!f->ws_mqtt && from_client && !f->ws_checked && n) {
		uint8_t head[16];
		size_t k = n < sizeof(head) ? n : sizeof(head);
		memcpy(head, pl, k);
		if (key)
			ws_mask(head, k, key, 0);
		f->ws_checked = true;
		f->ws_mqtt = sniff(head, k) == WM_MQTT;
	}
	if (f->ws_mqtt)
		ws_inner(m, fid, f, side, pl, n, key, ts);
	else
		ws_message(m, from_client, pl, n, key, ts);
}

static int hexval(const uint8_t *p, int digits, uint64_t *out)
{
	uint64_t v = 0;

	for (int i = 0; i < digits; i++) {
		uint8_t c = p[i];
		unsigned d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 16;
		if (d > 15)
			return -EPROTO;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* A client frame (masked, which ws_decode_frame refuses from a server):
 * > 0 its length, 0 need more, -EPROTO. */
static ssize_t ws_client_frame(const uint8_t *p, size_t n, uint8_t *opcode, const uint8_t **key,
			       const uint8_t **payload, size_t *plen)
{
	if (n < 2)
		return 0;
	size_t h = 2;
	uint64_t len = p[1] & 0x7f;
	if (len == 126) {
		if (n < 4)
			return 0;
		len = be16(p + 2);
		h = 4;
	} else if (len == 127) {
		if (n < 10)
			return 0;
		len = (uint64_t)be32(p + 2) << 32 | be32(p + 6);
		h = 10;
	}
	if (len > WM_MAX_FRAME)
		return -EPROTO;
	bool masked = p[1] & 0x80;
	if (masked)
		h += 4;
	if (n < h + len)
		return 0;
	*opcode = p[0] & 0x0f;
	*key = masked ? p + h - 4 : NULL;
	*payload = p + h;
	*plen = (size_t)len;
	return (ssize_t)(h + len);
}

static void ws_message(struct wm *m, bool from_client, const uint8_t *pl, size_t n,
		       const uint8_t *key, uint64_t ts)
{
	uint8_t h[WS_HDR];
	uint64_t run, seq;

	if (n < WS_HDR)
		return;
	memcpy(h, pl, WS_HDR);
	if (key)
		ws_mask(h, WS_HDR, key, 0);
	if (memcmp(h, "BLWS", 4) || hexval(h + 4, 8, &run) || hexval(h + 12, 16, &seq))
		return; /* not a message of blast's */
	uint64_t a = (uint64_t)K_WS << 56 | run;
	if (from_client) {
		bool fresh;
		struct pend *e = pend_put(m, a, seq, &fresh);
		if (e && fresh) {
			e->ts = ts;
			m->s.requests++;
			m->c.req_frames++;
		}
		return;
	}
	m->c.ack_frames++;
	struct pend *e = pend_get(m, a, seq);
	if (!e) {
		m->s.unmatched++;
		return;
	}
	e->n++;
	m->s.acks++;
	latency(m, e->ts, ts, 1);
}

static size_t parse_ws(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
		       size_t n, size_t carried, uint64_t cts, uint64_t nts)
{
	struct dir *d = &f->d[side];
	bool from_client = side == f->client;
	size_t off = 0;

	if (!d->http_done) {
		if (n < 4)
			return 0;
		if (memcmp(p, from_client ? "GET " : "HTTP", 4)) {
			d->http_done = true; /* joined after the upgrade */
		} else {
			const uint8_t *e = memmem(p, n, "\r\n\r\n", 4);
			if (!e)
				return n > HTTP_MAX ? PARSE_ERR : 0;
			off = (size_t)(e - p) + 4;
			d->http_done = true;
		}
	}
	while (off < n) {
		uint64_t ts = off < carried ? cts : nts;
		if (from_client) {
			uint8_t op;
			const uint8_t *key, *pl;
			size_t plen;
			ssize_t r = ws_client_frame(p + off, n - off, &op, &key, &pl, &plen);
			if (r < 0)
				return PARSE_ERR;
			if (r == 0)
				break;
			if (op == WS_OP_TEXT || op == WS_OP_BINARY || op == WS_OP_CONT)
				ws_data(m, fid, f, side, true, pl, plen, key, ts);
			off += (size_t)r;
		} else {
			struct ws_frame fr;
			ssize_t r = ws_decode_frame(p + off, n - off, WM_MAX_FRAME, &fr);
			if (r < 0)
				return PARSE_ERR;
			if (r == 0)
				break;
			if (fr.opcode == WS_OP_TEXT || fr.opcode == WS_OP_BINARY || fr.opcode == WS_OP_CONT)
				ws_data(m, fid, f, side, false, fr.payload, fr.payload_len, NULL, ts);
			off += (size_t)r;
		}
	}
	return off;
}

/* ---- protocol recognition ---- */

static enum wm_proto by_port(uint16_t port)
{
	switch (port) {
	case 1883:
		return WM_MQTT;
	case 9092:
		return WM_KAFKA;
	default:
		return WM_AUTO;
	}
}

/* From a client's first bytes: WM_AUTO when there are too few to tell,
 * -1 (as int) when they are none of the three. */
static int sniff(const uint8_t *p, size_t n)
{
	if (n >= 4 && !memcmp(p, "GET ", 4))
		return WM_WS;
	if (n >= 1 && p[0] == 0x10) { /* CONNECT: fixed header, then "MQTT" or "MQIsdp" */
		size_t k = 1;
		while (k < n && k < 5 && (p[k] & 0x80))
			k++;
		k++;
		if (n < k + 8)
			return WM_AUTO;
		if (!memcmp(p + k, "\0\4MQTT", 6) || !memcmp(p + k, "\0\6MQIsdp", 8))
			return WM_MQTT;
		return -1;
	}
	if (n < 12)
		return WM_AUTO;
	int32_t size = (int32_t)be32(p);
	int16_t key = (int16_t)be16(p + 4), ver = (int16_t)be16(p + 6);
	if (size >= 8 && size <= (int32_t)WM_MAX_FRAME && key >= 0 && key < 100 && ver >= 0 && ver < 30)
		return WM_KAFKA;
	return -1;
}

static size_t parse(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
		    size_t n, size_t carried, uint64_t cts, uint64_t nts)
{
	if (f->proto == WM_AUTO) {
		if (f->given_up)
			return n;
		if (side != f->client && f->client_sure)
			return 0; /* the server's bytes wait for the client's first */
		int g = sniff(p, n);
		if (g == WM_AUTO)
			return n > 64 ? n : 0;
		if (g < 0) {
			if (!f->client_sure) { /* maybe the other side opened it */
				return n > 64 ? n : 0;
			}
			f->given_up = true;
			m->c.flows_by_proto[WM_AUTO]++;
			return n;
		}
		f->proto = (uint8_t)g;
		f->client = (int8_t)side;
		f->client_sure = true;
		m->c.flows_by_proto[g]++;
	}
	switch (f->proto) {
	case WM_MQTT:
		return parse_mqtt(m, fid, f, side, p, n, carried, cts, nts);
	case WM_KAFKA:
		return parse_kafka(m, fid, f, side, p, n, carried, cts, nts);
	case WM_WS:
		return parse_ws(m, fid, f, side, p, n, carried, cts, nts);
	default:
		return n;
	}
}

/* ---- streams ---- */

static void gap(struct wm *m, struct dir *d)
{
	if (!d->resync)
		m->s.unparsed++;
	d->resync = true;
	d->len = 0;
}

static bool keep(struct wm *m, struct dir *d, const uint8_t *p, size_t n)
{
	if (d->len + n > WM_MAX_FRAME + 65536)
		return false;
	if (d->len + n > d->cap) {
		size_t cap = d->cap ? d->cap : 4096;
		while (cap < d->len + n)
			cap *= 2;
		uint8_t *b = realloc(d->buf, cap);
		if (!b) {
			m->oom = true;
			return false;
		}
		d->buf = b;
		d->cap = cap;
	}
	memcpy(d->buf + d->len, p, n);
	d->len += n;
	return true;
}

/* New in-order bytes of one direction. Frames are parsed in place when
 * nothing is carried; only an unfinished frame's bytes are copied. */
static void deliver(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
		    size_t n, uint64_t ts)
{
	struct dir *d = &f->d[side];

	if (d->len == 0) {
		size_t used = parse(m, fid, f, side, p, n, 0, ts, ts);
		if (used == PARSE_ERR || (d->resync && used == 0 && f->proto != WM_AUTO)) {
			/* Still not at a frame boundary: skip this segment. */
			gap(m, d);
			return;
		}
		d->resync = false;
		d->buf_ts = ts;
		if (used < n && !keep(m, d, p + used, n - used))
			gap(m, d);
		return;
	}
	size_t carried = d->len;
	if (!keep(m, d, p, n)) {
		gap(m, d);
		return;
	}
	size_t used = parse(m, fid, f, side, d->buf, d->len, carried, d->buf_ts, ts);
	if (used == PARSE_ERR) {
		gap(m, d);
		return;
	}
	if (used >= carried)
		d->buf_ts = ts;
	memmove(d->buf, d->buf + used, d->len - used);
	d->len -= used;
}

static void count_bytes(struct wm *m, const struct flow *f, int side, size_t n)
{
	if (side == f->client)
		m->s.bytes_out += n;
	else
		m->s.bytes_in += n;
}

/* A segment at or before the expected sequence number. */
static void take(struct wm *m, uint32_t fid, struct flow *f, int side, uint32_t seq,
		 const uint8_t *data, size_t cap, size_t wire, uint64_t ts)
{
	struct dir *d = &f->d[side];
	uint32_t skip = d->next - seq;

	if (skip >= wire) {
		m->s.retransmits++;
		return;
	}
	if (skip)
		m->s.retransmits++;
	if (cap > skip) {
		count_bytes(m, f, side, cap - skip);
		deliver(m, fid, f, side, data + skip, cap - skip, ts);
	}
	d->next = seq + (uint32_t)wire;
	if (cap < wire) /* the capture's snap length cut the rest off */
		gap(m, d);
}

static void drain_held(struct wm *m, uint32_t fid, struct flow *f, int side)
{
	struct dir *d = &f->d[side];
	bool again = true;

	while (again) {
		again = false;
		for (unsigned i = 0; i < d->n_held; i++) {
			struct held h = d->held[i];
			if ((int32_t)(h.seq - d->next) > 0)
				continue;
			d->held[i] = d->held[--d->n_held];
			take(m, fid, f, side, h.seq, h.data, h.cap, h.wire, h.ts);
			free(h.data);
			again = true;
			break;
		}
	}
}

/* Gives up on the hole before the earliest held segment. */
static void skip_hole(struct wm *m, uint32_t fid, struct flow *f, int side)
{
	struct dir *d = &f->d[side];
	unsigned lo = 0;

	if (!d->n_held)
		return;
	for (unsigned i = 1; i < d->n_held; i++)
		if ((int32_t)(d->held[i].seq - d->held[lo].seq) < 0)
			lo = i;
	gap(m, d);
	d->next = d->held[lo].seq;
	drain_held(m, fid, f, side);
}

static void hold(struct wm *m, uint32_t fid, struct flow *f, int side, uint32_t seq,
		 const uint8_t *data, size_t cap, size_t wire, uint64_t ts)
{
	struct dir *d = &f->d[side];

	if (!d->held && !(d->held = calloc(WM_MAX_HELD, sizeof(*d->held)))) {
		m->oom = true;
		return;
	}
	if (d->n_held == WM_MAX_HELD)
		skip_hole(m, fid, f, side);
	if ((int32_t)(seq - d->next) <= 0) { /* the skip reached it */
		take(m, fid, f, side, seq, data, cap, wire, ts);
		drain_held(m, fid, f, side);
		return;
	}
	uint8_t *copy = malloc(cap ? cap : 1);
	if (!copy) {
		m->oom = true;
		return;
	}
	memcpy(copy, data, cap);
	d->held[d->n_held++] = (struct held){ .seq = seq, .cap = cap, .wire = wire, .ts = ts, .data = copy };
}

static void segment(struct wm *m, uint32_t fid, struct flow *f, int side, const struct pkt_tcp *t,
		    uint64_t ts)
{
	struct dir *d = &f->d[side];
	uint32_t seq = t->seq;

	/* The other side acknowledges bytes of a hole the capture never had:
	 * give up waiting for them. */
	struct dir *o = &f->d[!side];
	while ((t->flags & TCP_ACK) && o->n_held && (int32_t)(t->ack - o->next) > 0)
		skip_hole(m, fid, f, !side);
	if (t->flags & TCP_SYN) {
		d->seq_known = true;
		d->next = seq + 1;
		d->resync = false;
		d->len = 0;
		if (!(t->flags & TCP_ACK)) {
			f->client = (int8_t)side;
			f->client_sure = true;
		}
		seq++;
	}
	if (!t->payload_wire)
		return;
	if (side == f->client)
		m->s.segs_out++;
	else
		m->s.segs_in++;
	if (!d->seq_known) { /* joined mid-stream: the first bytes may be mid-frame */
		d->seq_known = true;
		d->next = seq;
		d->resync = true;
	}
	if ((int32_t)(seq - d->next) > 0) {
		hold(m, fid, f, side, seq, t->payload, t->payload_len, t->payload_wire, ts);
		return;
	}
	take(m, fid, f, side, seq, t->payload, t->payload_len, t->payload_wire, ts);
	if (d->n_held)
		drain_held(m, fid, f, side);
}

/* ---- flows ---- */

static uint64_t side_hash(uint8_t fam, const uint8_t *a, uint16_t port)
{
	uint64_t x, y;

	memcpy(&x, a, 8);
	memcpy(&y, a + 8, 8);
	return mix(x ^ mix(y ^ ((uint64_t)port << 8 | fam)));
}

static uint64_t tuple_hash(const struct pkt_tcp *t)
{
	/* Symmetric: both directions land in the same slot. */
	return side_hash(t->family, t->src, t->sport) ^ side_hash(t->family, t->dst, t->dport);
}

static bool port_listed(const struct wm *m, uint16_t port)
{
	for (unsigned i = 0; i < m->o.n_ports; i++)
		if (m->o.ports[i] == port)
			return true;
	return false;
}

static int flow_side(const struct flow *f, const struct pkt_tcp *t)
{
	if (f->family != t->family)
		return -1;
	if (f->port[0] == t->sport && f->port[1] == t->dport && !memcmp(f->addr[0], t->src, 16) &&
	    !memcmp(f->addr[1], t->dst, 16))
		return 0;
	if (f->port[1] == t->sport && f->port[0] == t->dport && !memcmp(f->addr[1], t->src, 16) &&
	    !memcmp(f->addr[0], t->dst, 16))
		return 1;
	return -1;
}

static bool fslots_grow(struct wm *m)
{
	size_t cap = m->fslots_cap ? m->fslots_cap * 2 : 1024;
	uint32_t *n = calloc(cap, sizeof(*n));

	if (!n)
		return false;
	for (size_t i = 0; i < m->n_flows; i++) {
		const struct flow *f = m->flows[i];
		struct pkt_tcp t = { .family = f->family, .sport = f->port[0], .dport = f->port[1] };
		memcpy(t.src, f->addr[0], 16);
		memcpy(t.dst, f->addr[1], 16);
		size_t j = (size_t)tuple_hash(&t) & (cap - 1);
		while (n[j])
			j = (j + 1) & (cap - 1);
		n[j] = (uint32_t)i + 1;
	}
	free(m->fslots);
	m->fslots = n;
	m->fslots_cap = cap;
	return true;
}

static struct flow *flow_new(struct wm *m, const struct pkt_tcp *t)
{
	if ((m->n_flows + 1) * 2 > m->fslots_cap && !fslots_grow(m))
		return NULL;
	if (m->n_flows == m->flows_cap) {
		size_t cap = m->flows_cap ? m->flows_cap * 2 : 256;
		struct flow **n = realloc(m->flows, cap * sizeof(*n));
		if (!n)
			return NULL;
		m->flows = n;
		m->flows_cap = cap;
	}
	struct flow *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->family = t->family;
	memcpy(f->addr[0], t->src, 16);
	memcpy(f->addr[1], t->dst, 16);
	f->port[0] = t->sport;
	f->port[1] = t->dport;
	/* Until a SYN says otherwise: the listed or well-known port, else the
	 * lower one, is the server's. */
	int server;
	if (m->o.n_ports && (port_listed(m, t->sport) || port_listed(m, t->dport)))
		server = port_listed(m, t->dport) ? 1 : 0;
	else if (by_port(t->sport) != WM_AUTO || by_port(t->dport) != WM_AUTO)
		server = by_port(t->dport) != WM_AUTO ? 1 : 0;
	else
		server = t->dport <= t->sport ? 1 : 0;
	f->client = (int8_t)!server;
	f->ignored = m->o.n_ports && !port_listed(m, t->sport) && !port_listed(m, t->dport);
	f->proto = (uint8_t)m->o.proto;
	if (f->proto == WM_AUTO)
		f->proto = (uint8_t)by_port(f->port[server]);
	if (f->proto != WM_AUTO && !f->ignored)
		m->c.flows_by_proto[f->proto]++;
	if (!f->ignored)
		m->s.flows++;
	size_t j = (size_t)tuple_hash(t) & (m->fslots_cap - 1);
	while (m->fslots[j])
		j = (j + 1) & (m->fslots_cap - 1);
	m->fslots[j] = (uint32_t)m->n_flows + 1;
	m->flows[m->n_flows++] = f;
	return f;
}

static struct flow *flow_find(struct wm *m, const struct pkt_tcp *t, uint32_t *fid, int *side)
{
	if (m->fslots_cap) {
		for (size_t j = (size_t)tuple_hash(t) & (m->fslots_cap - 1); m->fslots[j];
		     j = (j + 1) & (m->fslots_cap - 1)) {
			struct flow *f = m->flows[m->fslots[j] - 1];
			int s = flow_side(f, t);
			if (s >= 0) {
				*fid = m->fslots[j] - 1;
				*side = s;
				return f;
			}
		}
	}
	struct flow *f = flow_new(m, t);
	if (!f) {
		m->oom = true;
		return NULL;
	}
	*fid = (uint32_t)m->n_flows - 1;
	*side = 0;
	return f;
}

/* ---- API ---- */

struct wm *wm_new(const struct wm_opts *o)
{
	struct wm *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->o = *o;
	if (m->o.n_ports > WM_MAX_PORTS)
		m->o.n_ports = WM_MAX_PORTS;
	hist_reset(&m->s.latency);
	m->s.source = WIRE_PCAP;
	return m;
}

void wm_packet(struct wm *m, const struct pcap_pkt *p)
{
	struct pkt_tcp t;
	uint32_t fid;
	int side;

	m->c.packets++;
	if (!m->c.first_ns || p->ts_ns < m->c.first_ns)
		m->c.first_ns = p->ts_ns;
	if (p->ts_ns > m->c.last_ns)
		m->c.last_ns = p->ts_ns;
	int r = pkt_dissect_tcp(p->linktype, p->data, p->caplen, &t);
	if (r < 0) {
		m->c.bad_packets++;
		return;
	}
	if (r == 0)
		return;
	struct flow *f = flow_find(m, &t, &fid, &side);
	if (!f || f->ignored)
		return;
	m->c.tcp++;
	segment(m, fid, f, side, &t, p->ts_ns);
}

void wm_result(struct wm *m, struct wire_stats *out, struct wm_counts *c)
{
	/* Holes that never filled are gaps: take what is behind them. */
	for (size_t i = 0; i < m->n_flows; i++)
		for (int s = 0; s < 2; s++)
			while (m->flows[i]->d[s].n_held)
				skip_hole(m, (uint32_t)i, m->flows[i], s);
	m->c.pending = 0;
	for (size_t i = 0; i < m->p_cap; i++) {
		const struct pend *e = &m->p[i];
		if (e->state != P_USED)
			continue;
		int kind = (int)(e->a >> 56);
		if (kind == K_MQTT || (kind == K_KAFKA && e->flags == KF_PRODUCE))
			m->c.pending += kind == K_KAFKA ? e->n : 1;
		else if (kind == K_WS && e->n == 0)
			m->c.pending++;
	}
	*out = m->s;
	if (c)
		*c = m->c;
}

void wm_free(struct wm *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_flows; i++) {
		struct flow *f = m->flows[i];
		for (int s = 0; s < 2; s++) {
			for (unsigned k = 0; k < f->d[s].n_held; k++)
				free(f->d[s].held[k].data);
			free(f->d[s].held);
			free(f->d[s].buf);
			free(f->d[s].inner);
		}
		free(f);
	}
	for (size_t i = 0; i < m->p_cap; i++)
		free(m->p[i].parts); /* NULL but for Produce requests still pending */
	free(m->flows);
	free(m->fslots);
	free(m->p);
	free(m);
}

int wm_analyze_buffer(const uint8_t *buf, size_t len, const struct wm_opts *o,
		      struct wire_stats *out, struct wm_counts *c, char *err, size_t err_cap)
{
	struct pcapfile_reader r;
	struct pcap_pkt p;
	int e = pcapfile_init(&r, buf, len);

	if (e) {
		snprintf(err, err_cap, "%s", r.err);
		return e;
	}
	struct wm *m = wm_new(o);
	if (!m) {
		snprintf(err, err_cap, "out of memory");
		return -ENOMEM;
	}
	while ((e = pcapfile_next(&r, &p)) == 1 && !m->oom)
		wm_packet(m, &p);
	if (m->oom) {
		snprintf(err, err_cap, "out of memory");
		wm_free(m);
		return -ENOMEM;
	}
	if (e < 0) {
		snprintf(err, err_cap, "%s", r.err);
		wm_free(m);
		return e;
	}
	wm_result(m, out, c);
	wm_free(m);
	return 0;
}
