/* MQTT's publish fast path and its ack runs, through the engine's own
 * entry points: mqtt_proto.fill builds the publishes (each frame a copy
 * of the first, re-stamped), tl_deliver feeds the broker's answers as a
 * receive would. Every ack must be matched by its packet id: unknown and
 * repeated ids counted, not acked; every acked message timed once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/mqtt.h"
#include "engine/conn.h"
#include "engine/io.h"
#include "engine/worker.h"
#include "payload/marker.h"
#include "protocol/registry.h"
#include "t.h"

#define MAX_MSGS 4096

struct rig {
	struct blast_opts o;
	struct worker w;
	struct conn c;
	struct chunk *ch;
	uint16_t ids[MAX_MSGS]; /* packet id of each message filled so far */
	uint32_t n_ids;
};

static void rig_init(struct rig *r, uint8_t version, uint32_t inflight)
{
	memset(r, 0, sizeof(*r));
	r->o.qos = 1;
	r->o.inflight = inflight;
	r->o.mqtt_version = version;
	r->o.topic = "t/x";
	r->o.payload_size = 20;
	r->w.o = &r->o;
	r->w.p = &mqtt_proto;
	r->w.n_workers = 1;
	r->w.slot_cap = inflight;
	r->w.slot_cap_m = UINT64_MAX / inflight + 1;
	r->w.now = 1000000;
	r->w.interval = hist_new();
	r->w.interval_raw = hist_new();
	r->w.scratch = malloc(SCRATCH_LEN);
	CHECK(r->w.interval && r->w.interval_raw && r->w.scratch);
	CHECK_EQ_INT(mqtt_proto.setup(&r->w), 0);
	r->c.idx = 5;
	r->c.state = CS_READY;
	r->c.window = inflight;
	r->c.fd = -1;
	CHECK_EQ_INT(conn_alloc_slots(&r->w, &r->c), 0);
	r->ch = malloc(sizeof(*r->ch) + (1u << 20));
	CHECK(r->ch != NULL);
	r->ch->cap = 1u << 20;
}

static void rig_free(struct rig *r)
{
	free(r->c.slots);
	free(r->c.carry);
	free(r->ch);
	free(r->w.scratch);
	free(r->w.payload);
	free(r->w.interval);
	free(r->w.interval_raw);
}

/* Fills up to n messages numbered from first; decodes the chunk: every
 * frame a QoS 1 PUBLISH on the topic, with a marker carrying its sequence
 * number, and a packet id held by a slot of its own. Returns how many. */
static uint32_t rig_fill(struct rig *r, uint64_t first, uint32_t n)
{
	static uint8_t seen[65536];

	memset(seen, 0, sizeof(seen));
	r->ch->len = 0;
	r->ch->n_frames = 0;
	uint32_t done = mqtt_proto.fill(&r->w, &r->c, r->ch, first, n);
	CHECK_EQ_INT(r->ch->n_frames, done);
	r->w.t.sent += done;
	size_t off = 0;
	for (uint32_t i = 0; i < done; i++) {
		struct mqtt_frame f;
		struct mqtt_publish p;
		ssize_t fl = mqtt_decode_frame(r->ch->data + off, r->ch->len - off, 0, &f);
		CHECK(fl > 0);
		if (fl <= 0)
			return i;
		CHECK_EQ_INT(mqtt_parse_publish(&f, (enum mqtt_version)r->o.mqtt_version, &p), 0);
		CHECK_EQ_INT(p.qos, 1);
		CHECK_MEM(p.topic, p.topic_len, "t/x", 3);
		CHECK_EQ_INT(p.payload_len, 20);
		uint64_t seq;
		uint32_t conn;
		memcpy(&conn, p.payload + 4, 4);
		memcpy(&seq, p.payload + 8, 8);
		CHECK(!memcmp(p.payload, MARKER_MAGIC, 4));
		CHECK_EQ_INT(conn, 5);
		CHECK_EQ_INT(seq, first + i);
		/* Its slot awaits it, and no other message of this fill has it. */
		const struct msg_slot *s = &r->c.slots[(p.packet_id - 1u) % r->w.slot_cap];
		CHECK(p.packet_id != 0 && s->state == 1 && s->id == p.packet_id);
		CHECK(!seen[(p.packet_id - 1u) % r->w.slot_cap]);
		seen[(p.packet_id - 1u) % r->w.slot_cap] = 1;
		if (r->n_ids < MAX_MSGS)
			r->ids[r->n_ids++] = p.packet_id;
		off += (size_t)fl;
	}
	CHECK_EQ_INT(off, r->ch->len);
	uint32_t busy = 0;
	for (uint32_t i = 0; i < r->w.slot_cap; i++)
		busy += r->c.slots[i].state != 0;
	CHECK_EQ_INT(busy, r->c.inflight);
	return done;
}

