/* The command line's value parsers, one value at a time: numbers with
 * k/m/g, durations, HOST:PORT, {conn}/{seq}/{pid} template expansion, and
 * the flag table's rows against the fields they fill. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "config/opts.h"
#include "cli/flags.h"
#include "t.h"

static void test_parse_u64(void)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
		{ "0", 0 },
		{ "7", 7 },
		{ "007", 7 },
		{ "50000", 50000 },
		{ "1k", 1000 },
		{ "50K", 50000 },
		{ "2m", 2000000 },
		{ "3G", 3000000000ull },
		{ "18446744073709551615", UINT64_MAX },
		{ "18446744073709551k", 18446744073709551000ull },
	};
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "1\n", "1kk", "1.5", "0x10", "k", "1e3", "1t",
		"18446744073709551616", "99999999999999999999999", "18446744073709552k", "18446744073709552g",
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 12345;
		CHECK_EQ_INT(parse_u64(ok[i].s, &v), 0);
		CHECK(v == ok[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		CHECK_EQ_INT(parse_u64(bad[i], &v), -EINVAL);
		CHECK(v == 12345); /* untouched on error */
	}
}

static void test_parse_duration(void)
{
	static const struct {
		const char *s;
		uint64_t ns;
	} ok[] = {
		{ "500ms", 500000000ull },
		{ "30s", 30000000000ull },
		{ "2m", 120000000000ull },
		{ "1h", 3600000000000ull },
		{ "7", 7000000000ull },
		{ "0", 0 },
		{ "1ms", 1000000ull },
		{ "200us", 200000ull },
		{ "0us", 0 },
		{ "5124095h", 5124095ull * 3600000000000ull },
	};
	static const char *const bad[] = {
		"", "s", "ms", "us", "1µs", "1d", "1.5s", "-1s", "+1s", "10sx", "1 s", "1S", "30sec", "1k",
		"5124096h", "18446744073709551616", "99999999999999999999ms",
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECK_EQ_INT(parse_duration_ns(ok[i].s, &v), 0);
		CHECK(v == ok[i].ns);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(parse_duration_ns(bad[i], &v), -EINVAL);
}

static void test_parse_hostport(void)
{
	static const char *const bad[] = {
		"", "host", "host:", ":1883", "host:0", "host:65536", "host:1k", "host:-1",
		"host:+1", "host:18a", "::1:1883", "[::1]1883", "[::1]", "[::1]:", "[]:1883",
		"[::1:1883", "host:1883 ",
	};
	char host[256];
	uint16_t port = 0;

	CHECK_EQ_INT(parse_hostport("127.0.0.1:1883", host, sizeof(host), &port), 0);
	CHECK(!strcmp(host, "127.0.0.1"));
	CHECK_EQ_INT(port, 1883);
	CHECK_EQ_INT(parse_hostport("[::1]:8883", host, sizeof(host), &port), 0);
	CHECK(!strcmp(host, "::1"));
	CHECK_EQ_INT(port, 8883);
	CHECK_EQ_INT(parse_hostport("broker.example:65535", host, sizeof(host), &port), 0);
	CHECK(!strcmp(host, "broker.example"));
	CHECK_EQ_INT(port, 65535);
	CHECK_EQ_INT(parse_hostport("h:1", host, sizeof(host), &port), 0);
	CHECK_EQ_INT(port, 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(parse_hostport(bad[i], host, sizeof(host), &port), -EINVAL);
	/* The host must fit with its NUL. */
	CHECK_EQ_INT(parse_hostport("abcd:1", host, 5, &port), 0);
	CHECK_EQ_INT(parse_hostport("abcde:1", host, 5, &port), -EINVAL);
}

static void test_template(void)
{
	char buf[64];

	CHECK_EQ_INT(template_expand(buf, sizeof(buf), "blast/{conn}", 42, 0, 0), 8);
	CHECK(!strcmp(buf, "blast/42"));
	CHECK_EQ_INT(template_expand(buf, sizeof(buf), "blast-{pid}-{conn}", 7, 0, 1234), 12);
	CHECK(!strcmp(buf, "blast-1234-7"));
	CHECK_EQ_INT(template_expand(buf, sizeof(buf), "t/{conn}/{seq}", 0, 99, 0), 6);
	CHECK(!strcmp(buf, "t/0/99"));
	CHECK_EQ_INT(template_expand(buf, sizeof(buf), "{seq}", 0, UINT64_MAX, 0), 20);
	CHECK(!strcmp(buf, "18446744073709551615"));
	CHECK_EQ_INT(template_expand(buf, sizeof(buf), "{conn}{conn}", 12, 0, 0), 4);
	CHECK(!strcmp(buf, "1212"));
	/* Unknown names and stray braces stay as they are. */
	CHECK_EQ_INT(template_expand(buf, sizeof(buf), "{x}/{conn", 1, 2, 3), 9);
	CHECK(!strcmp(buf, "{x}/{conn"));
	CHECK_EQ_INT(template_expand(buf, sizeof(buf), "{{conn}}", 5, 0, 0), 3);
	CHECK(!strcmp(buf, "{5}"));
	CHECK_EQ_INT(template_expand(buf, sizeof(buf), "", 1, 2, 3), 0);
	CHECK(!strcmp(buf, ""));
	/* Exactly full: 8 bytes and the NUL in 9; one less is -ENOSPC. */
	CHECK_EQ_INT(template_expand(buf, 9, "blast/{conn}", 42, 0, 0), 8);
	CHECK_EQ_INT(template_expand(buf, 8, "blast/{conn}", 42, 0, 0), -ENOSPC);
	CHECK_EQ_INT(template_expand(buf, 7, "blast/{conn}", 42, 0, 0), -ENOSPC);
	CHECK_EQ_INT(template_expand(buf, 1, "", 0, 0, 0), 0);
	CHECK_EQ_INT(template_expand(buf, 0, "", 0, 0, 0), -ENOSPC);
}

/* A row's range or names must fit the field it writes, and a row read by
 * a function must have one. */
static void test_flag_table(void)
{
	for (int id = 0; id < F__COUNT; id++) {
		const struct flag *f = &flags[id];

		CHECK(f->name != NULL);
		if (f->kind == FLAG_NUMBER && f->width < 8)
			CHECK(f->max < 1ull << (8 * f->width));
		if (f->kind == FLAG_NAME) {
			CHECK(f->names && f->accepts);
			for (const struct name_value *n = f->names; n->name; n++)
				CHECK(n->value == NAME_UNSUPPORTED || f->width >= 4 ||
				      (n->value >= -(1 << (8 * f->width - 1)) &&
				       n->value < 1 << (8 * f->width)));
		}
		if (f->kind == FLAG_CUSTOM || f->kind == FLAG_ACTION)
			CHECK(f->set != NULL);
		if (f->kind != FLAG_CUSTOM && f->kind != FLAG_ACTION)
			CHECK(f->width > 0);
	}
}

int main(void)
{
	test_flag_table();
	test_parse_u64();
	test_parse_duration();
	test_parse_hostport();
	test_template();
	return t_done("test_opts_values");
}
