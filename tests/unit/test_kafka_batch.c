/* RecordBatch v2 (encoders/kafka_batch.c): zigzag varints against
 * librdkafka's vectors, batches written by the Produce builder read back
 * (none and gzip), every truncation ending at a PROT_NONE page, and every
 * flipped bit caught. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "encoders/kafka.h"
#include "encoders/kafka_wire.h"
#include "encoders/wbuf.h"
#include "guard.h"
#include "t.h"

static const struct kafka_header hdr_hv = { "h", 1, (const uint8_t *)"hv", 2 };

static size_t build_batch(uint8_t *buf, size_t cap, uint8_t comp, size_t *off)
{
	static uint8_t scratch[4096];
	struct kafka_produce p;
	ssize_t n;

	kafka_produce_begin(&p, buf, cap, 7, 1, "x", 1, 1, "t", 1);
	kafka_produce_partition_begin(&p, 0);
	kafka_batch_begin(&p, 0, comp, scratch, sizeof(scratch));
	*off = p.batch_off;
	/* librdkafka rdvarint.c unit vectors as timestamp deltas: 1, -1, 23,
	 * -23, 253, +-1234567890101112 (the zigzag bytes are checked below). */
	kafka_batch_add(&p, 1234567890101112LL, (const uint8_t *)"k", 1, (const uint8_t *)"v", 1,
			&hdr_hv, 1);
	kafka_batch_add(&p, -1234567890101112LL, NULL, 0, NULL, 0, NULL, 0);
	kafka_batch_add(&p, -23, (const uint8_t *)"", 0, (const uint8_t *)"", 0, NULL, 0);
	kafka_batch_end(&p);
	n = kafka_produce_end(&p);
	return n > 0 ? (size_t)n - *off : 0;
}

static void test_varint_vectors(void)
{
	/* librdkafka src/rdvarint.c unittest_rdvarint: zigzag varint bytes. */
	static const struct {
		int64_t v;
		uint8_t b[10];
		size_t n;
	} vec[] = {
		{ 0, { 0x00 }, 1 },
		{ 1, { 0x02 }, 1 },
		{ -1, { 0x01 }, 1 },
		{ 23, { 0x2e }, 1 },
		{ -23, { 0x2d }, 1 },
		{ 253, { 0xfa, 0x03 }, 2 },
		{ 1234567890101112LL, { 0xf0, 0x8d, 0xd3, 0xc8, 0xa7, 0xb5, 0xb1, 0x04 }, 8 },
		{ -1234567890101112LL, { 0xef, 0x8d, 0xd3, 0xc8, 0xa7, 0xb5, 0xb1, 0x04 }, 8 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(vec); i++) {
		uint8_t b[10];
		struct wbuf w;

		wb_init(&w, b, sizeof(b));
		wb_zigzag64(&w, vec[i].v);
		CHECK_MEM(b, wb_len(&w), vec[i].b, vec[i].n);
	}
}

struct ts_check {
	int64_t ts[3];
	size_t n;
};

static int ts_cb(void *ctx, const struct kafka_record_view *r)
{
	struct ts_check *c = ctx;

	if (c->n < 3)
		c->ts[c->n] = r->timestamp_delta;
	c->n++;
	return 0;
}

static int stop_cb(void *ctx, const struct kafka_record_view *r)
{
	(void)ctx;
	(void)r;
	return -ECANCELED;
}

static void test_record_batch_parse(void)
{
	static uint8_t buf[4096], scratch[4096];
	size_t off, consumed;

	for (uint8_t comp = 0; comp <= 1; comp++) {
		size_t n = build_batch(buf, sizeof(buf), comp, &off);
		uint8_t *b = buf + off;
		struct ts_check tc = { { 0 }, 0 };
		int bad = 0;

		CHECK(n > KAFKA_BATCH_HEADER_SIZE);
		CHECK_EQ_INT(kafka_parse_record_batch(guard_copy(b, n), n, scratch, sizeof(scratch),
						      ts_cb, &tc, &consumed),
			     0);
		CHECK_EQ_INT(tc.n, 3);
		CHECK_EQ_INT(tc.ts[0], 1234567890101112LL);
		CHECK_EQ_INT(tc.ts[1], -1234567890101112LL);
		CHECK_EQ_INT(tc.ts[2], -23);
		CHECK_EQ_INT(kafka_parse_record_batch(b, n, scratch, sizeof(scratch), stop_cb, NULL,
						      &consumed),
			     -ECANCELED);
		/* Every truncation, against the guard page. */
		for (size_t k = 0; k < n; k++)
			bad += kafka_parse_record_batch(guard_copy(b, k), k, scratch, sizeof(scratch),
							NULL, NULL, &consumed) != -EPROTO;
		CHECK_EQ_INT(bad, 0);
		/* Trailing bytes after the batch are not its business. */
		b[n] = 0xaa;
		CHECK_EQ_INT(kafka_parse_record_batch(b, n + 1, scratch, sizeof(scratch), NULL, NULL,
						      &consumed),
			     0);
		CHECK_EQ_INT(consumed, n);
		/* Any flipped bit from magic on fails magic or the CRC. */
		bad = 0;
		for (size_t k = KAFKA_BATCH_OF_MAGIC; k < n; k++) {
			b[k] ^= 0x10;
			bad += kafka_parse_record_batch(b, n, scratch, sizeof(scratch), NULL, NULL,
							&consumed) != -EPROTO;
			b[k] ^= 0x10;
		}
		CHECK_EQ_INT(bad, 0);
		if (comp)
			CHECK_EQ_INT(kafka_parse_record_batch(b, n, scratch, 8, NULL, NULL, &consumed),
				     -ENOSPC);
	}
}

int main(void)
{
	if (guard_init(1 << 14)) {
		perror("guard page");
		return T_FAIL;
	}
	test_varint_vectors();
	test_record_batch_parse();
	return t_done("test_kafka_batch");
}
