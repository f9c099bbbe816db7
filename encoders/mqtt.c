/* MQTT 3.1.1 and 5.0 encoders and decoders (contract in mqtt.h).
 *
 * Encoders work in mosquitto's two passes: compute the exact body size (the
 * remaining length precedes the body), refuse if it does not fit, then write
 * once through a wbuf. Decoders walk a bounded read cursor; every read is
 * checked against the end of the frame, never against what "should" follow.
 * Section numbers are "3.1.1 x.y" for the OASIS 3.1.1 standard and "5.0 x.y"
 * for MQTT 5.0; [MQTT-a.b.c-n] are the normative statement ids. */
#include <errno.h>
#include <string.h>

#include "mqtt.h"
#include "utf8.h"
#include "wbuf.h"

#define MQTT_STR_MAX 65535u

static bool version_ok(enum mqtt_version v)
{
	return v == MQTT_V311 || v == MQTT_V5;
}

/* UTF-8 as 5.0 1.5.4 / 3.1.1 1.5.3 require: well formed and no U+0000. */
static bool utf8_ok(const uint8_t *s, size_t n)
{
	return utf8_valid(s, n, false);
}

/* A UTF-8 Encoded String field: pointer may be NULL only when empty. */
static bool str_ok(const void *s, size_t n)
{
	return n <= MQTT_STR_MAX && (s || !n) && (!n || utf8_ok(s, n));
}

static bool bin_ok(const void *s, size_t n)
{
	return n <= MQTT_STR_MAX && (s || !n);
}

/* A PUBLISH Topic Name: non-empty [MQTT-4.7.3-1], no wildcards
 * [MQTT-3.3.2-2]. */
static bool topic_name_ok(const char *t, size_t n)
{
	return n && str_ok(t, n) && !memchr(t, '+', n) && !memchr(t, '#', n);
}

/* Whole frame size for a body, 0 when the body exceeds the 4-byte
 * remaining length (3.1.1 2.2.3, 5.0 2.1.4). */
static size_t frame_size(size_t body)
{
	if (body > MQTT_MAX_REMAINING)
		return 0;
	return 1 + wb_varint_size((uint32_t)body) + body;
}

static void put_header(struct wbuf *w, uint8_t type, uint8_t flags, size_t body)
{
	wb_u8(w, (uint8_t)(type << 4 | flags));
	wb_varint(w, (uint32_t)body);
}

/* Two-byte length then the bytes (3.1.1 1.5.3, 5.0 1.5.4 and 1.5.6). */
static void put_str(struct wbuf *w, const void *s, size_t n)
{
	wb_u16be(w, (uint16_t)n);
	wb_bytes(w, s, n);
}

/* ---- CONNECT (3.1.1 3.1, 5.0 3.1) ---- */

static size_t connect_props_len(const struct mqtt_connect *c)
{
	return (c->session_expiry ? 5 : 0) + (c->receive_maximum ? 3 : 0) +
	       (c->topic_alias_maximum ? 3 : 0) + (c->maximum_packet_size ? 5 : 0);
}

/* Body length, or -EINVAL for fields the spec forbids. */
static ssize_t connect_body(const struct mqtt_connect *c)
{
	size_t n = 10; /* protocol name, level, flags, keep alive */

	if (!c || !version_ok(c->version) || !str_ok(c->client_id, c->client_id_len))
		return -EINVAL;
	if (c->username && !str_ok(c->username, c->username_len))
		return -EINVAL;
	if (c->password && !bin_ok(c->password, c->password_len))
		return -EINVAL;
	if (c->will_qos > 2)
		return -EINVAL;
	/* Without a will, its qos and retain must be 0 [MQTT-3.1.2-13,15]. */
	if (!c->will_topic && (c->will_qos || c->will_retain || c->will_payload_len))
		return -EINVAL;
	if (c->will_topic && (!topic_name_ok(c->will_topic, c->will_topic_len) ||
			      !bin_ok(c->will_payload, c->will_payload_len)))
		return -EINVAL;
	if (c->version == MQTT_V311) {
		if (c->password && !c->username)
			return -EINVAL; /* [MQTT-3.1.2-22] */
		if (!c->client_id_len && !c->clean_start)
			return -EINVAL; /* [MQTT-3.1.3-7] */
	} else {
		size_t pl = connect_props_len(c);

		n += wb_varint_size((uint32_t)pl) + pl;
	}
	n += 2 + c->client_id_len;
	if (c->will_topic) {
		/* MQTT 5 puts Will Properties first; we send none (5.0 3.1.3.2). */
		n += (c->version == MQTT_V5) + 2 + c->will_topic_len + 2 + c->will_payload_len;
	}
	if (c->username)
		n += 2 + c->username_len;
	if (c->password)
		n += 2 + c->password_len;
	return (ssize_t)n; /* at most ~330 KB: always fits a remaining length */
}

