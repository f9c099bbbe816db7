/* Protobuf payloads. Setup turns a message descriptor and the --field list
 * into a plan: a tree of nodes, one per generated field, with tags, ranges
 * and constants encoded up front. The per-message path walks the plan and
 * writes wire format directly (varints, zigzag, fixed32/64, length-delimited
 * bodies), with no allocation and no protobuf-c call. protobuf-c is used
 * only for what it is good at here: the compiled-in descriptors and parsing
 * a FileDescriptorSet. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alive.pb-c.h"
#include "google/protobuf/descriptor.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "payload/protobuf.h"
#include "tagdata.pb-c.h"

#define DESC_FILE_MAX (64u << 20)
#define PATH_DEPTH_MAX 32
#define BYTES_GEN_MAX (1u << 20) /* bytes:N */
#define CHOICE_MAX 256
#define SHOW 64 /* user text quoted in a message is cut to this */

/* Field types, numbered as FieldDescriptorProto.Type is. */
enum pt {
	PT_DOUBLE = 1,
	PT_FLOAT,
	PT_INT64,
	PT_UINT64,
	PT_INT32,
	PT_FIXED64,
	PT_FIXED32,
	PT_BOOL,
	PT_STRING,
	PT_GROUP,
	PT_MESSAGE,
	PT_BYTES,
	PT_UINT32,
	PT_ENUM,
	PT_SFIXED32,
	PT_SFIXED64,
	PT_SINT32,
	PT_SINT64,
	PT__COUNT,
};

static const char *const pt_names[PT__COUNT] = {
	[PT_DOUBLE] = "double",	    [PT_FLOAT] = "float",	[PT_INT64] = "int64",
	[PT_UINT64] = "uint64",	    [PT_INT32] = "int32",	[PT_FIXED64] = "fixed64",
	[PT_FIXED32] = "fixed32",   [PT_BOOL] = "bool",		[PT_STRING] = "string",
	[PT_GROUP] = "group",	    [PT_MESSAGE] = "message",	[PT_BYTES] = "bytes",
	[PT_UINT32] = "uint32",	    [PT_ENUM] = "enum",		[PT_SFIXED32] = "sfixed32",
	[PT_SFIXED64] = "sfixed64", [PT_SINT32] = "sint32",	[PT_SINT64] = "sint64",
};

/* protobuf-c's own numbering of the same types. */
static const uint8_t pc_types[] = {
	[PROTOBUF_C_TYPE_INT32] = PT_INT32,	  [PROTOBUF_C_TYPE_SINT32] = PT_SINT32,
	[PROTOBUF_C_TYPE_SFIXED32] = PT_SFIXED32, [PROTOBUF_C_TYPE_INT64] = PT_INT64,
	[PROTOBUF_C_TYPE_SINT64] = PT_SINT64,	  [PROTOBUF_C_TYPE_SFIXED64] = PT_SFIXED64,
	[PROTOBUF_C_TYPE_UINT32] = PT_UINT32,	  [PROTOBUF_C_TYPE_FIXED32] = PT_FIXED32,
	[PROTOBUF_C_TYPE_UINT64] = PT_UINT64,	  [PROTOBUF_C_TYPE_FIXED64] = PT_FIXED64,
	[PROTOBUF_C_TYPE_FLOAT] = PT_FLOAT,	  [PROTOBUF_C_TYPE_DOUBLE] = PT_DOUBLE,
	[PROTOBUF_C_TYPE_BOOL] = PT_BOOL,	  [PROTOBUF_C_TYPE_ENUM] = PT_ENUM,
	[PROTOBUF_C_TYPE_STRING] = PT_STRING,	  [PROTOBUF_C_TYPE_BYTES] = PT_BYTES,
	[PROTOBUF_C_TYPE_MESSAGE] = PT_MESSAGE,
};

