/* The report files and what feeds them: HdrHistogram's V2 encoding (varints,
 * header bytes, base64, round trips through blast's own decoder), hlog
 * lines, the per-second series merged from worker rings (exact sums, waiting
 * for every worker, overwritten seconds flagged), the CSV, the progress
 * line, and the HTML page (every chart there, user text escaped). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "encoders/hdrlog.h"
#include "stats/hist.h"
#include "stats/hlog.h"
#include "config/opts.h"
#include "report/progress.h"
#include "report/files.h"
#include "stats/series.h"
#include "stats/shm.h"
#include "t.h"
#include "stats/wire.h"

/* hist_new(), or the test fails. */
static struct hist *new_hist(void)
{
	struct hist *h = hist_new();

	if (!h) {
		perror("malloc");
		exit(T_FAIL);
	}
	return h;
}

static void test_varint(void)
{
	static const struct {
		int64_t v;
		uint8_t bytes[9];
		size_t n;
	} vec[] = {
		{ 0, { 0x00 }, 1 },
		{ -1, { 0x01 }, 1 },
		{ 1, { 0x02 }, 1 },
		{ 63, { 0x7e }, 1 },
		{ -64, { 0x7f }, 1 },
		{ 64, { 0x80, 0x01 }, 2 },
		{ 300, { 0xd8, 0x04 }, 2 },
		{ -2048, { 0xff, 0x1f }, 2 },
		/* 2^55 zigzags to 2^56: eight 7-bit groups of 0, then the 9th byte. */
		{ (int64_t)1 << 55, { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, 9 },
		{ INT64_MAX, { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 9 },
		{ INT64_MIN, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 9 },
	};
	uint8_t buf[16];
	int64_t v;

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		size_t n = hdr_varint_put(buf, vec[i].v);
		CHECK_MEM(buf, n, vec[i].bytes, vec[i].n);
		CHECK_EQ_INT(hdr_varint_get(buf, n, &v), n);
		CHECK(v == vec[i].v);
		/* Cut short, it is incomplete, never a number. */
		if (n > 1)
			CHECK_EQ_INT(hdr_varint_get(buf, n - 1, &v), 0);
	}
	CHECK_EQ_INT(hdr_varint_get(buf, 0, &v), 0);
	/* Round trips across magnitudes. */
	for (int s = 0; s < 63; s++) {
		int64_t x = (int64_t)1 << s;
		for (int sign = -1; sign <= 1; sign += 2) {
			size_t n = hdr_varint_put(buf, sign * x + 3);
			CHECK(hdr_varint_get(buf, n, &v) == n && v == sign * x + 3);
		}
	}
}

static void test_base64(void)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char out[32];
	uint8_t back[32];

	for (size_t i = 0; i < 7; i++) {
		size_t n = strlen(plain[i]);
		CHECK_EQ_INT(base64_len(n), strlen(enc[i]));
		base64_encode((const uint8_t *)plain[i], n, out);
		CHECK(!strcmp(out, enc[i]));
		CHECK_EQ_INT(base64_decode(enc[i], strlen(enc[i]), back), n);
		CHECK(!memcmp(back, plain[i], n));
	}
	static const char *const bad[] = { "Zg=", "Z===", "Zg=a", "Zm9v!", "Zm9v====", "=Zm9", "Zg==Zg==" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(base64_decode(bad[i], strlen(bad[i]), back), -1);
	/* All 256 byte values survive. */
	uint8_t all[256], all2[256];
	char all64[400];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	base64_encode(all, 256, all64);
	CHECK_EQ_INT(base64_decode(all64, strlen(all64), all2), 256);
	CHECK(!memcmp(all, all2, 256));
}

/* The exact uncompressed bytes for counts {0, 1, 0, 2}: a lone empty bucket
 * is 0, a count n is zigzag 2n. */
static void test_encoding_bytes(void)
{
	uint64_t counts[8] = { 0, 1, 0, 2, 0, 0, 0, 0 };
	struct hdr_params p = { .sigfigs = 3, .lowest = 1, .highest = 60000000000LL };
	static const uint8_t want[] = {
		0x1c, 0x84, 0x93, 0x13, 0x00, 0x00, 0x00, 0x04, /* cookie, payload length */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, /* normalizing offset, digits */
		0, 0, 0, 0, 0, 0, 0, 1,                         /* lowest */
		0x00, 0x00, 0x00, 0x0d, 0xf8, 0x47, 0x58, 0x00, /* highest: 60e9 */
		0x3f, 0xf0, 0, 0, 0, 0, 0, 0,                   /* 1.0 */
		0x00, 0x02, 0x00, 0x04,
	};
	uint8_t *z;
	size_t zlen;

	CHECK_EQ_INT(hdr_encode_compressed(counts, 8, &p, &z, &zlen), 0);
	CHECK(z[0] == 0x1c && z[1] == 0x84 && z[2] == 0x93 && z[3] == 0x14);
	uint32_t clen = (uint32_t)z[4] << 24 | (uint32_t)z[5] << 16 | (uint32_t)z[6] << 8 | z[7];
	CHECK_EQ_INT(clen, zlen - 8);
	uint8_t raw[128];
	uLongf rlen = sizeof(raw);
	CHECK_EQ_INT(uncompress(raw, &rlen, z + 8, clen), Z_OK);
	CHECK_MEM(raw, rlen, want, sizeof(want));
	/* A run of empty buckets is one negative number. */
	uint64_t runs[12] = { 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0 };
	free(z);
	CHECK_EQ_INT(hdr_encode_compressed(runs, 12, &p, &z, &zlen), 0);
	rlen = sizeof(raw);
	CHECK_EQ_INT(uncompress(raw, &rlen, z + 8, zlen - 8), Z_OK);
	static const uint8_t payload[] = { 0x0a, 0x11, 0x0e }; /* 5, -9, 7 */
	CHECK_MEM(raw + 40, rlen - 40, payload, sizeof(payload));
	uint64_t back[12];
	struct hdr_params q;
	size_t filled;
	CHECK_EQ_INT(hdr_decode_compressed(z, zlen, back, 12, &q, &filled), 0);
	CHECK_EQ_INT(filled, 11);
	CHECK(!memcmp(back, runs, sizeof(runs)));
	CHECK(q.sigfigs == 3 && q.lowest == 1 && q.highest == 60000000000LL);
	/* Too small a destination, a cut stream, a bad cookie: refused. */
	CHECK_EQ_INT(hdr_decode_compressed(z, zlen, back, 10, &q, &filled), -EINVAL);
	CHECK_EQ_INT(hdr_decode_compressed(z, zlen - 1, back, 12, &q, &filled), -EINVAL);
	z[3] = 0x15;
	CHECK_EQ_INT(hdr_decode_compressed(z, zlen, back, 12, &q, &filled), -EINVAL);
	free(z);
}

/* What a reader gets back: each percentile as its bucket's highest
 * equivalent value (blast clamps to the exact max, a reader cannot). */
static void check_same_percentiles(const struct hist *orig, const struct hist *back)
{
	static const double pct[] = { 1, 25, 50, 75, 90, 99, 99.9, 99.99, 100 };

	CHECK(orig->total == back->total);
	for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
		int64_t a = hist_percentile(orig, pct[i]), b = hist_percentile(back, pct[i]);
		CHECK(hist_highest_equivalent(a) == b);
	}
	CHECK(!memcmp(orig->counts, back->counts, sizeof(orig->counts)));
}

