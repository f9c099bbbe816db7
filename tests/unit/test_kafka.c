/* Kafka wire code: golden bytes, every cap below the size, round trips
 * through the RecordBatch decoder, every response version, truncated and
 * corrupt input, and decoders run on bytes that end at a PROT_NONE page so
 * an over-read faults.
 *
 * Vector sources: "librdkafka" is bytes librdkafka 2.0.2 (client.id blast)
 * sent to its own mock cluster (rd_kafka_mock_cluster_new, one broker,
 * topic "t" with 2 partitions), captured from the loopback interface on
 * this machine; "mock" is what that mock cluster answered, to librdkafka
 * or to this encoder. "json" vectors are built by hand from apache/kafka's
 * clients/src/main/resources/common/message JSON definitions. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "encoders/kafka.h"
#include "encoders/kafka_wire.h"
#include "t.h"
#include "encoders/wbuf.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- guard page: [page of RW][PROT_NONE page] ---- */

static uint8_t *guard_mem;
static size_t guard_page;

static int guard_init(void)
{
	guard_page = (size_t)sysconf(_SC_PAGESIZE);
	guard_mem = mmap(NULL, 5 * guard_page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_mem == MAP_FAILED)
		return -1;
	return mprotect(guard_mem + 4 * guard_page, guard_page, PROT_NONE);
}

/* n bytes ending exactly at the guard page (n <= 4 pages). */
static uint8_t *guard_slot(size_t n)
{
	return guard_mem + 4 * guard_page - n;
}

static uint8_t *guard_copy(const void *src, size_t n)
{
	uint8_t *p = guard_slot(n);

	if (n)
		memcpy(p, src, n);
	return p;
}

/* ---- captured vectors ---- */

/* librdkafka: ApiVersions v0, correlation id 2 (its fallback after v3). */
static const uint8_t rdk_api_versions_v0_req[] = {
	0x00, 0x00, 0x00, 0x0f, 0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x00, 0x05, 0x62, 0x6c, 0x61, 0x73, 0x74,
};
/* librdkafka: ApiVersions v3, correlation id 1: header v2 then
 * client_software_name "librdkafka", client_software_version "2.0.2". */
static const uint8_t rdk_api_versions_v3_req[] = {
	0x00, 0x00, 0x00, 0x22, 0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x05, 0x62, 0x6c, 0x61, 0x73, 0x74, 0x00, 0x0b, 0x6c, 0x69, 0x62,
	0x72, 0x64, 0x6b, 0x61, 0x66, 0x6b, 0x61, 0x06, 0x32, 0x2e, 0x30, 0x2e,
	0x32, 0x00,
};
/* librdkafka: Metadata v2 for topic "t", correlation id 3. */
static const uint8_t rdk_metadata_v2_req[] = {
	0x00, 0x00, 0x00, 0x16, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03,
	0x00, 0x05, 0x62, 0x6c, 0x61, 0x73, 0x74, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x01, 0x74,
};
/* librdkafka: Produce v7, acks -1, timeout 30000, topic "t" partition 1,
 * one record: key "k", value "hello", header h=hv, timestamp
 * 1700000000000, not idempotent (enable.idempotence=false). */
static const uint8_t rdk_produce_v7_req[] = {
	0x00, 0x00, 0x00, 0x79, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x04,
	0x00, 0x05, 0x62, 0x6c, 0x61, 0x73, 0x74, 0xff, 0xff, 0xff, 0xff, 0x00,
	0x00, 0x75, 0x30, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x74, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x4f, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x00, 0x00,
	0x00, 0x00, 0x02, 0x99, 0x73, 0x14, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00, 0x00, 0x01,
	0x8b, 0xcf, 0xe5, 0x68, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x22,
	0x00, 0x00, 0x00, 0x02, 0x6b, 0x0a, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x02,
	0x02, 0x68, 0x04, 0x68, 0x76,
};
/* mock: ApiVersions v0 response (correlation id 1). */
static const uint8_t mock_api_versions_v0_rsp[] = {
	0x00, 0x00, 0x00, 0x70, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00, 0x05, 0x00, 0x03, 0x00, 0x00,
	0x00, 0x02, 0x00, 0x08, 0x00, 0x00, 0x00, 0x07, 0x00, 0x09, 0x00, 0x00,
	0x00, 0x05, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x02, 0x00, 0x0b, 0x00, 0x00,
	0x00, 0x05, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x03, 0x00, 0x0d, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x03, 0x00, 0x12, 0x00, 0x00,
	0x00, 0x02, 0x00, 0x16, 0x00, 0x00, 0x00, 0x04, 0x00, 0x18, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x19, 0x00, 0x00, 0x00, 0x01, 0x00, 0x1a, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x02,
};
/* mock: ApiVersions v2 response (correlation id 2). */
static const uint8_t mock_api_versions_v2_rsp[] = {
	0x00, 0x00, 0x00, 0x74, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00, 0x05, 0x00, 0x03, 0x00, 0x00,
	0x00, 0x02, 0x00, 0x08, 0x00, 0x00, 0x00, 0x07, 0x00, 0x09, 0x00, 0x00,
	0x00, 0x05, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x02, 0x00, 0x0b, 0x00, 0x00,
	0x00, 0x05, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x03, 0x00, 0x0d, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x03, 0x00, 0x12, 0x00, 0x00,
	0x00, 0x02, 0x00, 0x16, 0x00, 0x00, 0x00, 0x04, 0x00, 0x18, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x19, 0x00, 0x00, 0x00, 0x01, 0x00, 0x1a, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
};
/* mock: ApiVersions v3 request answered UNSUPPORTED_VERSION (the mock
 * speaks 0-2), in its own flexible-ish shape. */
static const uint8_t mock_api_versions_v3_rsp[] = {
	0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x03, 0x00, 0x23, 0x01, 0x00,
	0x12, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
};
/* mock: Metadata v1 for "t" and "nope" (correlation id 4). */
static const uint8_t mock_metadata_v1_rsp[] = {
	0x00, 0x00, 0x00, 0xd8, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x09, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e,
	0x30, 0x2e, 0x31, 0x00, 0x00, 0xb6, 0xe5, 0xff, 0xff, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x74, 0x00, 0x00,
	0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x6e,
	0x6f, 0x70, 0x65, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x01,
};
/* mock: Metadata v2 for all topics (correlation id 5). */
static const uint8_t mock_metadata_v2_all_rsp[] = {
	0x00, 0x00, 0x00, 0xf1, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x09, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e,
	0x30, 0x2e, 0x31, 0x00, 0x00, 0xb6, 0xe5, 0xff, 0xff, 0x00, 0x17, 0x6d,
	0x6f, 0x63, 0x6b, 0x43, 0x6c, 0x75, 0x73, 0x74, 0x65, 0x72, 0x31, 0x35,
	0x36, 0x63, 0x62, 0x36, 0x33, 0x36, 0x32, 0x30, 0x61, 0x38, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x74, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04,
	0x6e, 0x6f, 0x70, 0x65, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x01,
};
/* mock: Metadata v2 for "t", answering librdkafka (correlation id 3). */
static const uint8_t mock_metadata_v2_rsp[] = {
	0x00, 0x00, 0x00, 0x7c, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x09, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e,
	0x30, 0x2e, 0x31, 0x00, 0x00, 0xb6, 0xe5, 0xff, 0xff, 0x00, 0x17, 0x6d,
	0x6f, 0x63, 0x6b, 0x43, 0x6c, 0x75, 0x73, 0x74, 0x65, 0x72, 0x31, 0x35,
	0x36, 0x63, 0x62, 0x36, 0x33, 0x36, 0x32, 0x30, 0x61, 0x38, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x74, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
};
/* mock: Produce v3 response, partition 0, offset 0 (correlation id 13). */
static const uint8_t mock_produce_v3_rsp[] = {
	0x00, 0x00, 0x00, 0x29, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x01, 0x74, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x04, 0xd2, 0x00, 0x00, 0x00, 0x00,
};
/* mock: Produce v7 response to librdkafka, partition 1, offset 4. */
static const uint8_t mock_produce_v7_rsp[] = {
	0x00, 0x00, 0x00, 0x31, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x01, 0x74, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x04, 0xd2, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00,
};