enum wire { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* Messages blast knows without a .desc file. */
static const ProtobufCMessageDescriptor *const builtin_msgs[] = {
	&tag_data__descriptor,
	&alive__descriptor,
};

static int pt_wire(int t)
{
	switch (t) {
	case PT_DOUBLE:
	case PT_FIXED64:
	case PT_SFIXED64:
		return WT_I64;
	case PT_FLOAT:
	case PT_FIXED32:
	case PT_SFIXED32:
		return WT_I32;
	case PT_STRING:
	case PT_BYTES:
	case PT_MESSAGE:
		return WT_LEN;
	default:
		return WT_VARINT;
	}
}

/* Integer types a number generator may fill (not bool or enum). */
static bool pt_is_int(int t)
{
	switch (t) {
	case PT_INT64:
	case PT_UINT64:
	case PT_INT32:
	case PT_FIXED64:
	case PT_FIXED32:
	case PT_UINT32:
	case PT_SFIXED32:
	case PT_SFIXED64:
	case PT_SINT32:
	case PT_SINT64:
		return true;
	default:
		return false;
	}
}

static bool pt_is_float(int t)
{
	return t == PT_DOUBLE || t == PT_FLOAT;
}

static bool pt_unsigned(int t)
{
	return t == PT_UINT64 || t == PT_UINT32 || t == PT_FIXED64 || t == PT_FIXED32 ||
	       t == PT_BOOL;
}

static bool pt_wide(int t)
{
	return t == PT_INT64 || t == PT_UINT64 || t == PT_FIXED64 || t == PT_SFIXED64 ||
	       t == PT_SINT64;
}

/* ---- schema: one view over compiled-in descriptors and a .desc ---- */

struct msg_ref {
	const ProtobufCMessageDescriptor *c;	    /* compiled in, or */
	const Google__Protobuf__DescriptorProto *d; /* from the .desc */
	const char *name;			    /* full name, no leading dot */
	bool proto3;				    /* d: declared in a proto3 file */
};

struct enum_ref {
	const ProtobufCEnumDescriptor *c;
	const Google__Protobuf__EnumDescriptorProto *d;
	const char *name;
};

struct field_info {
	const char *name;
	uint32_t number;
	uint8_t type;  /* enum pt */
	bool repeated;
	bool implicit; /* proto3 without presence: a zero value is not sent */
	struct msg_ref msg;
	struct enum_ref en;
};

/* A message or enum of the .desc, under its full name. */
struct desc_type {
	char *name; /* ".pkg.Outer.Inner", as type_name spells it */
	const Google__Protobuf__DescriptorProto *msg;
	const Google__Protobuf__EnumDescriptorProto *en;
	bool proto3;
};

struct schema {
	Google__Protobuf__FileDescriptorSet *set;
	struct desc_type *types;
	size_t n_types, cap_types;
};

/* ---- the plan ---- */

enum gen_kind {
	G_MSG,	       /* message field: its kids, length-delimited */
	G_CONST,       /* pre-encoded field (tag and value), maybe empty */
	G_CHOICE,      /* one of several pre-encoded fields */
	G_UNIFORM_INT, /* lo + [0, span] */
	G_UNIFORM_FLT, /* a + b * [0, 1) */
	G_NORMAL,      /* mean a, sd b */
	G_BERNOULLI,   /* true with probability a */
	G_SEQ,
	G_NOW_MS,   /* unix milliseconds */
	G_NOW_SEC,  /* Timestamp.seconds */
	G_NOW_NSEC, /* Timestamp.nanos */
	G_BYTES,    /* n_bytes random bytes (alphanumerics for a string) */
};

struct node {
	uint8_t kind;	 /* enum gen_kind */
	uint8_t type;	 /* enum pt */
	uint8_t wire;	 /* enum wire */
	uint8_t tag_len;
	uint8_t len_len; /* G_MSG: bytes kept for the body's length */
	bool implicit;
	bool is_int, usig, wide; /* G_NORMAL on an integer: how to round */
	uint8_t tag[5];
	uint32_t number;
	int spec;	 /* index of the --field that made it; -1: a path step */
	uint32_t n_bytes;
	uint64_t lo, span;
	double a, b;
	uint8_t *blob;	 /* G_CONST, G_CHOICE */
	uint32_t *offs;	 /* G_CHOICE: n_choices + 1 offsets into blob */
	uint32_t n_choices;
	struct node *kids;
	uint32_t n_kids;
	size_t max; /* most bytes this field takes, tag included */
};

struct payload_gen {
	struct node root; /* G_MSG without tag: the message itself */
	uint64_t rng;
	bool uses_now;
	int64_t now_sec;
	int32_t now_nsec;
	uint8_t *scratch; /* [max]: where a fill into a short buffer goes first */
	size_t max;
	char *name;
};

struct build {
	const struct blast_opts *o;
	struct schema *s;
	char *err;
	size_t errlen;
	const struct field_spec *spec; /* the --field being checked */
};

static int __attribute__((format(printf, 2, 3))) bfail(struct build *b, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!b->errlen)
		return -EINVAL;
	b->err[0] = '\0';
	if (b->spec)
		n = snprintf(b->err, b->errlen, "--field %.*s=%.*s: ", SHOW, b->spec->name, SHOW,
			     b->spec->gen);
	if (n < 0 || (size_t)n >= b->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(b->err + n, b->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *article(const char *s)
{
	return strchr("aeio", s[0]) ? "an" : "a";
}

/* "a double", "an enum Kind", "a message google.protobuf.Timestamp". */
static const char *type_text(const struct field_info *f, char *buf, size_t cap)
{
	const char *t = f->type < PT__COUNT && pt_names[f->type] ? pt_names[f->type] : "?";

	if (f->type == PT_MESSAGE)
		snprintf(buf, cap, "a message %s", f->msg.name ? f->msg.name : "?");
	else if (f->type == PT_ENUM)
		snprintf(buf, cap, "an enum %s", f->en.name ? f->en.name : "?");
	else
		snprintf(buf, cap, "%s %s%s", f->repeated ? "a" : article(t),
			 f->repeated ? "repeated " : "", t);
	if (f->repeated && (f->type == PT_MESSAGE || f->type == PT_ENUM)) {
		size_t n = strlen(buf);
		snprintf(buf + n, cap - n, " (repeated)");
	}
	return buf;
}

static int desc_add(struct schema *s, const char *prefix, const char *name,
		    const Google__Protobuf__DescriptorProto *msg,
		    const Google__Protobuf__EnumDescriptorProto *en, bool proto3)
{
	struct desc_type *t;
	size_t n;

	if (!name)
		return 0;
	if (s->n_types == s->cap_types) {
		size_t cap = s->cap_types ? s->cap_types * 2 : 16;
		struct desc_type *more = realloc(s->types, cap * sizeof(*more));
		if (!more)
			return -ENOMEM;
		s->types = more;
		s->cap_types = cap;
	}
	n = strlen(prefix) + strlen(name) + 2;
	t = &s->types[s->n_types];
	t->name = malloc(n);
	if (!t->name)
		return -ENOMEM;
	snprintf(t->name, n, "%s.%s", prefix, name);
	t->msg = msg;
	t->en = en;
	t->proto3 = proto3;
	s->n_types++;
	return 0;
}

static int desc_add_msg(struct schema *s, const char *prefix,
			const Google__Protobuf__DescriptorProto *m, bool proto3)
{
	const char *full;
	int r = desc_add(s, prefix, m->name, m, NULL, proto3);

	if (r || !m->name)
		return r;
	/* The array may move while nested types go in: copy the name. */
	full = strdup(s->types[s->n_types - 1].name);
	if (!full)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_nested_type && !r; i++)
		r = desc_add_msg(s, full, m->nested_type[i], proto3);
	for (size_t i = 0; i < m->n_enum_type && !r; i++)
		r = desc_add(s, full, m->enum_type[i]->name, NULL, m->enum_type[i], proto3);
	free((char *)full);
	return r;
}

static void schema_free(struct schema *s)
{
	for (size_t i = 0; i < s->n_types; i++)
		free(s->types[i].name);
	free(s->types);
	if (s->set)
		google__protobuf__file_descriptor_set__free_unpacked(s->set, NULL);
	memset(s, 0, sizeof(*s));
}

/* Reads a whole file of at most DESC_FILE_MAX bytes. Returns 0 or -errno. */
static int read_file(const char *path, uint8_t **data, size_t *len)
{
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	int fd, err = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	for (;;) {
		if (n == cap) {
			uint8_t *more;
			if (cap >= DESC_FILE_MAX) {
				err = -EFBIG;
				break;
			}
			more = realloc(buf, cap * 2);
			if (!more) {
				err = -ENOMEM;
				break;
			}
			buf = more;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	*data = buf;
	*len = n;
	return 0;
}

static int schema_load(struct build *b, const char *path)
{
	struct schema *s = b->s;
	uint8_t *data = NULL;
	size_t len = 0;
	int r = read_file(path, &data, &len);

	if (r)
		return bfail(b, "--payload-proto-desc %.*s: %s", SHOW, path, strerror(-r));
	s->set = google__protobuf__file_descriptor_set__unpack(NULL, len, data);
	free(data);
	if (!s->set || !s->set->n_file)
		return bfail(b, "--payload-proto-desc %.*s: not a FileDescriptorSet (make one with "
			     "protoc -o FILE.desc --include_imports FILE.proto)", SHOW, path);
	for (size_t i = 0; i < s->set->n_file; i++) {
		const Google__Protobuf__FileDescriptorProto *f = s->set->file[i];
		bool proto3 = f->syntax && !strcmp(f->syntax, "proto3");
		char prefix[512] = "";

		if (f->package && *f->package)
			snprintf(prefix, sizeof(prefix), ".%s", f->package);
		for (size_t j = 0; j < f->n_message_type && !r; j++)
			r = desc_add_msg(s, prefix, f->message_type[j], proto3);
		for (size_t j = 0; j < f->n_enum_type && !r; j++)
			r = desc_add(s, prefix, f->enum_type[j]->name, NULL, f->enum_type[j], proto3);
		if (r)
			return bfail(b, "out of memory");
	}
	return 0;
}

static const struct desc_type *desc_find(const struct schema *s, const char *type_name)
{
	for (size_t i = 0; i < s->n_types; i++)
		if (!strcmp(s->types[i].name, type_name))
			return &s->types[i];
	return NULL;
}

/* Finds the --payload-proto message: by full name, or by a name that ends
 * one (after a dot) if only one does. */
static int msg_find(struct build *b, struct msg_ref *m)
{
	const char *want = b->o->payload_proto, *desc = b->o->payload_proto_desc;
	size_t wl = strlen(want);
	int hits = 0;

	memset(m, 0, sizeof(*m));
	if (!desc) {
		for (size_t i = 0; i < sizeof(builtin_msgs) / sizeof(builtin_msgs[0]); i++) {
			const ProtobufCMessageDescriptor *d = builtin_msgs[i];
			if (!strcmp(want, d->name) || !strcmp(want, d->short_name)) {
				m->c = d;
				m->name = d->name;
				return 0;
			}
		}
		return bfail(b, "--payload-proto %.*s: not a compiled-in message (TagData, Alive); "
			     "describe others with --payload-proto-desc FILE.desc", SHOW, want);
	}
	for (size_t i = 0; i < b->s->n_types; i++) {
		const struct desc_type *t = &b->s->types[i];
		const char *full = t->name + 1;
		size_t fl = strlen(full);

		if (!t->msg)
			continue;
		if (!strcmp(full, want)) {
			hits = 1;
			m->d = t->msg;
			m->name = full;
			m->proto3 = t->proto3;
			break;
		}
		if (fl > wl && full[fl - wl - 1] == '.' && !strcmp(full + fl - wl, want)) {
			if (hits++)
				return bfail(b, "--payload-proto %.*s: more than one message in %.*s "
					     "has that name (%s, %s): give the full name",
					     SHOW, want, SHOW, desc, m->name, full);
			m->d = t->msg;
			m->name = full;
			m->proto3 = t->proto3;
		}
	}
	if (!hits)
		return bfail(b, "--payload-proto %.*s: no such message in %.*s", SHOW, want, SHOW,
			     desc);
	return 0;
}

/* Fills f with the type of a field of message type type_name (or enum). */
static int desc_resolve(struct build *b, const struct msg_ref *m,
			const Google__Protobuf__FieldDescriptorProto *fd, struct field_info *f)
{
	const struct desc_type *t;
	char dotted[512];
	const char *tn = fd->type_name ? fd->type_name : "";

	/* protoc writes full names (".pkg.Msg"); hand-made sets may not. */
	if (tn[0] != '.') {
		snprintf(dotted, sizeof(dotted), ".%s", tn);
		tn = dotted;
	}
	t = desc_find(b->s, tn);
	if (f->type == PT_MESSAGE && t && t->msg) {
		f->msg.d = t->msg;
		f->msg.name = t->name + 1;
		f->msg.proto3 = t->proto3;
		return 0;
	}
	if (f->type == PT_ENUM && t && t->en) {
		f->en.d = t->en;
		f->en.name = t->name + 1;
		return 0;
	}
	/* A set made without --include_imports lacks the well-known types;
	 * Timestamp is the one blast needs, and it is compiled in. */
	if (f->type == PT_MESSAGE && !strcmp(tn, ".google.protobuf.Timestamp")) {
		f->msg.c = &google__protobuf__timestamp__descriptor;
		f->msg.name = google__protobuf__timestamp__descriptor.name;
		return 0;
	}
	return bfail(b, "%s.%s has type %s, which %.*s does not define (make it with protoc "
		     "--include_imports)", m->name, fd->name, tn + 1, SHOW,
		     b->o->payload_proto_desc);
}

/* Looks up field name[0..len) in m. Returns 1 found, 0 not found, <0 error. */
static int field_find(struct build *b, const struct msg_ref *m, const char *name, size_t len,
		      struct field_info *f)
{
	memset(f, 0, sizeof(*f));
	if (m->c) {
		for (unsigned i = 0; i < m->c->n_fields; i++) {
			const ProtobufCFieldDescriptor *fd = &m->c->fields[i];
			if (strlen(fd->name) != len || memcmp(fd->name, name, len))
				continue;
			f->name = fd->name;
			f->number = fd->id;
			f->type = fd->type < sizeof(pc_types) ? pc_types[fd->type] : 0;
			f->repeated = fd->label == PROTOBUF_C_LABEL_REPEATED;
			f->implicit = fd->label == PROTOBUF_C_LABEL_NONE &&
				      !(fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
				      f->type != PT_MESSAGE;
			if (f->type == PT_MESSAGE) {
				f->msg.c = fd->descriptor;
				f->msg.name = f->msg.c->name;
			} else if (f->type == PT_ENUM) {
				f->en.c = fd->descriptor;
				f->en.name = f->en.c->name;
			}
			return 1;
		}
		return 0;
	}
	for (size_t i = 0; i < m->d->n_field; i++) {
		const Google__Protobuf__FieldDescriptorProto *fd = m->d->field[i];
		if (!fd->name || strlen(fd->name) != len || memcmp(fd->name, name, len))
			continue;
		f->name = fd->name;
		f->number = (uint32_t)fd->number;
		f->type = (int)fd->type > 0 && (int)fd->type < PT__COUNT ? (uint8_t)fd->type : 0;
		f->repeated = fd->label == GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__LABEL__LABEL_REPEATED;
		f->implicit = m->proto3 && !f->repeated && !fd->has_oneof_index &&
			      f->type != PT_MESSAGE;
		if (!fd->has_number || fd->number < 1 || fd->number > 536870911 || !f->type)
			return bfail(b, "%s.%s: the .desc gives it no valid number or type",
				     m->name, fd->name);
		if (f->type == PT_MESSAGE || f->type == PT_ENUM) {
			int r = desc_resolve(b, m, fd, f);
			if (r)
				return r;
		}
		return 1;
	}
	return 0;
}

/* "detached, battery_low, distance, timestamp" (cut short if long). */
static void field_list(const struct msg_ref *m, char *buf, size_t cap)
{
	size_t n = m->c ? m->c->n_fields : m->d->n_field, at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && at < cap; i++) {
		const char *name = m->c ? m->c->fields[i].name : m->d->field[i]->name;
		int w = snprintf(buf + at, cap - at, "%s%s", i ? ", " : "", name ? name : "?");
		if (w < 0 || (size_t)w >= cap - at) {
			if (cap >= 4)
				memcpy(buf + cap - 4, "...", 4);
			return;
		}
		at += (size_t)w;
	}
	if (!n)
		snprintf(buf, cap, "none");
}

static int field_need(struct build *b, const struct msg_ref *m, const char *name, size_t len,
		      struct field_info *f)
{
	char list[256];
	int r = field_find(b, m, name, len, f);

	if (r)
		return r < 0 ? r : 0;
	field_list(m, list, sizeof(list));
	return bfail(b, "%s has no field %.*s (its fields: %s)", m->name, (int)(len > SHOW ? SHOW : len),
		     name, list);
}

/* ---- wire format ---- */

static unsigned varint_len(uint64_t v)
{
	unsigned n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline uint8_t *put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + n;
}

/* The integer that goes on the wire for a value of type t: u holds integer
 * values (two's complement for signed ones), d floating ones. */
static inline uint64_t wire_value(int t, uint64_t u, double d)
{
	switch (t) {
	case PT_INT32:
	case PT_ENUM:
		/* Negative int32 is sign-extended to ten bytes (encoding spec). */
		return (uint64_t)(int64_t)(int32_t)u;
	case PT_UINT32:
	case PT_FIXED32:
	case PT_SFIXED32:
		return (uint32_t)u;
	case PT_SINT32: {
		uint32_t s = (uint32_t)u;
		return (uint32_t)((s << 1) ^ (uint32_t)-(s >> 31));
	}
	case PT_SINT64:
		return (u << 1) ^ (uint64_t)-(u >> 63);
	case PT_BOOL:
		return u != 0;
	case PT_FLOAT: {
		float f = (float)d;
		uint32_t bits;
		memcpy(&bits, &f, 4);
		return bits;
	}
	case PT_DOUBLE: {
		uint64_t bits;
		memcpy(&bits, &d, 8);
		return bits;
	}
	default:
		return u;
	}
}

static uint8_t *put_scalar(uint8_t *p, int wire, uint64_t w)
{
	if (wire == WT_VARINT)
		return put_varint(p, w);
	return put_le(p, w, wire == WT_I32 ? 4 : 8);
}

/* ---- per-message path ---- */

/* splitmix64: one add and three xor-shift-multiplies, good enough for load
 * generation and a fraction of a nanosecond. */
static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline double rng_unit(uint64_t *s) /* [0, 1) */
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, span]; span UINT64_MAX is any value. Multiply-shift
 * instead of %, no loop: the bias is below 2^-64 per value. */
static inline uint64_t rng_upto(uint64_t *s, uint64_t span)
{
	uint64_t r = rng_next(s);

	if (span == UINT64_MAX)
		return r;
	return (uint64_t)(((unsigned __int128)r * (span + 1)) >> 64);
}

static inline double rng_gauss(uint64_t *s)
{
	/* Box-Muller; u1 in (0, 1] keeps log() finite. */
	double u1 = (double)((rng_next(s) >> 11) + 1) * 0x1.0p-53;
	double u2 = rng_unit(s);

	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Rounds d into the integer type of k, saturating at its ends. */
static uint64_t to_int(const struct node *k, double d)
{
	double r = round(d);

	if (k->usig) {
		if (!(r > 0))
			return 0;
		if (r >= (k->wide ? 0x1p64 : 0x1p32))
			return k->wide ? UINT64_MAX : UINT32_MAX;
		return (uint64_t)r;
	}
	if (!(r > (k->wide ? -0x1p63 : -0x1p31)))
		return (uint64_t)(k->wide ? INT64_MIN : INT32_MIN);
	if (r >= (k->wide ? 0x1p63 : 0x1p31))
		return (uint64_t)(k->wide ? INT64_MAX : INT32_MAX);
	return (uint64_t)(int64_t)r;
}

static uint8_t *emit(struct payload_gen *g, const struct node *kids, uint32_t n, uint64_t seq,
		     uint8_t *p)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	for (uint32_t i = 0; i < n; i++) {
		const struct node *k = &kids[i];
		uint64_t u = 0;
		double d = 0;

		switch (k->kind) {
		case G_MSG: {
			uint8_t *body = p + k->tag_len + k->len_len;
			size_t len = (size_t)(emit(g, k->kids, k->n_kids, seq, body) - body);
			unsigned ll = varint_len(len);

			memcpy(p, k->tag, k->tag_len);
			p += k->tag_len;
			/* The body went after room for its longest length. */
			if (ll < k->len_len)
				memmove(p + ll, body, len);
			p = put_varint(p, len) + len;
			continue;
		}
		case G_CONST:
			memcpy(p, k->blob, k->offs[1]);
			p += k->offs[1];
			continue;
		case G_CHOICE: {
			uint32_t c = (uint32_t)rng_upto(&g->rng, k->n_choices - 1);
			uint32_t len = k->offs[c + 1] - k->offs[c];
			memcpy(p, k->blob + k->offs[c], len);
			p += len;
			continue;
		}
		case G_BYTES:
			memcpy(p, k->tag, k->tag_len);
			p = put_varint(p + k->tag_len, k->n_bytes);
			for (uint32_t j = 0; j < k->n_bytes; j += 8) {
				uint64_t r = rng_next(&g->rng);
				for (uint32_t b = 0; b < 8 && j + b < k->n_bytes; b++, r >>= 8)
					p[j + b] = k->type == PT_STRING ?
							   (uint8_t)alnum[(r & 0xff) % 36] :
							   (uint8_t)r;
			}
			p += k->n_bytes;
			continue;
		case G_UNIFORM_INT:
			u = k->lo + rng_upto(&g->rng, k->span);
			break;
		case G_UNIFORM_FLT:
			d = k->a + k->b * rng_unit(&g->rng);
			break;
		case G_NORMAL:
			d = k->a + k->b * rng_gauss(&g->rng);
			if (k->is_int)
				u = to_int(k, d);
			break;
		case G_BERNOULLI:
			u = rng_unit(&g->rng) < k->a;
			break;
		case G_SEQ:
			u = seq;
			break;
		case G_NOW_MS:
			u = (uint64_t)(g->now_sec * 1000 + g->now_nsec / 1000000);
			break;
		case G_NOW_SEC:
			u = (uint64_t)g->now_sec;
			break;
		case G_NOW_NSEC:
			u = (uint64_t)(int64_t)g->now_nsec;
			break;
		}
		uint64_t w = wire_value(k->type, u, d);
		if (k->implicit && !w)
			continue; /* proto3 leaves a zero out */
		memcpy(p, k->tag, k->tag_len);
		p = put_scalar(p + k->tag_len, k->wire, w);
	}
	return p;
}

ssize_t payload_gen_fill(struct payload_gen *g, uint64_t seq, uint8_t *out, size_t cap)
{
	/* Without room for the worst case, encode aside and copy if it fits:
	 * emit() itself then never needs a bounds check. */
	uint8_t *dst = cap >= g->max ? out : g->scratch;
	size_t n;

	if (g->uses_now) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		g->now_sec = ts.tv_sec;
		g->now_nsec = (int32_t)ts.tv_nsec;
	}
	n = (size_t)(emit(g, g->root.kids, g->root.n_kids, seq, dst) - dst);
	if (dst != out) {
		if (n > cap)
			return -ENOSPC;
		if (n)
			memcpy(out, dst, n);
	}
	return (ssize_t)n;
}

size_t payload_gen_max_size(const struct payload_gen *g)
{
	return g->max;
}

const char *payload_gen_name(const struct payload_gen *g)
{
	return g->name;
}

void payload_gen_seed(struct payload_gen *g, uint64_t seed)
{
	uint64_t s = seed;

	/* Mix, so seeds 0, 1, 2 start far apart. */
	g->rng = rng_next(&s);
}

/* ---- setup: generator text -> node ---- */

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
	if (pt_unsigned(t)) {
		unsigned long long v;
		if (*s == '-')
			return -EINVAL;
		v = strtoull(s, &end, 10);
		if (*end || errno == ERANGE || (!pt_wide(t) && v > UINT32_MAX))
			return -EINVAL;
		*out = v;
	} else {
		long long v = strtoll(s, &end, 10);
		if (*end || errno == ERANGE || (!pt_wide(t) && (v < INT32_MIN || v > INT32_MAX)))
			return -EINVAL;
		*out = (uint64_t)v;
	}
	return 0;
}

static int int_range_fail(struct build *b, const struct field_info *f, const char *s)
{
	char tt[160];

	if (pt_unsigned(f->type))
		return bfail(b, "%s is %s: %.*s is not an integer from 0 to %s", f->name,
			     type_text(f, tt, sizeof(tt)), SHOW, s,
			     pt_wide(f->type) ? "18446744073709551615" : "4294967295");
	return bfail(b, "%s is %s: %.*s is not an integer from %s", f->name,
		     type_text(f, tt, sizeof(tt)), SHOW, s,
		     pt_wide(f->type) ? "-9223372036854775808 to 9223372036854775807" :
					"-2147483648 to 2147483647");
}

static int enum_value(const struct field_info *f, const char *s, int32_t *out)
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
	if (parse_int(PT_INT32, s, &v))
		return -EINVAL;
	*out = (int32_t)v;
	return 0;
}

