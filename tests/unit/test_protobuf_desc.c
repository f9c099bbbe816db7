/* Protobuf payloads for messages known only from a .desc (protoc -o):
 * what payload_gen_fill writes must decode, with protobuf-c's unpackers
 * where the message is also compiled in, else with protoc --decode and a
 * small wire walker, into the values each generator promises; the errors
 * only a .desc can cause. Skips these checks without protoc. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "protobuf_t.h"
#include "tagdata.pb-c.h"

static char root[4096] = "."; /* the repository: proto/ is under it */

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
	"  repeated Where stops = 17;\n"
	"  repeated string names = 18;\n"
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

/* Repeated fields: NAME[N] writes N elements, each drawn anew; through a
 * repeated message, every --field under it names the same N. */
static void test_desc_repeated(const char *desc)
{
	struct payload_gen *g = GEN("Reading", desc, "samples[5]=uniform:0:9", "stops[3].lat=uniform:0:1",
				    "stops[3].room=r", "names[2]=choice:a|b", "level=4");
	uint8_t buf[512];
	int bad = 0;

	if (!g)
		return;
	for (uint64_t i = 0; i < 500; i++) {
		ssize_t len = payload_gen_fill(g, i, buf, sizeof(buf));
		struct wf f;
		if (len <= 0 || (size_t)len > payload_gen_max_size(g) ||
		    wire_get(buf, (size_t)len, 12, &f) || f.count != 5 ||
		    wire_get(buf, (size_t)len, 17, &f) || f.count != 3 || f.wt != 2 ||
		    wire_get(buf, (size_t)len, 18, &f) || f.count != 2 ||
		    wire_get(buf, (size_t)len, 9, &f) || f.count != 1 || f.v != 4 ||
		    wire_get(buf, (size_t)len, 17, &f)) {
			bad++;
			continue;
		}
		/* The last stop: its room and a latitude in [0, 1). */
		struct wf room, lat;
		double d;
		if (wire_get(f.p, f.len, 3, &room) || room.len != 1 || room.p[0] != 'r' ||
		    wire_get(f.p, f.len, 1, &lat))
			bad++;
		memcpy(&d, &lat.v, 8);
		if (lat.count && (d < 0 || d >= 1))
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	/* protoc reads them back: five samples, three stops. */
	ssize_t len = payload_gen_fill(g, 7, buf, sizeof(buf));
	write_file(tmp_path("rep.bin"), buf, (size_t)len);
	char path[4200], text[4096] = "";
	snprintf(path, sizeof(path), "%s", tmp_path("rep.txt"));
	if (run("cd %s && protoc --decode=demo.Reading -I. -I/usr/include demo.proto <rep.bin >%s 2>&1",
		tmpdir, path) == 0) {
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
		int samples = 0, stops = 0;
		if (f)
			fclose(f);
		text[n] = '\0';
		for (const char *p = text; (p = strstr(p, "samples: ")); p++)
			samples++;
		for (const char *p = text; (p = strstr(p, "stops {")); p++)
			stops++;
		CHECK_EQ_INT(samples, 5);
		CHECK_EQ_INT(stops, 3);
	} else {
		CHECK(!"protoc --decode failed on a payload with repeated fields");
	}
	payload_gen_free(g);
}

static void test_desc_errors(const char *desc, const char *dur_desc)
{
	BAD("--field temp[3]=1: temp is a sint32, not repeated: [N] is for repeated fields",
	    "Reading", desc, "temp[3]=1");
	BAD("--field samples[0]=1: samples[0]: a repeated field's elements are NAME[N], N from 1 "
	    "to 65536",
	    "Reading", desc, "samples[0]=1");
	BAD("--field samples[x]=1: samples[x]: a repeated field's elements", "Reading", desc,
	    "samples[x]=1");
	BAD("--field stops[3].room=x: stops has 2 element(s) by --field stops[2].lat=1: say "
	    "stops[2] here too",
	    "Reading", desc, "stops[2].lat=1", "stops[3].room=x");
	BAD("--field stops.room=x: stops has 2 element(s)", "Reading", desc, "stops[2].lat=1",
	    "stops.room=x");
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

	tmpdir_make("test_protobuf_desc");
	find_root();
	snprintf(desc, sizeof(desc), "%s", tmp_path("tagdata.desc"));
	snprintf(nots, sizeof(nots), "%s", tmp_path("tagdata-nots.desc"));
	snprintf(demo, sizeof(demo), "%s", tmp_path("demo.desc"));
	snprintf(dur, sizeof(dur), "%s", tmp_path("dur.desc"));
	write_file(tmp_path("demo.proto"), demo_proto, sizeof(demo_proto) - 1);
	write_file(tmp_path("dur.proto"), dur_proto, sizeof(dur_proto) - 1);
	if (run("command -v protoc >/dev/null 2>&1") != 0) {
		run("rm -rf %s", tmpdir);
		fprintf(stderr, "protoc not found (apt-get install protobuf-compiler)\n");
		return T_SKIP;
	}
	if (run("protoc -o %s --include_imports -I%s/proto -I/usr/include %s/proto/tagdata.proto",
		desc, root, root) ||
	    run("protoc -o %s -I%s/proto -I/usr/include %s/proto/tagdata.proto", nots, root,
		root) ||
	    run("cd %s && protoc -o %s --include_imports -I. -I/usr/include demo.proto", tmpdir,
		demo) ||
	    run("cd %s && protoc -o %s -I. -I/usr/include dur.proto", tmpdir, dur)) {
		CHECK(!"protoc could not make the .desc files");
	} else {
		test_desc_tagdata(desc, nots);
		test_desc_only(demo);
		test_desc_repeated(demo);
		test_desc_errors(demo, dur);
	}
	run("rm -rf %s", tmpdir);
	return t_done("test_protobuf_desc");
}
