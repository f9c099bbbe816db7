/* Protobuf schemas: the compiled-in descriptors and a .desc file behind one
 * lookup, and the setup's error text. protobuf-c parses the
 * FileDescriptorSet; blast only indexes it by full type name, resolves
 * field types against that index, and words the errors. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alive.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "payload/pb_schema.h"
#include "payload/pb_wire.h"
#include "tagdata.pb-c.h"

#define DESC_FILE_MAX (64u << 20)

static const char *const pb_type_names[PB__COUNT] = {
	[PB_DOUBLE] = "double",	    [PB_FLOAT] = "float",	[PB_INT64] = "int64",
	[PB_UINT64] = "uint64",	    [PB_INT32] = "int32",	[PB_FIXED64] = "fixed64",
	[PB_FIXED32] = "fixed32",   [PB_BOOL] = "bool",		[PB_STRING] = "string",
	[PB_GROUP] = "group",	    [PB_MESSAGE] = "message",	[PB_BYTES] = "bytes",
	[PB_UINT32] = "uint32",	    [PB_ENUM] = "enum",		[PB_SFIXED32] = "sfixed32",
	[PB_SFIXED64] = "sfixed64", [PB_SINT32] = "sint32",	[PB_SINT64] = "sint64",
};

/* protobuf-c's own numbering of the same types. */
static const uint8_t protobuf_c_types[] = {
	[PROTOBUF_C_TYPE_INT32] = PB_INT32,	  [PROTOBUF_C_TYPE_SINT32] = PB_SINT32,
	[PROTOBUF_C_TYPE_SFIXED32] = PB_SFIXED32, [PROTOBUF_C_TYPE_INT64] = PB_INT64,
	[PROTOBUF_C_TYPE_SINT64] = PB_SINT64,	  [PROTOBUF_C_TYPE_SFIXED64] = PB_SFIXED64,
	[PROTOBUF_C_TYPE_UINT32] = PB_UINT32,	  [PROTOBUF_C_TYPE_FIXED32] = PB_FIXED32,
	[PROTOBUF_C_TYPE_UINT64] = PB_UINT64,	  [PROTOBUF_C_TYPE_FIXED64] = PB_FIXED64,
	[PROTOBUF_C_TYPE_FLOAT] = PB_FLOAT,	  [PROTOBUF_C_TYPE_DOUBLE] = PB_DOUBLE,
	[PROTOBUF_C_TYPE_BOOL] = PB_BOOL,	  [PROTOBUF_C_TYPE_ENUM] = PB_ENUM,
	[PROTOBUF_C_TYPE_STRING] = PB_STRING,	  [PROTOBUF_C_TYPE_BYTES] = PB_BYTES,
	[PROTOBUF_C_TYPE_MESSAGE] = PB_MESSAGE,
};

/* Messages blast knows without a .desc file. */
static const ProtobufCMessageDescriptor *const builtin_msgs[] = {
	&tag_data__descriptor,
	&alive__descriptor,
};

/* A message or enum of the .desc, under its full name. */
struct pb_desc_type {
	char *name; /* ".pkg.Outer.Inner", as type_name spells it */
	const Google__Protobuf__DescriptorProto *msg;
	const Google__Protobuf__EnumDescriptorProto *en;
	bool proto3;
};

int pb_fail(struct pb_build *b, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!b->errlen)
		return -EINVAL;
	b->err[0] = '\0';
	if (b->spec)
		n = snprintf(b->err, b->errlen, "--field %.*s=%.*s: ", PB_SHOW, b->spec->name,
			     PB_SHOW, b->spec->gen);
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

const char *pb_type_text(const struct pb_field *f, char *buf, size_t cap)
{
	const char *t = "?";

	if (f->type < PB__COUNT && pb_type_names[f->type])
		t = pb_type_names[f->type];
	if (f->type == PB_MESSAGE)
		snprintf(buf, cap, "a message %s", f->msg.name ? f->msg.name : "?");
	else if (f->type == PB_ENUM)
		snprintf(buf, cap, "an enum %s", f->en.name ? f->en.name : "?");
	else
		snprintf(buf, cap, "%s %s%s", f->repeated ? "a" : article(t),
			 f->repeated ? "repeated " : "", t);
	if (f->repeated && (f->type == PB_MESSAGE || f->type == PB_ENUM)) {
		size_t n = strlen(buf);
		snprintf(buf + n, cap - n, " (repeated)");
	}
	return buf;
}