static void enum_list(const struct field_info *f, char *buf, size_t cap)
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
static bool timestamp_fields(struct build *b, const struct msg_ref *m, struct field_info *sec,
			     struct field_info *nsec)
{
	return field_find(b, m, "seconds", 7, sec) == 1 && pt_is_int(sec->type) &&
	       !sec->repeated && field_find(b, m, "nanos", 5, nsec) == 1 &&
	       pt_is_int(nsec->type) && !nsec->repeated;
}

/* A message field takes no value of its own: say what it does take. */
static int msg_whole_fail(struct build *b, const struct field_info *f)
{
	struct field_info sec, nsec;
	char tt[160];

	type_text(f, tt, sizeof(tt));
	if (f->type == PT_MESSAGE && !f->repeated && timestamp_fields(b, &f->msg, &sec, &nsec))
		return bfail(b, "%s is %s: give it now, or set its fields (%s.seconds=...)",
			     f->name, tt, f->name);
	return bfail(b, "%s is %s: set its fields instead (%s.NAME=...)", f->name, tt, f->name);
}

/* Encodes field f = text (tag and value) at out, which has room for
 * 15 + strlen(text) bytes. Returns the bytes written (0: a proto3 zero,
 * left out), or <0 after bfail. what names the generator for messages. */
static int encode_const(struct build *b, const struct field_info *f, const struct node *k,
			const char *text, const char *what, uint8_t *out)
{
	char tt[160], list[256];
	uint8_t *p = out + k->tag_len;
	uint64_t u = 0, w;
	double d = 0;

	memcpy(out, k->tag, k->tag_len);
	if (f->type == PT_STRING || f->type == PT_BYTES) {
		size_t len = strlen(text);
		if (!len && k->implicit)
			return 0;
		p = put_varint(p, len);
		memcpy(p, text, len);
		return (int)(p + len - out);
	}
	if (f->type == PT_BOOL) {
		if (!strcmp(text, "true") || !strcmp(text, "1"))
			u = 1;
		else if (strcmp(text, "false") && strcmp(text, "0"))
			return bfail(b, "%s is a bool, %s %.*s is not true or false", f->name, what,
				     SHOW, text);
	} else if (f->type == PT_ENUM) {
		int32_t v;
		if (enum_value(f, text, &v)) {
			enum_list(f, list, sizeof(list));
			return bfail(b, "%s is %s, which has no value %.*s (its values: %s)",
				     f->name, type_text(f, tt, sizeof(tt)), SHOW, text, list);
		}
		u = (uint64_t)(int64_t)v;
	} else if (pt_is_float(f->type)) {
		if (parse_double(text, &d))
			return bfail(b, "%s is %s, %s %.*s is not a number", f->name,
				     type_text(f, tt, sizeof(tt)), what, SHOW, text);
	} else if (pt_is_int(f->type)) {
		if (parse_int(f->type, text, &u))
			return int_range_fail(b, f, text);
	} else {
		return msg_whole_fail(b, f);
	}
	w = wire_value(f->type, u, d);
	if (k->implicit && !w)
		return 0;
	return (int)(put_scalar(p, k->wire, w) - out);
}

