/* Kafka's SASL requests and responses (contract in kafka.h):
 * SaslHandshake v1 (names the mechanism; v1 means the tokens then travel
 * in SaslAuthenticate, KIP-152) and SaslAuthenticate v0/v1, neither
 * flexible. SaslHandshakeRequest.json, SaslAuthenticateRequest.json and
 * their responses. */
#include <errno.h>
#include <string.h>

#include "kafka.h"
#include "kafka_read.h"
#include "kafka_wire.h"
#include "rbuf.h"
#include "wbuf.h"

/* Size (patched by done), then request header v1: key, version,
 * correlation id, client id. */
static size_t header(struct wbuf *w, int16_t key, int16_t version, int32_t corr,
		     const char *client_id)
{
	size_t size_off = wb_reserve(w, KAFKA_SIZE_LEN);
	size_t n = strlen(client_id);

	wb_u16be(w, (uint16_t)key);
	wb_u16be(w, (uint16_t)version);
	wb_u32be(w, (uint32_t)corr);
	wb_u16be(w, (uint16_t)n);
	wb_bytes(w, client_id, n);
	return size_off;
}

static ssize_t done(struct wbuf *w, size_t size_off)
{
	if (w->overflow)
		return -ENOSPC;
	wb_patch_u32be(w, size_off, (uint32_t)(wb_len(w) - size_off - KAFKA_SIZE_LEN));
	return (ssize_t)wb_len(w);
}

ssize_t kafka_encode_sasl_handshake(uint8_t *out, size_t cap, int32_t corr, const char *client_id,
				    const char *mechanism)
{
	struct wbuf w;
	size_t n = strlen(mechanism);

	if (strlen(client_id) > INT16_MAX || n > INT16_MAX)
		return -EINVAL;
	wb_init(&w, out, cap);
	size_t off = header(&w, KAFKA_API_SASL_HANDSHAKE, 1, corr, client_id);
	wb_u16be(&w, (uint16_t)n);
	wb_bytes(&w, mechanism, n);
	return done(&w, off);
}

ssize_t kafka_encode_sasl_authenticate(uint8_t *out, size_t cap, int16_t version, int32_t corr,
				       const char *client_id, const uint8_t *auth, size_t n)
{
	struct wbuf w;

	if (version < KAFKA_SASL_AUTH_MIN || version > KAFKA_SASL_AUTH_MAX ||
	    strlen(client_id) > INT16_MAX || n > INT32_MAX)
		return -EINVAL;
	wb_init(&w, out, cap);
	size_t off = header(&w, KAFKA_API_SASL_AUTHENTICATE, version, corr, client_id);
	wb_u32be(&w, (uint32_t)n);
	wb_bytes(&w, auth, n);
	return done(&w, off);
}

int kafka_parse_sasl_handshake(const uint8_t *body, size_t len, int16_t *error, char *mechs,
			       size_t cap)
{
	struct rbuf r;
	size_t used = 0;

	rb_init(&r, body, len);
	*error = rb_i16be(&r);
	size_t cnt = kafka_rd_array(&r, false, 2);
	if (cap)
		mechs[0] = 0;
	for (size_t i = 0; i < cnt && !r.bad; i++) {
		const char *s;
		size_t n;
		kafka_rd_str(&r, false, false, &s, &n);
		/* "A, B, C" for the one-line refusal; what does not fit is cut. */
		if (!r.bad && cap && used + n + 3 < cap) {
			if (used) {
				memcpy(mechs + used, ", ", 2);
				used += 2;
			}
			memcpy(mechs + used, s, n);
			used += n;
			mechs[used] = 0;
		}
	}
	return rb_done(&r) ? -EPROTO : 0;
}

int kafka_parse_sasl_authenticate(const uint8_t *body, size_t len, int16_t version,
				  struct kafka_sasl_auth_resp *out)
{
	struct rbuf r;

	if (version < KAFKA_SASL_AUTH_MIN || version > KAFKA_SASL_AUTH_MAX)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	rb_init(&r, body, len);
	out->error = rb_i16be(&r);
	kafka_rd_str(&r, false, true, &out->message, &out->message_len);
	out->auth = kafka_rd_span(&r, false, true, true, &out->auth_len);
	if (version >= 1)
		out->session_lifetime_ms = rb_i64be(&r);
	return rb_done(&r) ? -EPROTO : 0;
}
