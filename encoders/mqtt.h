/* MQTT 3.1.1 and 5.0 wire encoders and decoders. Pure: no I/O, no globals,
 * no allocation. Encoders write into caller-owned buffers; decoders return
 * pointers into the caller's bytes.
 *
 * Encoder contract: returns the number of bytes written, or -ENOSPC when cap
 * is too small (nothing useful is left in out then), or -EINVAL for values
 * the spec forbids (topic longer than 65535, qos > 2, packet id 0 with
 * qos > 0, remaining length over 268,435,455). Never writes past out + cap.
 *
 * Decoder contract: never reads past buf + len, whatever the bytes are.
 * Returns 0 on success or -EPROTO for malformed input (spec: "Malformed
 * Packet"). */
#ifndef BLAST_MQTT_H
#define BLAST_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mqtt_wire.h"

enum mqtt_version {
	MQTT_V311 = 4, /* protocol level byte of 3.1.1 */
	MQTT_V5 = 5,
};

static inline bool mqtt_version_ok(enum mqtt_version v)
{
	return v == MQTT_V311 || v == MQTT_V5;
}

/* Largest remaining length a 4-byte variable byte integer holds (spec 1.5.5). */
#define MQTT_MAX_REMAINING 268435455u
/* Fixed header: type byte + up to 4 length bytes. */
#define MQTT_MAX_FIXED_HEADER 5

struct mqtt_connect {
	enum mqtt_version version;
	const char *client_id; /* may be "" (broker assigns; needs clean_start) */
	size_t client_id_len;
	const char *username; /* NULL: flag not set */
	size_t username_len;
	const uint8_t *password; /* NULL: flag not set */
	size_t password_len;
	uint16_t keepalive; /* seconds, 0 = off */
	bool clean_start;
	/* Will message: will_topic NULL = no will. */
	const char *will_topic;
	size_t will_topic_len;
	const uint8_t *will_payload;
	size_t will_payload_len;
	uint8_t will_qos;
	bool will_retain;
	/* MQTT 5 CONNECT properties; 0 = property omitted. */
	uint32_t session_expiry;
	uint16_t receive_maximum;
	uint32_t maximum_packet_size;
	uint16_t topic_alias_maximum;
};

struct mqtt_publish {
	enum mqtt_version version;
	const char *topic;
	size_t topic_len;
	const uint8_t *payload;
	size_t payload_len;
	uint16_t packet_id; /* required (non-zero) for qos 1 and 2 */
	uint8_t qos;
	bool dup;
	bool retain;
	/* MQTT 5: publish properties are encoded as an empty property list
	 * (one 0x00 byte); 0 here means no Message Expiry Interval property. */
	uint32_t message_expiry;
};

/* Where the per-message fields sit inside an encoded PUBLISH frame, so the
 * hot path can copy a template and re-stamp only these bytes. */
struct mqtt_publish_layout {
	size_t frame_len;     /* whole frame, fixed header included */
	size_t packet_id_off; /* offset of the 2-byte packet id; 0 when qos 0 */
	size_t payload_off;   /* offset of the first payload byte */
};

/* Exact size of the encoded frame (mosquitto's first pass), or 0 when the
 * fields are invalid (same cases as -EINVAL below). */
size_t mqtt_connect_size(const struct mqtt_connect *c);
size_t mqtt_publish_size(const struct mqtt_publish *p);

ssize_t mqtt_encode_connect(uint8_t *out, size_t cap, const struct mqtt_connect *c);
/* layout may be NULL. */
ssize_t mqtt_encode_publish(uint8_t *out, size_t cap, const struct mqtt_publish *p,
			    struct mqtt_publish_layout *layout);
/* PUBACK, PUBREC, PUBREL, PUBCOMP (type is MQTT_PUBACK...). With MQTT 5 a
 * reason code of 0 is encoded in the 2-byte short form (spec 3.4.2.1). */
ssize_t mqtt_encode_ack(uint8_t *out, size_t cap, enum mqtt_version v, uint8_t type,
			uint16_t packet_id, uint8_t reason);
/* SUBSCRIBE with n filters, each with its requested qos. */
ssize_t mqtt_encode_subscribe(uint8_t *out, size_t cap, enum mqtt_version v, uint16_t packet_id,
			      const char *const *filters, const uint8_t *qos, size_t n);
