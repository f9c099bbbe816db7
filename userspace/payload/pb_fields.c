/* Protobuf field generators: generator text -> plan node. Each generator
 * is checked against the field's type here, once, so a bad --field fails
 * at setup with one line and the per-message path never checks. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload/pb_fields.h"
#include "payload/pb_wire.h"

#define BYTES_GEN_MAX (1u << 20) /* bytes:N */
#define CHOICE_MAX 256

static int parse_double(const char *s, double *out)
{
	char *end;

	if (!*s)
		return -EINVAL;
	errno = 0;
	*out = strtod(s, &end);
	if (*end || errno == ERANGE || !isfinite(*out))
		return -EINVAL;
	return 0;
}

/* An integer of type t, as its two's complement bit pattern. */
static int parse_int(int t, const char *s, uint64_t *out)
{
	char *end;

	if (!*s || *s == ' ' || *s == '+')
		return -EINVAL;
	errno = 0;
	if (pb_type_unsigned(t)) {
		unsigned long long v;
		if (*s == '-')
			return -EINVAL;
		v = strtoull(s, &end, 10);
		if (*end || errno == ERANGE || (!pb_type_wide(t) && v > UINT32_MAX))
			return -EINVAL;
		*out = v;
	} else {
		long long v = strtoll(s, &end, 10);
		if (*end || errno == ERANGE || (!pb_type_wide(t) && (v < INT32_MIN || v > INT32_MAX)))
			return -EINVAL;
		*out = (uint64_t)v;
	}
	return 0;
}

static int int_range_fail(struct pb_build *b, const struct pb_field *f, const char *s)
{
	char tt[160];

	if (pb_type_unsigned(f->type))
		return pb_fail(b, "%s is %s: %.*s is not an integer from 0 to %s", f->name,
			       pb_type_text(f, tt, sizeof(tt)), PB_SHOW, s,
			       pb_type_wide(f->type) ? "18446744073709551615" : "4294967295");
	return pb_fail(b, "%s is %s: %.*s is not an integer from %s", f->name,
		       pb_type_text(f, tt, sizeof(tt)), PB_SHOW, s,
		       pb_type_wide(f->type) ? "-9223372036854775808 to 9223372036854775807" :
					"-2147483648 to 2147483647");
}

static int enum_value(const struct pb_field *f, const char *s, int32_t *out)
{
	uint64_t v;

	if (f->en.c) {
		for (unsigned i = 0; i < f->en.c->n_values; i++)
			if (!strcmp(f->en.c->values[i].name, s)) {
				*out = f->en.c->values[i].value;
				return 0;
			}
	} else {
		for (size_t i = 0; i < f->en.d->n_value; i++)
			if (f->en.d->value[i]->name && !strcmp(f->en.d->value[i]->name, s)) {
				*out = f->en.d->value[i]->number;
				return 0;
			}
	}
	/* A number works too: proto3 enums are open. */
	if (parse_int(PB_INT32, s, &v))
		return -EINVAL;
	*out = (int32_t)v;
	return 0;
}

static void enum_list(const struct pb_field *f, char *buf, size_t cap)
{
	size_t n = f->en.c ? f->en.c->n_values : f->en.d->n_value, at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && at < cap; i++) {
		const char *name = f->en.c ? f->en.c->values[i].name : f->en.d->value[i]->name;
		int w = snprintf(buf + at, cap - at, "%s%s", i ? ", " : "", name ? name : "?");
		if (w < 0 || (size_t)w >= cap - at)
			break;
		at += (size_t)w;
	}
}

/* The Timestamp shape: integer fields seconds and nanos. */
static bool timestamp_fields(struct pb_build *b, const struct pb_msg *m, struct pb_field *sec,
			     struct pb_field *nsec)
{
	return pb_field_find(b, m, "seconds", 7, sec) == 1 && pb_type_is_int(sec->type) &&
	       !sec->repeated && pb_field_find(b, m, "nanos", 5, nsec) == 1 &&
	       pb_type_is_int(nsec->type) && !nsec->repeated;
}

