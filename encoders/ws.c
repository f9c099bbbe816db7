/* WebSocket (RFC 6455) client wire code (contract in ws.h).
 *
 * Frames are written straight into the caller's buffer after one size
 * check; the handshake goes through a wbuf. Decoders check the header bytes
 * as they arrive, so a bad frame is refused without waiting for a payload
 * that may never come. Section numbers are RFC 6455's; "7230" is RFC 7230
 * (HTTP/1.1 message syntax), which the handshake borrows. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "sha1.h"
#include "wbuf.h"
#include "utf8.h"
#include "ws.h"

/* ---- helpers ---- */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 4648 base64 with padding; writes 4 * ceil(n / 3) characters and a NUL. */
static void base64(const uint8_t *in, size_t n, char *out)
{
	size_t i = 0, o = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);

		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = 0;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Case-insensitive compare of s[0..n) with the NUL-terminated lit. */
static bool ci_eq(const char *s, size_t n, const char *lit)
{
	size_t i = 0;

	for (; i < n; i++)
		if (!lit[i] || lower(s[i]) != lower(lit[i]))
			return false;
	return !lit[i];
}

/* 7230 3.2.6 tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Does the comma-separated list s[0..n) (7230 7: #token) hold tok? */
static bool list_has(const char *s, size_t n, const char *tok, size_t tok_len, bool ci)
{
	size_t i = 0;

	while (i < n) {
		size_t b, e;

		while (i < n && (is_ows(s[i]) || s[i] == ','))
			i++;
		b = i;
		while (i < n && s[i] != ',')
			i++;
		e = i;
		while (e > b && is_ows(s[e - 1]))
			e--;
		if (e == b)
			continue;
		if (ci) {
			if (e - b == tok_len) {
				size_t k = 0;

				while (k < tok_len && lower(s[b + k]) == lower(tok[k]))
					k++;
				if (k == tok_len)
					return true;
			}
		} else if (e - b == tok_len && !memcmp(s + b, tok, tok_len)) {
			return true;
		}
	}
	return false;
}

bool ws_utf8_valid(const uint8_t *s, size_t n)
{
	return utf8_valid(s, n, true);
}

/* ---- opening handshake ---- */

void ws_make_key(const uint8_t nonce[16], char out[WS_KEY_LEN + 1])
{
	base64(nonce, 16, out);
}

int ws_accept_for_key(const char *key_b64, char out[WS_ACCEPT_LEN + 1])
{
	uint8_t both[WS_KEY_LEN + sizeof(WS_GUID) - 1], digest[SHA1_LEN];

	if (!key_b64 || strnlen(key_b64, WS_KEY_LEN + 1) != WS_KEY_LEN)
		return -EINVAL;
	/* 4.2.2 step 5.4: the key as sent (base64 text, not decoded) + GUID. */
	memcpy(both, key_b64, WS_KEY_LEN);
	memcpy(both + WS_KEY_LEN, WS_GUID, sizeof(WS_GUID) - 1);
	sha1(both, sizeof(both), digest);
	base64(digest, sizeof(digest), out);
	return 0;
}

/* A handshake field: no control bytes (they would end or split a line);
 * spaces only where allow_sp (a space ends the request-target). */
static bool field_ok(const char *s, bool allow_sp)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == 0x7f || (c < 0x20 && !(allow_sp && c == '\t')) || (c == ' ' && !allow_sp))
			return false;
	}
	return true;
}

static void wb_str(struct wbuf *w, const char *s)
{
	wb_bytes(w, s, strlen(s));
}

ssize_t ws_encode_upgrade(uint8_t *out, size_t cap, const char *host, const char *path,
			  const char *key_b64, const char *subprotocol,
			  const char *const *extra_headers, size_t n)
{
	struct wbuf w;

	if (!host || !*host || !field_ok(host, false) || !path || path[0] != '/' ||
	    !field_ok(path, false) || !key_b64 || strlen(key_b64) != WS_KEY_LEN ||
	    !field_ok(key_b64, false))
		return -EINVAL;
	if (subprotocol && (!*subprotocol || !field_ok(subprotocol, true)))
		return -EINVAL;
	if (n && !extra_headers)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		const char *h = extra_headers[i], *p = h;

		if (!h)
			return -EINVAL;
		while (is_tchar((unsigned char)*p))
			p++;
		if (p == h || *p != ':' || !field_ok(h, true))
			return -EINVAL;
	}

	/* 4.1: the request's required fields, in the RFC's example order. */
	wb_init(&w, out, cap);
	wb_str(&w, "GET ");
	wb_str(&w, path);
	wb_str(&w, " HTTP/1.1\r\nHost: ");
	wb_str(&w, host);
	wb_str(&w, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
	wb_str(&w, key_b64);
	wb_str(&w, "\r\nSec-WebSocket-Version: 13\r\n");
	if (subprotocol) {
		wb_str(&w, "Sec-WebSocket-Protocol: ");
		wb_str(&w, subprotocol);
		wb_str(&w, "\r\n");
	}
	for (size_t i = 0; i < n; i++) {
		wb_str(&w, extra_headers[i]);
		wb_str(&w, "\r\n");
	}
	wb_str(&w, "\r\n");
	return wb_result(&w);
}

