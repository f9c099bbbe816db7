/* MQTT for the engine: CONNECT on a new connection, the publish fast path
 * (copy the chunk's first frame, re-stamp packet id and marker), and the
 * broker's answers (CONNACK, PUBACK, PUBREC -> PUBREL, PUBCOMP). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "payload/marker.h"
#include "encoders/mqtt.h"
#include "protocol/mqtt_fanout.h"
#include "payload/protobuf.h"
#include "engine/protocol.h"
#include "protocol/receipts.h"
#include "protocol/registry.h"
#include "stats/fanout.h"
#include "engine/worker.h"

/* A broker frame larger than this is refused rather than buffered. */
#define MQTT_RECV_MAX (64u << 20)

static int mq_setup(struct worker *w)
{
	const struct blast_opts *o = w->o;

	if (opts_fanout(o) && mqfo_setup(w) < 0)
		return -ENOMEM;
	if (o->payloads.n)
		return 0;
	w->payload_len = o->payload_size;
	w->payload = malloc(w->payload_len ? w->payload_len : 1);
	if (!w->payload)
		return -ENOMEM;
	/* Printable filler after the marker, so a payload shows up readable. */
	for (uint32_t i = 0; i < w->payload_len; i++)
		w->payload[i] = (uint8_t)('a' + i % 26);
	return 0;
}

static ssize_t mq_hello(struct worker *w, struct conn *c, uint8_t *out, size_t cap)
{
	const struct blast_opts *o = w->o;
	char *client_id = w->scratch;
	int n = template_expand(client_id, SCRATCH_LEN, o->client_id, opts_conn_no(o, c->idx), 0,
				w->run_pid);

	if (n < 0)
		return n;
	struct mqtt_connect mc = {
		.version = (enum mqtt_version)o->mqtt_version,
		.client_id = client_id,
		.client_id_len = (size_t)n,
		.keepalive = o->keepalive,
		.clean_start = true,
	};
	if (o->tokens.n) {
		mc.username = o->tokens.lines[opts_conn_no(o, c->idx)];
		mc.username_len = o->tokens.lens[opts_conn_no(o, c->idx)];
	} else if (o->username) {
		mc.username = o->username;
		mc.username_len = strlen(o->username);
	}
	if (o->password) {
		mc.password = (const uint8_t *)o->password;
		mc.password_len = strlen(o->password);
	}
	if (mc.version == MQTT_V5 && o->qos)
		mc.receive_maximum = 0; /* leave the broker's default window */
	ssize_t r = mqtt_encode_connect(out, cap, &mc);
	if (r > 0 && opts_fanout(o) && mqfo_subscribes(w, c)) {
		ssize_t sr = mqfo_subscribe(w, c, out + r, cap - (size_t)r);
		r = sr < 0 ? sr : r + sr;
	}
	return r;
}

/* Total length of the frame at buf once its fixed header is complete. */
static ssize_t mq_frame_total(const uint8_t *buf, size_t len)
{
	uint32_t rem = 0;

	for (size_t i = 1; i <= 4; i++) {
		if (i >= len)
			return 0;
		rem |= (uint32_t)(buf[i] & 0x7f) << (7 * (i - 1));
		if (!(buf[i] & 0x80)) {
			size_t total = 1 + i + rem;
			return total > MQTT_RECV_MAX ? -EMSGSIZE : (ssize_t)total;
		}
	}
	return -EPROTO; /* a fifth length byte: malformed (spec 1.5.5) */
}

static struct msg_slot *slot_for(struct worker *w, struct conn *c, uint16_t id)
{
	if (!c->slots || id == 0)
		return NULL;
	struct msg_slot *s = &c->slots[worker_slot_mod(w, (uint32_t)id - 1)];
	return s->state && s->id == id ? s : NULL;
}

