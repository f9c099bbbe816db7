/* The incremental HTTP/1.1 response decoder (http.h): one state per place
 * in the grammar of RFC 9112 (status line 4, fields 5, message body
 * length 6.3, chunked coding 7.1), fed a byte at a time through the head
 * and in runs through bodies, so a split anywhere needs no buffer. A head
 * that arrives whole and plain (the common case) is read in one pass
 * first (fast_head), with the byte at a time parser behind it for the
 * rest. */
#include <errno.h>
#include <string.h>

#include "http.h"

enum {
	S_VER,          /* "HTTP/1." */
	S_MINOR,        /* the minor digit */
	S_SP1,          /* SP before the code */
	S_CODE,         /* three digits */
	S_SP2,          /* SP before the reason, or the end of the line */
	S_REASON,
	S_STATUS_LF,    /* LF after the status line's CR */
	S_FIELD,        /* the start of a field line, or of the empty line */
	S_NAME,
	S_OWS,          /* whitespace before a value */
	S_VALUE,
	S_FIELD_LF,
	S_HEAD_LF,      /* LF of the empty line */
	S_BODY,         /* Content-Length bytes */
	S_BODY_EOF,     /* everything until the server closes */
	S_CHUNK_SIZE,
	S_CHUNK_EXT,    /* whitespace and extensions after the size */
	S_CHUNK_SIZE_LF,
	S_CHUNK_DATA,
	S_CHUNK_CR,     /* CRLF after the chunk's data */
	S_CHUNK_LF,
	S_DEAD,         /* after an error */
};

enum { H_OTHER, H_LENGTH, H_TE, H_CONNECTION };