/* ---- requests ---- */

/* Runs enc at every cap below the size (each ending at the guard page):
 * -ENOSPC every time; then at exactly the size. */
#define CHECK_CAPS(call_with_out_cap, want, want_len)                                  \
	do {                                                                           \
		int _bad = 0;                                                          \
		for (size_t cap = 0; cap < (want_len); cap++) {                        \
			uint8_t *out = guard_slot(cap);                                \
			_bad += (call_with_out_cap) != -ENOSPC;                        \
		}                                                                      \
		CHECK_EQ_INT(_bad, 0);                                                 \
		size_t cap = (want_len);                                               \
		uint8_t *out = guard_slot(cap);                                        \
		CHECK_EQ_INT((call_with_out_cap), (want_len));                         \
		CHECK_MEM(out, (want_len), (want), (want_len));                        \
	} while (0)

static void test_api_versions_request(void)
{
	uint8_t buf[64];
	ssize_t n;

	CHECK_CAPS(kafka_encode_api_versions(out, cap, 0, 2, "blast", "0.1"), rdk_api_versions_v0_req,
		   sizeof(rdk_api_versions_v0_req));
	/* json: ApiVersionsRequest v3 = header v2, ClientSoftwareName and
	 * ClientSoftwareVersion as COMPACT_STRINGs, tagged fields. The header
	 * is byte for byte librdkafka's. */
	static const uint8_t v3[] = {
		0x00, 0x00, 0x00, 0x1b, 0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,
		0x00, 0x05, 'b', 'l', 'a', 's', 't', 0x00,
		0x06, 'b', 'l', 'a', 's', 't', 0x04, '0', '.', '1', 0x00,
	};
	CHECK_CAPS(kafka_encode_api_versions(out, cap, 3, 1, "blast", "0.1"), v3, sizeof(v3));
	CHECK_MEM(v3 + 4, 16, rdk_api_versions_v3_req + 4, 16);
	/* v1 and v2 have empty bodies too; a null client id is int16 -1. */
	static const uint8_t v1_null[] = {
		0x00, 0x00, 0x00, 0x0a, 0x00, 0x12, 0x00, 0x01, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	n = kafka_encode_api_versions(buf, sizeof(buf), 1, INT32_MAX, NULL, NULL);
	CHECK_MEM(buf, n, v1_null, sizeof(v1_null));
	CHECK_EQ_INT(kafka_encode_api_versions(buf, sizeof(buf), 4, 1, "x", "0.1"), -EINVAL);
	CHECK_EQ_INT(kafka_encode_api_versions(buf, sizeof(buf), -1, 1, "x", "0.1"), -EINVAL);
}

static void test_metadata_request(void)
{
	const char *t[] = { "t" };
	const char *t2[] = { "t", "nope" };
	uint8_t buf[128];
	ssize_t n;

	CHECK_CAPS(kafka_encode_metadata(out, cap, 2, 3, "blast", t, 1), rdk_metadata_v2_req,
		   sizeof(rdk_metadata_v2_req));

	/* json: v4 adds AllowAutoTopicCreation (false). */
	static const uint8_t v4[] = {
		0x00, 0x00, 0x00, 0x17, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07,
		0x00, 0x05, 'b', 'l', 'a', 's', 't', 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',
		0x00,
	};
	CHECK_CAPS(kafka_encode_metadata(out, cap, 4, 7, "blast", t, 1), v4, sizeof(v4));
	/* json: v8 adds both Include*AuthorizedOperations. */
	static const uint8_t v8[] = {
		0x00, 0x00, 0x00, 0x19, 0x00, 0x03, 0x00, 0x08, 0x00, 0x00, 0x00, 0x07,
		0x00, 0x05, 'b', 'l', 'a', 's', 't', 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',
		0x00, 0x00, 0x00,
	};
	CHECK_CAPS(kafka_encode_metadata(out, cap, 8, 7, "blast", t, 1), v8, sizeof(v8));
	/* json: v9 is flexible: header v2, compact array and string, tags. */
	static const uint8_t v9[] = {
		0x00, 0x00, 0x00, 0x1e, 0x00, 0x03, 0x00, 0x09, 0x00, 0x00, 0x00, 0x07,
		0x00, 0x05, 'b', 'l', 'a', 's', 't', 0x00, 0x03, 0x02, 't', 0x00,
		0x05, 'n', 'o', 'p', 'e', 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	CHECK_CAPS(kafka_encode_metadata(out, cap, 9, 7, "blast", t2, 2), v9, sizeof(v9));
	/* json: v10 puts a TopicId (uuid) before each name: zeros = by name. */
	static const uint8_t v10[] = {
		0x00, 0x00, 0x00, 0x28, 0x00, 0x03, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x07,
		0x00, 0x05, 'b', 'l', 'a', 's', 't', 0x00, 0x02,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 't', 0x00,
		0x00, 0x00, 0x00, 0x00,
	};
	CHECK_CAPS(kafka_encode_metadata(out, cap, 10, 7, "blast", t, 1), v10, sizeof(v10));
	/* json: v11 drops IncludeClusterAuthorizedOperations; all topics is a
	 * null compact array (0). */
	static const uint8_t v12_all[] = {
		0x00, 0x00, 0x00, 0x14, 0x00, 0x03, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x07,
		0x00, 0x05, 'b', 'l', 'a', 's', 't', 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	CHECK_CAPS(kafka_encode_metadata(out, cap, 12, 7, "blast", NULL, 0), v12_all,
		   sizeof(v12_all));
	/* All topics before v9: a null ARRAY (-1). */
	n = kafka_encode_metadata(buf, sizeof(buf), 1, 7, "blast", NULL, 0);
	CHECK_EQ_INT(n, 23);
	CHECK(!memcmp(buf + 19, "\xff\xff\xff\xff", 4));

	CHECK_EQ_INT(kafka_encode_metadata(buf, sizeof(buf), 0, 1, "x", t, 1), -EINVAL);
	CHECK_EQ_INT(kafka_encode_metadata(buf, sizeof(buf), 13, 1, "x", t, 1), -EINVAL);
	CHECK_EQ_INT(kafka_encode_metadata(buf, sizeof(buf), 1, 1, "x", NULL, 1), -EINVAL);
}

/* ---- Produce: a walker over our own requests ---- */

struct walk {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t w_uvarint(struct walk *w)
{
	uint64_t v = 0;

	for (int s = 0; s < 35 && w->p < w->end; s += 7) {
		uint8_t b = *w->p++;

		v |= (uint64_t)(b & 0x7f) << s;
		if (!(b & 0x80))
			return v;
	}
	w->bad = true;
	return 0;
}

static uint64_t w_be(struct walk *w, int n)
{
	uint64_t v = 0;

	if (w->end - w->p < n) {
		w->bad = true;
		return 0;
	}
	while (n--)
		v = v << 8 | *w->p++;
	return v;
}

struct batch_ref {
	int32_t partition;
	const uint8_t *batch;
	size_t len;
};

/* Walks a Produce request (ProduceRequest.json) and returns the number of
 * partitions, -1 if anything is off. */
static int walk_produce(const uint8_t *req, size_t len, int16_t version, struct batch_ref *out,
			int max)
{
	bool flex = version >= 9;
	struct walk w = { req, req + len, false };
	uint64_t n;

	if (w_be(&w, 4) != len - 4 || w_be(&w, 2) != 0 || w_be(&w, 2) != (uint64_t)version)
		return -1;
	w_be(&w, 4);                         /* correlation id */
	w.p += w_be(&w, 2);                  /* client id */
	if (flex && w_uvarint(&w) != 0)      /* header tags */
		return -1;
	if (flex ? w_uvarint(&w) != 0 : w_be(&w, 2) != 0xffff) /* null TransactionalId */
		return -1;
	w_be(&w, 2);                         /* acks */
	w_be(&w, 4);                         /* timeout */
	if ((flex ? w_uvarint(&w) - 1 : w_be(&w, 4)) != 1)
		return -1;
	w.p += flex ? w_uvarint(&w) - 1 : w_be(&w, 2); /* topic */
	n = flex ? w_uvarint(&w) - 1 : w_be(&w, 4);
	for (uint64_t i = 0; i < n && !w.bad; i++) {
		int32_t part = (int32_t)w_be(&w, 4);
		uint64_t blen = flex ? w_uvarint(&w) - 1 : w_be(&w, 4);

		if (w.bad || blen > (uint64_t)(w.end - w.p))
			return -1;
		if ((int)i < max)
			out[i] = (struct batch_ref){ part, w.p, (size_t)blen };
		w.p += blen;
		if (flex && w_uvarint(&w) != 0)
			return -1;
	}
	if (flex && (w_uvarint(&w) != 0 || w_uvarint(&w) != 0))
		return -1;
	return w.bad || w.p != w.end ? -1 : (int)n;
}

struct rec_want {
	int64_t ts_delta;
	const char *key; /* NULL = null */
	const char *value;
	size_t n_headers;
	const char *h_key, *h_value;
};

struct rec_check {
	const struct rec_want *want;
	size_t n, i;
	int bad;
};

static int rec_cb(void *ctx, const struct kafka_record_view *r)
{
	struct rec_check *c = ctx;
	const struct rec_want *w;
	struct kafka_header h;
	size_t pos = 0;

	if (c->i >= c->n) {
		c->bad++;
		return 0;
	}
	w = &c->want[c->i];
	c->bad += r->offset_delta != (int64_t)c->i || r->timestamp_delta != w->ts_delta;
	c->bad += !w->key ? r->key != NULL :
			    !r->key || r->key_len != strlen(w->key) ||
				    memcmp(r->key, w->key, r->key_len);
	c->bad += !w->value ? r->value != NULL :
			      !r->value || r->value_len != strlen(w->value) ||
				      memcmp(r->value, w->value, r->value_len);
	c->bad += r->n_headers != w->n_headers;
	if (w->n_headers) {
		c->bad += kafka_next_header(r, &pos, &h) != 1;
		c->bad += h.key_len != strlen(w->h_key) || memcmp(h.key, w->h_key, h.key_len);
		c->bad += !w->h_value ? h.value != NULL :
					h.value_len != strlen(w->h_value) ||
						memcmp(h.value, w->h_value, h.value_len);
	}
	c->i++;
	return 0;
}

/* The record of rdk_produce_v7_req. */
static const struct kafka_header hdr_hv = { "h", 1, (const uint8_t *)"hv", 2 };

static ssize_t produce_one(uint8_t *out, size_t cap, int16_t version, int32_t corr,
			   int32_t timeout, int32_t partition)
{
	struct kafka_produce p;

	kafka_produce_begin(&p, out, cap, version, corr, "blast", -1, timeout, "t", 1);
	kafka_produce_partition_begin(&p, partition);
	kafka_batch_begin(&p, 1700000000000LL, 0, NULL, 0);
	kafka_batch_add(&p, 1700000000000LL, (const uint8_t *)"k", 1, (const uint8_t *)"hello", 5,
			&hdr_hv, 1);
	kafka_batch_end(&p);
	return kafka_produce_end(&p);
}

static void test_produce_golden(void)
{
	uint8_t want[sizeof(rdk_produce_v7_req)];
	uint8_t scratch[512];
	struct batch_ref b[2];
	size_t consumed = 0;

	/* librdkafka writes partitionLeaderEpoch 0, Java and this encoder -1
	 * (Format: "-1 if unknown"); it precedes the CRC, nothing else moves. */
	memcpy(want, rdk_produce_v7_req, sizeof(want));
	memset(want + 46 + KAFKA_BATCH_OF_LEADER_EPOCH, 0xff, 4);
	CHECK_CAPS(produce_one(out, cap, 7, 4, 30000, 1), want, sizeof(want));
	/* v3 to v6 are the same bytes apart from the version (ProduceRequest.json). */
	for (int16_t v = 3; v <= 8; v++) {
		uint8_t buf[256];

		want[7] = (uint8_t)v;
		CHECK_EQ_INT(produce_one(buf, sizeof(buf), v, 4, 30000, 1), sizeof(want));
		CHECK_MEM(buf, sizeof(want), want, sizeof(want));
	}

	/* librdkafka's own batch decodes (CRC checked) to that record. */
	struct rec_want rw[] = { { 0, "k", "hello", 1, "h", "hv" } };
	struct rec_check rc = { rw, 1, 0, 0 };

	CHECK_EQ_INT(walk_produce(rdk_produce_v7_req, sizeof(rdk_produce_v7_req), 7, b, 2), 1);
	CHECK_EQ_INT(b[0].partition, 1);
	CHECK_EQ_INT(kafka_parse_record_batch(guard_copy(b[0].batch, b[0].len), b[0].len, scratch,
					      sizeof(scratch), rec_cb, &rc, &consumed),
		     0);
	CHECK_EQ_INT(consumed, b[0].len);
	CHECK_EQ_INT(rc.i, 1);
	CHECK_EQ_INT(rc.bad, 0);
}

/* Builds a request with n_parts partitions of n_recs records each, walks
 * it and decodes every batch. */
static void roundtrip(int16_t version, uint8_t compression, int n_parts, int n_recs)
{
	static uint8_t buf[1 << 16], scratch[1 << 15], dscratch[1 << 15];
	struct kafka_produce p;
	struct batch_ref refs[200];
	struct rec_want rw[8];
	ssize_t n;
	int bad = 0;

	for (int i = 0; i < n_recs; i++)
		rw[i] = (struct rec_want){ i == 3 ? -5 : i * 1000, i & 1 ? NULL : "key",
					   i == 2 ? NULL : "value value value value",
					   (size_t)(i & 1), "hk", i == 5 ? NULL : "hv" };
	CHECK_EQ_INT(kafka_produce_begin(&p, buf, sizeof(buf), version, 9, "blast", 1, 1000,
					 "topic", 5),
		     0);
	for (int part = 0; part < n_parts; part++) {
		bad += kafka_produce_partition_begin(&p, part) != 0;
		bad += kafka_batch_begin(&p, 1000000, compression, scratch, sizeof(scratch)) != 0;
		for (int i = 0; i < n_recs; i++) {
			struct kafka_header h = { rw[i].h_key, 2, (const uint8_t *)rw[i].h_value,
						  rw[i].h_value ? 2 : 0 };

			bad += kafka_batch_add(&p, 1000000 + rw[i].ts_delta,
					       (const uint8_t *)rw[i].key,
					       rw[i].key ? strlen(rw[i].key) : 0,
					       (const uint8_t *)rw[i].value,
					       rw[i].value ? strlen(rw[i].value) : 0, &h,
					       rw[i].n_headers) != 0;
		}
		bad += kafka_batch_end(&p) != 0;
	}
	n = kafka_produce_end(&p);
	CHECK(n > 0);
	CHECK_EQ_INT(bad, 0);
	if (n <= 0)
		return;
	CHECK_EQ_INT(walk_produce(buf, (size_t)n, version, refs, 200), n_parts);
	for (int i = 0; i < n_parts && i < 200; i++) {
		struct rec_check rc = { rw, (size_t)n_recs, 0, 0 };
		size_t consumed = 0;
		const uint8_t *b = refs[i].batch;

		bad += refs[i].partition != i;
		bad += (b[KAFKA_BATCH_OF_ATTRIBUTES + 1] & 7) != compression;
		bad += kafka_parse_record_batch(b, refs[i].len, dscratch, sizeof(dscratch), rec_cb,
						&rc, &consumed) != 0;
		bad += consumed != refs[i].len || rc.i != (size_t)n_recs || rc.bad;
		/* lastOffsetDelta, maxTimestamp (Format). */
		bad += b[KAFKA_BATCH_OF_LAST_OFFSET_DELTA + 3] != n_recs - 1;
		bad += b[KAFKA_BATCH_OF_MAX_TIMESTAMP + 7] !=
		       (uint8_t)(1000000 + (n_recs - 1 == 3 ? 2000 : (n_recs - 1) * 1000));
	}
	CHECK_EQ_INT(bad, 0);
}

static void test_produce_roundtrip(void)
{
	for (int16_t v = KAFKA_PRODUCE_MIN; v <= KAFKA_PRODUCE_MAX; v++)
		for (uint8_t c = 0; c <= 1; c++) {
			roundtrip(v, c, 1, 1);
			roundtrip(v, c, 3, 6);
		}
	/* 127+ partitions: the flexible count needs a second varint byte. */
	roundtrip(9, 0, 126, 1);
	roundtrip(9, 0, 127, 1);
	roundtrip(9, 1, 130, 2);
	roundtrip(8, 0, 130, 2);
	/* A batch over 127 bytes: the COMPACT_RECORDS length takes 2 bytes. */
	roundtrip(9, 0, 2, 8);
}

/* The whole produce sequence at every cap: -ENOSPC until it fits. */
static ssize_t produce_seq(uint8_t *out, size_t cap, int16_t v, uint8_t comp)
{
	static uint8_t scratch[1024];
	struct kafka_produce p;
	const uint8_t val[40] = { 0 };

	kafka_produce_begin(&p, out, cap, v, 1, "blast", 1, 1000, "t", 1);
	for (int part = 0; part < 2; part++) {
		kafka_produce_partition_begin(&p, part);
		kafka_batch_begin(&p, 5, comp, scratch, sizeof(scratch));
		kafka_batch_add(&p, 6, NULL, 0, val, sizeof(val), &hdr_hv, 1);
		kafka_batch_add(&p, 7, val, 3, NULL, 0, NULL, 0);
		kafka_batch_end(&p);
	}
	return kafka_produce_end(&p);
}

/* A request is built in place, so while a batch is open it can need more
 * than the result: the uncompressed records (gzip), and 4 spare bytes of
 * the COMPACT_RECORDS length (v9). Below the result's size every cap is
 * -ENOSPC; from the smallest cap that works on, the bytes are the same. */
static void test_produce_caps(void)
{
	static uint8_t ref[1024], raw[1024];

	for (int16_t v = 3; v <= 9; v += 6)
		for (uint8_t c = 0; c <= 1; c++) {
			ssize_t n = produce_seq(ref, sizeof(ref), v, c);
			ssize_t n_raw = produce_seq(raw, sizeof(raw), v, 0);
			size_t slack = (c ? (size_t)(n_raw - n) : 0) + (v >= 9 ? 4 : 0);
			size_t cap = 0;
			int bad = 0;

			CHECK(n > 0 && n_raw > 0);
			if (n <= 0 || n_raw <= 0)
				continue;
			for (; cap < (size_t)n + slack; cap++) {
				ssize_t r = produce_seq(guard_slot(cap), cap, v, c);

				if (r != -ENOSPC)
					break;
			}
			bad += cap < (size_t)n;
			for (size_t k = cap; k <= (size_t)n + slack + 2; k++) {
				bad += produce_seq(guard_slot(k), k, v, c) != n;
				bad += memcmp(guard_slot(k), ref, (size_t)n) != 0;
			}
			CHECK_EQ_INT(bad, 0);
			CHECK(cap <= (size_t)n + slack);
		}
}

static void test_produce_errors(void)
{
	uint8_t buf[512], small[4];
	struct kafka_produce p;

	CHECK_EQ_INT(kafka_produce_begin(&p, buf, sizeof(buf), 2, 1, "x", 1, 1, "t", 1), -EINVAL);
	CHECK_EQ_INT(kafka_produce_begin(&p, buf, sizeof(buf), 10, 1, "x", 1, 1, "t", 1), -EINVAL);
	CHECK_EQ_INT(kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 2, 1, "t", 1), -EINVAL);
	CHECK_EQ_INT(kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 1, 1, "t", 0), -EINVAL);
	/* Sticky: later calls return the first error. */
	CHECK_EQ_INT(kafka_produce_partition_begin(&p, 0), -EINVAL);
	CHECK_EQ_INT(kafka_produce_end(&p), -EINVAL);
	/* Order: a batch needs a partition; end needs closed partitions;
	 * an empty batch is refused; gzip needs scratch. */
	kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 1, 1, "t", 1);
	CHECK_EQ_INT(kafka_batch_begin(&p, 0, 0, NULL, 0), -EINVAL);
	kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 1, 1, "t", 1);
	kafka_produce_partition_begin(&p, 0);
	CHECK_EQ_INT(kafka_produce_end(&p), -EINVAL);
	kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 1, 1, "t", 1);
	kafka_produce_partition_begin(&p, 0);
	kafka_batch_begin(&p, 0, 0, NULL, 0);
	CHECK_EQ_INT(kafka_batch_end(&p), -EINVAL);
	kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 1, 1, "t", 1);
	kafka_produce_partition_begin(&p, 0);
	CHECK_EQ_INT(kafka_batch_begin(&p, 0, 1, NULL, 0), -EINVAL);
	kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 1, 1, "t", 1);
	kafka_produce_partition_begin(&p, 0);
	CHECK_EQ_INT(kafka_batch_begin(&p, 0, 2, NULL, 0), -EINVAL); /* snappy */
	/* gzip scratch too small: -ENOSPC at batch_end. */
	kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 1, 1, "t", 1);
	kafka_produce_partition_begin(&p, 0);
	kafka_batch_begin(&p, 0, 1, small, sizeof(small));
	kafka_batch_add(&p, 0, NULL, 0, (const uint8_t *)"v", 1, NULL, 0);
	CHECK_EQ_INT(kafka_batch_end(&p), -ENOSPC);
	CHECK_EQ_INT(kafka_produce_end(&p), -ENOSPC);
	CHECK(kafka_gzip_bound(1000) >= 1000 + 18);
}