/* A message field takes no value of its own: say what it does take. */
static int msg_whole_fail(struct pb_build *b, const struct pb_field *f)
{
	struct pb_field sec, nsec;
	char tt[160];

	pb_type_text(f, tt, sizeof(tt));
	if (f->type == PB_MESSAGE && !f->repeated && timestamp_fields(b, &f->msg, &sec, &nsec))
		return pb_fail(b, "%s is %s: give it now, or set its fields (%s.seconds=...)",
			       f->name, tt, f->name);
	return pb_fail(b, "%s is %s: set its fields instead (%s.NAME=...)", f->name, tt, f->name);
}

/* Encodes field f = text (tag and value) at out, which has room for
 * 15 + strlen(text) bytes. Returns the bytes written (0: a proto3 zero,
 * left out), or <0 after bfail. what names the generator for messages. */
static int encode_const(struct pb_build *b, const struct pb_field *f, const struct pb_node *k,
			const char *text, const char *what, uint8_t *out)
{
	char tt[160], list[256];
	uint8_t *p = out + k->tag_len;
	uint64_t u = 0, w;
	double d = 0;

	memcpy(out, k->tag, k->tag_len);
	if (f->type == PB_STRING || f->type == PB_BYTES) {
		size_t len = strlen(text);
		if (!len && k->implicit)
			return 0;
		p = pb_put_varint(p, len);
		memcpy(p, text, len);
		return (int)(p + len - out);
	}
	if (f->type == PB_BOOL) {
		if (!strcmp(text, "true") || !strcmp(text, "1"))
			u = 1;
		else if (strcmp(text, "false") && strcmp(text, "0"))
			return pb_fail(b, "%s is a bool, %s %.*s is not true or false", f->name, what,
				       PB_SHOW, text);
	} else if (f->type == PB_ENUM) {
		int32_t v;
		if (enum_value(f, text, &v)) {
			enum_list(f, list, sizeof(list));
			return pb_fail(b, "%s is %s, which has no value %.*s (its values: %s)",
				       f->name, pb_type_text(f, tt, sizeof(tt)), PB_SHOW, text, list);
		}
		u = (uint64_t)(int64_t)v;
	} else if (pb_type_is_float(f->type)) {
		if (parse_double(text, &d))
			return pb_fail(b, "%s is %s, %s %.*s is not a number", f->name,
				       pb_type_text(f, tt, sizeof(tt)), what, PB_SHOW, text);
	} else if (pb_type_is_int(f->type)) {
		if (parse_int(f->type, text, &u))
			return int_range_fail(b, f, text);
	} else {
		return msg_whole_fail(b, f);
	}
	w = pb_wire_value(f->type, u, d);
	if (k->implicit && !w)
		return 0;
	return (int)(pb_put_scalar(p, k->wire, w) - out);
}

static int set_const(struct pb_build *b, const struct pb_field *f, struct pb_node *k,
		     const char *text)
{
	k->kind = GEN_CONST;
	k->blob = malloc(16 + strlen(text));
	k->offs = calloc(2, sizeof(*k->offs));
	if (!k->blob || !k->offs)
		return pb_fail(b, "out of memory");
	int n = encode_const(b, f, k, text, "const", k->blob);
	if (n < 0)
		return n;
	k->offs[1] = (uint32_t)n;
	k->max = (size_t)n;
	return 0;
}