static int mq_on_ack(struct worker *w, struct conn *c, const struct mqtt_frame *f)
{
	enum mqtt_version v = (enum mqtt_version)w->o->mqtt_version;
	struct mqtt_ack a;

	if (mqtt_parse_ack(f, v, &a) < 0) {
		conn_fail(w, c, ERR_PROTOCOL);
		return -1;
	}
	struct msg_slot *s = slot_for(w, c, a.packet_id);
	uint8_t want = a.type == MQTT_PUBCOMP ? 2 : 1;
	bool type_ok = (a.type == MQTT_PUBACK && w->o->qos == 1) ||
		       (a.type != MQTT_PUBACK && w->o->qos == 2);
	if (!s || s->state != want || !type_ok) {
		w->t.errors[ERR_UNEXPECTED_ACK]++;
		return 0;
	}
	if (a.reason >= 0x80) {
		w->t.pub_reason[a.reason]++;
		conn_msg_done(w, c, s, false);
	} else if (a.type == MQTT_PUBREC) {
		s->state = 2;
		c->rel_pending[c->n_rel++] = a.packet_id;
	} else {
		conn_msg_done(w, c, s, true);
	}
	return 0;
}

/* Acks handed to the engine at a time by mq_on_run. */
#define ACK_RUN_BATCH 256
/* How far ahead (in 4-byte acks) mq_on_run fetches slots: a deep window's
 * slots are megabytes, and each is touched once per window. */
#define ACK_PREFETCH 24

/* QoS 1's steady answer is a run of 4-byte PUBACKs (40 02 id id: success,
 * no reason code, in 3.1.1 and 5 alike): matched and timed here, in
 * batches, without the frame walk. Stops at the first frame that is
 * anything else, or whose id is not awaiting its PUBACK, and leaves it to
 * mq_on_frame (which counts an unknown or repeated id). */
static size_t mq_on_run(struct worker *w, struct conn *c, const uint8_t *buf, size_t len)
{
	uint16_t slots[ACK_RUN_BATCH];
	int32_t ends[ACK_RUN_BATCH];
	uint32_t n = 0;
	size_t off = 0;

	if (w->o->qos != 1 || !c->slots || len < 4 || buf[0] != 0x40 || buf[1] != 2)
		return 0;
	int64_t base = worker_rx_offset(w, buf);
	/* Locals: the slot stores could alias anything in w or c. Slot i
	 * carries ids i+1, i+1+cap, ...: in a deep window only the first. */
	struct msg_slot *const all = c->slots;
	const uint32_t cap = w->slot_cap;
	const uint64_t m = w->slot_cap_m;
	while (len - off >= 4 && buf[off] == 0x40 && buf[off + 1] == 2) {
		uint16_t id = (uint16_t)(buf[off + 2] << 8 | buf[off + 3]);
		if (len - off >= 4 * (ACK_PREFETCH + 1)) {
			const uint8_t *a = buf + off + 4 * ACK_PREFETCH + 2;
			uint32_t ahead = (uint32_t)(a[0] << 8 | a[1]) - 1;
			__builtin_prefetch(&all[ahead < cap ? ahead : slot_mod(ahead, cap, m)]);
		}
		uint32_t x = (uint32_t)id - 1;
		struct msg_slot *s = &all[x < cap ? x : slot_mod(x, cap, m)];
		if (!id || s->state != 1 || s->id != id)
			break;
		s->state = 0;
		off += 4;
		slots[n] = (uint16_t)(s - all);
		ends[n] = base < 0 ? -1 : (int32_t)(base + (int64_t)off);
		if (++n == ACK_RUN_BATCH) {
			conn_acks_done(w, c, slots, ends, n);
			n = 0;
		}
	}
	if (n)
		conn_acks_done(w, c, slots, ends, n);
	return off;
}

