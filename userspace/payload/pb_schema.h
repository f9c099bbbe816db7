/* Protobuf schemas, read once at setup: one view over the compiled-in
 * descriptors (TagData, Alive, Timestamp) and the messages of a protoc
 * FileDescriptorSet (--payload-proto-desc FILE.desc), so the rest of setup
 * asks "which field is this, of what type" the same way for both. Also the
 * setup's error reporting, which every step of it shares. */
#ifndef BLAST_PAYLOAD_PB_SCHEMA_H
#define BLAST_PAYLOAD_PB_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/opts.h"
#include "google/protobuf/descriptor.pb-c.h"

/* User text quoted in an error is cut to this many bytes. */
#define PB_SHOW 64

/* A message type: compiled in (c) or from the .desc (d). */
struct pb_msg {
	const ProtobufCMessageDescriptor *c;
	const Google__Protobuf__DescriptorProto *d;
	const char *name; /* full name, no leading dot */
	bool proto3;	  /* d: declared in a proto3 file */
};

struct pb_enum {
	const ProtobufCEnumDescriptor *c;
	const Google__Protobuf__EnumDescriptorProto *d;
	const char *name;
};

/* One field of a message, whichever kind of descriptor it came from. */
struct pb_field {
	const char *name;
	uint32_t number;
	uint8_t type;  /* enum pb_type */
	bool repeated;
	bool implicit; /* proto3 without presence: a zero value is not sent */
	struct pb_msg msg;
	struct pb_enum en;
};

struct pb_desc_type;

/* The .desc, unpacked, with its messages and enums under their full
 * names. Empty when the message is compiled in. */
struct pb_schema {
	Google__Protobuf__FileDescriptorSet *set;
	struct pb_desc_type *types;
	size_t n_types, cap_types;
};

/* A generator being built: what it is asked for, and where a failure
 * says why. */
struct pb_build {
	const struct blast_opts *o;
	struct pb_schema *s;
	char *err;
	size_t errlen;
	const struct field_spec *spec; /* the --field being checked, or NULL */
};

/* Writes the reason into b->err, after "--field NAME=GEN: " while a
 * --field is being checked. Returns -EINVAL, so callers can return it. */
int pb_fail(struct pb_build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "a double", "an enum Kind", "a message google.protobuf.Timestamp", for
 * errors. Returns buf. */
const char *pb_type_text(const struct pb_field *f, char *buf, size_t cap);

/* Reads the FileDescriptorSet at path into b->s. Returns 0, or <0 after
 * pb_fail. */
int pb_schema_load(struct pb_build *b, const char *path);

void pb_schema_free(struct pb_schema *s);

/* Finds the --payload-proto message: compiled in when no .desc was given,
 * else in b->s by full name, or by a name that ends one (after a dot) if
 * only one does. Returns 0, or <0 after pb_fail. */
int pb_msg_find(struct pb_build *b, struct pb_msg *m);

/* Looks up field name[0..len) in m. Returns 1 found, 0 not found, <0 after
 * pb_fail (a .desc field without a valid number or type). */
int pb_field_find(struct pb_build *b, const struct pb_msg *m, const char *name, size_t len,
		  struct pb_field *f);

/* As pb_field_find, but a missing field is an error naming m's fields.
 * Returns 0 found, or <0 after pb_fail. */
int pb_field_need(struct pb_build *b, const struct pb_msg *m, const char *name, size_t len,
		  struct pb_field *f);

#endif
