/* MQTT wire code: golden bytes, every cap below the size, round trips,
 * split and batched framing, malformed input, and decoders run on bytes
 * that end at a PROT_NONE page so an over-read faults.
 *
 * Vector sources: "spec 3.1.1" is the OASIS MQTT 3.1.1 standard, "spec 5.0"
 * the OASIS MQTT 5.0 standard; "mosquitto" is bytes captured on loopback
 * through a logging proxy between mosquitto 2.0.11 and mosquitto_pub or
 * mosquitto_sub, with the command line given. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "encoders/mqtt.h"
#include "t.h"
#include "encoders/wbuf.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- guard page: [page of RW][PROT_NONE page] ---- */

static uint8_t *guard_mem;
static size_t guard_page;

static int guard_init(void)
{
	guard_page = (size_t)sysconf(_SC_PAGESIZE);
	guard_mem = mmap(NULL, 2 * guard_page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_mem == MAP_FAILED)
		return -1;
	return mprotect(guard_mem + guard_page, guard_page, PROT_NONE);
}

/* n bytes ending exactly at the guard page. */
static uint8_t *guard_slot(size_t n)
{
	return guard_mem + guard_page - n;
}

static uint8_t *guard_copy(const void *src, size_t n)
{
	uint8_t *p = guard_slot(n);

	if (n)
		memcpy(p, src, n);
	return p;
}

/* ---- golden vectors ---- */

/* spec 3.1.1 2.2.3 Table 2.4 and spec 5.0 1.5.5 Table 1-1: the edges of
 * each Remaining Length size. */
static const struct {
	uint32_t v;
	uint8_t b[4];
	size_t n;
} varint_vec[] = {
	{ 0, { 0x00 }, 1 },
	{ 127, { 0x7f }, 1 },
	{ 128, { 0x80, 0x01 }, 2 },
	{ 16383, { 0xff, 0x7f }, 2 },
	{ 16384, { 0x80, 0x80, 0x01 }, 3 },
	{ 2097151, { 0xff, 0xff, 0x7f }, 3 },
	{ 2097152, { 0x80, 0x80, 0x80, 0x01 }, 4 },
	{ 268435455, { 0xff, 0xff, 0xff, 0x7f }, 4 },
};

/* mosquitto: mosquitto_pub -V 311 -i blast -k 60 -t a/b -m hello -q 0 */
static const uint8_t connect311_min[] = {
	0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c,
	0x00, 0x05, 'b', 'l', 'a', 's', 't',
};
/* mosquitto: mosquitto_pub -V 311 -i blast -k 30 -u user -P pass
 * --will-topic w --will-payload bye --will-qos 1 -t a/b -m hi -q 1 */
static const uint8_t connect311_will[] = {
	0x10, 0x25, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xce, 0x00, 0x1e,
	0x00, 0x05, 'b', 'l', 'a', 's', 't', 0x00, 0x01, 'w', 0x00, 0x03, 'b', 'y', 'e',
	0x00, 0x04, 'u', 's', 'e', 'r', 0x00, 0x04, 'p', 'a', 's', 's',
};
/* mosquitto: mosquitto_pub -V 5 -i blast -k 60 -D connect session-expiry-interval 60
 * -D connect receive-maximum 100 -D connect topic-alias-maximum 10
 * -D connect maximum-packet-size 1024 ... */
static const uint8_t connect5_props[] = {
	0x10, 0x22, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c,
	0x10, 0x11, 0x00, 0x00, 0x00, 0x3c, 0x21, 0x00, 0x64, 0x22, 0x00, 0x0a,
	0x27, 0x00, 0x00, 0x04, 0x00, 0x00, 0x05, 'b', 'l', 'a', 's', 't',
};
/* mosquitto: mosquitto_pub -V 5 -i blast -u user -P pass --will-topic w
 * --will-payload bye --will-qos 2 --will-retain ... (mosquitto adds
 * receive-maximum 20 on its own) */
static const uint8_t connect5_will[] = {
	0x10, 0x2a, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0xf6, 0x00, 0x3c,
	0x03, 0x21, 0x00, 0x14, 0x00, 0x05, 'b', 'l', 'a', 's', 't',
	0x00, 0x00, 0x01, 'w', 0x00, 0x03, 'b', 'y', 'e',
	0x00, 0x04, 'u', 's', 'e', 'r', 0x00, 0x04, 'p', 'a', 's', 's',
};
/* spec 3.1.1 3.1.2.10 Figure 3.6: CONNECT variable header example (user
 * name, password, will qos 1, will, clean session; keep alive 10). */
static const uint8_t spec311_connect_vh[] = {
	0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xce, 0x00, 0x0a,
};
/* spec 5.0 3.1.2.12 Figure 3-6: the same, level 5, then Properties Length 5
 * and Session Expiry Interval (17) = 10. */
static const uint8_t spec5_connect_vh[] = {
	0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0xce, 0x00, 0x0a,
	0x05, 0x11, 0x00, 0x00, 0x00, 0x0a,
};

