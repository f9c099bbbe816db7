/* libFuzzer target for the Kafka wire code.
 *
 * 1. The input as bytes from a broker: frame it with kafka_frame_total,
 *    and hand the whole input (and each frame's body) to every response
 *    parser at every version, and to the RecordBatch decoder. Nothing may
 *    read past the input (libFuzzer's copy ends exactly there, ASan
 *    watches); results must be 0 or the documented errors, and whatever a
 *    parser hands out must lie inside the input.
 * 2. The input as field values: build a Produce request (every version,
 *    none or gzip), find each batch again and decode it: the records must
 *    come back unchanged, and the request must be -ENOSPC one byte short.
 *
 * Built with -DWITH_MAIN it is a plain program that replays files, so gcc
 * builds it too: cc -DWITH_MAIN -I. -Iencoders -Iuserspace
 * tests/fuzz/fuzz_kafka.c encoders/kafka_*.c encoders/crc32c.c -lz */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/kafka.h"
#include "encoders/kafka_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *lo_in;
static size_t len_in;

static bool inside(const void *p, size_t n)
{
	const uint8_t *b = p;

	return n == 0 || (b >= lo_in && n <= len_in && b - lo_in <= (ptrdiff_t)(len_in - n));
}

static int md_broker(void *ctx, int32_t node, const char *host, size_t host_len, int32_t port)
{
	(void)ctx, (void)node, (void)port;
	assert(host && inside(host, host_len));
	return 0;
}

static int md_part(void *ctx, const char *topic, size_t topic_len, int16_t terr, int32_t part,
		   int16_t perr, int32_t leader)
{
	(void)ctx, (void)terr, (void)perr, (void)leader;
	assert(!topic ? topic_len == 0 : inside(topic, topic_len));
	assert(part >= -1 || part < -1); /* any value the broker sent */
	return 0;
}

static int pr_cb(void *ctx, const char *topic, size_t topic_len, int32_t part, int16_t err,
		 int64_t base)
{
	(void)ctx, (void)part, (void)err, (void)base;
	assert(topic && inside(topic, topic_len));
	return 0;
}

static uint8_t scratch[1 << 16];

static int rec_cb(void *ctx, const struct kafka_record_view *r)
{
	struct kafka_header h;
	size_t pos = 0, n = 0;
	int ret;

	(void)ctx;
	while ((ret = kafka_next_header(r, &pos, &h)) == 1) {
		assert(pos <= r->headers_len);
		n++;
	}
	assert(ret == 0 && n == r->n_headers);
	return 0;
}

static void parse_body(const uint8_t *b, size_t n)
{
	struct kafka_md_cb cb = { md_broker, md_part, NULL };
	struct kafka_api_range ranges[8];
	size_t nr, consumed;
	int16_t err;
	int r;

	for (int16_t v = 0; v <= KAFKA_API_VERSIONS_MAX; v++) {
		r = kafka_parse_api_versions(b, n, v, &err, ranges, 8, &nr);
		assert(r == 0 || r == -EPROTO);
		if (!r)
			kafka_pick_version(ranges, nr < 8 ? nr : 8, KAFKA_API_PRODUCE, 3, 9);
	}
	for (int16_t v = 0; v <= KAFKA_METADATA_MAX; v++) {
		r = kafka_parse_metadata(b, n, v, &cb);
		assert(r == 0 || r == -EPROTO);
	}
	for (int16_t v = 0; v <= KAFKA_PRODUCE_MAX; v++) {
		r = kafka_parse_produce(b, n, v, pr_cb, NULL);
		assert(r == 0 || r == -EPROTO);
	}
	r = kafka_parse_record_batch(b, n, scratch, sizeof(scratch), rec_cb, NULL, &consumed);
	assert(r == 0 || r == -EPROTO || r == -ENOSPC || r == -EOPNOTSUPP);
	if (!r)
		assert(consumed >= KAFKA_BATCH_HEADER_SIZE && consumed <= n);
}

