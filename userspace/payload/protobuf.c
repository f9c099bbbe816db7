/* Protobuf payloads, setup: --payload-proto and the --field list become
 * a plan (pb_plan.h), a tree of nodes, one per generated field. The
 * schema (pb_schema.c) says what each field is, the field generators
 * (pb_fields.c) fill the leaves, and pb_encode.c runs the plan per
 * message. protobuf-c is used only for what it is good at here: the
 * compiled-in descriptors and parsing a FileDescriptorSet. */
#include <stdlib.h>
#include <string.h>

#include "payload/pb_fields.h"
#include "payload/pb_plan.h"
#include "payload/pb_schema.h"
#include "payload/pb_wire.h"
#include "payload/protobuf.h"

#define PATH_DEPTH_MAX 32
#define REPEAT_MAX 65536 /* elements of one repeated field (name[N]) */

static void node_free(struct pb_node *k)
{
	for (uint32_t i = 0; i < k->n_kids; i++)
		node_free(&k->kids[i]);
	free(k->kids);
	free(k->blob);
	free(k->offs);
}

static struct pb_node *kid_find(struct pb_node *parent, uint32_t number)
{
	for (uint32_t i = 0; i < parent->n_kids; i++)
		if (parent->kids[i].number == number)
			return &parent->kids[i];
	return NULL;
}

static struct pb_node *kid_add(struct pb_node *parent, const struct pb_field *f, int spec)
{
	struct pb_node *more = realloc(parent->kids, (parent->n_kids + 1) * sizeof(*more));
	struct pb_node *k;

	if (!more)
		return NULL;
	parent->kids = more;
	k = &more[parent->n_kids++];
	memset(k, 0, sizeof(*k));
	k->spec = spec;
	pb_node_tag(k, f);
	return k;
}

/* The --field that made the first leaf under path step k. */
static int first_spec(const struct pb_node *k)
{
	if (k->spec >= 0)
		return k->spec;
	for (uint32_t i = 0; i < k->n_kids; i++) {
		int s = first_spec(&k->kids[i]);
		if (s >= 0)
			return s;
	}
	return 0;
}

/* A path step "name" or "name[N]" of len bytes: the name's length, and N
 * (0 without [N]). -1 when the brackets do not hold a count 1..REPEAT_MAX. */
static int split_count(const char *s, size_t len, size_t *name_len, uint32_t *count)
{
	const char *open = memchr(s, '[', len);
	uint64_t n = 0;

	*name_len = len;
	*count = 0;
	if (!open)
		return memchr(s, ']', len) ? -1 : 0;
	if (s[len - 1] != ']' || open + 2 > s + len - 1)
		return -1;
	for (const char *p = open + 1; p < s + len - 1; p++) {
		if (*p < '0' || *p > '9' || (n = n * 10 + (uint64_t)(*p - '0')) > REPEAT_MAX)
			return -1;
	}
	if (!n)
		return -1;
	*name_len = (size_t)(open - s);
	*count = (uint32_t)n;
	return 0;
}

/* Every --field through a repeated message field must give it the same
 * number of elements. */
static int repeat_check(struct pb_build *b, const struct pb_node *k, const char *name, size_t len,
			uint32_t count)
{
	if ((k->repeat ? k->repeat : 1) == (count ? count : 1))
		return 0;
	const struct field_spec *o = &b->o->fields[first_spec(k)];
	return pb_fail(b, "%.*s has %u element(s) by --field %.*s=%.*s: say %.*s[%u] here too",
		       (int)len, name, k->repeat ? k->repeat : 1, PB_SHOW, o->name, PB_SHOW, o->gen,
		       (int)len, name, k->repeat ? k->repeat : 1);
}