static void test_hlog_lines(void)
{
	struct hist *h = new_hist(), *back = new_hist();
	double start, len;
	uint64_t x = 88172645463325252ULL;

	/* A spread from 20 us to 2 s, and a few over 60 s (clamped). */
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		hist_record(h, (int64_t)(20000 * exp((double)(x % 10000) / 870.0)));
	}
	hist_record_n(h, 90000000000LL, 3);
	char *line = hlog_interval_line(12.0, 0.75, h);
	CHECK(line != NULL);
	CHECK(!strncmp(line, "12.000,0.750,", 13));
	CHECK(strstr(line, ",HISTFAAA") != NULL); /* the compressed cookie in base64 */
	CHECK(line[strlen(line) - 1] == '\n');
	/* Interval_Max in ms: the highest equivalent of 60 s. */
	char want_max[32];
	snprintf(want_max, sizeof(want_max), ",%.3f,", (double)hist_highest_equivalent(HIST_HIGHEST) / 1e6);
	CHECK(strstr(line, want_max) != NULL);
	CHECK_EQ_INT(hlog_parse_line(line, &start, &len, back), 0);
	CHECK(start == 12.0 && len == 0.75);
	check_same_percentiles(h, back);
	free(line);

	/* An empty second is a valid, empty histogram. */
	hist_reset(h);
	line = hlog_interval_line(0, 1, h);
	CHECK(line && !strncmp(line, "0.000,1.000,0.000,HISTF", 23));
	CHECK_EQ_INT(hlog_parse_line(line, &start, &len, back), 0);
	CHECK_EQ_INT(back->total, 0);
	free(line);

	/* One value. */
	hist_record(h, 123456);
	line = hlog_interval_line(1, 1, h);
	CHECK_EQ_INT(hlog_parse_line(line, &start, &len, back), 0);
	check_same_percentiles(h, back);
	free(line);

	CHECK_EQ_INT(hlog_parse_line("#[StartTime: 1 (seconds since epoch)]", &start, &len, back), -EINVAL);
	CHECK_EQ_INT(hlog_parse_line("1.0,1.0,2.0,HISTFAAAAB!!", &start, &len, back), -EINVAL);
	CHECK_EQ_INT(hlog_parse_line("1.0,1.0", &start, &len, back), -EINVAL);
	free(h);
	free(back);
}

