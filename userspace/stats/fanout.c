/* Fan-out figures (see fanout.h). */
#include <string.h>

#include "encoders/mqtt.h"
#include "stats/fanout.h"

#define SHARE_PREFIX "$share/"
#define SHARE_PREFIX_LEN (sizeof(SHARE_PREFIX) - 1)

uint32_t fanout_receivers(const struct blast_opts *o)
{
	return o->subscribers * (1 + o->n_listen) + (o->chat ? o->publishers : 0);
}

uint64_t fanout_expected(const struct blast_opts *o, const struct blast_totals *t)
{
	if (o->fanout)
		return t->sent * o->fanout;
	if (o->proto == PROTO_WS)
		return t->sent * o->conns;
	return t->matched * fanout_receivers(o) + t->share_receipts;
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
