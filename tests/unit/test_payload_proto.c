/* Protobuf payloads: what payload_gen_fill writes must decode, with
 * protobuf-c's generated unpackers for the compiled-in messages and with
 * protoc --decode (or a small wire walker) for a message known only from a
 * .desc file, into the values each generator promises. Every bad --field
 * must fail at setup with one clear line. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alive.pb-c.h"
#include "payload/protobuf.h"
#include "t.h"
#include "tagdata.pb-c.h"

#define FIELDS_MAX 32

static char tmpdir[] = "/tmp/test_payload_proto.XXXXXX";
static char root[4096] = "."; /* the repository: proto/ is under it */

/* A blast_opts with just the protobuf settings; fields are "name=gen". */
struct popts {
	struct blast_opts o;
	struct field_spec f[FIELDS_MAX];
	char text[FIELDS_MAX][256];
};

static void popts_set(struct popts *p, const char *msg, const char *desc, const char *const *fields)
{
	memset(p, 0, sizeof(*p));
	p->o.payload_proto = (char *)msg;
	p->o.payload_proto_desc = (char *)desc;
	p->o.fields = p->f;
	for (size_t i = 0; fields && fields[i]; i++) {
		char *eq;
		snprintf(p->text[i], sizeof(p->text[i]), "%s", fields[i]);
		eq = strchr(p->text[i], '=');
		*eq = '\0';
		p->f[i].name = p->text[i];
		p->f[i].gen = eq + 1;
		p->o.n_fields++;
	}
}

#define FIELDS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static struct payload_gen *gen_at(int line, const char *msg, const char *desc,
				  const char *const *fields)
{
	struct popts p;
	char err[512];
	struct payload_gen *g;

	popts_set(&p, msg, desc, fields);
	g = payload_gen_new(&p.o, err, sizeof(err));
	t_checks++;
	if (!g) {
		t_failures++;
		fprintf(stderr, "%s:%d: payload_gen_new refused: %s\n", __FILE__, line, err);
	}
	return g;
}

#define GEN(msg, desc, ...) gen_at(__LINE__, msg, desc, FIELDS(__VA_ARGS__))

/* payload_gen_new must fail with one line containing want. */
static void bad_at(int line, const char *want, const char *msg, const char *desc,
		   const char *const *fields)
{
	struct popts p;
	char err[512];
	struct payload_gen *g;

	popts_set(&p, msg, desc, fields);
	memset(err, 'x', sizeof(err));
	g = payload_gen_new(&p.o, err, sizeof(err));
	t_checks++;
	if (g || !strstr(err, want) || strchr(err, '\n')) {
		t_failures++;
		fprintf(stderr, "%s:%d: wanted failure \"%s\", got %s: [%s]\n", __FILE__, line, want,
			g ? "a generator" : "NULL", g ? "" : err);
	}
	payload_gen_free(g);
}

#define BAD(want, msg, desc, ...) bad_at(__LINE__, want, msg, desc, FIELDS(__VA_ARGS__))

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *tmp_path(const char *name)
{
	static char bufs[8][4096 + 64];
	static unsigned next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", tmpdir, name);
	return b;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(T_FAIL);
	}
}

