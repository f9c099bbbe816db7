/* The protobuf wire format, as blast's generators write it: field types,
 * wire types, and the writers for varints, zigzag and little-endian fixed
 * values. Inline: the per-message path (pb_encode.c) calls them for every
 * field, and setup (pb_fields.c) uses the same ones to pre-encode
 * constants, so both agree byte for byte. */
#ifndef BLAST_PAYLOAD_PB_WIRE_H
#define BLAST_PAYLOAD_PB_WIRE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Field types, numbered as FieldDescriptorProto.Type is. */
enum pb_type {
	PB_DOUBLE = 1,
	PB_FLOAT,
	PB_INT64,
	PB_UINT64,
	PB_INT32,
	PB_FIXED64,
	PB_FIXED32,
	PB_BOOL,
	PB_STRING,
	PB_GROUP,
	PB_MESSAGE,
	PB_BYTES,
	PB_UINT32,
	PB_ENUM,
	PB_SFIXED32,
	PB_SFIXED64,
	PB_SINT32,
	PB_SINT64,
	PB__COUNT,
};

enum pb_wire { PB_WIRE_VARINT = 0, PB_WIRE_I64 = 1, PB_WIRE_LEN = 2, PB_WIRE_I32 = 5 };

static inline int pb_type_wire(int t)
{
	switch (t) {
	case PB_DOUBLE:
	case PB_FIXED64:
	case PB_SFIXED64:
		return PB_WIRE_I64;
	case PB_FLOAT:
	case PB_FIXED32:
	case PB_SFIXED32:
		return PB_WIRE_I32;
	case PB_STRING:
	case PB_BYTES:
	case PB_MESSAGE:
		return PB_WIRE_LEN;
	default:
		return PB_WIRE_VARINT;
	}
}

/* Integer types a number generator may fill (not bool or enum). */
static inline bool pb_type_is_int(int t)
{
	switch (t) {
	case PB_INT64:
	case PB_UINT64:
	case PB_INT32:
	case PB_FIXED64:
	case PB_FIXED32:
	case PB_UINT32:
	case PB_SFIXED32:
	case PB_SFIXED64:
	case PB_SINT32:
	case PB_SINT64:
		return true;
	default:
		return false;
	}
}

static inline bool pb_type_is_float(int t)
{
	return t == PB_DOUBLE || t == PB_FLOAT;
}

static inline bool pb_type_unsigned(int t)
{
	return t == PB_UINT64 || t == PB_UINT32 || t == PB_FIXED64 || t == PB_FIXED32 ||
	       t == PB_BOOL;
}

static inline bool pb_type_wide(int t)
{
	return t == PB_INT64 || t == PB_UINT64 || t == PB_FIXED64 || t == PB_SFIXED64 ||
	       t == PB_SINT64;
}

static inline unsigned pb_varint_len(uint64_t v)
{
	unsigned n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* The writers below never check room: the caller sized the buffer from
 * the plan's worst case (struct pb_node.max). */
static inline uint8_t *pb_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline uint8_t *pb_put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + n;
}

/* The integer that goes on the wire for a value of type t: u holds integer
 * values (two's complement for signed ones), d floating ones. */
static inline uint64_t pb_wire_value(int t, uint64_t u, double d)
{
	switch (t) {
	case PB_INT32:
	case PB_ENUM:
		/* Negative int32 is sign-extended to ten bytes (encoding spec). */
		return (uint64_t)(int64_t)(int32_t)u;
	case PB_UINT32:
	case PB_FIXED32:
	case PB_SFIXED32:
		return (uint32_t)u;
	case PB_SINT32: {
		uint32_t s = (uint32_t)u;
		return (uint32_t)((s << 1) ^ (uint32_t)-(s >> 31));
	}
	case PB_SINT64:
		return (u << 1) ^ (uint64_t)-(u >> 63);
	case PB_BOOL:
		return u != 0;
	case PB_FLOAT: {
		float f = (float)d;
		uint32_t bits;
		memcpy(&bits, &f, 4);
		return bits;
	}
	case PB_DOUBLE: {
		uint64_t bits;
		memcpy(&bits, &d, 8);
		return bits;
	}
	default:
		return u;
	}
}

/* Writes w, a pb_wire_value, as wire type wire (not PB_WIRE_LEN). */
static inline uint8_t *pb_put_scalar(uint8_t *p, int wire, uint64_t w)
{
	if (wire == PB_WIRE_VARINT)
		return pb_put_varint(p, w);
	return pb_put_le(p, w, wire == PB_WIRE_I32 ? 4 : 8);
}

#endif
