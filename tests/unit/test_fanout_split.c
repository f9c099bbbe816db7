/* A fan-out run split between machines (userspace/stats/fanout.c): each
 * share's receivers expect the whole run's messages, each share's
 * publishes owe every receiver of the run (their sum is the merge's
 * expected), and the markers' numbers never meet between shares. */
#include <stdint.h>
#include <string.h>

#include "config/split.h"
#include "stats/fanout.h"
#include "t.h"

/* Share i of 3 of --publishers 5 --subscribers 4 --messages 1000, as
 * cli/shard.c makes it (one node). */
static void share_of(struct blast_opts *o, uint32_t i, bool chat)
{
	struct split_share s;

	memset(o, 0, sizeof(*o));
	o->proto = PROTO_MQTT;
	o->sub_topic = (char *)"chat/#";
	o->chat = chat;
	o->shard_count = 3;
	o->shard_index = i;
	o->shard_whole = (struct split_whole){ .conns = 9, .messages = 1000, .has_messages = 1,
					       .publishers = 5, .receivers = 4 };
	split_share(&o->shard_whole, i, 3, &s);
	o->publishers = s.publishers;
	o->subscribers = s.receivers;
	o->messages = s.messages;
}

static void test_whole_receivers(void)
{
	struct blast_opts o;
	uint64_t owed = 0, expected = 0;

	for (uint32_t i = 0; i < 3; i++) {
		share_of(&o, i, false);
		CHECK_EQ_INT(fanout_receivers_whole(&o), 4);
		/* Every message published matched: the share sent its part. */
		struct blast_totals t = { .sent = o.messages, .matched = o.messages };
		owed += fanout_owed(&o, &t);
		/* Its receivers expect every share's messages. */
		CHECK_EQ_INT(fanout_scale_to_whole(&o, t.matched), 1000);
		CHECK_EQ_INT(fanout_expected(&o, &t), 1000 * o.subscribers);
		expected += fanout_expected(&o, &t);
	}
	/* As one machine: 1000 messages x 4 subscribers, both ways. */
	CHECK_EQ_INT(owed, 4000);
	CHECK_EQ_INT(expected, 4000);

	/* --chat: the publishers receive too, 5 + 4 in the whole run. */
	owed = expected = 0;
	for (uint32_t i = 0; i < 3; i++) {
		share_of(&o, i, true);
		CHECK_EQ_INT(fanout_receivers_whole(&o), 9);
		struct blast_totals t = { .sent = o.messages, .matched = o.messages };
		owed += fanout_owed(&o, &t);
		expected += fanout_expected(&o, &t);
	}
	CHECK_EQ_INT(owed, 9000);
	CHECK_EQ_INT(expected, 9000);

	/* Nodes: --subscribers is per node. */
	share_of(&o, 0, false);
	o.n_listen = 1;
	CHECK_EQ_INT(fanout_receivers_whole(&o), 8);

	/* A share that failed half its messages owes half: the merge's sum
	 * stays exact where the share's own estimate cannot. */
	share_of(&o, 1, false);
	struct blast_totals half = { .sent = o.messages / 2, .matched = o.messages / 2 };
	CHECK_EQ_INT(fanout_owed(&o, &half), (uint64_t)o.messages / 2 * 4);

	/* No --messages: the part of the rate, else of the publishers. */
	share_of(&o, 0, false);
	o.shard_whole.has_messages = 0;
	o.shard_whole.rate = 300;
	o.rate = 100;
	CHECK_EQ_INT(fanout_scale_to_whole(&o, 50), 150);
	o.shard_whole.rate = o.rate = 0;
	CHECK_EQ_INT(o.publishers, 2);
	CHECK_EQ_INT(fanout_scale_to_whole(&o, 50), 125);

	/* --fanout F: F receipts per message of the whole run, this share's
	 * part by its receivers (2 of 4); owed by its own messages. */
	share_of(&o, 0, false);
	o.fanout = 2;
	struct blast_totals f = { .sent = o.messages };
	CHECK_EQ_INT(fanout_expected(&o, &f), 1000);
	CHECK_EQ_INT(fanout_owed(&o, &f), (uint64_t)o.messages * 2);

	/* Every receipt in: ends the drain, except that a split run with
	 * shared subscriptions waits its --drain-timeout out. */
	share_of(&o, 0, false);
	struct blast_totals in = { .sent = o.messages, .matched = o.messages, .received = 1000 * 2 };
	CHECK(fanout_all_in(&o, &in));
	in.received--;
	CHECK(!fanout_all_in(&o, &in));
	char *shared[] = { "$share/g/chat/#" };
	o.sub_topics = shared;
	o.n_sub_topics = 1;
	in.received = 1u << 30;
	CHECK(!fanout_all_in(&o, &in));
	o.shard_count = 0;
	CHECK(fanout_all_in(&o, &in));

	/* Unsplit: unchanged. */
	memset(&o, 0, sizeof(o));
	o.proto = PROTO_MQTT;
	o.sub_topic = (char *)"a";
	o.publishers = 2;
	o.subscribers = 3;
	struct blast_totals t = { .sent = 10, .matched = 10, .share_receipts = 4 };
	CHECK_EQ_INT(fanout_receivers_whole(&o), 3);
	CHECK_EQ_INT(fanout_owed(&o, &t), 34);
	CHECK_EQ_INT(fanout_expected(&o, &t), 34);
	CHECK_EQ_INT(fanout_scale_to_whole(&o, 10), 10);
}

static void test_marker_numbers(void)
{
	struct blast_opts o;
	uint64_t seen[3 * 4];
	size_t n = 0;

	/* Publishers 5 as 2+2+1: shares start at 0, 2 and 4. */
	for (uint32_t i = 0; i < 3; i++) {
		share_of(&o, i, false);
		CHECK_EQ_INT(fanout_publisher_no(&o, 0), i * 2);
		for (uint64_t seq = 0; seq < 4; seq++)
			seen[n++] = fanout_seq(&o, seq);
	}
	/* No two shares' sequence numbers meet, and they stay dense. */
	for (size_t a = 0; a < n; a++) {
		CHECK(seen[a] < 12);
		for (size_t b = a + 1; b < n; b++)
			CHECK(seen[a] != seen[b]);
	}
	memset(&o, 0, sizeof(o));
	CHECK_EQ_INT(fanout_publisher_no(&o, 3), 3);
	CHECK_EQ_INT(fanout_seq(&o, 77), 77);
}

static void test_run_id(void)
{
	struct blast_opts a, b;

	share_of(&a, 0, false);
	share_of(&b, 2, false);
	a.start_at_ns = b.start_at_ns = 1800000000ull * 1000000000ull;
	/* The shares agree whatever their pid and start. */
	CHECK_EQ_INT(fanout_run_id(&a, 100, 5), fanout_run_id(&b, 200, 9));
	/* Another --start-at, another run. */
	b.start_at_ns += 1000000000ull;
	CHECK(fanout_run_id(&a, 100, 5) != fanout_run_id(&b, 100, 5));
	/* Unsplit: the process's own. */
	memset(&a, 0, sizeof(a));
	CHECK(fanout_run_id(&a, 100, 5) != fanout_run_id(&a, 101, 5));
}

int main(void)
{
	test_whole_receivers();
	test_marker_numbers();
	test_run_id();
	return t_done("test_fanout_split");
}