/* RFC 9110 5.6.2's tchar; a switch, not strchr: it runs per name byte. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
	case '-': case '.': case '^': case '_': case '`': case '|': case '~':
		return true;
	}
	return false;
}

/* A byte that may sit inside a line: HTAB, SP, VCHAR, obs-text (5.5). */
static bool is_line_byte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)lower((char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

void http_dec_init(struct http_dec *d, uint32_t max_head, uint64_t max_body)
{
	memset(d, 0, sizeof(*d));
	d->max_head = max_head;
	d->max_body = max_body;
}

/* The fields that describe one head; a 1xx's do not carry over. */
static void head_reset(struct http_dec *d)
{
	d->status = 0;
	d->minor = 0;
	d->close = false;
	d->length = 0;
	d->have_len = d->have_te = d->te_chunked = d->keep_alive = false;
	d->in_trailer = false;
	d->head_bytes = 0;
	d->val_len = 0;
	d->st = S_VER;
}

static void response_start(struct http_dec *d)
{
	head_reset(d);
	d->framing = HTTP_BODY_NONE;
	d->body = 0;
	d->wire = 0;
	d->interim = 0;
	d->started = true;
}

static int fail(struct http_dec *d, int err)
{
	d->st = S_DEAD;
	return err;
}

/* Calls f on each comma-separated element of the value, trimmed of OWS;
 * stops at the first non-zero return. */
static int each_elem(struct http_dec *d, int (*f)(struct http_dec *, const char *, size_t))
{
	const char *p = d->val, *end = d->val + d->val_len;

	while (p <= end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *e = c ? c : end;
		const char *a = p, *b = e;

		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		int r = f(d, a, (size_t)(b - a));
		if (r)
			return r;
		p = e + 1;
	}
	return 0;
}

/* token_is(s, n, "lowercase literal"): its length known at compile time,
 * so most names fail on the length alone. */
#define token_is(s, n, want) token_is_n(s, n, want, sizeof(want) - 1)

static bool token_is_n(const char *s, size_t n, const char *want, size_t want_len)
{
	if (n != want_len)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(s[i]) != want[i])
			return false;
	return true;
}

/* 6.3 item 5: "42" or a list of identical values ("42, 42"); a value
 * that differs from an earlier one is an error. */
static int length_elem(struct http_dec *d, const char *s, size_t n)
{
	uint64_t v = 0;

	if (!n)
		return -EPROTO;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EPROTO;
		if (v > (UINT64_MAX - 9) / 10)
			return -EMSGSIZE;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (d->have_len && v != d->length)
		return -EPROTO;
	d->length = v;
	d->have_len = true;
	return 0;
}

/* 7: the last coding listed decides; empty elements are allowed (5.6.1). */
static int te_elem(struct http_dec *d, const char *s, size_t n)
{
	if (n)
		d->te_chunked = token_is(s, n, "chunked");
	return 0;
}

static int connection_elem(struct http_dec *d, const char *s, size_t n)
{
	if (token_is(s, n, "close"))
		d->close = true;
	else if (token_is(s, n, "keep-alive"))
		d->keep_alive = true;
	return 0;
}

static int field_end(struct http_dec *d)
{
	if (d->in_trailer)
		return 0;
	while (d->val_len && (d->val[d->val_len - 1] == ' ' || d->val[d->val_len - 1] == '\t'))
		d->val_len--;
	switch (d->hdr) {
	case H_LENGTH:
		return each_elem(d, length_elem);
	case H_TE:
		d->have_te = true;
		return each_elem(d, te_elem);
	case H_CONNECTION:
		return each_elem(d, connection_elem);
	}
	return 0;
}

static void name_end(struct http_dec *d)
{
	size_t n = d->name_len;

	d->hdr = H_OTHER;
	if (n >= sizeof(d->name))
		return;
	/* d->name is lowercased already */
	if (n == 14 && !memcmp(d->name, "content-length", 14))
		d->hdr = H_LENGTH;
	else if (n == 17 && !memcmp(d->name, "transfer-encoding", 17))
		d->hdr = H_TE;
	else if (n == 10 && !memcmp(d->name, "connection", 10))
		d->hdr = H_CONNECTION;
}

/* The empty line ended a head (or the trailer section). */
static int head_end(struct http_dec *d, unsigned *ev)
{
	if (d->in_trailer) {
		d->started = false;
		*ev = HTTP_EV_DONE;
		return 0;
	}
	if (d->status < 200) {
		/* 15.2 of RFC 9110: a 1xx has no body; the final answer follows. */
		d->interim++;
		uint16_t keep = d->status;
		head_reset(d);
		d->status = keep;
		*ev = HTTP_EV_INTERIM;
		return 0;
	}
	if (d->minor == 0 && !d->keep_alive)
		d->close = true;
	if (d->have_te && d->have_len)
		return -EPROTO;
	if (d->head_req || d->status == 204 || d->status == 304)
		d->framing = HTTP_BODY_NONE;
	else if (d->have_te)
		d->framing = d->te_chunked ? HTTP_BODY_CHUNKED : HTTP_BODY_EOF;
	else if (d->have_len)
		d->framing = d->length ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
	else
		d->framing = HTTP_BODY_EOF;
	*ev = HTTP_EV_HEAD;
	switch (d->framing) {
	case HTTP_BODY_NONE:
		d->started = false;
		*ev |= HTTP_EV_DONE;
		break;
	case HTTP_BODY_LENGTH:
		if (d->length > d->max_body)
			return -EMSGSIZE;
		d->left = d->length;
		d->st = S_BODY;
		break;
	case HTTP_BODY_CHUNKED:
		d->st = S_CHUNK_SIZE;
		d->val_len = 0;
		d->left = 0;
		break;
	case HTTP_BODY_EOF:
		d->close = true;
		d->st = S_BODY_EOF;
		break;
	}
	return 0;
}

/* The size line of a chunk ended. */
static int chunk_size_end(struct http_dec *d)
{
	if (d->left == 0) { /* last-chunk: the trailer section follows */
		d->in_trailer = true;
		d->head_bytes = 0;
		d->st = S_FIELD;
		return 0;
	}
	if (d->left > d->max_body - d->body)
		return -EMSGSIZE;
	d->st = S_CHUNK_DATA;
	return 0;
}

/* One byte of a head, a trailer section or the chunk framing. */
static int step(struct http_dec *d, unsigned char c, unsigned *ev)
{
	switch (d->st) {
	case S_VER:
		if (c != (unsigned char)"HTTP/1."[d->val_len])
			return -EPROTO;
		if (++d->val_len == 7)
			d->st = S_MINOR;
		return 0;
	case S_MINOR:
		if (c < '0' || c > '9')
			return -EPROTO;
		d->minor = (uint8_t)(c - '0');
		d->st = S_SP1;
		return 0;
	case S_SP1:
		if (c != ' ')
			return -EPROTO;
		d->status = 0; /* a 1xx's code stayed for its event */
		d->val_len = 0;
		d->st = S_CODE;
		return 0;
	case S_CODE:
		if (c < '0' || c > '9')
			return -EPROTO;
		d->status = (uint16_t)(d->status * 10 + (c - '0'));
		if (++d->val_len < 3)
			return 0;
		if (d->status < 100 || d->status > 599 || d->status == 101)
			return -EPROTO;
		d->st = S_SP2;
		return 0;
	case S_SP2:
		if (c == ' ') {
			d->st = S_REASON;
			return 0;
		}
		/* 4 allows no reason: a line end may come at once */
		/* fall through */
	case S_REASON:
		if (c == '\r')
			d->st = S_STATUS_LF;
		else if (c == '\n')
			d->st = S_FIELD;
		else if (d->st == S_SP2 || !is_line_byte(c))
			return -EPROTO;
		return 0;
	case S_STATUS_LF:
	case S_FIELD_LF:
		if (c != '\n')
			return -EPROTO;
		d->st = S_FIELD;
		return 0;
	case S_FIELD:
		if (c == '\r') {
			d->st = S_HEAD_LF;
			return 0;
		}
		if (c == '\n')
			return head_end(d, ev);
		if (!is_tchar(c)) /* SP or HTAB here is obs-fold (5.2) */
			return -EPROTO;
		d->name[0] = lower((char)c);
		d->name_len = 1;
		d->st = S_NAME;
		return 0;
	case S_NAME:
		if (c == ':') {
			name_end(d);
			d->val_len = 0;
			d->st = S_OWS;
			return 0;
		}
		if (!is_tchar(c))
			return -EPROTO;
		if (d->name_len < sizeof(d->name))
			d->name[d->name_len++] = lower((char)c);
		return 0;
	case S_OWS:
		if (c == ' ' || c == '\t')
			return 0;
		d->st = S_VALUE;
		/* fall through */
	case S_VALUE:
		if (c == '\r' || c == '\n') {
			d->st = c == '\r' ? S_FIELD_LF : S_FIELD;
			return field_end(d);
		}
		if (!is_line_byte(c))
			return -EPROTO;
		if (d->hdr != H_OTHER && !d->in_trailer) {
			if (d->val_len == HTTP_VALUE_MAX)
				return -EMSGSIZE;
			d->val[d->val_len++] = (char)c;
		}
		return 0;
	case S_HEAD_LF:
		if (c != '\n')
			return -EPROTO;
		return head_end(d, ev);
	case S_CHUNK_SIZE: {
		int v = hexval(c);

		if (v >= 0) {
			if (d->val_len == 15) /* 60 bits: far past any max_body */
				return -EMSGSIZE;
			d->left = d->left * 16 + (uint64_t)v;
			d->val_len++;
			return 0;
		}
		if (!d->val_len)
			return -EPROTO;
		if (c == ';' || c == ' ' || c == '\t') {
			d->st = S_CHUNK_EXT;
			return 0;
		}
		if (c == '\n')
			return chunk_size_end(d);
		if (c != '\r')
			return -EPROTO;
		d->st = S_CHUNK_SIZE_LF;
		return 0;
	}
	case S_CHUNK_EXT:
		if (c == '\r')
			d->st = S_CHUNK_SIZE_LF;
		else if (c == '\n')
			return chunk_size_end(d);
		else if (!is_line_byte(c))
			return -EPROTO;
		return 0;
	case S_CHUNK_SIZE_LF:
		if (c != '\n')
			return -EPROTO;
		return chunk_size_end(d);
	case S_CHUNK_CR:
		if (c == '\r') {
			d->st = S_CHUNK_LF;
			return 0;
		}
		/* a bare LF ends the line too (2.2) */
		/* fall through */
	case S_CHUNK_LF:
		if (c != '\n')
			return -EPROTO;
		d->st = S_CHUNK_SIZE;
		d->val_len = 0;
		d->left = 0;
		return 0;
	}
	return -EPROTO;
}

/* The bytes of the head or trailer section count against max_head. */
static bool in_head(uint8_t st)
{
	return st <= S_HEAD_LF;
}

/* is_line_byte (C_LINE) and is_tchar (C_TCHAR) of every byte, one lookup
 * a byte for the fast head below; tests/fuzz/fuzz_http.c feeds heads whole
 * (this path) and in small pieces (step) and wants the same outcome. */
enum { C_LINE = 1, C_TCHAR = 2 };
static const uint8_t byte_class[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 3, 1, 3, 3, 3, 3, 3, 1, 1, 3, 3, 1, 3, 3, 1,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1,
	1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 3, 1, 3, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* n, a run of tchars, against a lowercase name of letters and '-':
 * c | 0x20 is c lowercased for a letter, and no other tchar turns into a
 * letter or '-' by it. */
static bool name_is(const uint8_t *n, size_t len, const char *want, size_t want_len)
{
	if (len != want_len)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((n[i] | 0x20) != (uint8_t)want[i])
			return false;
	return true;
}

static int known_name(const uint8_t *n, size_t len)
{
	if (name_is(n, len, "content-length", 14))
		return H_LENGTH;
	if (name_is(n, len, "connection", 10))
		return H_CONNECTION;
	if (name_is(n, len, "transfer-encoding", 17))
		return H_TE;
	return H_OTHER;
}

/* The usual values as servers write them: "Content-Length: 42",
 * "Connection: keep-alive" or "close". True when v was one and is applied;
 * false sends it through field_end. */
static bool fast_value(struct http_dec *d, const uint8_t *v, size_t n)
{
	if (d->hdr == H_CONNECTION) {
		if (n == 10 && !memcmp(v, "keep-alive", 10))
			return d->keep_alive = true;
		if (n == 5 && !memcmp(v, "close", 5))
			return d->close = true;
		return false;
	}
	if (d->hdr != H_LENGTH || !n || n > 18 || d->have_len)
		return false;
	uint64_t len = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		len = len * 10 + (uint64_t)(v[i] - '0');
	}
	d->length = len;
	d->have_len = true;
	return true;
}

/* Past the line bytes from q, eight at a time while no byte of the eight
 * is a control byte (< 0x20, the CR ending the line among them) or DEL
 * (the "has a byte less than n" test is exact for n <= 0x80, and bytes
 * >= 0x80 are obs-text, allowed); then one at a time, HTAB included. */
static const uint8_t *skip_line_bytes(const uint8_t *q, const uint8_t *end)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;

	while (end - q >= 8) {
		uint64_t x, y;

		memcpy(&x, q, 8);
		y = x ^ (0x7f * ones);
		if (((x - 0x20 * ones) & ~x & highs) | ((y - ones) & ~y & highs))
			break;
		q += 8;
	}
	while (q < end && (byte_class[*q] & C_LINE))
		q++;
	return q;
}