static void test_hlog_header(void)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	hlog_write_header(f, 1441812279474ULL);
	fclose(f);
	CHECK(strstr(buf, "#[Histogram log format version 1.3]\n") != NULL);
	CHECK(strstr(buf, "#[StartTime: 1441812279.474 (seconds since epoch), Wed Sep 09 15:24:39 UTC 2015]\n") != NULL);
	CHECK(strstr(buf, "#[BaseTime: 1441812279.474 (seconds since epoch)]\n") != NULL);
	CHECK(strstr(buf, "\n\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n") != NULL);
	CHECK(strstr(buf, "nanoseconds") != NULL);
	free(buf);
}

/* ---- the series ---- */

static struct shm *shm_new(unsigned n)
{
	struct shm *shm = calloc(1, sizeof(struct shm) + n * sizeof(struct worker_slot));

	if (!shm) {
		perror("calloc");
		exit(T_FAIL);
	}
	shm->n_workers = n;
	shm->start_ns = 1000 * 1000000000ULL;
	return shm;
}

/* Worker w closes second k: `sent` more messages, all acked, each with
 * latency lat_ns. */
static void close_second(struct shm *shm, unsigned w, uint64_t k, struct series_counts *c,
			 uint64_t sent, int64_t lat_ns, bool last)
{
	struct hist *h = new_hist();

	hist_record_n(h, lat_ns, sent);
	c->sent += sent;
	c->acked += sent;
	c->conns_up = 5;
	c->publish_start_ns = shm->start_ns + 500000000ULL;
	uint64_t end = shm->start_ns + (k + 1) * 1000000000ULL + (last ? -400000000ULL : 1000);
	series_publish(&shm->w[w].ring, k, end, h, NULL, c, last);
	free(h);
}

