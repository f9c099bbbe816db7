/* Protobuf payloads (--payload-proto, --field): a generator built once from
 * a message descriptor (compiled in, or read from a protoc -o FILE.desc) and
 * the --field list, then used per message to encode a fresh payload with
 * blast's own wire encoder. No code per message type. */
#ifndef BLAST_PAYLOAD_PROTOBUF_H
#define BLAST_PAYLOAD_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/opts.h"

struct payload_gen;

/* Finds o->payload_proto (in o->payload_proto_desc when given, else among
 * the compiled-in messages: TagData, Alive) and checks every --field
 * against it. Returns the generator, seeded with 0; or NULL with a
 * one-line reason in err (no "blast: " prefix, no newline). Reads the .desc
 * file, so call it once per worker after fork rather than per message. */
struct payload_gen *payload_gen_new(const struct blast_opts *o, char *err, size_t errlen);

/* Restarts the random generators from seed (give each worker its own, e.g.
 * its id), so workers do not send the same random sequence. */
void payload_gen_seed(struct payload_gen *g, uint64_t seed);

/* Encodes one message with sequence number seq ({seq}, the seq generator)
 * into out. Returns the bytes written (0 is a valid, empty message), or
 * -ENOSPC when it does not fit in cap; never writes past cap. Allocates
 * nothing. */
ssize_t payload_gen_fill(struct payload_gen *g, uint64_t seq, uint8_t *out, size_t cap);

/* Most bytes payload_gen_fill can write: cap >= this never gets -ENOSPC. */
size_t payload_gen_max_size(const struct payload_gen *g);

/* Full name of the message, like "TagData" or "demo.Reading". */
const char *payload_gen_name(const struct payload_gen *g);

void payload_gen_free(struct payload_gen *g);

#endif
