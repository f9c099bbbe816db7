/* The capture witness's stream side: flows, TCP reassembly, the table of
 * requests awaiting acks, and the API. See wire_match.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "witness/wire_http.h"
#include "witness/wire_int.h"
#include "witness/wire_match.h"
#include "witness/wire_parse.h"
#include "witness/wire_pend.h"

const char *wm_proto_name(enum wm_proto p)
{
	static const char *const names[] = {
		[WM_AUTO] = "unknown", [WM_MQTT] = "mqtt", [WM_KAFKA] = "kafka",
		[WM_WS] = "ws", [WM_HTTP] = "http",
	};

	return (unsigned)p <= WM_HTTP ? names[p] : "unknown";
}

/* ---- pending requests: open addressing, tombstones ---- */

/* ---- protocol recognition ---- */

static enum wm_proto by_port(uint16_t port)
{
	switch (port) {
	case 1883:
		return WM_MQTT;
	case 9092:
		return WM_KAFKA;
	default:
		return WM_AUTO;
	}
}

/* A stream's bytes to its protocol's parser, once the protocol is known. */
static size_t parse(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
		    size_t n, size_t carried, uint64_t cts, uint64_t nts)
{
	if (f->proto == WM_AUTO) {
		if (f->given_up)
			return n;
		if (side != f->client && f->client_sure)
			return 0; /* the server's bytes wait for the client's first */
		int g = wm_sniff(p, n);
		if (g == WM_AUTO) /* an HTTP GET's head may be long */
			return n > HTTP_MAX ? n : 0;
		if (g < 0) {
			if (!f->client_sure) { /* maybe the other side opened it */
				return n > 64 ? n : 0;
			}
			f->given_up = true;
			m->c.flows_by_proto[WM_AUTO]++;
			return n;
		}
		f->proto = (uint8_t)g;
		f->client = (int8_t)side;
		f->client_sure = true;
		m->c.flows_by_proto[g]++;
	}
	switch (f->proto) {
	case WM_MQTT:
		return wm_parse_mqtt(m, fid, f, side, p, n, carried, cts, nts);
	case WM_KAFKA:
		return wm_parse_kafka(m, fid, f, side, p, n, carried, cts, nts);
	case WM_WS:
		return wm_parse_ws(m, fid, f, side, p, n, carried, cts, nts);
	case WM_HTTP:
		return wm_parse_http(m, fid, f, side, p, n, carried, cts, nts);
	default:
		return n;
	}
}

/* ---- streams ---- */

static void gap(struct wm *m, struct dir *d)
{
	if (!d->resync)
		m->s.unparsed++;
	d->resync = true;
	d->len = 0;
}

static bool keep(struct wm *m, struct dir *d, const uint8_t *p, size_t n)
{
	if (d->len + n > WM_MAX_FRAME + 65536)
		return false;
	if (d->len + n > d->cap) {
		size_t cap = d->cap ? d->cap : 4096;
		while (cap < d->len + n)
			cap *= 2;
		uint8_t *b = realloc(d->buf, cap);
		if (!b) {
			m->oom = true;
			return false;
		}
		d->buf = b;
		d->cap = cap;
	}
	memcpy(d->buf + d->len, p, n);
	d->len += n;
	return true;
}

/* New in-order bytes of one direction. Frames are parsed in place when
 * nothing is carried; only an unfinished frame's bytes are copied. */
void wm_deliver_clear(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
		      size_t n, uint64_t ts)
{
	struct dir *d = &f->d[side];

	if (d->len == 0) {
		size_t used = parse(m, fid, f, side, p, n, 0, ts, ts);
		if (used == PARSE_ERR || (d->resync && used == 0 && f->proto != WM_AUTO)) {
			/* Still not at a frame boundary: skip this segment. */
			gap(m, d);
			return;
		}
		d->resync = false;
		d->buf_ts = ts;
		if (used < n && !keep(m, d, p + used, n - used))
			gap(m, d);
		return;
	}
	size_t carried = d->len;
	if (!keep(m, d, p, n)) {
		gap(m, d);
		return;
	}
	size_t used = parse(m, fid, f, side, d->buf, d->len, carried, d->buf_ts, ts);
	if (used == PARSE_ERR) {
		gap(m, d);
		return;
	}
	if (used >= carried)
		d->buf_ts = ts;
	if (used) /* a frame still growing stays where it is */
		memmove(d->buf, d->buf + used, d->len - used);
	d->len -= used;
}

