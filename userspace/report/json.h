/* Streaming JSON writer to a FILE*. The writer inserts commas, indentation
 * and key/value separators itself; callers only say what comes next. The
 * first failure (an I/O error, or misuse such as a value where a key is
 * due) is sticky: later calls do nothing and json_finish() returns it. */
#ifndef BLAST_JSON_H
#define BLAST_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json_writer {
	FILE *f;
	int err;          /* 0 or the first -errno */
	bool pretty;      /* newlines and two-space indentation */
	bool want_value;  /* a key was written, its value is due */
	unsigned depth;
	/* Per open container: is it an object, has it got a member yet. */
	bool is_object[JSON_MAX_DEPTH];
	bool has_member[JSON_MAX_DEPTH];
};

void json_init(struct json_writer *w, FILE *f, bool pretty);

void json_begin_object(struct json_writer *w);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w);
void json_end_array(struct json_writer *w);
/* Inside an object only; must be followed by exactly one value. */
void json_key(struct json_writer *w, const char *key);

/* Strings are escaped: '"', '\\', control characters as \u00XX; bytes that
 * are not valid UTF-8 (overlong forms and surrogates included) become
 * U+FFFD. NULL writes null. */
void json_string(struct json_writer *w, const char *s);
void json_string_len(struct json_writer *w, const char *s, size_t len);
void json_u64(struct json_writer *w, uint64_t v);
void json_i64(struct json_writer *w, int64_t v);
/* Round-trip precision (%.17g). NaN and infinities write null. */
void json_double(struct json_writer *w, double v);
/* Three decimals (%.3f), for measured values. NaN and infinities write null. */
void json_double3(struct json_writer *w, double v);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);

/* key + value in one call, for flat objects. */
void json_kv_string(struct json_writer *w, const char *key, const char *s);
void json_kv_u64(struct json_writer *w, const char *key, uint64_t v);
void json_kv_i64(struct json_writer *w, const char *key, int64_t v);
void json_kv_double(struct json_writer *w, const char *key, double v);
void json_kv_double3(struct json_writer *w, const char *key, double v);
void json_kv_bool(struct json_writer *w, const char *key, bool v);

/* Ends the document (a trailing newline) and flushes. Returns 0, the sticky
 * error, -EINVAL when containers are still open, or -EIO/-errno when the
 * stream failed. Does not close the FILE. */
int json_finish(struct json_writer *w);

#endif
