/* The control protocol (encoders/control.c): every message type encodes
 * and decodes back field for field, with bytes checked for one; every
 * truncation, a byte too many and each broken rule are refused with a
 * reason; the encoder refuses what it cannot write. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "encoders/control.h"
#include "t.h"

#define S(lit) ((struct ctl_str){ lit, sizeof(lit) - 1 })

static bool str_eq(struct ctl_str a, struct ctl_str b)
{
	return a.len == b.len && (!a.len || !memcmp(a.p, b.p, a.len));
}

static bool counts_eq(const struct ctl_counts *a, const struct ctl_counts *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* Encodes m, decodes it into *back; checks every truncation and one byte
 * more are refused. Returns the length. */
static ssize_t round_trip(const struct ctl_msg *m, struct ctl_msg *back, uint8_t *buf, size_t cap)
{
	const char *why;
	ssize_t n = ctl_encode(m, buf, cap);

	CHECK(n > 0);
	if (n <= 0)
		return n;
	CHECK_EQ_INT(ctl_decode(buf, (size_t)n, back, &why), 0);
	CHECK(why == NULL);
	CHECK_EQ_INT(back->type, m->type);
	for (ssize_t k = 0; k < n; k++) {
		struct ctl_msg x;
		CHECK_EQ_INT(ctl_decode(buf, (size_t)k, &x, &why), -EPROTO);
		CHECK(why != NULL);
	}
	buf[n] = 0;
	struct ctl_msg x;
	CHECK_EQ_INT(ctl_decode(buf, (size_t)n + 1, &x, &why), -EPROTO);
	CHECK(why && !strcmp(why, "bytes after the message"));
	/* Too small a buffer: -ENOSPC, never a write past it. */
	CHECK_EQ_INT(ctl_encode(m, buf, (size_t)n - 1), -ENOSPC);
	return n;
}

static void test_register_bytes(void)
{
	struct ctl_msg m = { .type = CTL_REGISTER, .agent = S("a1"),
			     .u.reg = { .version = S("blast 0.1"), .cores = 4 } }, b;
	static const uint8_t want[] = { 'B', 'L', 'C', 'P', 1, 1, 0, 2, 'a', '1', 0, 9, 'b', 'l',
					'a', 's', 't', ' ', '0', '.', '1', 0, 0, 0, 4 };
	uint8_t buf[256];
	ssize_t n = round_trip(&m, &b, buf, sizeof(buf));

	CHECK_MEM(buf, n, want, sizeof(want));
	CHECK(str_eq(b.agent, S("a1")));
	CHECK(str_eq(b.u.reg.version, S("blast 0.1")));
	CHECK_EQ_INT(b.u.reg.cores, 4);
}

