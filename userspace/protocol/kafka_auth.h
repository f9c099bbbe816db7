/* A worker's Kafka connection authenticating: the SASL exchange
 * (kafka_sasl.h) driven from the connection's hello and frames, before
 * any Metadata or Produce goes on it. Its time is the connection's
 * protocol stage (HS_PROTO). */
#ifndef BLAST_KAFKA_AUTH_H
#define BLAST_KAFKA_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/worker.h"
#include "protocol/kafka_sasl.h"

#define KAUTH_REQ_MAX KSASL_REQ_MAX

struct kauth {
	struct ksasl k;
	uint8_t owed[KAUTH_REQ_MAX]; /* a request waiting for the send in flight */
	uint32_t owed_len;
};

/* The connection's hello: its SaslHandshake into out (bytes), with *a
 * made anew; 0 when o asks for no SASL; < 0 on failure (counted). cache:
 * the worker's SCRAM key, shared by its connections. */
ssize_t kauth_hello(struct worker *w, struct conn *c, int16_t auth_version,
		    struct scram_cache *cache, struct kauth **a, uint8_t *out, size_t cap);
/* A response frame while authenticating: sends the next request, or
 * marks the connection ready once done (and frees *a). 0, or -1 when the
 * connection was failed (the broker's refusal counted by its Kafka error
 * name, blast's own by sasl_failed; the first one's words are the run's
 * note). */
int kauth_on_frame(struct worker *w, struct conn *c, struct kauth **a, const uint8_t *frame,
		   size_t len);
/* Sends the request that waited for the connection's send to finish. */
void kauth_flush(struct worker *w, struct conn *c, struct kauth *a);
void kauth_free(struct kauth **a);

#endif
