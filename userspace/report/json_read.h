/* A small JSON reader (RFC 8259) over a document held in memory, for
 * reading blast's own reports back. Pure: no I/O, no allocation, no
 * globals. Values are spans of the caller's bytes, looked up by key when
 * needed rather than built into a tree.
 *
 * Contract: never reads outside buf..buf+len, whatever the bytes are.
 * Nesting deeper than JSON_READ_MAX_DEPTH is an error, not a deep stack. */
#ifndef BLAST_JSON_READ_H
#define BLAST_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_READ_MAX_DEPTH 64

enum json_type { JSON_BAD = 0, JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_NUMBER, JSON_TRUE,
		 JSON_FALSE, JSON_NULL };

/* One value: p..p+len are its bytes, whitespace around excluded. */
struct json_val {
	const char *p;
	size_t len;
};

/* buf as one JSON document: 0 with *root set, or -EINVAL with err saying
 * what is wrong and at which byte. */
int json_read(const char *buf, size_t len, struct json_val *root, char *err, size_t err_cap);

/* From the value's first byte; JSON_BAD for an empty span. */
enum json_type json_type_of(const struct json_val *v);

/* Object o's member key (its first, if repeated): true with *out set;
 * false when o is not an object or has no such member. Keys compare
 * after their escapes are decoded. */
bool json_member(const struct json_val *o, const char *key, struct json_val *out);

/* The number: 0, or -EINVAL when v is not a number (or has more than 63
 * characters). */
int json_as_double(const struct json_val *v, double *out);
/* A non-negative integer written without fraction or exponent: 0,
 * -EINVAL, or -ERANGE above UINT64_MAX. */
int json_as_u64(const struct json_val *v, uint64_t *out);
/* True when v is a string equal to s once its escapes are decoded. */
bool json_string_eq(const struct json_val *v, const char *s);

#endif
