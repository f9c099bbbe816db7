/* The split of a run between machines (see split.h). */
#include "config/split.h"

uint64_t split_part(uint64_t total, uint32_t i, uint32_t n)
{
	return total / n + (i < total % n);
}

uint64_t split_base(uint64_t total, uint32_t i, uint32_t n)
{
	uint64_t rem = total % n;

	return (uint64_t)i * (total / n) + (i < rem ? i : rem);
}

void split_share(const struct split_whole *w, uint32_t i, uint32_t n, struct split_share *s)
{
	s->conns = (uint32_t)split_part(w->conns, i, n);
	s->conn_base = (uint32_t)split_base(w->conns, i, n);
	s->rate = split_part(w->rate, i, n);
	s->messages = w->has_messages ? split_part(w->messages, i, n) : 0;
	s->publishers = (uint32_t)split_part(w->publishers, i, n);
	s->publisher_base = (uint32_t)split_base(w->publishers, i, n);
	s->receivers = (uint32_t)split_part(w->receivers, i, n);
	s->receiver_base = (uint32_t)split_base(w->receivers, i, n);
	s->partitions = (uint32_t)split_part(w->partitions, i, n);
	s->partition_base = (uint32_t)split_base(w->partitions, i, n);
}
