/* Kafka SASL on one broker connection (KIP-43, KIP-152): SaslHandshake
 * names the mechanism, then SaslAuthenticate carries the mechanism's
 * messages (encoders/sasl.h) until the broker and blast have each proved
 * themselves. Used the same way by the bootstrap (blocking) and by every
 * worker connection (from its frames): each response in, the next request
 * out. */
#ifndef BLAST_KAFKA_SASL_H
#define BLAST_KAFKA_SASL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/opts.h"
#include "encoders/sasl.h"

/* The longest request the exchange sends. */
#define KSASL_REQ_MAX (SASL_MSG_MAX + 128)

struct ksasl {
	struct sasl_client c;
	int16_t auth_version; /* SaslAuthenticate v0 or v1 */
	uint8_t waiting;      /* enum in kafka_sasl.c: which response comes next */
	int32_t corr;         /* the correlation id of the request in flight */
	int16_t error;        /* the broker's error code when it refused (0: none) */
	char why[400];        /* the failure in one line */
};

/* Starts the exchange o asks for: the SaslHandshake request (correlation
 * id corr) into out. Bytes, or < 0 with why set. */
ssize_t ksasl_begin(struct ksasl *k, const struct blast_opts *o, int16_t auth_version, int32_t corr,
		    uint8_t *out, size_t cap);

/* One whole response frame (Size included): the next request into out
 * (bytes > 0), 0 once authenticated, or < 0 with why (and error, when
 * the broker refused with a code) set: -EACCES refused, -EPROTO a
 * response that is malformed or answers something else. */
ssize_t ksasl_on_frame(struct ksasl *k, const uint8_t *frame, size_t len, uint8_t *out, size_t cap);

#endif
