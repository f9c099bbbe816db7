/* Kafka requests (encoders/kafka_req.c): golden bytes, every cap below the
 * size ending at a PROT_NONE page, Produce round trips through the
 * RecordBatch decoder, and the values the protocol forbids.
 *
 * Vector sources: "librdkafka" is bytes librdkafka 2.0.2 (client.id blast)
 * sent to its own mock cluster (rd_kafka_mock_cluster_new, one broker,
 * topic "t" with 2 partitions), captured from the loopback interface on
 * this machine; "mock" is what that mock cluster answered, to librdkafka
 * or to this encoder. "json" vectors are built by hand from apache/kafka's
 * clients/src/main/resources/common/message JSON definitions. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/kafka.h"
#include "encoders/kafka_wire.h"
#include "encoders/rbuf.h"
#include "encoders/wbuf.h"
#include "guard.h"
#include "t.h"

/* ---- captured vectors ---- */

/* librdkafka: ApiVersions v0, correlation id 2 (its fallback after v3). */
static const uint8_t rdk_api_versions_v0_req[] = {
	0x00, 0x00, 0x00, 0x0f, 0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x00, 0x05, 0x62, 0x6c, 0x61, 0x73, 0x74,
};
/* librdkafka: ApiVersions v3, correlation id 1: header v2 then
 * client_software_name "librdkafka", client_software_version "2.0.2". */
static const uint8_t rdk_api_versions_v3_req[] = {
	0x00, 0x00, 0x00, 0x22, 0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x05, 0x62, 0x6c, 0x61, 0x73, 0x74, 0x00, 0x0b, 0x6c, 0x69, 0x62,
	0x72, 0x64, 0x6b, 0x61, 0x66, 0x6b, 0x61, 0x06, 0x32, 0x2e, 0x30, 0x2e,
	0x32, 0x00,
};
/* librdkafka: Metadata v2 for topic "t", correlation id 3. */
static const uint8_t rdk_metadata_v2_req[] = {
	0x00, 0x00, 0x00, 0x16, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03,
	0x00, 0x05, 0x62, 0x6c, 0x61, 0x73, 0x74, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x01, 0x74,
};
/* librdkafka: Produce v7, acks -1, timeout 30000, topic "t" partition 1,
 * one record: key "k", value "hello", header h=hv, timestamp
 * 1700000000000, not idempotent (enable.idempotence=false). */
static const uint8_t rdk_produce_v7_req[] = {
	0x00, 0x00, 0x00, 0x79, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x04,
	0x00, 0x05, 0x62, 0x6c, 0x61, 0x73, 0x74, 0xff, 0xff, 0xff, 0xff, 0x00,
	0x00, 0x75, 0x30, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x74, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x4f, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x00, 0x00,
	0x00, 0x00, 0x02, 0x99, 0x73, 0x14, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00, 0x00, 0x01,
	0x8b, 0xcf, 0xe5, 0x68, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x22,
	0x00, 0x00, 0x00, 0x02, 0x6b, 0x0a, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x02,
	0x02, 0x68, 0x04, 0x68, 0x76,
};

/* ---- requests ---- */

/* Runs enc at every cap below the size (each ending at the guard page):
 * -ENOSPC every time; then at exactly the size. */
#define CHECK_CAPS(call_with_out_cap, want, want_len)                                  \
	do {                                                                           \
		int _bad = 0;                                                          \
		for (size_t cap = 0; cap < (want_len); cap++) {                        \
			uint8_t *out = guard_slot(cap);                                \
			_bad += (call_with_out_cap) != -ENOSPC;                        \
		}                                                                      \
		CHECK_EQ_INT(_bad, 0);                                                 \
		size_t cap = (want_len);                                               \
		uint8_t *out = guard_slot(cap);                                        \
		CHECK_EQ_INT((call_with_out_cap), (want_len));                         \
		CHECK_MEM(out, (want_len), (want), (want_len));                        \
	} while (0)