/* Status line (7230 3.1.2): HTTP/1.x SP 3DIGIT [SP reason]. 4.1 wants
 * HTTP/1.1, but a refusal from an HTTP/1.0 server must still be reported
 * with its code, so any 1.x is read. */
static int parse_status_line(const char *s, size_t n, struct ws_upgrade_resp *out)
{
	if (n < 12 || memcmp(s, "HTTP/1.", 7) || s[7] < '0' || s[7] > '9' || s[8] != ' ')
		return -EPROTO;
	for (int i = 9; i < 12; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EPROTO;
	out->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	if (out->status < 100 || out->status > 599)
		return -EPROTO;
	if (n == 12) {
		out->reason = s + 12; /* no SP: lenient, some servers omit it */
		return 0;
	}
	if (s[12] != ' ')
		return -EPROTO;
	out->reason = s + 13;
	out->reason_len = n - 13;
	return 0;
}

struct upgrade_state {
	unsigned n_upgrade, n_accept;
	bool upgrade_match, accept_match;
};

static int parse_header_line(const char *s, size_t n, const char *expected,
			     struct ws_upgrade_resp *out, struct upgrade_state *st)
{
	size_t name_len = 0, v, e;

	/* 7230 3.2.4: no whitespace before the colon, no obs-fold. */
	while (name_len < n && is_tchar((unsigned char)s[name_len]))
		name_len++;
	if (!name_len || name_len == n || s[name_len] != ':')
		return -EPROTO;
	v = name_len + 1;
	while (v < n && is_ows(s[v]))
		v++;
	e = n;
	while (e > v && is_ows(s[e - 1]))
		e--;

	const char *val = s + v;
	size_t vl = e - v;

	if (ci_eq(s, name_len, "Upgrade")) {
		st->n_upgrade++;
		st->upgrade_match = ci_eq(val, vl, "websocket");
	} else if (ci_eq(s, name_len, "Connection")) {
		if (list_has(val, vl, "upgrade", 7, true))
			out->connection_ok = true;
	} else if (ci_eq(s, name_len, "Sec-WebSocket-Accept")) {
		st->n_accept++;
		st->accept_match = expected && vl == WS_ACCEPT_LEN &&
				   strnlen(expected, WS_ACCEPT_LEN + 1) == WS_ACCEPT_LEN &&
				   !memcmp(val, expected, WS_ACCEPT_LEN);
	} else if (ci_eq(s, name_len, "Sec-WebSocket-Extensions")) {
		out->extensions = true;
	} else if (ci_eq(s, name_len, "Sec-WebSocket-Protocol")) {
		out->n_subprotocol++;
		out->subprotocol = val;
		out->subprotocol_len = vl;
	}
	return 0;
}

ssize_t ws_parse_upgrade_response(const uint8_t *buf, size_t len, const char *expected_accept,
				  struct ws_upgrade_resp *out)
{
	const char *s = (const char *)buf;
	size_t lim = len < WS_UPGRADE_MAX ? len : WS_UPGRADE_MAX, pos = 0;
	struct upgrade_state st = { 0 };
	bool first = true;

	memset(out, 0, sizeof(*out));
	if (!len)
		return 0;
	for (;;) {
		const char *nl = memchr(s + pos, '\n', lim - pos);
		size_t eol, end;
		int r;

		if (!nl)
			return len >= WS_UPGRADE_MAX ? -EMSGSIZE : 0;
		eol = (size_t)(nl - s);
		if (eol == pos || s[eol - 1] != '\r')
			return -EPROTO; /* bare LF */
		end = eol - 1;
		/* 7230 3.2: field values are VCHAR, obs-text, SP and HTAB. */
		for (size_t i = pos; i < end; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c == 0x7f || (c < 0x20 && c != '\t'))
				return -EPROTO;
		}
		if (first) {
			r = parse_status_line(s + pos, end - pos, out);
			first = false;
		} else if (end == pos) {
			break; /* the empty line */
		} else {
			r = parse_header_line(s + pos, end - pos, expected_accept, out, &st);
		}
		if (r < 0)
			return r;
		pos = eol + 1;
		if (pos >= lim)
			return len >= WS_UPGRADE_MAX ? -EMSGSIZE : 0;
	}
	out->upgrade_ok = st.n_upgrade == 1 && st.upgrade_match;
	out->accept_ok = st.n_accept == 1 && st.accept_match;
	if (!out->subprotocol)
		out->subprotocol_len = 0;
	/* Status line, headers, empty line: the block ends after its LF. */
	return (ssize_t)(pos + 2);
}

