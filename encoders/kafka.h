/* Kafka wire encoders and decoders for a producer: ApiVersions, Metadata,
 * Produce with RecordBatch v2, and their responses. Pure: no I/O, no
 * globals, no allocation (gzip excepted, see kafka_batch_end).
 *
 * Encoders write into caller-owned buffers and return bytes written, or
 * -ENOSPC when cap is too small (never writing past out + cap), or -EINVAL
 * for values the protocol forbids. Every request starts with its int32 Size
 * and request header (v1, or v2 with tagged fields for flexible versions).
 *
 * Decoders never read past the bytes they are given, whatever they are;
 * malformed input is -EPROTO. */
#ifndef BLAST_KAFKA_H
#define BLAST_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "wbuf.h"

enum kafka_api_key {
	KAFKA_API_PRODUCE = 0,
	KAFKA_API_METADATA = 3,
	KAFKA_API_SASL_HANDSHAKE = 17,
	KAFKA_API_API_VERSIONS = 18,
	KAFKA_API_SASL_AUTHENTICATE = 36,
};

/* The versions this code speaks, per API (inclusive). */
#define KAFKA_PRODUCE_MIN 3 /* RecordBatch v2 needs Produce >= 3 */
#define KAFKA_PRODUCE_MAX 9
#define KAFKA_METADATA_MIN 1
#define KAFKA_METADATA_MAX 12
#define KAFKA_API_VERSIONS_MIN 0
#define KAFKA_API_VERSIONS_MAX 3
#define KAFKA_SASL_AUTH_MIN 0 /* v2+ is flexible: not spoken */
#define KAFKA_SASL_AUTH_MAX 1

/* Is this (api, version) a flexible version (compact strings/arrays,
 * tagged fields, request header v2 / response header v1)? */
bool kafka_is_flexible(int16_t api_key, int16_t version);

/* ---- requests ---- */

/* v3+ names the client software: KAFKA_CLIENT_SOFTWARE_NAME at version
 * (the caller's release, e.g. BLAST_VERSION; unused below v3). */
ssize_t kafka_encode_api_versions(uint8_t *out, size_t cap, int16_t version, int32_t corr,
				  const char *client_id, const char *software_version);
/* Metadata for the given topics (n = 0: all topics), no auto-creation. */
ssize_t kafka_encode_metadata(uint8_t *out, size_t cap, int16_t version, int32_t corr,
			      const char *client_id, const char *const *topics, size_t n);

struct kafka_header {
	const char *key;
	size_t key_len;
	const uint8_t *value; /* NULL = null value */
	size_t value_len;
};

/* A Produce request built in place: begin, then for each partition
 * partition_begin + batch_begin + batch_add... + batch_end, then end.
 * One topic per request (blast produces to one topic). Errors are sticky:
 * after a failed call the rest return the same error. */
struct kafka_produce {
	struct wbuf w;
	int16_t version;
	bool flexible;
	int err;              /* first error, 0 if none */
	size_t size_off;      /* request Size field */
	size_t nparts_off;    /* partition array count (patched at end) */
	uint32_t n_parts;
	/* Current batch. */
	size_t records_size_off; /* the partition's records bytes length */
	size_t batch_off;        /* first byte of the RecordBatch (baseOffset) */
	size_t records_off;      /* first record */
	int64_t first_ts, max_ts;
	int32_t n_records;
	uint8_t compression;     /* 0 none, 1 gzip */
	uint8_t *scratch;        /* gzip: caller-provided buffer for the compressed records */
	size_t scratch_cap;
};

int kafka_produce_begin(struct kafka_produce *p, uint8_t *out, size_t cap, int16_t version,
			int32_t corr, const char *client_id, int16_t acks, int32_t timeout_ms,
			const char *topic, size_t topic_len);
int kafka_produce_partition_begin(struct kafka_produce *p, int32_t partition);
/* compression: 0 none, 1 gzip (then scratch must hold the compressed
 * records; it is used by batch_end). producer id -1, epoch -1, base
 * sequence -1: not idempotent. */
int kafka_batch_begin(struct kafka_produce *p, int64_t first_timestamp_ms, uint8_t compression,
		      uint8_t *scratch, size_t scratch_cap);
/* key NULL = null key; value NULL = null value. */
int kafka_batch_add(struct kafka_produce *p, int64_t timestamp_ms, const uint8_t *key,
		    size_t key_len, const uint8_t *value, size_t value_len,
		    const struct kafka_header *headers, size_t n_headers);
/* Patches batchLength, lastOffsetDelta, maxTimestamp, recordCount and the
 * CRC-32C (over attributes..end); gzip compresses the records first. */
int kafka_batch_end(struct kafka_produce *p);
/* Patches the counts and Size; returns the request's total length. */
ssize_t kafka_produce_end(struct kafka_produce *p);
/* Scratch bytes gzip may need for a records section of records_len bytes
 * (deflate's worst case plus the gzip wrapper). */
size_t kafka_gzip_bound(size_t records_len);
/* Bytes a record with these sizes takes at most (for batch planning). */
size_t kafka_record_size_max(size_t key_len, size_t value_len, const struct kafka_header *h,
			     size_t n_headers);