/* A flow whose first bytes are a ClientHello is TLS: its bytes are
 * decrypted on the way to the parsers. */
static void deliver(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
		    size_t n, uint64_t ts)
{
	if (f->tls || wm_tls_start(m, f, side, p, n))
		wm_tls_feed(m, fid, f, side, p, n, ts);
	else
		wm_deliver_clear(m, fid, f, side, p, n, ts);
}

/* Bytes of the stream the capture does not have. */
static void stream_gap(struct wm *m, struct flow *f, int side)
{
	m->c.gaps++;
	gap(m, &f->d[side]);
	wm_tls_gap(f, side);
}

/* Every byte up to a FIN delivered: an HTTP body that runs until the
 * server closes is whole now. */
static void fin_reached(struct wm *m, uint32_t fid, struct flow *f, int side, uint64_t ts)
{
	const struct dir *d = &f->d[side];

	if (f->proto == WM_HTTP && side != f->client && d->fin && d->seq_known &&
	    d->next == d->fin_end && !d->resync)
		wm_http_eof(m, fid, f, ts);
}

static void count_bytes(struct wm *m, const struct flow *f, int side, size_t n)
{
	if (side == f->client)
		m->s.bytes_out += n;
	else
		m->s.bytes_in += n;
}

/* A retransmission of [lo, hi): kept for a DSACK to name (the oldest
 * goes when the list is full). */
static void rtx_note(struct dir *d, uint32_t lo, uint32_t hi)
{
	if (d->n_rtx == WM_RTX_KEPT) {
		memmove(d->rtx[0], d->rtx[1], sizeof(d->rtx[0]) * (WM_RTX_KEPT - 1));
		d->n_rtx--;
	}
	d->rtx[d->n_rtx][0] = lo;
	d->rtx[d->n_rtx][1] = hi;
	d->n_rtx++;
}

/* An ACK whose first SACK block lies below the cumulative ACK or inside the
 * second block is a DSACK (RFC 2883): the receiver already had those bytes.
 * A retransmission of the other direction it overlaps was not needed. */
static void dsack(struct wm *m, struct dir *o, const struct pkt_tcp *t)
{
	uint32_t lo = t->sack[0][0], hi = t->sack[0][1];

	if (!t->n_sack || (int32_t)(hi - lo) <= 0)
		return;
	if ((int32_t)(lo - t->ack) >= 0 &&
	    (t->n_sack < 2 || (int32_t)(lo - t->sack[1][0]) < 0 ||
	     (int32_t)(hi - t->sack[1][1]) > 0))
		return;
	for (unsigned i = 0; i < o->n_rtx; i++) {
		if ((int32_t)(lo - o->rtx[i][1]) >= 0 || (int32_t)(hi - o->rtx[i][0]) <= 0)
			continue;
		m->s.retrans_dsack++;
		memmove(o->rtx[i], o->rtx[i + 1], sizeof(o->rtx[0]) * (o->n_rtx - i - 1));
		o->n_rtx--;
		return;
	}
}

/* A segment at or before the expected sequence number. */
static void take(struct wm *m, uint32_t fid, struct flow *f, int side, uint32_t seq,
		 const uint8_t *data, size_t cap, size_t wire, uint64_t ts)
{
	struct dir *d = &f->d[side];
	uint32_t skip = d->next - seq;

	if (skip >= wire) {
		m->s.retransmits++;
		rtx_note(d, seq, seq + (uint32_t)wire);
		return;
	}
	if (skip) {
		m->s.retransmits++;
		rtx_note(d, seq, d->next);
	}
	if (cap > skip) {
		count_bytes(m, f, side, cap - skip);
		deliver(m, fid, f, side, data + skip, cap - skip, ts);
	}
	d->next = seq + (uint32_t)wire;
	if (cap < wire) /* the capture's snap length cut the rest off */
		stream_gap(m, f, side);
}

