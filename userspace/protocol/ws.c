/* --proto ws: messages over WebSocket, one frame each, and the fan-out
 * measurement. Every message starts with a fixed 44-byte ASCII header,
 *
 *     "BLWS" run(8 hex) seq(16 hex) sent(16 hex, CLOCK_REALTIME ns)
 *
 * readable in a text frame, so any connection that receives it (the
 * sender's too, when the server echoes) can tell this run's messages from
 * others, count each one once per connection, and time it. As MQTT's
 * fan-out marks (stats/fanout.h), a split run's shares agree on the run id
 * (from --start-at), their sequence numbers never meet (the header needs
 * no publisher number: a sequence number is unique in the run), and the
 * send time is on the wall clock, so every share's listeners count and
 * time every share's messages.
 * The body after the header is filler, a --payload-file line, or a
 * --payload-proto message.
 * A message counts as acked once written whole; receipts are counted
 * apart (received, duplicates) against what the fan-out makes expected. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload/protobuf.h"
#include "encoders/blws.h"
#include "engine/protocol.h"
#include "protocol/registry.h"
#include "protocol/receipts.h"
#include "stats/fanout.h"
#include "engine/worker.h"

/* What a connection has received. */
struct wsr {
	struct receipt_set rs;
};

static int ws_setup(struct worker *w)
{
	const struct blast_opts *o = w->o;

	w->payload_len = o->payloads.n ? 0 : o->payload_size;
	w->payload = malloc(w->payload_len > WS_HEADER_LEN ? w->payload_len : WS_HEADER_LEN);
	if (!w->payload)
		return -ENOMEM;
	/* The header as a template: "BLWS" and the run stay, fill writes the
	 * numbers over the zeros, and receipts compare their first
	 * BLWS_PREFIX_LEN bytes with it. */
	blws_stamp(w->payload, w->shm->run_id, 0, 0);
	for (uint32_t i = WS_HEADER_LEN; i < w->payload_len; i++)
		w->payload[i] = (uint8_t)('a' + i % 26);
	for (uint32_t i = 0; i < w->n_conns; i++) {
		w->conns[i].pstate = calloc(1, sizeof(struct wsr));
		if (!w->conns[i].pstate)
			return -ENOMEM;
	}
	return 0;
}

static void ws_teardown(struct worker *w)
{
	for (uint32_t i = 0; i < w->n_conns; i++) {
		struct wsr *r = w->conns[i].pstate;
		if (r)
			receipt_set_free(&r->rs);
		free(r);
		w->conns[i].pstate = NULL;
	}
}

static ssize_t ws_hello(struct worker *w, struct conn *c, uint8_t *out, size_t cap)
{
	(void)w, (void)c, (void)out, (void)cap;
	return 0; /* ready once upgraded */
}

/* The transport hands over each frame's payload: one message. */
static ssize_t ws_frame_total(const uint8_t *buf, size_t len)
{
	(void)buf;
	return len ? (ssize_t)len : 0;
}

static int ws_on_frame(struct worker *w, struct conn *c, const uint8_t *buf, size_t len)
{
	struct wsr *r = c->pstate;
	uint64_t seq, sent;

	/* Not ours (another client's, another run's, or no header): not
	 * counted. Ours start with the run's prefix, kept in w->payload. */
	if (len < BLWS_LEN || memcmp(buf, w->payload, BLWS_PREFIX_LEN) ||
	    blws_parse_numbers(buf, &seq, &sent))
		return 0;
	return receipt_count_marked(w, c, &r->rs, seq, sent);
}

/* Frame header for a client frame of n payload bytes with mask key. */
static size_t frame_header(uint8_t *p, uint8_t opcode, size_t n, const uint8_t key[4])
{
	size_t h = 0;

	p[h++] = 0x80 | opcode;
	if (n > 65535) {
		p[h++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			p[h++] = (uint8_t)(n >> (8 * i));
	} else if (n > 125) {
		p[h++] = 0x80 | 126;
		p[h++] = (uint8_t)(n >> 8);
		p[h++] = (uint8_t)n;
	} else {
		p[h++] = 0x80 | (uint8_t)n;
	}
	memcpy(p + h, key, 4);
	return h + 4;
}

static void mask8(uint8_t *p, size_t n, const uint8_t key[4])
{
	uint8_t kk[8];
	uint64_t k8;

	memcpy(kk, key, 4);
	memcpy(kk + 4, key, 4);
	memcpy(&k8, kk, 8);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v;
		memcpy(&v, p + i, 8);
		v ^= k8;
		memcpy(p + i, &v, 8);
	}
	for (; i < n; i++)
		p[i] ^= key[i & 3];
}

static uint32_t ws_fill(struct worker *w, struct conn *c, struct chunk *ch, uint64_t first,
			uint32_t n)
{
	const struct blast_opts *o = w->o;
	/* A protobuf message is not UTF-8: text frames would be refused (1007). */
	uint8_t opcode = o->binary || w->pgen ? 0x2 : 0x1;
	bool filler = !o->payloads.n && !w->pgen;
	uint8_t sent_hex[16];
	uint32_t done = 0;

	/* Every message of one fill goes out at w->now (on the wall clock). */
	blws_put_hex16(sent_hex, w->now + receipt_wall_off(w));
	for (; done < n; done++) {
		uint64_t seq = (first + done) * w->n_workers + w->id;
		const uint8_t *body = w->payload + WS_HEADER_LEN;
		size_t body_len = w->payload_len > WS_HEADER_LEN ? w->payload_len - WS_HEADER_LEN : 0;
		if (o->payloads.n) {
			size_t line = w->payload_next % o->payloads.n;
			body = (const uint8_t *)o->payloads.lines[line];
			body_len = o->payloads.lens[line];
		} else if (w->pgen) {
			/* --payload-proto: the message follows the header. */
			ssize_t pl = payload_gen_fill(w->pgen, seq, w->pbuf, w->pbuf_cap);
			if (pl < 0)
				break;
			body = w->pbuf;
			body_len = (size_t)pl;
		}
		size_t plen = WS_HEADER_LEN + body_len;
		if (ch->len + 14 + plen > ch->cap)
			break;
		uint32_t r = (uint32_t)(seq * 2654435761u) ^ c->idx;
		uint8_t key[4];
		memcpy(key, &r, 4);
		uint8_t *p = ch->data + ch->len;
		size_t h = frame_header(p, opcode, plen, key);
		/* The template (prefix, then filler after the header), then
		 * this message's numbers. */
		if (filler) {
			memcpy(p + h, w->payload, plen);
		} else {
			memcpy(p + h, w->payload, BLWS_PREFIX_LEN);
			memcpy(p + h + WS_HEADER_LEN, body, body_len);
		}
		blws_put_hex16(p + h + BLWS_PREFIX_LEN, fanout_seq(o, seq));
		memcpy(p + h + BLWS_PREFIX_LEN + 16, sent_hex, 16);
		mask8(p + h, plen, key);
		ch->len += (uint32_t)(h + plen);
		ch->n_frames++;
		if (o->payloads.n)
			w->payload_next++;
	}
	return done;
}

/* Receipts can still be on their way after the last send: the drain lasts
 * until the parent sees every expected receipt (or the drain times out). */
static bool ws_idle(const struct worker *w)
{
	return w->shm->fanout_done;
}

const struct proto_ops ws_proto = {
	.name = "ws",
	.setup = ws_setup,
	.hello = ws_hello,
	.frame_total = ws_frame_total,
	.on_frame = ws_on_frame,
	.fill = ws_fill,
	.idle = ws_idle,
	.teardown = ws_teardown,
};