static int set_const(struct build *b, const struct field_info *f, struct node *k, const char *text)
{
	k->kind = G_CONST;
	k->blob = malloc(16 + strlen(text));
	k->offs = calloc(2, sizeof(*k->offs));
	if (!k->blob || !k->offs)
		return bfail(b, "out of memory");
	int n = encode_const(b, f, k, text, "const", k->blob);
	if (n < 0)
		return n;
	k->offs[1] = (uint32_t)n;
	k->max = (size_t)n;
	return 0;
}

static int set_choice(struct build *b, const struct field_info *f, struct node *k, const char *list)
{
	size_t n = 1, at = 0, len = strlen(list);
	char *copy = strdup(list), *item, *save = NULL;

	for (const char *p = list; *p; p++)
		n += *p == '|';
	if (!copy)
		return bfail(b, "out of memory");
	if (n > CHOICE_MAX) {
		free(copy);
		return bfail(b, "choice takes at most %d values", CHOICE_MAX);
	}
	k->kind = G_CHOICE;
	k->blob = malloc(n * 16 + len + 1);
	k->offs = calloc(n + 1, sizeof(*k->offs));
	if (!k->blob || !k->offs) {
		free(copy);
		return bfail(b, "out of memory");
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

static void node_tag(struct node *k, const struct field_info *f)
{
	uint8_t *end;

	k->number = f->number;
	k->type = f->type;
	k->wire = (uint8_t)pt_wire(f->type);
	k->implicit = f->implicit;
	k->is_int = pt_is_int(f->type);
	k->usig = pt_unsigned(f->type);
	k->wide = pt_wide(f->type);
	end = put_varint(k->tag, (uint64_t)f->number << 3 | k->wire);
	k->tag_len = (uint8_t)(end - k->tag);
}

static int set_now(struct build *b, const struct field_info *f, struct node *k)
{
	struct field_info sec, nsec;
	char tt[160];

	if (f->type == PT_MESSAGE && !f->repeated) {
		if (!timestamp_fields(b, &f->msg, &sec, &nsec))
			return bfail(b, "%s is %s, now needs a google.protobuf.Timestamp (seconds "
				     "and nanos) or a 64-bit integer (unix ms)", f->name,
				     type_text(f, tt, sizeof(tt)));
		k->kind = G_MSG;
		k->kids = calloc(2, sizeof(*k->kids));
		if (!k->kids)
			return bfail(b, "out of memory");
		k->n_kids = 2;
		node_tag(&k->kids[0], &sec);
		k->kids[0].kind = G_NOW_SEC;
		k->kids[0].spec = k->spec;
		node_tag(&k->kids[1], &nsec);
		k->kids[1].kind = G_NOW_NSEC;
		k->kids[1].spec = k->spec;
		return 0;
	}
	if (!pt_is_int(f->type) || !pt_wide(f->type))
		return bfail(b, "%s is %s, now needs a google.protobuf.Timestamp or a 64-bit "
			     "integer (unix ms)", f->name, type_text(f, tt, sizeof(tt)));
	k->kind = G_NOW_MS;
	return 0;
}

/* Fills leaf k of field f from generator text gen. */
static int set_gen(struct build *b, const struct field_info *f, struct node *k, const char *gen)
{
	char tt[160], x[128], y[128];
	const char *arg = strchr(gen, ':');
	size_t kl = arg ? (size_t)(arg - gen) : strlen(gen);
	bool num = pt_is_int(f->type) || pt_is_float(f->type);

	arg = arg ? arg + 1 : "";
	type_text(f, tt, sizeof(tt));
	if (f->type == PT_GROUP)
		return bfail(b, "%s is a group, which blast does not generate", f->name);

#define IS(name) (kl == sizeof(name) - 1 && !memcmp(gen, name, kl))
	if (IS("seq") && !gen[kl]) {
		if (!pt_is_int(f->type))
			return bfail(b, "%s is %s, seq needs an integer", f->name, tt);
		k->kind = G_SEQ;
		return 0;
	}
	if (IS("now") && !gen[kl])
		return set_now(b, f, k);
	if (f->type == PT_MESSAGE && !IS("const"))
		return msg_whole_fail(b, f);
	if (IS("uniform") && gen[kl]) {
		if (!num)
			return bfail(b, "%s is %s, uniform needs a number (an integer, float or "
				     "double)", f->name, tt);
		if (two_args(arg, x, y, sizeof(x)))
			return bfail(b, "uniform needs LO:HI (like uniform:0:10)");
		if (pt_is_float(f->type)) {
			double lo, hi;
			if (parse_double(x, &lo) || parse_double(y, &hi))
				return bfail(b, "uniform needs two numbers LO:HI (like uniform:0:10)");
			if (lo > hi)
				return bfail(b, "uniform LO %.*s is more than HI %.*s", SHOW, x, SHOW, y);
			k->kind = G_UNIFORM_FLT;
			k->a = lo;
			k->b = hi - lo;
			if (!isfinite(k->b))
				return bfail(b, "uniform range is too wide");
			return 0;
		}
		uint64_t lo, hi;
		if (parse_int(f->type, x, &lo))
			return int_range_fail(b, f, x);
		if (parse_int(f->type, y, &hi))
			return int_range_fail(b, f, y);
		if (k->usig ? lo > hi : (int64_t)lo > (int64_t)hi)
			return bfail(b, "uniform LO %.*s is more than HI %.*s", SHOW, x, SHOW, y);
		k->kind = G_UNIFORM_INT;
		k->lo = lo;
		k->span = hi - lo; /* two's complement: right for signed too */
		return 0;
	}
	if (IS("normal") && gen[kl]) {
		double mean, sd;
		if (!num)
			return bfail(b, "%s is %s, normal needs a number (an integer, float or "
				     "double)", f->name, tt);
		if (two_args(arg, x, y, sizeof(x)) || parse_double(x, &mean) || parse_double(y, &sd))
			return bfail(b, "normal needs two numbers MEAN:SD (like normal:20:5)");
		if (sd < 0)
			return bfail(b, "normal SD %.*s must not be negative", SHOW, y);
		k->kind = G_NORMAL;
		k->a = mean;
		k->b = sd;
		return 0;
	}
	if (IS("bernoulli") && gen[kl]) {
		double p;
		if (f->type != PT_BOOL)
			return bfail(b, "%s is %s, bernoulli needs a bool", f->name, tt);
		if (parse_double(arg, &p) || p < 0 || p > 1)
			return bfail(b, "bernoulli needs a probability P from 0 to 1 (like "
				     "bernoulli:0.01)");
		k->kind = G_BERNOULLI;
		k->a = p;
		return 0;
	}
	if (IS("choice") && gen[kl])
		return set_choice(b, f, k, arg);
	if (IS("bytes") && gen[kl]) {
		uint64_t n;
		if (f->type != PT_BYTES && f->type != PT_STRING)
			return bfail(b, "%s is %s, bytes needs a bytes or string field", f->name, tt);
		if (parse_int(PT_UINT32, arg, &n) || n > BYTES_GEN_MAX)
			return bfail(b, "bytes needs a length N from 0 to %u", BYTES_GEN_MAX);
		k->kind = G_BYTES;
		k->n_bytes = (uint32_t)n;
		return 0;
	}
	if (IS("const") && gen[kl])
		return set_const(b, f, k, arg);
#undef IS
	/* Anything else is a value: false, 3.5, hello, an enum name. */
	return set_const(b, f, k, gen);
}

/* ---- setup: the tree ---- */

static void node_free(struct node *k)
{
	for (uint32_t i = 0; i < k->n_kids; i++)
		node_free(&k->kids[i]);
	free(k->kids);
	free(k->blob);
	free(k->offs);
}

static struct node *kid_find(struct node *parent, uint32_t number)
{
	for (uint32_t i = 0; i < parent->n_kids; i++)
		if (parent->kids[i].number == number)
			return &parent->kids[i];
	return NULL;
}

static struct node *kid_add(struct node *parent, const struct field_info *f, int spec)
{
	struct node *more = realloc(parent->kids, (parent->n_kids + 1) * sizeof(*more));
	struct node *k;

	if (!more)
		return NULL;
	parent->kids = more;
	k = &more[parent->n_kids++];
	memset(k, 0, sizeof(*k));
	k->spec = spec;
	node_tag(k, f);
	return k;
}

/* The --field that made the first leaf under path step k. */
static int first_spec(const struct node *k)
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

static int add_field(struct build *b, struct node *root, const struct msg_ref *top, int idx)
{
	const struct field_spec *fs = &b->o->fields[idx];
	const char *name = fs->name, *dot;
	struct msg_ref m = *top;
	struct node *cur = root;
	struct field_info f;
	int depth = 0, r;

	b->spec = fs;
	for (;; name = dot + 1) {
		size_t len;
		struct node *k;

		dot = strchr(name, '.');
		len = dot ? (size_t)(dot - name) : strlen(name);
		if (!len)
			return bfail(b, "%.*s is not a field name (a, or a.b for a nested field)",
				     SHOW, fs->name);
		if (++depth > PATH_DEPTH_MAX)
			return bfail(b, "nested deeper than %d fields", PATH_DEPTH_MAX);
		if ((r = field_need(b, &m, name, len, &f)))
			return r;
		k = kid_find(cur, f.number);
		if (k && k->spec >= 0) {
			const struct field_spec *o = &b->o->fields[k->spec];
			if (!dot && !strcmp(o->name, fs->name))
				return bfail(b, "%s is given twice", fs->name);
			return bfail(b, "%.*s is already set by --field %.*s=%.*s",
				     (int)(name + len - fs->name), fs->name, SHOW, o->name, SHOW,
				     o->gen);
		}
		if (!dot) {
			if (k) { /* a path step of an earlier, deeper --field */
				const struct field_spec *o = &b->o->fields[first_spec(k)];
				return bfail(b, "%s is already set through its fields by --field "
					     "%.*s=%.*s", fs->name, SHOW, o->name, SHOW, o->gen);
			}
			k = kid_add(cur, &f, idx);
			if (!k)
				return bfail(b, "out of memory");
			return set_gen(b, &f, k, fs->gen);
		}
		if (f.type != PT_MESSAGE) {
			char tt[160];
			return bfail(b, "%.*s is %s, not a message", (int)(name + len - fs->name),
				     fs->name, type_text(&f, tt, sizeof(tt)));
		}
		if (!k) {
			k = kid_add(cur, &f, -1);
			if (!k)
				return bfail(b, "out of memory");
			k->kind = G_MSG;
		}
		cur = k;
		m = f.msg;
	}
}

static int node_cmp(const void *a, const void *b)
{
	const struct node *x = a, *y = b;

	return x->number < y->number ? -1 : x->number > y->number;
}

/* Sorts fields by number (the order protobuf encoders use) and works out
 * the most bytes each can take. */
static void plan_finish(struct payload_gen *g, struct node *k, bool root)
{
	size_t body = 0;

	if (k->kind == G_NOW_SEC || k->kind == G_NOW_NSEC || k->kind == G_NOW_MS)
		g->uses_now = true;
	switch (k->kind) {
	case G_MSG:
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
		k->len_len = (uint8_t)varint_len(body);
		k->max = k->tag_len + k->len_len + body;
		return;
	case G_CONST:
	case G_CHOICE:
		return; /* max set when encoded */
	case G_BYTES:
		k->max = k->tag_len + varint_len(k->n_bytes) + k->n_bytes;
		return;
	default:
		k->max = k->tag_len + (k->wire == WT_I32 ? 4u : k->wire == WT_I64 ? 8u : 10u);
		return;
	}
}

struct payload_gen *payload_gen_new(const struct blast_opts *o, char *err, size_t errlen)
{
	struct schema s = { 0 };
	struct build b = { .o = o, .s = &s, .err = err, .errlen = errlen };
	struct payload_gen *g = NULL;
	struct msg_ref top;

	if (errlen)
		err[0] = '\0';
	if (!o->payload_proto) {
		bfail(&b, "no --payload-proto message given");
		return NULL;
	}
	if (o->payload_proto_desc && schema_load(&b, o->payload_proto_desc))
		goto fail;
	if (msg_find(&b, &top))
		goto fail;
	g = calloc(1, sizeof(*g));
	if (!g || !(g->name = strdup(top.name))) {
		bfail(&b, "out of memory");
		goto fail;
	}
	g->root.kind = G_MSG;
	g->root.spec = -1;
	for (uint32_t i = 0; i < o->n_fields; i++)
		if (add_field(&b, &g->root, &top, (int)i))
			goto fail;
	b.spec = NULL;
	plan_finish(g, &g->root, true);
	g->max = g->root.max;
	g->scratch = malloc(g->max ? g->max : 1);
	if (!g->scratch) {
		bfail(&b, "out of memory");
		goto fail;
	}
	payload_gen_seed(g, 0);
	schema_free(&s);
	return g;
fail:
	payload_gen_free(g);
	schema_free(&s);
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