static void drain_held(struct wm *m, uint32_t fid, struct flow *f, int side)
{
	struct dir *d = &f->d[side];
	bool again = true;

	while (again) {
		again = false;
		for (unsigned i = 0; i < d->n_held; i++) {
			struct held h = d->held[i];
			if ((int32_t)(h.seq - d->next) > 0)
				continue;
			d->held[i] = d->held[--d->n_held];
			take(m, fid, f, side, h.seq, h.data, h.cap, h.wire, h.ts);
			free(h.data);
			again = true;
			break;
		}
	}
}

/* Gives up on the hole before the earliest held segment. */
static void skip_hole(struct wm *m, uint32_t fid, struct flow *f, int side)
{
	struct dir *d = &f->d[side];
	unsigned lo = 0;

	if (!d->n_held)
		return;
	for (unsigned i = 1; i < d->n_held; i++)
		if ((int32_t)(d->held[i].seq - d->held[lo].seq) < 0)
			lo = i;
	stream_gap(m, f, side);
	d->next = d->held[lo].seq;
	drain_held(m, fid, f, side);
}

static void hold(struct wm *m, uint32_t fid, struct flow *f, int side, uint32_t seq,
		 const uint8_t *data, size_t cap, size_t wire, uint64_t ts)
{
	struct dir *d = &f->d[side];

	if (!d->held && !(d->held = calloc(WM_MAX_HELD, sizeof(*d->held)))) {
		m->oom = true;
		return;
	}
	if (d->n_held == WM_MAX_HELD)
		skip_hole(m, fid, f, side);
	if ((int32_t)(seq - d->next) <= 0) { /* the skip reached it */
		take(m, fid, f, side, seq, data, cap, wire, ts);
		drain_held(m, fid, f, side);
		return;
	}
	uint8_t *copy = malloc(cap ? cap : 1);
	if (!copy) {
		m->oom = true;
		return;
	}
	memcpy(copy, data, cap);
	d->held[d->n_held++] = (struct held){ .seq = seq, .cap = cap, .wire = wire, .ts = ts, .data = copy };
}

static void segment(struct wm *m, uint32_t fid, struct flow *f, int side, const struct pkt_tcp *t,
		    uint64_t ts)
{
	struct dir *d = &f->d[side];
	uint32_t seq = t->seq;

	/* The other side acknowledges bytes of a hole the capture never had:
	 * give up waiting for them. */
	struct dir *o = &f->d[!side];
	while ((t->flags & TCP_ACK) && o->n_held && (int32_t)(t->ack - o->next) > 0)
		skip_hole(m, fid, f, !side);
	if (t->flags & TCP_ACK) {
		dsack(m, o, t);
		if (!o->acked_known || (int32_t)(t->ack - o->acked) > 0)
			o->acked = t->ack;
		o->acked_known = true;
	}
	if (t->flags & TCP_SYN) {
		d->seq_known = true;
		d->next = seq + 1;
		d->resync = false;
		d->len = 0;
		if (!(t->flags & TCP_ACK)) {
			f->client = (int8_t)side;
			f->client_sure = true;
		}
		seq++;
	}
	if (t->flags & TCP_FIN) {
		d->fin = true;
		d->fin_end = seq + (uint32_t)t->payload_wire;
	}
	if (!t->payload_wire) {
		fin_reached(m, fid, f, side, ts);
		return;
	}
	if (side == f->client)
		m->s.segs_out++;
	else
		m->s.segs_in++;
	if (!d->seq_known) { /* joined mid-stream: the first bytes may be mid-frame */
		d->seq_known = true;
		d->next = seq;
		d->resync = true;
	}
	if ((int32_t)(seq - d->next) > 0) {
		hold(m, fid, f, side, seq, t->payload, t->payload_len, t->payload_wire, ts);
		return;
	}
	take(m, fid, f, side, seq, t->payload, t->payload_len, t->payload_wire, ts);
	if (d->n_held)
		drain_held(m, fid, f, side);
	fin_reached(m, fid, f, side, ts);
}

