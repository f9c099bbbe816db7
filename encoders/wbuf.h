/* Cursor writer over a caller-owned buffer. Every writer checks room and,
 * when there is none, sets a sticky overflow flag and writes nothing, so an
 * encoder can write a whole frame and check once at the end (wb_result).
 * Writers never touch memory outside [base, end). Offsets from wb_reserve
 * let a field be filled in later (librdkafka's write-then-patch). */
#ifndef BLAST_WBUF_H
#define BLAST_WBUF_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

struct wbuf {
	uint8_t *base, *p, *end;
	bool overflow;
};

static inline void wb_init(struct wbuf *w, uint8_t *buf, size_t cap)
{
	w->base = buf;
	w->p = buf;
	w->end = buf ? buf + cap : buf;
	w->overflow = false;
}

/* Bytes written so far. */
static inline size_t wb_len(const struct wbuf *w)
{
	return (size_t)(w->p - w->base);
}

static inline size_t wb_room(const struct wbuf *w)
{
	return (size_t)(w->end - w->p);
}

/* Claims n bytes; false (and overflow) when they are not there. */
static inline bool wb_claim(struct wbuf *w, size_t n)
{
	if (w->overflow || wb_room(w) < n) {
		w->overflow = true;
		return false;
	}
	return true;
}

/* Bytes written, or -ENOSPC if any write did not fit. */
static inline ssize_t wb_result(const struct wbuf *w)
{
	return w->overflow ? -ENOSPC : (ssize_t)wb_len(w);
}

static inline void wb_u8(struct wbuf *w, uint8_t v)
{
	if (!wb_claim(w, 1))
		return;
	*w->p++ = v;
}

static inline void wb_u16be(struct wbuf *w, uint16_t v)
{
	if (!wb_claim(w, 2))
		return;
	w->p[0] = (uint8_t)(v >> 8);
	w->p[1] = (uint8_t)v;
	w->p += 2;
}

static inline void wb_u32be(struct wbuf *w, uint32_t v)
{
	if (!wb_claim(w, 4))
		return;
	w->p[0] = (uint8_t)(v >> 24);
	w->p[1] = (uint8_t)(v >> 16);
	w->p[2] = (uint8_t)(v >> 8);
	w->p[3] = (uint8_t)v;
	w->p += 4;
}

static inline void wb_u64be(struct wbuf *w, uint64_t v)
{
	if (!wb_claim(w, 8))
		return;
	for (int i = 7; i >= 0; i--) {
		w->p[i] = (uint8_t)v;
		v >>= 8;
	}
	w->p += 8;
}

static inline void wb_bytes(struct wbuf *w, const void *src, size_t n)
{
	if (!wb_claim(w, n) || !n)
		return; /* memcpy and NULL + 0 are undefined even for 0 bytes */
	memcpy(w->p, src, n);
	w->p += n;
}

/* MQTT Variable Byte Integer (MQTT 5 1.5.5, 3.1.1 2.2.3): 7 bits per byte,
 * least significant group first, at most 4 bytes, so at most 268,435,455. */
static inline size_t wb_varint_size(uint32_t v)
{
	return v < 128u ? 1 : v < 16384u ? 2 : v < 2097152u ? 3 : 4;
}

static inline void wb_varint(struct wbuf *w, uint32_t v)
{
	if (v > 268435455u) {
		w->overflow = true; /* unrepresentable: callers check first */
		return;
	}
	if (!wb_claim(w, wb_varint_size(v)))
		return;
	do {
		uint8_t b = v & 0x7f;

		v >>= 7;
		*w->p++ = v ? (uint8_t)(b | 0x80) : b;
	} while (v);
}

/* Unsigned LEB128 varint as Kafka and protobuf use it: up to 10 bytes. */
static inline size_t wb_uvarint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline void wb_uvarint(struct wbuf *w, uint64_t v)
{
	if (!wb_claim(w, wb_uvarint_size(v)))
		return;
	while (v >= 0x80) {
		*w->p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*w->p++ = (uint8_t)v;
}

/* Zigzag maps small negative numbers to small unsigned ones (Kafka record
 * fields: -1 -> 1, 1 -> 2). The shift is done unsigned to stay defined. */
static inline uint64_t wb_zigzag_enc64(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline void wb_zigzag64(struct wbuf *w, int64_t v)
{
	wb_uvarint(w, wb_zigzag_enc64(v));
}

/* Skips n bytes to be patched later; returns their offset. On overflow the
 * offset is still returned but patching it is a no-op. */
static inline size_t wb_reserve(struct wbuf *w, size_t n)
{
	size_t off = wb_len(w);

	if (wb_claim(w, n) && n)
		w->p += n;
	return off;
}

/* Patches only bytes already written or reserved. */
static inline bool wb_patch_ok(const struct wbuf *w, size_t off, size_t n)
{
	return off <= wb_len(w) && n <= wb_len(w) - off;
}

static inline void wb_patch_u8(struct wbuf *w, size_t off, uint8_t v)
{
	if (wb_patch_ok(w, off, 1))
		w->base[off] = v;
}

static inline void wb_patch_u16be(struct wbuf *w, size_t off, uint16_t v)
{
	if (!wb_patch_ok(w, off, 2))
		return;
	w->base[off] = (uint8_t)(v >> 8);
	w->base[off + 1] = (uint8_t)v;
}

static inline void wb_patch_u32be(struct wbuf *w, size_t off, uint32_t v)
{
	if (!wb_patch_ok(w, off, 4))
		return;
	w->base[off] = (uint8_t)(v >> 24);
	w->base[off + 1] = (uint8_t)(v >> 16);
	w->base[off + 2] = (uint8_t)(v >> 8);
	w->base[off + 3] = (uint8_t)v;
}

#endif