ssize_t mqtt_encode_pingreq(uint8_t *out, size_t cap);
/* MQTT 5 writes the reason code (short form when 0); 3.1.1 writes 2 bytes. */
ssize_t mqtt_encode_disconnect(uint8_t *out, size_t cap, enum mqtt_version v, uint8_t reason);

/* One whole frame found at the start of a byte stream. */
struct mqtt_frame {
	uint8_t type;  /* high nibble of byte 0, shifted: MQTT_CONNACK... */
	uint8_t flags; /* low nibble of byte 0 */
	const uint8_t *body; /* variable header + payload */
	size_t body_len;
	size_t frame_len; /* fixed header + body */
};

/* Incremental framing. Looks at the start of buf:
 *   > 0      a whole frame of that many bytes is there; *f describes it
 *   0        not enough bytes yet (call again with more)
 *   -EPROTO  malformed: overlong or 5-byte remaining length, reserved type 0,
 *            or frame longer than max_frame (0 = no limit beyond the spec's)
 * Validates only the fixed header; the parse functions below check bodies. */
ssize_t mqtt_decode_frame(const uint8_t *buf, size_t len, size_t max_frame, struct mqtt_frame *f);

struct mqtt_connack {
	bool session_present;
	uint8_t code; /* 3.1.1 return code or MQTT 5 reason code */
	/* MQTT 5 properties the client acts on; 0 when absent. */
	uint16_t receive_maximum;
	uint32_t maximum_packet_size;
	uint8_t maximum_qos_present;
	uint8_t maximum_qos;
};

struct mqtt_ack {
	uint8_t type; /* MQTT_PUBACK, MQTT_PUBREC, MQTT_PUBREL or MQTT_PUBCOMP */
	uint16_t packet_id;
	uint8_t reason; /* MQTT 5 reason code; 0 for 3.1.1 and short forms */
};

struct mqtt_suback {
	uint16_t packet_id;
	const uint8_t *codes; /* one granted-qos / reason code per filter */
	size_t n_codes;
};

struct mqtt_disconnect {
	uint8_t reason; /* 0 for 3.1.1 and for an empty MQTT 5 body */
};

/* Body parsers. Each takes a frame from mqtt_decode_frame and checks type,
 * flags and every length inside the body (properties included: a property
 * length past the body, an unknown property id, a bad UTF-8 string length
 * are -EPROTO). */
int mqtt_parse_connack(const struct mqtt_frame *f, enum mqtt_version v, struct mqtt_connack *out);
int mqtt_parse_ack(const struct mqtt_frame *f, enum mqtt_version v, struct mqtt_ack *out);
int mqtt_parse_suback(const struct mqtt_frame *f, enum mqtt_version v, struct mqtt_suback *out);
int mqtt_parse_disconnect(const struct mqtt_frame *f, enum mqtt_version v, struct mqtt_disconnect *out);
/* Incoming PUBLISH (subscribers). topic/payload point into f->body. */
int mqtt_parse_publish(const struct mqtt_frame *f, enum mqtt_version v, struct mqtt_publish *out);

/* Topic filters (3.1.1 4.7, 5.0 4.7). mqtt_filter_valid: non-empty UTF-8,
 * at most 65535 bytes, '#' only as the whole last level, '+' only as a whole
 * level. mqtt_topic_matches: does topic name t match filter f ('+' one
 * level, '#' this level and every one below, the parent included; a filter
 * starting with a wildcard matches no topic starting with '$' [MQTT-4.7.2-1]).
 * Both read exactly the lengths given. */
bool mqtt_filter_valid(const char *f, size_t n);
bool mqtt_topic_matches(const char *f, size_t fn, const char *t, size_t tn);

/* Short stable snake_case names for reports, e.g. "not_authorized",
 * "bad_username_or_password", "server_unavailable"; "unknown_0xNN" is never
 * returned: unknown codes give "reason_unknown". */
const char *mqtt_connack_name(enum mqtt_version v, uint8_t code);
/* MQTT 5 reason codes for PUBACK/PUBREC/PUBCOMP/DISCONNECT, e.g.
 * "no_matching_subscribers", "quota_exceeded", "server_shutting_down". */
const char *mqtt_reason_name(uint8_t code);

#endif