/* ---- flows ---- */

static uint64_t side_hash(uint8_t fam, const uint8_t *a, uint16_t port)
{
	uint64_t x, y;

	memcpy(&x, a, 8);
	memcpy(&y, a + 8, 8);
	return mix(x ^ mix(y ^ ((uint64_t)port << 8 | fam)));
}

static uint64_t tuple_hash(const struct pkt_tcp *t)
{
	/* Symmetric: both directions land in the same slot. */
	return side_hash(t->family, t->src, t->sport) ^ side_hash(t->family, t->dst, t->dport);
}

static bool port_listed(const struct wm *m, uint16_t port)
{
	for (unsigned i = 0; i < m->o.n_ports; i++)
		if (m->o.ports[i] == port)
			return true;
	return false;
}

static int flow_side(const struct flow *f, const struct pkt_tcp *t)
{
	if (f->family != t->family)
		return -1;
	if (f->port[0] == t->sport && f->port[1] == t->dport && !memcmp(f->addr[0], t->src, 16) &&
	    !memcmp(f->addr[1], t->dst, 16))
		return 0;
	if (f->port[1] == t->sport && f->port[0] == t->dport && !memcmp(f->addr[1], t->src, 16) &&
	    !memcmp(f->addr[0], t->dst, 16))
		return 1;
	return -1;
}

static bool fslots_grow(struct wm *m)
{
	size_t cap = m->fslots_cap ? m->fslots_cap * 2 : 1024;
	uint32_t *n = calloc(cap, sizeof(*n));

	if (!n)
		return false;
	for (size_t i = 0; i < m->n_flows; i++) {
		const struct flow *f = m->flows[i];
		struct pkt_tcp t = { .family = f->family, .sport = f->port[0], .dport = f->port[1] };
		memcpy(t.src, f->addr[0], 16);
		memcpy(t.dst, f->addr[1], 16);
		size_t j = (size_t)tuple_hash(&t) & (cap - 1);
		while (n[j])
			j = (j + 1) & (cap - 1);
		n[j] = (uint32_t)i + 1;
	}
	free(m->fslots);
	m->fslots = n;
	m->fslots_cap = cap;
	return true;
}

static struct flow *flow_new(struct wm *m, const struct pkt_tcp *t)
{
	if ((m->n_flows + 1) * 2 > m->fslots_cap && !fslots_grow(m))
		return NULL;
	if (m->n_flows == m->flows_cap) {
		size_t cap = m->flows_cap ? m->flows_cap * 2 : 256;
		struct flow **n = realloc(m->flows, cap * sizeof(*n));
		if (!n)
			return NULL;
		m->flows = n;
		m->flows_cap = cap;
	}
	struct flow *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->family = t->family;
	memcpy(f->addr[0], t->src, 16);
	memcpy(f->addr[1], t->dst, 16);
	f->port[0] = t->sport;
	f->port[1] = t->dport;
	/* Until a SYN says otherwise: the listed or well-known port, else the
	 * lower one, is the server's. */
	int server;
	if (m->o.n_ports && (port_listed(m, t->sport) || port_listed(m, t->dport)))
		server = port_listed(m, t->dport) ? 1 : 0;
	else if (by_port(t->sport) != WM_AUTO || by_port(t->dport) != WM_AUTO)
		server = by_port(t->dport) != WM_AUTO ? 1 : 0;
	else
		server = t->dport <= t->sport ? 1 : 0;
	f->client = (int8_t)!server;
	f->ignored = m->o.n_ports && !port_listed(m, t->sport) && !port_listed(m, t->dport);
	f->proto = (uint8_t)m->o.proto;
	if (f->proto == WM_AUTO)
		f->proto = (uint8_t)by_port(f->port[server]);
	if (f->proto != WM_AUTO && !f->ignored)
		m->c.flows_by_proto[f->proto]++;
	if (!f->ignored)
		m->s.flows++;
	size_t j = (size_t)tuple_hash(t) & (m->fslots_cap - 1);
	while (m->fslots[j])
		j = (j + 1) & (m->fslots_cap - 1);
	m->fslots[j] = (uint32_t)m->n_flows + 1;
	m->flows[m->n_flows++] = f;
	return f;
}

