/* Kafka producer wire code (contract in kafka.h).
 *
 * "Guide" is kafka.apache.org/protocol ("A Guide To The Kafka Protocol"),
 * "Format" the Message Format section of the Kafka documentation, and
 * "X.json vN" the message definition in apache/kafka
 * clients/src/main/resources/common/message/X.json, which says which
 * fields exist in which version and which versions are flexible.
 *
 * Requests are written through a wbuf and patched (Size, counts, batch
 * header, CRC) in librdkafka's write-then-patch way. Responses are read
 * through a bounded cursor with a sticky error flag: a read past the end
 * marks the cursor bad and returns zeros, so loops stop at the next check
 * and nothing is ever read outside [p, end). Array counts from the wire
 * are checked against the bytes left before any loop runs. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "crc32c.h"
#include "kafka.h"
#include "kafka_wire.h"
#include "wbuf.h"

#define KAFKA_STR_MAX INT16_MAX

bool kafka_is_flexible(int16_t api_key, int16_t version)
{
	switch (api_key) {
	case KAFKA_API_PRODUCE:
	case KAFKA_API_METADATA:
		return version >= 9; /* ProduceRequest.json, MetadataRequest.json: "9+" */
	case KAFKA_API_API_VERSIONS:
		return version >= 3; /* ApiVersionsRequest.json: "3+" */
	default:
		return false;
	}
}

/* ---- writing ---- */

static size_t zz_size(int64_t v)
{
	return wb_uvarint_size(wb_zigzag_enc64(v));
}

/* STRING (int16 length) or COMPACT_STRING (unsigned varint length + 1). */
static void put_str(struct wbuf *w, bool flex, const void *s, size_t n)
{
	if (flex)
		wb_uvarint(w, (uint64_t)n + 1);
	else
		wb_u16be(w, (uint16_t)n);
	wb_bytes(w, s, n);
}

static void put_null_str(struct wbuf *w, bool flex)
{
	if (flex)
		wb_uvarint(w, 0);
	else
		wb_u16be(w, 0xffff);
}

/* ARRAY (int32 count) or COMPACT_ARRAY (unsigned varint count + 1). */
static void put_array_len(struct wbuf *w, bool flex, size_t n)
{
	if (flex)
		wb_uvarint(w, (uint64_t)n + 1);
	else
		wb_u32be(w, (uint32_t)n);
}

/* An empty tagged-field section (Guide, "Tagged Fields", KIP-482). */
static void put_tags(struct wbuf *w, bool flex)
{
	if (flex)
		wb_u8(w, 0);
}

static void patch_u64be(struct wbuf *w, size_t off, uint64_t v)
{
	wb_patch_u32be(w, off, (uint32_t)(v >> 32));
	wb_patch_u32be(w, off + 4, (uint32_t)v);
}

/* Writes the unsigned varint v at dst (room checked by the caller). */
static size_t uvarint_at(uint8_t *dst, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		dst[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	dst[n++] = (uint8_t)v;
	return n;
}

static bool client_id_ok(const char *client_id)
{
	return !client_id || strlen(client_id) <= KAFKA_STR_MAX;
}

/* Size (patched by finish), then request header v1, or v2 with tagged
 * fields for flexible versions (Guide, "Headers"). client_id stays a
 * nullable int16-length STRING in v2 as well. Returns the Size offset. */
static size_t put_request_header(struct wbuf *w, int16_t key, int16_t version, int32_t corr,
				 const char *client_id)
{
	size_t size_off = wb_reserve(w, KAFKA_SIZE_LEN);

	wb_u16be(w, (uint16_t)key);
	wb_u16be(w, (uint16_t)version);
	wb_u32be(w, (uint32_t)corr);
	if (client_id)
		put_str(w, false, client_id, strlen(client_id));
	else
		put_null_str(w, false);
	put_tags(w, kafka_is_flexible(key, version));
	return size_off;
}

static ssize_t finish(struct wbuf *w, size_t size_off)
{
	if (w->overflow)
		return -ENOSPC;
	wb_patch_u32be(w, size_off, (uint32_t)(wb_len(w) - size_off - KAFKA_SIZE_LEN));
	return (ssize_t)wb_len(w);
}

ssize_t kafka_encode_api_versions(uint8_t *out, size_t cap, int16_t version, int32_t corr,
				  const char *client_id, const char *software_version)
{
	struct wbuf w;
	size_t size_off;

	if (version < KAFKA_API_VERSIONS_MIN || version > KAFKA_API_VERSIONS_MAX ||
	    !client_id_ok(client_id) || (version >= 3 && !software_version))
		return -EINVAL;
	wb_init(&w, out, cap);
	size_off = put_request_header(&w, KAFKA_API_API_VERSIONS, version, corr, client_id);
	/* v0-2 have an empty body; v3 names the client (KIP-511; the broker
	 * checks both against [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?). */
	if (version >= 3) {
		put_str(&w, true, KAFKA_CLIENT_SOFTWARE_NAME, strlen(KAFKA_CLIENT_SOFTWARE_NAME));
		put_str(&w, true, software_version, strlen(software_version));
		put_tags(&w, true);
	}
	return finish(&w, size_off);
}

ssize_t kafka_encode_metadata(uint8_t *out, size_t cap, int16_t version, int32_t corr,
			      const char *client_id, const char *const *topics, size_t n)
{
	bool flex = kafka_is_flexible(KAFKA_API_METADATA, version);
	static const uint8_t zero_uuid[16];
	struct wbuf w;
	size_t size_off;

	if (version < KAFKA_METADATA_MIN || version > KAFKA_METADATA_MAX ||
	    !client_id_ok(client_id) || (n && !topics) || n > INT32_MAX - 1)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!topics[i] || strlen(topics[i]) > KAFKA_STR_MAX)
			return -EINVAL;

	wb_init(&w, out, cap);
	size_off = put_request_header(&w, KAFKA_API_METADATA, version, corr, client_id);
	if (!n) {
		/* MetadataRequest.json: from v1 a null array means all topics
		 * (an empty one means none). */
		if (flex)
			wb_uvarint(&w, 0);
		else
			wb_u32be(&w, UINT32_MAX);
	} else {
		put_array_len(&w, flex, n);
		for (size_t i = 0; i < n; i++) {
			if (version >= 10)
				wb_bytes(&w, zero_uuid, sizeof(zero_uuid)); /* by name */
			put_str(&w, flex, topics[i], strlen(topics[i]));
			put_tags(&w, flex);
		}
	}
	if (version >= 4)
		wb_u8(&w, 0); /* AllowAutoTopicCreation: a load test must not create topics */
	if (version >= 8 && version <= 10)
		wb_u8(&w, 0); /* IncludeClusterAuthorizedOperations (8-10) */
	if (version >= 8)
		wb_u8(&w, 0); /* IncludeTopicAuthorizedOperations */
	put_tags(&w, flex);
	return finish(&w, size_off);
}

