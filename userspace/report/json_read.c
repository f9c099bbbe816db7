/* JSON reader: one recursive-descent scanner (scan_value) validates a
 * document and finds where each value ends; lookups rescan the bytes of
 * the object they search, so nothing is kept between calls. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/json_read.h"

struct scan {
	const char *end;
	const char *bad; /* where scanning failed */
	const char *why;
};

static const char *fail_at(struct scan *s, const char *p, const char *why)
{
	s->bad = p;
	s->why = why;
	return NULL;
}

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at p (p + 4 <= end checked by the caller): the code
 * unit, or -1. */
static long hex4(const char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int d = hex_digit(p[i]);
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* One character of a string body at *pp (not the closing quote): its
 * code point, with *pp moved past it; -1 when malformed. Bytes that are
 * not escapes come back one at a time, as they are. */
static long string_char(const char **pp, const char *end)
{
	const char *p = *pp;
	unsigned char c = (unsigned char)*p;

	if (c < 0x20)
		return -1;
	if (c != '\\') {
		*pp = p + 1;
		return c;
	}
	if (end - p < 2)
		return -1;
	static const char esc[] = "\"\\/bfnrt", val[] = "\"\\/\b\f\n\r\t";
	const char *e = memchr(esc, p[1], sizeof(esc) - 1);
	if (e) {
		*pp = p + 2;
		return (unsigned char)val[e - esc];
	}
	if (p[1] != 'u' || end - p < 6)
		return -1;
	long u = hex4(p + 2);
	if (u < 0)
		return -1;
	*pp = p + 6;
	/* A surrogate pair is one code point; a lone surrogate stands as is. */
	if (u >= 0xd800 && u < 0xdc00 && end - *pp >= 6 && (*pp)[0] == '\\' && (*pp)[1] == 'u') {
		long lo = hex4(*pp + 2);
		if (lo >= 0xdc00 && lo < 0xe000) {
			*pp += 6;
			return 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
		}
	}
	return u;
}

/* p at the opening quote: past the closing one, or NULL. */
static const char *scan_string(struct scan *s, const char *p)
{
	const char *end = s->end;

	for (p++; p < end && *p != '"';)
		if (string_char(&p, end) < 0)
			return fail_at(s, p, "bad character or escape in a string");
	if (p >= end)
		return fail_at(s, p, "unterminated string");
	return p + 1;
}

static const char *digits(const char *p, const char *end)
{
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

static const char *scan_number(struct scan *s, const char *p)
{
	const char *end = s->end, *q;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if ((q = digits(p, end)) > p)
		p = q;
	else
		return fail_at(s, p, "bad number");
	if (p < end && *p == '.') {
		if ((q = digits(p + 1, end)) == p + 1)
			return fail_at(s, p, "bad number");
		p = q;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if ((q = digits(p, end)) == p)
			return fail_at(s, p, "bad number");
		p = q;
	}
	return p;
}

static const char *scan_word(struct scan *s, const char *p, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - p) < n || memcmp(p, w, n))
		return fail_at(s, p, "unexpected character");
	return p + n;
}

static const char *scan_value(struct scan *s, const char *p, unsigned depth);

/* p at '{' or '[': past the closing bracket, or NULL. */
static const char *scan_container(struct scan *s, const char *p, unsigned depth)
{
	const char *end = s->end;
	char close = *p == '{' ? '}' : ']';
	bool object = close == '}';

	if (depth >= JSON_READ_MAX_DEPTH)
		return fail_at(s, p, "nested too deeply");
	p = skip_ws(p + 1, end);
	if (p < end && *p == close)
		return p + 1;
	for (;;) {
		if (object) {
			if (p >= end || *p != '"')
				return fail_at(s, p, "expected a key");
			if (!(p = scan_string(s, p)))
				return NULL;
			p = skip_ws(p, end);
			if (p >= end || *p != ':')
				return fail_at(s, p, "expected ':'");
			p = skip_ws(p + 1, end);
		}
		if (!(p = scan_value(s, p, depth + 1)))
			return NULL;
		p = skip_ws(p, end);
		if (p < end && *p == close)
			return p + 1;
		if (p >= end || *p != ',')
			return fail_at(s, p, object ? "expected ',' or '}'" : "expected ',' or ']'");
		p = skip_ws(p + 1, end);
	}
}