static struct flow *flow_find(struct wm *m, const struct pkt_tcp *t, uint32_t *fid, int *side)
{
	if (m->fslots_cap) {
		for (size_t j = (size_t)tuple_hash(t) & (m->fslots_cap - 1); m->fslots[j];
		     j = (j + 1) & (m->fslots_cap - 1)) {
			struct flow *f = m->flows[m->fslots[j] - 1];
			int s = flow_side(f, t);
			if (s >= 0) {
				*fid = m->fslots[j] - 1;
				*side = s;
				return f;
			}
		}
	}
	struct flow *f = flow_new(m, t);
	if (!f) {
		m->oom = true;
		return NULL;
	}
	*fid = (uint32_t)m->n_flows - 1;
	*side = 0;
	return f;
}

/* ---- API ---- */

struct wm *wm_new(const struct wm_opts *o)
{
	struct wm *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->o = *o;
	if (m->o.n_ports > WM_MAX_PORTS)
		m->o.n_ports = WM_MAX_PORTS;
	hist_reset(&m->s.latency);
	m->s.source = WIRE_PCAP;
	return m;
}

void wm_packet(struct wm *m, const struct pcap_pkt *p)
{
	struct pkt_tcp t;
	uint32_t fid;
	int side;

	m->c.packets++;
	if (!m->c.first_ns || p->ts_ns < m->c.first_ns)
		m->c.first_ns = p->ts_ns;
	if (p->ts_ns > m->c.last_ns)
		m->c.last_ns = p->ts_ns;
	int r = pkt_dissect_tcp(p->linktype, p->data, p->caplen, &t);
	if (r < 0) {
		m->c.bad_packets++;
		return;
	}
	if (r == 0)
		return;
	struct flow *f = flow_find(m, &t, &fid, &side);
	if (!f || f->ignored)
		return;
	m->c.tcp++;
	segment(m, fid, f, side, &t, p->ts_ns);
}

void wm_result(struct wm *m, struct wire_stats *out, struct wm_counts *c)
{
	/* Holes that never filled are gaps: take what is behind them. */
	for (size_t i = 0; i < m->n_flows; i++)
		for (int s = 0; s < 2; s++)
			while (m->flows[i]->d[s].n_held)
				skip_hole(m, (uint32_t)i, m->flows[i], s);
	/* A peer that acknowledged more than the capture holds of a stream
	 * (its FIN counts one) received segments the capture lost. Counted
	 * apart: a later call may find the stream filled. */
	uint64_t tail_gaps = 0;
	for (size_t i = 0; i < m->n_flows; i++) {
		for (int s = 0; s < 2; s++) {
			const struct dir *d = &m->flows[i]->d[s];
			uint32_t end = d->next + (d->fin && d->fin_end == d->next);
			if (!m->flows[i]->ignored && d->seq_known && d->acked_known &&
			    (int32_t)(d->acked - end) > 0)
				tail_gaps++;
		}
	}
	m->c.pending = 0;
	for (size_t i = 0; i < m->p_cap; i++) {
		const struct pend *e = &m->p[i];
		if (e->state != P_USED)
			continue;
		int kind = (int)(e->a >> 56);
		if (kind == K_MQTT || kind == K_HTTP || (kind == K_KAFKA && e->flags == KF_PRODUCE))
			m->c.pending += kind == K_KAFKA ? e->n : 1;
		else if (kind == K_WS && e->n == 0)
			m->c.pending++;
	}
	/* A capture cannot tell a tail-loss probe from a retransmission;
	 * only the receiver's DSACKs mark the spurious ones. */
	m->s.retrans_real = m->s.retransmits - m->s.retrans_dsack;
	wm_tls_result(m, &m->s, &m->c);
	*out = m->s;
	if (c) {
		*c = m->c;
		c->gaps += tail_gaps;
	}
}