/* mosquitto: mosquitto_pub -V 311 -t a/b -m hello -q 0 */
static const uint8_t publish311_q0[] = {
	0x30, 0x0a, 0x00, 0x03, 'a', '/', 'b', 'h', 'e', 'l', 'l', 'o',
};
/* mosquitto: mosquitto_pub -V 311 -t a/b -m hi -q 1 (packet id 1) */
static const uint8_t publish311_q1[] = {
	0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 'h', 'i',
};
/* mosquitto: mosquitto_pub -V 311 -t a/b -m x -q 2 -r */
static const uint8_t publish311_q2r[] = {
	0x35, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 'x',
};
/* mosquitto: mosquitto_pub -V 5 -D publish message-expiry-interval 30 -t a/b -m hi -q 1 */
static const uint8_t publish5_q1_exp[] = {
	0x32, 0x0f, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01,
	0x05, 0x02, 0x00, 0x00, 0x00, 0x1e, 'h', 'i',
};
/* mosquitto: mosquitto_pub -V 5 -t a/b -m hi -q 2 */
static const uint8_t publish5_q2[] = {
	0x34, 0x0a, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 0x00, 'h', 'i',
};
/* mosquitto: mosquitto_pub -V 5 -t a/b -m hello -q 0 */
static const uint8_t publish5_q0[] = {
	0x30, 0x0b, 0x00, 0x03, 'a', '/', 'b', 0x00, 'h', 'e', 'l', 'l', 'o',
};
/* spec 3.1.1 3.3.2.3 Figure 3.12: PUBLISH variable header, topic "a/b",
 * packet identifier 10. */
static const uint8_t spec311_publish_vh[] = { 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0a };

/* mosquitto: mosquitto_sub -V 311 (PUBACK for id 1) */
static const uint8_t puback311[] = { 0x40, 0x02, 0x00, 0x01 };
/* mosquitto: mosquitto_pub -V 311 -q 2 (PUBREL after PUBREC, id 1) */
static const uint8_t pubrel311[] = { 0x62, 0x02, 0x00, 0x01 };
/* mosquitto: broker PUBREC and PUBCOMP for id 1, either version */
static const uint8_t pubrec_short[] = { 0x50, 0x02, 0x00, 0x01 };
static const uint8_t pubcomp_short[] = { 0x70, 0x02, 0x00, 0x01 };
/* mosquitto: broker PUBACK to a v5 publish nobody subscribed to: reason
 * 0x10 No matching subscribers, 3-byte form (spec 5.0 3.4.2.1). */
static const uint8_t puback5_nomatch[] = { 0x40, 0x03, 0x00, 0x01, 0x10 };

/* mosquitto: mosquitto_sub -V 311 -t a/b -t c/d -q 1 */
static const uint8_t subscribe311[] = {
	0x82, 0x0e, 0x00, 0x01, 0x00, 0x03, 'a', '/', 'b', 0x01,
	0x00, 0x03, 'c', '/', 'd', 0x01,
};
/* mosquitto: mosquitto_sub -V 5 -t a/b -q 2 */
static const uint8_t subscribe5[] = {
	0x82, 0x09, 0x00, 0x01, 0x00, 0x00, 0x03, 'a', '/', 'b', 0x02,
};
/* spec 3.1.1 3.8.2.1 Figure 3.21 + 3.8.3.1 Figure 3.23: packet id 10,
 * "a/b" qos 1, "c/d" qos 2 (fixed header added: 0x82, remaining 14). */
static const uint8_t spec311_subscribe[] = {
	0x82, 0x0e, 0x00, 0x0a, 0x00, 0x03, 'a', '/', 'b', 0x01,
	0x00, 0x03, 'c', '/', 'd', 0x02,
};
/* spec 3.1.1 3.12 Figure 3.33 / spec 5.0 3.12.1 */
static const uint8_t pingreq[] = { 0xc0, 0x00 };
/* mosquitto: mosquitto_pub (3.1.1 and 5, reason 0 short form) */
static const uint8_t disconnect_short[] = { 0xe0, 0x00 };
/* mosquitto: mosquitto_sub -V 5 exiting on timeout: reason 0x04
 * Disconnect with Will Message */
static const uint8_t disconnect5_will[] = { 0xe0, 0x01, 0x04 };

/* Broker to client. */
/* mosquitto: CONNACK 3.1.1 accepted, and refused by allow_anonymous false */
static const uint8_t connack311_ok[] = { 0x20, 0x02, 0x00, 0x00 };
static const uint8_t connack311_noauth[] = { 0x20, 0x02, 0x00, 0x05 };
/* mosquitto: CONNACK 5 with Topic Alias Maximum 10, Receive Maximum 20 */
static const uint8_t connack5_ok[] = {
	0x20, 0x09, 0x00, 0x00, 0x06, 0x22, 0x00, 0x0a, 0x21, 0x00, 0x14,
};
/* mosquitto: CONNACK 5 refused, 0x87 Not authorized, no properties */
static const uint8_t connack5_noauth[] = { 0x20, 0x03, 0x00, 0x87, 0x00 };
/* mosquitto: SUBACK 3.1.1 for two filters granted qos 1 */
static const uint8_t suback311[] = { 0x90, 0x04, 0x00, 0x01, 0x01, 0x01 };
/* mosquitto: SUBACK 5, empty properties, granted qos 2 */
static const uint8_t suback5[] = { 0x90, 0x04, 0x00, 0x01, 0x00, 0x02 };
/* spec 3.1.1 3.9.3.1 Figure 3.27: codes 0, 2 and 0x80 (failure); packet
 * id 10 and fixed header added. */
static const uint8_t spec311_suback[] = { 0x90, 0x05, 0x00, 0x0a, 0x00, 0x02, 0x80 };
/* mosquitto: retained message delivered to a 3.1.1 qos 1 subscriber */
static const uint8_t publish311_in[] = { 0x33, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 'x' };
/* mosquitto: the same to a v5 qos 2 subscriber, empty properties */
static const uint8_t publish5_in[] = {
	0x35, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 0x00, 'x',
};

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

/* Decodes one whole frame placed against the guard page; checks every
 * shorter prefix asks for more (0) and the whole one is consumed. */