size_t mqtt_connect_size(const struct mqtt_connect *c)
{
	ssize_t body = connect_body(c);

	return body < 0 ? 0 : frame_size((size_t)body);
}

ssize_t mqtt_encode_connect(uint8_t *out, size_t cap, const struct mqtt_connect *c)
{
	ssize_t body = connect_body(c);
	struct wbuf w;
	uint8_t flags = 0;

	if (body < 0)
		return body;
	if (cap < frame_size((size_t)body))
		return -ENOSPC;
	if (c->username)
		flags |= MQTT_CONNECT_USERNAME;
	if (c->password)
		flags |= MQTT_CONNECT_PASSWORD;
	if (c->will_topic) {
		flags |= MQTT_CONNECT_WILL | (uint8_t)(c->will_qos << MQTT_CONNECT_WILL_QOS_SHIFT);
		if (c->will_retain)
			flags |= MQTT_CONNECT_WILL_RETAIN;
	}
	if (c->clean_start)
		flags |= MQTT_CONNECT_CLEAN_START;

	wb_init(&w, out, cap);
	put_header(&w, MQTT_CONNECT, 0, (size_t)body);
	put_str(&w, MQTT_PROTOCOL_NAME, MQTT_PROTOCOL_NAME_LEN);
	wb_u8(&w, (uint8_t)c->version);
	wb_u8(&w, flags);
	wb_u16be(&w, c->keepalive);
	if (c->version == MQTT_V5) {
		/* Ascending identifier order; 0 means "omit" since a zero
		 * receive maximum or packet size is a protocol error anyway
		 * (5.0 3.1.2.11.3, 3.1.2.11.4). */
		wb_varint(&w, (uint32_t)connect_props_len(c));
		if (c->session_expiry) {
			wb_u8(&w, MQTT_PROP_SESSION_EXPIRY_INTERVAL);
			wb_u32be(&w, c->session_expiry);
		}
		if (c->receive_maximum) {
			wb_u8(&w, MQTT_PROP_RECEIVE_MAXIMUM);
			wb_u16be(&w, c->receive_maximum);
		}
		if (c->topic_alias_maximum) {
			wb_u8(&w, MQTT_PROP_TOPIC_ALIAS_MAXIMUM);
			wb_u16be(&w, c->topic_alias_maximum);
		}
		if (c->maximum_packet_size) {
			wb_u8(&w, MQTT_PROP_MAXIMUM_PACKET_SIZE);
			wb_u32be(&w, c->maximum_packet_size);
		}
	}
	put_str(&w, c->client_id, c->client_id_len);
	if (c->will_topic) {
		if (c->version == MQTT_V5)
			wb_u8(&w, 0); /* empty will property list */
		put_str(&w, c->will_topic, c->will_topic_len);
		put_str(&w, c->will_payload, c->will_payload_len);
	}
	if (c->username)
		put_str(&w, c->username, c->username_len);
	if (c->password)
		put_str(&w, c->password, c->password_len);
	return wb_result(&w);
}

/* ---- PUBLISH (3.1.1 3.3, 5.0 3.3) ---- */

/* Body length, or -EINVAL; *vh gets the variable header length. */
static ssize_t publish_body(const struct mqtt_publish *p, size_t *vh)
{
	size_t n;

	if (!p || !version_ok(p->version) || p->qos > 2)
		return -EINVAL;
	if (!topic_name_ok(p->topic, p->topic_len))
		return -EINVAL;
	if (p->qos && !p->packet_id)
		return -EINVAL; /* [MQTT-2.3.1-1] */
	if (!p->qos && p->dup)
		return -EINVAL; /* [MQTT-3.3.1-2] */
	if (!p->payload && p->payload_len)
		return -EINVAL;
	n = 2 + p->topic_len + (p->qos ? 2 : 0);
	if (p->version == MQTT_V5)
		n += p->message_expiry ? 6 : 1;
	if (p->payload_len > MQTT_MAX_REMAINING - n)
		return -EINVAL;
	*vh = n;
	return (ssize_t)(n + p->payload_len);
}

size_t mqtt_publish_size(const struct mqtt_publish *p)
{
	size_t vh;
	ssize_t body = publish_body(p, &vh);

	return body < 0 ? 0 : frame_size((size_t)body);
}