static void flow_row(const struct flow *f, struct hist *scratch, struct wm_flow_row *r)
{
	int server = !f->client;

	*r = (struct wm_flow_row){
		.family = f->family,
		.client_port = f->port[f->client],
		.server_port = f->port[server],
		.proto = (enum wm_proto)f->proto,
		.requests = f->requests,
		.acks = f->acks,
		.tls = wm_tls_of(f),
	};
	memcpy(r->client_addr, f->addr[f->client], 16);
	memcpy(r->server_addr, f->addr[server], 16);
	hist_clear(scratch);
	for (size_t i = 0; i < f->n_lat; i++)
		hist_record_n(scratch, f->lat[i].ns, f->lat[i].n);
	r->timed = scratch->total;
	r->p50_ns = hist_percentile(scratch, 50);
	r->p99_ns = hist_percentile(scratch, 99);
}

int wm_flow_rows(const struct wm *m, struct wm_flow_row **rows, size_t *n)
{
	struct hist *scratch = malloc(sizeof(*scratch));
	struct wm_flow_row *out = m->s.flows ? calloc(m->s.flows, sizeof(*out)) : NULL;
	size_t k = 0;

	*rows = NULL;
	*n = 0;
	if (!scratch || (m->s.flows && !out)) {
		free(scratch);
		free(out);
		return -ENOMEM;
	}
	hist_reset(scratch);
	for (size_t i = 0; i < m->n_flows && k < m->s.flows; i++)
		if (!m->flows[i]->ignored)
			flow_row(m->flows[i], scratch, &out[k++]);
	free(scratch);
	*rows = out;
	*n = k;
	return 0;
}

void wm_free(struct wm *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_flows; i++) {
		struct flow *f = m->flows[i];
		for (int s = 0; s < 2; s++) {
			for (unsigned k = 0; k < f->d[s].n_held; k++)
				free(f->d[s].held[k].data);
			free(f->d[s].held);
			free(f->d[s].buf);
			free(f->d[s].inner);
		}
		wm_http_free(f);
		free(f->lat);
		wm_tls_free(f);
		free(f);
	}
	for (size_t i = 0; i < m->p_cap; i++)
		free(m->p[i].parts); /* NULL but for Produce requests still pending */
	free(m->flows);
	free(m->fslots);
	free(m->p);
	free(m);
}

int wm_analyze_buffer(const uint8_t *buf, size_t len, const struct wm_opts *o,
		      struct wire_stats *out, struct wm_counts *c, struct wm_flow_row **rows,
		      size_t *n_rows, char *err, size_t err_cap)
{
	struct pcapfile_reader r;
	struct pcap_pkt p;
	int e = pcapfile_init(&r, buf, len);

	if (e) {
		snprintf(err, err_cap, "%s", r.err);
		return e;
	}
	struct wm *m = wm_new(o);
	if (!m) {
		snprintf(err, err_cap, "out of memory");
		return -ENOMEM;
	}
	while ((e = pcapfile_next(&r, &p)) == 1 && !m->oom)
		wm_packet(m, &p);
	if (m->oom) {
		snprintf(err, err_cap, "out of memory");
		wm_free(m);
		return -ENOMEM;
	}
	if (e < 0 && !m->c.packets) { /* nothing to show */
		snprintf(err, err_cap, "%s", r.err);
		wm_free(m);
		return e;
	}
	if (e < 0) /* what was read before the damage still counts, marked */
		snprintf(m->c.read_err, sizeof(m->c.read_err), "%s", r.err);
	m->c.drops_known = pcapfile_drops(&r, &m->c.ifdrop, &m->c.osdrop);
	wm_result(m, out, c);
	if (rows && wm_flow_rows(m, rows, n_rows)) {
		snprintf(err, err_cap, "out of memory");
		wm_free(m);
		return -ENOMEM;
	}
	wm_free(m);
	return 0;
}
