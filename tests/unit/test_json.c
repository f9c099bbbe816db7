/* JSON writer: exact bytes for nesting, escaping, UTF-8 repair and numbers,
 * and the sticky error for misuse and for a failing stream. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/json.h"
#include "t.h"

struct cap {
	char *buf;
	size_t len;
	FILE *f;
	struct json_writer w;
};

static void cap_open(struct cap *c, bool pretty)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	if (!c->f) {
		perror("open_memstream");
		exit(T_FAIL);
	}
	json_init(&c->w, c->f, pretty);
}

/* Finishes the document; returns json_finish()'s result. c->buf holds the
 * text until cap_free(). */
static int cap_close(struct cap *c)
{
	int r = json_finish(&c->w);

	fclose(c->f);
	return r;
}

static void cap_free(struct cap *c)
{
	free(c->buf);
}

#define CHECK_TEXT(c, want)                                                      \
	do {                                                                     \
		CHECK_MEM((c)->buf, (c)->len, want, strlen(want));               \
		if ((c)->len != strlen(want) || memcmp((c)->buf, want, (c)->len)) \
			fprintf(stderr, "  got  %.*s\n  want %s\n", (int)(c)->len, (c)->buf, want); \
	} while (0)

static void test_nesting(void)
{
	struct cap c;

	cap_open(&c, false);
	json_begin_object(&c.w);
	json_kv_u64(&c.w, "a", 1);
	json_key(&c.w, "b");
	json_begin_array(&c.w);
	json_bool(&c.w, true);
	json_bool(&c.w, false);
	json_null(&c.w);
	json_begin_array(&c.w);
	json_end_array(&c.w);
	json_begin_object(&c.w);
	json_end_object(&c.w);
	json_end_array(&c.w);
	json_key(&c.w, "c");
	json_begin_object(&c.w);
	json_kv_string(&c.w, "d", "x");
	json_end_object(&c.w);
	json_end_object(&c.w);
	CHECK_EQ_INT(cap_close(&c), 0);
	CHECK_TEXT(&c, "{\"a\":1,\"b\":[true,false,null,[],{}],\"c\":{\"d\":\"x\"}}\n");
	cap_free(&c);

	cap_open(&c, true);
	json_begin_object(&c.w);
	json_kv_u64(&c.w, "a", 1);
	json_key(&c.w, "b");
	json_begin_array(&c.w);
	json_u64(&c.w, 2);
	json_u64(&c.w, 3);
	json_end_array(&c.w);
	json_key(&c.w, "e");
	json_begin_object(&c.w);
	json_end_object(&c.w);
	json_end_object(&c.w);
	CHECK_EQ_INT(cap_close(&c), 0);
	CHECK_TEXT(&c, "{\n  \"a\": 1,\n  \"b\": [\n    2,\n    3\n  ],\n  \"e\": {}\n}\n");
	cap_free(&c);

	/* A bare top-level scalar is a valid document too. */
	cap_open(&c, false);
	json_string(&c.w, "hi");
	CHECK_EQ_INT(cap_close(&c), 0);
	CHECK_TEXT(&c, "\"hi\"\n");
	cap_free(&c);
}

static void string_case(const char *in, size_t len, const char *want)
{
	struct cap c;

	cap_open(&c, false);
	json_string_len(&c.w, in, len);
	CHECK_EQ_INT(cap_close(&c), 0);
	CHECK_TEXT(&c, want);
	cap_free(&c);
}

#define STR(lit, want) string_case(lit, sizeof(lit) - 1, want)

