/* MQTT encoders (encoders/mqtt_enc.c) and the writer under them: golden
 * bytes (tests/mqtt_vectors.h), every cap below the size ending at a
 * PROT_NONE page, the values the spec forbids, and topic filters. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "encoders/mqtt.h"
#include "encoders/wbuf.h"
#include "guard.h"
#include "mqtt_vectors.h"
#include "t.h"

/* ---- helpers ---- */

/* Checks one encoder output against the golden bytes, then that every cap
 * below the size gives -ENOSPC without writing past the cap (the output
 * ends at the guard page, so a stray write faults). */
typedef ssize_t (*enc_fn)(uint8_t *out, size_t cap, const void *arg);

static void check_encoder(enc_fn fn, const void *arg, const uint8_t *want, size_t want_len)
{
	uint8_t buf[512];
	ssize_t n = fn(buf, sizeof(buf), arg);

	CHECK_EQ_INT(n, want_len);
	if (n > 0)
		CHECK_MEM(buf, (size_t)n, want, want_len);
	for (size_t cap = 0; cap < want_len; cap++) {
		uint8_t *out = guard_slot(cap);

		CHECK_EQ_INT(fn(out, cap, arg), -ENOSPC);
	}
	/* Exactly enough room, and the room right at the guard page. */
	CHECK_EQ_INT(fn(guard_slot(want_len), want_len, arg), want_len);
	CHECK_MEM(guard_slot(want_len), want_len, want, want_len);
}

static ssize_t enc_connect(uint8_t *out, size_t cap, const void *arg)
{
	return mqtt_encode_connect(out, cap, arg);
}

static ssize_t enc_publish(uint8_t *out, size_t cap, const void *arg)
{
	return mqtt_encode_publish(out, cap, arg, NULL);
}

struct ack_arg {
	enum mqtt_version v;
	uint8_t type;
	uint16_t id;
	uint8_t reason;
};

static ssize_t enc_ack(uint8_t *out, size_t cap, const void *arg)
{
	const struct ack_arg *a = arg;

	return mqtt_encode_ack(out, cap, a->v, a->type, a->id, a->reason);
}

struct sub_arg {
	enum mqtt_version v;
	uint16_t id;
	const char *const *filters;
	const uint8_t *qos;
	size_t n;
};

static ssize_t enc_sub(uint8_t *out, size_t cap, const void *arg)
{
	const struct sub_arg *s = arg;

	return mqtt_encode_subscribe(out, cap, s->v, s->id, s->filters, s->qos, s->n);
}

static ssize_t enc_ping(uint8_t *out, size_t cap, const void *arg)
{
	(void)arg;
	return mqtt_encode_pingreq(out, cap);
}

struct disc_arg {
	enum mqtt_version v;
	uint8_t reason;
};

static ssize_t enc_disc(uint8_t *out, size_t cap, const void *arg)
{
	const struct disc_arg *d = arg;

	return mqtt_encode_disconnect(out, cap, d->v, d->reason);
}

/* ---- tests ---- */