static int set_choice(struct pb_build *b, const struct pb_field *f, struct pb_node *k,
		      const char *list)
{
	size_t n = 1, at = 0, len = strlen(list);
	char *copy = strdup(list), *item, *save = NULL;

	for (const char *p = list; *p; p++)
		n += *p == '|';
	if (!copy)
		return pb_fail(b, "out of memory");
	if (n > CHOICE_MAX) {
		free(copy);
		return pb_fail(b, "choice takes at most %d values", CHOICE_MAX);
	}
	k->kind = GEN_CHOICE;
	k->blob = malloc(n * 16 + len + 1);
	k->offs = calloc(n + 1, sizeof(*k->offs));
	if (!k->blob || !k->offs) {
		free(copy);
		return pb_fail(b, "out of memory");
	}
	/* strsep, not strtok: "a||b" has an empty string in the middle. */
	save = copy;
	while ((item = strsep(&save, "|"))) {
		int w = encode_const(b, f, k, item, "choice value", k->blob + at);
		if (w < 0) {
			free(copy);
			return w;
		}
		at += (size_t)w;
		k->offs[++k->n_choices] = (uint32_t)at;
		if ((size_t)w > k->max)
			k->max = (size_t)w;
	}
	free(copy);
	return 0;
}

/* Splits "A:B" (the text after "uniform:" or "normal:"). */
static int two_args(const char *s, char *a, char *b, size_t cap)
{
	const char *colon = strchr(s, ':');

	if (!colon || strchr(colon + 1, ':') || (size_t)(colon - s) >= cap ||
	    strlen(colon + 1) >= cap)
		return -EINVAL;
	memcpy(a, s, (size_t)(colon - s));
	a[colon - s] = '\0';
	strcpy(b, colon + 1);
	return 0;
}

void pb_node_tag(struct pb_node *k, const struct pb_field *f)
{
	uint8_t *end;

	k->number = f->number;
	k->type = f->type;
	k->wire = (uint8_t)pb_type_wire(f->type);
	k->implicit = f->implicit;
	k->is_int = pb_type_is_int(f->type);
	k->usig = pb_type_unsigned(f->type);
	k->wide = pb_type_wide(f->type);
	end = pb_put_varint(k->tag, (uint64_t)f->number << 3 | k->wire);
	k->tag_len = (uint8_t)(end - k->tag);
}

static int set_now(struct pb_build *b, const struct pb_field *f, struct pb_node *k)
{
	struct pb_field sec, nsec;
	char tt[160];

	if (f->type == PB_MESSAGE && !f->repeated) {
		if (!timestamp_fields(b, &f->msg, &sec, &nsec))
			return pb_fail(b, "%s is %s, now needs a google.protobuf.Timestamp (seconds "
				       "and nanos) or a 64-bit integer (unix ms)", f->name,
				       pb_type_text(f, tt, sizeof(tt)));
		k->kind = GEN_MSG;
		k->kids = calloc(2, sizeof(*k->kids));
		if (!k->kids)
			return pb_fail(b, "out of memory");
		k->n_kids = 2;
		pb_node_tag(&k->kids[0], &sec);
		k->kids[0].kind = GEN_NOW_SEC;
		k->kids[0].spec = k->spec;
		pb_node_tag(&k->kids[1], &nsec);
		k->kids[1].kind = GEN_NOW_NSEC;
		k->kids[1].spec = k->spec;
		return 0;
	}
	if (!pb_type_is_int(f->type) || !pb_type_wide(f->type))
		return pb_fail(b, "%s is %s, now needs a google.protobuf.Timestamp or a 64-bit "
			       "integer (unix ms)", f->name, pb_type_text(f, tt, sizeof(tt)));
	k->kind = GEN_NOW_MS;
	return 0;
}

