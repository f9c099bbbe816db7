/* The split of a run between machines (config/split.c): for many wholes
 * and share counts, the shares add up exactly to the whole, remainders go
 * one each to the first shares, and the ranges are disjoint and cover the
 * whole in order. */
#include <stdint.h>

#include "config/split.h"
#include "t.h"

/* Share i's range [base, base + n) follows share i-1's and the last ends
 * at total: disjoint, in order, covering everything. Returns the sum. */
static uint64_t check_range(uint64_t base, uint64_t n, uint64_t *next)
{
	CHECK_EQ_INT(base, *next);
	*next = base + n;
	return n;
}

static void check_whole(const struct split_whole *w, uint32_t n)
{
	uint64_t conns = 0, rate = 0, msgs = 0, pubs = 0, recv = 0, parts = 0;
	uint64_t next_conn = 0, next_pub = 0, next_recv = 0, next_part = 0;
	uint64_t lo = UINT64_MAX, hi = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct split_share s;
		split_share(w, i, n, &s);
		conns += check_range(s.conn_base, s.conns, &next_conn);
		pubs += check_range(s.publisher_base, s.publishers, &next_pub);
		recv += check_range(s.receiver_base, s.receivers, &next_recv);
		parts += check_range(s.partition_base, s.partitions, &next_part);
		rate += s.rate;
		msgs += s.messages;
		/* Remainders spread: no share differs from another by more than one. */
		lo = s.messages < lo ? s.messages : lo;
		hi = s.messages > hi ? s.messages : hi;
		/* ... and the first shares take them. */
		if (i > 0) {
			struct split_share p;
			split_share(w, i - 1, n, &p);
			CHECK(p.conns >= s.conns && p.rate >= s.rate && p.messages >= s.messages);
		}
	}
	CHECK_EQ_INT(conns, w->conns);
	CHECK_EQ_INT(next_conn, w->conns);
	CHECK_EQ_INT(rate, w->rate);
	CHECK_EQ_INT(msgs, w->has_messages ? w->messages : 0);
	CHECK_EQ_INT(pubs, w->publishers);
	CHECK_EQ_INT(recv, w->receivers);
	CHECK_EQ_INT(parts, w->partitions);
	CHECK(hi - lo <= 1);
}

static void test_sums(void)
{
	static const uint64_t totals[] = { 0, 1, 2, 3, 7, 10, 99, 100, 101, 1000003, 4294967295u };
	static const uint32_t ns[] = { 1, 2, 3, 4, 7, 16, 100 };

	for (unsigned a = 0; a < ARRAY_SIZE(totals); a++)
		for (unsigned b = 0; b < ARRAY_SIZE(ns); b++) {
			uint64_t t = totals[a];
			struct split_whole w = {
				.conns = (uint32_t)t, .rate = t * 3 + 1, .messages = t * 7 + 5,
				.has_messages = 1, .publishers = (uint32_t)(t / 2),
				.receivers = (uint32_t)(t % 13), .partitions = (uint32_t)(t % 9),
			};
			check_whole(&w, ns[b]);
		}
	/* The largest sums do not overflow. */
	struct split_whole big = { .rate = UINT64_MAX, .messages = UINT64_MAX, .has_messages = 1,
				   .conns = UINT32_MAX };
	check_whole(&big, 7);
}

/* Exact figures: 10 connections, 1001 msg/s, 3 shares. */
static void test_figures(void)
{
	struct split_whole w = { .conns = 10, .rate = 1001, .messages = 5, .has_messages = 1,
				 .partitions = 4 };
	struct split_share s[3];

	for (uint32_t i = 0; i < 3; i++)
		split_share(&w, i, 3, &s[i]);
	CHECK_EQ_INT(s[0].conns, 4);
	CHECK_EQ_INT(s[1].conns, 3);
	CHECK_EQ_INT(s[2].conns, 3);
	CHECK_EQ_INT(s[0].conn_base, 0);
	CHECK_EQ_INT(s[1].conn_base, 4);
	CHECK_EQ_INT(s[2].conn_base, 7);
	CHECK_EQ_INT(s[0].rate, 334);
	CHECK_EQ_INT(s[1].rate, 334);
	CHECK_EQ_INT(s[2].rate, 333);
	CHECK_EQ_INT(s[0].messages, 2);
	CHECK_EQ_INT(s[2].messages, 1);
	CHECK_EQ_INT(s[0].partitions, 2);
	CHECK_EQ_INT(s[1].partition_base, 2);
	CHECK_EQ_INT(s[2].partition_base, 3);
	/* One share is the whole. */
	struct split_share one;
	split_share(&w, 0, 1, &one);
	CHECK_EQ_INT(one.conns, 10);
	CHECK_EQ_INT(one.rate, 1001);
	CHECK_EQ_INT(one.conn_base, 0);
}

/* Unlimited stays unlimited: no --rate, no --messages. */
static void test_unlimited(void)
{
	struct split_whole w = { .conns = 5 };
	struct split_share s;

	split_share(&w, 2, 4, &s);
	CHECK_EQ_INT(s.rate, 0);
	CHECK_EQ_INT(s.messages, 0);
	CHECK_EQ_INT(s.conns, 1);
	CHECK_EQ_INT(s.conn_base, 3);
}

int main(void)
{
	test_sums();
	test_figures();
	test_unlimited();
	return t_done("split");
}
