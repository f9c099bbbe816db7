/* The byte reader (encoders/rbuf.h): every reader at every length of
 * input ending at a PROT_NONE page, the sticky error, and each varint's
 * edges: the largest value, one past it, overlong and truncated forms.
 *
 * Vector sources: "spec 5.0 1.5.5" is MQTT 5.0's Table 1-1 (the edges of
 * each Variable Byte Integer size); Kafka's varints are protobuf's
 * ("Encoding", protobuf.dev), written here by wbuf.h and by hand. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "encoders/rbuf.h"
#include "encoders/wbuf.h"
#include "guard.h"
#include "t.h"
#include "varint_vectors.h"

static const uint8_t seq[16] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
				 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90 };

/* Reads width-byte big-endian ints off len bytes until one fails: exactly
 * len / width succeed with the right values, then the cursor is bad, has
 * not moved, and every later read gives 0. */
static int read_all(size_t len, int width)
{
	struct rbuf r;
	size_t got = 0;
	int bad = 0;

	rb_init(&r, guard_copy(seq, len), len);
	for (;;) {
		const uint8_t *at = r.p;
		uint64_t want = 0, v;

		for (int i = 0; i < width && got + (size_t)i < len; i++)
			want = want << 8 | seq[got + (size_t)i];
		v = width == 1 ? rb_u8(&r) : width == 2 ? rb_u16be(&r) :
		    width == 4 ? rb_u32be(&r) : rb_u64be(&r);
		if (r.bad) {
			bad += got + (size_t)width <= len || v != 0 || r.p != at;
			break;
		}
		bad += v != want;
		got += (size_t)width;
	}
	bad += got != len / (size_t)width * (size_t)width;
	bad += rb_u8(&r) != 0 || rb_take(&r, 0) != NULL || rb_done(&r) != -EPROTO;
	return bad;
}

static void test_fixed(void)
{
	static const int widths[] = { 1, 2, 4, 8 };
	int bad = 0;

	for (size_t w = 0; w < ARRAY_SIZE(widths); w++)
		for (size_t len = 0; len <= sizeof(seq); len++)
			bad += read_all(len, widths[w]);
	CHECK_EQ_INT(bad, 0);

	struct rbuf r;

	rb_init(&r, seq + 8, 8);
	CHECK_EQ_INT(rb_i16be(&r), -30326); /* 0x898a */
	CHECK_EQ_INT(rb_i32be(&r), (int32_t)0x8b8c8d8e);
	CHECK_EQ_INT(rb_done(&r), -EPROTO); /* two bytes left over */
	CHECK_EQ_INT(rb_i16be(&r), (int16_t)0x8f90);
	CHECK_EQ_INT(rb_done(&r), 0);
	rb_init(&r, seq + 8, 8);
	CHECK(rb_i64be(&r) == (int64_t)0x898a8b8c8d8e8f90ull);
	CHECK(rb_be64(seq) == 0x0102030405060708ull);
	CHECK_EQ_INT(rb_be32(seq + 12), 0x8d8e8f90u);
	CHECK_EQ_INT(rb_be16(seq + 14), 0x8f90);

	/* No buffer at all is an empty one. */
	rb_init(&r, NULL, 0);
	CHECK_EQ_INT(rb_left(&r), 0);
	CHECK_EQ_INT(rb_done(&r), 0);
	CHECK_EQ_INT(rb_u8(&r), 0);
	CHECK(r.bad);
}

static void test_spans(void)
{
	uint8_t b[2 + 5] = { 0x00, 0x05, 'h', 'e', 'l', 'l', 'o' };
	int bad = 0;

	/* A two-byte length and its bytes, at every length of input. */
	for (size_t len = 0; len <= sizeof(b); len++) {
		const uint8_t *g = guard_copy(b, len);
		struct rbuf r;
		size_t n = 99;
		const uint8_t *s;

		rb_init(&r, g, len);
		s = rb_bytes16(&r, &n);
		if (len < sizeof(b))
			bad += s != NULL || n != 0 || !r.bad || r.p != g;
		else
			bad += s != g + 2 || n != 5 || r.bad || rb_done(&r) != 0;
	}
	CHECK_EQ_INT(bad, 0);

	/* take and skip: a span inside, none past the end. */
	bad = 0;
	for (size_t len = 0; len <= sizeof(seq); len++)
		for (size_t n = 0; n <= len + 1; n++) {
			const uint8_t *g = guard_copy(seq, len);
			struct rbuf r;

			rb_init(&r, g, len);
			bad += rb_take(&r, n) != (n <= len ? g : NULL);
			bad += n <= len ? rb_left(&r) != len - n : !r.bad || r.p != g;
			rb_init(&r, g, len);
			rb_skip(&r, n);
			bad += r.bad != (n > len);
		}
	CHECK_EQ_INT(bad, 0);

	/* An empty span is a span, not an error; SIZE_MAX is an error. */
	struct rbuf r;
	size_t n;

	rb_init(&r, b, sizeof(b));
	CHECK(rb_take(&r, 0) == b);
	CHECK(rb_take(&r, SIZE_MAX) == NULL && r.bad);
	b[1] = 0;
	rb_init(&r, b, 2);
	CHECK(rb_bytes16(&r, &n) == b + 2 && n == 0 && !rb_done(&r));
	CHECK(rb_fail(&r) == false && r.bad);
}