/* SaslHandshake v1 naming the mechanism ("SCRAM-SHA-256"). */
ssize_t kafka_encode_sasl_handshake(uint8_t *out, size_t cap, int32_t corr, const char *client_id,
				    const char *mechanism);
/* SaslAuthenticate v0 or v1 carrying one SASL message. */
ssize_t kafka_encode_sasl_authenticate(uint8_t *out, size_t cap, int16_t version, int32_t corr,
				       const char *client_id, const uint8_t *auth, size_t n);

/* ---- responses ---- */

/* Framing: > 0 total frame length (4-byte Size included) once the Size is
 * there, 0 need more bytes, -EPROTO negative size, -EMSGSIZE over max. */
ssize_t kafka_frame_total(const uint8_t *buf, size_t len, size_t max);

/* Response header: correlation id, and (flexible) skips tagged fields.
 * *body points after the header inside frame. */
int kafka_parse_response_header(const uint8_t *frame, size_t len, bool flexible, int32_t *corr,
				const uint8_t **body, size_t *body_len);

/* SaslHandshake response body: the error code, and the mechanisms the
 * broker enables as "A, B" into mechs (cut to cap). 0 or -EPROTO. */
int kafka_parse_sasl_handshake(const uint8_t *body, size_t len, int16_t *error, char *mechs,
			       size_t cap);
/* SaslAuthenticate v0/v1 response body. Spans point into body; message
 * and auth are NULL when null. 0, -EPROTO or -EINVAL (version). */
struct kafka_sasl_auth_resp {
	int16_t error;
	const char *message;
	size_t message_len;
	const uint8_t *auth;
	size_t auth_len;
	int64_t session_lifetime_ms; /* v1; 0 = no re-authentication asked */
};
int kafka_parse_sasl_authenticate(const uint8_t *body, size_t len, int16_t version,
				  struct kafka_sasl_auth_resp *out);

struct kafka_api_range {
	int16_t key, min, max;
};
/* ApiVersions response body. Fills up to cap ranges, *n = how many the
 * broker listed (may exceed cap: the rest are skipped). */
int kafka_parse_api_versions(const uint8_t *body, size_t len, int16_t version, int16_t *error,
			     struct kafka_api_range *out, size_t cap, size_t *n);
/* Newest version in [our_min, our_max] the broker also supports, -1 if none. */
int16_t kafka_pick_version(const struct kafka_api_range *r, size_t n, int16_t key, int16_t our_min,
			   int16_t our_max);

/* Metadata response body, delivered through callbacks (a callback
 * returning < 0 stops the parse and that value is returned). Strings are
 * not NUL-terminated. */
struct kafka_md_cb {
	int (*broker)(void *ctx, int32_t node_id, const char *host, size_t host_len, int32_t port);
	int (*partition)(void *ctx, const char *topic, size_t topic_len, int16_t topic_error,
			 int32_t partition, int16_t partition_error, int32_t leader);
	/* A topic with an error and no partitions also calls partition() with
	 * partition -1. */
	void *ctx;
};
int kafka_parse_metadata(const uint8_t *body, size_t len, int16_t version, const struct kafka_md_cb *cb);

/* Produce response body: one callback per partition. */
typedef int (*kafka_produce_cb)(void *ctx, const char *topic, size_t topic_len, int32_t partition,
				int16_t error, int64_t base_offset);
int kafka_parse_produce(const uint8_t *body, size_t len, int16_t version, kafka_produce_cb cb,
			void *ctx);

/* RecordBatch v2 decoding (tests, captures, fuzzing): checks magic, lengths
 * and the CRC, decompresses gzip into scratch, and calls cb per record. */
struct kafka_record_view {
	int64_t offset_delta;
	int64_t timestamp_delta;
	const uint8_t *key; /* NULL = null */
	size_t key_len;
	const uint8_t *value; /* NULL = null */
	size_t value_len;
	size_t n_headers;
	const uint8_t *headers; /* raw header bytes, walk with kafka_next_header */
	size_t headers_len;
};
int kafka_parse_record_batch(const uint8_t *buf, size_t len, uint8_t *scratch, size_t scratch_cap,
			     int (*cb)(void *ctx, const struct kafka_record_view *r), void *ctx,
			     size_t *consumed);
/* Iterates a record's headers: returns 1 with *h filled, 0 at the end,
 * -EPROTO when malformed. *pos starts at 0. */
int kafka_next_header(const struct kafka_record_view *r, size_t *pos, struct kafka_header *h);

/* ---- names and rules ---- */

/* "NOT_LEADER_OR_FOLLOWER", "UNKNOWN_TOPIC_OR_PARTITION", ... as the Java
 * client names them; "UNKNOWN_SERVER_ERROR" for codes not in the table. */
const char *kafka_error_name(int16_t code);
/* Errors after which the same records may be sent again (after a metadata
 * refresh): leadership changes, timeouts, transient broker states. */
bool kafka_error_retriable(int16_t code);
/* Errors that mean the metadata is stale. */
bool kafka_error_refresh_metadata(int16_t code);

/* The Java client's murmur2 (Utils.murmur2) and its keyed partitioner:
 * toPositive(murmur2(key)) % n. */
uint32_t kafka_murmur2(const uint8_t *data, size_t len);
int32_t kafka_partition_for_key(const uint8_t *key, size_t len, int32_t n_partitions);

#endif
