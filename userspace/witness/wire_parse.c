/* The capture witness's protocol side: MQTT, Kafka and WebSocket frames
 * found in reassembled streams, and each request matched with its ack.
 * See wire_match.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/blws.h"
#include "encoders/kafka.h"
#include "encoders/kafka_read.h"
#include "encoders/kafka_wire.h"
#include "encoders/mqtt.h"
#include "encoders/rbuf.h"
#include "encoders/ws.h"
#include "witness/wire_http.h"
#include "witness/wire_parse.h"
#include "witness/wire_pend.h"

/* ---- MQTT ---- */

/* The protocol level after the protocol name (3.1.1 3.1.2.2, 5.0 3.1.2.2). */
static void mqtt_connect(struct flow *f, const struct mqtt_frame *fr)
{
	struct rbuf r;
	size_t nl;

	rb_init(&r, fr->body, fr->body_len);
	rb_bytes16(&r, &nl);
	uint8_t level = rb_u8(&r);
	if (!r.bad)
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
	struct rbuf r;
	size_t tl;

	rb_init(&r, fr->body, fr->body_len);
	rb_bytes16(&r, &tl); /* topic */
	*id = rb_u16be(&r);
	return r.bad || !*id ? -EPROTO : 0;
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
			wm_requests(m, fid, 1);
			wm_acks(m, fid, 1);
			return;
		}
		if (mqtt_publish_id(f, fr, &id)) {
			m->s.unparsed++;
			return;
		}
		struct pend *e = wm_pend_put(m, flow_key(K_MQTT, fid, side), id, &fresh);
		if (e && fresh) { /* a DUP resend keeps the first time */
			e->ts = ts;
			wm_requests(m, fid, 1);
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
		struct pend *e = wm_pend_get(m, flow_key(K_MQTT, fid, !side), ack.packet_id);
		if (fr->type == MQTT_PUBREC) { /* QoS 2 goes on to PUBCOMP, unless refused */
			if (e && ack.reason >= 0x80)
				wm_pend_del(m, e);
			return;
		}
		m->c.ack_frames++;
		if (!e) {
			m->s.unmatched++;
			return;
		}
		if (ack.reason < 0x80)
			wm_acked(m, fid, e->ts, ts, 1);
		wm_pend_del(m, e);
		return;
	}
	default:
		return;
	}
}

size_t wm_parse_mqtt(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
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
		const uint8_t *b = p + o;
		if (n - o < KAFKA_BATCH_HEADER_SIZE)
			return -EPROTO;
		uint32_t blen = rb_be32(b + KAFKA_BATCH_OF_LENGTH);
		if (b[KAFKA_BATCH_OF_MAGIC] != KAFKA_MAGIC_V2 ||
		    blen < KAFKA_BATCH_HEADER_SIZE - KAFKA_BATCH_LENGTH_OVERHEAD ||
		    blen > n - o - KAFKA_BATCH_LENGTH_OVERHEAD)
			return -EPROTO;
		int32_t c = (int32_t)rb_be32(b + KAFKA_BATCH_OF_RECORD_COUNT);
		if (c < 0)
			return -EPROTO;
		*out += (uint64_t)c;
		o += KAFKA_BATCH_LENGTH_OVERHEAD + (size_t)blen;
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

/* A Produce request's version, acks, and records per partition
 * (ProduceRequest.json), read by the same primitives as the responses.
 * frame starts at Size. */
static int kafka_produce_req(const uint8_t *frame, size_t len, struct kreq *q)
{
	struct rbuf r;

	rb_init(&r, frame, len);
	rb_skip(&r, KAFKA_SIZE_LEN);
	int16_t key = rb_i16be(&r), ver = rb_i16be(&r);
	bool flex = kafka_is_flexible(key, ver);

	rb_i32be(&r); /* correlation id */
	kafka_rd_skip_str(&r, false, true); /* client_id: never compact (header v2 too) */
	kafka_rd_tags(&r, flex);
	if (ver >= 3)
		kafka_rd_skip_str(&r, flex, true); /* transactional_id */
	q->ver = ver;
	q->acks = rb_i16be(&r);
	rb_i32be(&r); /* timeout */
	size_t nt = kafka_rd_array(&r, flex, 3); /* name, partitions, tags */
	for (size_t t = 0; t < nt && !r.bad; t++) {
		const char *name;
		size_t tl;
		kafka_rd_str(&r, flex, false, &name, &tl);
		size_t np = kafka_rd_array(&r, flex, 6); /* index, records, tags */
		for (size_t k = 0; k < np && !r.bad; k++) {
			int32_t part = rb_i32be(&r);
			uint64_t n = 0;
			size_t l;
			const uint8_t *rec = kafka_rd_span(&r, flex, true, true, &l);
			if (rec && count_records(rec, l, &n))
				return -EPROTO;
			if (kreq_add(q, topic_hash((const uint8_t *)name, tl), part, n))
				return -ENOMEM;
			q->records += n;
			kafka_rd_tags(&r, flex);
		}
		kafka_rd_tags(&r, flex);
	}
	return r.bad ? -EPROTO : 0;
}

static void kafka_request(struct wm *m, uint32_t fid, const uint8_t *fr, size_t len, uint64_t ts)
{
	if (len < 12) {
		m->s.unparsed++;
		return;
	}
	int16_t key = (int16_t)rb_be16(fr + 4);
	uint32_t corr = rb_be32(fr + 8);
	bool fresh;
	struct pend *e = wm_pend_put(m, flow_key(K_KAFKA, fid, 0), corr, &fresh);
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
	wm_requests(m, fid, q.records);
	e->n = (uint32_t)q.records;
	e->ver = q.ver;
	if (q.acks == 0) { /* no response is due: done once on the wire */
		wm_acks(m, fid, q.records);
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
	struct pend *e = wm_pend_get(m, flow_key(K_KAFKA, fid, 0), rb_be32(fr + 4));
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
			wm_acked(m, fid, e->ts, ts, k.acked);
		}
	}
	wm_pend_del(m, e);
}

