/* A run split between machines on the command line: --shard I/N and
 * --shards N with $JOB_COMPLETION_INDEX put this machine's share in
 * struct blast_opts (config/split.c's), --start-at reads RFC 3339 and
 * epoch seconds; bad input is one line and status 2. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/shard_args.h"
#include "config/opts.h"
#include "opts_harness.h"

static void test_wall_time(void)
{
	uint64_t ns;

	CHECK(!parse_wall_time("2026-12-07T03:00:00Z", &ns));
	CHECK(ns == 1796612400ull * 1000000000ull);
	CHECK(!parse_wall_time("2026-12-07T04:00:00.25+01:00", &ns));
	CHECK(ns == 1796612400ull * 1000000000ull + 250000000ull);
	CHECK(!parse_wall_time("2026-12-07T02:30:00-00:30", &ns));
	CHECK(ns == 1796612400ull * 1000000000ull);
	CHECK(!parse_wall_time("1796612400", &ns));
	CHECK(ns == 1796612400ull * 1000000000ull);
	CHECK(!parse_wall_time("1796612400.5", &ns));
	CHECK(ns == 1796612400ull * 1000000000ull + 500000000ull);
	static const char *const bad[] = { "", "x", "2026-12-07", "2026-12-07T03:00:00",
					   "2026-02-31T03:00:00Z", "2026-12-07T25:00:00Z",
					   "2026-12-07T03:00:00+1:00", "1796612400.", "1.2.3",
					   "2026-12-07T03:00:00Zjunk", "-5" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK(parse_wall_time(bad[i], &ns) == -EINVAL);
}

static void test_shares(void)
{
	struct blast_opts o;

	if (!GOOD(&o, "--conns", "10", "--rate", "1001", "--messages", "5", "--shard", "1/3",
		  "--quiet")) {
		CHECK_EQ_INT(o.conns, 3);
		CHECK_EQ_INT(o.conn_base, 4);
		CHECK_EQ_INT(o.rate, 334);
		CHECK_EQ_INT(o.messages, 2);
		CHECK_EQ_INT(o.shard_whole.conns, 10);
		CHECK_EQ_INT(o.shard_index, 1);
		CHECK_EQ_INT(o.shard_count, 3);
		opts_free(&o);
	}
	setenv("JOB_COMPLETION_INDEX", "2", 1);
	if (!GOOD(&o, "--conns", "10", "--shards", "3", "--quiet")) {
		CHECK_EQ_INT(o.shard_index, 2);
		CHECK_EQ_INT(o.conns, 3);
		CHECK_EQ_INT(o.conn_base, 7);
		CHECK(o.rate == 0); /* unlimited stays unlimited */
		opts_free(&o);
	}
	/* MQTT fan-out: publishers and subscribers split, connections follow. */
	if (!GOOD(&o, "--publishers", "5", "--subscribers", "4", "--shard", "0/2", "--quiet")) {
		CHECK_EQ_INT(o.publishers, 3);
		CHECK_EQ_INT(o.subscribers, 2);
		CHECK_EQ_INT(o.conns, 5);
		/* {conn}: publishers 0..2 here, receivers after the whole's 5. */
		CHECK_EQ_INT(opts_conn_no(&o, 2), 2);
		CHECK_EQ_INT(opts_conn_no(&o, 3), 5);
		opts_free(&o);
	}
	if (!GOOD(&o, "--publishers", "5", "--subscribers", "4", "--shard", "1/2", "--quiet")) {
		CHECK_EQ_INT(opts_conn_no(&o, 0), 3);
		CHECK_EQ_INT(opts_conn_no(&o, 1), 4);
		CHECK_EQ_INT(opts_conn_no(&o, 2), 7); /* its first subscriber */
		CHECK_EQ_INT(opts_conn_no(&o, 3), 8);
		opts_free(&o);
	}
	/* Several targets: connection {conn} to target {conn} % 3, as on one
	 * machine, so share 1's connections 2 and 3 go to targets 2 and 0. */
	if (!GOOD(&o, "--target", "127.0.0.1:1", "--target", "127.0.0.1:2", "--target", "127.0.0.1:3",
		  "--conns", "6", "--shard", "1/3", "--quiet")) {
		CHECK_EQ_INT(o.conns, 2);
		CHECK_EQ_INT(opts_conn_target(&o, 0, o.n_targets), 2);
		CHECK_EQ_INT(opts_conn_target(&o, 1, o.n_targets), 0);
		opts_free(&o);
	}
	/* Kafka: --conns stays per leader; given --partitions are the whole's. */
	if (!GOOD(&o, "--proto", "kafka", "--target", "127.0.0.1:9092", "--topic", "t", "--conns", "2",
		  "--partitions", "0,1,2,3", "--shard", "1/3", "--quiet")) {
		CHECK_EQ_INT(o.conns, 2);
		CHECK_EQ_INT(o.shard_whole.partitions, 4);
		opts_free(&o);
	}
	if (!GOOD(&o, "--proto", "kafka", "--target", "127.0.0.1:9092", "--topic", "t", "--shard", "0/3",
		  "--quiet")) {
		CHECK_EQ_INT(o.shard_whole.partitions, 0); /* from the metadata, later */
		opts_free(&o);
	}
	/* --start-at a second ahead. */
	char at[32];
	snprintf(at, sizeof(at), "%lld", (long long)time(NULL) + 2);
	if (!GOOD(&o, "--start-at", at, "--quiet")) {
		CHECK(o.start_at_ns / 1000000000ull == (uint64_t)atoll(at));
		opts_free(&o);
	}
}

static void test_bad(void)
{
	BAD("must be I/N", "--shard", "2");
	BAD("below N", "--shard", "3/3");
	BAD("N must be 1 to 100000", "--shard", "0/0");
	BAD("cannot be split 4 ways", "--conns", "3", "--shard", "0/4");
	BAD("--proto ws (listeners) cannot be split", "--proto", "ws", "--target", "127.0.0.1:80",
	    "--shard", "0/2");
	BAD("--messages 3 cannot be split", "--conns", "8", "--messages", "3", "--shard", "0/4");
	BAD("--rate 2 cannot be split", "--conns", "8", "--rate", "2", "--shard", "0/4");
	BAD("--partitions 2 cannot be split 3 ways", "--proto", "kafka", "--target", "127.0.0.1:9092",
	    "--topic", "t", "--partitions", "0,1", "--shard", "0/3");
	BAD("cannot be used together", "--conns", "8", "--shard", "0/4", "--shards", "4");
	BAD("--shard cannot be used with --find-limit", "--find-limit", "--shard", "0/2", "--conns", "2");
	unsetenv("JOB_COMPLETION_INDEX");
	BAD("JOB_COMPLETION_INDEX", "--conns", "8", "--shards", "4");
	setenv("JOB_COMPLETION_INDEX", "4", 1);
	BAD("must be 0 to 3", "--conns", "8", "--shards", "4");
	BAD("in the past", "--start-at", "2001-01-01T00:00:00Z");
	BAD("more than 24 hours ahead", "--start-at", "9999-01-01T00:00:00Z");
	BAD("RFC 3339", "--start-at", "tomorrow");
}

int main(void)
{
	tmpdir_make();
	test_wall_time();
	test_shares();
	test_bad();
	rmdir(tmpdir);
	return t_done("shard_opts");
}