/* ---- Produce ---- */

static int produce_fail(struct kafka_produce *p, int err)
{
	if (!p->err)
		p->err = err;
	return p->err;
}

static int produce_check(struct kafka_produce *p)
{
	if (p->w.overflow)
		return produce_fail(p, -ENOSPC);
	return p->err;
}

/* A partition is open while records_size_off != 0 and a batch while
 * batch_off != 0: neither can be 0, the Size sits there. */
static bool partition_open(const struct kafka_produce *p)
{
	return p->records_size_off != 0;
}

static bool batch_open(const struct kafka_produce *p)
{
	return p->batch_off != 0;
}

/* The records length is an int32 (non-flexible) or an unsigned varint of
 * length + 1 (COMPACT_RECORDS, v9). The varint's size is known only when
 * the batch is done, so it gets the most it can need and batch_end moves
 * the batch down over the unused bytes. */
static size_t records_len_reserve(const struct kafka_produce *p)
{
	return p->flexible ? KAFKA_VARINT_MAX : 4;
}

int kafka_produce_begin(struct kafka_produce *p, uint8_t *out, size_t cap, int16_t version,
			int32_t corr, const char *client_id, int16_t acks, int32_t timeout_ms,
			const char *topic, size_t topic_len)
{
	if (!p)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	wb_init(&p->w, out, cap);
	p->version = version;
	p->flexible = kafka_is_flexible(KAFKA_API_PRODUCE, version);
	/* Guide, Produce: acks 0, 1 or -1 (all in-sync replicas). */
	if (version < KAFKA_PRODUCE_MIN || version > KAFKA_PRODUCE_MAX || !client_id_ok(client_id) ||
	    acks < -1 || acks > 1 || timeout_ms < 0 || !topic || !topic_len ||
	    topic_len > KAFKA_STR_MAX)
		return produce_fail(p, -EINVAL);

	p->size_off = put_request_header(&p->w, KAFKA_API_PRODUCE, version, corr, client_id);
	put_null_str(&p->w, p->flexible); /* TransactionalId: not transactional */
	wb_u16be(&p->w, (uint16_t)acks);
	wb_u32be(&p->w, (uint32_t)timeout_ms);
	put_array_len(&p->w, p->flexible, 1); /* one topic */
	put_str(&p->w, p->flexible, topic, topic_len);
	/* Partition count: an int32, or one varint byte (up to 126
	 * partitions; produce_end makes room if there are more). */
	p->nparts_off = wb_reserve(&p->w, p->flexible ? 1 : 4);
	return produce_check(p);
}

int kafka_produce_partition_begin(struct kafka_produce *p, int32_t partition)
{
	if (!p)
		return -EINVAL;
	if (p->err)
		return p->err;
	if (partition_open(p) || partition < 0 || p->n_parts >= INT32_MAX - 1)
		return produce_fail(p, -EINVAL);
	wb_u32be(&p->w, (uint32_t)partition);
	p->records_size_off = wb_reserve(&p->w, records_len_reserve(p));
	return produce_check(p);
}

int kafka_batch_begin(struct kafka_produce *p, int64_t first_timestamp_ms, uint8_t compression,
		      uint8_t *scratch, size_t scratch_cap)
{
	struct wbuf *w;

	if (!p)
		return -EINVAL;
	if (p->err)
		return p->err;
	if (!partition_open(p) || batch_open(p) ||
	    (compression != KAFKA_COMPRESSION_NONE && compression != KAFKA_COMPRESSION_GZIP) ||
	    (compression == KAFKA_COMPRESSION_GZIP && !scratch))
		return produce_fail(p, -EINVAL);
	w = &p->w;
	p->batch_off = wb_len(w);
	p->compression = compression;
	p->scratch = scratch;
	p->scratch_cap = scratch_cap;
	p->first_ts = first_timestamp_ms;
	p->max_ts = first_timestamp_ms;
	p->n_records = 0;
	/* Format, "Record Batch": the fields patched by batch_end are written
	 * as zeros here. Not idempotent: producerId, producerEpoch and
	 * baseSequence are -1. */
	wb_u64be(w, 0);                       /* baseOffset */
	wb_u32be(w, 0);                       /* batchLength */
	wb_u32be(w, UINT32_MAX);              /* partitionLeaderEpoch -1 */
	wb_u8(w, KAFKA_MAGIC_V2);             /* magic */
	wb_u32be(w, 0);                       /* crc */
	wb_u16be(w, compression);             /* attributes: CreateTime */
	wb_u32be(w, 0);                       /* lastOffsetDelta */
	wb_u64be(w, (uint64_t)first_timestamp_ms); /* baseTimestamp */
	wb_u64be(w, (uint64_t)first_timestamp_ms); /* maxTimestamp */
	wb_u64be(w, UINT64_MAX);              /* producerId -1 */
	wb_u16be(w, 0xffff);                  /* producerEpoch -1 */
	wb_u32be(w, UINT32_MAX);              /* baseSequence -1 */
	wb_u32be(w, 0);                       /* records count */
	p->records_off = wb_len(w);
	return produce_check(p);
}

static bool headers_ok(const struct kafka_header *h, size_t n)
{
	if (n > INT32_MAX || (n && !h))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((!h[i].key && h[i].key_len) || h[i].key_len > INT32_MAX ||
		    (h[i].value && h[i].value_len > INT32_MAX) || (!h[i].value && h[i].value_len))
			return false;
	return true;
}

/* Varint length then the bytes, -1 for null (Format, "Record"). */
static size_t field_size(const void *s, size_t n)
{
	return s ? zz_size((int64_t)n) + n : 1;
}

static void put_field(struct wbuf *w, const void *s, size_t n)
{
	if (!s) {
		wb_zigzag64(w, -1);
		return;
	}
	wb_zigzag64(w, (int64_t)n);
	wb_bytes(w, s, n);
}