static void test_wbuf(void)
{
	uint8_t buf[16];
	struct wbuf w;

	for (size_t i = 0; i < ARRAY_SIZE(varint_vec); i++) {
		wb_init(&w, buf, sizeof(buf));
		wb_varint(&w, varint_vec[i].v);
		CHECK_EQ_INT(wb_result(&w), varint_vec[i].n);
		CHECK_MEM(buf, wb_len(&w), varint_vec[i].b, varint_vec[i].n);
		CHECK_EQ_INT(wb_varint_size(varint_vec[i].v), varint_vec[i].n);
		/* One byte short overflows and writes nothing. */
		wb_init(&w, guard_slot(varint_vec[i].n - 1), varint_vec[i].n - 1);
		wb_varint(&w, varint_vec[i].v);
		CHECK_EQ_INT(wb_result(&w), -ENOSPC);
	}
	wb_init(&w, buf, sizeof(buf));
	wb_varint(&w, MQTT_MAX_REMAINING + 1);
	CHECK(w.overflow);

	/* Sticky: after an overflow a write that would fit is refused too. */
	wb_init(&w, buf, 3);
	wb_u16be(&w, 0x0102);
	wb_u16be(&w, 0x0304);
	wb_u8(&w, 5);
	CHECK_EQ_INT(wb_result(&w), -ENOSPC);
	CHECK_EQ_INT(wb_len(&w), 2);

	/* Reserve then patch (librdkafka's Length/CRC pattern). */
	static const uint8_t patched[] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x2a, 0x01, 0x02,
					   0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
	wb_init(&w, buf, sizeof(buf));
	size_t off = wb_reserve(&w, 4);
	wb_u16be(&w, 42);
	wb_u64be(&w, 0x0102030405060708ull);
	wb_patch_u32be(&w, off, 0xdeadbeef);
	wb_patch_u32be(&w, 12, 0xffffffff); /* past what was written: ignored */
	CHECK_MEM(buf, wb_len(&w), patched, sizeof(patched));

	/* Kafka/protobuf varints: protobuf docs' 300 -> ac 02, zigzag
	 * 0,-1,1,-2,63,-64,64 -> 00 01 02 03 7e 7f 80 01, librdkafka's -23 -> 2d. */
	static const uint8_t zz[] = { 0xac, 0x02, 0x00, 0x01, 0x02, 0x03, 0x7e, 0x7f, 0x80, 0x01, 0x2d };
	static const int64_t zv[] = { 0, -1, 1, -2, 63, -64, 64, -23 };
	wb_init(&w, buf, sizeof(buf));
	wb_uvarint(&w, 300);
	for (size_t i = 0; i < ARRAY_SIZE(zv); i++)
		wb_zigzag64(&w, zv[i]);
	CHECK_MEM(buf, wb_len(&w), zz, sizeof(zz));
	CHECK_EQ_INT(wb_uvarint_size(UINT64_MAX), 10);
	CHECK_EQ_INT(wb_zigzag_enc64(INT64_MIN), UINT64_MAX);
}