const char *ws_upgrade_problem(const struct ws_upgrade_resp *r, const char *offered_subprotocol)
{
	if (r->status != 101)
		return "status";
	if (!r->upgrade_ok)
		return "upgrade";
	if (!r->connection_ok)
		return "connection";
	if (!r->accept_ok)
		return "accept";
	if (r->extensions)
		return "extensions"; /* 4.1 item 5: none was asked for */
	/* 4.1 item 6: a subprotocol the client did not offer fails it. */
	if (r->n_subprotocol > 1 ||
	    (r->n_subprotocol == 1 &&
	     (!offered_subprotocol ||
	      !list_has(offered_subprotocol, strlen(offered_subprotocol), r->subprotocol,
			r->subprotocol_len, false) ||
	      !r->subprotocol_len || memchr(r->subprotocol, ',', r->subprotocol_len))))
		return "subprotocol";
	return NULL;
}

/* ---- frames ---- */

static bool opcode_known(uint8_t op)
{
	return op <= WS_OP_BINARY || (op >= WS_OP_CLOSE && op <= WS_OP_PONG);
}

size_t ws_frame_header_size(uint64_t len, bool masked)
{
	return (len <= 125 ? 2 : len <= 0xffff ? 4 : 10) + (masked ? 4 : 0);
}

void ws_mask(uint8_t *p, size_t n, const uint8_t key[4], size_t offset)
{
	uint8_t k[4];
	size_t i = 0;

	if (!n)
		return;
	/* k[j] is the key byte for payload position i with i % 4 == j. */
	for (size_t j = 0; j < 4; j++)
		k[j] = key[(offset + j) & 3];
	/* Bytes up to an 8-byte boundary, so the words below are aligned. */
	while (i < n && ((uintptr_t)(p + i) & 7))
		p[i] ^= k[i & 3], i++;
	if (n - i >= 8) {
		uint8_t kk[8];
		uint64_t kw;

		/* i may be any value here; 8 is a multiple of 4, so one rotated
		 * word serves every later word. memcpy keeps it free of
		 * aliasing and alignment assumptions; compilers make it a
		 * plain load and store. */
		for (size_t j = 0; j < 8; j++)
			kk[j] = k[(i + j) & 3];
		memcpy(&kw, kk, 8);
		for (; n - i >= 8; i += 8) {
			uint64_t v;

			memcpy(&v, p + i, 8);
			v ^= kw;
			memcpy(p + i, &v, 8);
		}
	}
	for (; i < n; i++)
		p[i] ^= k[i & 3];
}

/* Header (5.2) at o, which has room; returns its length. */
static size_t put_header(uint8_t *o, uint8_t b0, uint64_t len, const uint8_t *key)
{
	uint8_t m = key ? 0x80 : 0;
	size_t h = 0;

	o[h++] = b0;
	if (len <= 125) {
		o[h++] = (uint8_t)(m | len);
	} else if (len <= 0xffff) {
		o[h++] = m | 126;
		o[h++] = (uint8_t)(len >> 8);
		o[h++] = (uint8_t)len;
	} else {
		o[h++] = m | 127;
		for (int i = 7; i >= 0; i--)
			o[h++] = (uint8_t)(len >> (8 * i));
	}
	if (key) {
		memcpy(o + h, key, 4);
		h += 4;
	}
	return h;
}

ssize_t ws_encode_frame(uint8_t *out, size_t cap, uint8_t opcode, bool fin,
			const uint8_t *mask_key, const uint8_t *payload, size_t len)
{
	size_t h = ws_frame_header_size(len, mask_key != NULL);

	if (!opcode_known(opcode) || (len && !payload))
		return -EINVAL;
	if (ws_opcode_is_control(opcode) && (!fin || len > WS_MAX_CONTROL_PAYLOAD))
		return -EINVAL;
	if ((uint64_t)len >> 63 || len > (size_t)SSIZE_MAX - h)
		return -EINVAL; /* 5.2: the top bit of a 64-bit length is 0 */
	if (!out || cap < h || len > cap - h)
		return -ENOSPC;
	put_header(out, (uint8_t)((fin ? 0x80 : 0) | opcode), len, mask_key);
	if (len) {
		memcpy(out + h, payload, len);
		if (mask_key)
			ws_mask(out + h, len, mask_key, 0);
	}
	return (ssize_t)(h + len);
}