static int desc_add(struct pb_schema *s, const char *prefix, const char *name,
		    const Google__Protobuf__DescriptorProto *msg,
		    const Google__Protobuf__EnumDescriptorProto *en, bool proto3)
{
	struct pb_desc_type *t;
	size_t n;

	if (!name)
		return 0;
	if (s->n_types == s->cap_types) {
		size_t cap = s->cap_types ? s->cap_types * 2 : 16;
		struct pb_desc_type *more = realloc(s->types, cap * sizeof(*more));
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

static int desc_add_msg(struct pb_schema *s, const char *prefix,
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

void pb_schema_free(struct pb_schema *s)
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

int pb_schema_load(struct pb_build *b, const char *path)
{
	struct pb_schema *s = b->s;
	uint8_t *data = NULL;
	size_t len = 0;
	int r = read_file(path, &data, &len);

	if (r)
		return pb_fail(b, "--payload-proto-desc %.*s: %s", PB_SHOW, path, strerror(-r));
	s->set = google__protobuf__file_descriptor_set__unpack(NULL, len, data);
	free(data);
	if (!s->set || !s->set->n_file)
		return pb_fail(b, "--payload-proto-desc %.*s: not a FileDescriptorSet (make one with "
			       "protoc -o FILE.desc --include_imports FILE.proto)", PB_SHOW, path);
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
			return pb_fail(b, "out of memory");
	}
	return 0;
}

static const struct pb_desc_type *desc_find(const struct pb_schema *s, const char *type_name)
{
	for (size_t i = 0; i < s->n_types; i++)
		if (!strcmp(s->types[i].name, type_name))
			return &s->types[i];
	return NULL;
}

int pb_msg_find(struct pb_build *b, struct pb_msg *m)
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
		return pb_fail(b, "--payload-proto %.*s: not a compiled-in message (TagData, Alive); "
			       "describe others with --payload-proto-desc FILE.desc", PB_SHOW, want);
	}
	for (size_t i = 0; i < b->s->n_types; i++) {
		const struct pb_desc_type *t = &b->s->types[i];
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
				return pb_fail(b, "--payload-proto %.*s: more than one message in %.*s "
					       "has that name (%s, %s): give the full name",
					       PB_SHOW, want, PB_SHOW, desc, m->name, full);
			m->d = t->msg;
			m->name = full;
			m->proto3 = t->proto3;
		}
	}
	if (!hits)
		return pb_fail(b, "--payload-proto %.*s: no such message in %.*s", PB_SHOW, want,
			       PB_SHOW, desc);
	return 0;
}

/* Fills f with the type of a field of message type type_name (or enum). */
static int desc_resolve(struct pb_build *b, const struct pb_msg *m,
			const Google__Protobuf__FieldDescriptorProto *fd, struct pb_field *f)
{
	const struct pb_desc_type *t;
	char dotted[512];
	const char *tn = fd->type_name ? fd->type_name : "";

	/* protoc writes full names (".pkg.Msg"); hand-made sets may not. */
	if (tn[0] != '.') {
		snprintf(dotted, sizeof(dotted), ".%s", tn);
		tn = dotted;
	}
	t = desc_find(b->s, tn);
	if (f->type == PB_MESSAGE && t && t->msg) {
		f->msg.d = t->msg;
		f->msg.name = t->name + 1;
		f->msg.proto3 = t->proto3;
		return 0;
	}
	if (f->type == PB_ENUM && t && t->en) {
		f->en.d = t->en;
		f->en.name = t->name + 1;
		return 0;
	}
	/* A set made without --include_imports lacks the well-known types;
	 * Timestamp is the one blast needs, and it is compiled in. */
	if (f->type == PB_MESSAGE && !strcmp(tn, ".google.protobuf.Timestamp")) {
		f->msg.c = &google__protobuf__timestamp__descriptor;
		f->msg.name = google__protobuf__timestamp__descriptor.name;
		return 0;
	}
	return pb_fail(b, "%s.%s has type %s, which %.*s does not define (make it with protoc "
		       "--include_imports)", m->name, fd->name, tn + 1, PB_SHOW,
		       b->o->payload_proto_desc);
}

int pb_field_find(struct pb_build *b, const struct pb_msg *m, const char *name, size_t len,
		  struct pb_field *f)
{
	memset(f, 0, sizeof(*f));
	if (m->c) {
		for (unsigned i = 0; i < m->c->n_fields; i++) {
			const ProtobufCFieldDescriptor *fd = &m->c->fields[i];
			if (strlen(fd->name) != len || memcmp(fd->name, name, len))
				continue;
			f->name = fd->name;
			f->number = fd->id;
			f->type = fd->type < sizeof(protobuf_c_types) ? protobuf_c_types[fd->type] : 0;
			f->repeated = fd->label == PROTOBUF_C_LABEL_REPEATED;
			f->implicit = fd->label == PROTOBUF_C_LABEL_NONE &&
				      !(fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
				      f->type != PB_MESSAGE;
			if (f->type == PB_MESSAGE) {
				f->msg.c = fd->descriptor;
				f->msg.name = f->msg.c->name;
			} else if (f->type == PB_ENUM) {
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
		f->type = (int)fd->type > 0 && (int)fd->type < PB__COUNT ? (uint8_t)fd->type : 0;
		f->repeated = fd->label == GOOGLE__PROTOBUF__FIELD_DESCRIPTOR_PROTO__LABEL__LABEL_REPEATED;
		f->implicit = m->proto3 && !f->repeated && !fd->has_oneof_index &&
			      f->type != PB_MESSAGE;
		if (!fd->has_number || fd->number < 1 || fd->number > 536870911 || !f->type)
			return pb_fail(b, "%s.%s: the .desc gives it no valid number or type",
				       m->name, fd->name);
		if (f->type == PB_MESSAGE || f->type == PB_ENUM) {
			int r = desc_resolve(b, m, fd, f);
			if (r)
				return r;
		}
		return 1;
	}
	return 0;
}

/* "detached, battery_low, distance, timestamp" (cut short if long). */
static void field_list(const struct pb_msg *m, char *buf, size_t cap)
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

int pb_field_need(struct pb_build *b, const struct pb_msg *m, const char *name, size_t len,
		  struct pb_field *f)
{
	char list[256];
	int r = pb_field_find(b, m, name, len, f);

	if (r)
		return r < 0 ? r : 0;
	field_list(m, list, sizeof(list));
	return pb_fail(b, "%s has no field %.*s (its fields: %s)", m->name,
		       (int)(len > PB_SHOW ? PB_SHOW : len), name, list);
}