static void test_connect(void)
{
	struct mqtt_connect c = {
		.version = MQTT_V311,
		.client_id = "blast",
		.client_id_len = 5,
		.keepalive = 60,
		.clean_start = true,
	};
	uint8_t buf[128];

	check_encoder(enc_connect, &c, connect311_min, sizeof(connect311_min));
	CHECK_EQ_INT(mqtt_connect_size(&c), sizeof(connect311_min));

	c.keepalive = 30;
	c.username = "user";
	c.username_len = 4;
	c.password = (const uint8_t *)"pass";
	c.password_len = 4;
	c.will_topic = "w";
	c.will_topic_len = 1;
	c.will_payload = (const uint8_t *)"bye";
	c.will_payload_len = 3;
	c.will_qos = 1;
	check_encoder(enc_connect, &c, connect311_will, sizeof(connect311_will));
	CHECK_EQ_INT(mqtt_connect_size(&c), sizeof(connect311_will));

	/* The spec's variable header example has the same flags. */
	c.keepalive = 10;
	CHECK(mqtt_encode_connect(buf, sizeof(buf), &c) > 0);
	CHECK_MEM(buf + 2, sizeof(spec311_connect_vh), spec311_connect_vh, sizeof(spec311_connect_vh));
	c.version = MQTT_V5;
	c.session_expiry = 10;
	CHECK(mqtt_encode_connect(buf, sizeof(buf), &c) > 0);
	CHECK_MEM(buf + 2, sizeof(spec5_connect_vh), spec5_connect_vh, sizeof(spec5_connect_vh));

	struct mqtt_connect c5 = {
		.version = MQTT_V5,
		.client_id = "blast",
		.client_id_len = 5,
		.keepalive = 60,
		.clean_start = true,
		.session_expiry = 60,
		.receive_maximum = 100,
		.topic_alias_maximum = 10,
		.maximum_packet_size = 1024,
	};
	check_encoder(enc_connect, &c5, connect5_props, sizeof(connect5_props));
	CHECK_EQ_INT(mqtt_connect_size(&c5), sizeof(connect5_props));

	struct mqtt_connect c5w = {
		.version = MQTT_V5,
		.client_id = "blast",
		.client_id_len = 5,
		.username = "user",
		.username_len = 4,
		.password = (const uint8_t *)"pass",
		.password_len = 4,
		.keepalive = 60,
		.clean_start = true,
		.will_topic = "w",
		.will_topic_len = 1,
		.will_payload = (const uint8_t *)"bye",
		.will_payload_len = 3,
		.will_qos = 2,
		.will_retain = true,
		.receive_maximum = 20,
	};
	check_encoder(enc_connect, &c5w, connect5_will, sizeof(connect5_will));

	/* Round trip through the framer: type and whole length. */
	struct mqtt_frame f;
	ssize_t n = mqtt_encode_connect(buf, sizeof(buf), &c5w);
	CHECK_EQ_INT(decode_at_guard(buf, (size_t)n, &f), n);
	CHECK_EQ_INT(f.type, MQTT_CONNECT);
	CHECK_EQ_INT(f.body_len, (size_t)n - 2);

	/* What the spec forbids. */
	struct mqtt_connect bad = c;
	bad.will_qos = 3;
	CHECK_EQ_INT(mqtt_encode_connect(buf, sizeof(buf), &bad), -EINVAL);
	CHECK_EQ_INT(mqtt_connect_size(&bad), 0);
	bad = c;
	bad.will_topic = NULL; /* will qos without a will */
	CHECK_EQ_INT(mqtt_encode_connect(buf, sizeof(buf), &bad), -EINVAL);
	bad = c;
	bad.version = MQTT_V311;
	bad.username = NULL; /* password without user name [MQTT-3.1.2-22] */
	CHECK_EQ_INT(mqtt_encode_connect(buf, sizeof(buf), &bad), -EINVAL);
	bad.version = MQTT_V5; /* allowed in 5.0 */
	CHECK(mqtt_encode_connect(buf, sizeof(buf), &bad) > 0);
	bad = c;
	bad.version = MQTT_V311;
	bad.client_id_len = 0;
	bad.clean_start = false; /* [MQTT-3.1.3-7] */
	CHECK_EQ_INT(mqtt_encode_connect(buf, sizeof(buf), &bad), -EINVAL);
	bad = c;
	bad.version = 3;
	CHECK_EQ_INT(mqtt_encode_connect(buf, sizeof(buf), &bad), -EINVAL);
	bad = c;
	bad.client_id_len = 70000;
	CHECK_EQ_INT(mqtt_encode_connect(buf, sizeof(buf), &bad), -EINVAL);
	bad = c;
	bad.client_id = "a\0b";
	bad.client_id_len = 3; /* U+0000 in a UTF-8 string [MQTT-1.5.4-2] */
	CHECK_EQ_INT(mqtt_encode_connect(buf, sizeof(buf), &bad), -EINVAL);
	bad = c;
	bad.will_topic = "w/#";
	bad.will_topic_len = 3;
	CHECK_EQ_INT(mqtt_encode_connect(buf, sizeof(buf), &bad), -EINVAL);
}