int kafka_batch_add(struct kafka_produce *p, int64_t timestamp_ms, const uint8_t *key,
		    size_t key_len, const uint8_t *value, size_t value_len,
		    const struct kafka_header *headers, size_t n_headers)
{
	struct wbuf *w;
	int64_t ts_delta;
	size_t body;

	if (!p)
		return -EINVAL;
	if (p->err)
		return p->err;
	if (!batch_open(p) || key_len > INT32_MAX || value_len > INT32_MAX ||
	    (!key && key_len) || (!value && value_len) || !headers_ok(headers, n_headers) ||
	    p->n_records == INT32_MAX)
		return produce_fail(p, -EINVAL);
	/* Wraps like Java's long arithmetic instead of overflowing. */
	ts_delta = (int64_t)((uint64_t)timestamp_ms - (uint64_t)p->first_ts);

	body = 1 + zz_size(ts_delta) + zz_size(p->n_records) + field_size(key, key_len) +
	       field_size(value, value_len) + zz_size((int64_t)n_headers);
	for (size_t i = 0; i < n_headers; i++)
		body += field_size(headers[i].key ? headers[i].key : "", headers[i].key_len) +
			field_size(headers[i].value, headers[i].value_len);
	if (body > INT32_MAX)
		return produce_fail(p, -EINVAL);

	w = &p->w;
	wb_zigzag64(w, (int64_t)body); /* length */
	wb_u8(w, 0);                   /* attributes: unused */
	wb_zigzag64(w, ts_delta);      /* timestampDelta (varlong) */
	wb_zigzag64(w, p->n_records);  /* offsetDelta */
	put_field(w, key, key_len);
	put_field(w, value, value_len);
	wb_zigzag64(w, (int64_t)n_headers);
	for (size_t i = 0; i < n_headers; i++) {
		/* Header keys are never null: an empty key is "". */
		put_field(w, headers[i].key ? headers[i].key : "", headers[i].key_len);
		put_field(w, headers[i].value, headers[i].value_len);
	}
	if (w->overflow)
		return produce_fail(p, -ENOSPC);
	p->n_records++;
	if (timestamp_ms > p->max_ts)
		p->max_ts = timestamp_ms;
	return 0;
}

size_t kafka_gzip_bound(size_t records_len)
{
	/* zlib's compressBound() covers the zlib wrapper (6 bytes); the gzip
	 * wrapper (RFC 1952) takes 18, so 12 more. */
	return (size_t)compressBound((uLong)records_len) + 12;
}

/* Compresses the records section in place through the scratch buffer. */
static int gzip_records(struct kafka_produce *p)
{
	struct wbuf *w = &p->w;
	size_t raw_len = wb_len(w) - p->records_off;
	size_t out_cap = p->scratch_cap < UINT_MAX ? p->scratch_cap : UINT_MAX;
	z_stream zs;
	size_t clen;
	int rc;

	if (raw_len > UINT_MAX)
		return -EINVAL;
	memset(&zs, 0, sizeof(zs));
	/* 15 window bits + 16: a gzip wrapper, what Kafka's GZIPOutputStream
	 * and librdkafka write for compression type 1. */
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -ENOMEM;
	zs.next_in = w->base + p->records_off;
	zs.avail_in = (uInt)raw_len;
	zs.next_out = p->scratch;
	zs.avail_out = (uInt)out_cap;
	rc = deflate(&zs, Z_FINISH);
	clen = zs.total_out;
	deflateEnd(&zs);
	if (rc != Z_STREAM_END)
		return rc == Z_OK || rc == Z_BUF_ERROR ? -ENOSPC : -EINVAL;
	if (clen > raw_len && clen - raw_len > wb_room(w))
		return -ENOSPC;
	memcpy(w->base + p->records_off, p->scratch, clen);
	w->p = w->base + p->records_off + clen;
	return 0;
}

int kafka_batch_end(struct kafka_produce *p)
{
	struct wbuf *w;
	size_t batch_len;
	uint32_t crc;

	if (!p)
		return -EINVAL;
	if (p->err)
		return p->err;
	/* An empty batch is not a batch: brokers reject it. */
	if (!batch_open(p) || !p->n_records)
		return produce_fail(p, -EINVAL);
	w = &p->w;
	if (p->compression == KAFKA_COMPRESSION_GZIP) {
		int err = gzip_records(p);

		if (err)
			return produce_fail(p, err);
	}
	batch_len = wb_len(w) - p->batch_off;
	if (batch_len > INT32_MAX - 1)
		return produce_fail(p, -EINVAL);

	wb_patch_u32be(w, p->batch_off + KAFKA_BATCH_OF_LENGTH,
		       (uint32_t)(batch_len - KAFKA_BATCH_LENGTH_OVERHEAD));
	wb_patch_u32be(w, p->batch_off + KAFKA_BATCH_OF_LAST_OFFSET_DELTA,
		       (uint32_t)(p->n_records - 1));
	patch_u64be(w, p->batch_off + KAFKA_BATCH_OF_MAX_TIMESTAMP, (uint64_t)p->max_ts);
	wb_patch_u32be(w, p->batch_off + KAFKA_BATCH_OF_RECORD_COUNT, (uint32_t)p->n_records);
	/* Format: the CRC covers attributes to the end of the batch, so the
	 * fields before it (and the move below) do not change it. */
	crc = crc32c(0, w->base + p->batch_off + KAFKA_BATCH_OF_ATTRIBUTES,
		     batch_len - KAFKA_BATCH_OF_ATTRIBUTES);
	wb_patch_u32be(w, p->batch_off + KAFKA_BATCH_OF_CRC, crc);

	if (p->flexible) {
		size_t k = wb_uvarint_size((uint64_t)batch_len + 1);
		uint8_t *dst = w->base + p->records_size_off;

		uvarint_at(dst, (uint64_t)batch_len + 1);
		memmove(dst + k, w->base + p->batch_off, batch_len);
		w->p -= KAFKA_VARINT_MAX - k;
	} else {
		wb_patch_u32be(w, p->records_size_off, (uint32_t)batch_len);
	}
	put_tags(w, p->flexible); /* partition */
	p->n_parts++;
	p->records_size_off = 0;
	p->batch_off = 0;
	p->records_off = 0;
	return produce_check(p);
}

ssize_t kafka_produce_end(struct kafka_produce *p)
{
	struct wbuf *w;

	if (!p)
		return -EINVAL;
	if (p->err)
		return p->err;
	if (partition_open(p))
		return produce_fail(p, -EINVAL);
	w = &p->w;
	put_tags(w, p->flexible); /* topic */
	put_tags(w, p->flexible); /* request */
	if (w->overflow)
		return produce_fail(p, -ENOSPC);
	if (p->flexible) {
		size_t k = wb_uvarint_size((uint64_t)p->n_parts + 1);
		uint8_t *at = w->base + p->nparts_off;

		if (k > 1) {
			size_t tail = wb_len(w) - p->nparts_off - 1;

			if (!wb_claim(w, k - 1))
				return produce_fail(p, -ENOSPC);
			memmove(at + k, at + 1, tail);
			w->p += k - 1;
		}
		uvarint_at(at, (uint64_t)p->n_parts + 1);
	} else {
		wb_patch_u32be(w, p->nparts_off, p->n_parts);
	}
	return finish(w, p->size_off);
}