struct hdr {
	uint8_t b0, len7;
	bool masked;
	uint64_t plen;
};

/* The header at buf with no policy: header length, 0 when incomplete. */
static size_t header_parse(const uint8_t *buf, size_t len, struct hdr *h)
{
	size_t hl = 2;

	if (len < 2)
		return 0;
	h->b0 = buf[0];
	h->masked = buf[1] & 0x80;
	h->len7 = buf[1] & 0x7f;
	h->plen = h->len7;
	if (h->len7 == 126) {
		if (len < 4)
			return 0;
		h->plen = (uint64_t)buf[2] << 8 | buf[3];
		hl = 4;
	} else if (h->len7 == 127) {
		if (len < 10)
			return 0;
		h->plen = 0;
		for (int i = 0; i < 8; i++)
			h->plen = h->plen << 8 | buf[2 + i];
		hl = 10;
	}
	hl += h->masked ? 4 : 0;
	return len < hl ? 0 : hl;
}

uint64_t ws_frame_size(const uint8_t *buf, size_t len)
{
	struct hdr h;
	size_t hl = header_parse(buf, len, &h);

	if (!hl)
		return 0;
	return h.plen > UINT64_MAX - hl ? UINT64_MAX : hl + h.plen;
}

ssize_t ws_decode_frame(const uint8_t *buf, size_t len, size_t max_payload, struct ws_frame *f)
{
	struct hdr h;
	size_t hl;

	if (len < 2)
		return 0;
	uint8_t b0 = buf[0], op = b0 & 0x0f, len7 = buf[1] & 0x7f;

	if (b0 & 0x70)
		return -EPROTO; /* 5.2: RSV1-3 without a negotiated extension */
	if (!opcode_known(op))
		return -EPROTO;
	if (buf[1] & 0x80)
		return -EPROTO; /* 5.1: servers never mask */
	if (ws_opcode_is_control(op) && (!(b0 & 0x80) || len7 > WS_MAX_CONTROL_PAYLOAD))
		return -EPROTO; /* 5.5 */
	/* Length bytes first, so the checks below need no payload. */
	if ((len7 == 126 && len < 4) || (len7 == 127 && len < 10))
		return 0;
	hl = header_parse(buf, len, &h);
	/* 5.2: "the minimal number of bytes MUST be used", top bit 0. */
	if ((len7 == 126 && h.plen <= 125) || (len7 == 127 && (h.plen <= 0xffff || h.plen >> 63)))
		return -EPROTO;
	if ((max_payload && h.plen > max_payload) || h.plen > (uint64_t)(SSIZE_MAX - 10))
		return -EMSGSIZE;
	if (len - hl < h.plen)
		return 0;
	f->opcode = op;
	f->fin = b0 & 0x80;
	f->payload = buf + hl;
	f->payload_len = (size_t)h.plen;
	f->header_len = hl;
	f->frame_len = hl + (size_t)h.plen;
	return (ssize_t)f->frame_len;
}

int ws_frame_restamp(uint8_t *frame, size_t frame_len, size_t at, const void *src, size_t n)
{
	struct hdr h;
	size_t hl = header_parse(frame, frame_len, &h);

	if (!hl || h.plen > frame_len - hl || at > h.plen || n > h.plen - at || (n && !src))
		return -EINVAL;
	if (!n)
		return 0;
	memcpy(frame + hl + at, src, n);
	if (h.masked)
		ws_mask(frame + hl + at, n, frame + hl - 4, at);
	return 0;
}

int ws_frame_rekey(uint8_t *frame, size_t frame_len, const uint8_t new_key[4])
{
	struct hdr h;
	size_t hl = header_parse(frame, frame_len, &h);
	uint8_t x[4];

	if (!hl || !h.masked || h.plen > frame_len - hl)
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		x[i] = frame[hl - 4 + i] ^ new_key[i];
	ws_mask(frame + hl, (size_t)h.plen, x, 0);
	memcpy(frame + hl - 4, new_key, 4);
	return 0;
}

/* ---- messages ---- */

void ws_asm_init(struct ws_msg_assembler *a, uint8_t *buf, size_t cap, bool check_utf8)
{
	a->buf = buf;
	a->cap = buf ? cap : 0;
	a->len = 0;
	a->opcode = 0;
	a->check_utf8 = check_utf8;
}

