/* Whole responses read once and recognised again (http.h, http_memo):
 * the decoder's fast path for a server that keeps sending the same
 * bytes. Equivalent to http_dec_feed by construction: the state it
 * restores is the one reading those very bytes from idle left. */
#include <stddef.h>
#include <string.h>

#include "http.h"

/* The part of the state a response leaves (status to left): name and val
 * are scratch, written before they are read; the settings are d's own.
 * Whole 16-byte words, so the copy is a few vector moves (an odd length
 * made it a byte-wise rep movsb, per response). */
#define STATE_FROM offsetof(struct http_dec, status)
#define STATE_TO offsetof(struct http_dec, name)
_Static_assert(offsetof(struct http_dec, head_req) < STATE_FROM &&
		       offsetof(struct http_dec, max_body) < STATE_FROM &&
		       offsetof(struct http_dec, left) < STATE_TO &&
		       offsetof(struct http_dec, val) > STATE_TO &&
		       STATE_FROM % 16 == 0 && STATE_TO % 16 == 0,
	       "struct http_dec: settings first, then the state, scratch last");

/* 16 bytes at any alignment: GCC turns a plain memcpy of this span into
 * rep movs, slow to start for a copy this short. */
typedef uint64_t memo_word __attribute__((vector_size(16), aligned(1), may_alias));

static void state_copy(struct http_dec *to, const struct http_dec *from)
{
	memo_word *t = (memo_word *)((char *)to + STATE_FROM);
	const memo_word *f = (const memo_word *)((const char *)from + STATE_FROM);

	for (size_t i = 0; i < (STATE_TO - STATE_FROM) / sizeof(memo_word); i++)
		t[i] = f[i];
}

static bool memo_fits(const struct http_memo *m, const struct http_dec *d)
{
	return m->head_req == d->head_req && m->max_head == d->max_head &&
	       m->max_body == d->max_body;
}

ssize_t http_dec_feed_resp(struct http_dec *d, struct http_memo *memo, const uint8_t *buf,
			   size_t len, unsigned *ev)
{
	bool from_idle = http_dec_idle(d) && len;

	if (memo && from_idle && memo->len && len >= memo->len && memo_fits(memo, d) &&
	    !memcmp(buf, memo->bytes, memo->len)) {
		state_copy(d, &memo->after);
		*ev = memo->ev;
		return memo->len;
	}
	size_t off = 0;
	unsigned all = 0;
	while (off < len) {
		unsigned e;
		ssize_t k = http_dec_feed(d, buf + off, len - off, &e);
		if (k < 0) {
			*ev = all;
			return k;
		}
		off += (size_t)k;
		all |= e;
		if (e & (HTTP_EV_DONE | HTTP_EV_INTERIM))
			break;
	}
	*ev = all;
	if (memo && from_idle && (all & HTTP_EV_DONE) && !(all & HTTP_EV_INTERIM) &&
	    off <= HTTP_MEMO_MAX) {
		memcpy(memo->bytes, buf, off);
		memo->len = (uint16_t)off;
		memo->ev = all;
		memo->head_req = d->head_req;
		memo->max_head = d->max_head;
		memo->max_body = d->max_body;
		state_copy(&memo->after, d);
	}
	return (ssize_t)off;
}