static void test_api_versions_request(void)
{
	uint8_t buf[64];
	ssize_t n;

	CHECK_CAPS(kafka_encode_api_versions(out, cap, 0, 2, "blast", "0.1"), rdk_api_versions_v0_req,
		   sizeof(rdk_api_versions_v0_req));
	/* json: ApiVersionsRequest v3 = header v2, ClientSoftwareName and
	 * ClientSoftwareVersion as COMPACT_STRINGs, tagged fields. The header
	 * is byte for byte librdkafka's. */
	static const uint8_t v3[] = {
		0x00, 0x00, 0x00, 0x1b, 0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,
		0x00, 0x05, 'b', 'l', 'a', 's', 't', 0x00,
		0x06, 'b', 'l', 'a', 's', 't', 0x04, '0', '.', '1', 0x00,
	};
	CHECK_CAPS(kafka_encode_api_versions(out, cap, 3, 1, "blast", "0.1"), v3, sizeof(v3));
	CHECK_MEM(v3 + 4, 16, rdk_api_versions_v3_req + 4, 16);
	/* v1 and v2 have empty bodies too; a null client id is int16 -1. */
	static const uint8_t v1_null[] = {
		0x00, 0x00, 0x00, 0x0a, 0x00, 0x12, 0x00, 0x01, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	n = kafka_encode_api_versions(buf, sizeof(buf), 1, INT32_MAX, NULL, NULL);
	CHECK_MEM(buf, n, v1_null, sizeof(v1_null));
	CHECK_EQ_INT(kafka_encode_api_versions(buf, sizeof(buf), 4, 1, "x", "0.1"), -EINVAL);
	CHECK_EQ_INT(kafka_encode_api_versions(buf, sizeof(buf), -1, 1, "x", "0.1"), -EINVAL);
}

static void test_metadata_request(void)
{
	const char *t[] = { "t" };
	const char *t2[] = { "t", "nope" };
	uint8_t buf[128];
	ssize_t n;

	CHECK_CAPS(kafka_encode_metadata(out, cap, 2, 3, "blast", t, 1), rdk_metadata_v2_req,
		   sizeof(rdk_metadata_v2_req));

	/* json: v4 adds AllowAutoTopicCreation (false). */
	static const uint8_t v4[] = {
		0x00, 0x00, 0x00, 0x17, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07,
		0x00, 0x05, 'b', 'l', 'a', 's', 't', 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',
		0x00,
	};
	CHECK_CAPS(kafka_encode_metadata(out, cap, 4, 7, "blast", t, 1), v4, sizeof(v4));
	/* json: v8 adds both Include*AuthorizedOperations. */
	static const uint8_t v8[] = {
		0x00, 0x00, 0x00, 0x19, 0x00, 0x03, 0x00, 0x08, 0x00, 0x00, 0x00, 0x07,
		0x00, 0x05, 'b', 'l', 'a', 's', 't', 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',
		0x00, 0x00, 0x00,
	};
	CHECK_CAPS(kafka_encode_metadata(out, cap, 8, 7, "blast", t, 1), v8, sizeof(v8));
	/* json: v9 is flexible: header v2, compact array and string, tags. */
	static const uint8_t v9[] = {
		0x00, 0x00, 0x00, 0x1e, 0x00, 0x03, 0x00, 0x09, 0x00, 0x00, 0x00, 0x07,
		0x00, 0x05, 'b', 'l', 'a', 's', 't', 0x00, 0x03, 0x02, 't', 0x00,
		0x05, 'n', 'o', 'p', 'e', 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	CHECK_CAPS(kafka_encode_metadata(out, cap, 9, 7, "blast", t2, 2), v9, sizeof(v9));
	/* json: v10 puts a TopicId (uuid) before each name: zeros = by name. */
	static const uint8_t v10[] = {
		0x00, 0x00, 0x00, 0x28, 0x00, 0x03, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x07,
		0x00, 0x05, 'b', 'l', 'a', 's', 't', 0x00, 0x02,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 't', 0x00,
		0x00, 0x00, 0x00, 0x00,
	};
	CHECK_CAPS(kafka_encode_metadata(out, cap, 10, 7, "blast", t, 1), v10, sizeof(v10));
	/* json: v11 drops IncludeClusterAuthorizedOperations; all topics is a
	 * null compact array (0). */
	static const uint8_t v12_all[] = {
		0x00, 0x00, 0x00, 0x14, 0x00, 0x03, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x07,
		0x00, 0x05, 'b', 'l', 'a', 's', 't', 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	CHECK_CAPS(kafka_encode_metadata(out, cap, 12, 7, "blast", NULL, 0), v12_all,
		   sizeof(v12_all));
	/* All topics before v9: a null ARRAY (-1). */
	n = kafka_encode_metadata(buf, sizeof(buf), 1, 7, "blast", NULL, 0);
	CHECK_EQ_INT(n, 23);
	CHECK(!memcmp(buf + 19, "\xff\xff\xff\xff", 4));

	CHECK_EQ_INT(kafka_encode_metadata(buf, sizeof(buf), 0, 1, "x", t, 1), -EINVAL);
	CHECK_EQ_INT(kafka_encode_metadata(buf, sizeof(buf), 13, 1, "x", t, 1), -EINVAL);
	CHECK_EQ_INT(kafka_encode_metadata(buf, sizeof(buf), 1, 1, "x", NULL, 1), -EINVAL);
}

/* ---- Produce: a walker over our own requests, by rbuf.h (test_rbuf) ---- */

struct batch_ref {
	int32_t partition;
	const uint8_t *batch;
	size_t len;
};

/* Walks a Produce request (ProduceRequest.json) and returns the number of
 * partitions, -1 if anything is off. */
static int walk_produce(const uint8_t *req, size_t len, int16_t version, struct batch_ref *out,
			int max)
{
	bool flex = version >= 9;
	struct rbuf w;
	uint64_t n;

	rb_init(&w, req, len);
	if (rb_u32be(&w) != len - 4 || rb_u16be(&w) != 0 || rb_u16be(&w) != (uint16_t)version)
		return -1;
	rb_u32be(&w);                        /* correlation id */
	rb_skip(&w, rb_u16be(&w));           /* client id */
	if (flex && rb_uvarint32(&w) != 0)   /* header tags */
		return -1;
	if (flex ? rb_uvarint32(&w) != 0 : rb_u16be(&w) != 0xffff) /* null TransactionalId */
		return -1;
	rb_u16be(&w);                        /* acks */
	rb_u32be(&w);                        /* timeout */
	if ((flex ? rb_uvarint32(&w) - 1 : rb_u32be(&w)) != 1)
		return -1;
	rb_skip(&w, flex ? rb_uvarint32(&w) - 1 : rb_u16be(&w)); /* topic */
	n = flex ? rb_uvarint32(&w) - 1 : rb_u32be(&w);
	for (uint64_t i = 0; i < n && !w.bad; i++) {
		int32_t part = (int32_t)rb_u32be(&w);
		uint32_t blen = flex ? rb_uvarint32(&w) - 1 : rb_u32be(&w);
		const uint8_t *batch = rb_take(&w, blen);

		if (!batch)
			return -1;
		if ((int)i < max)
			out[i] = (struct batch_ref){ part, batch, blen };
		if (flex && rb_uvarint32(&w) != 0)
			return -1;
	}
	if (flex && (rb_uvarint32(&w) != 0 || rb_uvarint32(&w) != 0))
		return -1;
	return rb_done(&w) ? -1 : (int)n;
}

struct rec_want {
	int64_t ts_delta;
	const char *key; /* NULL = null */
	const char *value;
	size_t n_headers;
	const char *h_key, *h_value;
};

struct rec_check {
	const struct rec_want *want;
	size_t n, i;
	int bad;
};

static int rec_cb(void *ctx, const struct kafka_record_view *r)
{
	struct rec_check *c = ctx;
	const struct rec_want *w;
	struct kafka_header h;
	size_t pos = 0;

	if (c->i >= c->n) {
		c->bad++;
		return 0;
	}
	w = &c->want[c->i];
	c->bad += r->offset_delta != (int64_t)c->i || r->timestamp_delta != w->ts_delta;
	c->bad += !w->key ? r->key != NULL :
			    !r->key || r->key_len != strlen(w->key) ||
				    memcmp(r->key, w->key, r->key_len);
	c->bad += !w->value ? r->value != NULL :
			      !r->value || r->value_len != strlen(w->value) ||
				      memcmp(r->value, w->value, r->value_len);
	c->bad += r->n_headers != w->n_headers;
	if (w->n_headers) {
		c->bad += kafka_next_header(r, &pos, &h) != 1;
		c->bad += h.key_len != strlen(w->h_key) || memcmp(h.key, w->h_key, h.key_len);
		c->bad += !w->h_value ? h.value != NULL :
					h.value_len != strlen(w->h_value) ||
						memcmp(h.value, w->h_value, h.value_len);
	}
	c->i++;
	return 0;
}

/* The record of rdk_produce_v7_req. */
static const struct kafka_header hdr_hv = { "h", 1, (const uint8_t *)"hv", 2 };

static ssize_t produce_one(uint8_t *out, size_t cap, int16_t version, int32_t corr,
			   int32_t timeout, int32_t partition)
{
	struct kafka_produce p;

	kafka_produce_begin(&p, out, cap, version, corr, "blast", -1, timeout, "t", 1);
	kafka_produce_partition_begin(&p, partition);
	kafka_batch_begin(&p, 1700000000000LL, 0, NULL, 0);
	kafka_batch_add(&p, 1700000000000LL, (const uint8_t *)"k", 1, (const uint8_t *)"hello", 5,
			&hdr_hv, 1);
	kafka_batch_end(&p);
	return kafka_produce_end(&p);
}

static void test_produce_golden(void)
{
	uint8_t want[sizeof(rdk_produce_v7_req)];
	uint8_t scratch[512];
	struct batch_ref b[2];
	size_t consumed = 0;

	/* librdkafka writes partitionLeaderEpoch 0, Java and this encoder -1
	 * (Format: "-1 if unknown"); it precedes the CRC, nothing else moves. */
	memcpy(want, rdk_produce_v7_req, sizeof(want));
	memset(want + 46 + KAFKA_BATCH_OF_LEADER_EPOCH, 0xff, 4);
	CHECK_CAPS(produce_one(out, cap, 7, 4, 30000, 1), want, sizeof(want));
	/* v3 to v6 are the same bytes apart from the version (ProduceRequest.json). */
	for (int16_t v = 3; v <= 8; v++) {
		uint8_t buf[256];

		want[7] = (uint8_t)v;
		CHECK_EQ_INT(produce_one(buf, sizeof(buf), v, 4, 30000, 1), sizeof(want));
		CHECK_MEM(buf, sizeof(want), want, sizeof(want));
	}

	/* librdkafka's own batch decodes (CRC checked) to that record. */
	struct rec_want rw[] = { { 0, "k", "hello", 1, "h", "hv" } };
	struct rec_check rc = { rw, 1, 0, 0 };

	CHECK_EQ_INT(walk_produce(rdk_produce_v7_req, sizeof(rdk_produce_v7_req), 7, b, 2), 1);
	CHECK_EQ_INT(b[0].partition, 1);
	CHECK_EQ_INT(kafka_parse_record_batch(guard_copy(b[0].batch, b[0].len), b[0].len, scratch,
					      sizeof(scratch), rec_cb, &rc, &consumed),
		     0);
	CHECK_EQ_INT(consumed, b[0].len);
	CHECK_EQ_INT(rc.i, 1);
	CHECK_EQ_INT(rc.bad, 0);
}

/* Builds a request with n_parts partitions of n_recs records each, walks
 * it and decodes every batch. */
static void roundtrip(int16_t version, uint8_t compression, int n_parts, int n_recs)
{
	static uint8_t buf[1 << 16], scratch[1 << 15], dscratch[1 << 15];
	struct kafka_produce p;
	struct batch_ref refs[200];
	struct rec_want rw[8];
	ssize_t n;
	int bad = 0;

	for (int i = 0; i < n_recs; i++)
		rw[i] = (struct rec_want){ i == 3 ? -5 : i * 1000, i & 1 ? NULL : "key",
					   i == 2 ? NULL : "value value value value",
					   (size_t)(i & 1), "hk", i == 5 ? NULL : "hv" };
	CHECK_EQ_INT(kafka_produce_begin(&p, buf, sizeof(buf), version, 9, "blast", 1, 1000,
					 "topic", 5),
		     0);
	for (int part = 0; part < n_parts; part++) {
		bad += kafka_produce_partition_begin(&p, part) != 0;
		bad += kafka_batch_begin(&p, 1000000, compression, scratch, sizeof(scratch)) != 0;
		for (int i = 0; i < n_recs; i++) {
			struct kafka_header h = { rw[i].h_key, 2, (const uint8_t *)rw[i].h_value,
						  rw[i].h_value ? 2 : 0 };

			bad += kafka_batch_add(&p, 1000000 + rw[i].ts_delta,
					       (const uint8_t *)rw[i].key,
					       rw[i].key ? strlen(rw[i].key) : 0,
					       (const uint8_t *)rw[i].value,
					       rw[i].value ? strlen(rw[i].value) : 0, &h,
					       rw[i].n_headers) != 0;
		}
		bad += kafka_batch_end(&p) != 0;
	}
	n = kafka_produce_end(&p);
	CHECK(n > 0);
	CHECK_EQ_INT(bad, 0);
	if (n <= 0)
		return;
	CHECK_EQ_INT(walk_produce(buf, (size_t)n, version, refs, 200), n_parts);
	for (int i = 0; i < n_parts && i < 200; i++) {
		struct rec_check rc = { rw, (size_t)n_recs, 0, 0 };
		size_t consumed = 0;
		const uint8_t *b = refs[i].batch;

		bad += refs[i].partition != i;
		bad += (b[KAFKA_BATCH_OF_ATTRIBUTES + 1] & 7) != compression;
		bad += kafka_parse_record_batch(b, refs[i].len, dscratch, sizeof(dscratch), rec_cb,
						&rc, &consumed) != 0;
		bad += consumed != refs[i].len || rc.i != (size_t)n_recs || rc.bad;
		/* lastOffsetDelta, maxTimestamp (Format). */
		bad += b[KAFKA_BATCH_OF_LAST_OFFSET_DELTA + 3] != n_recs - 1;
		bad += b[KAFKA_BATCH_OF_MAX_TIMESTAMP + 7] !=
		       (uint8_t)(1000000 + (n_recs - 1 == 3 ? 2000 : (n_recs - 1) * 1000));
	}
	CHECK_EQ_INT(bad, 0);
}

static void test_produce_roundtrip(void)
{
	for (int16_t v = KAFKA_PRODUCE_MIN; v <= KAFKA_PRODUCE_MAX; v++)
		for (uint8_t c = 0; c <= 1; c++) {
			roundtrip(v, c, 1, 1);
			roundtrip(v, c, 3, 6);
		}
	/* 127+ partitions: the flexible count needs a second varint byte. */
	roundtrip(9, 0, 126, 1);
	roundtrip(9, 0, 127, 1);
	roundtrip(9, 1, 130, 2);
	roundtrip(8, 0, 130, 2);
	/* A batch over 127 bytes: the COMPACT_RECORDS length takes 2 bytes. */
	roundtrip(9, 0, 2, 8);
}

/* The whole produce sequence at every cap: -ENOSPC until it fits. */
static ssize_t produce_seq(uint8_t *out, size_t cap, int16_t v, uint8_t comp)
{
	static uint8_t scratch[1024];
	struct kafka_produce p;
	const uint8_t val[40] = { 0 };

	kafka_produce_begin(&p, out, cap, v, 1, "blast", 1, 1000, "t", 1);
	for (int part = 0; part < 2; part++) {
		kafka_produce_partition_begin(&p, part);
		kafka_batch_begin(&p, 5, comp, scratch, sizeof(scratch));
		kafka_batch_add(&p, 6, NULL, 0, val, sizeof(val), &hdr_hv, 1);
		kafka_batch_add(&p, 7, val, 3, NULL, 0, NULL, 0);
		kafka_batch_end(&p);
	}
	return kafka_produce_end(&p);
}

/* A request is built in place, so while a batch is open it can need more
 * than the result: the uncompressed records (gzip), and 4 spare bytes of
 * the COMPACT_RECORDS length (v9). Below the result's size every cap is
 * -ENOSPC; from the smallest cap that works on, the bytes are the same. */
static void test_produce_caps(void)
{
	static uint8_t ref[1024], raw[1024];

	for (int16_t v = 3; v <= 9; v += 6)
		for (uint8_t c = 0; c <= 1; c++) {
			ssize_t n = produce_seq(ref, sizeof(ref), v, c);
			ssize_t n_raw = produce_seq(raw, sizeof(raw), v, 0);
			size_t slack = (c ? (size_t)(n_raw - n) : 0) + (v >= 9 ? 4 : 0);
			size_t cap = 0;
			int bad = 0;

			CHECK(n > 0 && n_raw > 0);
			if (n <= 0 || n_raw <= 0)
				continue;
			for (; cap < (size_t)n + slack; cap++) {
				ssize_t r = produce_seq(guard_slot(cap), cap, v, c);

				if (r != -ENOSPC)
					break;
			}
			bad += cap < (size_t)n;
			for (size_t k = cap; k <= (size_t)n + slack + 2; k++) {
				bad += produce_seq(guard_slot(k), k, v, c) != n;
				bad += memcmp(guard_slot(k), ref, (size_t)n) != 0;
			}
			CHECK_EQ_INT(bad, 0);
			CHECK(cap <= (size_t)n + slack);
		}
}

static void test_produce_errors(void)
{
	uint8_t buf[512], small[4];
	struct kafka_produce p;

	CHECK_EQ_INT(kafka_produce_begin(&p, buf, sizeof(buf), 2, 1, "x", 1, 1, "t", 1), -EINVAL);
	CHECK_EQ_INT(kafka_produce_begin(&p, buf, sizeof(buf), 10, 1, "x", 1, 1, "t", 1), -EINVAL);
	CHECK_EQ_INT(kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 2, 1, "t", 1), -EINVAL);
	CHECK_EQ_INT(kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 1, 1, "t", 0), -EINVAL);
	/* Sticky: later calls return the first error. */
	CHECK_EQ_INT(kafka_produce_partition_begin(&p, 0), -EINVAL);
	CHECK_EQ_INT(kafka_produce_end(&p), -EINVAL);
	/* Order: a batch needs a partition; end needs closed partitions;
	 * an empty batch is refused; gzip needs scratch. */
	kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 1, 1, "t", 1);
	CHECK_EQ_INT(kafka_batch_begin(&p, 0, 0, NULL, 0), -EINVAL);
	kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 1, 1, "t", 1);
	kafka_produce_partition_begin(&p, 0);
	CHECK_EQ_INT(kafka_produce_end(&p), -EINVAL);
	kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 1, 1, "t", 1);
	kafka_produce_partition_begin(&p, 0);
	kafka_batch_begin(&p, 0, 0, NULL, 0);
	CHECK_EQ_INT(kafka_batch_end(&p), -EINVAL);
	kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 1, 1, "t", 1);
	kafka_produce_partition_begin(&p, 0);
	CHECK_EQ_INT(kafka_batch_begin(&p, 0, 1, NULL, 0), -EINVAL);
	kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 1, 1, "t", 1);
	kafka_produce_partition_begin(&p, 0);
	CHECK_EQ_INT(kafka_batch_begin(&p, 0, 2, NULL, 0), -EINVAL); /* snappy */
	/* gzip scratch too small: -ENOSPC at batch_end. */
	kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 1, 1, "t", 1);
	kafka_produce_partition_begin(&p, 0);
	kafka_batch_begin(&p, 0, 1, small, sizeof(small));
	kafka_batch_add(&p, 0, NULL, 0, (const uint8_t *)"v", 1, NULL, 0);
	CHECK_EQ_INT(kafka_batch_end(&p), -ENOSPC);
	CHECK_EQ_INT(kafka_produce_end(&p), -ENOSPC);
	CHECK(kafka_gzip_bound(1000) >= 1000 + 18);
}

