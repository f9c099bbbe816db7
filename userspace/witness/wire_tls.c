/* The capture witness's TLS flows: a flow whose first bytes are a
 * ClientHello goes through witness/tls_decrypt.c, and what it decrypts
 * goes on to the parsers as if it had crossed the wire in the clear. A flow
 * not decrypted is counted and named, never silently dropped. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "witness/tls_decrypt.h"
#include "witness/wire_int.h"

bool wm_tls_start(struct wm *m, struct flow *f, int side, const uint8_t *p, size_t n)
{
	bool first = !f->d[0].started && !f->d[1].started;

	f->d[side].started = true;
	if (!first || !tls_starts_client_hello(p, n))
		return false;
	f->tls = tls_flow_new(m->o.keylog);
	if (!f->tls) {
		m->oom = true;
		return false;
	}
	f->client = (int8_t)side; /* whoever sent the ClientHello */
	f->client_sure = true;
	return true;
}

struct plain {
	struct wm *m;
	uint32_t fid;
	struct flow *f;
	int side;
};

static void plain(void *ctx, const uint8_t *p, size_t n, uint64_t ts)
{
	struct plain *c = ctx;

	wm_deliver_clear(c->m, c->fid, c->f, c->side, p, n, ts);
}

void wm_tls_feed(struct wm *m, uint32_t fid, struct flow *f, int side, const uint8_t *p,
		 size_t n, uint64_t ts)
{
	struct plain c = { m, fid, f, side };

	f->d[side].started = true;
	tls_flow_feed(f->tls, side == f->client, p, n, ts, plain, &c);
}

void wm_tls_gap(struct flow *f, int side)
{
	if (f->tls)
		tls_flow_gap(f->tls, side == f->client);
}

enum wm_tls wm_tls_of(const struct flow *f)
{
	if (!f->tls)
		return WM_TLS_NONE;
	switch (tls_flow_outcome(f->tls)) {
	case TLS_DECRYPTED:
		return WM_TLS_DECRYPTED;
	case TLS_NO_KEY:
		return WM_TLS_NO_KEY;
	default:
		return WM_TLS_FAILED;
	}
}

/* "10.0.0.1:40000 -> 10.0.0.2:8883" */
static void flow_name(const struct flow *f, char *buf, size_t cap)
{
	char a[2][INET6_ADDRSTRLEN];
	int fam = f->family == 6 ? AF_INET6 : AF_INET;

	for (int i = 0; i < 2; i++)
		if (!inet_ntop(fam, f->addr[i], a[i], sizeof(a[i])))
			snprintf(a[i], sizeof(a[i]), "?");
	int c = f->client, s = !f->client;
	snprintf(buf, cap, fam == AF_INET6 ? "[%s]:%u -> [%s]:%u" : "%s:%u -> %s:%u", a[c],
		 f->port[c], a[s], f->port[s]);
}

/* Appends a flow's name to a list of at most three; then ", ...". */
static void name_add(char *list, size_t cap, uint64_t k, const char *name)
{
	size_t at = strlen(list);

	if (k < 3)
		snprintf(list + at, cap - at, "%s%s", k ? ", " : "", name);
	else if (k == 3)
		snprintf(list + at, cap - at, ", ...");
}

void wm_tls_result(const struct wm *m, struct wire_stats *s, struct wm_counts *c)
{
	s->tls_flows = s->tls_decrypted = s->tls_no_key = s->tls_failed = 0;
	c->tls_no_key_names[0] = c->tls_failed_names[0] = 0;
	for (size_t i = 0; i < m->n_flows; i++) {
		const struct flow *f = m->flows[i];
		char name[2 * INET6_ADDRSTRLEN + 24], why[sizeof(c->tls_failed_names)];
		if (!f->tls || f->ignored)
			continue;
		s->tls_flows++;
		flow_name(f, name, sizeof(name));
		switch (wm_tls_of(f)) {
		case WM_TLS_DECRYPTED:
			s->tls_decrypted++;
			break;
		case WM_TLS_NO_KEY:
			name_add(c->tls_no_key_names, sizeof(c->tls_no_key_names), s->tls_no_key++,
				 name);
			break;
		default:
			snprintf(why, sizeof(why), "%s (%s)", name, tls_flow_why(f->tls));
			name_add(c->tls_failed_names, sizeof(c->tls_failed_names), s->tls_failed++,
				 why);
			break;
		}
	}
}

void wm_tls_free(struct flow *f)
{
	tls_flow_free(f->tls);
	f->tls = NULL;
}