static int asm_fail(struct ws_msg_assembler *a, int err)
{
	a->len = 0;
	a->opcode = 0;
	return err;
}

int ws_asm_feed(struct ws_msg_assembler *a, const struct ws_frame *f, struct ws_msg *m)
{
	if (!opcode_known(f->opcode))
		return asm_fail(a, -EPROTO);
	/* 5.4: control frames may be injected in the middle of a message. */
	if (ws_opcode_is_control(f->opcode)) {
		if (!f->fin || f->payload_len > WS_MAX_CONTROL_PAYLOAD)
			return asm_fail(a, -EPROTO);
		m->opcode = f->opcode;
		m->data = f->payload;
		m->len = f->payload_len;
		return 1;
	}
	if (f->opcode == WS_OP_CONT) {
		if (!a->opcode)
			return asm_fail(a, -EPROTO); /* nothing to continue */
	} else {
		if (a->opcode)
			return asm_fail(a, -EPROTO); /* 5.4: fragments not interleaved */
		if (f->fin) {
			/* Unfragmented: no copy. */
			if (f->payload_len > a->cap)
				return asm_fail(a, -EMSGSIZE);
			if (f->opcode == WS_OP_TEXT && a->check_utf8 &&
			    !ws_utf8_valid(f->payload, f->payload_len))
				return asm_fail(a, -EILSEQ);
			m->opcode = f->opcode;
			m->data = f->payload;
			m->len = f->payload_len;
			return 1;
		}
		a->opcode = f->opcode;
		a->len = 0;
	}
	if (f->payload_len > a->cap - a->len)
		return asm_fail(a, -EMSGSIZE);
	if (f->payload_len) {
		memcpy(a->buf + a->len, f->payload, f->payload_len);
		a->len += f->payload_len;
	}
	if (!f->fin)
		return 0;
	m->opcode = a->opcode;
	m->data = a->buf;
	m->len = a->len;
	a->opcode = 0;
	a->len = 0;
	if (m->opcode == WS_OP_TEXT && a->check_utf8 && !ws_utf8_valid(m->data, m->len))
		return -EILSEQ;
	return 1;
}

/* ---- control frames ---- */

bool ws_close_code_valid(uint16_t code)
{
	/* 7.4.1 and 7.4.2; 1012-1014 were registered with IANA after the
	 * RFC and are sent by real servers (1012 on restart). */
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	       (code >= 3000 && code <= 4999);
}

ssize_t ws_encode_close(uint8_t *out, size_t cap, const uint8_t *mask_key, uint16_t code,
			const char *reason, size_t reason_len)
{
	uint8_t body[WS_MAX_CONTROL_PAYLOAD];
	size_t n = 0;

	if (reason_len && !reason)
		return -EINVAL;
	if (!code) {
		if (reason_len)
			return -EINVAL; /* 5.5.1: a reason needs a code before it */
	} else {
		if (!ws_close_code_valid(code) || reason_len > WS_MAX_CONTROL_PAYLOAD - 2 ||
		    !ws_utf8_valid((const uint8_t *)reason, reason_len))
			return -EINVAL;
		body[0] = (uint8_t)(code >> 8);
		body[1] = (uint8_t)code;
		if (reason_len)
			memcpy(body + 2, reason, reason_len);
		n = 2 + reason_len;
	}
	return ws_encode_frame(out, cap, WS_OP_CLOSE, true, mask_key, n ? body : NULL, n);
}

int ws_parse_close(const uint8_t *payload, size_t len, uint16_t *code, const char **reason,
		   size_t *reason_len)
{
	uint16_t c;

	if (!len) {
		*code = WS_CLOSE_NO_STATUS; /* 7.1.5 */
		*reason = NULL;
		*reason_len = 0;
		return 0;
	}
	if (len < 2 || len > WS_MAX_CONTROL_PAYLOAD)
		return -EPROTO;
	c = (uint16_t)(payload[0] << 8 | payload[1]);
	if (!ws_close_code_valid(c) || !ws_utf8_valid(payload + 2, len - 2))
		return -EPROTO;
	*code = c;
	*reason = (const char *)payload + 2;
	*reason_len = len - 2;
	return 0;
}

ssize_t ws_encode_ping(uint8_t *out, size_t cap, const uint8_t *mask_key, const uint8_t *payload,
		       size_t len)
{
	return ws_encode_frame(out, cap, WS_OP_PING, true, mask_key, payload, len);
}

ssize_t ws_encode_pong(uint8_t *out, size_t cap, const uint8_t *mask_key, const uint8_t *payload,
		       size_t len)
{
	return ws_encode_frame(out, cap, WS_OP_PONG, true, mask_key, payload, len);
}