size_t kafka_record_size_max(size_t key_len, size_t value_len, const struct kafka_header *h,
			     size_t n_headers)
{
	/* length, attributes, timestampDelta, offsetDelta, key, value,
	 * header count: every varint at its widest. */
	size_t n = KAFKA_VARINT_MAX + 1 + KAFKA_VARLONG_MAX + KAFKA_VARINT_MAX +
		   KAFKA_VARINT_MAX + key_len + KAFKA_VARINT_MAX + value_len + KAFKA_VARINT_MAX;

	for (size_t i = 0; h && i < n_headers; i++)
		n += KAFKA_VARINT_MAX + h[i].key_len + KAFKA_VARINT_MAX + h[i].value_len;
	return n;
}

/* ---- reading ---- */

struct rd {
	const uint8_t *p, *end;
	bool bad;
};

static void rd_init(struct rd *r, const uint8_t *buf, size_t len)
{
	r->p = buf;
	r->end = buf ? buf + len : buf; /* NULL + 0 is undefined */
	r->bad = false;
}

static size_t rd_left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}

static bool rd_need(struct rd *r, size_t n)
{
	if (r->bad || rd_left(r) < n) {
		r->bad = true;
		return false;
	}
	return true;
}

static const uint8_t *rd_take(struct rd *r, size_t n)
{
	const uint8_t *s;

	if (!rd_need(r, n))
		return NULL;
	s = r->p;
	r->p += n;
	return s;
}

static uint8_t rd_u8(struct rd *r)
{
	return rd_need(r, 1) ? *r->p++ : 0;
}

static int16_t rd_i16(struct rd *r)
{
	uint16_t v;

	if (!rd_need(r, 2))
		return 0;
	v = (uint16_t)(r->p[0] << 8 | r->p[1]);
	r->p += 2;
	return (int16_t)v;
}

static int32_t rd_i32(struct rd *r)
{
	uint32_t v;

	if (!rd_need(r, 4))
		return 0;
	v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	return (int32_t)v;
}

static int64_t rd_i64(struct rd *r)
{
	uint64_t hi = (uint32_t)rd_i32(r);
	uint64_t lo = (uint32_t)rd_i32(r);

	return (int64_t)(hi << 32 | lo);
}

/* Unsigned LEB128 of at most max bytes whose value fits max * 7 bits
 * trimmed to 32 (max 5) or 64 (max 10) bits, as Java's ByteUtils reads it;
 * longer encodings are malformed. */