static void test_record_size_max(void)
{
	static uint8_t buf[1 << 16], scratch[1 << 16];
	static const size_t sizes[] = { 0, 1, 63, 64, 127, 128, 8191, 8192, 20000 };
	int bad = 0;

	/* Each record of the batch takes at most what the bound says. */
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		for (size_t j = 0; j < ARRAY_SIZE(sizes); j += 2) {
			struct kafka_header h = { "abc", 3, buf, sizes[j] / 4 };
			struct kafka_produce p;
			size_t before, bound = kafka_record_size_max(sizes[i], sizes[j], &h, 1);

			kafka_produce_begin(&p, buf, sizeof(buf), 7, 1, "x", 1, 1, "t", 1);
			kafka_produce_partition_begin(&p, 0);
			kafka_batch_begin(&p, 0, 0, scratch, sizeof(scratch));
			before = wb_len(&p.w);
			kafka_batch_add(&p, INT64_MIN, scratch, sizes[i], scratch, sizes[j], &h, 1);
			bad += p.err != 0 || wb_len(&p.w) - before > bound;
		}
	CHECK_EQ_INT(bad, 0);
}

/* ---- record batches ---- */

static size_t build_batch(uint8_t *buf, size_t cap, uint8_t comp, size_t *off)
{
	static uint8_t scratch[4096];
	struct kafka_produce p;
	ssize_t n;

	kafka_produce_begin(&p, buf, cap, 7, 1, "x", 1, 1, "t", 1);
	kafka_produce_partition_begin(&p, 0);
	kafka_batch_begin(&p, 0, comp, scratch, sizeof(scratch));
	*off = p.batch_off;
	/* librdkafka rdvarint.c unit vectors as timestamp deltas: 1, -1, 23,
	 * -23, 253, +-1234567890101112 (the zigzag bytes are checked below). */
	kafka_batch_add(&p, 1234567890101112LL, (const uint8_t *)"k", 1, (const uint8_t *)"v", 1,
			&hdr_hv, 1);
	kafka_batch_add(&p, -1234567890101112LL, NULL, 0, NULL, 0, NULL, 0);
	kafka_batch_add(&p, -23, (const uint8_t *)"", 0, (const uint8_t *)"", 0, NULL, 0);
	kafka_batch_end(&p);
	n = kafka_produce_end(&p);
	return n > 0 ? (size_t)n - *off : 0;
}