static int mq_on_frame(struct worker *w, struct conn *c, const uint8_t *buf, size_t len)
{
	enum mqtt_version v = (enum mqtt_version)w->o->mqtt_version;
	struct mqtt_frame f;

	if (mqtt_decode_frame(buf, len, 0, &f) != (ssize_t)len) {
		conn_fail(w, c, ERR_PROTOCOL);
		return -1;
	}
	switch (f.type) {
	case MQTT_CONNACK: {
		struct mqtt_connack ca;
		if (c->state != CS_HANDSHAKE || mqtt_parse_connack(&f, v, &ca) < 0) {
			conn_fail(w, c, ERR_PROTOCOL);
			return -1;
		}
		if (ca.code) {
			w->t.connack[ca.code]++;
			conn_fail(w, c, ERR__COUNT);
			return -1;
		}
		/* MQTT 5 3.2.2.3.3: never more QoS 1/2 publishes in flight than
		 * the broker's Receive Maximum. */
		if (v == MQTT_V5 && ca.receive_maximum && ca.receive_maximum < w->slot_cap)
			c->window = ca.receive_maximum;
		if (opts_fanout(w->o) && mqfo_subscribes(w, c)) {
			mqfo_connacked(c); /* ready once subscribed */
			return 0;
		}
		conn_handshake_done(w, c);
		return 0;
	}
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBCOMP:
		return mq_on_ack(w, c, &f);
	case MQTT_DISCONNECT: {
		struct mqtt_disconnect d = { 0 };
		if (mqtt_parse_disconnect(&f, v, &d) == 0 && v == MQTT_V5)
			w->t.disconnect[d.reason]++;
		conn_fail(w, c, v == MQTT_V5 ? ERR__COUNT : ERR_CONN_CLOSED);
		return -1;
	}
	case MQTT_SUBACK:
		return opts_fanout(w->o) ? mqfo_on_suback(w, c, &f) : 0;
	case MQTT_PUBLISH:
		return opts_fanout(w->o) ? mqfo_on_publish(w, c, &f) : 0;
	case MQTT_PUBREL:
		if (opts_fanout(w->o))
			return mqfo_on_pubrel(w, c, &f);
		conn_fail(w, c, ERR_PROTOCOL);
		return -1;
	case MQTT_PINGRESP:
		return 0;
	default:
		conn_fail(w, c, ERR_PROTOCOL);
		return -1;
	}
}

/* The steady case of mq_fill: up to n more frames, each a copy of the
 * chunk's first (tmpl, of lay->frame_len bytes, already counted) with its
 * packet id and marker re-stamped, messages numbered from first. Copies
 * the frames in doubling blocks (a few large copies instead of one small
 * one per frame), then stamps each (the marker's sequence number: the
 * rest of it is the first frame's). Returns how many it wrote. */
static uint32_t mq_fill_copies(struct worker *w, struct conn *c, struct chunk *ch,
			       const struct mqtt_publish_layout *lay, const uint8_t *tmpl,
			       uint64_t first, uint32_t n, bool marked)
{
	const uint32_t fl = (uint32_t)lay->frame_len;
	uint32_t k = (uint32_t)((ch->cap - ch->len) / fl);

	k = n < k ? n : k;
	if (w->o->qos) {
		uint32_t room = c->inflight < c->window ? c->window - c->inflight : 0;
		room = room < c->n_free ? room : c->n_free;
		k = room < k ? room : k;
	}
	if (!k)
		return 0;
	uint8_t *dst = ch->data + ch->len;
	size_t have = fl, want = (size_t)k * fl;
	memcpy(dst, tmpl, fl);
	while (have < want) {
		size_t m = have < want - have ? have : want - have;
		memcpy(dst + have, dst, m);
		have += m;
	}
	/* Locals: the stores into the frames could alias anything in w or c. */
	const bool qos = w->o->qos, paced = w->rate;
	const uint32_t cap = w->slot_cap, nw = w->n_workers, wid = w->id;
	/* Packet id generations per slot (ids stay within 1..65535). */
	const uint32_t gens = qos ? 65535 / cap : 1;
	const uint32_t id_off = (uint32_t)lay->packet_id_off, pl_off = (uint32_t)lay->payload_off;
	const uint64_t now = w->now;
	struct msg_slot *slots = c->slots;
	uint16_t *gen_of = c->gen, *free_top = c->free_slots + c->n_free;
	for (uint32_t i = 0; i < k; i++, dst += fl) {
		uint64_t idx = first + i;
		if (qos) {
			uint16_t slot = *--free_top;
			/* A window of 32768 or more has one generation: no load. */
			uint16_t gen = gens > 1 ? gen_of[slot] : 0;
			uint16_t id = (uint16_t)(slot + 1 + cap * gen);
			dst[id_off] = (uint8_t)(id >> 8);
			dst[id_off + 1] = (uint8_t)id;
			struct msg_slot *s = &slots[slot];
			s->state = 1;
			s->id = id;
			s->intended_ns = paced ? worker_msg_start(w, idx) : now;
			s->sent_ns = now;
			if (gens > 1)
				gen_of[slot] = (uint16_t)((uint32_t)gen + 1 < gens ? gen + 1 : 0);
		}
		if (marked)
			marker_restamp_seq(dst + pl_off, idx * nw + wid);
	}
	if (qos) {
		c->n_free -= k;
		c->inflight += k;
		w->t.inflight += k;
	}
	ch->len += (uint32_t)want;
	ch->n_frames += k;
	return k;
}

