/* Protobuf payloads from the compiled-in messages (TagData, Alive): what
 * payload_gen_fill writes must decode with protobuf-c's generated
 * unpackers into the values each generator promises, constants byte for
 * byte as protobuf-c packs them; a short buffer gets -ENOSPC and nothing
 * past it; seeds repeat; and it is fast. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alive.pb-c.h"
#include "protobuf_t.h"
#include "tagdata.pb-c.h"

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

int main(void)
{
	test_tagdata();
	test_normal_and_ints();
	test_alive();
	test_golden();
	test_space_and_seed();
	test_speed();
	return t_done("test_protobuf_gen");
}
