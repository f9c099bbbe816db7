/* Streaming JSON writer. Container state is a small stack; index 0 is the
 * document root, which takes exactly one value. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/json.h"

static void out(struct json_writer *w, const char *s, size_t n)
{
	if (w->err)
		return;
	errno = 0;
	if (fwrite(s, 1, n, w->f) != n)
		w->err = errno ? -errno : -EIO;
}

static void out_str(struct json_writer *w, const char *s)
{
	out(w, s, strlen(s));
}

static void fail(struct json_writer *w, int err)
{
	if (!w->err)
		w->err = err;
}

static void newline_indent(struct json_writer *w)
{
	static const char spaces[] = "                                ";

	if (!w->pretty)
		return;
	out(w, "\n", 1);
	for (unsigned i = 0; i < w->depth; i++)
		out(w, spaces, 2);
}

void json_init(struct json_writer *w, FILE *f, bool pretty)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->pretty = pretty;
}

/* Separator and bookkeeping before any value. False when nothing may be
 * written (sticky error, or a value where a key is due). */
static bool begin_value(struct json_writer *w)
{
	unsigned d = w->depth;

	if (w->err)
		return false;
	if (w->is_object[d]) {
		if (!w->want_value) {
			fail(w, -EINVAL);
			return false;
		}
		w->want_value = false;
		return true;
	}
	if (d == 0 && w->has_member[0]) {
		fail(w, -EINVAL); /* a second top-level value */
		return false;
	}
	if (w->has_member[d])
		out(w, ",", 1);
	if (d > 0)
		newline_indent(w);
	w->has_member[d] = true;
	return !w->err;
}

static void begin_container(struct json_writer *w, bool object)
{
	if (!begin_value(w))
		return;
	if (w->depth + 1 >= JSON_MAX_DEPTH) {
		fail(w, -EINVAL);
		return;
	}
	w->depth++;
	w->is_object[w->depth] = object;
	w->has_member[w->depth] = false;
	out(w, object ? "{" : "[", 1);
}

static void end_container(struct json_writer *w, bool object)
{
	if (w->err)
		return;
	if (w->depth == 0 || w->is_object[w->depth] != object || w->want_value) {
		fail(w, -EINVAL);
		return;
	}
	bool had = w->has_member[w->depth];

	w->depth--;
	if (had)
		newline_indent(w);
	out(w, object ? "}" : "]", 1);
}

void json_begin_object(struct json_writer *w)
{
	begin_container(w, true);
}

void json_end_object(struct json_writer *w)
{
	end_container(w, true);
}

void json_begin_array(struct json_writer *w)
{
	begin_container(w, false);
}

void json_end_array(struct json_writer *w)
{
	end_container(w, false);
}

/* Length of the well-formed UTF-8 sequence at s (Unicode table 3-7), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t left)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0; /* continuation byte, overlong lead C0/C1, or F5..FF */
	/* The second byte's range rules out overlongs, surrogates and > U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (left < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

static void write_escaped(struct json_writer *w, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0; /* run: start of bytes copied as they are */
	char esc[8];

	out(w, "\"", 1);
	while (i < len) {
		unsigned char c = s[i];
		size_t n = utf8_seq_len(s + i, len - i);

		if (n && c >= 0x20 && c != '"' && c != '\\') {
			i += n;
			continue;
		}
		out(w, (const char *)s + run, i - run);
		if (!n)
			out_str(w, "\\ufffd");
		else if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			out(w, esc, 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			out(w, esc, 6);
		}
		i++;
		run = i;
	}
	out(w, (const char *)s + run, i - run);
	out(w, "\"", 1);
}

void json_key(struct json_writer *w, const char *key)
{
	unsigned d = w->depth;

	if (w->err)
		return;
	if (!w->is_object[d] || w->want_value || !key) {
		fail(w, -EINVAL);
		return;
	}
	if (w->has_member[d])
		out(w, ",", 1);
	newline_indent(w);
	w->has_member[d] = true;
	write_escaped(w, key, strlen(key));
	out(w, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
	w->want_value = true;
}

void json_string_len(struct json_writer *w, const char *s, size_t len)
{
	if (!s) {
		json_null(w);
		return;
	}
	if (begin_value(w))
		write_escaped(w, s, len);
}

void json_string(struct json_writer *w, const char *s)
{
	json_string_len(w, s, s ? strlen(s) : 0);
}

void json_u64(struct json_writer *w, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);

	if (begin_value(w))
		out(w, buf, (size_t)n);
}

void json_i64(struct json_writer *w, int64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRId64, v);

	if (begin_value(w))
		out(w, buf, (size_t)n);
}

static void write_double(struct json_writer *w, double v, bool fixed3)
{
	char buf[64];
	int n;

	if (!isfinite(v)) {
		json_null(w); /* JSON has no NaN or Infinity */
		return;
	}
	/* %.3f of a huge value would be hundreds of digits; those get %.17g. */
	if (fixed3 && fabs(v) < 1e15)
		n = snprintf(buf, sizeof(buf), "%.3f", v);
	else
		n = snprintf(buf, sizeof(buf), "%.17g", v);
	/* A locale with a decimal comma must not leak into JSON. */
	for (int i = 0; i < n; i++)
		if (buf[i] == ',')
			buf[i] = '.';
	if (begin_value(w))
		out(w, buf, (size_t)n);
}

void json_double(struct json_writer *w, double v)
{
	write_double(w, v, false);
}

void json_double3(struct json_writer *w, double v)
{
	write_double(w, v, true);
}

void json_bool(struct json_writer *w, bool v)
{
	if (begin_value(w))
		out_str(w, v ? "true" : "false");
}

void json_null(struct json_writer *w)
{
	if (begin_value(w))
		out(w, "null", 4);
}

void json_kv_string(struct json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	json_string(w, s);
}

void json_kv_u64(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	json_u64(w, v);
}

void json_kv_i64(struct json_writer *w, const char *key, int64_t v)
{
	json_key(w, key);
	json_i64(w, v);
}

void json_kv_double(struct json_writer *w, const char *key, double v)
{
	json_key(w, key);
	json_double(w, v);
}

void json_kv_double3(struct json_writer *w, const char *key, double v)
{
	json_key(w, key);
	json_double3(w, v);
}

void json_kv_bool(struct json_writer *w, const char *key, bool v)
{
	json_key(w, key);
	json_bool(w, v);
}

int json_finish(struct json_writer *w)
{
	if (!w->err && (w->depth != 0 || w->want_value || !w->has_member[0]))
		fail(w, -EINVAL);
	out(w, "\n", 1);
	errno = 0;
	if (fflush(w->f) != 0 || ferror(w->f))
		fail(w, errno ? -errno : -EIO);
	return w->err;
}