static void test_strings(void)
{
	STR("", "\"\"\n");
	STR("plain text/with: punctuation", "\"plain text/with: punctuation\"\n");
	STR("a\"b\\c", "\"a\\\"b\\\\c\"\n");
	STR("\n\t\r\x01\x1f", "\"\\u000a\\u0009\\u000d\\u0001\\u001f\"\n");
	STR("nul\0in", "\"nul\\u0000in\"\n");
	STR("\x7f", "\"\x7f\"\n"); /* DEL is legal in JSON */
	/* Valid UTF-8 of 2, 3 and 4 bytes, and the largest code point, pass. */
	STR("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf",
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"\n");
	/* Each byte of an ill-formed sequence becomes U+FFFD. */
	STR("\x80", "\"\\ufffd\"\n");                             /* lone continuation */
	STR("\xc0\xaf", "\"\\ufffd\\ufffd\"\n");                   /* overlong '/' */
	STR("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"\n");         /* overlong, 3 bytes */
	STR("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"\n");         /* surrogate D800 */
	STR("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"\n"); /* above U+10FFFF */
	STR("\xff\xfe", "\"\\ufffd\\ufffd\"\n");
	STR("ok\xe2\x82", "\"ok\\ufffd\\ufffd\"\n");              /* cut short at the end */
	STR("\xe2\x28\xa1", "\"\\ufffd(\\ufffd\"\n");              /* bad continuation */

	/* NULL is null; keys are escaped like strings. */
	struct cap c;

	cap_open(&c, false);
	json_begin_object(&c.w);
	json_kv_string(&c.w, "k\"\x01", NULL);
	json_end_object(&c.w);
	CHECK_EQ_INT(cap_close(&c), 0);
	CHECK_TEXT(&c, "{\"k\\\"\\u0001\":null}\n");
	cap_free(&c);
}

static void test_numbers(void)
{
	struct cap c;

	cap_open(&c, false);
	json_begin_array(&c.w);
	json_u64(&c.w, 0);
	json_u64(&c.w, UINT64_MAX);
	json_i64(&c.w, INT64_MIN);
	json_i64(&c.w, -1);
	json_double3(&c.w, 1.5);
	json_double3(&c.w, 0.0005); /* rounds to 0.001 (binary 0.0005 is above half) */
	json_double3(&c.w, -2.25);
	json_double3(&c.w, 1e300); /* no 300-digit %.3f */
	json_double(&c.w, 0.1);
	json_double(&c.w, 3);
	json_double(&c.w, NAN);
	json_double(&c.w, INFINITY);
	json_double3(&c.w, -INFINITY);
	json_end_array(&c.w);
	CHECK_EQ_INT(cap_close(&c), 0);
	CHECK_TEXT(&c, "[0,18446744073709551615,-9223372036854775808,-1,1.500,0.001,-2.250,"
		       "1.0000000000000001e+300,0.10000000000000001,3,null,null,null]\n");
	cap_free(&c);
}

static void test_misuse(void)
{
	struct cap c;

	/* A value where a key is due. */
	cap_open(&c, false);
	json_begin_object(&c.w);
	json_u64(&c.w, 1);
	CHECK_EQ_INT(c.w.err, -EINVAL);
	/* Sticky: nothing more is written. */
	json_end_object(&c.w);
	json_kv_u64(&c.w, "x", 2);
	CHECK_EQ_INT(cap_close(&c), -EINVAL);
	CHECK_TEXT(&c, "{");
	cap_free(&c);

	/* A key inside an array. */
	cap_open(&c, false);
	json_begin_array(&c.w);
	json_key(&c.w, "k");
	CHECK_EQ_INT(cap_close(&c), -EINVAL);
	cap_free(&c);

	/* Two keys in a row. */
	cap_open(&c, false);
	json_begin_object(&c.w);
	json_key(&c.w, "a");
	json_key(&c.w, "b");
	CHECK_EQ_INT(cap_close(&c), -EINVAL);
	cap_free(&c);

	/* Closing the wrong kind of container, or one never opened. */
	cap_open(&c, false);
	json_begin_array(&c.w);
	json_end_object(&c.w);
	CHECK_EQ_INT(cap_close(&c), -EINVAL);
	cap_free(&c);
	cap_open(&c, false);
	json_end_array(&c.w);
	CHECK_EQ_INT(cap_close(&c), -EINVAL);
	cap_free(&c);

	/* A key left without its value, and containers left open. */
	cap_open(&c, false);
	json_begin_object(&c.w);
	json_key(&c.w, "a");
	json_end_object(&c.w);
	CHECK_EQ_INT(cap_close(&c), -EINVAL);
	cap_free(&c);
	cap_open(&c, false);
	json_begin_object(&c.w);
	CHECK_EQ_INT(cap_close(&c), -EINVAL);
	cap_free(&c);

	/* Two top-level values, and none at all. */
	cap_open(&c, false);
	json_u64(&c.w, 1);
	json_u64(&c.w, 2);
	CHECK_EQ_INT(cap_close(&c), -EINVAL);
	cap_free(&c);
	cap_open(&c, false);
	CHECK_EQ_INT(cap_close(&c), -EINVAL);
	cap_free(&c);

	/* Nesting deeper than the stack. */
	cap_open(&c, false);
	for (int i = 0; i < JSON_MAX_DEPTH + 5; i++)
		json_begin_array(&c.w);
	CHECK_EQ_INT(c.w.err, -EINVAL);
	CHECK(c.w.depth < JSON_MAX_DEPTH);
	cap_close(&c);
	cap_free(&c);
	/* ... while JSON_MAX_DEPTH - 1 levels are fine. */
	cap_open(&c, false);
	for (int i = 0; i < JSON_MAX_DEPTH - 1; i++)
		json_begin_array(&c.w);
	for (int i = 0; i < JSON_MAX_DEPTH - 1; i++)
		json_end_array(&c.w);
	CHECK_EQ_INT(cap_close(&c), 0);
	cap_free(&c);
}

static void test_io_error(void)
{
	struct json_writer w;
	FILE *f;

	if (access("/dev/full", W_OK) != 0) {
		fprintf(stderr, "no /dev/full: I/O error case skipped\n");
		return;
	}
	f = fopen("/dev/full", "w");
	CHECK(f != NULL);
	if (!f)
		return;
	json_init(&w, f, true);
	json_begin_array(&w);
	/* More than a stdio buffer, so the failure shows before the end too. */
	for (int i = 0; i < 10000; i++)
		json_string(&w, "0123456789abcdef");
	json_end_array(&w);
	CHECK_EQ_INT(json_finish(&w), -ENOSPC);
	fclose(f);
}

int main(void)
{
	test_nesting();
	test_strings();
	test_numbers();
	test_misuse();
	test_io_error();
	return t_done("test_json");
}