static uint64_t rd_uvarint(struct rd *r, int max)
{
	uint64_t v = 0;

	for (int i = 0; i < max; i++) {
		uint8_t b = rd_u8(r);

		if (r->bad)
			return 0;
		if (i == max - 1 && (b & 0x80 || (max == KAFKA_VARINT_MAX && b > 0x0f) ||
				     (max == KAFKA_VARLONG_MAX && b > 0x01)))
			break;
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

static uint32_t rd_uvarint32(struct rd *r)
{
	return (uint32_t)rd_uvarint(r, KAFKA_VARINT_MAX);
}

/* Zigzag varint / varlong (Guide, "VARINT", "VARLONG"). */
static int32_t rd_varint(struct rd *r)
{
	uint32_t u = rd_uvarint32(r);

	return (int32_t)((u >> 1) ^ (0u - (u & 1)));
}

static int64_t rd_varlong(struct rd *r)
{
	uint64_t u = rd_uvarint(r, KAFKA_VARLONG_MAX);

	return (int64_t)((u >> 1) ^ (0ull - (u & 1)));
}

/* STRING / NULLABLE_STRING / COMPACT_(NULLABLE_)STRING. *s = NULL for a
 * null string, which only nullable fields may hold. */
static void rd_str(struct rd *r, bool flex, bool nullable, const char **s, size_t *n)
{
	int64_t len;

	*s = NULL;
	*n = 0;
	if (flex)
		len = (int64_t)rd_uvarint32(r) - 1;
	else
		len = rd_i16(r);
	if (r->bad)
		return;
	if (len < 0) {
		if (len != -1 || !nullable)
			r->bad = true;
		return;
	}
	*s = (const char *)rd_take(r, (size_t)len);
	*n = *s ? (size_t)len : 0;
}

static void rd_skip_str(struct rd *r, bool flex, bool nullable)
{
	const char *s;
	size_t n;

	rd_str(r, flex, nullable, &s, &n);
}

/* ARRAY / COMPACT_ARRAY count of a non-nullable array whose elements
 * take at least min_elem bytes each; more than the bytes left is bad. */
static size_t rd_array(struct rd *r, bool flex, size_t min_elem)
{
	int64_t n;

	if (flex)
		n = (int64_t)rd_uvarint32(r) - 1;
	else
		n = rd_i32(r);
	if (r->bad)
		return 0;
	if (n < 0 || (uint64_t)n > rd_left(r) / min_elem) {
		r->bad = true;
		return 0;
	}
	return (size_t)n;
}

/* Skips a tagged-field section: count, then (tag, size, bytes) each. */
static void rd_tags(struct rd *r, bool flex)
{
	uint32_t n;

	if (!flex)
		return;
	n = rd_uvarint32(r);
	if (n > rd_left(r) / 2) {
		r->bad = true;
		return;
	}
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		rd_uvarint32(r); /* tag */
		rd_take(r, rd_uvarint32(r));
	}
}

static void rd_skip_i32_array(struct rd *r, bool flex)
{
	size_t n = rd_array(r, flex, 4);

	rd_take(r, n * 4);
}

/* All of it read, nothing left over. */
static int rd_done(const struct rd *r)
{
	return r->bad || r->p != r->end ? -EPROTO : 0;
}

/* ---- framing and headers ---- */

ssize_t kafka_frame_total(const uint8_t *buf, size_t len, size_t max)
{
	int32_t size;

	if (len < KAFKA_SIZE_LEN)
		return 0;
	size = (int32_t)((uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 |
			 buf[3]);
	/* Every response holds at least its correlation id. */
	if (size < 4)
		return -EPROTO;
	if (max && (size_t)size + KAFKA_SIZE_LEN > max)
		return -EMSGSIZE;
	return (ssize_t)size + KAFKA_SIZE_LEN;
}

/* Response header v0 (correlation id) or v1 (+ tagged fields). The frame
 * starts with its Size, as kafka_frame_total measured it. */
int kafka_parse_response_header(const uint8_t *frame, size_t len, bool flexible, int32_t *corr,
				const uint8_t **body, size_t *body_len)
{
	struct rd r;
	int32_t size, c;

	rd_init(&r, frame, len);
	size = rd_i32(&r);
	c = rd_i32(&r);
	rd_tags(&r, flexible);
	if (r.bad || size < 0 || (size_t)size != len - KAFKA_SIZE_LEN)
		return -EPROTO;
	if (corr)
		*corr = c;
	if (body)
		*body = r.p;
	if (body_len)
		*body_len = rd_left(&r);
	return 0;
}

/* ---- ApiVersions ---- */

/* ApiVersionsResponse.json: ErrorCode, ApiKeys [ApiKey, MinVersion,
 * MaxVersion], ThrottleTimeMs (v1+); flexible from v3. */
static int api_versions_at(const uint8_t *body, size_t len, int16_t version, int16_t *error,
			   struct kafka_api_range *out, size_t cap, size_t *n)
{
	bool flex = version >= 3;
	struct rd r;
	size_t cnt;
	int16_t err;

	rd_init(&r, body, len);
	err = rd_i16(&r);
	cnt = rd_array(&r, flex, flex ? 7 : 6);
	for (size_t i = 0; i < cnt && !r.bad; i++) {
		struct kafka_api_range a;

		a.key = rd_i16(&r);
		a.min = rd_i16(&r);
		a.max = rd_i16(&r);
		rd_tags(&r, flex);
		if (i < cap && out)
			out[i] = a;
	}
	if (version >= 1)
		rd_i32(&r); /* ThrottleTimeMs */
	rd_tags(&r, flex);
	if (rd_done(&r))
		return -EPROTO;
	*error = err;
	*n = cnt;
	return 0;
}

int kafka_parse_api_versions(const uint8_t *body, size_t len, int16_t version, int16_t *error,
			     struct kafka_api_range *out, size_t cap, size_t *n)
{
	int16_t err = 0, dummy_err;
	size_t dummy_n;

	if (version < KAFKA_API_VERSIONS_MIN || version > KAFKA_API_VERSIONS_MAX)
		return -EINVAL;
	if (!error)
		error = &dummy_err;
	if (!n)
		n = &dummy_n;
	if (len >= 2)
		err = (int16_t)(body[0] << 8 | body[1]);
	if (err != KAFKA_ERR_UNSUPPORTED_VERSION)
		return api_versions_at(body, len, version, error, out, cap, n);
	/* A broker that does not know the request's version answers in v0
	 * (KIP-511; Java's ApiVersionsResponse.parse falls back the same
	 * way). librdkafka's mock instead answers a v3 request in its own
	 * flexible shape. Either way the error code alone is the answer:
	 * retry with a lower version. */
	if (!api_versions_at(body, len, 0, error, out, cap, n) ||
	    !api_versions_at(body, len, version, error, out, cap, n))
		return 0;
	*error = err;
	*n = 0;
	return 0;
}

int16_t kafka_pick_version(const struct kafka_api_range *r, size_t n, int16_t key, int16_t our_min,
			   int16_t our_max)
{
	for (size_t i = 0; r && i < n; i++) {
		int16_t lo, hi;

		if (r[i].key != key)
			continue;
		lo = r[i].min > our_min ? r[i].min : our_min;
		hi = r[i].max < our_max ? r[i].max : our_max;
		return lo <= hi ? hi : -1;
	}
	return -1;
}

/* ---- Metadata ---- */

int kafka_parse_metadata(const uint8_t *body, size_t len, int16_t version,
			 const struct kafka_md_cb *cb)
{
	bool flex = kafka_is_flexible(KAFKA_API_METADATA, version);
	struct rd r;
	size_t n;

	if (version < 0 || version > KAFKA_METADATA_MAX)
		return -EINVAL;
	rd_init(&r, body, len);
	if (version >= 3)
		rd_i32(&r); /* ThrottleTimeMs */

	n = rd_array(&r, flex, 10); /* NodeId, Host, Port at least */
	for (size_t i = 0; i < n && !r.bad; i++) {
		const char *host;
		size_t host_len;
		int32_t node, port;

		node = rd_i32(&r);
		rd_str(&r, flex, false, &host, &host_len);
		port = rd_i32(&r);
		if (version >= 1)
			rd_skip_str(&r, flex, true); /* Rack */
		rd_tags(&r, flex);
		if (!r.bad && cb && cb->broker) {
			int ret = cb->broker(cb->ctx, node, host, host_len, port);

			if (ret < 0)
				return ret;
		}
	}
	if (version >= 2)
		rd_skip_str(&r, flex, true); /* ClusterId */
	if (version >= 1)
		rd_i32(&r); /* ControllerId */

	n = rd_array(&r, flex, 4);
	for (size_t i = 0; i < n && !r.bad; i++) {
		const char *topic;
		size_t topic_len, np;
		int16_t terr;

		terr = rd_i16(&r);
		/* Null only when asked for by id (v12+). */
		rd_str(&r, flex, version >= 12, &topic, &topic_len);
		if (version >= 10)
			rd_take(&r, 16); /* TopicId */
		if (version >= 1)
			rd_u8(&r); /* IsInternal */
		np = rd_array(&r, flex, 10);
		for (size_t j = 0; j < np && !r.bad; j++) {
			int16_t perr = rd_i16(&r);
			int32_t part = rd_i32(&r);
			int32_t leader = rd_i32(&r);

			if (version >= 7)
				rd_i32(&r); /* LeaderEpoch */
			rd_skip_i32_array(&r, flex); /* ReplicaNodes */
			rd_skip_i32_array(&r, flex); /* IsrNodes */
			if (version >= 5)
				rd_skip_i32_array(&r, flex); /* OfflineReplicas */
			rd_tags(&r, flex);
			if (!r.bad && cb && cb->partition) {
				int ret = cb->partition(cb->ctx, topic, topic_len, terr, part, perr,
							leader);

				if (ret < 0)
					return ret;
			}
		}
		if (version >= 8)
			rd_i32(&r); /* TopicAuthorizedOperations */
		rd_tags(&r, flex);
		if (!r.bad && !np && terr && cb && cb->partition) {
			int ret = cb->partition(cb->ctx, topic, topic_len, terr, -1, terr, -1);

			if (ret < 0)
				return ret;
		}
	}
	if (version >= 8 && version <= 10)
		rd_i32(&r); /* ClusterAuthorizedOperations */
	rd_tags(&r, flex);
	return rd_done(&r);
}

/* ---- Produce response ---- */

int kafka_parse_produce(const uint8_t *body, size_t len, int16_t version, kafka_produce_cb cb,
			void *ctx)
{
	bool flex = kafka_is_flexible(KAFKA_API_PRODUCE, version);
	struct rd r;
	size_t nt;

	if (version < 0 || version > KAFKA_PRODUCE_MAX)
		return -EINVAL;
	rd_init(&r, body, len);
	nt = rd_array(&r, flex, 3); /* name, partitions, tags */
	for (size_t i = 0; i < nt && !r.bad; i++) {
		const char *topic;
		size_t topic_len, np;

		rd_str(&r, flex, false, &topic, &topic_len);
		np = rd_array(&r, flex, 14);
		for (size_t j = 0; j < np && !r.bad; j++) {
			int32_t part = rd_i32(&r);
			int16_t err = rd_i16(&r);
			int64_t base = rd_i64(&r);

			if (version >= 2)
				rd_i64(&r); /* LogAppendTimeMs */
			if (version >= 5)
				rd_i64(&r); /* LogStartOffset */
			if (version >= 8) {
				size_t ne = rd_array(&r, flex, 5); /* RecordErrors */

				for (size_t k = 0; k < ne && !r.bad; k++) {
					rd_i32(&r); /* BatchIndex */
					rd_skip_str(&r, flex, true);
					rd_tags(&r, flex);
				}
				rd_skip_str(&r, flex, true); /* ErrorMessage */
			}
			rd_tags(&r, flex); /* v10+ CurrentLeader lives here */
			if (!r.bad && cb) {
				int ret = cb(ctx, topic, topic_len, part, err, base);

				if (ret < 0)
					return ret;
			}
		}
		rd_tags(&r, flex);
	}
	if (version >= 1)
		rd_i32(&r); /* ThrottleTimeMs */
	rd_tags(&r, flex); /* v10+ NodeEndpoints */
	return rd_done(&r);
}

/* ---- RecordBatch v2 ---- */

static int gunzip(const uint8_t *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len)
{
	z_stream zs;
	int rc;

	if (!out || in_len > UINT_MAX)
		return -ENOSPC;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK) /* gzip wrapper only */
		return -ENOMEM;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)in_len;
	zs.next_out = out;
	zs.avail_out = cap < UINT_MAX ? (uInt)cap : UINT_MAX;
	rc = inflate(&zs, Z_FINISH);
	*out_len = zs.total_out;
	if (rc == Z_STREAM_END && zs.avail_in) {
		rc = Z_DATA_ERROR; /* bytes after the gzip member */
	} else if (rc == Z_BUF_ERROR && !zs.avail_out) {
		inflateEnd(&zs);
		return -ENOSPC;
	}
	inflateEnd(&zs);
	return rc == Z_STREAM_END ? 0 : -EPROTO;
}