static size_t put_puback(uint8_t *out, uint16_t id)
{
	out[0] = 0x40;
	out[1] = 2;
	out[2] = (uint8_t)(id >> 8);
	out[3] = (uint8_t)id;
	return 4;
}

static void check_accounting(const struct rig *r)
{
	CHECK_EQ_INT(r->w.t.sent, r->w.t.acked + r->w.t.failed + r->c.inflight);
	CHECK_EQ_INT(r->w.interval->total, r->w.t.acked);
	CHECK_EQ_INT(r->c.n_free + r->c.inflight, r->w.slot_cap);
}

/* A run of plain acks with an unknown id, a repeat inside the run, an id
 * whose slot is free and a cut last ack: only what was in flight is
 * acked, once. */
static void test_ack_run(void)
{
	struct rig r;
	uint8_t buf[4 * 64];
	size_t n = 0;

	rig_init(&r, MQTT_V311, 100);
	CHECK_EQ_INT(rig_fill(&r, 0, 10), 10);
	CHECK_EQ_INT(r.c.inflight, 10);
	for (int i = 0; i < 4; i++)
		n += put_puback(buf + n, r.ids[i]);
	n += put_puback(buf + n, r.ids[2]);	/* repeated in the same run */
	n += put_puback(buf + n, 77);		/* never sent */
	n += put_puback(buf + n, r.ids[4]);
	n += put_puback(buf + n, r.ids[5]);
	CHECK_EQ_INT(tl_deliver(&r.w, &r.c.tl, buf, n), 0);
	CHECK_EQ_INT(r.w.t.acked, 6);
	CHECK_EQ_INT(r.w.t.errors[ERR_UNEXPECTED_ACK], 2);
	CHECK_EQ_INT(r.c.inflight, 4);
	check_accounting(&r);

	/* An ack already settled comes again, then one split over two reads. */
	n = put_puback(buf, r.ids[0]);
	n += put_puback(buf + n, r.ids[6]);
	CHECK_EQ_INT(tl_deliver(&r.w, &r.c.tl, buf, n - 1), 0);
	CHECK_EQ_INT(r.w.t.errors[ERR_UNEXPECTED_ACK], 3);
	CHECK_EQ_INT(r.w.t.acked, 6);
	CHECK_EQ_INT(tl_deliver(&r.w, &r.c.tl, buf + n - 1, 1), 0);
	CHECK_EQ_INT(r.w.t.acked, 7);
	check_accounting(&r);

	/* The rest, in one run: all acked, nothing left in flight. */
	n = 0;
	for (int i = 9; i >= 7; i--)
		n += put_puback(buf + n, r.ids[i]);
	CHECK_EQ_INT(tl_deliver(&r.w, &r.c.tl, buf, n), 0);
	CHECK_EQ_INT(r.w.t.acked, 10);
	CHECK_EQ_INT(r.c.inflight, 0);
	CHECK_EQ_INT(r.w.t.errors[ERR_UNEXPECTED_ACK], 3);
	check_accounting(&r);
	rig_free(&r);
}

/* MQTT 5: a PUBACK with a reason code breaks the run: a success reason is
 * acked, a failure one fails its message; the run goes on after it. */