static void fuzz_stream(const uint8_t *data, size_t size)
{
	size_t off = 0;

	parse_body(data, size);
	while (off < size) {
		ssize_t t = kafka_frame_total(data + off, size - off, 1 << 20);
		const uint8_t *body;
		size_t body_len;
		int32_t corr;

		if (t <= 0 || (size_t)t > size - off)
			break;
		for (int flex = 0; flex <= 1; flex++) {
			int r = kafka_parse_response_header(data + off, (size_t)t, flex, &corr, &body,
							    &body_len);

			assert(r == 0 || r == -EPROTO);
			if (!r) {
				assert(inside(body, body_len));
				assert(body + body_len == data + off + t);
				parse_body(body, body_len);
			}
		}
		off += (size_t)t;
	}
}

/* ---- part 2: round trips ---- */

struct src {
	const uint8_t *p;
	size_t n;
};

static uint8_t s_u8(struct src *s)
{
	if (!s->n)
		return 0;
	s->n--;
	return *s->p++;
}

struct want {
	const uint8_t *key, *value, *hval;
	size_t klen, vlen, hklen, hvlen;
	int64_t ts;
	bool has_h;
};

struct got {
	const struct want *w;
	size_t n, i;
};

static bool same(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	if (!a || !b)
		return !a && !b;
	return an == bn && (!an || !memcmp(a, b, an));
}

static int check_cb(void *ctx, const struct kafka_record_view *r)
{
	struct got *g = ctx;
	const struct want *w;
	struct kafka_header h;
	size_t pos = 0;

	assert(g->i < g->n);
	w = &g->w[g->i];
	assert(r->offset_delta == (int64_t)g->i);
	assert(r->timestamp_delta == w->ts);
	assert(same(r->key, r->key_len, w->key, w->klen));
	assert(same(r->value, r->value_len, w->value, w->vlen));
	assert(r->n_headers == (w->has_h ? 1u : 0u));
	if (w->has_h) {
		assert(kafka_next_header(r, &pos, &h) == 1);
		assert(h.key_len == w->hklen && same(h.value, h.value_len, w->hval, w->hvlen));
		assert(kafka_next_header(r, &pos, &h) == 0);
	}
	g->i++;
	return 0;
}

static ssize_t build(uint8_t *out, size_t cap, int16_t v, uint8_t comp, int32_t part,
		     const struct want *w, size_t n)
{
	static uint8_t zs[1 << 14];
	struct kafka_produce p;

	kafka_produce_begin(&p, out, cap, v, 7, "fz", -1, 100, "topic", 5);
	kafka_produce_partition_begin(&p, part);
	kafka_batch_begin(&p, 0, comp, zs, sizeof(zs));
	for (size_t i = 0; i < n; i++) {
		struct kafka_header h = { "hk", w[i].hklen, w[i].hval, w[i].hvlen };

		kafka_batch_add(&p, w[i].ts, w[i].key, w[i].klen, w[i].value, w[i].vlen, &h,
				w[i].has_h);
	}
	kafka_batch_end(&p);
	return kafka_produce_end(&p);
}

