/* One machine's share of a split run (see shard.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "config/split.h"
#include "cli/fail.h"
#include "cli/flags.h"
#include "cli/shard.h"

/* Each share needs one of count. */
static int each_needs(const char *what, uint64_t count, uint32_t n)
{
	return cli_fail("--shard: %s %llu cannot be split %u ways (each machine needs at least one)",
			what, (unsigned long long)count, n);
}

int shard_finish(struct blast_opts *o, const struct parse_state *ps)
{
	if (ps->at[F_SHARDS] && ps->at[F_SHARD])
		return cli_fail("--shard I/N and --shards N cannot be used together");
	if (ps->at[F_SHARDS]) {
		const char *idx = getenv("JOB_COMPLETION_INDEX");
		char *end;
		if (!idx || !*idx)
			return cli_fail("--shards %u: the index comes from $JOB_COMPLETION_INDEX (a "
					"Kubernetes Indexed Job), which is not set; or use --shard I/N",
					o->shard_count);
		errno = 0;
		unsigned long i = strtoul(idx, &end, 10);
		if (*end || errno || *idx == '-' || i >= o->shard_count)
			return cli_fail("--shards %u: $JOB_COMPLETION_INDEX %s must be 0 to %u",
					o->shard_count, cli_quote(idx), o->shard_count - 1);
		o->shard_index = (uint32_t)i;
	}
	if (!o->shard_count)
		return 0;
	uint32_t n = o->shard_count;
	if (o->limit.mode)
		return cli_fail("--find-limit cannot be split between machines (--shard)");
	if (o->n_steps)
		return cli_fail("--steps cannot be split between machines (--shard)");
	bool fan = opts_fanout(o);
	/* A broadcast server's listeners see every machine's messages, but
	 * its markers (proto/ws) carry no whole-run numbers yet. */
	if (o->proto == PROTO_WS)
		return cli_fail("--proto ws (listeners) cannot be split between machines yet: "
				"run it on one machine");
	uint32_t nodes = 1 + o->n_listen;
	struct split_whole w = {
		.conns = o->conns, /* Kafka: per partition leader, kept whole in each share */
		.rate = o->rate,
		.messages = o->messages,
		.has_messages = o->has_messages,
		.publishers = fan ? o->publishers : 0,
		.receivers = fan ? opts_receivers_per_node(o) : 0,
	};
	/* Kafka: --conns is per partition leader; the partitions are split. */
	if (o->proto != PROTO_KAFKA && !fan && w.conns < n)
		return each_needs("--conns", w.conns, n);
	if (fan && w.publishers && w.publishers < n)
		return each_needs("--publishers", w.publishers, n);
	if (fan && w.receivers < n)
		return each_needs(o->proto == PROTO_WS ? "--listeners" : "--subscribers", w.receivers, n);
	/* Kafka's --partitions, when given, are known before any metadata: a
	 * coordinator's assignment carries their split, and too few for N
	 * machines is refused before any machine connects. */
	if (o->proto == PROTO_KAFKA && !o->key) {
		w.partitions = o->n_partitions;
		if (w.partitions && w.partitions < n)
			return each_needs("--partitions", w.partitions, n);
	}
	if (w.rate && w.rate < n)
		return each_needs("--rate", w.rate, n);
	if (w.has_messages && w.messages && w.messages < n)
		return each_needs("--messages", w.messages, n);
	struct split_share s;
	split_share(&w, o->shard_index, n, &s);
	o->shard_whole = w;
	o->rate = s.rate;
	o->messages = s.messages;
	if (fan) {
		/* Publishers are a node's first connections, receivers follow. */
		o->publishers = s.publishers;
		if (o->proto == PROTO_WS)
			o->listeners = s.receivers;
		else
			o->subscribers = s.receivers;
		o->conns = s.publishers + s.receivers * nodes;
		/* {conn}: the whole run's numbers, so client ids and marks of
		 * the shares never meet. */
		o->conn_base = s.publisher_base;
		o->recv_conn_base = w.publishers + s.receiver_base * nodes;
	} else if (o->proto != PROTO_KAFKA) {
		o->conns = s.conns;
		o->conn_base = s.conn_base;
	}
	return 0;
}