static ssize_t decode_at_guard(const uint8_t *bytes, size_t n, struct mqtt_frame *f)
{
	for (size_t k = 0; k < n; k++) {
		struct mqtt_frame g;
		ssize_t r = mqtt_decode_frame(guard_copy(bytes, k), k, 0, &g);

		if (r != 0) {
			fprintf(stderr, "  prefix %zu of %zu returned %zd\n", k, n, r);
			CHECK_EQ_INT(r, 0);
			return r;
		}
	}
	return mqtt_decode_frame(guard_copy(bytes, n), n, 0, f);
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
static void test_parse_vectors(void)
{
	struct mqtt_frame f;
	struct mqtt_connack ca;
	struct mqtt_ack a;
	struct mqtt_suback s;
	struct mqtt_disconnect d;
	struct mqtt_publish p;

	CHECK_EQ_INT(decode_at_guard(connack311_ok, sizeof(connack311_ok), &f), 4);
	CHECK_EQ_INT(mqtt_parse_connack(&f, MQTT_V311, &ca), 0);
	CHECK_EQ_INT(ca.code, 0);
	CHECK(!ca.session_present);
	CHECK_EQ_INT(decode_at_guard(connack311_noauth, sizeof(connack311_noauth), &f), 4);
	CHECK_EQ_INT(mqtt_parse_connack(&f, MQTT_V311, &ca), 0);
	CHECK_EQ_INT(ca.code, MQTT_CONNACK_NOT_AUTHORIZED);
	/* A 3.1.1 CONNACK is not a valid v5 one (no property length). */
	CHECK_EQ_INT(mqtt_parse_connack(&f, MQTT_V5, &ca), -EPROTO);

	CHECK_EQ_INT(decode_at_guard(connack5_ok, sizeof(connack5_ok), &f), sizeof(connack5_ok));
	CHECK_EQ_INT(mqtt_parse_connack(&f, MQTT_V5, &ca), 0);
	CHECK_EQ_INT(ca.code, 0);
	CHECK_EQ_INT(ca.receive_maximum, 20);
	CHECK_EQ_INT(ca.maximum_packet_size, 0);
	CHECK_EQ_INT(ca.maximum_qos_present, 0);
	CHECK_EQ_INT(mqtt_parse_connack(&f, MQTT_V311, &ca), -EPROTO);
	CHECK_EQ_INT(decode_at_guard(connack5_noauth, sizeof(connack5_noauth), &f), 5);
	CHECK_EQ_INT(mqtt_parse_connack(&f, MQTT_V5, &ca), 0);
	CHECK_EQ_INT(ca.code, MQTT_RC_NOT_AUTHORIZED);

	/* Hand-built v5 CONNACK with every property the client reads, plus
	 * a reason string and a user property to skip (spec 5.0 3.2.2.3). */
	static const uint8_t connack5_full[] = {
		0x20, 0x1c, 0x01, 0x00, 0x19,
		0x21, 0x01, 0x00,                   /* receive maximum 256 */
		0x27, 0x00, 0x10, 0x00, 0x00,       /* maximum packet size 1 MiB */
		0x24, 0x01,                         /* maximum qos 1 */
		0x1f, 0x00, 0x02, 'o', 'k',         /* reason string */
		0x26, 0x00, 0x01, 'k', 0x00, 0x02, 'v', 'v', /* user property */
		0x25, 0x00,                         /* retain not available */
	};
	CHECK_EQ_INT(decode_at_guard(connack5_full, sizeof(connack5_full), &f), sizeof(connack5_full));
	CHECK_EQ_INT(mqtt_parse_connack(&f, MQTT_V5, &ca), 0);
	CHECK(ca.session_present);
	CHECK_EQ_INT(ca.receive_maximum, 256);
	CHECK_EQ_INT(ca.maximum_packet_size, 1u << 20);
	CHECK_EQ_INT(ca.maximum_qos_present, 1);
	CHECK_EQ_INT(ca.maximum_qos, 1);

	CHECK_EQ_INT(decode_at_guard(puback5_nomatch, sizeof(puback5_nomatch), &f), 5);
	CHECK_EQ_INT(mqtt_parse_ack(&f, MQTT_V5, &a), 0);
	CHECK_EQ_INT(a.type, MQTT_PUBACK);
	CHECK_EQ_INT(a.packet_id, 1);
	CHECK_EQ_INT(a.reason, MQTT_RC_NO_MATCHING_SUBSCRIBERS);
	CHECK_EQ_INT(mqtt_parse_ack(&f, MQTT_V311, &a), -EPROTO);
	CHECK_EQ_INT(decode_at_guard(pubrel311, sizeof(pubrel311), &f), 4);
	CHECK_EQ_INT(mqtt_parse_ack(&f, MQTT_V311, &a), 0);
	CHECK_EQ_INT(a.type, MQTT_PUBREL);
	/* 5.0 ack with reason and properties (spec 5.0 3.4.2.2). */
	static const uint8_t pubrec5_full[] = {
		0x50, 0x0a, 0x12, 0x34, 0x97, 0x06, 0x1f, 0x00, 0x03, 'f', 'u', 'l',
	};
	CHECK_EQ_INT(decode_at_guard(pubrec5_full, sizeof(pubrec5_full), &f), sizeof(pubrec5_full));
	CHECK_EQ_INT(mqtt_parse_ack(&f, MQTT_V5, &a), 0);
	CHECK_EQ_INT(a.packet_id, 0x1234);
	CHECK_EQ_INT(a.reason, MQTT_RC_QUOTA_EXCEEDED);

	CHECK_EQ_INT(decode_at_guard(suback311, sizeof(suback311), &f), 6);
	CHECK_EQ_INT(mqtt_parse_suback(&f, MQTT_V311, &s), 0);
	CHECK_EQ_INT(s.packet_id, 1);
	CHECK_EQ_INT(s.n_codes, 2);
	CHECK(s.codes && s.codes[0] == 1 && s.codes[1] == 1);
	CHECK_EQ_INT(decode_at_guard(suback5, sizeof(suback5), &f), 6);
	CHECK_EQ_INT(mqtt_parse_suback(&f, MQTT_V5, &s), 0);
	CHECK_EQ_INT(s.n_codes, 1);
	CHECK_EQ_INT(s.codes[0], 2);
	CHECK_EQ_INT(decode_at_guard(spec311_suback, sizeof(spec311_suback), &f), 7);
	CHECK_EQ_INT(mqtt_parse_suback(&f, MQTT_V311, &s), 0);
	CHECK_EQ_INT(s.packet_id, 10);
	CHECK_EQ_INT(s.n_codes, 3);
	CHECK_EQ_INT(s.codes[2], MQTT_SUBACK_FAILURE);

	CHECK_EQ_INT(decode_at_guard(disconnect5_will, sizeof(disconnect5_will), &f), 3);
	CHECK_EQ_INT(mqtt_parse_disconnect(&f, MQTT_V5, &d), 0);
	CHECK_EQ_INT(d.reason, 4);
	CHECK_EQ_INT(mqtt_parse_disconnect(&f, MQTT_V311, &d), -EPROTO);
	CHECK_EQ_INT(decode_at_guard(disconnect_short, sizeof(disconnect_short), &f), 2);
	CHECK_EQ_INT(mqtt_parse_disconnect(&f, MQTT_V311, &d), 0);
	CHECK_EQ_INT(mqtt_parse_disconnect(&f, MQTT_V5, &d), 0);
	CHECK_EQ_INT(d.reason, 0);
	static const uint8_t disconnect5_full[] = {
		0xe0, 0x09, 0x8b, 0x07, 0x1c, 0x00, 0x04, 'h', 'o', 's', 't',
	};
	CHECK_EQ_INT(decode_at_guard(disconnect5_full, sizeof(disconnect5_full), &f), 11);
	CHECK_EQ_INT(mqtt_parse_disconnect(&f, MQTT_V5, &d), 0);
	CHECK_EQ_INT(d.reason, MQTT_RC_SERVER_SHUTTING_DOWN);

	CHECK_EQ_INT(decode_at_guard(publish311_in, sizeof(publish311_in), &f), 10);
	CHECK_EQ_INT(mqtt_parse_publish(&f, MQTT_V311, &p), 0);
	CHECK_EQ_INT(p.qos, 1);
	CHECK(p.retain && !p.dup);
	CHECK_EQ_INT(p.packet_id, 1);
	CHECK_MEM(p.topic, p.topic_len, "a/b", 3);
	CHECK_MEM(p.payload, p.payload_len, "x", 1);
	CHECK_EQ_INT(decode_at_guard(publish5_in, sizeof(publish5_in), &f), 11);
	CHECK_EQ_INT(mqtt_parse_publish(&f, MQTT_V5, &p), 0);
	CHECK_EQ_INT(p.qos, 2);
	CHECK_MEM(p.payload, p.payload_len, "x", 1);
	/* v5 empty topic with a topic alias (spec 5.0 3.3.2.3.4). */
	static const uint8_t publish5_alias[] = { 0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x05, 'z' };
	CHECK_EQ_INT(decode_at_guard(publish5_alias, sizeof(publish5_alias), &f), 9);
	CHECK_EQ_INT(mqtt_parse_publish(&f, MQTT_V5, &p), 0);
	CHECK_EQ_INT(p.topic_len, 0);
	CHECK_MEM(p.payload, p.payload_len, "z", 1);
	CHECK_EQ_INT(mqtt_parse_publish(&f, MQTT_V311, &p), -EPROTO);
}

/* encode -> mqtt_decode_frame -> parse gives back what went in. */
static void test_round_trip(void)
{
	static const char *const topics[] = { "a", "a/b", "sensors/ü/€/𝄞", "x/y/z/0123456789" };
	uint8_t payload[200], buf[512];
	struct mqtt_frame f;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	for (int v = MQTT_V311; v <= MQTT_V5; v++) {
		for (size_t t = 0; t < ARRAY_SIZE(topics); t++) {
			for (int bits = 0; bits < 24; bits++) {
				struct mqtt_publish in = {
					.version = (enum mqtt_version)v,
					.topic = topics[t],
					.topic_len = strlen(topics[t]),
					.payload = payload,
					.payload_len = (size_t)(bits / 12) * 150 + (size_t)t,
					.qos = (uint8_t)(bits % 3),
					.retain = bits & 4,
					.message_expiry = v == MQTT_V5 && (bits & 8) ? 0x01020304u : 0,
				}, out;
				in.packet_id = in.qos ? (uint16_t)(1 + bits * 2711) : 0;
				in.dup = in.qos && (bits & 16);
				ssize_t n = mqtt_encode_publish(buf, sizeof(buf), &in, NULL);

				CHECK(n > 0);
				CHECK_EQ_INT(decode_at_guard(buf, (size_t)n, &f), n);
				CHECK_EQ_INT(f.type, MQTT_PUBLISH);
				CHECK_EQ_INT(mqtt_parse_publish(&f, in.version, &out), 0);
				CHECK_EQ_INT(out.version, in.version);
				CHECK_EQ_INT(out.qos, in.qos);
				CHECK_EQ_INT(out.dup, in.dup);
				CHECK_EQ_INT(out.retain, in.retain);
				CHECK_EQ_INT(out.packet_id, in.packet_id);
				CHECK_EQ_INT(out.message_expiry, in.message_expiry);
				CHECK_MEM(out.topic, out.topic_len, in.topic, in.topic_len);
				CHECK_MEM(out.payload, out.payload_len, in.payload, in.payload_len);
			}
		}
		for (uint8_t type = MQTT_PUBACK; type <= MQTT_PUBCOMP; type++) {
			static const uint8_t reasons[] = { 0, 0x10, 0x80, 0x97 };

			for (size_t r = 0; r < ARRAY_SIZE(reasons); r++) {
				struct mqtt_ack out;
				uint8_t reason = v == MQTT_V5 ? reasons[r] : 0;
				uint16_t id = (uint16_t)(0xffff - r * 999);
				ssize_t n = mqtt_encode_ack(buf, sizeof(buf), (enum mqtt_version)v, type, id,
							    reason);

				CHECK_EQ_INT(decode_at_guard(buf, (size_t)n, &f), n);
				CHECK_EQ_INT(mqtt_parse_ack(&f, (enum mqtt_version)v, &out), 0);
				CHECK_EQ_INT(out.type, type);
				CHECK_EQ_INT(out.packet_id, id);
				CHECK_EQ_INT(out.reason, reason);
			}
		}
		for (int reason = 0; reason < 256; reason += v == MQTT_V5 ? 1 : 256) {
			struct mqtt_disconnect out = { 0xff };
			ssize_t n = mqtt_encode_disconnect(buf, sizeof(buf), (enum mqtt_version)v,
							   (uint8_t)reason);

			CHECK_EQ_INT(decode_at_guard(buf, (size_t)n, &f), n);
			CHECK_EQ_INT(mqtt_parse_disconnect(&f, (enum mqtt_version)v, &out), 0);
			CHECK_EQ_INT(out.reason, reason);
		}
		/* Frames with no parser still frame right. */
		static const char *const filt[] = { "a/#", "+/b" };
		static const uint8_t qos[] = { 0, 2 };
		ssize_t n = mqtt_encode_subscribe(buf, sizeof(buf), (enum mqtt_version)v, 9, filt, qos, 2);
		CHECK_EQ_INT(decode_at_guard(buf, (size_t)n, &f), n);
		CHECK_EQ_INT(f.type, MQTT_SUBSCRIBE);
		CHECK_EQ_INT(f.flags, 2);
		n = mqtt_encode_pingreq(buf, sizeof(buf));
		CHECK_EQ_INT(decode_at_guard(buf, (size_t)n, &f), 2);
		CHECK_EQ_INT(f.type, MQTT_PINGREQ);
		CHECK_EQ_INT(f.body_len, 0);
	}
}

/* A receive buffer with many frames, consumed front to back, and the same
 * stream fed in every split position. */
static void test_stream(void)
{
	static const struct {
		const uint8_t *b;
		size_t n;
	} parts[] = {
		{ connack5_ok, sizeof(connack5_ok) },
		{ puback5_nomatch, sizeof(puback5_nomatch) },
		{ pubrec_short, sizeof(pubrec_short) },
		{ pubcomp_short, sizeof(pubcomp_short) },
		{ suback5, sizeof(suback5) },
		{ publish5_in, sizeof(publish5_in) },
		{ pingreq, sizeof(pingreq) },
		{ disconnect5_will, sizeof(disconnect5_will) },
	};
	uint8_t stream[256];
	size_t len = 0, off = 0, i = 0;
	struct mqtt_frame f;

	for (size_t k = 0; k < ARRAY_SIZE(parts); k++) {
		memcpy(stream + len, parts[k].b, parts[k].n);
		len += parts[k].n;
	}
	const uint8_t *g = guard_copy(stream, len);
	while (off < len) {
		ssize_t r = mqtt_decode_frame(g + off, len - off, 0, &f);

		CHECK_EQ_INT(r, parts[i].n);
		if (r <= 0)
			break;
		CHECK(f.body == g + off + 2);
		off += (size_t)r;
		i++;
	}
	CHECK_EQ_INT(i, ARRAY_SIZE(parts));

	/* Every split: the first read gets a prefix, frames come out only
	 * once whole, and the rest arrives with the second read. */
	for (size_t cut = 0; cut <= len; cut++) {
		size_t got = 0, pos = 0, avail = cut;
		const uint8_t *base = guard_copy(stream, cut);

		for (;;) {
			ssize_t r = mqtt_decode_frame(base + pos, avail - pos, 0, &f);

			if (r < 0) {
				CHECK_EQ_INT(r, 0);
				break;
			}
			if (r == 0) {
				if (avail == len)
					break;
				/* Second read: the whole stream, same offset. */
				base = guard_copy(stream, len);
				avail = len;
				continue;
			}
			CHECK_EQ_INT(r, parts[got].n);
			pos += (size_t)r;
			got++;
			if (pos == len)
				break;
		}
		CHECK_EQ_INT(got, ARRAY_SIZE(parts));
	}
}

struct bad_case {
	const char *what;
	const uint8_t *b;
	size_t n;
	enum mqtt_version v;
	int parser; /* which parse function; 0 = the framer itself fails */
};

enum { P_FRAME, P_CONNACK, P_ACK, P_SUBACK, P_DISC, P_PUB };

static int run_parser(int which, const struct mqtt_frame *f, enum mqtt_version v)
{
	struct mqtt_connack ca;
	struct mqtt_ack a;
	struct mqtt_suback s;
	struct mqtt_disconnect d;
	struct mqtt_publish p;

	switch (which) {
	case P_CONNACK:
		return mqtt_parse_connack(f, v, &ca);
	case P_ACK:
		return mqtt_parse_ack(f, v, &a);
	case P_SUBACK:
		return mqtt_parse_suback(f, v, &s);
	case P_DISC:
		return mqtt_parse_disconnect(f, v, &d);
	case P_PUB:
		return mqtt_parse_publish(f, v, &p);
	}
	return 0;
}

#define BAD(what, v, parser, ...)                                                  \
	{ what, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }), v, parser }