ssize_t mqtt_encode_publish(uint8_t *out, size_t cap, const struct mqtt_publish *p,
			    struct mqtt_publish_layout *layout)
{
	size_t vh, id_off = 0, payload_off;
	ssize_t body = publish_body(p, &vh), ret;
	struct wbuf w;
	uint8_t flags = (uint8_t)(p ? p->qos << MQTT_PUBLISH_QOS_SHIFT : 0);

	if (body < 0)
		return body;
	if (cap < frame_size((size_t)body))
		return -ENOSPC;
	if (p->dup)
		flags |= MQTT_PUBLISH_DUP;
	if (p->retain)
		flags |= MQTT_PUBLISH_RETAIN;

	wb_init(&w, out, cap);
	put_header(&w, MQTT_PUBLISH, flags, (size_t)body);
	put_str(&w, p->topic, p->topic_len);
	if (p->qos) {
		id_off = wb_len(&w);
		wb_u16be(&w, p->packet_id);
	}
	if (p->version == MQTT_V5) {
		if (p->message_expiry) {
			wb_varint(&w, 5);
			wb_u8(&w, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL);
			wb_u32be(&w, p->message_expiry);
		} else {
			wb_u8(&w, 0);
		}
	}
	payload_off = wb_len(&w);
	wb_bytes(&w, p->payload, p->payload_len);
	ret = wb_result(&w);
	if (ret > 0 && layout) {
		layout->frame_len = (size_t)ret;
		layout->packet_id_off = id_off;
		layout->payload_off = payload_off;
	}
	return ret;
}

/* ---- Small fixed packets ---- */

/* PUBACK/PUBREC/PUBREL/PUBCOMP (3.1.1 3.4-3.7, 5.0 3.4-3.7). MQTT 5 with a
 * non-zero reason: 3-byte body, no property length (5.0 3.4.2.2). */
ssize_t mqtt_encode_ack(uint8_t *out, size_t cap, enum mqtt_version v, uint8_t type,
			uint16_t packet_id, uint8_t reason)
{
	struct wbuf w;
	size_t body = reason ? 3 : 2;

	if (!version_ok(v) || type < MQTT_PUBACK || type > MQTT_PUBCOMP || !packet_id)
		return -EINVAL;
	if (v == MQTT_V311 && reason)
		return -EINVAL; /* 3.1.1 acks carry no reason */
	if (cap < 2 + body)
		return -ENOSPC;
	wb_init(&w, out, cap);
	put_header(&w, type, type == MQTT_PUBREL ? MQTT_FLAGS_PUBREL : 0, body);
	wb_u16be(&w, packet_id);
	if (reason)
		wb_u8(&w, reason);
	return wb_result(&w);
}

/* SUBSCRIBE (3.1.1 3.8, 5.0 3.8). The v5 options byte carries only the
 * qos: no local, retain as published and retain handling stay 0. */
ssize_t mqtt_encode_subscribe(uint8_t *out, size_t cap, enum mqtt_version v, uint16_t packet_id,
			      const char *const *filters, const uint8_t *qos, size_t n)
{
	size_t body = 2 + (v == MQTT_V5);
	struct wbuf w;

	if (!version_ok(v) || !packet_id || !filters || !n)
		return -EINVAL; /* at least one filter [MQTT-3.8.3-3] */
	for (size_t i = 0; i < n; i++) {
		size_t len;

		if (!filters[i] || (qos && qos[i] > 2))
			return -EINVAL;
		len = strlen(filters[i]);
		if (!len || !str_ok(filters[i], len))
			return -EINVAL; /* [MQTT-4.7.3-1] */
		body += 2 + len + 1;
		if (body > MQTT_MAX_REMAINING)
			return -EINVAL;
	}
	if (cap < frame_size(body))
		return -ENOSPC;
	wb_init(&w, out, cap);
	put_header(&w, MQTT_SUBSCRIBE, MQTT_FLAGS_SUBSCRIBE, body);
	wb_u16be(&w, packet_id);
	if (v == MQTT_V5)
		wb_u8(&w, 0); /* no properties */
	for (size_t i = 0; i < n; i++) {
		put_str(&w, filters[i], strlen(filters[i]));
		wb_u8(&w, qos ? qos[i] : 0);
	}
	return wb_result(&w);
}

/* ---- topic filters (3.1.1 4.7, 5.0 4.7) ---- */

bool mqtt_filter_valid(const char *f, size_t n)
{
	if (!n || !str_ok(f, n))
		return false; /* [MQTT-4.7.3-1] */
	for (size_t i = 0; i < n; i++) {
		bool starts = i == 0 || f[i - 1] == '/';
		bool ends = i + 1 == n || f[i + 1] == '/';
		if (f[i] == '#' && !(starts && i + 1 == n))
			return false; /* [MQTT-4.7.1-2] */
		if (f[i] == '+' && !(starts && ends))
			return false; /* [MQTT-4.7.1-3] */
	}
	return true;
}

