/* The plan a protobuf generator runs: built once from the message
 * descriptor and the --field list (protobuf.c, pb_fields.c), then walked
 * for every message (pb_encode.c). One node per field that is sent, with
 * its tag and constants encoded up front, so the per-message path only
 * draws random numbers and writes bytes. */
#ifndef BLAST_PAYLOAD_PB_PLAN_H
#define BLAST_PAYLOAD_PB_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a node writes. */
enum pb_gen {
	GEN_MSG,	 /* message field: its kids, length-delimited */
	GEN_CONST,	 /* pre-encoded field (tag and value), maybe empty */
	GEN_CHOICE,	 /* one of several pre-encoded fields */
	GEN_UNIFORM_INT, /* lo + [0, span] */
	GEN_UNIFORM_FLT, /* a + b * [0, 1) */
	GEN_NORMAL,	 /* mean a, sd b */
	GEN_BERNOULLI,	 /* true with probability a */
	GEN_SEQ,
	GEN_NOW_MS,   /* unix milliseconds */
	GEN_NOW_SEC,  /* Timestamp.seconds */
	GEN_NOW_NSEC, /* Timestamp.nanos */
	GEN_BYTES,    /* n_bytes random bytes (alphanumerics for a string) */
};

struct pb_node {
	uint8_t kind;	 /* enum pb_gen */
	uint8_t type;	 /* enum pb_type */
	uint8_t wire;	 /* enum pb_wire */
	uint8_t tag_len;
	uint8_t len_len; /* GEN_MSG: bytes kept for the body's length */
	bool implicit;
	bool is_int, usig, wide; /* GEN_NORMAL on an integer: how to round */
	uint8_t tag[5];
	uint32_t number;
	int spec;	 /* index of the --field that made it; -1: a path step */
	uint32_t n_bytes;
	uint32_t repeat; /* a repeated field's elements (name[N]); 0 means one */
	uint64_t lo, span;
	double a, b;
	uint8_t *blob;	 /* GEN_CONST, GEN_CHOICE */
	uint32_t *offs;	 /* GEN_CHOICE: n_choices + 1 offsets into blob */
	uint32_t n_choices;
	struct pb_node *kids;
	uint32_t n_kids;
	size_t max; /* most bytes this field takes, tag included */
};

struct payload_gen {
	struct pb_node root; /* GEN_MSG without tag: the message itself */
	uint64_t rng;
	bool uses_now;
	int64_t now_sec;
	int32_t now_nsec;
	uint8_t *scratch; /* [max]: where a fill into a short buffer goes first */
	size_t max;
	char *name;
};

#endif
