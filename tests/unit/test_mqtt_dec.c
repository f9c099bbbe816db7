/* MQTT decoders (encoders/mqtt_dec.c): golden and captured frames
 * (tests/mqtt_vectors.h), round trips, split and batched framing,
 * malformed input, every parser on bytes that end at a PROT_NONE page, and
 * the names reports print. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/mqtt.h"
#include "guard.h"
#include "mqtt_vectors.h"
#include "t.h"

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
	/* ...except the one a 3.1.1-only server answers a v5 CONNECT with
	 * (nats-server does): "unacceptable protocol version", named as v5's
	 * "unsupported protocol version". */
	static const uint8_t connack311_version[] = { 0x20, 0x02, 0x00, 0x01 };
	CHECK_EQ_INT(decode_at_guard(connack311_version, sizeof(connack311_version), &f), 4);
	CHECK_EQ_INT(mqtt_parse_connack(&f, MQTT_V5, &ca), 0);
	CHECK_EQ_INT(ca.code, MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION);
	CHECK(!strcmp(mqtt_connack_name(MQTT_V5, ca.code), "unsupported_protocol_version"));
	CHECK_EQ_INT(mqtt_parse_connack(&f, MQTT_V311, &ca), 0);
	CHECK_EQ_INT(ca.code, MQTT_CONNACK_UNACCEPTABLE_PROTOCOL_VERSION);

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

int main(void)
{
	if (guard_init(4096)) {
		perror("guard page");
		return T_FAIL;
	}
	test_parse_vectors();
	test_round_trip();
	test_stream();
	test_malformed();
	test_guard_sweep();
	test_names();
	return t_done("test_mqtt_dec");
}
