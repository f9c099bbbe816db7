/* Fan-out figures (see fanout.h). */
#include <string.h>

#include "config/split.h"
#include "encoders/mqtt.h"
#include "stats/fanout.h"

#define SHARE_PREFIX "$share/"
#define SHARE_PREFIX_LEN (sizeof(SHARE_PREFIX) - 1)

uint32_t fanout_receivers(const struct blast_opts *o)
{
	return o->subscribers * (1 + o->n_listen) + (o->chat ? o->publishers : 0);
}

uint32_t fanout_receivers_whole(const struct blast_opts *o)
{
	const struct split_whole *w = &o->shard_whole;

	if (!o->shard_count)
		return fanout_receivers(o);
	return w->receivers * (1 + o->n_listen) + (o->chat ? w->publishers : 0);
}

uint64_t fanout_owed(const struct blast_opts *o, const struct blast_totals *t)
{
	if (o->fanout)
		return t->sent * o->fanout;
	if (o->proto == PROTO_WS)
		return t->sent * o->conns;
	return t->matched * fanout_receivers_whole(o) + t->share_receipts;
}

uint64_t fanout_scale_to_whole(const struct blast_opts *o, uint64_t n)
{
	const struct split_whole *w = &o->shard_whole;
	uint64_t whole = w->publishers, part = o->publishers;

	if (!o->shard_count)
		return n;
	if (w->has_messages && w->messages) {
		whole = w->messages;
		part = o->messages;
	} else if (w->rate) {
		whole = w->rate;
		part = o->rate;
	}
	return part ? (uint64_t)((unsigned __int128)n * whole / part) : n;
}

/* n of the whole run's receipts, by this share's part of the receivers. */
static uint64_t mine_of(const struct blast_opts *o, uint64_t n)
{
	uint64_t all = fanout_receivers_whole(o);

	return all ? (uint64_t)((unsigned __int128)n * fanout_receivers(o) / all) : 0;
}

uint64_t fanout_expected(const struct blast_opts *o, const struct blast_totals *t)
{
	bool split = o->shard_count && o->proto == PROTO_MQTT;

	if (o->fanout)
		return split ? mine_of(o, fanout_scale_to_whole(o, t->sent) * o->fanout)
			     : t->sent * o->fanout;
	if (o->proto == PROTO_WS)
		return t->sent * o->conns;
	if (!split)
		return t->matched * fanout_receivers(o) + t->share_receipts;
	return fanout_scale_to_whole(o, t->matched) * fanout_receivers(o) +
	       mine_of(o, fanout_scale_to_whole(o, t->share_receipts));
}

bool fanout_all_in(const struct blast_opts *o, const struct blast_totals *t)
{
	if (o->shard_count && o->proto == PROTO_MQTT && fanout_share_groups(o))
		return false;
	return t->received >= fanout_expected(o, t);
}

uint32_t fanout_publisher_no(const struct blast_opts *o, uint32_t idx)
{
	if (!o->shard_count)
		return idx;
	return (uint32_t)split_base(o->shard_whole.publishers, o->shard_index, o->shard_count) + idx;
}

uint64_t fanout_seq(const struct blast_opts *o, uint64_t seq)
{
	return o->shard_count ? seq * o->shard_count + o->shard_index : seq;
}

uint32_t fanout_run_id(const struct blast_opts *o, uint32_t pid, uint64_t start_ns)
{
	if (o->shard_count && o->start_at_ns) {
		uint64_t x = (o->start_at_ns ^ (uint64_t)o->shard_count << 52) * 0x9e3779b97f4a7c15ull;
		return (uint32_t)(x >> 32);
	}
	return (uint32_t)(pid * 2654435761u ^ start_ns);
}

const char *fanout_share_filter(const char *filter, size_t *name_len)
{
	if (strncmp(filter, SHARE_PREFIX, SHARE_PREFIX_LEN))
		return NULL;
	const char *name = filter + SHARE_PREFIX_LEN;
	const char *slash = strchr(name, '/');
	*name_len = slash ? (size_t)(slash - name) : strlen(name);
	return slash ? slash + 1 : name + *name_len;
}

uint32_t fanout_share_groups(const struct blast_opts *o)
{
	uint32_t n = 0;
	size_t name_len;

	for (uint32_t i = 0; i < o->n_sub_topics; i++)
		n += fanout_share_filter(o->sub_topics[i], &name_len) != NULL;
	return n;
}

struct fanout_match fanout_match_topic(const struct blast_opts *o, const char *topic, size_t n)
{
	struct fanout_match m = { 0 };
	size_t name_len;

	for (uint32_t i = 0; i < o->n_sub_topics; i++) {
		const char *f = o->sub_topics[i];
		const char *shared = fanout_share_filter(f, &name_len);
		const char *match = shared ? shared : f;
		if (!mqtt_topic_matches(match, strlen(match), topic, n))
			continue;
		if (!shared)
			m.every = true;
		else
			m.shared++;
	}
	/* A subscriber holding both kinds keeps one receipt per message. */
	if (m.every)
		m.shared = 0;
	return m;
}

uint64_t fanout_refused(const struct blast_totals *t)
{
	uint64_t n = 0;

	for (int i = 0x80; i < 256; i++)
		n += t->suback[i];
	return n;
}