static uint32_t mq_fill(struct worker *w, struct conn *c, struct chunk *ch, uint64_t first,
			uint32_t n)
{
	const struct blast_opts *o = w->o;
	enum mqtt_version v = (enum mqtt_version)o->mqtt_version;
	uint8_t *out = ch->data;
	size_t cap = ch->cap, len = ch->len;

	/* Fan-out: acks owed for the broker's deliveries. */
	if (c->pstate)
		len += mqfo_put_acks(w, c, out + len, cap - len, &ch->n_frames);
	/* PUBRELs owed first: they free the broker's side of the window. */
	while (c->n_rel) {
		ssize_t r = mqtt_encode_ack(out + len, cap - len, v, MQTT_PUBREL,
					    c->rel_pending[c->n_rel - 1], 0);
		if (r < 0)
			break;
		c->n_rel--;
		len += (size_t)r;
		ch->n_frames++;
	}
	if (!n) {
		ch->len = (uint32_t)len;
		return 0;
	}

	char *topic = w->scratch;
	int tl = template_expand(topic, SCRATCH_LEN, o->topic, opts_conn_no(o, c->idx),
				 first * w->n_workers + w->id, 0);
	if (tl < 0) {
		ch->len = (uint32_t)len;
		return 0;
	}
	struct mqtt_publish pub = {
		.version = v,
		.topic = topic,
		.topic_len = (size_t)tl,
		.qos = o->qos,
		.retain = o->retain,
	};
	struct mqtt_publish_layout lay = { 0 };
	const uint8_t *tmpl = NULL;
	/* Same topic and payload every time: copy the first frame and
	 * re-stamp; otherwise encode each message. */
	bool same_frame = !o->topic_has_seq && !o->payloads.n && !w->pgen;
	bool marked = !o->payloads.n && !w->pgen && w->payload_len >= MARKER_LEN;
	bool fanout = opts_fanout(o);
	struct fanout_match match = { 0 };
	if (fanout)
		match = fanout_match_topic(o, topic, (size_t)tl);
	uint32_t done = 0;
	/* Packet id generations per slot (ids stay within 1..65535). */
	uint32_t gens = o->qos ? 65535 / w->slot_cap : 1;

	for (; done < n; done++) {
		uint64_t idx = first + done;
		uint64_t seq = idx * w->n_workers + w->id;
		uint16_t slot = 0, id = 0;
		if (o->qos) {
			if (!c->n_free || c->inflight >= c->window)
				break;
			slot = c->free_slots[c->n_free - 1];
			/* Slot s carries ids s+1, s+1+cap, ...: an ack finds its
			 * slot by (id-1) % cap, and ids still vary. */
			id = (uint16_t)(slot + 1 + w->slot_cap * c->gen[slot]);
		}
		uint8_t *dst = out + len;
		if (same_frame && tmpl && !fanout) {
			ch->len = (uint32_t)len;
			done += mq_fill_copies(w, c, ch, &lay, tmpl, idx, n - done, marked);
			return done;
		}
		if (same_frame && tmpl) {
			if (cap - len < lay.frame_len)
				break;
			memcpy(dst, tmpl, lay.frame_len);
		} else {
			if (o->topic_has_seq) {
				tl = template_expand(topic, SCRATCH_LEN, o->topic, opts_conn_no(o, c->idx), seq, 0);
				if (tl < 0)
					break;
				pub.topic_len = (size_t)tl;
				if (fanout)
					match = fanout_match_topic(o, topic, (size_t)tl);
			}
			if (w->pgen) {
				ssize_t pl = payload_gen_fill(w->pgen, seq, w->pbuf, w->pbuf_cap);
				if (pl < 0)
					break;
				pub.payload = w->pbuf;
				pub.payload_len = (size_t)pl;
			} else if (o->payloads.n) {
				size_t line = w->payload_next % o->payloads.n;
				pub.payload = (const uint8_t *)o->payloads.lines[line];
				pub.payload_len = o->payloads.lens[line];
			} else {
				pub.payload = w->payload;
				pub.payload_len = w->payload_len;
			}
			/* Fan-out: the marker goes in front of a line or message. */
			if (fanout && (w->pgen || o->payloads.n) &&
			    !(pub.payload = mqfo_payload(w, pub.payload, pub.payload_len,
							 &pub.payload_len)))
				break;
			pub.packet_id = id;
			ssize_t r = mqtt_encode_publish(dst, cap - len, &pub, &lay);
			if (r < 0)
				break;
			if (o->payloads.n)
				w->payload_next++;
			tmpl = dst;
		}
		if (id) {
			dst[lay.packet_id_off] = (uint8_t)(id >> 8);
			dst[lay.packet_id_off + 1] = (uint8_t)id;
			struct msg_slot *s = &c->slots[slot];
			s->state = 1;
			s->id = id;
			s->intended_ns = worker_msg_start(w, idx);
			s->sent_ns = w->now;
			c->gen[slot] = (uint16_t)((uint32_t)c->gen[slot] + 1 < gens ? c->gen[slot] + 1 : 0);
			c->n_free--;
			c->inflight++;
			w->t.inflight++;
		}
		if (fanout)
			marker_stamp_fanout(dst + lay.payload_off, fanout_publisher_no(o, c->idx),
					    fanout_seq(o, seq), w->shm->run_id, w->now + receipt_wall_off(w));
		else if (marked)
			marker_stamp(dst + lay.payload_off, c->idx, seq);
		w->t.matched += match.every;
		w->t.share_receipts += match.shared;
		len += lay.frame_len;
		ch->n_frames++;
	}
	ch->len = (uint32_t)len;
	return done;
}