static void test_publish(void)
{
	struct mqtt_publish p = {
		.version = MQTT_V311,
		.topic = "a/b",
		.topic_len = 3,
		.payload = (const uint8_t *)"hello",
		.payload_len = 5,
	};
	struct mqtt_publish_layout lay;
	uint8_t buf[128];

	check_encoder(enc_publish, &p, publish311_q0, sizeof(publish311_q0));
	CHECK_EQ_INT(mqtt_encode_publish(buf, sizeof(buf), &p, &lay), sizeof(publish311_q0));
	CHECK_EQ_INT(lay.frame_len, sizeof(publish311_q0));
	CHECK_EQ_INT(lay.packet_id_off, 0);
	CHECK_EQ_INT(lay.payload_off, 7);

	p.version = MQTT_V5;
	check_encoder(enc_publish, &p, publish5_q0, sizeof(publish5_q0));

	p.version = MQTT_V311;
	p.qos = 1;
	p.packet_id = 1;
	p.payload = (const uint8_t *)"hi";
	p.payload_len = 2;
	check_encoder(enc_publish, &p, publish311_q1, sizeof(publish311_q1));
	CHECK_EQ_INT(mqtt_encode_publish(buf, sizeof(buf), &p, &lay), sizeof(publish311_q1));
	CHECK_EQ_INT(lay.packet_id_off, 7);
	CHECK_EQ_INT(lay.payload_off, 9);

	/* The spec's variable header example: topic a/b, packet id 10. */
	p.packet_id = 10;
	CHECK(mqtt_encode_publish(buf, sizeof(buf), &p, NULL) > 0);
	CHECK_MEM(buf + 2, sizeof(spec311_publish_vh), spec311_publish_vh, sizeof(spec311_publish_vh));
	p.packet_id = 1;

	p.version = MQTT_V5;
	p.message_expiry = 30;
	check_encoder(enc_publish, &p, publish5_q1_exp, sizeof(publish5_q1_exp));
	CHECK_EQ_INT(mqtt_encode_publish(buf, sizeof(buf), &p, &lay), sizeof(publish5_q1_exp));
	CHECK_EQ_INT(lay.packet_id_off, 7);
	CHECK_EQ_INT(lay.payload_off, 15);

	p.message_expiry = 0;
	p.qos = 2;
	check_encoder(enc_publish, &p, publish5_q2, sizeof(publish5_q2));

	p.version = MQTT_V311;
	p.retain = true;
	p.payload = (const uint8_t *)"x";
	p.payload_len = 1;
	check_encoder(enc_publish, &p, publish311_q2r, sizeof(publish311_q2r));

	/* Re-stamping a template gives the same bytes as encoding afresh. */
	uint8_t big[300], tmpl[400], fresh[400];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	for (int v = MQTT_V311; v <= MQTT_V5; v++) {
		for (uint8_t q = 0; q <= 2; q++) {
			struct mqtt_publish t = {
				.version = (enum mqtt_version)v,
				.topic = "load/test/0001",
				.topic_len = 14,
				.payload = big,
				.payload_len = sizeof(big),
				.qos = q,
				.packet_id = q ? 7 : 0,
				.message_expiry = v == MQTT_V5 ? 3600 : 0,
			};
			ssize_t n = mqtt_encode_publish(tmpl, sizeof(tmpl), &t, &lay);

			CHECK_EQ_INT(n, lay.frame_len);
			CHECK_EQ_INT(mqtt_publish_size(&t), lay.frame_len);
			CHECK_EQ_INT(lay.frame_len - lay.payload_off, sizeof(big));
			CHECK(!memcmp(tmpl + lay.payload_off, big, sizeof(big)));
			/* 300 bytes of payload: a 2-byte remaining length */
			CHECK_EQ_INT(tmpl[1] & 0x80, 0x80);
			if (!q) {
				CHECK_EQ_INT(lay.packet_id_off, 0);
				continue;
			}
			tmpl[lay.packet_id_off] = 0xbe;
			tmpl[lay.packet_id_off + 1] = 0xef;
			t.packet_id = 0xbeef;
			CHECK_EQ_INT(mqtt_encode_publish(fresh, sizeof(fresh), &t, NULL), n);
			CHECK_MEM(tmpl, (size_t)n, fresh, (size_t)n);
		}
	}

	/* What the spec forbids. */
	struct mqtt_publish bad = p;
	bad.qos = 3;
	CHECK_EQ_INT(mqtt_encode_publish(buf, sizeof(buf), &bad, NULL), -EINVAL);
	CHECK_EQ_INT(mqtt_publish_size(&bad), 0);
	bad = p;
	bad.packet_id = 0;
	CHECK_EQ_INT(mqtt_encode_publish(buf, sizeof(buf), &bad, NULL), -EINVAL);
	bad = p;
	bad.qos = 0;
	bad.dup = true;
	CHECK_EQ_INT(mqtt_encode_publish(buf, sizeof(buf), &bad, NULL), -EINVAL);
	bad = p;
	bad.topic_len = 65536;
	CHECK_EQ_INT(mqtt_encode_publish(buf, sizeof(buf), &bad, NULL), -EINVAL);
	bad = p;
	bad.topic = "a/+";
	CHECK_EQ_INT(mqtt_encode_publish(buf, sizeof(buf), &bad, NULL), -EINVAL);
	bad = p;
	bad.topic_len = 0;
	CHECK_EQ_INT(mqtt_encode_publish(buf, sizeof(buf), &bad, NULL), -EINVAL);
	bad = p;
	bad.topic = "\xc0\xaf/"; /* overlong UTF-8 */
	CHECK_EQ_INT(mqtt_encode_publish(buf, sizeof(buf), &bad, NULL), -EINVAL);
	bad = p;
	bad.payload_len = MQTT_MAX_REMAINING; /* remaining length too big */
	CHECK_EQ_INT(mqtt_encode_publish(buf, sizeof(buf), &bad, NULL), -EINVAL);
	/* The largest legal frame is sized, not encoded (-ENOSPC). */
	bad.payload_len = MQTT_MAX_REMAINING - 2 - 3 - 2;
	CHECK_EQ_INT(mqtt_publish_size(&bad), MQTT_MAX_REMAINING + 5);
	CHECK_EQ_INT(mqtt_encode_publish(buf, sizeof(buf), &bad, NULL), -ENOSPC);
}

