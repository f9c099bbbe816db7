/* Kafka requests (contract in kafka.h): ApiVersions, Metadata, and
 * Produce with RecordBatch v2 built in place, gzip included.
 *
 * "Guide" is kafka.apache.org/protocol ("A Guide To The Kafka Protocol"),
 * "Format" the Message Format section of the Kafka documentation, and
 * "X.json vN" the message definition in apache/kafka
 * clients/src/main/resources/common/message/X.json, which says which
 * fields exist in which version and which versions are flexible.
 *
 * Requests are written through a wbuf and patched (Size, counts, batch
 * header, CRC) in librdkafka's write-then-patch way. */
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

/* Writes the unsigned varint v at dst, room checked by the caller. */
static void uvarint_at(uint8_t *dst, uint64_t v)
{
	struct wbuf t;

	wb_init(&t, dst, wb_uvarint_size(v));
	wb_uvarint(&t, v);
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
