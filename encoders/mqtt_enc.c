/* MQTT 3.1.1 and 5.0 encoders and topic filters (contract in mqtt.h).
 *
 * Encoders work in mosquitto's two passes: compute the exact body size (the
 * remaining length precedes the body), refuse if it does not fit, then write
 * once through a wbuf. Section numbers are "3.1.1 x.y" for the OASIS 3.1.1 standard and "5.0 x.y"
 * for MQTT 5.0; [MQTT-a.b.c-n] are the normative statement ids. */
#include <errno.h>
#include <string.h>

#include "mqtt.h"
#include "utf8.h"
#include "wbuf.h"

#define MQTT_STR_MAX 65535u

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

	if (!c || !mqtt_version_ok(c->version) || !str_ok(c->client_id, c->client_id_len))
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

	if (!p || !mqtt_version_ok(p->version) || p->qos > 2)
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

	if (!mqtt_version_ok(v) || type < MQTT_PUBACK || type > MQTT_PUBCOMP || !packet_id)
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

	if (!mqtt_version_ok(v) || !packet_id || !filters || !n)
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

	if (!mqtt_version_ok(v) || (v == MQTT_V311 && reason))
		return -EINVAL;
	if (cap < 2 + body)
		return -ENOSPC;
	out[0] = MQTT_DISCONNECT << 4;
	out[1] = (uint8_t)body;
	if (reason)
		out[2] = reason;
	return (ssize_t)(2 + body);
}
