/* Kafka responses (contract in kafka.h): framing, the response header,
 * and the ApiVersions, Metadata and Produce bodies. Names as in
 * kafka_req.c ("Guide", "X.json vN").
 *
 * Bodies are read through an rbuf (rbuf.h, kafka_read.h): a read past the
 * end marks the cursor bad and returns zeros, so loops stop at the next
 * check and nothing is ever read outside the body. Array counts from the
 * wire are checked against the bytes left before any loop runs. */
#include <errno.h>

#include "kafka.h"
#include "kafka_read.h"
#include "kafka_wire.h"
#include "rbuf.h"

/* ---- framing and headers ---- */

ssize_t kafka_frame_total(const uint8_t *buf, size_t len, size_t max)
{
	int32_t size;

	if (len < KAFKA_SIZE_LEN)
		return 0;
	size = (int32_t)rb_be32(buf);
	/* Every response holds at least its correlation id. */
	if (size < 4)
		return -EPROTO;
	if (max && (size_t)size + KAFKA_SIZE_LEN > max)
		return -EMSGSIZE;
	return (ssize_t)size + KAFKA_SIZE_LEN;
}

/* Response header v0 (correlation id) or v1 (+ tagged fields). The frame
 * starts with its Size, as kafka_frame_total measured it. */
int kafka_parse_response_header(const uint8_t *frame, size_t len, bool flexible, int32_t *corr,
				const uint8_t **body, size_t *body_len)
{
	struct rbuf r;
	int32_t size, c;

	rb_init(&r, frame, len);
	size = rb_i32be(&r);
	c = rb_i32be(&r);
	kafka_rd_tags(&r, flexible);
	if (r.bad || size < 0 || (size_t)size != len - KAFKA_SIZE_LEN)
		return -EPROTO;
	if (corr)
		*corr = c;
	if (body)
		*body = r.p;
	if (body_len)
		*body_len = rb_left(&r);
	return 0;
}

/* ---- ApiVersions ---- */

/* ApiVersionsResponse.json: ErrorCode, ApiKeys [ApiKey, MinVersion,
 * MaxVersion], ThrottleTimeMs (v1+); flexible from v3. */
static int api_versions_at(const uint8_t *body, size_t len, int16_t version, int16_t *error,
			   struct kafka_api_range *out, size_t cap, size_t *n)
{
	bool flex = version >= 3;
	struct rbuf r;
	size_t cnt;
	int16_t err;

	rb_init(&r, body, len);
	err = rb_i16be(&r);
	cnt = kafka_rd_array(&r, flex, flex ? 7 : 6);
	for (size_t i = 0; i < cnt && !r.bad; i++) {
		struct kafka_api_range a;

		a.key = rb_i16be(&r);
		a.min = rb_i16be(&r);
		a.max = rb_i16be(&r);
		kafka_rd_tags(&r, flex);
		if (i < cap && out)
			out[i] = a;
	}
	if (version >= 1)
		rb_i32be(&r); /* ThrottleTimeMs */
	kafka_rd_tags(&r, flex);
	if (rb_done(&r))
		return -EPROTO;
	*error = err;
	*n = cnt;
	return 0;
}

int kafka_parse_api_versions(const uint8_t *body, size_t len, int16_t version, int16_t *error,
			     struct kafka_api_range *out, size_t cap, size_t *n)
{
	int16_t err = 0, dummy_err;
	size_t dummy_n;

	if (version < KAFKA_API_VERSIONS_MIN || version > KAFKA_API_VERSIONS_MAX)
		return -EINVAL;
	if (!error)
		error = &dummy_err;
	if (!n)
		n = &dummy_n;
	if (len >= 2)
		err = (int16_t)rb_be16(body);
	if (err != KAFKA_ERR_UNSUPPORTED_VERSION)
		return api_versions_at(body, len, version, error, out, cap, n);
	/* A broker that does not know the request's version answers in v0
	 * (KIP-511; Java's ApiVersionsResponse.parse falls back the same
	 * way). librdkafka's mock instead answers a v3 request in its own
	 * flexible shape. Either way the error code alone is the answer:
	 * retry with a lower version. */
	if (!api_versions_at(body, len, 0, error, out, cap, n) ||
	    !api_versions_at(body, len, version, error, out, cap, n))
		return 0;
	*error = err;
	*n = 0;
	return 0;
}

int16_t kafka_pick_version(const struct kafka_api_range *r, size_t n, int16_t key, int16_t our_min,
			   int16_t our_max)
{
	for (size_t i = 0; r && i < n; i++) {
		int16_t lo, hi;

		if (r[i].key != key)
			continue;
		lo = r[i].min > our_min ? r[i].min : our_min;
		hi = r[i].max < our_max ? r[i].max : our_max;
		return lo <= hi ? hi : -1;
	}
	return -1;
}

/* ---- Metadata ---- */