int pb_node_set_gen(struct pb_build *b, const struct pb_field *f, struct pb_node *k,
		    const char *gen)
{
	char tt[160], x[128], y[128];
	const char *arg = strchr(gen, ':');
	size_t kl = arg ? (size_t)(arg - gen) : strlen(gen);
	bool num = pb_type_is_int(f->type) || pb_type_is_float(f->type);

	arg = arg ? arg + 1 : "";
	pb_type_text(f, tt, sizeof(tt));
	if (f->type == PB_GROUP)
		return pb_fail(b, "%s is a group, which blast does not generate", f->name);

#define IS(name) (kl == sizeof(name) - 1 && !memcmp(gen, name, kl))
	if (IS("seq") && !gen[kl]) {
		if (!pb_type_is_int(f->type))
			return pb_fail(b, "%s is %s, seq needs an integer", f->name, tt);
		k->kind = GEN_SEQ;
		return 0;
	}
	if (IS("now") && !gen[kl])
		return set_now(b, f, k);
	if (f->type == PB_MESSAGE && !IS("const"))
		return msg_whole_fail(b, f);
	if (IS("uniform") && gen[kl]) {
		if (!num)
			return pb_fail(b, "%s is %s, uniform needs a number (an integer, float or "
				       "double)", f->name, tt);
		if (two_args(arg, x, y, sizeof(x)))
			return pb_fail(b, "uniform needs LO:HI (like uniform:0:10)");
		if (pb_type_is_float(f->type)) {
			double lo, hi;
			if (parse_double(x, &lo) || parse_double(y, &hi))
				return pb_fail(b, "uniform needs two numbers LO:HI (like uniform:0:10)");
			if (lo > hi)
				return pb_fail(b, "uniform LO %.*s is more than HI %.*s", PB_SHOW, x,
					       PB_SHOW, y);
			k->kind = GEN_UNIFORM_FLT;
			k->a = lo;
			k->b = hi - lo;
			if (!isfinite(k->b))
				return pb_fail(b, "uniform range is too wide");
			return 0;
		}
		uint64_t lo, hi;
		if (parse_int(f->type, x, &lo))
			return int_range_fail(b, f, x);
		if (parse_int(f->type, y, &hi))
			return int_range_fail(b, f, y);
		if (k->usig ? lo > hi : (int64_t)lo > (int64_t)hi)
			return pb_fail(b, "uniform LO %.*s is more than HI %.*s", PB_SHOW, x,
				       PB_SHOW, y);
		k->kind = GEN_UNIFORM_INT;
		k->lo = lo;
		k->span = hi - lo; /* two's complement: right for signed too */
		return 0;
	}
	if (IS("normal") && gen[kl]) {
		double mean, sd;
		if (!num)
			return pb_fail(b, "%s is %s, normal needs a number (an integer, float or "
				       "double)", f->name, tt);
		if (two_args(arg, x, y, sizeof(x)) || parse_double(x, &mean) || parse_double(y, &sd))
			return pb_fail(b, "normal needs two numbers MEAN:SD (like normal:20:5)");
		if (sd < 0)
			return pb_fail(b, "normal SD %.*s must not be negative", PB_SHOW, y);
		k->kind = GEN_NORMAL;
		k->a = mean;
		k->b = sd;
		return 0;
	}
	if (IS("bernoulli") && gen[kl]) {
		double p;
		if (f->type != PB_BOOL)
			return pb_fail(b, "%s is %s, bernoulli needs a bool", f->name, tt);
		if (parse_double(arg, &p) || p < 0 || p > 1)
			return pb_fail(b, "bernoulli needs a probability P from 0 to 1 (like "
				       "bernoulli:0.01)");
		k->kind = GEN_BERNOULLI;
		k->a = p;
		return 0;
	}
	if (IS("choice") && gen[kl])
		return set_choice(b, f, k, arg);
	if (IS("bytes") && gen[kl]) {
		uint64_t n;
		if (f->type != PB_BYTES && f->type != PB_STRING)
			return pb_fail(b, "%s is %s, bytes needs a bytes or string field", f->name, tt);
		if (parse_int(PB_UINT32, arg, &n) || n > BYTES_GEN_MAX)
			return pb_fail(b, "bytes needs a length N from 0 to %u", BYTES_GEN_MAX);
		k->kind = GEN_BYTES;
		k->n_bytes = (uint32_t)n;
		return 0;
	}
	if (IS("const") && gen[kl])
		return set_const(b, f, k, arg);
#undef IS
	/* Anything else is a value: false, 3.5, hello, an enum name. */
	return set_const(b, f, k, gen);
}
