/* MQTT 3.1.1 and 5.0 decoders and report names (contract in mqtt.h).
 *
 * Decoders walk an rbuf (rbuf.h) over the frame's body; every read is
 * checked against the end of the frame, never against what "should"
 * follow. Section numbers are "3.1.1 x.y" for the OASIS 3.1.1 standard and
 * "5.0 x.y" for MQTT 5.0; [MQTT-a.b.c-n] are the normative statement ids. */
#include <errno.h>
#include <string.h>

#include "mqtt.h"
#include "rbuf.h"
#include "utf8.h"

/* ---- Decoding ---- */

/* Fixed header flags: reserved values per 3.1.1 2.2.2 / 5.0 2.1.3, and
 * for PUBLISH qos 3 [MQTT-3.3.1-4] and DUP with qos 0 [MQTT-3.3.1-2]. */
static bool flags_ok(uint8_t type, uint8_t flags)
{
	switch (type) {
	case MQTT_PUBLISH: {
		uint8_t qos = (flags & MQTT_PUBLISH_QOS_MASK) >> MQTT_PUBLISH_QOS_SHIFT;

		return qos != 3 && (qos || !(flags & MQTT_PUBLISH_DUP));
	}
	case MQTT_PUBREL:
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
		return flags == 0x2;
	default:
		return flags == 0;
	}
}

ssize_t mqtt_decode_frame(const uint8_t *buf, size_t len, size_t max_frame, struct mqtt_frame *f)
{
	uint8_t type, flags;
	uint32_t rem;
	size_t used, total;
	int r;

	if (!len)
		return 0;
	type = buf[0] >> 4;
	flags = buf[0] & 0x0f;
	if (!type || !flags_ok(type, flags))
		return -EPROTO;
	r = rb_varint_dec(buf + 1, len - 1, &rem, &used);
	if (r <= 0)
		return r;
	total = 1 + used + rem;
	if (max_frame && total > max_frame)
		return -EPROTO;
	if (len < total)
		return 0;
	f->type = type;
	f->flags = flags;
	f->body = buf + 1 + used;
	f->body_len = rem;
	f->frame_len = total;
	return (ssize_t)total;
}

/* A UTF-8 Encoded String (5.0 1.5.4, 3.1.1 1.5.3): well formed and no
 * U+0000. */
static const uint8_t *rd_utf8(struct rbuf *r, size_t *n)
{
	const uint8_t *s = rb_bytes16(r, n);

	if (s && !utf8_valid(s, *n, false)) {
		rb_fail(r);
		return NULL;
	}
	return s;
}

enum prop_kind { PK_NONE, PK_BYTE, PK_U16, PK_U32, PK_VARINT, PK_UTF8, PK_BIN, PK_PAIR };

/* Value type of each property (5.0 2.2.2.2, Table 2-4). */
static const uint8_t prop_kind[64] = {
	[MQTT_PROP_PAYLOAD_FORMAT_INDICATOR] = PK_BYTE,
	[MQTT_PROP_MESSAGE_EXPIRY_INTERVAL] = PK_U32,
	[MQTT_PROP_CONTENT_TYPE] = PK_UTF8,
	[MQTT_PROP_RESPONSE_TOPIC] = PK_UTF8,
	[MQTT_PROP_CORRELATION_DATA] = PK_BIN,
	[MQTT_PROP_SUBSCRIPTION_IDENTIFIER] = PK_VARINT,
	[MQTT_PROP_SESSION_EXPIRY_INTERVAL] = PK_U32,
	[MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER] = PK_UTF8,
	[MQTT_PROP_SERVER_KEEP_ALIVE] = PK_U16,
	[MQTT_PROP_AUTHENTICATION_METHOD] = PK_UTF8,
	[MQTT_PROP_AUTHENTICATION_DATA] = PK_BIN,
	[MQTT_PROP_REQUEST_PROBLEM_INFORMATION] = PK_BYTE,
	[MQTT_PROP_WILL_DELAY_INTERVAL] = PK_U32,
	[MQTT_PROP_REQUEST_RESPONSE_INFORMATION] = PK_BYTE,
	[MQTT_PROP_RESPONSE_INFORMATION] = PK_UTF8,
	[MQTT_PROP_SERVER_REFERENCE] = PK_UTF8,
	[MQTT_PROP_REASON_STRING] = PK_UTF8,
	[MQTT_PROP_RECEIVE_MAXIMUM] = PK_U16,
	[MQTT_PROP_TOPIC_ALIAS_MAXIMUM] = PK_U16,
	[MQTT_PROP_TOPIC_ALIAS] = PK_U16,
	[MQTT_PROP_MAXIMUM_QOS] = PK_BYTE,
	[MQTT_PROP_RETAIN_AVAILABLE] = PK_BYTE,
	[MQTT_PROP_USER_PROPERTY] = PK_PAIR,
	[MQTT_PROP_MAXIMUM_PACKET_SIZE] = PK_U32,
	[MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE] = PK_BYTE,
	[MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE] = PK_BYTE,
	[MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE] = PK_BYTE,
};