static void test_malformed(void)
{
	const struct bad_case cases[] = {
		BAD("reserved type 0", MQTT_V311, P_FRAME, 0x00, 0x00),
		BAD("overlong varint 80 00", MQTT_V311, P_FRAME, 0xd0, 0x80, 0x00),
		BAD("overlong varint ff 80 00", MQTT_V311, P_FRAME, 0x30, 0xff, 0x80, 0x00),
		BAD("5-byte remaining length", MQTT_V311, P_FRAME, 0x30, 0xff, 0xff, 0xff, 0xff, 0x01),
		BAD("5-byte, header only", MQTT_V311, P_FRAME, 0x30, 0x80, 0x80, 0x80, 0x80),
		BAD("PUBLISH qos 3", MQTT_V311, P_FRAME, 0x36, 0x00),
		BAD("PUBLISH dup with qos 0", MQTT_V311, P_FRAME, 0x38, 0x00),
		BAD("PUBREL flags 0", MQTT_V311, P_FRAME, 0x60, 0x02, 0x00, 0x01),
		BAD("SUBSCRIBE flags 0", MQTT_V311, P_FRAME, 0x80, 0x00),
		BAD("CONNACK flags 1", MQTT_V311, P_FRAME, 0x21, 0x02, 0x00, 0x00),
		BAD("PUBACK flags 2", MQTT_V311, P_FRAME, 0x42, 0x02, 0x00, 0x01),
		BAD("PINGRESP flags 8", MQTT_V311, P_FRAME, 0xd8, 0x00),
		BAD("CONNACK short", MQTT_V311, P_CONNACK, 0x20, 0x01, 0x00),
		BAD("CONNACK trailing byte", MQTT_V311, P_CONNACK, 0x20, 0x03, 0x00, 0x00, 0x00),
		BAD("CONNACK reserved ack bits", MQTT_V311, P_CONNACK, 0x20, 0x02, 0x02, 0x00),
		BAD("CONNACK v5 property length past end", MQTT_V5, P_CONNACK, 0x20, 0x03, 0x00, 0x00, 0x05),
		BAD("CONNACK v5 property value past end", MQTT_V5, P_CONNACK,
		    0x20, 0x05, 0x00, 0x00, 0x02, 0x21, 0x00),
		BAD("CONNACK v5 overlong property length", MQTT_V5, P_CONNACK,
		    0x20, 0x04, 0x00, 0x00, 0x80, 0x00),
		BAD("CONNACK v5 string past end", MQTT_V5, P_CONNACK,
		    0x20, 0x07, 0x00, 0x00, 0x04, 0x1f, 0x00, 0x09, 'x'),
		BAD("CONNACK v5 bad UTF-8 reason string", MQTT_V5, P_CONNACK,
		    0x20, 0x07, 0x00, 0x00, 0x04, 0x1f, 0x00, 0x01, 0xff),
		BAD("CONNACK v5 unknown property", MQTT_V5, P_CONNACK, 0x20, 0x05, 0x00, 0x00, 0x02, 0x05, 0x00),
		BAD("CONNACK v5 publish-only property", MQTT_V5, P_CONNACK,
		    0x20, 0x05, 0x00, 0x00, 0x02, 0x01, 0x00),
		BAD("CONNACK v5 duplicate property", MQTT_V5, P_CONNACK,
		    0x20, 0x07, 0x00, 0x00, 0x04, 0x24, 0x00, 0x24, 0x01),
		BAD("CONNACK v5 receive maximum 0", MQTT_V5, P_CONNACK,
		    0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00),
		BAD("CONNACK v5 maximum qos 2", MQTT_V5, P_CONNACK, 0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02),
		BAD("CONNACK v5 two-byte property id", MQTT_V5, P_CONNACK,
		    0x20, 0x06, 0x00, 0x00, 0x03, 0xa1, 0x01, 0x00),
		BAD("PUBACK packet id 0", MQTT_V311, P_ACK, 0x40, 0x02, 0x00, 0x00),
		BAD("PUBACK short", MQTT_V311, P_ACK, 0x40, 0x01, 0x01),
		BAD("PUBACK v311 long", MQTT_V311, P_ACK, 0x40, 0x03, 0x00, 0x01, 0x00),
		BAD("PUBACK v5 props past end", MQTT_V5, P_ACK, 0x40, 0x04, 0x00, 0x01, 0x10, 0x03),
		BAD("PUBACK v5 trailing after props", MQTT_V5, P_ACK, 0x40, 0x05, 0x00, 0x01, 0x10, 0x00, 0x00),
		BAD("PUBACK v5 user property half", MQTT_V5, P_ACK,
		    0x40, 0x0a, 0x00, 0x01, 0x10, 0x06, 0x26, 0x00, 0x01, 'k', 0x00, 0x05),
		BAD("not an ack", MQTT_V311, P_ACK, 0x20, 0x02, 0x00, 0x00),
		BAD("SUBACK no codes", MQTT_V311, P_SUBACK, 0x90, 0x02, 0x00, 0x01),
		BAD("SUBACK v311 code 3", MQTT_V311, P_SUBACK, 0x90, 0x03, 0x00, 0x01, 0x03),
		BAD("SUBACK v5 props past end", MQTT_V5, P_SUBACK, 0x90, 0x04, 0x00, 0x01, 0x09, 0x00),
		BAD("SUBACK packet id 0", MQTT_V311, P_SUBACK, 0x90, 0x03, 0x00, 0x00, 0x00),
		BAD("DISCONNECT v311 with body", MQTT_V311, P_DISC, 0xe0, 0x01, 0x00),
		BAD("DISCONNECT v5 props past end", MQTT_V5, P_DISC, 0xe0, 0x02, 0x00, 0x01),
		BAD("DISCONNECT v5 topic alias property", MQTT_V5, P_DISC,
		    0xe0, 0x05, 0x00, 0x03, 0x23, 0x00, 0x01),
		BAD("PUBLISH topic length past end", MQTT_V311, P_PUB, 0x30, 0x04, 0x00, 0x10, 'a', 'b'),
		BAD("PUBLISH topic length half", MQTT_V311, P_PUB, 0x30, 0x01, 0x00),
		BAD("PUBLISH empty topic v311", MQTT_V311, P_PUB, 0x30, 0x03, 0x00, 0x00, 'x'),
		BAD("PUBLISH empty topic v5 no alias", MQTT_V5, P_PUB, 0x30, 0x04, 0x00, 0x00, 0x00, 'x'),
		BAD("PUBLISH wildcard topic", MQTT_V311, P_PUB, 0x30, 0x05, 0x00, 0x03, 'a', '/', '#'),
		BAD("PUBLISH NUL in topic", MQTT_V311, P_PUB, 0x30, 0x03, 0x00, 0x01, 0x00),
		BAD("PUBLISH surrogate in topic", MQTT_V311, P_PUB, 0x30, 0x05, 0x00, 0x03, 0xed, 0xa0, 0x80),
		BAD("PUBLISH truncated UTF-8", MQTT_V311, P_PUB, 0x30, 0x04, 0x00, 0x02, 'a', 0xe2),
		BAD("PUBLISH qos 1 packet id 0", MQTT_V311, P_PUB, 0x32, 0x05, 0x00, 0x01, 'a', 0x00, 0x00),
		BAD("PUBLISH qos 1 packet id missing", MQTT_V311, P_PUB, 0x32, 0x04, 0x00, 0x01, 'a', 0x00),
		BAD("PUBLISH v5 props missing", MQTT_V5, P_PUB, 0x30, 0x03, 0x00, 0x01, 'a'),
		BAD("PUBLISH v5 props past end", MQTT_V5, P_PUB, 0x30, 0x05, 0x00, 0x01, 'a', 0x07, 'x'),
		BAD("PUBLISH v5 expiry cut short", MQTT_V5, P_PUB,
		    0x30, 0x08, 0x00, 0x01, 'a', 0x03, 0x02, 0x00, 0x00, 'x'),
		BAD("PUBLISH v5 topic alias 0", MQTT_V5, P_PUB,
		    0x30, 0x07, 0x00, 0x01, 'a', 0x03, 0x23, 0x00, 0x00),
		BAD("PUBLISH v5 payload format 2", MQTT_V5, P_PUB, 0x30, 0x06, 0x00, 0x01, 'a', 0x02, 0x01, 0x02),
		BAD("PUBLISH v5 subscription id 0", MQTT_V5, P_PUB, 0x30, 0x06, 0x00, 0x01, 'a', 0x02, 0x0b, 0x00),
		BAD("PUBLISH v5 connack-only property", MQTT_V5, P_PUB,
		    0x30, 0x07, 0x00, 0x01, 'a', 0x03, 0x21, 0x00, 0x01),
		BAD("PUBLISH v5 correlation data past end", MQTT_V5, P_PUB,
		    0x30, 0x08, 0x00, 0x01, 'a', 0x04, 0x09, 0x00, 0x05, 'x'),
	};
	struct mqtt_frame f;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct bad_case *c = &cases[i];
		const uint8_t *g = guard_copy(c->b, c->n);
		ssize_t r = mqtt_decode_frame(g, c->n, 0, &f);
		int got;

		if (c->parser == P_FRAME) {
			got = (int)r;
		} else if (r != (ssize_t)c->n) {
			fprintf(stderr, "  %s: framer returned %zd\n", c->what, r);
			got = 1;
		} else {
			got = run_parser(c->parser, &f, c->v);
		}
		if (got != -EPROTO)
			fprintf(stderr, "  malformed case \"%s\" returned %d\n", c->what, got);
		CHECK_EQ_INT(got, -EPROTO);
	}

	/* Bad first byte is refused at once, before the length arrives. */
	static const uint8_t t0[] = { 0x00 };
	CHECK_EQ_INT(mqtt_decode_frame(guard_copy(t0, 1), 1, 0, &f), -EPROTO);
	/* max_frame: refused as soon as the header says it is too long. */
	static const uint8_t big[] = { 0x30, 0xe8, 0x07 }; /* 1000-byte body */
	CHECK_EQ_INT(mqtt_decode_frame(guard_copy(big, 3), 3, 1003, &f), 0);
	CHECK_EQ_INT(mqtt_decode_frame(guard_copy(big, 3), 3, 1002, &f), -EPROTO);
	/* The largest remaining length is fine, just incomplete. */
	static const uint8_t max[] = { 0x30, 0xff, 0xff, 0xff, 0x7f };
	CHECK_EQ_INT(mqtt_decode_frame(guard_copy(max, 5), 5, 0, &f), 0);

	/* Parsers check the type they are given. */
	CHECK_EQ_INT(decode_at_guard(connack311_ok, sizeof(connack311_ok), &f), 4);
	for (int p = P_ACK; p <= P_PUB; p++)
		CHECK_EQ_INT(run_parser(p, &f, MQTT_V311), -EPROTO);
	CHECK_EQ_INT(run_parser(P_CONNACK, &f, (enum mqtt_version)3), -EPROTO);
}