static void test_small(void)
{
	struct ack_arg a = { MQTT_V311, MQTT_PUBACK, 1, 0 };
	uint8_t buf[16];

	check_encoder(enc_ack, &a, puback311, sizeof(puback311));
	a.type = MQTT_PUBREL;
	check_encoder(enc_ack, &a, pubrel311, sizeof(pubrel311));
	a.v = MQTT_V5; /* reason 0: the short form in 5.0 too */
	check_encoder(enc_ack, &a, pubrel311, sizeof(pubrel311));
	a.type = MQTT_PUBREC;
	check_encoder(enc_ack, &a, pubrec_short, sizeof(pubrec_short));
	a.type = MQTT_PUBCOMP;
	check_encoder(enc_ack, &a, pubcomp_short, sizeof(pubcomp_short));
	a.type = MQTT_PUBACK;
	a.reason = MQTT_RC_NO_MATCHING_SUBSCRIBERS;
	check_encoder(enc_ack, &a, puback5_nomatch, sizeof(puback5_nomatch));
	CHECK_EQ_INT(mqtt_encode_ack(buf, sizeof(buf), MQTT_V311, MQTT_PUBACK, 1, 0x10), -EINVAL);
	CHECK_EQ_INT(mqtt_encode_ack(buf, sizeof(buf), MQTT_V311, MQTT_PUBACK, 0, 0), -EINVAL);
	CHECK_EQ_INT(mqtt_encode_ack(buf, sizeof(buf), MQTT_V311, MQTT_SUBACK, 1, 0), -EINVAL);

	static const char *const f2[] = { "a/b", "c/d" };
	static const uint8_t q11[] = { 1, 1 }, q12[] = { 1, 2 }, q2[] = { 2 }, q3[] = { 3 };
	struct sub_arg s = { MQTT_V311, 1, f2, q11, 2 };
	check_encoder(enc_sub, &s, subscribe311, sizeof(subscribe311));
	s = (struct sub_arg){ MQTT_V311, 10, f2, q12, 2 };
	check_encoder(enc_sub, &s, spec311_subscribe, sizeof(spec311_subscribe));
	s = (struct sub_arg){ MQTT_V5, 1, f2, q2, 1 };
	check_encoder(enc_sub, &s, subscribe5, sizeof(subscribe5));
	CHECK_EQ_INT(mqtt_encode_subscribe(buf, sizeof(buf), MQTT_V5, 1, f2, q3, 1), -EINVAL);
	CHECK_EQ_INT(mqtt_encode_subscribe(buf, sizeof(buf), MQTT_V5, 1, f2, q2, 0), -EINVAL);
	CHECK_EQ_INT(mqtt_encode_subscribe(buf, sizeof(buf), MQTT_V5, 0, f2, q2, 1), -EINVAL);
	static const char *const empty[] = { "" };
	CHECK_EQ_INT(mqtt_encode_subscribe(buf, sizeof(buf), MQTT_V5, 1, empty, q2, 1), -EINVAL);

	check_encoder(enc_ping, NULL, pingreq, sizeof(pingreq));

	struct disc_arg d = { MQTT_V311, 0 };
	check_encoder(enc_disc, &d, disconnect_short, sizeof(disconnect_short));
	d.v = MQTT_V5;
	check_encoder(enc_disc, &d, disconnect_short, sizeof(disconnect_short));
	d.reason = MQTT_RC_DISCONNECT_WITH_WILL_MESSAGE;
	check_encoder(enc_disc, &d, disconnect5_will, sizeof(disconnect5_will));
	CHECK_EQ_INT(mqtt_encode_disconnect(buf, sizeof(buf), MQTT_V311, 4), -EINVAL);
}