#define PBIT(id) (1ull << (id))

/* Which properties each packet a client receives may carry (5.0 3.x.2.2). */
#define PROPS_CONNACK                                                                    \
	(PBIT(MQTT_PROP_SESSION_EXPIRY_INTERVAL) | PBIT(MQTT_PROP_RECEIVE_MAXIMUM) |     \
	 PBIT(MQTT_PROP_MAXIMUM_QOS) | PBIT(MQTT_PROP_RETAIN_AVAILABLE) |                 \
	 PBIT(MQTT_PROP_MAXIMUM_PACKET_SIZE) | PBIT(MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER) | \
	 PBIT(MQTT_PROP_TOPIC_ALIAS_MAXIMUM) | PBIT(MQTT_PROP_REASON_STRING) |            \
	 PBIT(MQTT_PROP_USER_PROPERTY) | PBIT(MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE) | \
	 PBIT(MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE) |                              \
	 PBIT(MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE) | PBIT(MQTT_PROP_SERVER_KEEP_ALIVE) | \
	 PBIT(MQTT_PROP_RESPONSE_INFORMATION) | PBIT(MQTT_PROP_SERVER_REFERENCE) |        \
	 PBIT(MQTT_PROP_AUTHENTICATION_METHOD) | PBIT(MQTT_PROP_AUTHENTICATION_DATA))
#define PROPS_PUBLISH                                                                    \
	(PBIT(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR) | PBIT(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL) | \
	 PBIT(MQTT_PROP_TOPIC_ALIAS) | PBIT(MQTT_PROP_RESPONSE_TOPIC) |                   \
	 PBIT(MQTT_PROP_CORRELATION_DATA) | PBIT(MQTT_PROP_USER_PROPERTY) |               \
	 PBIT(MQTT_PROP_SUBSCRIPTION_IDENTIFIER) | PBIT(MQTT_PROP_CONTENT_TYPE))
#define PROPS_ACK (PBIT(MQTT_PROP_REASON_STRING) | PBIT(MQTT_PROP_USER_PROPERTY))
#define PROPS_DISCONNECT                                                                 \
	(PBIT(MQTT_PROP_SESSION_EXPIRY_INTERVAL) | PBIT(MQTT_PROP_REASON_STRING) |       \
	 PBIT(MQTT_PROP_USER_PROPERTY) | PBIT(MQTT_PROP_SERVER_REFERENCE))
/* The only ones allowed more than once (5.0 3.3.2.3.8, 2.2.2.2). */
#define PROPS_REPEATABLE (PBIT(MQTT_PROP_USER_PROPERTY) | PBIT(MQTT_PROP_SUBSCRIPTION_IDENTIFIER))
/* Zero is a protocol error for these (5.0 3.2.2.3.3, 3.2.2.3.6, 3.3.2.3.4, 3.3.4). */
#define PROPS_NONZERO                                                                    \
	(PBIT(MQTT_PROP_RECEIVE_MAXIMUM) | PBIT(MQTT_PROP_MAXIMUM_PACKET_SIZE) |         \
	 PBIT(MQTT_PROP_TOPIC_ALIAS) | PBIT(MQTT_PROP_SUBSCRIPTION_IDENTIFIER))

struct prop_iter {
	struct rbuf r;
	uint64_t allowed, seen;
};

struct prop {
	uint8_t id;
	uint32_t num; /* byte, u16, u32 and varint values */
};

/* Cuts the property list (length varint, then that many bytes) off r. */
static bool props_begin(struct rbuf *r, struct prop_iter *it, uint64_t allowed)
{
	uint32_t len = rb_varint(r);
	const uint8_t *list = rb_take(r, len);

	if (!list)
		return false;
	rb_init(&it->r, list, len);
	it->allowed = allowed;
	it->seen = 0;
	return true;
}