static uint32_t mq_count_msgs(const uint8_t *buf, size_t len)
{
	uint32_t n = 0;
	size_t off = 0;

	while (off < len) {
		ssize_t t = mq_frame_total(buf + off, len - off);
		if (t <= 0 || off + (size_t)t > len)
			break;
		if ((buf[off] >> 4) == MQTT_PUBLISH)
			n++;
		off += (size_t)t;
	}
	return n;
}

static ssize_t mq_goodbye(struct worker *w, struct conn *c, uint8_t *out, size_t cap)
{
	(void)c;
	return mqtt_encode_disconnect(out, cap, (enum mqtt_version)w->o->mqtt_version, 0);
}

static ssize_t mq_ping(struct worker *w, struct conn *c, uint8_t *out, size_t cap)
{
	(void)w;
	(void)c;
	return mqtt_encode_pingreq(out, cap);
}

static int mq_has_control(const struct conn *c)
{
	return c->n_rel > 0 || mqfo_owes(c);
}

/* Fan-out: receipts can still be on their way after the last send; the
 * drain lasts until the parent sees every expected one. */
static bool mq_idle(const struct worker *w)
{
	return !opts_fanout(w->o) || w->shm->fanout_done;
}

static void mq_teardown(struct worker *w)
{
	if (opts_fanout(w->o))
		mqfo_teardown(w);
}

const struct proto_ops mqtt_proto = {
	.name = "mqtt",
	.setup = mq_setup,
	.hello = mq_hello,
	.frame_total = mq_frame_total,
	.on_frame = mq_on_frame,
	.on_run = mq_on_run,
	.fill = mq_fill,
	.count_msgs = mq_count_msgs,
	.goodbye = mq_goodbye,
	.ping = mq_ping,
	.has_control = mq_has_control,
	.idle = mq_idle,
	.teardown = mq_teardown,
};