static void test_series_merge(void)
{
	struct shm *shm = shm_new(2);
	struct series s;
	struct series_counts c0 = { 0 }, c1 = { 0 };

	CHECK_EQ_INT(series_init(&s, true), 0);
	series_begin_run(&s, shm);
	CHECK_EQ_INT(series_poll(&s), 0);
	close_second(shm, 0, 0, &c0, 100, 1000, false);
	/* Worker 1 has not closed second 0: nothing merges yet. */
	CHECK_EQ_INT(series_poll(&s), 0);
	close_second(shm, 1, 0, &c1, 50, 2000000, false);
	CHECK_EQ_INT(series_poll(&s), 1);
	close_second(shm, 0, 1, &c0, 10, 3000, false);
	close_second(shm, 1, 1, &c1, 20, 4000, false);
	close_second(shm, 0, 2, &c0, 7, 5000, true); /* worker 0's last, 0.6 s long */
	/* Worker 1 goes on alone once worker 0 is final. */
	close_second(shm, 1, 2, &c1, 1, 6000, false);
	close_second(shm, 1, 3, &c1, 2, 7000, true);
	CHECK_EQ_INT(series_poll(&s), 3);
	CHECK_EQ_INT(series_poll(&s), 0);
	CHECK_EQ_INT(s.n, 4);
	CHECK_EQ_INT(s.lost, 0);
	const struct series_row *r = s.rows;
	CHECK_EQ_INT(r[0].sent, 150);
	CHECK_EQ_INT(r[0].acked, 150);
	CHECK_EQ_INT(r[0].count, 150);
	CHECK_EQ_INT(r[0].conns_up, 10);
	CHECK(r[0].publishing);
	CHECK(r[0].t_s == 1.0 && r[0].len_s == 1.0);
	/* 100 at 1 us, 50 at 2 ms: p50 1 us, p90 2 ms, max exact. */
	CHECK_EQ_INT(r[0].p50, 1000);
	CHECK_EQ_INT(r[0].p90, 2000000); /* clamped to the exact max */
	CHECK_EQ_INT(r[0].max, 2000000);
	CHECK_EQ_INT(r[1].sent, 30);
	CHECK_EQ_INT(r[2].sent, 8);
	CHECK_EQ_INT(r[3].sent, 2);
	CHECK(fabs(r[3].len_s - 0.6) < 1e-9 && fabs(r[3].t_s - 3.6) < 1e-9);
	/* The rows add up to the workers' totals. */
	uint64_t sent = 0, count = 0;
	for (size_t i = 0; i < s.n; i++) {
		sent += r[i].sent;
		count += r[i].count;
		CHECK(r[i].hlog != NULL);
	}
	CHECK_EQ_INT(sent, c0.sent + c1.sent);
	CHECK_EQ_INT(count, c0.sent + c1.sent);

	/* A second run continues the time axis. */
	struct shm *shm2 = shm_new(1);
	shm2->start_ns = shm->start_ns + 10 * 1000000000ULL;
	series_begin_run(&s, shm2);
	struct series_counts c2 = { 0 };
	close_second(shm2, 0, 0, &c2, 4, 1000, true);
	CHECK_EQ_INT(series_poll(&s), 1);
	CHECK(fabs(s.rows[4].t_s - 10.6) < 1e-9);
	CHECK_EQ_INT(s.rows[4].sent, 4);
	series_free(&s);
	free(shm);
	free(shm2);
}

static void test_series_lost_and_gone(void)
{
	struct shm *shm = shm_new(2);
	struct series s;
	struct series_counts c0 = { 0 }, c1 = { 0 };

	CHECK_EQ_INT(series_init(&s, false), 0);
	series_begin_run(&s, shm);
	/* Worker 0 runs SERIES_RING + 1 seconds ahead of the parent: its
	 * second 0 is overwritten and the row says so. */
	for (uint64_t k = 0; k <= SERIES_RING; k++)
		close_second(shm, 0, k, &c0, 10, 1000, false);
	close_second(shm, 1, 0, &c1, 10, 1000, false);
	CHECK_EQ_INT(series_poll(&s), 1);
	CHECK(s.rows[0].lost);
	CHECK_EQ_INT(s.rows[0].sent, 10);
	CHECK_EQ_INT(s.lost, 1);
	CHECK(s.rows[0].hlog == NULL);
	/* Worker 1 killed: its missing seconds are not waited for. */
	series_worker_gone(&s, 1);
	CHECK_EQ_INT(series_poll(&s), SERIES_RING);
	CHECK(!s.rows[1].lost);
	/* Worker 0 caught up to where its counters were: deltas still exact. */
	uint64_t sent = 0;
	for (size_t i = 0; i < s.n; i++)
		sent += s.rows[i].sent;
	CHECK_EQ_INT(sent, c0.sent + c1.sent);
	series_free(&s);
	/* Without a series, nothing is collected and nothing breaks. */
	series_begin_run(NULL, shm);
	series_worker_gone(NULL, 0);
	CHECK_EQ_INT(series_poll(NULL), 0);
	free(shm);
}

