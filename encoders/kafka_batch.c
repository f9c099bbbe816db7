/* RecordBatch v2 decoding (contract in kafka.h): tests, captures and the
 * fuzzer read back what kafka_req.c writes. "Format" is the Message Format
 * section of the Kafka documentation. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <zlib.h>

#include "crc32c.h"
#include "kafka.h"
#include "kafka_wire.h"
#include "rbuf.h"

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
static int parse_record(struct rbuf *rec, struct kafka_record_view *v)
{
	size_t pos = 0, seen = 0;
	struct kafka_header h;
	int32_t klen, vlen, nh;
	int ret;

	rb_u8(rec); /* attributes: unused */
	v->timestamp_delta = rb_zigzag64(rec);
	v->offset_delta = rb_zigzag32(rec);
	klen = rb_zigzag32(rec);
	if (klen < -1)
		return -EPROTO;
	v->key = klen >= 0 ? rb_take(rec, (size_t)klen) : NULL;
	v->key_len = klen > 0 ? (size_t)klen : 0;
	vlen = rb_zigzag32(rec);
	if (vlen < -1)
		return -EPROTO;
	v->value = vlen >= 0 ? rb_take(rec, (size_t)vlen) : NULL;
	v->value_len = vlen > 0 ? (size_t)vlen : 0;
	nh = rb_zigzag32(rec);
	if (rec->bad || nh < 0 || (size_t)nh > rb_left(rec) / 2)
		return -EPROTO;
	v->n_headers = (size_t)nh;
	v->headers = rec->p;
	v->headers_len = rb_left(rec);
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
	struct rbuf r;

	rb_init(&r, buf, len);
	rb_i64be(&r); /* baseOffset */
	blen = rb_i32be(&r);
	if (r.bad || blen < KAFKA_BATCH_HEADER_SIZE - KAFKA_BATCH_LENGTH_OVERHEAD ||
	    (size_t)blen > len - KAFKA_BATCH_LENGTH_OVERHEAD)
		return -EPROTO;
	total = (size_t)blen + KAFKA_BATCH_LENGTH_OVERHEAD;
	rb_init(&r, buf, total);
	r.p += KAFKA_BATCH_OF_LEADER_EPOCH + 4;
	if (rb_u8(&r) != KAFKA_MAGIC_V2)
		return -EPROTO;
	crc = (uint32_t)rb_i32be(&r);
	if (crc != crc32c(0, buf + KAFKA_BATCH_OF_ATTRIBUTES, total - KAFKA_BATCH_OF_ATTRIBUTES))
		return -EPROTO;
	attr = rb_i16be(&r);
	r.p = buf + KAFKA_BATCH_OF_RECORD_COUNT;
	count = rb_i32be(&r);
	recs = r.p;
	recs_len = rb_left(&r);
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
	rb_init(&r, recs, recs_len);
	for (int32_t i = 0; i < count; i++) {
		struct kafka_record_view v;
		struct rbuf rec;
		int32_t rlen = rb_zigzag32(&r);
		const uint8_t *rp;
		int ret;

		if (r.bad || rlen < 0 || !(rp = rb_take(&r, (size_t)rlen)))
			return -EPROTO;
		rb_init(&rec, rp, (size_t)rlen);
		if (parse_record(&rec, &v) || rec.bad)
			return -EPROTO;
		if (cb && (ret = cb(ctx, &v)) < 0)
			return ret;
	}
	if (rb_done(&r))
		return -EPROTO;
	if (consumed)
		*consumed = total;
	return 0;
}

int kafka_next_header(const struct kafka_record_view *v, size_t *pos, struct kafka_header *h)
{
	int32_t klen, vlen;
	struct rbuf r;

	if (!v || !pos || *pos > v->headers_len || (!v->headers && v->headers_len))
		return -EPROTO;
	if (*pos == v->headers_len)
		return 0;
	rb_init(&r, v->headers + *pos, v->headers_len - *pos);
	klen = rb_zigzag32(&r);
	if (klen < 0)
		return -EPROTO; /* header keys are never null */
	h->key = (const char *)rb_take(&r, (size_t)klen);
	h->key_len = (size_t)klen;
	vlen = rb_zigzag32(&r);
	if (vlen < -1)
		return -EPROTO;
	h->value = vlen >= 0 ? rb_take(&r, (size_t)vlen) : NULL;
	h->value_len = vlen > 0 ? (size_t)vlen : 0;
	if (r.bad)
		return -EPROTO;
	*pos = (size_t)(r.p - v->headers);
	return 1;
}