/* 1 one property read into *pr, 0 list done, -EPROTO malformed. */
static int props_next(struct prop_iter *it, struct prop *pr)
{
	struct rbuf *r = &it->r;
	uint32_t id;
	size_t n;

	if (!rb_left(r))
		return 0;
	/* The id is a varint, but every defined one fits one byte. */
	id = rb_varint(r);
	if (r->bad || id >= 64 || !(it->allowed & PBIT(id)))
		return -EPROTO;
	if ((it->seen & PBIT(id)) && !(PROPS_REPEATABLE & PBIT(id)))
		return -EPROTO;
	it->seen |= PBIT(id);
	pr->id = (uint8_t)id;
	pr->num = 0;
	switch (prop_kind[id]) {
	case PK_BYTE:
		/* Every byte property a client receives is 0 or 1. */
		pr->num = rb_u8(r);
		if (pr->num > 1)
			rb_fail(r);
		break;
	case PK_U16:
		pr->num = rb_u16be(r);
		break;
	case PK_U32:
		pr->num = rb_u32be(r);
		break;
	case PK_VARINT:
		pr->num = rb_varint(r);
		break;
	case PK_UTF8:
		rd_utf8(r, &n);
		break;
	case PK_BIN:
		rb_bytes16(r, &n);
		break;
	case PK_PAIR:
		rd_utf8(r, &n);
		rd_utf8(r, &n);
		break;
	default:
		rb_fail(r);
		break;
	}
	if (r->bad || (!pr->num && (PROPS_NONZERO & PBIT(id))))
		return -EPROTO;
	return 1;
}

/* Walks a list only to validate it. */
static int props_skip(struct rbuf *r, uint64_t allowed)
{
	struct prop_iter it;
	struct prop pr;
	int ret;

	if (!props_begin(r, &it, allowed))
		return -EPROTO;
	while ((ret = props_next(&it, &pr)) > 0)
		;
	return ret;
}

static bool frame_is(const struct mqtt_frame *f, uint8_t type)
{
	return f && f->type == type && flags_ok(type, f->flags) && (f->body || !f->body_len);
}

/* CONNACK (3.1.1 3.2, 5.0 3.2). */
int mqtt_parse_connack(const struct mqtt_frame *f, enum mqtt_version v, struct mqtt_connack *out)
{
	struct mqtt_connack ca = { 0 };
	struct prop_iter it;
	struct prop pr;
	struct rbuf r;
	uint8_t ack;
	int ret;

	if (!mqtt_version_ok(v) || !frame_is(f, MQTT_CONNACK))
		return -EPROTO;
	rb_init(&r, f->body, f->body_len);
	ack = rb_u8(&r);
	ca.code = rb_u8(&r);
	if (r.bad)
		return -EPROTO;
	if (ack & ~MQTT_CONNACK_SESSION_PRESENT)
		return -EPROTO; /* reserved bits [MQTT-3.2.2-1] */
	ca.session_present = ack & MQTT_CONNACK_SESSION_PRESENT;
	/* A 3.1.1-only server refuses a 5.0 CONNECT with its own CONNACK:
	 * two bytes, "unacceptable protocol version" (3.1.1 3.1.2.2; 5.0
	 * 3.1.4 allows it). That is 5.0's "unsupported protocol version". */
	if (v == MQTT_V5 && f->body_len == 2 && ca.code == MQTT_CONNACK_UNACCEPTABLE_PROTOCOL_VERSION) {
		ca.code = MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION;
		*out = ca;
		return 0;
	}
	if (v == MQTT_V5) {
		if (!props_begin(&r, &it, PROPS_CONNACK))
			return -EPROTO;
		while ((ret = props_next(&it, &pr)) > 0) {
			switch (pr.id) {
			case MQTT_PROP_RECEIVE_MAXIMUM:
				ca.receive_maximum = (uint16_t)pr.num;
				break;
			case MQTT_PROP_MAXIMUM_PACKET_SIZE:
				ca.maximum_packet_size = pr.num;
				break;
			case MQTT_PROP_MAXIMUM_QOS:
				ca.maximum_qos_present = 1;
				ca.maximum_qos = (uint8_t)pr.num;
				break;
			}
		}
		if (ret < 0)
			return ret;
	}
	if (rb_done(&r))
		return -EPROTO; /* CONNACK has no payload */
	*out = ca;
	return 0;
}

/* PUBACK/PUBREC/PUBREL/PUBCOMP. MQTT 5 bodies may stop after the packet
 * id (reason 0) or after the reason (no properties), 5.0 3.4.2.1-2. */
