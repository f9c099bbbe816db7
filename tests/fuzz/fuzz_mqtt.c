/* libFuzzer target for the MQTT wire code.
 *
 * 1. The input as a byte stream from a broker: frame it with
 *    mqtt_decode_frame until it stops, and hand every frame to every
 *    parser for both versions. Whatever the bytes, nothing may read past
 *    the input (libFuzzer's copy ends exactly there, ASan watches), and
 *    what the decoders return must lie inside the frame.
 * 2. The input as field values: encode, then decode and parse, and the
 *    fields must come back unchanged (decode(encode(x)) == x).
 *
 * Built with -DWITH_MAIN it is a plain program that replays files, so gcc
 * builds it too: cc -DWITH_MAIN -I. -Iuserspace -Iencoders tests/fuzz/fuzz_mqtt.c
 * encoders/mqtt_*.c encoders/utf8.c */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payload/marker.h"
#include "encoders/mqtt.h"

/* Part 3: topic filters (--sub-topic) and the matcher. The first byte
 * splits the rest into a filter and a topic name. */
static void fuzz_filters(const uint8_t *data, size_t size)
{
	if (!size)
		return;
	size_t fn = data[0] < size - 1 ? data[0] : size - 1;
	const char *f = (const char *)data + 1, *t = f + fn;
	size_t tn = size - 1 - fn;
	bool valid = mqtt_filter_valid(f, fn);
	bool m = mqtt_topic_matches(f, fn, t, tn);

	/* A valid filter without wildcards matches exactly itself. */
	if (valid && !memchr(f, '+', fn) && !memchr(f, '#', fn))
		assert(m == (fn == tn && !memcmp(f, t, fn)));
	/* "#" matches every topic that does not start with '$'. */
	assert(mqtt_topic_matches("#", 1, t, tn) == !(tn && t[0] == '$'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(const void *p, size_t n, const uint8_t *lo, size_t len)
{
	const uint8_t *b = p;

	return n == 0 || (b >= lo && n <= len && b - lo <= (ptrdiff_t)(len - n));
}

static void parse_all(const struct mqtt_frame *f)
{
	for (int v = MQTT_V311; v <= MQTT_V5; v++) {
		enum mqtt_version ver = (enum mqtt_version)v;
		struct mqtt_connack ca;
		struct mqtt_ack a;
		struct mqtt_suback s;
		struct mqtt_disconnect d;
		struct mqtt_publish p;
		int r;

		r = mqtt_parse_connack(f, ver, &ca);
		assert(r == 0 || r == -EPROTO);
		assert(r || f->type == MQTT_CONNACK);
		if (!r && ver == MQTT_V5 && ca.maximum_qos_present)
			assert(ca.maximum_qos <= 1);

		r = mqtt_parse_ack(f, ver, &a);
		assert(r == 0 || r == -EPROTO);
		if (!r)
			assert(a.type == f->type && a.packet_id && (ver == MQTT_V5 || !a.reason));

		r = mqtt_parse_suback(f, ver, &s);
		assert(r == 0 || r == -EPROTO);
		if (!r)
			assert(s.n_codes && inside(s.codes, s.n_codes, f->body, f->body_len));

		r = mqtt_parse_disconnect(f, ver, &d);
		assert(r == 0 || r == -EPROTO);
		if (!r && ver == MQTT_V311)
			assert(f->body_len == 0 && d.reason == 0);

		r = mqtt_parse_publish(f, ver, &p);
		assert(r == 0 || r == -EPROTO);
		if (!r) {
			assert(p.qos <= 2 && (p.qos == 0) == (p.packet_id == 0));
			assert(inside(p.topic, p.topic_len, f->body, f->body_len));
			assert(inside(p.payload, p.payload_len, f->body, f->body_len));
			assert(p.payload + p.payload_len == f->body + f->body_len);
			/* A fan-out subscriber reads blast's marker from it. */
			struct marker_fanout m;
			if (!marker_read_fanout(p.payload, p.payload_len, &m))
				assert(p.payload_len >= MARKER_FANOUT_LEN);
		}
	}
}

/* Part 1: the input is a receive buffer. */
static void fuzz_stream(const uint8_t *data, size_t size, size_t max_frame)
{
	size_t off = 0;

	while (off < size) {
		struct mqtt_frame f;
		ssize_t r = mqtt_decode_frame(data + off, size - off, max_frame, &f);

		assert(r >= -EPROTO);
		if (r <= 0) {
			assert(r == 0 || r == -EPROTO);
			/* "Need more" must not turn into a frame with fewer bytes. */
			if (r == 0 && size - off > 1) {
				struct mqtt_frame g;

				assert(mqtt_decode_frame(data + off, size - off - 1, max_frame, &g) == 0);
			}
			return;
		}
		assert((size_t)r == f.frame_len && f.frame_len <= size - off);
		assert(f.type >= 1 && f.type <= 15 && f.flags <= 15);
		assert(f.body + f.body_len == data + off + f.frame_len);
		assert(!max_frame || f.frame_len <= max_frame);
		parse_all(&f);
		off += (size_t)r;
	}
}

/* Field source for part 2: reads past the end give zeros. */
struct src {
	const uint8_t *p;
	size_t n;
};

static uint8_t s_u8(struct src *s)
{
	if (!s->n)
		return 0;
	s->n--;
	return *s->p++;
}

static uint16_t s_u16(struct src *s)
{
	return (uint16_t)(s_u8(s) << 8 | s_u8(s));
}

static uint32_t s_u32(struct src *s)
{
	return (uint32_t)s_u16(s) << 16 | s_u16(s);
}

/* A topic of n bytes: either raw input (may be invalid UTF-8 or hold
 * wildcards) or mapped onto characters any topic may hold. */
static size_t s_topic(struct src *s, char *out, size_t n, bool raw)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz0123456789/_-.";

	for (size_t i = 0; i < n; i++) {
		uint8_t b = s_u8(s);

		out[i] = raw ? (char)b : safe[b % (sizeof(safe) - 1)];
	}
	out[n] = 0;
	return n;
}

static uint8_t *exact_copy(const uint8_t *src, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert(p);
	memcpy(p, src, n);
	return p;
}

static void rt_publish(struct src *s)
{
	uint8_t sel = s_u8(s), frame[1024];
	char topic[300];
	bool raw = sel & 0x80;
	struct mqtt_publish in = {
		.version = sel & 1 ? MQTT_V5 : MQTT_V311,
		.qos = (uint8_t)((sel >> 1) & 3), /* 3 must be refused */
		.retain = sel & 8,
		.dup = sel & 16,
	}, out;
	struct mqtt_publish_layout lay;
	struct mqtt_frame f;

	in.packet_id = s_u16(s);
	in.message_expiry = sel & 32 ? s_u32(s) : 0;
	in.topic_len = s_topic(s, topic, s_u8(s) % 200 + (sel & 64 ? 1 : 0), raw);
	in.topic = topic;
	in.payload_len = s->n > 600 ? 600 : s->n;
	in.payload = s->p;

	size_t want = mqtt_publish_size(&in);
	ssize_t n = mqtt_encode_publish(frame, sizeof(frame), &in, &lay);

	if (in.qos > 2 || (in.qos && !in.packet_id) || (!in.qos && in.dup) || !in.topic_len) {
		assert(n == -EINVAL && want == 0);
		return;
	}
	if (n == -EINVAL) {
		assert(raw && want == 0); /* only raw topics can be refused here */
		return;
	}
	assert(n > 0 && (size_t)n == want && lay.frame_len == want);
	if (!in.qos)
		in.packet_id = 0;
	if (in.version == MQTT_V311)
		in.message_expiry = 0; /* a v5 property, not sent by 3.1.1 */

	/* One byte short: refused, and nothing written past the cap. */
	uint8_t *tight = malloc((size_t)n - 1 ? (size_t)n - 1 : 1);
	assert(tight && mqtt_encode_publish(tight, (size_t)n - 1, &in, NULL) == -ENOSPC);
	free(tight);

	uint8_t *copy = exact_copy(frame, (size_t)n);
	assert(mqtt_decode_frame(copy, (size_t)n, 0, &f) == n);
	assert(mqtt_decode_frame(copy, (size_t)n - 1, 0, &f) == 0);
	assert(mqtt_decode_frame(copy, (size_t)n, 0, &f) == n);
	assert(mqtt_parse_publish(&f, in.version, &out) == 0);
	assert(out.version == in.version && out.qos == in.qos && out.dup == in.dup &&
	       out.retain == in.retain && out.packet_id == in.packet_id &&
	       out.message_expiry == in.message_expiry);
	assert(out.topic_len == in.topic_len && !memcmp(out.topic, in.topic, in.topic_len));
	assert(out.payload_len == in.payload_len &&
	       (!in.payload_len || !memcmp(out.payload, in.payload, in.payload_len)));
	/* Layout: the engine re-stamps these bytes in a copied template. */
	assert(out.payload == copy + lay.payload_off);
	if (in.qos)
		assert(copy[lay.packet_id_off] == in.packet_id >> 8 &&
		       copy[lay.packet_id_off + 1] == (in.packet_id & 0xff));
	else
		assert(lay.packet_id_off == 0);
	free(copy);
}

static void rt_small(struct src *s)
{
	uint8_t sel = s_u8(s), type = (uint8_t)(MQTT_PUBACK + s_u8(s) % 5), reason = s_u8(s);
	enum mqtt_version v = sel & 1 ? MQTT_V5 : MQTT_V311;
	uint16_t id = s_u16(s);
	uint8_t buf[8];
	struct mqtt_frame f;
	struct mqtt_ack a;
	struct mqtt_disconnect d;
	ssize_t n = mqtt_encode_ack(buf, sizeof(buf), v, type, id, reason);

	if (type > MQTT_PUBCOMP || !id || (v == MQTT_V311 && reason)) {
		assert(n == -EINVAL);
	} else {
		uint8_t *copy = exact_copy(buf, (size_t)n);

		assert(n == (reason ? 5 : 4));
		assert(mqtt_decode_frame(copy, (size_t)n, 0, &f) == n);
		assert(mqtt_parse_ack(&f, v, &a) == 0);
		assert(a.type == type && a.packet_id == id && a.reason == reason);
		free(copy);
	}

	n = mqtt_encode_disconnect(buf, sizeof(buf), v, reason);
	if (v == MQTT_V311 && reason) {
		assert(n == -EINVAL);
	} else {
		uint8_t *copy = exact_copy(buf, (size_t)n);

		assert(mqtt_decode_frame(copy, (size_t)n, 0, &f) == n);
		assert(mqtt_parse_disconnect(&f, v, &d) == 0 && d.reason == reason);
		free(copy);
	}
}

/* CONNECT and SUBSCRIBE have no parser: check size, framing and caps. */
static void rt_connect_subscribe(struct src *s)
{
	uint8_t sel = s_u8(s), frame[2048];
	char id[64], user[64], wt[64], f1[64], f2[64];
	struct mqtt_connect c = {
		.version = sel & 1 ? MQTT_V5 : MQTT_V311,
		.clean_start = sel & 2,
		.keepalive = s_u16(s),
	};
	struct mqtt_frame f;

	c.client_id_len = s_topic(s, id, s_u8(s) % 40, false);
	c.client_id = id;
	if (sel & 4) {
		c.username_len = s_topic(s, user, s_u8(s) % 40, false);
		c.username = user;
	}
	if (sel & 8) {
		c.password_len = s_u8(s) % 40;
		c.password = (const uint8_t *)id; /* any bytes will do */
		if (c.password_len > c.client_id_len)
			c.password_len = c.client_id_len;
	}
	if (sel & 16) {
		c.will_topic_len = s_topic(s, wt, s_u8(s) % 40 + 1, false);
		c.will_topic = wt;
		c.will_qos = s_u8(s) % 3;
		c.will_retain = sel & 32;
	}
	if (sel & 64) {
		c.session_expiry = s_u32(s);
		c.receive_maximum = s_u16(s);
		c.maximum_packet_size = s_u32(s);
		c.topic_alias_maximum = s_u16(s);
	}
	size_t want = mqtt_connect_size(&c);
	ssize_t n = mqtt_encode_connect(frame, sizeof(frame), &c);

	if (n > 0) {
		assert((size_t)n == want);
		assert(mqtt_encode_connect(frame, (size_t)n - 1, &c) == -ENOSPC);
		assert(mqtt_decode_frame(frame, (size_t)n, 0, &f) == n && f.type == MQTT_CONNECT);
		/* Protocol level and flags where 3.1.2.2-3 put them. */
		assert(f.body[6] == c.version);
		assert(!!(f.body[7] & MQTT_CONNECT_CLEAN_START) == c.clean_start);
	} else {
		assert(n == -EINVAL && want == 0);
	}

	const char *filters[2] = { f1, f2 };
	uint8_t qos[2] = { s_u8(s) % 3, s_u8(s) % 3 };
	s_topic(s, f1, s_u8(s) % 60 + 1, false);
	s_topic(s, f2, s_u8(s) % 60 + 1, false);
	n = mqtt_encode_subscribe(frame, sizeof(frame), c.version, s_u16(s) | 1, filters, qos,
				  (size_t)(sel >> 7) + 1);
	assert(n > 0);
	assert(mqtt_decode_frame(frame, (size_t)n, 0, &f) == n && f.type == MQTT_SUBSCRIBE &&
	       f.flags == 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct src s = { data, size };

	fuzz_stream(data, size, 0);
	if (size)
		fuzz_stream(data, size, data[0] * 4u + 2);
	rt_small(&s);
	s = (struct src){ data, size };
	rt_connect_subscribe(&s);
	s = (struct src){ data, size };
	rt_publish(&s);
	fuzz_filters(data, size);
	return 0;
}

#include "replay.h"