/* Every prefix and every one-byte corruption of the vectors, at the guard
 * page: whatever the verdict, nothing may read past the end. */
static void test_guard_sweep(void)
{
	static const struct {
		const uint8_t *b;
		size_t n;
	} vec[] = {
		{ connack5_ok, sizeof(connack5_ok) },
		{ connack5_noauth, sizeof(connack5_noauth) },
		{ puback5_nomatch, sizeof(puback5_nomatch) },
		{ suback5, sizeof(suback5) },
		{ publish5_in, sizeof(publish5_in) },
		{ publish5_q1_exp, sizeof(publish5_q1_exp) },
		{ disconnect5_will, sizeof(disconnect5_will) },
		{ connect5_will, sizeof(connect5_will) },
	};
	uint8_t tmp[64];
	unsigned frames = 0;

	for (size_t i = 0; i < ARRAY_SIZE(vec); i++) {
		for (size_t pos = 0; pos < vec[i].n; pos++) {
			for (int val = 0; val < 256; val += 17) {
				struct mqtt_frame f;

				memcpy(tmp, vec[i].b, vec[i].n);
				tmp[pos] = (uint8_t)val;
				/* Fix the length byte to the truncated size so the
				 * parsers see frames whose lengths lie inside. */
				for (size_t cut = 2; cut <= vec[i].n; cut++) {
					uint8_t save = tmp[1];

					if (pos != 1)
						tmp[1] = (uint8_t)(cut - 2);
					const uint8_t *g = guard_copy(tmp, cut);
					if (mqtt_decode_frame(g, cut, 0, &f) > 0) {
						frames++;
						for (int p = P_CONNACK; p <= P_PUB; p++) {
							run_parser(p, &f, MQTT_V311);
							run_parser(p, &f, MQTT_V5);
						}
					}
					tmp[1] = save;
				}
			}
		}
	}
	CHECK(frames > 1000);
}