/* Broker frames from the vectors, through the framer and the parsers. */

static bool match(const char *f, const char *t)
{
	return mqtt_topic_matches(f, strlen(f), t, strlen(t));
}

static bool filter_ok(const char *f)
{
	return mqtt_filter_valid(f, strlen(f));
}

static void test_topic_filters(void)
{
	const char *good[] = { "#", "+", "sport/#", "sport/tennis/#", "+/tennis/#", "sport/+/player1",
			       "/+", "+/+", "a//b", "$SYS/#", "a/+/#", "/" };
	const char *bad[] = { "", "sport/tennis#", "sport/tennis/#/ranking", "sport+", "a/b+/c",
			      "#/", "a/#/b", "++", "+#" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(filter_ok(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!filter_ok(bad[i]));
	CHECK(!mqtt_filter_valid("a\xc0", 2)); /* not UTF-8 */
	CHECK(!mqtt_filter_valid("a\0b", 3));  /* U+0000 */

	CHECK(match("sport/tennis/player1/#", "sport/tennis/player1"));
	CHECK(match("sport/tennis/player1/#", "sport/tennis/player1/ranking"));
	CHECK(match("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"));
	CHECK(match("sport/#", "sport")); /* the parent level too */
	CHECK(match("#", "sport/tennis"));
	CHECK(match("sport/tennis/+", "sport/tennis/player1"));
	CHECK(!match("sport/tennis/+", "sport/tennis/player1/ranking"));
	CHECK(!match("sport/+", "sport"));
	CHECK(match("sport/+", "sport/"));
	CHECK(match("+/+", "/finance"));
	CHECK(match("/+", "/finance"));
	CHECK(!match("+", "/finance"));
	CHECK(match("blast/#", "blast/0"));
	CHECK(!match("blast/#", "blasts/0"));
	CHECK(!match("blast", "blast/0"));
	CHECK(!match("blast/0", "blast"));
	CHECK(match("a/b", "a/b"));
	CHECK(!match("a/b", "a/c"));
	CHECK(!match("a/b", "a/bc"));
	CHECK(!match("a//b", "a/b"));
	/* [MQTT-4.7.2-1]: wildcards first never match '$' topics. */
	CHECK(!match("#", "$SYS/monitor/Clients"));
	CHECK(!match("+/monitor/Clients", "$SYS/monitor/Clients"));
	CHECK(match("$SYS/#", "$SYS/monitor/Clients"));
	CHECK(match("$SYS/monitor/+", "$SYS/monitor/Clients"));
}

int main(void)
{
	if (guard_init(4096)) {
		perror("guard page");
		return T_FAIL;
	}
	test_wbuf();
	test_topic_filters();
	test_connect();
	test_publish();
	test_small();
	return t_done("test_mqtt_enc");
}