/* p at a value's first byte: past its last, or NULL. */
static const char *scan_value(struct scan *s, const char *p, unsigned depth)
{
	if (p >= s->end)
		return fail_at(s, p, "value expected");
	switch (*p) {
	case '{':
	case '[':
		return scan_container(s, p, depth);
	case '"':
		return scan_string(s, p);
	case 't':
		return scan_word(s, p, "true");
	case 'f':
		return scan_word(s, p, "false");
	case 'n':
		return scan_word(s, p, "null");
	default:
		if (*p != '-' && (*p < '0' || *p > '9'))
			return fail_at(s, p, "unexpected character");
		return scan_number(s, p);
	}
}

int json_read(const char *buf, size_t len, struct json_val *root, char *err, size_t err_cap)
{
	struct scan s = { .end = buf + len };
	const char *p = skip_ws(buf, s.end), *q = scan_value(&s, p, 0);

	if (q && skip_ws(q, s.end) != s.end)
		q = fail_at(&s, skip_ws(q, s.end), "more after the document");
	if (!q) {
		if (s.bad >= s.end)
			snprintf(err, err_cap, "%s at the end (byte %zu)", s.why, len);
		else
			snprintf(err, err_cap, "%s at byte %zu", s.why, (size_t)(s.bad - buf));
		return -EINVAL;
	}
	*root = (struct json_val){ .p = p, .len = (size_t)(q - p) };
	return 0;
}

enum json_type json_type_of(const struct json_val *v)
{
	if (!v->len)
		return JSON_BAD;
	switch (v->p[0]) {
	case '{':
		return JSON_OBJECT;
	case '[':
		return JSON_ARRAY;
	case '"':
		return JSON_STRING;
	case 't':
		return JSON_TRUE;
	case 'f':
		return JSON_FALSE;
	case 'n':
		return JSON_NULL;
	default:
		return JSON_NUMBER;
	}
}

/* Appends code point c as UTF-8 to out (at least 4 bytes of room). */
static size_t utf8_put(char *out, long c)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* The string whose opening quote is at p, decoded, against s: true when
 * equal. Escapes decode to code points in UTF-8; other bytes are as is. */
static bool string_eq_at(const char *p, const char *end, const char *s)
{
	size_t slen = strlen(s), at = 0;

	for (p++; p < end && *p != '"';) {
		const char *from = p;
		long c = string_char(&p, end);
		char u[4];
		size_t n;
		if (c < 0)
			return false;
		if (*from == '\\') {
			n = utf8_put(u, c);
		} else {
			u[0] = *from;
			n = 1;
		}
		if (slen - at < n || memcmp(s + at, u, n))
			return false;
		at += n;
	}
	return p < end && at == slen;
}

bool json_string_eq(const struct json_val *v, const char *s)
{
	return json_type_of(v) == JSON_STRING && string_eq_at(v->p, v->p + v->len, s);
}

bool json_member(const struct json_val *o, const char *key, struct json_val *out)
{
	struct scan s = { .end = o->p + o->len };
	const char *p = o->p, *end = s.end;

	if (json_type_of(o) != JSON_OBJECT)
		return false;
	p = skip_ws(p + 1, end);
	while (p < end && *p == '"') {
		const char *k = p;
		if (!(p = scan_string(&s, p)))
			return false;
		p = skip_ws(p, end);
		if (p >= end || *p != ':')
			return false;
		const char *v = skip_ws(p + 1, end);
		if (!(p = scan_value(&s, v, 1)))
			return false;
		if (string_eq_at(k, end, key)) {
			*out = (struct json_val){ .p = v, .len = (size_t)(p - v) };
			return true;
		}
		p = skip_ws(p, end);
		if (p >= end || *p != ',')
			return false;
		p = skip_ws(p + 1, end);
	}
	return false;
}

/* The number's bytes, checked and NUL-terminated in buf. */
static int number_text(const struct json_val *v, char *buf, size_t cap)
{
	struct scan s = { .end = v->p + v->len };

	if (json_type_of(v) != JSON_NUMBER || v->len >= cap || scan_number(&s, v->p) != s.end)
		return -EINVAL;
	memcpy(buf, v->p, v->len);
	buf[v->len] = '\0';
	return 0;
}

int json_as_double(const struct json_val *v, double *out)
{
	char buf[64];

	if (number_text(v, buf, sizeof(buf)))
		return -EINVAL;
	*out = strtod(buf, NULL);
	return 0;
}

int json_as_u64(const struct json_val *v, uint64_t *out)
{
	char buf[64];
	uint64_t n = 0;

	if (number_text(v, buf, sizeof(buf)) || buf[0] == '-' || strpbrk(buf, ".eE"))
		return -EINVAL;
	for (const char *p = buf; *p; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (n > (UINT64_MAX - d) / 10)
			return -ERANGE;
		n = n * 10 + d;
	}
	*out = n;
	return 0;
}
