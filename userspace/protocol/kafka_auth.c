/* A worker's Kafka connection authenticating (kafka_auth.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/kafka_auth.h"
#include "stats/shm.h"

/* The first failure in words, for the parent to print once. */
static void note(struct worker *w, struct conn *c, const char *why)
{
	char *n = w->slot->tls_note;
	const struct blast_target *t = &w->addrs[c->target];

	/* Cut to the note's size: the line says the rest in the report. */
	if (!n[0] && snprintf(n, sizeof(w->slot->tls_note), "Kafka %s:%u: %s", t->host, t->port,
			      why) < 0)
		n[0] = 0;
}

static int failed(struct worker *w, struct conn *c, struct kauth **a)
{
	int16_t err = (*a)->k.error;

	note(w, c, (*a)->k.why);
	if (err) {
		int slot = err + 1;
		w->t.kafka_error[slot >= 0 && slot < KAFKA_ERR_SLOTS ? slot : 0]++;
	} else {
		w->t.errors[ERR_SASL]++;
	}
	kauth_free(a);
	conn_fail(w, c, ERR__COUNT);
	return -1;
}

void kauth_free(struct kauth **a)
{
	free(*a);
	*a = NULL;
}

ssize_t kauth_hello(struct worker *w, struct conn *c, int16_t auth_version,
		    struct scram_cache *cache, struct kauth **a, uint8_t *out, size_t cap)
{
	kauth_free(a);
	if (!w->o->sasl_mech)
		return 0;
	*a = calloc(1, sizeof(**a));
	if (!*a)
		return -ENOMEM;
	ssize_t n = ksasl_begin(&(*a)->k, w->o, auth_version, 1, out, cap);
	if (n < 0) {
		note(w, c, (*a)->k.why);
		kauth_free(a);
		return n;
	}
	(*a)->k.c.cache = cache;
	return n;
}

static void send_bytes(struct worker *w, struct conn *c, const uint8_t *p, size_t n)
{
	struct chunk *ch = worker_chunk_get(w);
	uint32_t h = w->ts.headroom;

	if (!ch || h + n > ch->cap) {
		if (ch)
			worker_chunk_put(w, ch);
		conn_fail(w, c, ERR_SEND);
		return;
	}
	memcpy(ch->data + h, p, n);
	ch->off = h;
	ch->len = h + (uint32_t)n;
	ch->n_frames = 1;
	conn_send_chunk(w, c, ch);
}

int kauth_on_frame(struct worker *w, struct conn *c, struct kauth **a, const uint8_t *frame,
		   size_t len)
{
	uint8_t next[KAUTH_REQ_MAX];

	if (!*a) {
		conn_fail(w, c, ERR_PROTOCOL); /* an answer to nothing asked */
		return -1;
	}
	ssize_t n = ksasl_on_frame(&(*a)->k, frame, len, next, sizeof(next));
	if (n < 0)
		return failed(w, c, a);
	if (n == 0) {
		kauth_free(a);
		conn_handshake_done(w, c);
		return 0;
	}
	if (c->tx) {
		/* The last request's send is still in flight: this one goes
		 * when it is done (kauth_flush, from the pump). */
		memcpy((*a)->owed, next, (size_t)n);
		(*a)->owed_len = (uint32_t)n;
		return 0;
	}
	send_bytes(w, c, next, (size_t)n);
	return 0;
}

void kauth_flush(struct worker *w, struct conn *c, struct kauth *a)
{
	if (!a || !a->owed_len || c->tx)
		return;
	uint32_t n = a->owed_len;
	a->owed_len = 0;
	send_bytes(w, c, a->owed, n);
}
