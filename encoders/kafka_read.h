/* Kafka's composite primitive types (Guide, "Protocol Primitive Types"),
 * read through an rbuf: strings, bytes, array counts and tagged fields,
 * in their classic and COMPACT (flexible version) forms. Shared by the
 * response and RecordBatch decoders and the capture parser, so a field
 * means the same thing wherever blast reads it. Errors are rbuf.h's
 * sticky flag; a field that fails after its length may have moved. */
#ifndef BLAST_KAFKA_READ_H
#define BLAST_KAFKA_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rbuf.h"

/* STRING (int16 length), BYTES and RECORDS (int32 length; wide) or their
 * COMPACT forms (unsigned varint of length + 1). Length -1 is null, which
 * only a nullable field may be: NULL then, with r still good. */
static inline const uint8_t *kafka_rd_span(struct rbuf *r, bool flex, bool wide, bool nullable,
					   size_t *n)
{
	const uint8_t *s;
	int64_t len;

	*n = 0;
	if (flex)
		len = (int64_t)rb_uvarint32(r) - 1;
	else
		len = wide ? rb_i32be(r) : rb_i16be(r);
	if (r->bad)
		return NULL;
	if (len < 0) {
		if (len != -1 || !nullable)
			rb_fail(r);
		return NULL;
	}
	s = rb_take(r, (size_t)len);
	*n = s ? (size_t)len : 0;
	return s;
}

/* STRING / NULLABLE_STRING / COMPACT_(NULLABLE_)STRING. */
static inline void kafka_rd_str(struct rbuf *r, bool flex, bool nullable, const char **s,
				size_t *n)
{
	*s = (const char *)kafka_rd_span(r, flex, false, nullable, n);
}

static inline void kafka_rd_skip_str(struct rbuf *r, bool flex, bool nullable)
{
	size_t n;

	kafka_rd_span(r, flex, false, nullable, &n);
}

/* ARRAY / COMPACT_ARRAY count of a non-nullable array whose elements take
 * at least min_elem bytes each: a count the bytes left cannot hold is bad,
 * so no loop over a forged count runs long. */
static inline size_t kafka_rd_array(struct rbuf *r, bool flex, size_t min_elem)
{
	int64_t n;

	if (flex)
		n = (int64_t)rb_uvarint32(r) - 1;
	else
		n = rb_i32be(r);
	if (r->bad)
		return 0;
	if (n < 0 || (uint64_t)n > rb_left(r) / min_elem)
		return rb_fail(r);
	return (size_t)n;
}

/* Skips a tagged-field section (KIP-482): count, then (tag, size, bytes). */
static inline void kafka_rd_tags(struct rbuf *r, bool flex)
{
	uint32_t n;

	if (!flex)
		return;
	n = rb_uvarint32(r);
	if (n > rb_left(r) / 2) {
		rb_fail(r);
		return;
	}
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		rb_uvarint32(r); /* tag */
		rb_skip(r, rb_uvarint32(r));
	}
}

static inline void kafka_rd_skip_i32_array(struct rbuf *r, bool flex)
{
	rb_skip(r, kafka_rd_array(r, flex, 4) * 4);
}

#endif
