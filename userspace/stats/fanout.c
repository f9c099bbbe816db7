/* Fan-out figures (see fanout.h). */
#include "stats/fanout.h"

uint64_t fanout_expected(const struct blast_opts *o, const struct blast_totals *t)
{
	if (o->fanout)
		return t->sent * o->fanout;
	if (o->proto == PROTO_WS)
		return t->sent * o->conns;
	return t->matched * o->conns;
}

uint64_t fanout_refused(const struct blast_totals *t)
{
	uint64_t n = 0;

	for (int i = 0x80; i < 256; i++)
		n += t->suback[i];
	return n;
}