static int run(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* ---- a small wire walker, for messages protobuf-c was not built for ---- */

struct wf {
	int wt;
	uint64_t v;	   /* varint, fixed32, fixed64 */
	const uint8_t *p;  /* length-delimited */
	size_t len;
	unsigned count;	   /* how many times the field came */
};

static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (unsigned s = 0; s < 70 && *p < end; s += 7) {
		uint8_t b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << s;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/* Finds field num (its last occurrence). Returns 0, or -1 if malformed. */
static int wire_get(const uint8_t *buf, size_t len, uint32_t num, struct wf *out)
{
	const uint8_t *p = buf, *end = buf + len;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		uint64_t key, v = 0, n = 0;
		const uint8_t *at;

		if (get_varint(&p, end, &key))
			return -1;
		switch (key & 7) {
		case 0:
			if (get_varint(&p, end, &v))
				return -1;
			break;
		case 1:
		case 5:
			n = (key & 7) == 1 ? 8 : 4;
			if ((size_t)(end - p) < n)
				return -1;
			for (unsigned i = 0; i < n; i++)
				v |= (uint64_t)p[i] << (8 * i);
			p += n;
			break;
		case 2:
			if (get_varint(&p, end, &n) || (uint64_t)(end - p) < n)
				return -1;
			break;
		default:
			return -1;
		}
		at = p;
		if ((key & 7) == 2)
			p += n;
		if (key >> 3 == num) {
			out->wt = (int)(key & 7);
			out->v = v;
			out->p = at;
			out->len = (size_t)n;
			out->count++;
		}
	}
	return 0;
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* ---- compiled-in messages ---- */

static void test_tagdata(void)
{
	struct payload_gen *g = GEN("TagData", NULL, "detached=bernoulli:0.2", "battery_low=true",
				    "distance=uniform:1.5:9.5", "timestamp=now");
	uint8_t buf[256];
	const int n = 20000;
	int detached = 0, bad = 0;
	double sum = 0, lo = 1e9, hi = -1e9;

	if (!g)
		return;
	CHECK(!strcmp(payload_gen_name(g), "TagData"));
	CHECK(payload_gen_max_size(g) <= sizeof(buf));
	for (int i = 0; i < n; i++) {
		ssize_t len = payload_gen_fill(g, (uint64_t)i, buf, sizeof(buf));
		int64_t ms = now_ms();
		TagData *m;

		if (len <= 0 || (size_t)len > payload_gen_max_size(g)) {
			bad++;
			continue;
		}
		m = tag_data__unpack(NULL, (size_t)len, buf);
		if (!m) {
			bad++;
			continue;
		}
		detached += m->detached;
		if (!m->battery_low || !(m->distance >= 1.5 && m->distance < 9.5) || !m->timestamp ||
		    m->timestamp->nanos < 0 || m->timestamp->nanos >= 1000000000 ||
		    llabs(m->timestamp->seconds * 1000 + m->timestamp->nanos / 1000000 - ms) > 2000)
			bad++;
		sum += m->distance;
		lo = m->distance < lo ? m->distance : lo;
		hi = m->distance > hi ? m->distance : hi;
		tag_data__free_unpacked(m, NULL);
	}
	CHECK_EQ_INT(bad, 0);
	/* sd of the count is about 57: 0.2 +- 0.02 is seven of them. */
	CHECK(fabs(detached / (double)n - 0.2) < 0.02);
	CHECK(fabs(sum / n - 5.5) < 0.1);
	CHECK(lo < 1.6 && hi > 9.4);
	payload_gen_free(g);
}

static void test_normal_and_ints(void)
{
	struct payload_gen *g = GEN("TagData", NULL, "distance=normal:20:5",
				    "timestamp.seconds=normal:-3:2", "timestamp.nanos=uniform:-2:2");
	uint8_t buf[128];
	const int n = 20000;
	double sum = 0, sq = 0, isum = 0;
	int bad = 0, ends[5] = { 0 };

	if (!g)
		return;
	for (int i = 0; i < n; i++) {
		ssize_t len = payload_gen_fill(g, 0, buf, sizeof(buf));
		TagData *m = len > 0 ? tag_data__unpack(NULL, (size_t)len, buf) : NULL;

		if (!m || !m->timestamp) {
			bad++;
			if (m)
				tag_data__free_unpacked(m, NULL);
			continue;
		}
		sum += m->distance;
		sq += m->distance * m->distance;
		isum += (double)m->timestamp->seconds;
		if (m->timestamp->nanos < -2 || m->timestamp->nanos > 2)
			bad++;
		else
			ends[m->timestamp->nanos + 2]++;
		tag_data__free_unpacked(m, NULL);
	}
	double mean = sum / n, sd = sqrt(sq / n - mean * mean);
	CHECK_EQ_INT(bad, 0);
	CHECK(fabs(mean - 20) < 0.2);
	CHECK(fabs(sd - 5) < 0.2);
	CHECK(fabs(isum / n + 3) < 0.1); /* normal on an int64: rounded */
	for (int i = 0; i < 5; i++)
		CHECK(ends[i] > n / 5 - n / 20 && ends[i] < n / 5 + n / 20); /* both ends reached */
	payload_gen_free(g);
}

static void test_alive(void)
{
	/* seq on uint32 and uint64, zigzag, choice, consts in a nested message. */
	struct payload_gen *g = GEN("Alive", NULL, "tag_id=seq", "uptime_s=seq",
				    "rssi=uniform:-90:-30", "battery_mv=choice:3000|3300|3600",
				    "timestamp.seconds=const:1700000000", "timestamp.nanos=5");
	uint8_t buf[128];
	int bad = 0, lo = 0, hi = 0, seen[3] = { 0 };

	if (!g)
		return;
	for (uint64_t i = 0; i < 5000; i++) {
		uint64_t seq = i * 977 + (i & 1 ? (1ull << 40) : 0);
		ssize_t len = payload_gen_fill(g, seq, buf, sizeof(buf));
		Alive *m = len > 0 ? alive__unpack(NULL, (size_t)len, buf) : NULL;

		if (!m) {
			bad++;
			continue;
		}
		if (m->tag_id != (uint32_t)seq || m->uptime_s != seq || m->rssi < -90 ||
		    m->rssi > -30 || !m->timestamp || m->timestamp->seconds != 1700000000 ||
		    m->timestamp->nanos != 5)
			bad++;
		lo += m->rssi == -90;
		hi += m->rssi == -30;
		if (m->battery_mv == 3000 || m->battery_mv == 3300 || m->battery_mv == 3600)
			seen[(m->battery_mv - 3000) / 300]++;
		else
			bad++;
		alive__free_unpacked(m, NULL);
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(lo > 0 && hi > 0);
	CHECK(seen[0] > 1500 && seen[1] > 1500 && seen[2] > 1500);
	payload_gen_free(g);

	/* now on an int64 is unix milliseconds. */
	g = GEN("Alive", NULL, "timestamp.seconds=now");
	if (g) {
		ssize_t len = payload_gen_fill(g, 0, buf, sizeof(buf));
		Alive *m = len > 0 ? alive__unpack(NULL, (size_t)len, buf) : NULL;
		CHECK(m && m->timestamp && llabs(m->timestamp->seconds - now_ms()) < 2000);
		if (m)
			alive__free_unpacked(m, NULL);
		payload_gen_free(g);
	}
}

/* Constants must come out byte for byte as protobuf-c packs them. */
static void test_golden(void)
{
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	TagData want = TAG_DATA__INIT;
	uint8_t ref[128], buf[128];
	struct payload_gen *g = GEN("TagData", NULL, "timestamp.nanos=const:999999999",
				    "detached=false", "battery_low=true", "distance=3.5",
				    "timestamp.seconds=-5");
	size_t n;
	ssize_t len;

	ts.seconds = -5;
	ts.nanos = 999999999;
	want.battery_low = 1;
	want.distance = 3.5;
	want.timestamp = &ts;
	n = tag_data__pack(&want, ref);
	if (!g)
		return;
	len = payload_gen_fill(g, 0, buf, sizeof(buf));
	CHECK_MEM(buf, len, ref, n);
	/* Hand-checked: 10 01 | 19 3.5 | 22 11 (08 -5 as ten bytes, 10 999999999). */
	static const uint8_t hand[] = {
		0x10, 0x01, 0x19, 0, 0, 0, 0, 0, 0, 0x0c, 0x40, 0x22, 0x11, 0x08, 0xfb, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x10, 0xff, 0x93, 0xeb, 0xdc, 0x03,
	};
	CHECK_MEM(buf, len, hand, sizeof(hand));
	payload_gen_free(g);

	/* Proto3 zeros are left out, as protobuf-c does; an empty nested
	 * message is still sent, since its presence is the value. */
	g = GEN("TagData", NULL, "distance=0", "detached=bernoulli:0", "timestamp.nanos=0");
	if (g) {
		static const uint8_t empty_ts[] = { 0x22, 0x00 };
		len = payload_gen_fill(g, 0, buf, sizeof(buf));
		CHECK_MEM(buf, len, empty_ts, sizeof(empty_ts));
		payload_gen_free(g);
	}
	/* No fields: an empty message. */
	g = GEN("TagData", NULL, NULL);
	if (g) {
		CHECK_EQ_INT(payload_gen_fill(g, 0, buf, sizeof(buf)), 0);
		CHECK_EQ_INT(payload_gen_max_size(g), 0);
		CHECK_EQ_INT(payload_gen_fill(g, 0, buf, 0), 0);
		payload_gen_free(g);
	}
}

static void test_space_and_seed(void)
{
	struct payload_gen *g = GEN("TagData", NULL, "distance=uniform:0:1", "battery_low=true",
				    "timestamp=now");
	struct payload_gen *g2 = GEN("TagData", NULL, "distance=uniform:0:1", "battery_low=true",
				     "timestamp=now");
	uint8_t buf[128], guard[128 + 16];
	ssize_t len, r;

	if (!g || !g2)
		goto out;
	len = payload_gen_fill(g, 0, buf, sizeof(buf));
	CHECK(len > 0 && (size_t)len < payload_gen_max_size(g));
	/* Each short capacity: -ENOSPC and not a byte written past cap. */
	for (ssize_t cap = 0; cap < len; cap++) {
		memset(guard, 0xa5, sizeof(guard));
		r = payload_gen_fill(g, 0, guard, (size_t)cap);
		CHECK_EQ_INT(r, -ENOSPC);
		for (size_t i = (size_t)cap; i < sizeof(guard); i++)
			if (guard[i] != 0xa5) {
				CHECK(!"byte written past cap");
				break;
			}
	}
	/* Between the real size and the bound: fits, through the scratch. */
	r = payload_gen_fill(g, 0, guard, (size_t)len);
	CHECK_EQ_INT(r, len);

	/* Same seed, same randoms; another seed, others. */
	payload_gen_seed(g, 7);
	payload_gen_seed(g2, 7);
	int same = 0, differ = 0;
	for (int i = 0; i < 100; i++) {
		TagData *a, *b;
		uint8_t b1[128], b2[128];
		ssize_t l1 = payload_gen_fill(g, 0, b1, sizeof(b1));
		ssize_t l2 = payload_gen_fill(g2, 0, b2, sizeof(b2));
		a = tag_data__unpack(NULL, (size_t)l1, b1);
		b = tag_data__unpack(NULL, (size_t)l2, b2);
		same += a && b && a->distance == b->distance;
		if (a)
			tag_data__free_unpacked(a, NULL);
		if (b)
			tag_data__free_unpacked(b, NULL);
	}
	payload_gen_seed(g2, 8);
	for (int i = 0; i < 100; i++) {
		uint8_t b1[128], b2[128];
		ssize_t l1 = payload_gen_fill(g, 0, b1, sizeof(b1));
		ssize_t l2 = payload_gen_fill(g2, 0, b2, sizeof(b2));
		TagData *a = tag_data__unpack(NULL, (size_t)l1, b1);
		TagData *b = tag_data__unpack(NULL, (size_t)l2, b2);
		differ += a && b && a->distance != b->distance;
		if (a)
			tag_data__free_unpacked(a, NULL);
		if (b)
			tag_data__free_unpacked(b, NULL);
	}
	CHECK_EQ_INT(same, 100);
	CHECK(differ > 95);
out:
	payload_gen_free(g);
	payload_gen_free(g2);
}

static void test_speed(void)
{
	struct payload_gen *g = GEN("TagData", NULL, "detached=bernoulli:0.01",
				    "battery_low=bernoulli:0.05", "distance=uniform:0:100",
				    "timestamp=now");
	const int n = 1000000;
	struct timespec a, b;
	uint8_t buf[64];
	uint64_t bytes = 0;

	if (!g)
		return;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n; i++)
		bytes += (uint64_t)payload_gen_fill(g, (uint64_t)i, buf, sizeof(buf));
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
	fprintf(stderr, "TagData: %.0f ns per message, %.1f bytes on average\n", ns,
		(double)bytes / n);
#if defined(__SANITIZE_ADDRESS__)
	CHECK(ns < 20000); /* sanitizers: only that it is not absurd */
#else
	CHECK(ns < 1000);
#endif
	payload_gen_free(g);
}

/* ---- from a .desc ---- */

static const char demo_proto[] =
	"syntax = \"proto3\";\n"
	"package demo;\n"
	"import \"google/protobuf/timestamp.proto\";\n"
	"message Reading {\n"
	"  enum Kind { KIND_UNKNOWN = 0; TEMP = 1; HUMIDITY = 2; }\n"
	"  message Where { double lat = 1; double lon = 2; string room = 3; }\n"
	"  string device = 1;\n"
	"  sint32 temp = 2;\n"
	"  fixed64 id = 3;\n"
	"  Kind kind = 4;\n"
	"  bytes blob = 5;\n"
	"  Where where = 6;\n"
	"  float ratio = 7;\n"
	"  sfixed32 delta = 8;\n"
	"  int32 level = 9;\n"
	"  uint64 big = 10;\n"
	"  google.protobuf.Timestamp at = 11;\n"
	"  repeated int32 samples = 12;\n"
	"  optional int32 maybe = 13;\n"
	"  int64 when_ms = 14;\n"
	"  sint64 drift = 15;\n"
	"  string tag = 16;\n"
	"}\n"
	"message Where { string name = 1; }\n";

static const char dur_proto[] =
	"syntax = \"proto3\";\n"
	"import \"google/protobuf/duration.proto\";\n"
	"import \"google/protobuf/timestamp.proto\";\n"
	"message Lap { google.protobuf.Duration d = 1; google.protobuf.Timestamp t = 2; }\n";

static void test_desc_tagdata(const char *desc, const char *nots_desc)
{
	struct payload_gen *g;
	uint8_t buf[128];
	int bad = 0, det = 0;

	/* The same checks as for the compiled-in TagData. */
	BAD("--field distance=seq: distance is a double, seq needs an integer", "TagData", desc,
	    "detached=bernoulli:0.5", "distance=seq");
	g = GEN("TagData", desc, "detached=bernoulli:0.5", "distance=uniform:-1:1",
		"battery_low=choice:true|false", "timestamp=now");
	if (!g)
		return;
	for (int i = 0; i < 2000; i++) {
		ssize_t len = payload_gen_fill(g, 0, buf, sizeof(buf));
		TagData *m = len > 0 ? tag_data__unpack(NULL, (size_t)len, buf) : NULL;
		if (!m || !m->timestamp || m->distance < -1 || m->distance >= 1 ||
		    llabs(m->timestamp->seconds * 1000 + m->timestamp->nanos / 1000000 - now_ms()) >
			    2000)
			bad++;
		if (m) {
			det += m->detached;
			tag_data__free_unpacked(m, NULL);
		}
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(det > 800 && det < 1200);
	payload_gen_free(g);

	/* Without --include_imports Timestamp is not in the set: blast
	 * knows its shape anyway. */
	g = GEN("TagData", nots_desc, "timestamp=now", "distance=2");
	if (g) {
		ssize_t len = payload_gen_fill(g, 0, buf, sizeof(buf));
		TagData *m = len > 0 ? tag_data__unpack(NULL, (size_t)len, buf) : NULL;
		CHECK(m && m->timestamp && m->distance == 2 &&
		      llabs(m->timestamp->seconds - now_ms() / 1000) < 3);
		if (m)
			tag_data__free_unpacked(m, NULL);
		payload_gen_free(g);
	}
	g = GEN("TagData", nots_desc, "timestamp.seconds=5", "timestamp.nanos=6");
	if (g) {
		ssize_t len = payload_gen_fill(g, 0, buf, sizeof(buf));
		TagData *m = len > 0 ? tag_data__unpack(NULL, (size_t)len, buf) : NULL;
		CHECK(m && m->timestamp && m->timestamp->seconds == 5 && m->timestamp->nanos == 6);
		if (m)
			tag_data__free_unpacked(m, NULL);
		payload_gen_free(g);
	}
}

static void test_desc_only(const char *desc)
{
	struct payload_gen *g = GEN(
		"Reading", desc, "device=choice:dev-a|dev-b", "temp=uniform:-40:40", "id=seq",
		"kind=HUMIDITY", "blob=bytes:16", "where.lat=uniform:-90:90", "where.room=kitchen",
		"ratio=normal:0.5:0.1", "delta=-7", "level=-1", "big=18446744073709551615",
		"at=now", "samples=3", "maybe=0", "when_ms=now", "drift=uniform:-3:3",
		"tag=bytes:12");
	uint8_t buf[512];
	int bad = 0, devs[2] = { 0 }, temp_ends = 0;
	char path[4200];

	if (!g)
		return;
	CHECK(!strcmp(payload_gen_name(g), "demo.Reading"));
	for (uint64_t i = 0; i < 3000; i++) {
		uint64_t seq = i * 1000003;
		ssize_t len = payload_gen_fill(g, seq, buf, sizeof(buf));
		struct wf f;
		float ratio;

		if (len <= 0 || (size_t)len > payload_gen_max_size(g)) {
			bad++;
			continue;
		}
		/* 1 device */
		if (wire_get(buf, (size_t)len, 1, &f) || f.wt != 2 || f.len != 5 ||
		    memcmp(f.p, "dev-", 4) || (f.p[4] != 'a' && f.p[4] != 'b'))
			bad++;
		else
			devs[f.p[4] - 'a']++;
		/* 2 temp, zigzag */
		if (wire_get(buf, (size_t)len, 2, &f) || (f.count && f.wt != 0) ||
		    unzigzag(f.v) < -40 || unzigzag(f.v) > 40)
			bad++;
		temp_ends += f.count && (unzigzag(f.v) == -40 || unzigzag(f.v) == 40);
		/* 3 id, fixed64 = seq (a zero seq is left out) */
		if (wire_get(buf, (size_t)len, 3, &f) || (seq && (f.wt != 1 || f.v != seq)))
			bad++;
		/* 4 kind = HUMIDITY (2) */
		if (wire_get(buf, (size_t)len, 4, &f) || f.wt != 0 || f.v != 2)
			bad++;
		/* 5 blob: 16 bytes */
		if (wire_get(buf, (size_t)len, 5, &f) || f.wt != 2 || f.len != 16)
			bad++;
		/* 6 where { lat in [-90, 90), room "kitchen" } */
		if (wire_get(buf, (size_t)len, 6, &f) || f.wt != 2) {
			bad++;
		} else {
			struct wf lat, room;
			const uint8_t *w = f.p;
			size_t wl = f.len;
			double d;
			if (wire_get(w, wl, 1, &lat) || wire_get(w, wl, 3, &room) || room.len != 7 ||
			    memcmp(room.p, "kitchen", 7))
				bad++;
			memcpy(&d, &lat.v, 8);
			if (lat.count && (lat.wt != 1 || d < -90 || d >= 90))
				bad++;
		}
		/* 7 ratio, float */
		if (wire_get(buf, (size_t)len, 7, &f) || f.wt != 5)
			bad++;
		uint32_t rb = (uint32_t)f.v;
		memcpy(&ratio, &rb, 4);
		if (!(ratio > -1 && ratio < 2))
			bad++;
		/* 8 delta sfixed32 -7; 9 level int32 -1 as ten bytes; 10 big */
		if (wire_get(buf, (size_t)len, 8, &f) || f.wt != 5 || (int32_t)f.v != -7)
			bad++;
		if (wire_get(buf, (size_t)len, 9, &f) || f.wt != 0 || f.v != UINT64_MAX)
			bad++;
		if (wire_get(buf, (size_t)len, 10, &f) || f.v != UINT64_MAX)
			bad++;
		/* 11 at: a Timestamp near now */
		if (wire_get(buf, (size_t)len, 11, &f) || f.wt != 2) {
			bad++;
		} else {
			struct wf s;
			if (wire_get(f.p, f.len, 1, &s) || llabs((int64_t)s.v - now_ms() / 1000) > 2)
				bad++;
		}
		/* 12 samples: one element 3; 13 maybe: present although 0 */
		if (wire_get(buf, (size_t)len, 12, &f) || f.count != 1 || f.v != 3)
			bad++;
		if (wire_get(buf, (size_t)len, 13, &f) || f.count != 1 || f.v != 0)
			bad++;
		/* 14 when_ms: unix ms; 15 drift: zigzag sint64 */
		if (wire_get(buf, (size_t)len, 14, &f) || llabs((int64_t)f.v - now_ms()) > 2000)
			bad++;
		if (wire_get(buf, (size_t)len, 15, &f) || unzigzag(f.v) < -3 || unzigzag(f.v) > 3)
			bad++;
		/* 16 tag: 12 lowercase letters and digits */
		if (wire_get(buf, (size_t)len, 16, &f) || f.len != 12)
			bad++;
		for (size_t j = 0; j < f.len; j++)
			if (!((f.p[j] >= 'a' && f.p[j] <= 'z') || (f.p[j] >= '0' && f.p[j] <= '9')))
				bad++;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(devs[0] > 1200 && devs[1] > 1200);
	CHECK(temp_ends > 0);

	/* protoc itself, reading one payload against the .proto. */
	ssize_t len = payload_gen_fill(g, 42, buf, sizeof(buf));
	write_file(tmp_path("one.bin"), buf, (size_t)len);
	snprintf(path, sizeof(path), "%s", tmp_path("decoded.txt"));
	if (run("cd %s && protoc --decode=demo.Reading -I. -I/usr/include demo.proto <one.bin >%s 2>&1",
		tmpdir, path) == 0) {
		char text[4096] = "";
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
		static const char *const want[] = {
			"temp: ", "id: 42\n", "kind: HUMIDITY\n", "room: \"kitchen\"", "delta: -7\n",
			"level: -1\n", "big: 18446744073709551615\n", "samples: 3\n", "maybe: 0\n",
			"at {\n  seconds: ", "lat: ",
		};

		if (f)
			fclose(f);
		text[n] = '\0';
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			t_checks++;
			if (!strstr(text, want[i])) {
				t_failures++;
				fprintf(stderr, "%s:%d: protoc --decode lacks \"%s\":\n%s\n", __FILE__,
					__LINE__, want[i], text);
			}
		}
	} else {
		CHECK(!"protoc --decode failed on a payload");
	}
	payload_gen_free(g);

	/* By full name too; a nested message can be the payload. */
	g = GEN("demo.Reading", desc, "kind=1");
	if (g) {
		static const uint8_t want[] = { 0x20, 0x01 };
		CHECK_MEM(buf, payload_gen_fill(g, 0, buf, sizeof(buf)), want, sizeof(want));
		payload_gen_free(g);
	}
	g = GEN("demo.Reading.Where", desc, "room=x");
	if (g) {
		static const uint8_t want[] = { 0x1a, 0x01, 'x' };
		CHECK_MEM(buf, payload_gen_fill(g, 0, buf, sizeof(buf)), want, sizeof(want));
		payload_gen_free(g);
	}
}

static void test_desc_errors(const char *desc, const char *dur_desc)
{
	BAD("--payload-proto Where: more than one message in", "Where", desc, NULL);
	BAD("--payload-proto Alive: no such message in", "Alive", desc, NULL);
	BAD("--field kind=NOPE: kind is an enum demo.Reading.Kind, which has no value NOPE (its "
	    "values: KIND_UNKNOWN, TEMP, HUMIDITY)",
	    "Reading", desc, "kind=NOPE");
	BAD("--field blob=bytes:2000000: bytes needs a length N from 0 to 1048576", "Reading", desc,
	    "blob=bytes:2000000");
	BAD("--field where=now: where is a message demo.Reading.Where, now needs a "
	    "google.protobuf.Timestamp",
	    "Reading", desc, "where=now");
	BAD("--field where=1: where is a message demo.Reading.Where: set its fields instead "
	    "(where.NAME=...)",
	    "Reading", desc, "where=1");
	BAD("--field where.room=uniform:0:1: room is a string, uniform needs a number", "Reading",
	    desc, "where.room=uniform:0:1");
	BAD("--field temp=uniform:-3000000000:0: temp is a sint32: -3000000000 is not an integer "
	    "from -2147483648 to 2147483647",
	    "Reading", desc, "temp=uniform:-3000000000:0");
	BAD("--field big=-1: big is a uint64: -1 is not an integer from 0 to 18446744073709551615",
	    "Reading", desc, "big=-1");
	BAD("--field ratio=seq: ratio is a float, seq needs an integer", "Reading", desc,
	    "ratio=seq");
	BAD("--field samples=bernoulli:0.5: samples is a repeated int32, bernoulli needs a bool",
	    "Reading", desc, "samples=bernoulli:0.5");
	BAD("--field d.seconds=1: Lap.d has type google.protobuf.Duration, which", "Lap", dur_desc,
	    "d.seconds=1");
}

static void test_errors(void)
{
	char junk[] = "this is not a descriptor set \x01\x02\x03";
	char *junk_path = tmp_path("junk.desc"), *empty_path = tmp_path("empty.desc");

	write_file(junk_path, junk, sizeof(junk) - 1);
	write_file(empty_path, "", 0);
	BAD("no --payload-proto", NULL, NULL, NULL);
	BAD("--payload-proto Nope: not a compiled-in message (TagData, Alive); describe others "
	    "with --payload-proto-desc FILE.desc",
	    "Nope", NULL, NULL);
	BAD("--payload-proto-desc /nonexistent/x.desc: No such file or directory", "TagData",
	    "/nonexistent/x.desc", NULL);
	BAD("not a FileDescriptorSet (make one with protoc -o FILE.desc --include_imports",
	    "TagData", junk_path, NULL);
	BAD("not a FileDescriptorSet", "TagData", empty_path, NULL);
	BAD("--payload-proto-desc /tmp: Is a directory", "TagData", "/tmp", NULL);
	BAD("--field nosuch=uniform:0:1: TagData has no field nosuch (its fields: detached, "
	    "battery_low, distance, timestamp)",
	    "TagData", NULL, "nosuch=uniform:0:1");
	/* The brief's own example, word for word. */
	BAD("--field distance=bernoulli:0.1: distance is a double, bernoulli needs a bool",
	    "TagData", NULL, "distance=bernoulli:0.1");
	BAD("--field detached=bernoulli:2: bernoulli needs a probability P from 0 to 1",
	    "TagData", NULL, "detached=bernoulli:2");
	BAD("--field detached=bernoulli:-0.1: bernoulli needs", "TagData", NULL,
	    "detached=bernoulli:-0.1");
	BAD("--field detached=uniform:0:1: detached is a bool, uniform needs a number", "TagData",
	    NULL, "detached=uniform:0:1");
	BAD("--field detached=maybe: detached is a bool, const maybe is not true or false",
	    "TagData", NULL, "detached=maybe");
	BAD("--field distance=abc: distance is a double, const abc is not a number", "TagData",
	    NULL, "distance=abc");
	BAD("--field distance=seq: distance is a double, seq needs an integer", "TagData", NULL,
	    "distance=seq");
	BAD("--field distance=now: distance is a double, now needs a google.protobuf.Timestamp "
	    "or a 64-bit integer (unix ms)",
	    "TagData", NULL, "distance=now");
	BAD("--field distance=uniform:5: uniform needs LO:HI", "TagData", NULL,
	    "distance=uniform:5");
	BAD("--field distance=uniform:a:b: uniform needs two numbers", "TagData", NULL,
	    "distance=uniform:a:b");
	BAD("--field distance=uniform:9:1: uniform LO 9 is more than HI 1", "TagData", NULL,
	    "distance=uniform:9:1");
	BAD("--field distance=normal:0:-1: normal SD -1 must not be negative", "TagData", NULL,
	    "distance=normal:0:-1");
	BAD("--field distance=normal:x: normal needs two numbers MEAN:SD", "TagData", NULL,
	    "distance=normal:x");
	BAD("--field distance=choice:1|x: distance is a double, choice value x is not a number",
	    "TagData", NULL, "distance=choice:1|x");
	BAD("--field distance=bytes:4: distance is a double, bytes needs a bytes or string field",
	    "TagData", NULL, "distance=bytes:4");
	BAD("--field timestamp.nanos=uniform:0:3000000000: nanos is an int32: 3000000000 is not "
	    "an integer from -2147483648 to 2147483647",
	    "TagData", NULL, "timestamp.nanos=uniform:0:3000000000");
	BAD("--field tag_id=-1: tag_id is a uint32: -1 is not an integer from 0 to 4294967295",
	    "Alive", NULL, "tag_id=-1");
	BAD("--field rssi=uniform:5:1: uniform LO 5 is more than HI 1", "Alive", NULL,
	    "rssi=uniform:5:1");
	BAD("--field timestamp=const:1: timestamp is a message google.protobuf.Timestamp: give "
	    "it now, or set its fields (timestamp.seconds=...)",
	    "TagData", NULL, "timestamp=const:1");
	BAD("--field distance.x=1: distance is a double, not a message", "TagData", NULL,
	    "distance.x=1");
	BAD("--field timestamp.foo=1: google.protobuf.Timestamp has no field foo (its fields: "
	    "seconds, nanos)",
	    "TagData", NULL, "timestamp.foo=1");
	BAD("--field timestamp..seconds=1: timestamp..seconds is not a field name", "TagData", NULL,
	    "timestamp..seconds=1");
	BAD("--field distance=2: distance is given twice", "TagData", NULL, "distance=1",
	    "distance=2");
	BAD("--field timestamp.nanos=1: timestamp is already set by --field timestamp=now",
	    "TagData", NULL, "timestamp=now", "timestamp.nanos=1");
	BAD("--field timestamp=now: timestamp is already set through its fields by --field "
	    "timestamp.nanos=1",
	    "TagData", NULL, "timestamp.nanos=1", "timestamp=now");
	BAD("--field timestamp.nanos=2: timestamp.nanos is given twice", "TagData", NULL,
	    "timestamp.nanos=1", "timestamp.nanos=2");

	/* A tiny error buffer is cut, never overrun. */
	struct popts p;
	char small[8];
	popts_set(&p, "TagData", NULL, FIELDS("nosuch=1"));
	memset(small, 'x', sizeof(small));
	CHECK(!payload_gen_new(&p.o, small, 6));
	CHECK(strlen(small) == 5 && small[6] == 'x');
	unlink(junk_path);
	unlink(empty_path);
}

/* Finds proto/ from the source path, so the test runs from any directory. */
static void find_root(void)
{
	const char *src = __FILE__, *cut = strstr(src, "tests/unit/");
	struct stat st;

	if (src[0] == '/' && cut && (size_t)(cut - src) < sizeof(root)) {
		memcpy(root, src, (size_t)(cut - src));
		root[cut - src] = '\0';
	}
	if (stat("proto/tagdata.proto", &st) == 0)
		snprintf(root, sizeof(root), ".");
}

int main(void)
{
	char desc[4200], nots[4200], demo[4200], dur[4200];

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return T_FAIL;
	}
	find_root();
	test_tagdata();
	test_normal_and_ints();
	test_alive();
	test_golden();
	test_space_and_seed();
	test_speed();
	test_errors();

	snprintf(desc, sizeof(desc), "%s", tmp_path("tagdata.desc"));
	snprintf(nots, sizeof(nots), "%s", tmp_path("tagdata-nots.desc"));
	snprintf(demo, sizeof(demo), "%s", tmp_path("demo.desc"));
	snprintf(dur, sizeof(dur), "%s", tmp_path("dur.desc"));
	write_file(tmp_path("demo.proto"), demo_proto, sizeof(demo_proto) - 1);
	write_file(tmp_path("dur.proto"), dur_proto, sizeof(dur_proto) - 1);
	if (run("command -v protoc >/dev/null 2>&1") != 0) {
		fprintf(stderr, "protoc not found: skipping the .desc tests "
				"(apt-get install protobuf-compiler)\n");
	} else if (run("protoc -o %s --include_imports -I%s/proto -I/usr/include "
		       "%s/proto/tagdata.proto",
		       desc, root, root) ||
		   run("protoc -o %s -I%s/proto -I/usr/include %s/proto/tagdata.proto", nots, root,
		       root) ||
		   run("cd %s && protoc -o %s --include_imports -I. -I/usr/include demo.proto",
		       tmpdir, demo) ||
		   run("cd %s && protoc -o %s -I. -I/usr/include dur.proto", tmpdir, dur)) {
		CHECK(!"protoc could not make the .desc files");
	} else {
		test_desc_tagdata(desc, nots);
		test_desc_only(demo);
		test_desc_errors(demo, dur);
	}
	run("rm -rf %s", tmpdir);
	return t_done("test_payload_proto");
}