/* The common response's head in one pass: a final status line and fields
 * each ending in CRLF, the whole head in buf and within max_head. Returns
 * its length with the fields applied, or 0 when anything is unusual (a
 * 1xx, a bare LF, obs-fold, a bad byte, a head cut by the read's end, a
 * value past its limit): the caller resets the head and lets the byte at
 * a time parser take it from its first byte, which finds the same end or
 * error, so this path only ever accepts. */
static size_t fast_head(struct http_dec *d, const uint8_t *p, size_t n)
{
	const uint8_t *end = p + (n < d->max_head ? n : d->max_head), *q;

	if (end - p < 16 || memcmp(p, "HTTP/1.", 7) || p[7] < '0' || p[7] > '9' || p[8] != ' ' ||
	    p[9] < '2' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
		return 0;
	d->minor = (uint8_t)(p[7] - '0');
	d->status = (uint16_t)((p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0'));
	q = p + 12;
	if (*q == ' ')
		q = skip_line_bytes(q + 1, end);
	if (end - q < 2 || q[0] != '\r' || q[1] != '\n')
		return 0;
	for (q += 2;;) {
		const uint8_t *name = q, *colon, *v, *ve;

		if (end - q < 2)
			return 0;
		if (q[0] == '\r')
			return q[1] == '\n' ? (size_t)(q + 2 - p) : 0;
		while (q < end && (byte_class[*q] & C_TCHAR))
			q++;
		if (q == name || q == end || *q != ':')
			return 0;
		colon = q++;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		v = q;
		q = skip_line_bytes(q, end);
		if (end - q < 2 || q[0] != '\r' || q[1] != '\n')
			return 0;
		ve = q;
		q += 2;
		d->hdr = (uint8_t)known_name(name, (size_t)(colon - name));
		if (d->hdr == H_OTHER)
			continue;
		if ((size_t)(ve - v) > HTTP_VALUE_MAX)
			return 0;
		if (fast_value(d, v, (size_t)(ve - v)))
			continue;
		memcpy(d->val, v, (size_t)(ve - v));
		d->val_len = (uint32_t)(ve - v);
		if (field_end(d))
			return 0;
	}
}

ssize_t http_dec_feed(struct http_dec *d, const uint8_t *buf, size_t len, unsigned *ev)
{
	size_t i = 0;

	*ev = 0;
	if (d->st == S_DEAD)
		return -EPROTO;
	if (len && !d->started)
		response_start(d);
	if (d->st == S_VER && !d->val_len && !d->head_bytes) {
		size_t h = fast_head(d, buf, len);

		if (h) {
			d->head_bytes = (uint32_t)h;
			d->wire += h;
			int r = head_end(d, ev);
			if (r < 0)
				return fail(d, r);
			return (ssize_t)h;
		}
		head_reset(d);
	}
	while (i < len) {
		if (d->st == S_BODY || d->st == S_CHUNK_DATA || d->st == S_BODY_EOF) {
			size_t take = len - i;

			if (d->st != S_BODY_EOF && take > d->left)
				take = (size_t)d->left;
			if (d->st == S_BODY_EOF && take > d->max_body - d->body)
				return fail(d, -EMSGSIZE);
			d->body += take;
			d->wire += take;
			i += take;
			if (d->st == S_BODY_EOF)
				continue;
			d->left -= take;
			if (d->left)
				continue;
			if (d->st == S_CHUNK_DATA) {
				d->st = S_CHUNK_CR;
				continue;
			}
			d->started = false;
			*ev = HTTP_EV_DONE;
			return (ssize_t)i;
		}
		/* The reason phrase and the values nobody looks at: a run of
		 * line bytes up to the line's end, checked and counted at once. */
		if (d->st == S_REASON || (d->st == S_VALUE && (d->hdr == H_OTHER || d->in_trailer))) {
			size_t j = i;

			while (j < len && buf[j] != '\r' && buf[j] != '\n' && is_line_byte(buf[j]))
				j++;
			if (j > i) {
				if ((size_t)d->head_bytes + (j - i) > d->max_head)
					return fail(d, -EMSGSIZE);
				d->head_bytes += (uint32_t)(j - i);
				d->wire += j - i;
				i = j;
				continue;
			}
		}
		/* A field name's run of tchars, kept lowercased while short. */
		if (d->st == S_NAME) {
			size_t j = i;

			while (j < len && is_tchar(buf[j]))
				j++;
			if (j > i) {
				if ((size_t)d->head_bytes + (j - i) > d->max_head)
					return fail(d, -EMSGSIZE);
				for (size_t k = i; k < j && d->name_len < sizeof(d->name); k++)
					d->name[d->name_len++] = lower((char)buf[k]);
				d->head_bytes += (uint32_t)(j - i);
				d->wire += j - i;
				i = j;
				continue;
			}
		}
		if (in_head(d->st) && ++d->head_bytes > d->max_head)
			return fail(d, -EMSGSIZE);
		int r = step(d, buf[i++], ev);
		d->wire++;
		if (r < 0)
			return fail(d, r);
		if (*ev)
			return (ssize_t)i;
	}
	return (ssize_t)i;
}

int http_dec_eof(struct http_dec *d)
{
	if (!d->started)
		return 0;
	if (d->st != S_BODY_EOF)
		return fail(d, -EPROTO);
	d->started = false;
	return HTTP_EV_DONE;
}