size_t wm_parse_kafka(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
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

static void ws_message(struct wm *m, uint32_t fid, bool from_client, const uint8_t *pl,
		       size_t n, const uint8_t *key, uint64_t ts);

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
	size_t used = wm_parse_mqtt(m, fid, f, side, d->inner, d->inner_len, carried, d->inner_ts, ts);
	if (used == PARSE_ERR) {
		m->s.unparsed++;
		d->inner_len = 0;
		return;
	}
	if (used >= carried) /* what is left began in this message */
		d->inner_ts = ts;
	if (used)
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
		f->ws_mqtt = wm_sniff(head, k) == WM_MQTT;
	}
	if (f->ws_mqtt)
		ws_inner(m, fid, f, side, pl, n, key, ts);
	else
		ws_message(m, fid, from_client, pl, n, key, ts);
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
		len = rb_be16(p + 2);
		h = 4;
	} else if (len == 127) {
		if (n < 10)
			return 0;
		len = rb_be64(p + 2);
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

static void ws_message(struct wm *m, uint32_t fid, bool from_client, const uint8_t *pl,
		       size_t n, const uint8_t *key, uint64_t ts)
{
	uint8_t h[BLWS_LEN];
	uint32_t run;
	uint64_t seq, sent;

	if (n < BLWS_LEN)
		return;
	memcpy(h, pl, BLWS_LEN);
	if (key)
		ws_mask(h, BLWS_LEN, key, 0);
	if (blws_parse(h, BLWS_LEN, &run, &seq, &sent))
		return; /* not a message of blast's */
	uint64_t a = (uint64_t)K_WS << 56 | run;
	if (from_client) {
		bool fresh;
		struct pend *e = wm_pend_put(m, a, seq, &fresh);
		if (e && fresh) {
			e->ts = ts;
			wm_requests(m, fid, 1);
			m->c.req_frames++;
		}
		return;
	}
	m->c.ack_frames++;
	struct pend *e = wm_pend_get(m, a, seq);
	if (!e) {
		m->s.unmatched++;
		return;
	}
	e->n++;
	wm_acked(m, fid, e->ts, ts, 1); /* on the flow the receipt arrived by */
}

size_t wm_parse_ws(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
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

int wm_sniff(const uint8_t *p, size_t n)
{
	if (n && p[0] >= 'A' && p[0] <= 'Z') /* a request line: HTTP, or a WebSocket upgrade */
		return wm_sniff_http(p, n);
	if (n >= 1 && p[0] == 0x10) { /* CONNECT: fixed header, then "MQTT" or "MQIsdp" */
		/* Only skips the remaining length to find the name: the frame
		 * itself is held to the spec's rules by mqtt_decode_frame. */
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
	int32_t size = (int32_t)rb_be32(p);
	int16_t key = (int16_t)rb_be16(p + 4), ver = (int16_t)rb_be16(p + 6);
	if (size >= 8 && size <= (int32_t)WM_MAX_FRAME && key >= 0 && key < 100 && ver >= 0 && ver < 30)
		return WM_KAFKA;
	return -1;
}
