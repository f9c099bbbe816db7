/* libFuzzer target for the JSON reader and the run report read back with
 * it (blast analyze --against):
 *
 * 1. The input as a document: json_read accepts it or gives a reason; an
 *    accepted root spans bytes inside the input, and lookups in it find
 *    values inside the root.
 * 2. The input as a span that was never validated: lookups, numbers and
 *    string compares stay inside it.
 * 3. The input as a run report: report_read_client accepts it or gives a
 *    one-line reason.
 *
 * Built with -DWITH_MAIN it is a plain program that replays files:
 *   cc -DWITH_MAIN -Iencoders -Iuserspace tests/fuzz/fuzz_json_read.c userspace/json_read.c \
 *      userspace/report_read.c userspace/report_wire.c userspace/json.c userspace/hist.c -lm */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/json_read.h"
#include "report/report_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool within(const struct json_val *v, const struct json_val *outer)
{
	return v->p >= outer->p && v->len <= outer->len &&
	       (size_t)(v->p - outer->p) <= outer->len - v->len;
}

static void probe(const struct json_val *v)
{
	static const char *const keys[] = { "proto", "a", "", "latency_uncorrected_us", "p99" };
	struct json_val m;
	double d;
	uint64_t u;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_member(v, keys[i], &m)) {
			assert(within(&m, v));
			(void)json_as_double(&m, &d);
			(void)json_as_u64(&m, &u);
			(void)json_string_eq(&m, "mqtt");
			(void)json_member(&m, "p50", &m);
		}
	(void)json_as_double(v, &d);
	(void)json_as_u64(v, &u);
	(void)json_string_eq(v, "caf\xc3\xa9");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact copy: bytes past the input are outside any allocation. */
	char *buf = malloc(size ? size : 1);
	struct json_val root, raw = { .p = buf, .len = size };
	struct wire_client c;
	char err[200];

	memcpy(buf, data, size);
	err[0] = '\0';
	if (json_read(buf, size, &root, err, sizeof(err)) == 0) {
		assert(within(&root, &raw) && json_type_of(&root) != JSON_BAD);
		probe(&root);
	} else {
		assert(err[0]);
	}
	probe(&raw);
	err[0] = '\0';
	if (report_read_client(buf, size, &c, err, sizeof(err)))
		assert(err[0] && !strchr(err, '\n'));
	else
		assert(c.proto != NULL);
	free(buf);
	return 0;
}

#include "replay.h"