static void test_v5_reasons(void)
{
	struct rig r;
	uint8_t buf[64];
	size_t n = 0;

	rig_init(&r, MQTT_V5, 16);
	CHECK_EQ_INT(rig_fill(&r, 0, 5), 5);
	n += put_puback(buf + n, r.ids[0]);
	buf[n++] = 0x40, buf[n++] = 3, buf[n++] = (uint8_t)(r.ids[1] >> 8), buf[n++] = (uint8_t)r.ids[1];
	buf[n++] = 0x10; /* no matching subscribers: still a success */
	n += put_puback(buf + n, r.ids[2]);
	buf[n++] = 0x40, buf[n++] = 3, buf[n++] = (uint8_t)(r.ids[3] >> 8), buf[n++] = (uint8_t)r.ids[3];
	buf[n++] = 0x87; /* not authorized */
	n += put_puback(buf + n, r.ids[4]);
	CHECK_EQ_INT(tl_deliver(&r.w, &r.c.tl, buf, n), 0);
	CHECK_EQ_INT(r.w.t.acked, 4);
	CHECK_EQ_INT(r.w.t.failed, 1);
	CHECK_EQ_INT(r.w.t.pub_reason[0x87], 1);
	CHECK_EQ_INT(r.c.inflight, 0);
	check_accounting(&r);
	rig_free(&r);
}

/* A small window turns over many times: packet ids move through their
 * generations and stay unique in flight; runs longer than the engine's
 * batch and than a window, all matched. */
static void test_windows(void)
{
	static uint8_t buf[4 * MAX_MSGS];
	struct rig r;
	uint64_t next = 0;

	rig_init(&r, MQTT_V311, 7);
	for (int round = 0; round < 50; round++) {
		uint32_t got = rig_fill(&r, next, 100);
		CHECK_EQ_INT(got, 7); /* the window, not the 100 asked */
		next += got;
		size_t n = 0;
		for (uint32_t i = r.n_ids - got; i < r.n_ids; i++)
			n += put_puback(buf + n, r.ids[i]);
		CHECK_EQ_INT(tl_deliver(&r.w, &r.c.tl, buf, n), 0);
		CHECK_EQ_INT(r.c.inflight, 0);
	}
	CHECK_EQ_INT(r.w.t.acked, 350);
	CHECK_EQ_INT(r.w.t.errors[ERR_UNEXPECTED_ACK], 0);
	check_accounting(&r);
	rig_free(&r);

	rig_init(&r, MQTT_V311, 3000);
	CHECK_EQ_INT(rig_fill(&r, 0, 3000), 3000);
	size_t n = 0;
	for (uint32_t i = 0; i < 3000; i++)
		n += put_puback(buf + n, r.ids[(i * 7) % 3000]); /* any order */
	n += put_puback(buf + n, r.ids[0]);
	CHECK_EQ_INT(tl_deliver(&r.w, &r.c.tl, buf, n), 0);
	CHECK_EQ_INT(r.w.t.acked, 3000);
	CHECK_EQ_INT(r.w.t.errors[ERR_UNEXPECTED_ACK], 1);
	CHECK_EQ_INT(r.c.inflight, 0);
	check_accounting(&r);
	rig_free(&r);
}

/* The divisionless slot lookup agrees with %, for every window size. */
static void test_slot_mod(void)
{
	struct worker w = { 0 };

	for (uint32_t cap = 1; cap <= 65535; cap += cap < 300 ? 1 : 997) {
		w.slot_cap = cap;
		w.slot_cap_m = UINT64_MAX / cap + 1;
		for (uint32_t x = 0; x < 65536; x += 1 + x / 64)
			if (worker_slot_mod(&w, x) != x % cap) {
				CHECK_EQ_INT(worker_slot_mod(&w, x), x % cap);
				return;
			}
		CHECK_EQ_INT(worker_slot_mod(&w, 65534), 65534 % cap);
	}
}

int main(void)
{
	test_ack_run();
	test_v5_reasons();
	test_windows();
	test_slot_mod();
	return t_done("test_mqtt_acks");
}