static void test_csv(void)
{
	struct series s;
	struct series_row rows[3] = {
		{ .t_s = 1, .len_s = 1, .conns_up = 3 },
		{ .t_s = 2, .len_s = 1, .sent = 2000, .acked = 1990, .errors = 1, .inflight = 10,
		  .conns_up = 3, .count = 1990, .p50 = 61234, .p90 = 90000, .p99 = 402500,
		  .p999 = 999999, .max = 1500000, .cpu_ns = 500000000, .late_ns = 6000000,
		  .window_ns = 2000000 },
		{ .t_s = 2.5, .len_s = 0.5, .sent = 0, .acked = 10, .unacked = 7, .count = 10, .p50 = 1000,
		  .p90 = 1000, .p99 = 1000, .p999 = 1000, .max = 1000 },
	};
	char *buf = NULL;
	size_t n = 0;

	memset(&s, 0, sizeof(s));
	s.rows = rows;
	s.n = 3;
	FILE *f = open_memstream(&buf, &n);
	CHECK_EQ_INT(csv_write_series(f, &s, NULL), 0);
	fclose(f);
	const char *want =
		"time_s,interval_s,sent_per_s,acked_per_s,sent,acked,failed,unacked,errors,inflight,"
		"conns_up,latency_count,p50_us,p90_us,p99_us,p999_us,max_us,"
		"cpu_pct,send_late_mean_us,window_wait_mean_us,socket_wait_mean_us\n"
		"1.000,1.000,0.0,0.0,0,0,0,0,0,0,3,0,0.000,0.000,0.000,0.000,0.000,0.0,0.000,0.000,0.000\n"
		"2.000,1.000,2000.0,1990.0,2000,1990,0,0,1,10,3,1990,61.234,90.000,402.500,999.999,1500.000,"
		"50.0,3.000,1.000,0.000\n"
		"2.500,0.500,0.0,20.0,0,10,0,7,0,0,0,10,1.000,1.000,1.000,1.000,1.000,0.0,0.000,0.000,0.000\n";
	CHECK(!strcmp(buf, want));
	if (strcmp(buf, want))
		fprintf(stderr, "csv:\n%s", buf);
	free(buf);
}

static void test_progress(void)
{
	struct series_row row = { .t_s = 3, .len_s = 1, .sent = 20001, .acked = 19998,
				  .inflight = 12, .conns_up = 1000, .count = 5, .p50 = 61200,
				  .p99 = 402500 };
	struct progress p = { .elapsed_s = 1, .publish_at_s = -1, .conns_total = 4000,
			      .errors_total = 2, .row = &row };
	char b[512];

	progress_format(b, sizeof(b), &p);
	CHECK(!strcmp(b, "[   1.0s] connecting [#####...............]  25% conns 1000/4000 | errors 2"));
	p.elapsed_s = 3;
	p.publish_at_s = 1.5;
	p.duration_s = 10;
	p.conns_total = 1000;
	progress_format(b, sizeof(b), &p);
	CHECK(!strcmp(b, "[   3.0s / 11.5s] [###.................]  15% conns 1000/1000 | sent 20001/s "
			 "acked 19998/s | inflight 12 | errors 2 | p50 61.2us p99 402.5us"));
	p.elapsed_s = 12;
	progress_format(b, sizeof(b), &p);
	CHECK(!strncmp(b, "[  12.0s / 11.5s] draining conns", 32));
	p.duration_s = 0;
	p.messages = 100000;
	p.sent_total = 50000;
	progress_format(b, sizeof(b), &p);
	CHECK(!strncmp(b, "[  12.0s] [##########..........]  50% conns", 42));
	/* Draining: what the run waits for, not "sent 0/s". */
	p.draining = true;
	p.fanout = true;
	p.received = 4392;
	p.expected = 5550;
	progress_format(b, sizeof(b), &p);
	CHECK(!strcmp(b, "[  12.0s] draining conns 1000/1000 | waiting for receipts 4,392 of 5,550 "
			 "| errors 2"));
	p.fanout = false;
	progress_format(b, sizeof(b), &p);
	CHECK(!strcmp(b, "[  12.0s] draining conns 1000/1000 | waiting for acks: 12 in flight "
			 "| errors 2"));
	p.duration_s = 10;
	progress_format(b, sizeof(b), &p);
	CHECK(!strncmp(b, "[  12.0s / 11.5s] draining conns 1000/1000 | waiting for acks", 61));
	/* Sends ended before the duration (--messages): draining all the same. */
	p.elapsed_s = 5;
	progress_format(b, sizeof(b), &p);
	CHECK(!strncmp(b, "[   5.0s] draining conns", 24));
	p.expected = 1234567;
	p.fanout = true;
	progress_format(b, sizeof(b), &p);
	CHECK(strstr(b, "4,392 of 1,234,567") != NULL);
	p.draining = false;
	p.duration_s = 0;
	/* A short buffer is cut, never overrun. */
	char small[16];
	CHECK(progress_format(small, sizeof(small), &p) <= sizeof(small) - 1);
	CHECK(strlen(small) == 15);
}

