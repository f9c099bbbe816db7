/* The live line (see progress.h). */
#include <stdio.h>

#include "config/opts.h"
#include "report/progress.h"
#include "stats/shm.h"

#define BAR 20

static size_t bar(char *buf, size_t cap, double frac)
{
	char b[BAR + 3];
	int fill = (int)(frac * BAR + 0.5);

	fill = fill < 0 ? 0 : fill > BAR ? BAR : fill;
	b[0] = '[';
	for (int i = 0; i < BAR; i++)
		b[1 + i] = i < fill ? '#' : '.';
	b[BAR + 1] = ']';
	b[BAR + 2] = '\0';
	int n = snprintf(buf, cap, "%s %3.0f%% ", b, frac * 100 > 100 ? 100 : frac * 100);
	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

/* n with thousands separators: 4,392. */
static const char *grouped(char *buf, size_t cap, uint64_t n)
{
	char digits[24];
	int len = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
	size_t o = 0;

	for (int i = 0; i < len && o + 2 < cap; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

size_t progress_format(char *buf, size_t cap, const struct progress *p)
{
	const struct series_row *r = p->row;
	size_t n = 0;
	int k;

#define PUT(...)                                                             \
	do {                                                                 \
		k = snprintf(buf + n, cap - n, __VA_ARGS__);                 \
		n = k < 0 ? n : n + (size_t)k >= cap ? cap - 1 : n + (size_t)k; \
	} while (0)

	if (!cap)
		return 0;
	buf[0] = '\0';
	if (p->publish_at_s < 0) {
		/* Connecting: the ramp's bar. */
		PUT("[%6.1fs] connecting ", p->elapsed_s);
		n += bar(buf + n, cap - n, p->conns_total ? (double)r->conns_up / (double)p->conns_total : 0);
		PUT("conns %llu/%llu | errors %llu", (unsigned long long)r->conns_up,
		    (unsigned long long)p->conns_total, (unsigned long long)p->errors_total);
		return n;
	}
	double in = p->elapsed_s - p->publish_at_s;
	if (p->duration_s > 0 && !(p->draining && in <= p->duration_s)) {
		double total = p->publish_at_s + p->duration_s;
		PUT("[%6.1fs / %.1fs] ", p->elapsed_s, total);
		if (in <= p->duration_s)
			n += bar(buf + n, cap - n, in / p->duration_s);
		else
			PUT("draining ");
	} else if (p->messages && !p->draining) {
		PUT("[%6.1fs] ", p->elapsed_s);
		n += bar(buf + n, cap - n, (double)p->sent_total / (double)p->messages);
	} else {
		PUT("[%6.1fs] %s", p->elapsed_s, p->draining ? "draining " : "");
	}
	if (p->draining) {
		char a[32], b[32];
		PUT("conns %llu/%llu | ", (unsigned long long)r->conns_up,
		    (unsigned long long)p->conns_total);
		if (p->fanout)
			PUT("waiting for receipts %s of %s", grouped(a, sizeof(a), p->received),
			    grouped(b, sizeof(b), p->expected));
		else
			PUT("waiting for acks: %s in flight", grouped(a, sizeof(a), r->inflight));
		PUT(" | errors %llu", (unsigned long long)p->errors_total);
		return n;
	}
	if (p->subscribe_only) {
		char a[32];
		PUT("conns %llu/%llu | received %.0f/s, %s in all | errors %llu",
		    (unsigned long long)r->conns_up, (unsigned long long)p->conns_total,
		    p->received_per_s, grouped(a, sizeof(a), p->received),
		    (unsigned long long)p->errors_total);
		return n;
	}
	double len = r->len_s > 0 ? r->len_s : 1;
	PUT("conns %llu/%llu | sent %.0f/s acked %.0f/s | inflight %llu | errors %llu",
	    (unsigned long long)r->conns_up, (unsigned long long)p->conns_total,
	    (double)r->sent / len, (double)r->acked / len, (unsigned long long)r->inflight,
	    (unsigned long long)p->errors_total);
	if (r->count)
		PUT(" | p50 %.1fus p99 %.1fus", (double)r->p50 / 1e3, (double)r->p99 / 1e3);
#undef PUT
	return n;
}

void progress_print(FILE *f, const struct series *s, const struct blast_opts *o,
		    uint64_t conns_total, const struct progress_wait *wait)
{
	char line[512];

	if (!s->n || !s->shm)
		return;
	const struct series_row *r = &s->rows[s->n - 1];
	uint64_t start = s->shm->start_ns;
	double run_origin_s = (double)(start - s->origin_ns) / 1e9;
	struct progress p = {
		.elapsed_s = r->t_s - run_origin_s,
		.publish_at_s = s->publish_ns ? (double)(s->publish_ns - start) / 1e9 : -1,
		.duration_s = (double)o->duration_ns / 1e9,
		.messages = o->has_messages ? o->messages : 0,
		.sent_total = s->run_sent,
		.errors_total = s->run_errors,
		.conns_total = conns_total,
		.row = r,
		.draining = wait && wait->draining,
		.fanout = opts_fanout(o),
		.received = wait ? wait->received : 0,
		.expected = wait ? wait->expected : 0,
		.subscribe_only = opts_subscribe_only(o),
		.received_per_s = wait ? wait->received_per_s : 0,
	};
	progress_format(line, sizeof(line), &p);
	fprintf(f, "%s\n", line);
}
