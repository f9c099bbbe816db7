/* libFuzzer target for the TLS layer (userspace/transport/tls.c): the
 * input is what a server answers a ClientHello with, fed through the
 * transport stack (tcp, tls) in reads whose sizes the first byte picks.
 * The layer's own code reads those bytes (the first-byte check for a
 * plaintext server, the failure's reason and note) before and after
 * OpenSSL does; a failure must be counted under exactly one reason and
 * the connection failed once, and nothing may read past the input.
 *
 * Built with -DWITH_MAIN it is a plain program that replays files (see
 * replay.h). */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats/hist.h"
#include "stats/stats.h"
#include "transport/transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct blast_totals tot;
static unsigned fails, ups;
static char note[200];

static void on_fail(void *ctx, struct tlink *l, enum blast_err why)
{
	(void)ctx, (void)l;
	if (why < ERR__COUNT)
		tot.errors[why]++;
	fails++;
}

static int on_deliver(void *ctx, struct tlink *l, const uint8_t *p, size_t n)
{
	(void)ctx, (void)l;
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < n; i++)
		sink ^= p[i]; /* every byte handed up must be readable */
	(void)sink;
	return 0;
}

static void on_up(void *ctx, struct tlink *l)
{
	(void)ctx, (void)l;
	ups++;
}

static int64_t no_offset(void *ctx, const uint8_t *p)
{
	(void)ctx, (void)p;
	return -1;
}

static void no_mark(void *ctx, int64_t off)
{
	(void)ctx, (void)off;
}

static uint64_t errors_total(void)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < ERR__COUNT; i++)
		n += tot.errors[i];
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct blast_opts o = { .proto = PROTO_MQTT, .tls = true, .insecure = true };
	static struct hist *stage[HS__COUNT];
	static struct transport_env env;
	static struct tstack s;
	static const struct blast_target tg = { .host = "localhost", .port = 8883 };
	static bool built;
	static uint64_t now = 1;
	static uint8_t buf[65536];

	if (!built) {
		for (unsigned i = 0; i < HS__COUNT; i++)
			stage[i] = hist_new();
		env = (struct transport_env){ .o = &o, .t = &tot, .now = &now, .fail = on_fail,
					      .deliver = on_deliver, .layer_up = on_up,
					      .rx_offset = no_offset, .rx_mark_at = no_mark,
					      .stage = stage, .note = note, .note_cap = sizeof(note) };
		if (tstack_build(&s, &o, &env, NULL, 0) < 0)
			abort();
		built = true;
	}
	if (size < 1)
		return 0;
	size_t step = 1 + data[0] * 64u;
	data++, size--;
	memset(&tot, 0, sizeof(tot));
	fails = ups = 0;
	note[0] = 0;

	struct tlink l = { 0 };
	uint32_t off = 0, len = 0;
	if (tlink_open(&l, &s, &tg, 1) < 0)
		abort();
	int r = tlink_hello(&l, buf, sizeof(buf) / 2, sizeof(buf), &off, &len);
	assert(r == 1 && len > off); /* a ClientHello to send */
	size_t fed = 0;
	while (fed < size) {
		size_t n = size - fed < step ? size - fed : step;
		/* A copy of exactly n bytes: ASan sees any read past it. */
		uint8_t *chunk = malloc(n);
		memcpy(chunk, data + fed, n);
		r = tlink_recv(&l, chunk, n);
		free(chunk);
		fed += n;
		if (r < 0)
			break;
		tlink_take_control(&l, buf, sizeof(buf) / 2, sizeof(buf));
	}
	if (r < 0) {
		/* Failed once, under one reason, in words when TLS's own. */
		assert(fails >= 1 && errors_total() == 1);
		bool tls_reason = false;
		for (unsigned i = ERR_TLS_VERIFY; i <= ERR_TLS_RECORD; i++)
			tls_reason |= tot.errors[i] != 0;
		assert(!tls_reason || note[0]);
	}
	if (tlink_is_up(&l) && r >= 0) {
		/* Up (a real handshake in the corpus): a send seals into records. */
		memcpy(buf, "\x30\x05\x00\x01t\x00x", 7);
		off = 0, len = 7;
		assert(tlink_wrap(&l, buf, &off, &len, sizeof(buf)) == 0 && len > 7);
	}
	tlink_close(&l);
	return 0;
}

#ifdef WITH_MAIN
#include "replay.h"
#endif