/* One record (Format, "Record"), the length varint already read. */
static int parse_record(struct rd *rec, struct kafka_record_view *v)
{
	size_t pos = 0, seen = 0;
	struct kafka_header h;
	int32_t klen, vlen, nh;
	int ret;

	rd_u8(rec); /* attributes: unused */
	v->timestamp_delta = rd_varlong(rec);
	v->offset_delta = rd_varint(rec);
	klen = rd_varint(rec);
	if (klen < -1)
		return -EPROTO;
	v->key = klen >= 0 ? rd_take(rec, (size_t)klen) : NULL;
	v->key_len = klen > 0 ? (size_t)klen : 0;
	vlen = rd_varint(rec);
	if (vlen < -1)
		return -EPROTO;
	v->value = vlen >= 0 ? rd_take(rec, (size_t)vlen) : NULL;
	v->value_len = vlen > 0 ? (size_t)vlen : 0;
	nh = rd_varint(rec);
	if (rec->bad || nh < 0 || (size_t)nh > rd_left(rec) / 2)
		return -EPROTO;
	v->n_headers = (size_t)nh;
	v->headers = rec->p;
	v->headers_len = rd_left(rec);
	/* The headers are the rest of the record, and must be exactly nh. */
	while ((ret = kafka_next_header(v, &pos, &h)) == 1)
		seen++;
	if (ret < 0 || seen != v->n_headers)
		return -EPROTO;
	return 0;
}

int kafka_parse_record_batch(const uint8_t *buf, size_t len, uint8_t *scratch, size_t scratch_cap,
			     int (*cb)(void *ctx, const struct kafka_record_view *r), void *ctx,
			     size_t *consumed)
{
	const uint8_t *recs;
	size_t total, recs_len;
	int32_t blen, count;
	uint32_t crc;
	int16_t attr;
	struct rd r;

	rd_init(&r, buf, len);
	rd_i64(&r); /* baseOffset */
	blen = rd_i32(&r);
	if (r.bad || blen < KAFKA_BATCH_HEADER_SIZE - KAFKA_BATCH_LENGTH_OVERHEAD ||
	    (size_t)blen > len - KAFKA_BATCH_LENGTH_OVERHEAD)
		return -EPROTO;
	total = (size_t)blen + KAFKA_BATCH_LENGTH_OVERHEAD;
	rd_init(&r, buf, total);
	r.p += KAFKA_BATCH_OF_LEADER_EPOCH + 4;
	if (rd_u8(&r) != KAFKA_MAGIC_V2)
		return -EPROTO;
	crc = (uint32_t)rd_i32(&r);
	if (crc != crc32c(0, buf + KAFKA_BATCH_OF_ATTRIBUTES, total - KAFKA_BATCH_OF_ATTRIBUTES))
		return -EPROTO;
	attr = rd_i16(&r);
	r.p = buf + KAFKA_BATCH_OF_RECORD_COUNT;
	count = rd_i32(&r);
	recs = r.p;
	recs_len = rd_left(&r);
	if (count < 0)
		return -EPROTO;

	switch (attr & KAFKA_ATTR_COMPRESSION_MASK) {
	case KAFKA_COMPRESSION_NONE:
		break;
	case KAFKA_COMPRESSION_GZIP: {
		int err = gunzip(recs, recs_len, scratch, scratch_cap, &recs_len);

		if (err)
			return err;
		recs = scratch;
		break;
	}
	default:
		return -EOPNOTSUPP; /* snappy, lz4, zstd: well formed, not ours */
	}

	/* Seven bytes is the smallest record: a count above that is a lie. */
	if ((size_t)count > recs_len / 7)
		return -EPROTO;
	rd_init(&r, recs, recs_len);
	for (int32_t i = 0; i < count; i++) {
		struct kafka_record_view v;
		struct rd rec;
		int32_t rlen = rd_varint(&r);
		const uint8_t *rp;
		int ret;

		if (r.bad || rlen < 0 || !(rp = rd_take(&r, (size_t)rlen)))
			return -EPROTO;
		rd_init(&rec, rp, (size_t)rlen);
		if (parse_record(&rec, &v) || rec.bad)
			return -EPROTO;
		if (cb && (ret = cb(ctx, &v)) < 0)
			return ret;
	}
	if (rd_done(&r))
		return -EPROTO;
	if (consumed)
		*consumed = total;
	return 0;
}