static void test_each_type(void)
{
	static uint8_t buf[8192];
	static struct ctl_msg m, b;
	const char hist[] = "HISTFAAAAB142pNpmSzMgADMUJoRiHl";

	m = (struct ctl_msg){ .type = CTL_HEARTBEAT, .agent = S("n"), .u.hb = { 77, CTL_RUNNING } };
	round_trip(&m, &b, buf, sizeof(buf));
	CHECK(b.u.hb.seq == 77 && b.u.hb.state == CTL_RUNNING);

	memset(&m, 0, sizeof(m));
	m.type = CTL_ASSIGN;
	m.run_id = 0x0102030405060708ull;
	m.u.assign.agent_to = S("agent-7");
	m.u.assign.share = (struct ctl_share){ .index = 2, .count = 3, .conns = 3, .conn_base = 7,
					       .rate = 333, .messages = 1333, .has_messages = 1,
					       .partitions = 2, .partition_base = 4 };
	m.u.assign.n_args = 3;
	m.u.assign.args[0] = S("--qos");
	m.u.assign.args[1] = S("1");
	m.u.assign.args[2] = S("");
	round_trip(&m, &b, buf, sizeof(buf));
	CHECK(b.run_id == m.run_id);
	CHECK(str_eq(b.u.assign.agent_to, S("agent-7")));
	CHECK(!memcmp(&b.u.assign.share, &m.u.assign.share, sizeof(m.u.assign.share)));
	CHECK_EQ_INT(b.u.assign.n_args, 3);
	CHECK(str_eq(b.u.assign.args[0], S("--qos")) && str_eq(b.u.assign.args[2], S("")));

	m = (struct ctl_msg){ .type = CTL_READY, .agent = S("n"), .run_id = 9 };
	round_trip(&m, &b, buf, sizeof(buf));
	CHECK(b.run_id == 9 && str_eq(b.agent, S("n")));

	m = (struct ctl_msg){ .type = CTL_GO, .run_id = 9,
			      .u.go = { .t0_wall_ns = 1796612400000000000ull, .hb_timeout_ms = 3000 } };
	round_trip(&m, &b, buf, sizeof(buf));
	CHECK(b.u.go.t0_wall_ns == 1796612400000000000ull && b.u.go.hb_timeout_ms == 3000);

	m = (struct ctl_msg){ .type = CTL_SECOND, .agent = S("n"), .run_id = 9,
			      .u.sec = { .wall_sec = 1796612401, .len_ms = 1000,
					 .c = { 1, 2, 3, 4, 5, 6, 7 }, .hist = S(hist) } };
	round_trip(&m, &b, buf, sizeof(buf));
	CHECK(b.u.sec.wall_sec == 1796612401 && b.u.sec.len_ms == 1000);
	CHECK(counts_eq(&b.u.sec.c, &m.u.sec.c));
	CHECK(str_eq(b.u.sec.hist, S(hist)));
	CHECK_EQ_INT(b.u.sec.n_errors, 0);
	/* ...with the run's errors by reason so far. */
	m.u.sec.n_errors = 2;
	m.u.sec.errors[0] = (struct ctl_err){ S("conn_reset"), 3 };
	m.u.sec.errors[1] = (struct ctl_err){ S("upgrade_refused:closed"), 1ull << 40 };
	round_trip(&m, &b, buf, sizeof(buf));
	CHECK_EQ_INT(b.u.sec.n_errors, 2);
	CHECK(str_eq(b.u.sec.errors[0].name, S("conn_reset")) && b.u.sec.errors[0].count == 3);
	CHECK(str_eq(b.u.sec.errors[1].name, S("upgrade_refused:closed")) &&
	      b.u.sec.errors[1].count == 1ull << 40);
	m.u.sec.wire = S(hist); /* ...and the wire's latencies in it */
	round_trip(&m, &b, buf, sizeof(buf));
	CHECK(str_eq(b.u.sec.wire, S(hist)) && b.u.sec.n_errors == 2);
	m.u.sec.wire = (struct ctl_str){ 0 };
	m.u.sec.n_errors = CTL_MAX_ERRORS + 1;
	CHECK(ctl_encode(&m, buf, sizeof(buf)) == -EINVAL);
	{ /* a count of reasons over the bound, on the wire: refused by name */
		m.u.sec.n_errors = 0;
		ssize_t n = ctl_encode(&m, buf, sizeof(buf));
		CHECK(n > 6); /* ... n_errors (2 bytes), an empty wire blob (4) */
		buf[n - 6] = 0;
		buf[n - 5] = CTL_MAX_ERRORS + 1;
		const char *why2 = NULL;
		CHECK(ctl_decode(buf, (size_t)n, &b, &why2) == -EPROTO);
		CHECK(why2 && !strcmp(why2, "more than 64 error reasons"));
	}

	m = (struct ctl_msg){ .type = CTL_DONE, .agent = S("n"), .run_id = 9,
			      .u.done = { .exit_status = -3, .c = { 9, 8, 1, 0, 0, 0, 0 },
					  .hist = S(hist), .report = S("{}") } };
	round_trip(&m, &b, buf, sizeof(buf));
	CHECK_EQ_INT(b.u.done.exit_status, -3);
	CHECK(str_eq(b.u.done.report, S("{}")));
	CHECK(counts_eq(&b.u.done.c, &m.u.done.c));

	m = (struct ctl_msg){ .type = CTL_BYE, .agent = S("n"), .u.bye.reason = S("lost") };
	round_trip(&m, &b, buf, sizeof(buf));
	CHECK(str_eq(b.u.bye.reason, S("lost")));
	CHECK(!strcmp(ctl_type_name(CTL_BYE), "bye") && !strcmp(ctl_type_name(0), "unknown"));
	CHECK(!strcmp(ctl_type_name(CTL_TIME_REPLY), "time-reply"));
	CHECK(!strcmp(ctl_type_name(CTL__COUNT), "unknown"));
}