static void test_names(void)
{
	CHECK(!strcmp(mqtt_connack_name(MQTT_V311, 0), "accepted"));
	CHECK(!strcmp(mqtt_connack_name(MQTT_V311, 1), "unacceptable_protocol_version"));
	CHECK(!strcmp(mqtt_connack_name(MQTT_V311, 2), "identifier_rejected"));
	CHECK(!strcmp(mqtt_connack_name(MQTT_V311, 3), "server_unavailable"));
	CHECK(!strcmp(mqtt_connack_name(MQTT_V311, 4), "bad_username_or_password"));
	CHECK(!strcmp(mqtt_connack_name(MQTT_V311, 5), "not_authorized"));
	CHECK(!strcmp(mqtt_connack_name(MQTT_V311, 6), "reason_unknown"));
	CHECK(!strcmp(mqtt_connack_name(MQTT_V311, 0x87), "reason_unknown"));
	CHECK(!strcmp(mqtt_connack_name(MQTT_V5, 0), "success"));
	CHECK(!strcmp(mqtt_connack_name(MQTT_V5, 0x86), "bad_username_or_password"));
	CHECK(!strcmp(mqtt_connack_name(MQTT_V5, 0x87), "not_authorized"));
	CHECK(!strcmp(mqtt_connack_name(MQTT_V5, 0x88), "server_unavailable"));
	CHECK(!strcmp(mqtt_connack_name(MQTT_V5, 0x9f), "connection_rate_exceeded"));
	/* Valid v5 reasons that a CONNACK may not carry. */
	CHECK(!strcmp(mqtt_connack_name(MQTT_V5, 0x10), "reason_unknown"));
	CHECK(!strcmp(mqtt_connack_name(MQTT_V5, 0x8b), "reason_unknown"));
	CHECK(!strcmp(mqtt_connack_name(MQTT_V5, 0x05), "reason_unknown"));
	CHECK(!strcmp(mqtt_reason_name(0x10), "no_matching_subscribers"));
	CHECK(!strcmp(mqtt_reason_name(0x97), "quota_exceeded"));
	CHECK(!strcmp(mqtt_reason_name(0x8b), "server_shutting_down"));
	CHECK(!strcmp(mqtt_reason_name(0x87), "not_authorized"));
	CHECK(!strcmp(mqtt_reason_name(0x04), "disconnect_with_will_message"));
	CHECK(!strcmp(mqtt_reason_name(0xa2), "wildcard_subscriptions_not_supported"));
	CHECK(!strcmp(mqtt_reason_name(0x03), "reason_unknown"));
	CHECK(!strcmp(mqtt_reason_name(0xff), "reason_unknown"));
	/* Every name is non-empty snake_case. */
	for (int c = 0; c < 256; c++) {
		const char *n = mqtt_reason_name((uint8_t)c);
		bool ok = *n != 0;

		for (; *n; n++)
			ok &= (*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') || *n == '_';
		CHECK(ok);
	}
}

/* Topic filters and matching, with the examples of 3.1.1 4.7.1 and 4.7.2. */
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
	if (guard_init()) {
		perror("guard page");
		return T_FAIL;
	}
	test_wbuf();
	test_topic_filters();
	test_connect();
	test_publish();
	test_small();
	test_parse_vectors();
	test_round_trip();
	test_stream();
	test_malformed();
	test_guard_sweep();
	test_names();
	return t_done("test_mqtt");
}