int kafka_next_header(const struct kafka_record_view *v, size_t *pos, struct kafka_header *h)
{
	int32_t klen, vlen;
	struct rd r;

	if (!v || !pos || *pos > v->headers_len || (!v->headers && v->headers_len))
		return -EPROTO;
	if (*pos == v->headers_len)
		return 0;
	rd_init(&r, v->headers + *pos, v->headers_len - *pos);
	klen = rd_varint(&r);
	if (klen < 0)
		return -EPROTO; /* header keys are never null */
	h->key = (const char *)rd_take(&r, (size_t)klen);
	h->key_len = (size_t)klen;
	vlen = rd_varint(&r);
	if (vlen < -1)
		return -EPROTO;
	h->value = vlen >= 0 ? rd_take(&r, (size_t)vlen) : NULL;
	h->value_len = vlen > 0 ? (size_t)vlen : 0;
	if (r.bad)
		return -EPROTO;
	*pos = (size_t)(r.p - v->headers);
	return 1;
}

/* ---- errors ---- */

struct kafka_err_info {
	const char *name;
	bool retriable; /* Guide, "Error Codes", Retriable column */
};

/* Guide, "Error Codes", with the names of Java's Errors enum. Retriable is
 * true where the Java exception is a RetriableException. */
static const struct kafka_err_info err_table[KAFKA_ERR_MAX_KNOWN + 2] = {
#define E(code, n, r) [(code) + 1] = { n, r }
	E(-1, "UNKNOWN_SERVER_ERROR", false),
	E(0, "NONE", false),
	E(1, "OFFSET_OUT_OF_RANGE", false),
	E(2, "CORRUPT_MESSAGE", true),
	E(3, "UNKNOWN_TOPIC_OR_PARTITION", true),
	E(4, "INVALID_FETCH_SIZE", false),
	E(5, "LEADER_NOT_AVAILABLE", true),
	E(6, "NOT_LEADER_OR_FOLLOWER", true),
	E(7, "REQUEST_TIMED_OUT", true),
	E(8, "BROKER_NOT_AVAILABLE", false),
	E(9, "REPLICA_NOT_AVAILABLE", true),
	E(10, "MESSAGE_TOO_LARGE", false),
	E(11, "STALE_CONTROLLER_EPOCH", false),
	E(12, "OFFSET_METADATA_TOO_LARGE", false),
	E(13, "NETWORK_EXCEPTION", true),
	E(14, "COORDINATOR_LOAD_IN_PROGRESS", true),
	E(15, "COORDINATOR_NOT_AVAILABLE", true),
	E(16, "NOT_COORDINATOR", true),
	E(17, "INVALID_TOPIC_EXCEPTION", false),
	E(18, "RECORD_LIST_TOO_LARGE", false),
	E(19, "NOT_ENOUGH_REPLICAS", true),
	E(20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", true),
	E(21, "INVALID_REQUIRED_ACKS", false),
	E(22, "ILLEGAL_GENERATION", false),
	E(23, "INCONSISTENT_GROUP_PROTOCOL", false),
	E(24, "INVALID_GROUP_ID", false),
	E(25, "UNKNOWN_MEMBER_ID", false),
	E(26, "INVALID_SESSION_TIMEOUT", false),
	E(27, "REBALANCE_IN_PROGRESS", false),
	E(28, "INVALID_COMMIT_OFFSET_SIZE", false),
	E(29, "TOPIC_AUTHORIZATION_FAILED", false),
	E(30, "GROUP_AUTHORIZATION_FAILED", false),
	E(31, "CLUSTER_AUTHORIZATION_FAILED", false),
	E(32, "INVALID_TIMESTAMP", false),
	E(33, "UNSUPPORTED_SASL_MECHANISM", false),
	E(34, "ILLEGAL_SASL_STATE", false),
	E(35, "UNSUPPORTED_VERSION", false),
	E(36, "TOPIC_ALREADY_EXISTS", false),
	E(37, "INVALID_PARTITIONS", false),
	E(38, "INVALID_REPLICATION_FACTOR", false),
	E(39, "INVALID_REPLICA_ASSIGNMENT", false),
	E(40, "INVALID_CONFIG", false),
	E(41, "NOT_CONTROLLER", true),
	E(42, "INVALID_REQUEST", false),
	E(43, "UNSUPPORTED_FOR_MESSAGE_FORMAT", false),
	E(44, "POLICY_VIOLATION", false),
	E(45, "OUT_OF_ORDER_SEQUENCE_NUMBER", false),
	E(46, "DUPLICATE_SEQUENCE_NUMBER", false),
	E(47, "INVALID_PRODUCER_EPOCH", false),
	E(48, "INVALID_TXN_STATE", false),
	E(49, "INVALID_PRODUCER_ID_MAPPING", false),
	E(50, "INVALID_TRANSACTION_TIMEOUT", false),
	E(51, "CONCURRENT_TRANSACTIONS", false),
	E(52, "TRANSACTION_COORDINATOR_FENCED", false),
	E(53, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", false),
	E(54, "SECURITY_DISABLED", false),
	E(55, "OPERATION_NOT_ATTEMPTED", false),
	E(56, "KAFKA_STORAGE_ERROR", true),
	E(57, "LOG_DIR_NOT_FOUND", false),
	E(58, "SASL_AUTHENTICATION_FAILED", false),
	E(59, "UNKNOWN_PRODUCER_ID", false),
	E(60, "REASSIGNMENT_IN_PROGRESS", false),
	E(61, "DELEGATION_TOKEN_AUTH_DISABLED", false),
	E(62, "DELEGATION_TOKEN_NOT_FOUND", false),
	E(63, "DELEGATION_TOKEN_OWNER_MISMATCH", false),
	E(64, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", false),
	E(65, "DELEGATION_TOKEN_AUTHORIZATION_FAILED", false),
	E(66, "DELEGATION_TOKEN_EXPIRED", false),
	E(67, "INVALID_PRINCIPAL_TYPE", false),
	E(68, "NON_EMPTY_GROUP", false),
	E(69, "GROUP_ID_NOT_FOUND", false),
	E(70, "FETCH_SESSION_ID_NOT_FOUND", true),
	E(71, "INVALID_FETCH_SESSION_EPOCH", true),
	E(72, "LISTENER_NOT_FOUND", true),
	E(73, "TOPIC_DELETION_DISABLED", false),
	E(74, "FENCED_LEADER_EPOCH", true),
	E(75, "UNKNOWN_LEADER_EPOCH", true),
	E(76, "UNSUPPORTED_COMPRESSION_TYPE", false),
	E(77, "STALE_BROKER_EPOCH", false),
	E(78, "OFFSET_NOT_AVAILABLE", true),
	E(79, "MEMBER_ID_REQUIRED", false),
	E(80, "PREFERRED_LEADER_NOT_AVAILABLE", true),
	E(81, "GROUP_MAX_SIZE_REACHED", false),
	E(82, "FENCED_INSTANCE_ID", false),
	E(83, "ELIGIBLE_LEADERS_NOT_AVAILABLE", true),
	E(84, "ELECTION_NOT_NEEDED", true),
	E(85, "NO_REASSIGNMENT_IN_PROGRESS", false),
	E(86, "GROUP_SUBSCRIBED_TO_TOPIC", false),
	E(87, "INVALID_RECORD", false),
	E(88, "UNSTABLE_OFFSET_COMMIT", true),
	E(89, "THROTTLING_QUOTA_EXCEEDED", true),
	/* ProducerFencedException is an ApiException, not retriable. */
	E(90, "PRODUCER_FENCED", false),
	E(91, "RESOURCE_NOT_FOUND", false),
	E(92, "DUPLICATE_RESOURCE", false),
	E(93, "UNACCEPTABLE_CREDENTIAL", false),
	E(94, "INCONSISTENT_VOTER_SET", false),
	E(95, "INVALID_UPDATE_VERSION", false),
	E(96, "FEATURE_UPDATE_FAILED", false),
	E(97, "PRINCIPAL_DESERIALIZATION_FAILURE", false),
	E(98, "SNAPSHOT_NOT_FOUND", false),
	E(99, "POSITION_OUT_OF_RANGE", false),
	E(100, "UNKNOWN_TOPIC_ID", true),
	E(101, "DUPLICATE_BROKER_REGISTRATION", false),
	E(102, "BROKER_ID_NOT_REGISTERED", false),
	E(103, "INCONSISTENT_TOPIC_ID", true),
	E(104, "INCONSISTENT_CLUSTER_ID", false),
	E(105, "TRANSACTIONAL_ID_NOT_FOUND", false),
	E(106, "FETCH_SESSION_TOPIC_ID_ERROR", true),
	E(107, "INELIGIBLE_REPLICA", false),
	E(108, "NEW_LEADER_ELECTED", false),
	E(109, "OFFSET_MOVED_TO_TIERED_STORAGE", false),
	E(110, "FENCED_MEMBER_EPOCH", false),
	E(111, "UNRELEASED_INSTANCE_ID", false),
	E(112, "UNSUPPORTED_ASSIGNOR", false),
	E(113, "STALE_MEMBER_EPOCH", false),
	E(114, "MISMATCHED_ENDPOINT_TYPE", false),
	E(115, "UNSUPPORTED_ENDPOINT_TYPE", false),
	E(116, "UNKNOWN_CONTROLLER_ID", false),
	E(117, "UNKNOWN_SUBSCRIPTION_ID", false),
	E(118, "TELEMETRY_TOO_LARGE", false),
	E(119, "INVALID_REGISTRATION", false),
	E(120, "TRANSACTION_ABORTABLE", false),
#undef E
};

static const struct kafka_err_info *err_info(int16_t code)
{
	if (code < -1 || code > KAFKA_ERR_MAX_KNOWN)
		return NULL;
	return &err_table[code + 1];
}

const char *kafka_error_name(int16_t code)
{
	const struct kafka_err_info *e = err_info(code);

	return e ? e->name : "UNKNOWN_SERVER_ERROR";
}

bool kafka_error_retriable(int16_t code)
{
	const struct kafka_err_info *e = err_info(code);

	return e && e->retriable;
}

/* The codes whose Java exceptions are InvalidMetadataException: the Java
 * producer's Sender requests a metadata update on exactly those. */
bool kafka_error_refresh_metadata(int16_t code)
{
	switch (code) {
	case KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION:
	case KAFKA_ERR_LEADER_NOT_AVAILABLE:
	case KAFKA_ERR_NOT_LEADER_OR_FOLLOWER:
	case KAFKA_ERR_REPLICA_NOT_AVAILABLE:
	case KAFKA_ERR_NETWORK_EXCEPTION:
	case KAFKA_ERR_KAFKA_STORAGE_ERROR:
	case KAFKA_ERR_LISTENER_NOT_FOUND:
	case KAFKA_ERR_FENCED_LEADER_EPOCH:
	case KAFKA_ERR_UNKNOWN_LEADER_EPOCH:
	case 80: /* PREFERRED_LEADER_NOT_AVAILABLE */
	case 83: /* ELIGIBLE_LEADERS_NOT_AVAILABLE */
	case 84: /* ELECTION_NOT_NEEDED */
	case KAFKA_ERR_UNKNOWN_TOPIC_ID:
	case 103: /* INCONSISTENT_TOPIC_ID */
	case 106: /* FETCH_SESSION_TOPIC_ID_ERROR */
		return true;
	default:
		return false;
	}
}

/* ---- partitioner ---- */

/* Java's Utils.murmur2: MurmurHash2 with seed 0x9747b28c over the bytes
 * as little-endian words. Java masks every byte with 0xff before using it,
 * so its signed bytes act as unsigned ones here. All arithmetic is mod
 * 2^32 and >>> is a logical shift: uint32_t does both. */
uint32_t kafka_murmur2(const uint8_t *data, size_t len)
{
	const uint32_t m = 0x5bd1e995;
	const int r = 24;
	uint32_t h = 0x9747b28cu ^ (uint32_t)len;
	size_t len4 = len / 4;

	for (size_t i = 0; i < len4; i++) {
		const uint8_t *b = data + i * 4;
		uint32_t k = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
			     (uint32_t)b[3] << 24;

		k *= m;
		k ^= k >> r;
		k *= m;
		h *= m;
		h ^= k;
	}
	switch (len % 4) {
	case 3:
		h ^= (uint32_t)data[(len & ~(size_t)3) + 2] << 16;
		/* fall through */
	case 2:
		h ^= (uint32_t)data[(len & ~(size_t)3) + 1] << 8;
		/* fall through */
	case 1:
		h ^= data[len & ~(size_t)3];
		h *= m;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return h;
}

/* Java's BuiltInPartitioner.partitionForKey: toPositive(murmur2(key)) %
 * numPartitions, where toPositive(n) = n & 0x7fffffff. */
int32_t kafka_partition_for_key(const uint8_t *key, size_t len, int32_t n_partitions)
{
	if (n_partitions <= 0 || (!key && len))
		return -EINVAL;
	return (int32_t)((kafka_murmur2(key, len) & 0x7fffffff) % (uint32_t)n_partitions);
}