/* The clock exchange: the request's bytes by hand, the reply's fields. */
static void test_time(void)
{
	struct ctl_msg m = { .type = CTL_TIME_REQUEST, .agent = S("a1"),
			     .u.time = { .seq = 3, .t1 = 0x0102030405060708ull } }, b;
	static const uint8_t want[] = { 'B', 'L', 'C', 'P', 1, CTL_TIME_REQUEST, 0, 2, 'a', '1',
					0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t buf[256];
	const char *why;
	ssize_t n = round_trip(&m, &b, buf, sizeof(buf));

	CHECK_MEM(buf, n, want, sizeof(want));
	CHECK(b.u.time.seq == 3 && b.u.time.t1 == m.u.time.t1 && str_eq(b.agent, S("a1")));

	m = (struct ctl_msg){ .type = CTL_TIME_REPLY, .agent = S("a1"),
			      .u.time = { .seq = 7, .t1 = 100, .t2 = 250, .t3 = 260 } };
	n = round_trip(&m, &b, buf, sizeof(buf));
	CHECK_EQ_INT(n, CTL_HEADER_LEN + 4 + 4 + 3 * 8);
	CHECK(b.u.time.seq == 7 && b.u.time.t1 == 100 && b.u.time.t2 == 250 && b.u.time.t3 == 260);
	/* An agent cannot answer before the request came. */
	m.u.time.t3 = 249;
	n = ctl_encode(&m, buf, sizeof(buf));
	CHECK_EQ_INT(ctl_decode(buf, (size_t)n, &b, &why), -EPROTO);
	CHECK(why && !strcmp(why, "answered before it came (t3 < t2)"));
}

/* Bytes that break one rule each, and the reason given. */
static void test_refusals(void)
{
	uint8_t buf[512];
	struct ctl_msg m, b;
	const char *why;

	CHECK_EQ_INT(ctl_decode((const uint8_t *)"MQTT\x01\x01", 6, &b, &why), -EPROTO);
	CHECK(!strcmp(why, "not a control message"));
	CHECK_EQ_INT(ctl_decode((const uint8_t *)"BLCP\x02\x01", 6, &b, &why), -EPROTO);
	CHECK(!strcmp(why, "another control protocol version"));
	CHECK_EQ_INT(ctl_decode((const uint8_t *)"BLCP\x01\x7f", 6, &b, &why), -EPROTO);
	CHECK(!strcmp(why, "unknown type"));
	CHECK_EQ_INT(ctl_decode((const uint8_t *)"BLCP\x01\x04\x00\x00", 8, &b, &why), -EPROTO);
	CHECK(!strcmp(why, "empty agent name"));

	m = (struct ctl_msg){ .type = CTL_HEARTBEAT, .agent = S("n"), .u.hb = { 1, CTL__STATES } };
	ssize_t n = ctl_encode(&m, buf, sizeof(buf));
	CHECK_EQ_INT(ctl_decode(buf, (size_t)n, &b, &why), -EPROTO);
	CHECK(!strcmp(why, "unknown agent state"));

	memset(&m, 0, sizeof(m));
	m.type = CTL_ASSIGN;
	m.u.assign.share = (struct ctl_share){ .index = 3, .count = 3 };
	n = ctl_encode(&m, buf, sizeof(buf));
	CHECK_EQ_INT(ctl_decode(buf, (size_t)n, &b, &why), -EPROTO);
	CHECK(!strcmp(why, "share index not below its count"));
	m.u.assign.share = (struct ctl_share){ .index = 0, .count = 1, .conn_base = UINT32_MAX, .conns = 2 };
	n = ctl_encode(&m, buf, sizeof(buf));
	CHECK_EQ_INT(ctl_decode(buf, (size_t)n, &b, &why), -EPROTO);
	CHECK(!strcmp(why, "share range past 2^32"));
	/* An argument count past the limit, written by hand. */
	m.u.assign.share = (struct ctl_share){ .index = 0, .count = 1 };
	n = ctl_encode(&m, buf, sizeof(buf));
	buf[n - 2] = 0x01;
	buf[n - 1] = 0x01; /* 257 */
	CHECK_EQ_INT(ctl_decode(buf, (size_t)n, &b, &why), -EPROTO);
	CHECK(!strcmp(why, "too many arguments"));

	m = (struct ctl_msg){ .type = CTL_SECOND, .agent = S("n"), .u.sec.len_ms = 1001 };
	n = ctl_encode(&m, buf, sizeof(buf));
	CHECK_EQ_INT(ctl_decode(buf, (size_t)n, &b, &why), -EPROTO);
	CHECK(!strcmp(why, "a second longer than 1000 ms"));
	/* A blob length past the input. */
	m.u.sec.len_ms = 10;
	n = ctl_encode(&m, buf, sizeof(buf));
	buf[n - 1] = 5;
	CHECK_EQ_INT(ctl_decode(buf, (size_t)n, &b, &why), -EPROTO);
	CHECK(!strcmp(why, "truncated"));

	/* What the encoder refuses. */
	m = (struct ctl_msg){ .type = 0 };
	CHECK_EQ_INT(ctl_encode(&m, buf, sizeof(buf)), -EINVAL);
	m = (struct ctl_msg){ .type = CTL_ASSIGN };
	m.u.assign.n_args = CTL_MAX_ARGS + 1;
	CHECK_EQ_INT(ctl_encode(&m, buf, sizeof(buf)), -EINVAL);
	static char big[70000];
	m = (struct ctl_msg){ .type = CTL_BYE, .agent = S("n"), .u.bye.reason = { big, sizeof(big) } };
	CHECK_EQ_INT(ctl_encode(&m, buf, sizeof(buf)), -EINVAL);
}

int main(void)
{
	test_register_bytes();
	test_each_type();
	test_refusals();
	test_time();
	return t_done("control");
}