static int add_field(struct pb_build *b, struct pb_node *root, const struct pb_msg *top, int idx)
{
	const struct field_spec *fs = &b->o->fields[idx];
	const char *name = fs->name, *dot;
	struct pb_msg m = *top;
	struct pb_node *cur = root;
	struct pb_field f;
	int depth = 0, r;

	b->spec = fs;
	for (;; name = dot + 1) {
		size_t len;
		struct pb_node *k;

		dot = strchr(name, '.');
		len = dot ? (size_t)(dot - name) : strlen(name);
		if (!len)
			return pb_fail(b, "%.*s is not a field name (a, or a.b for a nested field)",
				       PB_SHOW, fs->name);
		if (++depth > PATH_DEPTH_MAX)
			return pb_fail(b, "nested deeper than %d fields", PATH_DEPTH_MAX);
		size_t full = len;
		uint32_t count;
		if (split_count(name, full, &len, &count))
			return pb_fail(b, "%.*s: a repeated field's elements are NAME[N], N from 1 to %d",
				       (int)full, name, REPEAT_MAX);
		if ((r = pb_field_need(b, &m, name, len, &f)))
			return r;
		if (count && !f.repeated) {
			char tt[160];
			return pb_fail(b, "%.*s is %s, not repeated: [N] is for repeated fields",
				       (int)(name + len - fs->name), fs->name,
				       pb_type_text(&f, tt, sizeof(tt)));
		}
		k = kid_find(cur, f.number);
		if (k && k->spec >= 0) {
			const struct field_spec *o = &b->o->fields[k->spec];
			if (!dot && !strcmp(o->name, fs->name))
				return pb_fail(b, "%s is given twice", fs->name);
			return pb_fail(b, "%.*s is already set by --field %.*s=%.*s",
				       (int)(name + len - fs->name), fs->name, PB_SHOW, o->name,
				       PB_SHOW, o->gen);
		}
		if (!dot) {
			if (k) { /* a path step of an earlier, deeper --field */
				const struct field_spec *o = &b->o->fields[first_spec(k)];
				return pb_fail(b, "%s is already set through its fields by --field "
					       "%.*s=%.*s", fs->name, PB_SHOW, o->name, PB_SHOW,
					       o->gen);
			}
			k = kid_add(cur, &f, idx);
			if (!k)
				return pb_fail(b, "out of memory");
			k->repeat = count;
			return pb_node_set_gen(b, &f, k, fs->gen);
		}
		if (f.type != PB_MESSAGE) {
			char tt[160];
			return pb_fail(b, "%.*s is %s, not a message", (int)(name + len - fs->name),
				       fs->name, pb_type_text(&f, tt, sizeof(tt)));
		}
		if (!k) {
			k = kid_add(cur, &f, -1);
			if (!k)
				return pb_fail(b, "out of memory");
			k->kind = GEN_MSG;
			k->repeat = count;
		} else if ((r = repeat_check(b, k, name, len, count))) {
			return r;
		}
		cur = k;
		m = f.msg;
	}
}

static int node_cmp(const void *a, const void *b)
{
	const struct pb_node *x = a, *y = b;

	return x->number < y->number ? -1 : x->number > y->number;
}

static void plan_finish_one(struct payload_gen *g, struct pb_node *k, bool root);

/* Sorts fields by number (the order protobuf encoders use) and works out
 * the most bytes each can take, every element of a repeated one. */
static void plan_finish(struct payload_gen *g, struct pb_node *k, bool root)
{
	plan_finish_one(g, k, root);
	if (k->repeat > 1)
		k->max *= k->repeat;
}

static void plan_finish_one(struct payload_gen *g, struct pb_node *k, bool root)
{
	size_t body = 0;

	if (k->kind == GEN_NOW_SEC || k->kind == GEN_NOW_NSEC || k->kind == GEN_NOW_MS)
		g->uses_now = true;
	switch (k->kind) {
	case GEN_MSG:
		if (k->n_kids) /* qsort(NULL, 0) is still UB */
			qsort(k->kids, k->n_kids, sizeof(*k->kids), node_cmp);
		for (uint32_t i = 0; i < k->n_kids; i++) {
			plan_finish(g, &k->kids[i], false);
			body += k->kids[i].max;
		}
		if (root) {
			k->max = body;
			return;
		}
		k->len_len = (uint8_t)pb_varint_len(body);
		k->max = k->tag_len + k->len_len + body;
		return;
	case GEN_CONST:
	case GEN_CHOICE:
		return; /* max set when encoded */
	case GEN_BYTES:
		k->max = k->tag_len + pb_varint_len(k->n_bytes) + k->n_bytes;
		return;
	default:
		k->max = k->tag_len + (k->wire == PB_WIRE_I32 ? 4u : k->wire == PB_WIRE_I64 ? 8u : 10u);
		return;
	}
}

struct payload_gen *payload_gen_new(const struct blast_opts *o, char *err, size_t errlen)
{
	struct pb_schema s = { 0 };
	struct pb_build b = { .o = o, .s = &s, .err = err, .errlen = errlen };
	struct payload_gen *g = NULL;
	struct pb_msg top;

	if (errlen)
		err[0] = '\0';
	if (!o->payload_proto) {
		pb_fail(&b, "no --payload-proto message given");
		return NULL;
	}
	if (o->payload_proto_desc && pb_schema_load(&b, o->payload_proto_desc))
		goto fail;
	if (pb_msg_find(&b, &top))
		goto fail;
	g = calloc(1, sizeof(*g));
	if (!g || !(g->name = strdup(top.name))) {
		pb_fail(&b, "out of memory");
		goto fail;
	}
	g->root.kind = GEN_MSG;
	g->root.spec = -1;
	for (uint32_t i = 0; i < o->n_fields; i++)
		if (add_field(&b, &g->root, &top, (int)i))
			goto fail;
	b.spec = NULL;
	plan_finish(g, &g->root, true);
	g->max = g->root.max;
	g->scratch = malloc(g->max ? g->max : 1);
	if (!g->scratch) {
		pb_fail(&b, "out of memory");
		goto fail;
	}
	payload_gen_seed(g, 0);
	pb_schema_free(&s);
	return g;
fail:
	payload_gen_free(g);
	pb_schema_free(&s);
	return NULL;
}

void payload_gen_free(struct payload_gen *g)
{
	if (!g)
		return;
	node_free(&g->root);
	free(g->scratch);
	free(g->name);
	free(g);
}