static void test_record_size_max(void)
{
	static uint8_t buf[1 << 16], scratch[1 << 16];
	static const size_t sizes[] = { 0, 1, 63, 64, 127, 128, 8191, 8192, 20000 };
	int bad = 0;

	/* Each record of the batch takes at most what the bound says. */
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		for (size_t j = 0; j < ARRAY_SIZE(sizes); j += 2) {
			struct kafka_header h = { "abc", 3, buf, sizes[j] / 4 };
			struct kafka_produce p;
			size_t before, bound = kafka_record_size_max(sizes[i], sizes[j], &h, 1);

			kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 1, 1, "t", 1);
			kafka_produce_partition_begin(&p, 0);
			kafka_batch_begin(&p, 0, 0, scratch, sizeof(scratch));
			before = wb_len(&p.w);
			kafka_batch_add(&p, INT64_MIN, scratch, sizes[i], scratch, sizes[j], &h, 1);
			bad += p.err != 0 || wb_len(&p.w) - before > bound;
		}
	CHECK_EQ_INT(bad, 0);
}

int main(void)
{
	if (guard_init(1 << 14)) {
		perror("guard page");
		return T_FAIL;
	}
	test_api_versions_request();
	test_metadata_request();
	test_produce_golden();
	test_produce_roundtrip();
	test_produce_caps();
	test_produce_errors();
	test_record_size_max();
	return t_done("test_kafka_req");
}
