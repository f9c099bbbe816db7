/* Cursor reader over caller bytes, the twin of wbuf.h. Every reader checks
 * what is left and, when the bytes are not there or break the format's
 * rule, sets a sticky bad flag, returns zero (NULL for spans) and does not
 * move, so a decoder can read a whole structure and check once (rb_done,
 * or r->bad before acting on a value). Readers never touch memory outside
 * [p, end); spans point into the caller's bytes.
 *
 * Two varint families, with each spec's rule:
 *  - rb_varint: MQTT's Variable Byte Integer (MQTT 5 1.5.5, 3.1.1 2.2.3),
 *    at most 4 bytes and in the fewest bytes [MQTT-1.5.5-1].
 *  - rb_uvarint32/64, rb_zigzag32/64: Kafka's UNSIGNED_VARINT, VARINT and
 *    VARLONG (protocol guide, "Protocol Primitive Types"): protobuf's
 *    LEB128 and zigzag, at most 5 / 10 bytes, and the value must fit 32 /
 *    64 bits. Padded encodings (80 00 for 0) are accepted, as protobuf and
 *    Kafka's Java ByteUtils accept them; only MQTT forbids them. */
#ifndef BLAST_RBUF_H
#define BLAST_RBUF_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rbuf {
	const uint8_t *p, *end;
	bool bad;
};

/* Loads at a fixed place the caller has bounds-checked. */
static inline uint16_t rb_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rb_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t rb_be64(const uint8_t *p)
{
	return (uint64_t)rb_be32(p) << 32 | rb_be32(p + 4);
}

static inline void rb_init(struct rbuf *r, const void *buf, size_t len)
{
	r->p = buf;
	r->end = buf ? r->p + len : r->p; /* NULL + 0 is undefined */
	r->bad = false;
}

static inline size_t rb_left(const struct rbuf *r)
{
	return (size_t)(r->end - r->p);
}

/* Marks the cursor bad (a value broke the format's rule); returns false. */
static inline bool rb_fail(struct rbuf *r)
{
	r->bad = true;
	return false;
}

/* True when n more bytes are there; otherwise marks the cursor bad. */
static inline bool rb_need(struct rbuf *r, size_t n)
{
	return !r->bad && rb_left(r) >= n ? true : rb_fail(r);
}

/* 0 when everything was read well and nothing is left over, else -EPROTO. */
static inline int rb_done(const struct rbuf *r)
{
	return r->bad || r->p != r->end ? -EPROTO : 0;
}

/* The next n bytes as a span; NULL (and bad) when they are not there. */
static inline const uint8_t *rb_take(struct rbuf *r, size_t n)
{
	const uint8_t *s;

	if (!rb_need(r, n))
		return NULL;
	s = r->p;
	r->p += n;
	return s;
}

static inline void rb_skip(struct rbuf *r, size_t n)
{
	rb_take(r, n);
}

static inline uint8_t rb_u8(struct rbuf *r)
{
	return rb_need(r, 1) ? *r->p++ : 0;
}

static inline uint16_t rb_u16be(struct rbuf *r)
{
	const uint8_t *s = rb_take(r, 2);

	return s ? rb_be16(s) : 0;
}

static inline uint32_t rb_u32be(struct rbuf *r)
{
	const uint8_t *s = rb_take(r, 4);

	return s ? rb_be32(s) : 0;
}

static inline uint64_t rb_u64be(struct rbuf *r)
{
	const uint8_t *s = rb_take(r, 8);

	return s ? rb_be64(s) : 0;
}

/* Two's complement, as Kafka's INT16/32/64 are sent. */
static inline int16_t rb_i16be(struct rbuf *r)
{
	return (int16_t)rb_u16be(r);
}

static inline int32_t rb_i32be(struct rbuf *r)
{
	return (int32_t)rb_u32be(r);
}

static inline int64_t rb_i64be(struct rbuf *r)
{
	return (int64_t)rb_u64be(r);
}

/* A two-byte length, then that many bytes (MQTT 5 1.5.4 and 1.5.6, 3.1.1
 * 1.5.3; the bytes of a Kafka STRING are read by its own rules). */
static inline const uint8_t *rb_bytes16(struct rbuf *r, size_t *n)
{
	const uint8_t *s;
	size_t len;

	*n = 0;
	if (!rb_need(r, 2))
		return NULL;
	len = rb_be16(r->p);
	if (rb_left(r) - 2 < len) {
		rb_fail(r);
		return NULL;
	}
	s = r->p + 2;
	r->p = s + len;
	*n = len;
	return s;
}

/* ---- MQTT Variable Byte Integer ---- */

/* At the start of p: 1 decoded (*v, *used bytes), 0 truncated (a stream
 * framer asks for more), -EPROTO for a fifth byte or a non-minimal
 * encoding such as 80 00 for 0 [MQTT-1.5.5-1]. */
static inline int rb_varint_dec(const uint8_t *p, size_t len, uint32_t *v, size_t *used)
{
	uint32_t val = 0;

	for (size_t i = 0; i < 4; i++) {
		if (i >= len)
			return 0;
		val |= (uint32_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			if (i && !p[i])
				return -EPROTO;
			*v = val;
			*used = i + 1;
			return 1;
		}
	}
	return -EPROTO;
}

/* Inside a frame a truncated varint is malformed, not "need more". */
static inline uint32_t rb_varint(struct rbuf *r)
{
	uint32_t v;
	size_t used;

	if (r->bad || rb_varint_dec(r->p, rb_left(r), &v, &used) <= 0)
		return rb_fail(r);
	r->p += used;
	return v;
}

/* ---- Kafka / protobuf varints ---- */

/* Unsigned LEB128 of at most max bytes whose value fits bits bits: the
 * last byte may hold only the bits that are left (0x0f for 32, 0x01 for
 * 64), so nothing is silently dropped. */
static inline uint64_t rb_leb128(struct rbuf *r, int max, int bits)
{
	const uint8_t *p = r->p;
	uint64_t v = 0;

	for (int i = 0; i < max; i++) {
		uint8_t b;

		if (r->bad || p + i >= r->end)
			return rb_fail(r);
		b = p[i];
		if (i == max - 1 && (b & 0x80 || b >> (bits - 7 * i)))
			break;
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			r->p = p + i + 1;
			return v;
		}
	}
	return rb_fail(r);
}

static inline uint32_t rb_uvarint32(struct rbuf *r)
{
	return (uint32_t)rb_leb128(r, 5, 32);
}

static inline uint64_t rb_uvarint64(struct rbuf *r)
{
	return rb_leb128(r, 10, 64);
}

/* Zigzag (protobuf sint32/sint64): 0 -> 0, 1 -> -1, 2 -> 1, ... */
static inline int32_t rb_zigzag32(struct rbuf *r)
{
	uint32_t u = rb_uvarint32(r);

	return (int32_t)((u >> 1) ^ (0u - (u & 1)));
}

static inline int64_t rb_zigzag64(struct rbuf *r)
{
	uint64_t u = rb_uvarint64(r);

	return (int64_t)((u >> 1) ^ (0ull - (u & 1)));
}

#endif