bool mqtt_topic_matches(const char *f, size_t fn, const char *t, size_t tn)
{
	size_t i = 0, j = 0;

	if (fn && (f[0] == '+' || f[0] == '#') && tn && t[0] == '$')
		return false;
	for (;;) {
		if (i < fn && f[i] == '#')
			return true; /* this level and below ("a/#" matches "a") */
		size_t fe = i, te = j;
		while (fe < fn && f[fe] != '/')
			fe++;
		while (te < tn && t[te] != '/')
			te++;
		bool plus = fe - i == 1 && f[i] == '+';
		if (!plus && (fe - i != te - j || memcmp(f + i, t + j, fe - i)))
			return false;
		bool f_more = fe < fn, t_more = te < tn;
		if (!f_more && !t_more)
			return true;
		if (!t_more) /* "a/#" matches "a": only '#' may follow */
			return f_more && fn - fe == 2 && f[fe + 1] == '#';
		if (!f_more)
			return false;
		i = fe + 1;
		j = te + 1;
	}
}

ssize_t mqtt_encode_pingreq(uint8_t *out, size_t cap)
{
	if (cap < 2)
		return -ENOSPC;
	out[0] = MQTT_PINGREQ << 4;
	out[1] = 0;
	return 2;
}

/* DISCONNECT (3.1.1 3.14, 5.0 3.14): reason 0 is the empty body. */
ssize_t mqtt_encode_disconnect(uint8_t *out, size_t cap, enum mqtt_version v, uint8_t reason)
{
	size_t body = reason ? 1 : 0;

	if (!version_ok(v) || (v == MQTT_V311 && reason))
		return -EINVAL;
	if (cap < 2 + body)
		return -ENOSPC;
	out[0] = MQTT_DISCONNECT << 4;
	out[1] = (uint8_t)body;
	if (reason)
		out[2] = reason;
	return (ssize_t)(2 + body);
}

/* ---- Decoding ---- */

/* Variable Byte Integer: 1 decoded, 0 needs more bytes, -EPROTO for a
 * fifth byte or a non-minimal encoding [MQTT-1.5.5-1]. */
static int varint_dec(const uint8_t *p, size_t len, uint32_t *v, size_t *used)
{
	uint32_t val = 0;

	for (size_t i = 0; i < 4; i++) {
		if (i >= len)
			return 0;
		val |= (uint32_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			if (i && !p[i])
				return -EPROTO; /* e.g. 80 00 for 0 */
			*v = val;
			*used = i + 1;
			return 1;
		}
	}
	return -EPROTO;
}

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
	r = varint_dec(buf + 1, len - 1, &rem, &used);
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

/* Bounded read cursor: every reader fails rather than step past end. */
struct rbuf {
	const uint8_t *p, *end;
};

static size_t rb_left(const struct rbuf *r)
{
	return (size_t)(r->end - r->p);
}

static bool rb_u8(struct rbuf *r, uint8_t *v)
{
	if (rb_left(r) < 1)
		return false;
	*v = *r->p++;
	return true;
}

static bool rb_u16(struct rbuf *r, uint16_t *v)
{
	if (rb_left(r) < 2)
		return false;
	*v = (uint16_t)(r->p[0] << 8 | r->p[1]);
	r->p += 2;
	return true;
}

static bool rb_u32(struct rbuf *r, uint32_t *v)
{
	if (rb_left(r) < 4)
		return false;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	return true;
}

/* Inside a frame a short varint is malformed, not "need more". */
static bool rb_varint(struct rbuf *r, uint32_t *v)
{
	size_t used;

	if (varint_dec(r->p, rb_left(r), v, &used) <= 0)
		return false;
	r->p += used;
	return true;
}

/* Length-prefixed field; utf8 checks the bytes as a UTF-8 string. */
static bool rb_str(struct rbuf *r, const uint8_t **s, size_t *n, bool utf8)
{
	uint16_t len;

	if (!rb_u16(r, &len) || rb_left(r) < len)
		return false;
	if (utf8 && !utf8_ok(r->p, len))
		return false;
	*s = r->p;
	*n = len;
	r->p += len;
	return true;
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
	uint32_t len;

	if (!rb_varint(r, &len) || rb_left(r) < len)
		return false;
	it->r.p = r->p;
	it->r.end = r->p + len;
	it->allowed = allowed;
	it->seen = 0;
	r->p += len;
	return true;
}