static void rt_produce(struct src *s)
{
	static uint8_t out[1 << 14], out2[1 << 14];
	static uint8_t pool[256];
	struct want w[6];
	size_t n = s_u8(s) % 6 + 1;
	int16_t v = (int16_t)(KAFKA_PRODUCE_MIN + s_u8(s) % 7);
	uint8_t comp = s_u8(s) & 1;
	int32_t part = s_u8(s);
	ssize_t len, len2;

	for (size_t i = 0; i < sizeof(pool); i++)
		pool[i] = s_u8(s);
	for (size_t i = 0; i < n; i++) {
		uint8_t sel = s_u8(s);

		w[i].klen = sel & 1 ? s_u8(s) % 64 : 0;
		w[i].key = sel & 2 ? pool + s_u8(s) % 64 : NULL;
		if (!w[i].key)
			w[i].klen = 0;
		w[i].vlen = s_u8(s) * 2u % 192;
		w[i].value = sel & 4 ? pool + s_u8(s) % 64 : NULL;
		if (!w[i].value)
			w[i].vlen = 0;
		w[i].has_h = sel & 8;
		w[i].hklen = s_u8(s) % 3;
		w[i].hval = sel & 16 ? pool : NULL;
		w[i].hvlen = w[i].hval ? s_u8(s) % 40 : 0;
		w[i].ts = (int64_t)((uint64_t)s_u8(s) << (s_u8(s) % 57)) * (sel & 32 ? -1 : 1);
	}
	len = build(out, sizeof(out), v, comp, part, w, n);
	assert(len > 0);
	/* Short by one: -ENOSPC, whatever else happens. */
	len2 = build(out2, (size_t)len - 1, v, comp, part, w, n);
	assert(len2 == -ENOSPC);

	/* Find the batch: it ends the request before the tags (v9) or at the
	 * end; its length field says where it starts. Walk it by hand. */
	bool flex = v >= 9;
	const uint8_t *p = out + 4 + 2 + 2 + 4 + 2 + 2 + (flex ? 1 : 0); /* hdr, "fz" */
	p += flex ? 1 : 2;                       /* null TransactionalId */
	p += 2 + 4;                              /* acks, timeout */
	p += flex ? 1 : 4;                       /* topics: 1 */
	p += (flex ? 1 : 2) + 5;                 /* "topic" */
	assert(flex ? p[0] == 2 : (p[3] == 1 && !p[0] && !p[1] && !p[2]));
	p += flex ? 1 : 4;                       /* partitions: 1 */
	assert((int32_t)((uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]) == part);
	p += 4;
	size_t blen = 0;
	if (flex) {
		int sh = 0;

		while (*p & 0x80) {
			blen |= (size_t)(*p++ & 0x7f) << sh;
			sh += 7;
		}
		blen |= (size_t)*p++ << sh;
		blen -= 1;
	} else {
		blen = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
		p += 4;
	}
	assert(p + blen + (flex ? 3 : 0) == out + len);

	struct got g = { w, n, 0 };
	size_t consumed = 0;
	int r = kafka_parse_record_batch(p, blen, scratch, sizeof(scratch), check_cb, &g,
					 &consumed);

	assert(r == 0 && consumed == blen && g.i == n);
}

static void rt_requests(struct src *s)
{
	static uint8_t out[4096];
	char t1[40], t2[40];
	const char *topics[2] = { t1, t2 };
	int16_t v = (int16_t)(s_u8(s) % 12 + 1);
	size_t n = s_u8(s) % 3;
	ssize_t r;

	for (size_t i = 0; i < sizeof(t1) - 1; i++) {
		t1[i] = (char)(s_u8(s) | 1);
		t2[i] = (char)(s_u8(s) | 1);
	}
	t1[s_u8(s) % 39] = 0;
	t2[s_u8(s) % 39] = 0;
	r = kafka_encode_metadata(out, sizeof(out), v, 1, "c", topics, n);
	assert(r > 0);
	assert(kafka_encode_metadata(out, (size_t)r - 1, v, 1, "c", topics, n) == -ENOSPC);
	assert(kafka_frame_total(out, (size_t)r, 0) == r);
	v = (int16_t)(s_u8(s) % 4);
	r = kafka_encode_api_versions(out, sizeof(out), v, 2, s_u8(s) & 1 ? t1 : NULL, "0.1");
	assert(r > 0 && kafka_frame_total(out, (size_t)r, 0) == r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct src s = { data, size };

	lo_in = data;
	len_in = size;
	fuzz_stream(data, size);
	rt_produce(&s);
	s = (struct src){ data, size };
	rt_requests(&s);
	return 0;
}

#include "replay.h"