int kafka_parse_metadata(const uint8_t *body, size_t len, int16_t version,
			 const struct kafka_md_cb *cb)
{
	bool flex = kafka_is_flexible(KAFKA_API_METADATA, version);
	struct rbuf r;
	size_t n;

	if (version < 0 || version > KAFKA_METADATA_MAX)
		return -EINVAL;
	rb_init(&r, body, len);
	if (version >= 3)
		rb_i32be(&r); /* ThrottleTimeMs */

	n = kafka_rd_array(&r, flex, 10); /* NodeId, Host, Port at least */
	for (size_t i = 0; i < n && !r.bad; i++) {
		const char *host;
		size_t host_len;
		int32_t node, port;

		node = rb_i32be(&r);
		kafka_rd_str(&r, flex, false, &host, &host_len);
		port = rb_i32be(&r);
		if (version >= 1)
			kafka_rd_skip_str(&r, flex, true); /* Rack */
		kafka_rd_tags(&r, flex);
		if (!r.bad && cb && cb->broker) {
			int ret = cb->broker(cb->ctx, node, host, host_len, port);

			if (ret < 0)
				return ret;
		}
	}
	if (version >= 2)
		kafka_rd_skip_str(&r, flex, true); /* ClusterId */
	if (version >= 1)
		rb_i32be(&r); /* ControllerId */

	n = kafka_rd_array(&r, flex, 4);
	for (size_t i = 0; i < n && !r.bad; i++) {
		const char *topic;
		size_t topic_len, np;
		int16_t terr;

		terr = rb_i16be(&r);
		/* Null only when asked for by id (v12+). */
		kafka_rd_str(&r, flex, version >= 12, &topic, &topic_len);
		if (version >= 10)
			rb_take(&r, 16); /* TopicId */
		if (version >= 1)
			rb_u8(&r); /* IsInternal */
		np = kafka_rd_array(&r, flex, 10);
		for (size_t j = 0; j < np && !r.bad; j++) {
			int16_t perr = rb_i16be(&r);
			int32_t part = rb_i32be(&r);
			int32_t leader = rb_i32be(&r);

			if (version >= 7)
				rb_i32be(&r); /* LeaderEpoch */
			kafka_rd_skip_i32_array(&r, flex); /* ReplicaNodes */
			kafka_rd_skip_i32_array(&r, flex); /* IsrNodes */
			if (version >= 5)
				kafka_rd_skip_i32_array(&r, flex); /* OfflineReplicas */
			kafka_rd_tags(&r, flex);
			if (!r.bad && cb && cb->partition) {
				int ret = cb->partition(cb->ctx, topic, topic_len, terr, part, perr,
							leader);

				if (ret < 0)
					return ret;
			}
		}
		if (version >= 8)
			rb_i32be(&r); /* TopicAuthorizedOperations */
		kafka_rd_tags(&r, flex);
		if (!r.bad && !np && terr && cb && cb->partition) {
			int ret = cb->partition(cb->ctx, topic, topic_len, terr, -1, terr, -1);

			if (ret < 0)
				return ret;
		}
	}
	if (version >= 8 && version <= 10)
		rb_i32be(&r); /* ClusterAuthorizedOperations */
	kafka_rd_tags(&r, flex);
	return rb_done(&r);
}

/* ---- Produce response ---- */

int kafka_parse_produce(const uint8_t *body, size_t len, int16_t version, kafka_produce_cb cb,
			void *ctx)
{
	bool flex = kafka_is_flexible(KAFKA_API_PRODUCE, version);
	struct rbuf r;
	size_t nt;

	if (version < 0 || version > KAFKA_PRODUCE_MAX)
		return -EINVAL;
	rb_init(&r, body, len);
	nt = kafka_rd_array(&r, flex, 3); /* name, partitions, tags */
	for (size_t i = 0; i < nt && !r.bad; i++) {
		const char *topic;
		size_t topic_len, np;

		kafka_rd_str(&r, flex, false, &topic, &topic_len);
		np = kafka_rd_array(&r, flex, 14);
		for (size_t j = 0; j < np && !r.bad; j++) {
			int32_t part = rb_i32be(&r);
			int16_t err = rb_i16be(&r);
			int64_t base = rb_i64be(&r);

			if (version >= 2)
				rb_i64be(&r); /* LogAppendTimeMs */
			if (version >= 5)
				rb_i64be(&r); /* LogStartOffset */
			if (version >= 8) {
				size_t ne = kafka_rd_array(&r, flex, 5); /* RecordErrors */

				for (size_t k = 0; k < ne && !r.bad; k++) {
					rb_i32be(&r); /* BatchIndex */
					kafka_rd_skip_str(&r, flex, true);
					kafka_rd_tags(&r, flex);
				}
				kafka_rd_skip_str(&r, flex, true); /* ErrorMessage */
			}
			kafka_rd_tags(&r, flex); /* v10+ CurrentLeader lives here */
			if (!r.bad && cb) {
				int ret = cb(ctx, topic, topic_len, part, err, base);

				if (ret < 0)
					return ret;
			}
		}
		kafka_rd_tags(&r, flex);
	}
	if (version >= 1)
		rb_i32be(&r); /* ThrottleTimeMs */
	kafka_rd_tags(&r, flex); /* v10+ NodeEndpoints */
	return rb_done(&r);
}