/* ---- MQTT Variable Byte Integer ---- */

static void test_mqtt_varint(void)
{
	/* Malformed [MQTT-1.5.5-1]: a fifth byte, and more bytes than the
	 * value needs. */
	static const struct {
		uint8_t b[5];
		size_t n;
	} bad_vec[] = {
		{ { 0xff, 0xff, 0xff, 0xff, 0x7f }, 5 },
		{ { 0x80, 0x80, 0x80, 0x80, 0x01 }, 5 },
		{ { 0x80, 0x00 }, 2 },
		{ { 0xff, 0x80, 0x00 }, 3 },
		{ { 0x80, 0x80, 0x80, 0x00 }, 4 },
	};
	int bad = 0;

	for (size_t i = 0; i < ARRAY_SIZE(varint_vec); i++) {
		uint8_t w[4];
		struct wbuf wb;
		struct rbuf r;
		uint32_t v = 1;
		size_t used = 0;

		wb_init(&wb, w, sizeof(w));
		wb_varint(&wb, varint_vec[i].v);
		bad += wb_result(&wb) != (ssize_t)varint_vec[i].n || memcmp(w, varint_vec[i].b, varint_vec[i].n);
		/* Every prefix is "need more" to a framer and bad inside one. */
		for (size_t k = 0; k < varint_vec[i].n; k++) {
			const uint8_t *g = guard_copy(varint_vec[i].b, k);

			bad += rb_varint_dec(g, k, &v, &used) != 0;
			rb_init(&r, g, k);
			bad += rb_varint(&r) != 0 || !r.bad || r.p != g;
		}
		rb_init(&r, guard_copy(varint_vec[i].b, varint_vec[i].n), varint_vec[i].n);
		bad += rb_varint(&r) != varint_vec[i].v || rb_done(&r) != 0;
	}
	CHECK_EQ_INT(bad, 0);

	bad = 0;
	for (size_t i = 0; i < ARRAY_SIZE(bad_vec); i++) {
		const uint8_t *g = guard_copy(bad_vec[i].b, bad_vec[i].n);
		uint32_t v;
		size_t used;
		struct rbuf r;

		bad += rb_varint_dec(g, bad_vec[i].n, &v, &used) != -EPROTO;
		rb_init(&r, g, bad_vec[i].n);
		bad += rb_varint(&r) != 0 || !r.bad || r.p != g;
	}
	CHECK_EQ_INT(bad, 0);
}

/* ---- Kafka (protobuf) varints ---- */

struct leb {
	uint8_t b[11];
	size_t n;
	uint64_t v; /* when ok */
	int ok;
};

/* Reads l at every truncation (bad, unmoved) and whole (ok or bad). */
static int check_leb(const struct leb *l, uint64_t (*rd)(struct rbuf *))
{
	int bad = 0;

	for (size_t k = 0; k < l->n; k++) {
		const uint8_t *g = guard_copy(l->b, k);
		struct rbuf r;

		rb_init(&r, g, k);
		bad += rd(&r) != 0 || !r.bad || r.p != g;
	}
	const uint8_t *g = guard_copy(l->b, l->n);
	struct rbuf r;
	uint64_t v;

	rb_init(&r, g, l->n);
	v = rd(&r);
	if (l->ok)
		bad += v != l->v || rb_done(&r) != 0;
	else
		bad += v != 0 || !r.bad || r.p != g;
	if (bad)
		fprintf(stderr, "  leb128 of %zu bytes starting %02x\n", l->n, l->b[0]);
	return bad;
}

static uint64_t rd32(struct rbuf *r)
{
	return rb_uvarint32(r);
}

