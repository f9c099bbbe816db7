/* Fan-out figures (userspace/stats/fanout.c) and the fan-out marker
 * (userspace/marker.h): what a run expects, and the bytes a subscriber
 * reads back. */
#include <stdint.h>
#include <string.h>

#include "stats/fanout.h"
#include "payload/marker.h"
#include "t.h"

static void test_expected(void)
{
	struct blast_opts o;
	struct blast_totals t;

	memset(&o, 0, sizeof(o));
	memset(&t, 0, sizeof(t));
	t.sent = 100;
	t.matched = 40;

	/* --proto ws: every message on every connection. */
	o.proto = PROTO_WS;
	o.conns = 5;
	CHECK_EQ_INT(fanout_expected(&o, &t), 500);
	/* MQTT: only the messages the filter matches, on every subscriber
	 * (the publishers too with --chat), plus one per shared receipt. */
	o.proto = PROTO_MQTT;
	o.sub_topic = (char *)"blast/#";
	o.publishers = 3;
	o.subscribers = 2;
	CHECK_EQ_INT(fanout_expected(&o, &t), 80);
	o.n_listen = 1; /* subscribers are per node */
	CHECK_EQ_INT(fanout_expected(&o, &t), 160);
	o.chat = true;
	CHECK_EQ_INT(fanout_expected(&o, &t), 280);
	t.share_receipts = 9;
	CHECK_EQ_INT(fanout_expected(&o, &t), 289);
	t.matched = 0;
	t.share_receipts = 0;
	CHECK_EQ_INT(fanout_expected(&o, &t), 0);
	/* --fanout F: F per message sent, whatever matched. */
	o.fanout = 7;
	CHECK_EQ_INT(fanout_expected(&o, &t), 700);
	o.proto = PROTO_WS;
	CHECK_EQ_INT(fanout_expected(&o, &t), 700);

	CHECK_EQ_INT(fanout_refused(&t), 0);
	t.suback[0x80] = 2;
	t.suback[0x87] = 3;
	t.suback[0x01] = 9; /* a granted QoS is not a refusal */
	CHECK_EQ_INT(fanout_refused(&t), 5);
}

static void test_shared(void)
{
	char *filters[] = { "$share/g1/blast/#", "blast/1", "$share/g2/blast/+", "x/#" };
	struct blast_opts o;
	struct fanout_match m;
	size_t name_len = 99;

	CHECK(!fanout_share_filter("blast/#", &name_len));
	CHECK(!fanout_share_filter("$shared/g/a", &name_len));
	CHECK(!strcmp(fanout_share_filter("$share/grp/a/+", &name_len), "a/+"));
	CHECK_EQ_INT(name_len, 3);
	/* Malformed ones come back for the caller to refuse. */
	CHECK(!strcmp(fanout_share_filter("$share/g", &name_len), ""));
	CHECK_EQ_INT(name_len, 1);
	CHECK(!strcmp(fanout_share_filter("$share//a", &name_len), "a"));
	CHECK_EQ_INT(name_len, 0);

	memset(&o, 0, sizeof(o));
	o.proto = PROTO_MQTT;
	o.sub_topics = filters;
	o.n_sub_topics = 4;
	CHECK_EQ_INT(fanout_share_groups(&o), 2);
	/* A plain filter: every subscriber, the shared copies are repeats. */
	m = fanout_match_topic(&o, "blast/1", 7);
	CHECK(m.every && m.shared == 0);
	/* Shared only: one receipt per group that matches. */
	m = fanout_match_topic(&o, "blast/2", 7);
	CHECK(!m.every && m.shared == 2);
	m = fanout_match_topic(&o, "blast/2/3", 9);
	CHECK(!m.every && m.shared == 1);
	m = fanout_match_topic(&o, "other", 5);
	CHECK(!m.every && m.shared == 0);
}

static void test_opts_fanout(void)
{
	struct blast_opts o;

	memset(&o, 0, sizeof(o));
	o.proto = PROTO_MQTT;
	CHECK(!opts_fanout(&o));
	o.sub_topic = (char *)"a/+";
	CHECK(opts_fanout(&o));
	o.subscribers = 4;
	o.listeners = 2;
	CHECK_EQ_INT(opts_receivers_per_node(&o), 4);
	o.proto = PROTO_KAFKA;
	CHECK(!opts_fanout(&o));
	o.proto = PROTO_WS;
	CHECK(opts_fanout(&o));
	CHECK_EQ_INT(opts_receivers_per_node(&o), 2);
}

static void test_marker(void)
{
	/* Little-endian layout, byte for byte. */
	static const uint8_t want[MARKER_FANOUT_LEN] = {
		'B', 'L', 'S', 'T', 0x07, 0x00, 0x00, 0x00,
		0x2a, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		'F', 'A', 'N', 'O', 0x78, 0x56, 0x34, 0x12,
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
	};
	uint8_t p[MARKER_FANOUT_LEN + 4];
	struct marker_fanout m;

	memset(p, 0xee, sizeof(p));
	marker_stamp_fanout(p, 7, 0x12a, 0x12345678, 0x0102030405060708ull);
	CHECK_MEM(p, MARKER_FANOUT_LEN, want, sizeof(want));
	CHECK(p[MARKER_FANOUT_LEN] == 0xee); /* nothing written past it */
	CHECK_EQ_INT(marker_read_fanout(p, sizeof(p), &m), 0);
	CHECK_EQ_INT(m.conn, 7);
	CHECK(m.seq == 0x12a);
	CHECK(m.run == 0x12345678);
	CHECK(m.sent_ns == 0x0102030405060708ull);
	/* Too short, or the plain 16-byte marker: not a fan-out marker. */
	CHECK_EQ_INT(marker_read_fanout(p, MARKER_FANOUT_LEN - 1, &m), -1);
	marker_stamp(p, 7, 0x12a);
	memset(p + MARKER_LEN, 'a', MARKER_FANOUT_LEN - MARKER_LEN);
	CHECK_EQ_INT(marker_read_fanout(p, sizeof(p), &m), -1);
	p[0] = 'X';
	marker_stamp_fanout(p + 0, 1, 2, 3, 4);
	p[0] = 'X';
	CHECK_EQ_INT(marker_read_fanout(p, sizeof(p), &m), -1);
}

int main(void)
{
	test_expected();
	test_shared();
	test_opts_fanout();
	test_marker();
	return t_done("test_fanout");
}