int mqtt_parse_ack(const struct mqtt_frame *f, enum mqtt_version v, struct mqtt_ack *out)
{
	struct mqtt_ack a = { 0 };
	struct rbuf r;

	if (!mqtt_version_ok(v) || !f || f->type < MQTT_PUBACK || f->type > MQTT_PUBCOMP ||
	    !frame_is(f, f->type))
		return -EPROTO;
	rb_init(&r, f->body, f->body_len);
	a.type = f->type;
	a.packet_id = rb_u16be(&r);
	if (r.bad || !a.packet_id)
		return -EPROTO;
	if (v == MQTT_V5 && rb_left(&r)) {
		a.reason = rb_u8(&r);
		if (rb_left(&r) && props_skip(&r, PROPS_ACK) < 0)
			return -EPROTO;
	}
	if (rb_done(&r))
		return -EPROTO;
	*out = a;
	return 0;
}

/* Return codes a SUBACK may carry (3.1.1 3.9.3, 5.0 3.9.3). */
static bool suback_code_ok(enum mqtt_version v, uint8_t c)
{
	if (c <= 2 || c == 0x80)
		return true;
	if (v == MQTT_V311)
		return false;
	switch (c) {
	case MQTT_RC_IMPLEMENTATION_SPECIFIC_ERROR:
	case MQTT_RC_NOT_AUTHORIZED:
	case MQTT_RC_TOPIC_FILTER_INVALID:
	case MQTT_RC_PACKET_IDENTIFIER_IN_USE:
	case MQTT_RC_QUOTA_EXCEEDED:
	case MQTT_RC_SHARED_SUBSCRIPTIONS_NOT_SUPPORTED:
	case MQTT_RC_SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED:
	case MQTT_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED:
		return true;
	default:
		return false;
	}
}

int mqtt_parse_suback(const struct mqtt_frame *f, enum mqtt_version v, struct mqtt_suback *out)
{
	struct mqtt_suback s = { 0 };
	struct rbuf r;

	if (!mqtt_version_ok(v) || !frame_is(f, MQTT_SUBACK))
		return -EPROTO;
	rb_init(&r, f->body, f->body_len);
	s.packet_id = rb_u16be(&r);
	if (r.bad || !s.packet_id)
		return -EPROTO;
	if (v == MQTT_V5 && props_skip(&r, PROPS_ACK) < 0)
		return -EPROTO;
	s.codes = r.p;
	s.n_codes = rb_left(&r);
	if (!s.n_codes)
		return -EPROTO; /* one code per filter, and there is at least one */
	for (size_t i = 0; i < s.n_codes; i++)
		if (!suback_code_ok(v, s.codes[i]))
			return -EPROTO;
	*out = s;
	return 0;
}

/* DISCONNECT: empty in 3.1.1; MQTT 5 may omit everything after the
 * reason, or the reason too (5.0 3.14.2.1). */
int mqtt_parse_disconnect(const struct mqtt_frame *f, enum mqtt_version v,
			  struct mqtt_disconnect *out)
{
	struct mqtt_disconnect d = { 0 };
	struct rbuf r;

	if (!mqtt_version_ok(v) || !frame_is(f, MQTT_DISCONNECT))
		return -EPROTO;
	rb_init(&r, f->body, f->body_len);
	if (v == MQTT_V5 && rb_left(&r)) {
		d.reason = rb_u8(&r);
		if (rb_left(&r) && props_skip(&r, PROPS_DISCONNECT) < 0)
			return -EPROTO;
	}
	if (rb_done(&r))
		return -EPROTO;
	*out = d;
	return 0;
}

int mqtt_parse_publish(const struct mqtt_frame *f, enum mqtt_version v, struct mqtt_publish *out)
{
	struct mqtt_publish p = { 0 };
	struct prop_iter it;
	struct prop pr;
	struct rbuf r;
	const uint8_t *topic;
	bool alias = false;
	int ret;

	if (!mqtt_version_ok(v) || !frame_is(f, MQTT_PUBLISH))
		return -EPROTO;
	p.version = v;
	p.qos = (f->flags & MQTT_PUBLISH_QOS_MASK) >> MQTT_PUBLISH_QOS_SHIFT;
	p.dup = f->flags & MQTT_PUBLISH_DUP;
	p.retain = f->flags & MQTT_PUBLISH_RETAIN;
	rb_init(&r, f->body, f->body_len);
	topic = rd_utf8(&r, &p.topic_len);
	if (!topic)
		return -EPROTO;
	p.topic = (const char *)topic;
	if (memchr(topic, '+', p.topic_len) || memchr(topic, '#', p.topic_len))
		return -EPROTO; /* [MQTT-3.3.2-2] */
	if (p.qos) {
		p.packet_id = rb_u16be(&r);
		if (r.bad || !p.packet_id)
			return -EPROTO;
	}
	if (v == MQTT_V5) {
		if (!props_begin(&r, &it, PROPS_PUBLISH))
			return -EPROTO;
		while ((ret = props_next(&it, &pr)) > 0) {
			if (pr.id == MQTT_PROP_MESSAGE_EXPIRY_INTERVAL)
				p.message_expiry = pr.num;
			else if (pr.id == MQTT_PROP_TOPIC_ALIAS)
				alias = true;
		}
		if (ret < 0)
			return ret;
	}
	/* An empty topic is only meaningful with a topic alias (5.0 3.3.2.1). */
	if (!p.topic_len && !alias)
		return -EPROTO;
	p.payload = r.p;
	p.payload_len = rb_left(&r);
	*out = p;
	return 0;
}