static void test_uvarint(void)
{
	static const struct leb v32[] = {
		{ { 0x00 }, 1, 0, 1 },
		{ { 0x7f }, 1, 127, 1 },
		{ { 0x80, 0x01 }, 2, 128, 1 },
		{ { 0xff, 0xff, 0xff, 0xff, 0x0f }, 5, UINT32_MAX, 1 },
		/* Padded forms: protobuf and Java's ByteUtils read them. */
		{ { 0x80, 0x00 }, 2, 0, 1 },
		{ { 0x81, 0x80, 0x80, 0x80, 0x00 }, 5, 1, 1 },
		/* Bits past 32 in the fifth byte, a fifth continuation, a sixth. */
		{ { 0xff, 0xff, 0xff, 0xff, 0x1f }, 5, 0, 0 },
		{ { 0x80, 0x80, 0x80, 0x80, 0x10 }, 5, 0, 0 },
		{ { 0xff, 0xff, 0xff, 0xff, 0x8f, 0x00 }, 6, 0, 0 },
		{ { 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 }, 6, 0, 0 },
	};
	static const struct leb v64[] = {
		{ { 0x00 }, 1, 0, 1 },
		{ { 0xff, 0xff, 0xff, 0xff, 0x0f }, 5, UINT32_MAX, 1 },
		{ { 0x80, 0x80, 0x80, 0x80, 0x10 }, 5, 1ull << 32, 1 },
		{ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 10, UINT64_MAX, 1 },
		{ { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, 10, 1ull << 63, 1 },
		{ { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 }, 10, 0, 1 },
		{ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 }, 10, 0, 0 },
		{ { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00 }, 11, 0, 0 },
	};
	int bad = 0;

	for (size_t i = 0; i < ARRAY_SIZE(v32); i++)
		bad += check_leb(&v32[i], rd32);
	for (size_t i = 0; i < ARRAY_SIZE(v64); i++)
		bad += check_leb(&v64[i], rb_uvarint64);
	CHECK_EQ_INT(bad, 0);

	/* What wbuf writes, rbuf reads, at each size's edges. */
	bad = 0;
	for (int s = 0; s < 64; s++)
		for (int d = -1; d <= 1; d++) {
			uint64_t v = (1ull << s) + (uint64_t)d;
			uint8_t b[10];
			struct wbuf w;
			struct rbuf r;

			wb_init(&w, b, sizeof(b));
			wb_uvarint(&w, v);
			rb_init(&r, guard_copy(b, wb_len(&w)), wb_len(&w));
			bad += rb_uvarint64(&r) != v || rb_done(&r);
			rb_init(&r, guard_copy(b, wb_len(&w)), wb_len(&w));
			if (v <= UINT32_MAX)
				bad += rb_uvarint32(&r) != v || rb_done(&r);
			else
				bad += rb_uvarint32(&r) != 0 || !r.bad;
		}
	CHECK_EQ_INT(bad, 0);
}

static void test_zigzag(void)
{
	static const int64_t v64[] = { 0, 1, -1, 23, -23, 253, INT32_MAX, INT32_MIN,
				       (int64_t)INT32_MAX + 1, (int64_t)INT32_MIN - 1,
				       1234567890101112LL, -1234567890101112LL, INT64_MAX,
				       INT64_MIN };
	static const uint8_t i32_min[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
	static const uint8_t i32_max[] = { 0xfe, 0xff, 0xff, 0xff, 0x0f };
	int bad = 0;

	for (size_t i = 0; i < ARRAY_SIZE(v64); i++) {
		uint8_t b[10];
		struct wbuf w;
		struct rbuf r;
		bool fits32 = v64[i] >= INT32_MIN && v64[i] <= INT32_MAX;

		wb_init(&w, b, sizeof(b));
		wb_zigzag64(&w, v64[i]);
		rb_init(&r, guard_copy(b, wb_len(&w)), wb_len(&w));
		bad += rb_zigzag64(&r) != v64[i] || rb_done(&r);
		rb_init(&r, guard_copy(b, wb_len(&w)), wb_len(&w));
		if (fits32)
			bad += rb_zigzag32(&r) != v64[i] || rb_done(&r);
		else
			bad += rb_zigzag32(&r) != 0 || !r.bad;
	}
	CHECK_EQ_INT(bad, 0);

	struct rbuf r;

	rb_init(&r, i32_min, sizeof(i32_min));
	CHECK_EQ_INT(rb_zigzag32(&r), INT32_MIN);
	rb_init(&r, i32_max, sizeof(i32_max));
	CHECK_EQ_INT(rb_zigzag32(&r), INT32_MAX);
}

int main(void)
{
	if (guard_init(64)) {
		perror("guard page");
		return T_FAIL;
	}
	test_fixed();
	test_spans();
	test_mqtt_varint();
	test_uvarint();
	test_zigzag();
	return t_done("test_rbuf");
}