static void test_varint_vectors(void)
{
	/* librdkafka src/rdvarint.c unittest_rdvarint: zigzag varint bytes. */
	static const struct {
		int64_t v;
		uint8_t b[10];
		size_t n;
	} vec[] = {
		{ 0, { 0x00 }, 1 },
		{ 1, { 0x02 }, 1 },
		{ -1, { 0x01 }, 1 },
		{ 23, { 0x2e }, 1 },
		{ -23, { 0x2d }, 1 },
		{ 253, { 0xfa, 0x03 }, 2 },
		{ 1234567890101112LL, { 0xf0, 0x8d, 0xd3, 0xc8, 0xa7, 0xb5, 0xb1, 0x04 }, 8 },
		{ -1234567890101112LL, { 0xef, 0x8d, 0xd3, 0xc8, 0xa7, 0xb5, 0xb1, 0x04 }, 8 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(vec); i++) {
		uint8_t b[10];
		struct wbuf w;

		wb_init(&w, b, sizeof(b));
		wb_zigzag64(&w, vec[i].v);
		CHECK_MEM(b, wb_len(&w), vec[i].b, vec[i].n);
	}
}

struct ts_check {
	int64_t ts[3];
	size_t n;
};

static int ts_cb(void *ctx, const struct kafka_record_view *r)
{
	struct ts_check *c = ctx;

	if (c->n < 3)
		c->ts[c->n] = r->timestamp_delta;
	c->n++;
	return 0;
}

static int stop_cb(void *ctx, const struct kafka_record_view *r)
{
	(void)ctx;
	(void)r;
	return -ECANCELED;
}

static void test_record_batch_parse(void)
{
	static uint8_t buf[4096], scratch[4096];
	size_t off, consumed;

	for (uint8_t comp = 0; comp <= 1; comp++) {
		size_t n = build_batch(buf, sizeof(buf), comp, &off);
		uint8_t *b = buf + off;
		struct ts_check tc = { { 0 }, 0 };
		int bad = 0;

		CHECK(n > KAFKA_BATCH_HEADER_SIZE);
		CHECK_EQ_INT(kafka_parse_record_batch(guard_copy(b, n), n, scratch, sizeof(scratch),
						      ts_cb, &tc, &consumed),
			     0);
		CHECK_EQ_INT(tc.n, 3);
		CHECK_EQ_INT(tc.ts[0], 1234567890101112LL);
		CHECK_EQ_INT(tc.ts[1], -1234567890101112LL);
		CHECK_EQ_INT(tc.ts[2], -23);
		CHECK_EQ_INT(kafka_parse_record_batch(b, n, scratch, sizeof(scratch), stop_cb, NULL,
						      &consumed),
			     -ECANCELED);
		/* Every truncation, against the guard page. */
		for (size_t k = 0; k < n; k++)
			bad += kafka_parse_record_batch(guard_copy(b, k), k, scratch, sizeof(scratch),
							NULL, NULL, &consumed) != -EPROTO;
		CHECK_EQ_INT(bad, 0);
		/* Trailing bytes after the batch are not its business. */
		b[n] = 0xaa;
		CHECK_EQ_INT(kafka_parse_record_batch(b, n + 1, scratch, sizeof(scratch), NULL, NULL,
						      &consumed),
			     0);
		CHECK_EQ_INT(consumed, n);
		/* Any flipped bit from magic on fails magic or the CRC. */
		bad = 0;
		for (size_t k = KAFKA_BATCH_OF_MAGIC; k < n; k++) {
			b[k] ^= 0x10;
			bad += kafka_parse_record_batch(b, n, scratch, sizeof(scratch), NULL, NULL,
							&consumed) != -EPROTO;
			b[k] ^= 0x10;
		}
		CHECK_EQ_INT(bad, 0);
		if (comp)
			CHECK_EQ_INT(kafka_parse_record_batch(b, n, scratch, 8, NULL, NULL, &consumed),
				     -ENOSPC);
	}
}

/* ---- responses ---- */

static void test_frame_total(void)
{
	static const uint8_t neg[] = { 0x80, 0, 0, 0 };
	static const uint8_t small[] = { 0, 0, 0, 3 };

	for (size_t k = 0; k < 4; k++)
		CHECK_EQ_INT(kafka_frame_total(guard_copy(mock_produce_v3_rsp, k), k, 0), 0);
	CHECK_EQ_INT(kafka_frame_total(mock_produce_v3_rsp, 4, 0), sizeof(mock_produce_v3_rsp));
	CHECK_EQ_INT(kafka_frame_total(mock_produce_v3_rsp, 4, sizeof(mock_produce_v3_rsp)),
		     sizeof(mock_produce_v3_rsp));
	CHECK_EQ_INT(kafka_frame_total(mock_produce_v3_rsp, 4, sizeof(mock_produce_v3_rsp) - 1),
		     -EMSGSIZE);
	CHECK_EQ_INT(kafka_frame_total(neg, 4, 0), -EPROTO);
	CHECK_EQ_INT(kafka_frame_total(small, 4, 0), -EPROTO);
}

/* Header then body; body at the guard page for the parse. */
static const uint8_t *body_of(const uint8_t *frame, size_t len, bool flex, int32_t want_corr,
			      size_t *body_len)
{
	const uint8_t *body = NULL;
	int32_t corr = 0;
	const uint8_t *g = guard_copy(frame, len);
	int r = kafka_parse_response_header(g, len, flex, &corr, &body, body_len);

	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(corr, want_corr);
	/* Into the original: the guard slot is reused by the next copy. */
	return r ? NULL : frame + (body - g);
}

static void test_api_versions_response(void)
{
	struct kafka_api_range r[32];
	size_t n = 0, bl;
	int16_t err = -1;
	const uint8_t *b;
	int bad = 0;

	b = body_of(mock_api_versions_v0_rsp, sizeof(mock_api_versions_v0_rsp), false, 1, &bl);
	CHECK_EQ_INT(kafka_parse_api_versions(b, bl, 0, &err, r, 32, &n), 0);
	CHECK_EQ_INT(err, 0);
	CHECK_EQ_INT(n, 17);
	/* What the 2.0.2 mock speaks: Produce 0-7, Metadata 0-2, ApiVersions 0-2. */
	CHECK_EQ_INT(kafka_pick_version(r, n, KAFKA_API_PRODUCE, KAFKA_PRODUCE_MIN,
					KAFKA_PRODUCE_MAX),
		     7);
	CHECK_EQ_INT(kafka_pick_version(r, n, KAFKA_API_METADATA, KAFKA_METADATA_MIN,
					KAFKA_METADATA_MAX),
		     2);
	CHECK_EQ_INT(kafka_pick_version(r, n, KAFKA_API_API_VERSIONS, KAFKA_API_VERSIONS_MIN,
					KAFKA_API_VERSIONS_MAX),
		     2);
	CHECK_EQ_INT(kafka_pick_version(r, n, KAFKA_API_PRODUCE, 8, 9), -1);
	CHECK_EQ_INT(kafka_pick_version(r, n, 99, 0, 9), -1);
	/* cap below the count: the rest are skipped but counted. */
	CHECK_EQ_INT(kafka_parse_api_versions(b, bl, 0, &err, r, 2, &n), 0);
	CHECK_EQ_INT(n, 17);
	CHECK_EQ_INT(r[1].key, 1);
	CHECK_EQ_INT(r[1].max, 11);

	b = body_of(mock_api_versions_v2_rsp, sizeof(mock_api_versions_v2_rsp), false, 2, &bl);
	CHECK_EQ_INT(kafka_parse_api_versions(b, bl, 2, &err, r, 32, &n), 0);
	CHECK_EQ_INT(n, 17);
	for (size_t k = 0; k < bl; k++)
		bad += kafka_parse_api_versions(guard_copy(b, k), k, 2, &err, r, 32, &n) !=
		       -EPROTO;
	/* A v2 body read as v0 has 4 bytes too many. */
	CHECK_EQ_INT(kafka_parse_api_versions(b, bl, 0, &err, r, 32, &n), -EPROTO);

	/* The ApiVersions response header is v0 even for v3 (Guide). */
	b = body_of(mock_api_versions_v3_rsp, sizeof(mock_api_versions_v3_rsp), false, 3, &bl);
	CHECK_EQ_INT(kafka_parse_api_versions(b, bl, 3, &err, r, 32, &n), 0);
	CHECK_EQ_INT(err, KAFKA_ERR_UNSUPPORTED_VERSION);
	CHECK_EQ_INT(n, 0);

	/* KIP-511: a broker that does not know v3 answers in v0 shape. */
	static const uint8_t kip511[] = {
		0x00, 0x23, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x00, 0x00, 0x00, 0x02,
	};
	CHECK_EQ_INT(kafka_parse_api_versions(guard_copy(kip511, sizeof(kip511)), sizeof(kip511),
					      3, &err, r, 32, &n),
		     0);
	CHECK_EQ_INT(err, KAFKA_ERR_UNSUPPORTED_VERSION);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(kafka_pick_version(r, n, KAFKA_API_API_VERSIONS, 0, 3), 2);

	/* json: ApiVersionsResponse v3 (flexible): per-key tags, and a
	 * SupportedFeatures tagged field (tag 0) to skip. */
	static const uint8_t v3[] = {
		0x00, 0x00, 0x04,
		0x00, 0x00, 0x00, 0x03, 0x00, 0x09, 0x00,
		0x00, 0x03, 0x00, 0x01, 0x00, 0x0c, 0x00,
		0x00, 0x12, 0x00, 0x00, 0x00, 0x03, 0x00,
		0x00, 0x00, 0x00, 0x00,
		0x01, 0x00, 0x01, 0x01,
	};
	CHECK_EQ_INT(kafka_parse_api_versions(guard_copy(v3, sizeof(v3)), sizeof(v3), 3, &err, r,
					      32, &n),
		     0);
	CHECK_EQ_INT(err, 0);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(kafka_pick_version(r, n, KAFKA_API_PRODUCE, 3, 9), 9);
	CHECK_EQ_INT(kafka_pick_version(r, n, KAFKA_API_METADATA, 1, 12), 12);
	for (size_t k = 0; k < sizeof(v3); k++)
		bad += kafka_parse_api_versions(guard_copy(v3, k), k, 3, &err, r, 32, &n) !=
		       -EPROTO;
	CHECK_EQ_INT(bad, 0);
}

struct md_seen {
	int brokers, parts, errs;
	int32_t port, leader[4];
	int16_t topic_err;
	char host[32];
	size_t null_names;
};

static int md_broker(void *ctx, int32_t node, const char *host, size_t host_len, int32_t port)
{
	struct md_seen *s = ctx;

	(void)node;
	s->brokers++;
	s->port = port;
	if (host_len < sizeof(s->host)) {
		memcpy(s->host, host, host_len);
		s->host[host_len] = 0;
	}
	return 0;
}

static int md_part(void *ctx, const char *topic, size_t topic_len, int16_t topic_error,
		   int32_t partition, int16_t partition_error, int32_t leader)
{
	struct md_seen *s = ctx;

	(void)partition_error;
	s->null_names += !topic;
	if (partition < 0) {
		s->errs++;
		s->topic_err = topic_error;
		return 0;
	}
	if (topic && topic_len == 1 && topic[0] == 't' && partition < 4)
		s->leader[partition] = leader;
	s->parts++;
	return 0;
}

static int md_stop(void *ctx, int32_t node, const char *host, size_t host_len, int32_t port)
{
	(void)ctx, (void)node, (void)host, (void)host_len, (void)port;
	return -ECANCELED;
}

static void check_truncations_md(const uint8_t *b, size_t bl, int16_t v)
{
	struct md_seen s;
	struct kafka_md_cb cb = { md_broker, md_part, &s };
	int bad = 0;

	for (size_t k = 0; k < bl; k++)
		bad += kafka_parse_metadata(guard_copy(b, k), k, v, &cb) != -EPROTO;
	CHECK_EQ_INT(bad, 0);
}

/* A Metadata response of any version, written from MetadataResponse.json
 * with a wbuf: one broker, topic "t" (2 partitions, leaders 1 and 2), and
 * topic "x" with UNKNOWN_TOPIC_OR_PARTITION and no partitions. */
static size_t md_build(uint8_t *out, size_t cap, int16_t v)
{
	bool f = v >= 9;
	struct wbuf w;

#define ARR(n) (f ? wb_uvarint(&w, (n) + 1) : wb_u32be(&w, (n)))
#define STR(s) (f ? wb_uvarint(&w, strlen(s) + 1) : wb_u16be(&w, strlen(s)), wb_bytes(&w, s, strlen(s)))
#define TAGS() (f ? wb_u8(&w, 0) : (void)0)
	wb_init(&w, out, cap);
	if (v >= 3)
		wb_u32be(&w, 0);
	ARR(1);
	wb_u32be(&w, 1);
	STR("h");
	wb_u32be(&w, 9092);
	if (v >= 1)
		f ? wb_uvarint(&w, 0) : wb_u16be(&w, 0xffff); /* null rack */
	TAGS();
	if (v >= 2)
		STR("cluster");
	if (v >= 1)
		wb_u32be(&w, 1);
	ARR(2);
	for (int t = 0; t < 2; t++) {
		wb_u16be(&w, t ? KAFKA_ERR_UNKNOWN_TOPIC_OR_PARTITION : 0);
		STR(t ? "x" : "t");
		if (v >= 10)
			for (int i = 0; i < 16; i++)
				wb_u8(&w, 0x42);
		if (v >= 1)
			wb_u8(&w, 0);
		ARR(t ? 0 : 2);
		for (int p = 0; !t && p < 2; p++) {
			wb_u16be(&w, 0);
			wb_u32be(&w, p);
			wb_u32be(&w, p + 1);
			if (v >= 7)
				wb_u32be(&w, 7);
			ARR(2); wb_u32be(&w, 1); wb_u32be(&w, 2);
			ARR(1); wb_u32be(&w, p + 1);
			if (v >= 5)
				ARR(0);
			TAGS();
		}
		if (v >= 8)
			wb_u32be(&w, 0x80000000u);
		TAGS();
	}
	if (v >= 8 && v <= 10)
		wb_u32be(&w, 0x80000000u);
	TAGS();
#undef ARR
#undef STR
#undef TAGS
	return w.overflow ? 0 : wb_len(&w);
}

static void test_metadata_response(void)
{
	static uint8_t buf[512];
	struct md_seen s;
	struct kafka_md_cb cb = { md_broker, md_part, &s };
	const uint8_t *b;
	size_t bl;

	memset(&s, 0, sizeof(s));
	b = body_of(mock_metadata_v1_rsp, sizeof(mock_metadata_v1_rsp), false, 4, &bl);
	CHECK_EQ_INT(kafka_parse_metadata(b, bl, 1, &cb), 0);
	CHECK_EQ_INT(s.brokers, 1);
	CHECK(!strcmp(s.host, "127.0.0.1"));
	CHECK_EQ_INT(s.port, 46821);
	/* Before v4 there is no AllowAutoTopicCreation and the mock creates
	 * "nope" (4 partitions by default): 2 + 4, no error. */
	CHECK_EQ_INT(s.parts, 6);
	CHECK_EQ_INT(s.leader[0], 1);
	CHECK_EQ_INT(s.leader[1], 1);
	CHECK_EQ_INT(s.errs, 0);
	check_truncations_md(b, bl, 1);
	CHECK_EQ_INT(kafka_parse_metadata(b, bl, 2, &cb), -EPROTO); /* no ClusterId in v1 */

	memset(&s, 0, sizeof(s));
	b = body_of(mock_metadata_v2_rsp, sizeof(mock_metadata_v2_rsp), false, 3, &bl);
	CHECK_EQ_INT(kafka_parse_metadata(b, bl, 2, &cb), 0);
	CHECK_EQ_INT(s.parts, 2);
	check_truncations_md(b, bl, 2);
	memset(&s, 0, sizeof(s));
	b = body_of(mock_metadata_v2_all_rsp, sizeof(mock_metadata_v2_all_rsp), false, 5, &bl);
	CHECK_EQ_INT(kafka_parse_metadata(b, bl, 2, &cb), 0);
	CHECK_EQ_INT(s.parts, 6); /* "t" and the auto-created "nope" */
	CHECK_EQ_INT(s.errs, 0);
	CHECK_EQ_INT(kafka_parse_metadata(b, bl, 2, &(struct kafka_md_cb){ md_stop, NULL, NULL }),
		     -ECANCELED);

	for (int16_t v = 1; v <= KAFKA_METADATA_MAX; v++) {
		size_t n = md_build(buf, sizeof(buf), v);

		memset(&s, 0, sizeof(s));
		CHECK_EQ_INT(kafka_parse_metadata(guard_copy(buf, n), n, v, &cb), 0);
		CHECK_EQ_INT(s.brokers, 1);
		CHECK_EQ_INT(s.port, 9092);
		CHECK_EQ_INT(s.parts, 2);
		CHECK_EQ_INT(s.leader[1], 2);
		CHECK_EQ_INT(s.errs, 1);
		CHECK_EQ_INT(s.null_names, 0);
		check_truncations_md(buf, n, v);
		/* Versions that add a field fail on the older shape (json: 4 is
		 * 3, 6 is 5, and 12 only allows null names). */
		if (v > 1 && v != 4 && v != 6 && v != 12)
			CHECK_EQ_INT(kafka_parse_metadata(buf, n, v - 1, &cb), -EPROTO);
	}

	/* json: v12 topic names are nullable (a topic asked for by id). */
	static const uint8_t v12_null[] = {
		0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x02,
		0x00, 0x03, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		0x00, 0x01, 0x80, 0x00, 0x00, 0x00, 0x00,
		0x00,
	};
	memset(&s, 0, sizeof(s));
	CHECK_EQ_INT(kafka_parse_metadata(guard_copy(v12_null, sizeof(v12_null)), sizeof(v12_null),
					  12, &cb),
		     0);
	CHECK_EQ_INT(s.errs, 1);
	CHECK_EQ_INT(s.null_names, 1);
	CHECK_EQ_INT(kafka_parse_metadata(v12_null, sizeof(v12_null), 11, &cb), -EPROTO);
	CHECK_EQ_INT(kafka_parse_metadata(v12_null, sizeof(v12_null), 13, &cb), -EINVAL);
}

struct pr_seen {
	int n;
	int32_t part;
	int16_t err;
	int64_t base;
};

static int pr_cb(void *ctx, const char *topic, size_t topic_len, int32_t partition,
		 int16_t error, int64_t base_offset)
{
	struct pr_seen *s = ctx;

	(void)topic;
	(void)topic_len;
	s->n++;
	s->part = partition;
	s->err = error;
	s->base = base_offset;
	return 0;
}

static void check_truncations_pr(const uint8_t *b, size_t bl, int16_t v)
{
	struct pr_seen s;
	int bad = 0;

	for (size_t k = 0; k < bl; k++)
		bad += kafka_parse_produce(guard_copy(b, k), k, v, pr_cb, &s) != -EPROTO;
	CHECK_EQ_INT(bad, 0);
}

static void test_produce_response(void)
{
	struct pr_seen s = { 0 };
	const uint8_t *b;
	size_t bl;

	b = body_of(mock_produce_v3_rsp, sizeof(mock_produce_v3_rsp), false, 13, &bl);
	CHECK_EQ_INT(kafka_parse_produce(b, bl, 3, pr_cb, &s), 0);
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_INT(s.part, 0);
	CHECK_EQ_INT(s.err, 0);
	CHECK_EQ_INT(s.base, 0);
	check_truncations_pr(b, bl, 3);
	/* v2-v4 share the shape; v5 adds LogStartOffset. */
	CHECK_EQ_INT(kafka_parse_produce(b, bl, 4, pr_cb, &s), 0);
	CHECK_EQ_INT(kafka_parse_produce(b, bl, 5, pr_cb, &s), -EPROTO);

	memset(&s, 0, sizeof(s));
	b = body_of(mock_produce_v7_rsp, sizeof(mock_produce_v7_rsp), false, 4, &bl);
	CHECK_EQ_INT(kafka_parse_produce(b, bl, 7, pr_cb, &s), 0);
	CHECK_EQ_INT(s.part, 1);
	CHECK_EQ_INT(s.base, 4);
	check_truncations_pr(b, bl, 7);
	/* The 2.0.2 mock writes LogStartOffset from v6, not v5 as the json
	 * has it: its v5 answer would be 8 bytes short. */
	CHECK_EQ_INT(kafka_parse_produce(b, bl, 5, pr_cb, &s), 0);

	/* json: ProduceResponse v9 (flexible) with RecordErrors and an
	 * ErrorMessage, NOT_LEADER_OR_FOLLOWER. */
	static const uint8_t v9[] = {
		0x02, 0x02, 't', 0x02,
		0x00, 0x00, 0x00, 0x01, 0x00, 0x06,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 'x', 0x00,
		0x03, 'n', 'l', 0x00,
		0x00,
		0x00, 0x00, 0x00, 0x00,
		0x00,
	};
	memset(&s, 0, sizeof(s));
	CHECK_EQ_INT(kafka_parse_produce(guard_copy(v9, sizeof(v9)), sizeof(v9), 9, pr_cb, &s), 0);
	CHECK_EQ_INT(s.n, 1);
	CHECK_EQ_INT(s.err, KAFKA_ERR_NOT_LEADER_OR_FOLLOWER);
	CHECK_EQ_INT(s.base, -1);
	check_truncations_pr(v9, sizeof(v9), 9);
	CHECK_EQ_INT(kafka_parse_produce(v9, sizeof(v9), 8, pr_cb, &s), -EPROTO);
	CHECK_EQ_INT(kafka_parse_produce(v9, sizeof(v9), 10, pr_cb, &s), -EINVAL);
}

static void test_response_header(void)
{
	static const uint8_t flex[] = { 0, 0, 0, 8, 0, 0, 0, 9, 0x01, 0x00, 0x01, 0xee };
	const uint8_t *body;
	size_t bl;
	int32_t corr;
	int bad = 0;

	CHECK_EQ_INT(kafka_parse_response_header(guard_copy(flex, sizeof(flex)), sizeof(flex), true,
						 &corr, &body, &bl),
		     0);
	CHECK_EQ_INT(corr, 9);
	CHECK_EQ_INT(bl, 0);
	CHECK_EQ_INT(kafka_parse_response_header(flex, sizeof(flex), false, &corr, &body, &bl), 0);
	CHECK_EQ_INT(bl, 4);
	for (size_t k = 0; k < sizeof(flex); k++)
		bad += kafka_parse_response_header(guard_copy(flex, k), k, true, &corr, &body,
						   &bl) != -EPROTO;
	CHECK_EQ_INT(bad, 0);
}

/* ---- names and the partitioner ---- */

static void test_errors(void)
{
	CHECK(!strcmp(kafka_error_name(-1), "UNKNOWN_SERVER_ERROR"));
	CHECK(!strcmp(kafka_error_name(0), "NONE"));
	CHECK(!strcmp(kafka_error_name(2), "CORRUPT_MESSAGE"));
	CHECK(!strcmp(kafka_error_name(3), "UNKNOWN_TOPIC_OR_PARTITION"));
	CHECK(!strcmp(kafka_error_name(5), "LEADER_NOT_AVAILABLE"));
	CHECK(!strcmp(kafka_error_name(6), "NOT_LEADER_OR_FOLLOWER"));
	CHECK(!strcmp(kafka_error_name(7), "REQUEST_TIMED_OUT"));
	CHECK(!strcmp(kafka_error_name(10), "MESSAGE_TOO_LARGE"));
	CHECK(!strcmp(kafka_error_name(19), "NOT_ENOUGH_REPLICAS"));
	CHECK(!strcmp(kafka_error_name(20), "NOT_ENOUGH_REPLICAS_AFTER_APPEND"));
	CHECK(!strcmp(kafka_error_name(35), "UNSUPPORTED_VERSION"));
	CHECK(!strcmp(kafka_error_name(87), "INVALID_RECORD"));
	CHECK(!strcmp(kafka_error_name(100), "UNKNOWN_TOPIC_ID"));
	CHECK(!strcmp(kafka_error_name(120), "TRANSACTION_ABORTABLE"));
	CHECK(!strcmp(kafka_error_name(-2), "UNKNOWN_SERVER_ERROR"));
	CHECK(!strcmp(kafka_error_name(9999), "UNKNOWN_SERVER_ERROR"));
	for (int c = -1; c <= KAFKA_ERR_MAX_KNOWN; c++)
		CHECK(kafka_error_name((int16_t)c) != NULL);
	/* Guide's Retriable column. */
	CHECK(kafka_error_retriable(2) && kafka_error_retriable(3) && kafka_error_retriable(5));
	CHECK(kafka_error_retriable(6) && kafka_error_retriable(7) && kafka_error_retriable(19));
	CHECK(kafka_error_retriable(20) && kafka_error_retriable(56) && kafka_error_retriable(89));
	CHECK(!kafka_error_retriable(0) && !kafka_error_retriable(-1) && !kafka_error_retriable(10));
	CHECK(!kafka_error_retriable(87) && !kafka_error_retriable(29) && !kafka_error_retriable(8));
	CHECK(!kafka_error_retriable(9999));
	CHECK(kafka_error_refresh_metadata(6) && kafka_error_refresh_metadata(3));
	CHECK(kafka_error_refresh_metadata(5) && kafka_error_refresh_metadata(74));
	CHECK(!kafka_error_refresh_metadata(7) && !kafka_error_refresh_metadata(19));
	CHECK(!kafka_error_refresh_metadata(0));
}

static void test_murmur2(void)
{
	/* apache/kafka clients/src/test/java/org/apache/kafka/common/utils/
	 * UtilsTest.java, testMurmur2. */
	static const struct {
		const char *key;
		int32_t h;
	} java[] = {
		{ "21", -973932308 },
		{ "foobar", -790332482 },
		{ "a-little-bit-long-string", -985981536 },
		{ "a-little-bit-longer-string", -1486304829 },
		{ "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971 },
		{ "abc", 479470107 },
	};
	/* librdkafka src/rdmurmur2.c unittest_murmur2 ("java_murmur2_results"). */
	static const struct {
		const char *key;
		uint32_t h;
	} rdk[] = {
		{ "kafka", 0xd067cf64 },
		{ "giberish123456789", 0x8f552b0c },
		{ "1234", 0x9fc97b14 },
		{ "234", 0xe7c009ca },
		{ "34", 0x873930da },
		{ "4", 0x5a4b5ca1 },
		{ "PreAmbleWillBeRemoved,ThePrePartThatIs", 0x78424f1c },
		{ "reAmbleWillBeRemoved,ThePrePartThatIs", 0x4a62b377 },
		{ "eAmbleWillBeRemoved,ThePrePartThatIs", 0xe0e4e09e },
		{ "AmbleWillBeRemoved,ThePrePartThatIs", 0x62b8b43f },
		{ "", 0x106e08d9 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(java); i++)
		CHECK_EQ_INT((int32_t)kafka_murmur2((const uint8_t *)java[i].key,
						    strlen(java[i].key)),
			     java[i].h);
	for (size_t i = 0; i < ARRAY_SIZE(rdk); i++) {
		size_t n = strlen(rdk[i].key);

		/* Unaligned too: the key placed at the guard page. */
		CHECK_EQ_INT(kafka_murmur2(guard_copy(rdk[i].key, n), n), rdk[i].h);
	}
	/* toPositive(-973932308) % 7 = (0x45f3cfec ... ) computed the Java way. */
	CHECK_EQ_INT(kafka_partition_for_key((const uint8_t *)"21", 2, 7),
		     (int32_t)(((uint32_t)-973932308 & 0x7fffffff) % 7));
	CHECK_EQ_INT(kafka_partition_for_key((const uint8_t *)"abc", 3, 1), 0);
	CHECK_EQ_INT(kafka_partition_for_key((const uint8_t *)"abc", 3, 0), -EINVAL);
	CHECK(!kafka_is_flexible(KAFKA_API_PRODUCE, 8) && kafka_is_flexible(KAFKA_API_PRODUCE, 9));
	CHECK(!kafka_is_flexible(KAFKA_API_METADATA, 8) && kafka_is_flexible(KAFKA_API_METADATA, 9));
	CHECK(!kafka_is_flexible(KAFKA_API_API_VERSIONS, 2) &&
	      kafka_is_flexible(KAFKA_API_API_VERSIONS, 3));
}

int main(void)
{
	if (guard_init()) {
		perror("guard page");
		return T_FAIL;
	}
	test_api_versions_request();
	test_metadata_request();
	test_produce_golden();
	test_produce_roundtrip();
	test_produce_caps();
	test_produce_errors();
	test_record_size_max();
	test_varint_vectors();
	test_record_batch_parse();
	test_frame_total();
	test_response_header();
	test_api_versions_response();
	test_metadata_response();
	test_produce_response();
	test_errors();
	test_murmur2();
	return t_done("test_kafka");
}