/* ---- Names for reports ---- */

static const char *const connack311_names[] = {
	[MQTT_CONNACK_ACCEPTED] = "accepted",
	[MQTT_CONNACK_UNACCEPTABLE_PROTOCOL_VERSION] = "unacceptable_protocol_version",
	[MQTT_CONNACK_IDENTIFIER_REJECTED] = "identifier_rejected",
	[MQTT_CONNACK_SERVER_UNAVAILABLE] = "server_unavailable",
	[MQTT_CONNACK_BAD_USERNAME_OR_PASSWORD] = "bad_username_or_password",
	[MQTT_CONNACK_NOT_AUTHORIZED] = "not_authorized",
};

/* 5.0 2.4 Table 2-6. 0x00 is "success" whatever the packet. */
static const char *const reason_names[256] = {
	[0x00] = "success",
	[0x01] = "granted_qos_1",
	[0x02] = "granted_qos_2",
	[0x04] = "disconnect_with_will_message",
	[0x10] = "no_matching_subscribers",
	[0x11] = "no_subscription_existed",
	[0x18] = "continue_authentication",
	[0x19] = "re_authenticate",
	[0x80] = "unspecified_error",
	[0x81] = "malformed_packet",
	[0x82] = "protocol_error",
	[0x83] = "implementation_specific_error",
	[0x84] = "unsupported_protocol_version",
	[0x85] = "client_identifier_not_valid",
	[0x86] = "bad_username_or_password",
	[0x87] = "not_authorized",
	[0x88] = "server_unavailable",
	[0x89] = "server_busy",
	[0x8A] = "banned",
	[0x8B] = "server_shutting_down",
	[0x8C] = "bad_authentication_method",
	[0x8D] = "keep_alive_timeout",
	[0x8E] = "session_taken_over",
	[0x8F] = "topic_filter_invalid",
	[0x90] = "topic_name_invalid",
	[0x91] = "packet_identifier_in_use",
	[0x92] = "packet_identifier_not_found",
	[0x93] = "receive_maximum_exceeded",
	[0x94] = "topic_alias_invalid",
	[0x95] = "packet_too_large",
	[0x96] = "message_rate_too_high",
	[0x97] = "quota_exceeded",
	[0x98] = "administrative_action",
	[0x99] = "payload_format_invalid",
	[0x9A] = "retain_not_supported",
	[0x9B] = "qos_not_supported",
	[0x9C] = "use_another_server",
	[0x9D] = "server_moved",
	[0x9E] = "shared_subscriptions_not_supported",
	[0x9F] = "connection_rate_exceeded",
	[0xA0] = "maximum_connect_time",
	[0xA1] = "subscription_identifiers_not_supported",
	[0xA2] = "wildcard_subscriptions_not_supported",
};

/* Reason codes a v5 CONNACK may carry (5.0 3.2.2.2). */
static bool connack5_code_ok(uint8_t c)
{
	switch (c) {
	case 0x00:
	case 0x80 ... 0x8A:
	case 0x8C:
	case 0x90:
	case 0x95:
	case 0x97:
	case 0x99 ... 0x9D:
	case 0x9F:
		return true;
	default:
		return false;
	}
}

const char *mqtt_connack_name(enum mqtt_version v, uint8_t code)
{
	if (v == MQTT_V5)
		return connack5_code_ok(code) ? reason_names[code] : "reason_unknown";
	if (code < sizeof(connack311_names) / sizeof(connack311_names[0]))
		return connack311_names[code];
	return "reason_unknown";
}

const char *mqtt_reason_name(uint8_t code)
{
	return reason_names[code] ? reason_names[code] : "reason_unknown";
}