/* ---- HTML ---- */

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* printf's spellings of NaN and infinity ("inf" not followed by a letter,
 * unlike "inflight"). */
static bool has_nonfinite(const char *html)
{
	if (strstr(html, "nan"))
		return true;
	for (const char *p = html; (p = strstr(p, "inf")); p += 3)
		if (p[3] < 'a' || p[3] > 'z')
			return true;
	return false;
}

static char *render(const struct blast_results *r, const struct series *s)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	CHECK_EQ_INT(html_write(f, r, s), 0);
	fclose(f);
	return buf;
}

static void test_html(void)
{
	struct blast_opts o;
	struct hist *lat = new_hist(), *raw = new_hist(), *con = new_hist();
	struct series s;
	struct series_row rows[4];
	struct wire_stats *probe = calloc(1, sizeof(*probe));

	memset(&o, 0, sizeof(o));
	o.proto = PROTO_MQTT;
	o.conns = 10;
	o.qos = 1;
	o.n_targets = 1;
	snprintf(o.targets[0].host, sizeof(o.targets[0].host), "<script>alert(1)</script>");
	o.targets[0].port = 1883;
	o.topic = "a/\"b\"/<i>&'x'";
	o.client_id = "c{conn}";
	for (int i = 1; i <= 1000; i++) {
		hist_record(lat, i * 1000);
		hist_record(raw, i * 500);
	}
	hist_record(con, 250000);
	hist_reset(&probe->latency);
	hist_record_n(&probe->latency, 40000, 900);
	probe->source = WIRE_PROBE;
	probe->requests = probe->acks = 900;
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 4; i++)
		rows[i] = (struct series_row){ .t_s = i + 1, .len_s = 1, .sent = 100 * (uint64_t)i,
					       .acked = 100 * (uint64_t)i, .conns_up = 10,
					       .count = i ? 100 : 0, .p50 = 10000, .p90 = 20000,
					       .p99 = 30000, .p999 = 40000, .max = 50000 };
	s.rows = rows;
	s.n = 4;
	struct blast_results r = {
		.opts = &o, .t = { .sent = 1000, .acked = 1000, .conns_ok = 10 }, .duration_s = 3,
		.publish_s = 3, .latency = lat, .latency_raw = raw, .connect = con,
		.stop_reason = "duration", .limit_trial = -1,
	};

	char *html = render(&r, &s);
	CHECK(!strncmp(html, "<!DOCTYPE html>", 15));
	CHECK(strstr(html, "</html>\n") != NULL);
	/* Nothing the user typed comes through as markup, and no scripts at all. */
	CHECK(!strstr(html, "<script"));
	CHECK(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;:1883") != NULL);
	CHECK(strstr(html, "a/&quot;b&quot;/&lt;i&gt;&amp;&#39;x&#39;") != NULL);
	CHECK(!strstr(html, "http://") || count(html, "http://") == count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
	CHECK(!strstr(html, "<link") && !strstr(html, "<img") && !strstr(html, "url("));
	/* The charts: throughput, latency over time, distribution, connections. */
	CHECK(strstr(html, "id=\"chart-throughput\"") != NULL);
	CHECK(strstr(html, "id=\"chart-latency\"") != NULL);
	CHECK(strstr(html, "id=\"chart-distribution\"") != NULL);
	CHECK(strstr(html, "id=\"chart-connections\"") != NULL);
	CHECK(strstr(html, "id=\"chart-inflight\"") != NULL);
	CHECK_EQ_INT(count(html, "<svg"), 5);
	CHECK_EQ_INT(count(html, "</svg>"), 5);
	CHECK_EQ_INT(count(html, "<section"), count(html, "</section>"));
	CHECK(!strstr(html, "d=\"\""));      /* no empty path */
	CHECK(!has_nonfinite(html));
	CHECK(strstr(html, "99.9%") != NULL); /* the nines axis */
	CHECK(strstr(html, "sent = acked + failed + unacked: OK") != NULL);
	CHECK(!strstr(html, "id=\"limit\"") && !strstr(html, "id=\"wire\""));
	CHECK(!strstr(html, "id=\"errors\""));
	free(html);

	/* With a limit search and a wire probe. */
	struct limit_trial tr[3] = {
		{ .offered = 1000, .achieved = 1000, .acked_rate = 999, .p50_ns = 50000,
		  .p99_ns = 90000, .p999_ns = 100000, .pass = 1, .why = "ok" },
		{ .offered = 2000, .achieved = 2000, .acked_rate = 1990, .p50_ns = 60000,
		  .p99_ns = 95000, .p999_ns = 120000, .pass = 1, .why = "ok" },
		{ .offered = 4000, .achieved = 3000, .acked_rate = 2100, .p50_ns = 900000,
		  .p99_ns = 71200000, .p999_ns = 90000000, .pass = 0, .why = "p99 71.2ms > 50ms <b>" },
	};
	r.trials = tr;
	r.n_trials = 3;
	r.limit_trial = 1;
	r.wire_probe = probe;
	r.t.acked = 990;
	r.t.errors[ERR_CONN_RESET] = 3;
	r.t.connack[5] = 2;
	html = render(&r, &s);
	CHECK(strstr(html, "id=\"limit\"") != NULL);
	CHECK(strstr(html, "id=\"chart-trials\"") != NULL);
	CHECK(strstr(html, "id=\"chart-trials-p99\"") != NULL);
	CHECK(strstr(html, "p99 71.2ms &gt; 50ms &lt;b&gt;") != NULL);
	CHECK(strstr(html, "id=\"wire\"") != NULL);
	CHECK(strstr(html, "wire (probe)") != NULL);
	CHECK(strstr(html, "MISMATCH") != NULL);
	CHECK(strstr(html, "<tr><td>conn_reset</td><td>3</td></tr>") != NULL);
	CHECK(strstr(html, "<tr><td>connack:not_authorized</td><td>2</td></tr>") != NULL);
	CHECK_EQ_INT(count(html, "<svg"), 7);
	CHECK_EQ_INT(count(html, "class=\"cross\""), 2); /* the failed trial, in both charts */
	free(html);

	/* No trial passed: said so. */
	r.limit_trial = -1;
	html = render(&r, &s);
	CHECK(strstr(html, "No trial passed") != NULL);
	free(html);

	/* An empty run (no seconds, no latencies) still renders. */
	struct hist *empty = new_hist();
	struct blast_results e = { .opts = &o, .latency = empty, .latency_raw = empty,
				   .connect = empty, .limit_trial = -1 };
	struct series none;
	memset(&none, 0, sizeof(none));
	html = render(&e, &none);
	CHECK(strstr(html, "</html>") != NULL);
	CHECK(!has_nonfinite(html));
	free(html);

	/* A failed run: the status first, errors next, no latency figure
	 * without a sample, the accounting not green. */
	e.exit_status = 1;
	e.stop_reason = "all_connections_lost";
	e.t.conns_failed = 4;
	e.t.errors[ERR_CONNECT_REFUSED] = 4;
	html = render(&e, &none);
	const char *st = strstr(html, "<section id=\"status\" class=\"status bad\"><b>FAILED</b>");
	const char *er = strstr(html, "<section id=\"errors\"");
	CHECK(st != NULL && er != NULL && st < er);
	CHECK(st && strstr(html, "<section") == st); /* the first section */
	CHECK(strstr(html, "no connection succeeded (4 attempts failed); nothing was sent") != NULL);
	CHECK(!strstr(html, "0.0 us"));
	CHECK(strstr(html, "<b>n/a</b><span>latency") != NULL);
	CHECK(!strstr(html, "class=\"ok\">sent = acked"));
	CHECK(strstr(html, "<title>blast report: FAILED") != NULL);
	free(html);
	free(empty);
	free(lat);
	free(raw);
	free(con);
	free(probe);
}

int main(void)
{
	test_varint();
	test_base64();
	test_encoding_bytes();
	test_hlog_lines();
	test_hlog_header();
	test_series_merge();
	test_series_lost_and_gone();
	test_csv();
	test_progress();
	test_html();
	return t_done("test_reports");
}