/* 1 one property read into *pr, 0 list done, -EPROTO malformed. */
static int props_next(struct prop_iter *it, struct prop *pr)
{
	uint32_t id;
	const uint8_t *s;
	size_t n;
	uint16_t u16 = 0;
	uint8_t u8 = 0;
	bool ok;

	if (!rb_left(&it->r))
		return 0;
	/* The id is a varint, but every defined one fits one byte. */
	if (!rb_varint(&it->r, &id) || id >= 64 || !(it->allowed & PBIT(id)))
		return -EPROTO;
	if ((it->seen & PBIT(id)) && !(PROPS_REPEATABLE & PBIT(id)))
		return -EPROTO;
	it->seen |= PBIT(id);
	pr->id = (uint8_t)id;
	pr->num = 0;
	switch (prop_kind[id]) {
	case PK_BYTE:
		/* Every byte property a client receives is 0 or 1. */
		ok = rb_u8(&it->r, &u8) && u8 <= 1;
		pr->num = u8;
		break;
	case PK_U16:
		ok = rb_u16(&it->r, &u16);
		pr->num = u16;
		break;
	case PK_U32:
		ok = rb_u32(&it->r, &pr->num);
		break;
	case PK_VARINT:
		ok = rb_varint(&it->r, &pr->num);
		break;
	case PK_UTF8:
		ok = rb_str(&it->r, &s, &n, true);
		break;
	case PK_BIN:
		ok = rb_str(&it->r, &s, &n, false);
		break;
	case PK_PAIR:
		ok = rb_str(&it->r, &s, &n, true) && rb_str(&it->r, &s, &n, true);
		break;
	default:
		ok = false;
		break;
	}
	if (!ok || (!pr->num && (PROPS_NONZERO & PBIT(id))))
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

static void rb_frame(struct rbuf *r, const struct mqtt_frame *f)
{
	r->p = f->body;
	r->end = f->body_len ? f->body + f->body_len : f->body;
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

	if (!version_ok(v) || !frame_is(f, MQTT_CONNACK))
		return -EPROTO;
	rb_frame(&r, f);
	if (!rb_u8(&r, &ack) || !rb_u8(&r, &ca.code))
		return -EPROTO;
	if (ack & ~MQTT_CONNACK_SESSION_PRESENT)
		return -EPROTO; /* reserved bits [MQTT-3.2.2-1] */
	ca.session_present = ack & MQTT_CONNACK_SESSION_PRESENT;
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
	if (rb_left(&r))
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

	if (!version_ok(v) || !f || f->type < MQTT_PUBACK || f->type > MQTT_PUBCOMP ||
	    !frame_is(f, f->type))
		return -EPROTO;
	rb_frame(&r, f);
	a.type = f->type;
	if (!rb_u16(&r, &a.packet_id) || !a.packet_id)
		return -EPROTO;
	if (v == MQTT_V5 && rb_left(&r)) {
		rb_u8(&r, &a.reason);
		if (rb_left(&r) && props_skip(&r, PROPS_ACK) < 0)
			return -EPROTO;
	}
	if (rb_left(&r))
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

	if (!version_ok(v) || !frame_is(f, MQTT_SUBACK))
		return -EPROTO;
	rb_frame(&r, f);
	if (!rb_u16(&r, &s.packet_id) || !s.packet_id)
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

	if (!version_ok(v) || !frame_is(f, MQTT_DISCONNECT))
		return -EPROTO;
	rb_frame(&r, f);
	if (v == MQTT_V5 && rb_left(&r)) {
		rb_u8(&r, &d.reason);
		if (rb_left(&r) && props_skip(&r, PROPS_DISCONNECT) < 0)
			return -EPROTO;
	}
	if (rb_left(&r))
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

	if (!version_ok(v) || !frame_is(f, MQTT_PUBLISH))
		return -EPROTO;
	p.version = v;
	p.qos = (f->flags & MQTT_PUBLISH_QOS_MASK) >> MQTT_PUBLISH_QOS_SHIFT;
	p.dup = f->flags & MQTT_PUBLISH_DUP;
	p.retain = f->flags & MQTT_PUBLISH_RETAIN;
	rb_frame(&r, f);
	if (!rb_str(&r, &topic, &p.topic_len, true))
		return -EPROTO;
	p.topic = (const char *)topic;
	if (memchr(topic, '+', p.topic_len) || memchr(topic, '#', p.topic_len))
		return -EPROTO; /* [MQTT-3.3.2-2] */
	if (p.qos && (!rb_u16(&r, &p.packet_id) || !p.packet_id))
		return -EPROTO;
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
