/* HTTP/1.1 (RFC 9112) wire code for a client: request heads, and an
 * incremental response decoder that keeps no bytes. Pure: no I/O, no
 * globals, no allocation.
 *
 * The decoder is a byte-driven state machine: a response may arrive split
 * at any byte, over any number of feeds, and nothing of it is copied or
 * buffered (bodies are counted and skipped; of the header block only the
 * values of Content-Length, Transfer-Encoding and Connection are looked
 * at, through a small fixed buffer). It never reads outside the bytes it
 * is given (a whole, plain head in one buffer is read in one pass, to the
 * same outcome). Section numbers below are RFC 9112's unless named. */
#ifndef BLAST_HTTP_H
#define BLAST_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_MAX_HEAD_DEFAULT 65536u          /* bytes of one response head */
#define HTTP_MAX_BODY_DEFAULT (1ull << 30)    /* bytes of one response body */
#define HTTP_VALUE_MAX 256 /* longest Content-Length/Transfer-Encoding/Connection value */

/* ---- requests ---- */

/* RFC 9110 5.6.2 token (a method, a field name): 1*tchar. */
bool http_token_ok(const char *s, size_t n);
/* A field value we may send: visible ASCII, obs-text, SP and HTAB; no CR,
 * LF or other control byte (which would split the request). */
bool http_value_ok(const char *s, size_t n);
/* An origin-form target (3.2.1): starts with '/', then visible ASCII only. */
bool http_path_ok(const char *s, size_t n);

struct http_req {
	const char *method;          /* a token: "GET", "HEAD", "POST"... */
	const char *path;            /* origin-form; "{conn}" and "{seq}" expand */
	const char *host;            /* the Host value, "127.0.0.1:8080" */
	const char *const *headers;  /* n_headers whole "Name: value" lines, no CRLF */
	size_t n_headers;
	const char *content_type;    /* NULL: no Content-Type line */
	uint64_t body_len;           /* the body the caller writes after the head */
	bool send_length;            /* Content-Length even when body_len is 0 */
	bool close;                  /* Connection: close (one request per connection) */
	uint64_t conn, seq;          /* what {conn} and {seq} expand to */
};

/* 0 when every field of r may be sent, else -EINVAL: method not a token,
 * path not origin-form (after a trial expansion), empty host or one with a
 * control byte, a header line without "Name:" or with a control byte, a
 * content type with a control byte. Check once; http_encode_head trusts r. */
int http_req_check(const struct http_req *r);

/* The head, through the empty line:
 *   METHOD path HTTP/1.1, Host, the caller's headers, Content-Type (when
 *   set), Content-Length (when body_len or send_length), Connection: close
 *   (when close; HTTP/1.1 is keep-alive by default).
 * Bytes written, or -ENOSPC when cap is too small. */
ssize_t http_encode_head(uint8_t *out, size_t cap, const struct http_req *r);

/* path with "{conn}" and "{seq}" replaced by decimal conn and seq, and a
 * NUL. Length without the NUL, or -ENOSPC. Other braces are literal. */
ssize_t http_expand_path(char *out, size_t cap, const char *path, uint64_t conn, uint64_t seq);

/* ---- responses ---- */

/* What http_dec_feed ran into: flags; feed stops after the byte that
 * raises any of them, so the caller sees each one. */
enum http_event {
	HTTP_EV_INTERIM = 1, /* a 1xx head (not 101) ended; the final one follows */
	HTTP_EV_HEAD = 2,    /* the final head ended: status and framing known */
	HTTP_EV_DONE = 4,    /* the response ended (with HEAD when it has no body) */
};

enum http_framing {
	HTTP_BODY_NONE,    /* HEAD request, 1xx, 204, 304, or Content-Length: 0 */
	HTTP_BODY_LENGTH,  /* Content-Length bytes */
	HTTP_BODY_CHUNKED, /* Transfer-Encoding ending in chunked (7.1) */
	HTTP_BODY_EOF,     /* neither: the body runs until the server closes (6.3 item 8) */
};

struct http_dec {
	/* Set by the caller (http_dec_init sets the limits). head_req: the
	 * request this response answers was HEAD (6.3 item 1: no body); set
	 * it before the response's first byte is fed. */
	uint32_t max_head;   /* bytes of a head (status line and fields; each 1xx too) */
	bool head_req;
	uint64_t max_body;   /* body bytes, whatever the framing */

	/* The response in progress (or just ended), read-only. */
	uint16_t status;     /* 100..599 once the status line is read, else 0 */
	uint8_t minor;       /* HTTP/1.minor */
	uint8_t framing;     /* enum http_framing, once HEAD was raised */
	bool close;          /* the server closes after it (Connection: close, or 1.0 without keep-alive) */
	uint64_t length;     /* Content-Length, when given */
	uint64_t body;       /* body bytes so far (chunk framing and trailers not counted) */
	uint64_t wire;       /* bytes of the response so far, head, 1xx heads and framing too */
	uint32_t interim;    /* 1xx heads before the final one */

	/* Private. */
	uint8_t st;          /* the parser's state */
	uint8_t hdr;         /* which field's value is being read */
	uint8_t name_len;
	bool have_len, have_te, te_chunked, keep_alive, in_trailer, started;
	uint32_t head_bytes; /* bytes of the current head */
	uint32_t val_len;
	uint64_t left;       /* bytes left in the body or chunk */
	char name[20];       /* the field name, lowercased, when short */
	char val[HTTP_VALUE_MAX];
};

void http_dec_init(struct http_dec *d, uint32_t max_head, uint64_t max_body);

/* Consumes bytes of the response stream from buf, up to len, and stops
 * right after the byte that raised an event. Returns the bytes consumed
 * (0 only when len is 0) and sets *ev (0: none, need more bytes), or:
 *   -EPROTO    not HTTP/1.x, a status outside 100..599, 101 (never asked
 *              for), a field line without a name and colon or with
 *              whitespace before the colon (5.1), obs-fold (5.2), a
 *              control byte in a line, CR not before LF, an invalid or
 *              conflicting Content-Length (6.3 item 5), Content-Length
 *              with Transfer-Encoding (6.3 item 3: refused), a bad chunk
 *              size or chunk end
 *   -EMSGSIZE  a head over max_head, a Content-Length, chunk total or
 *              read-to-EOF body over max_body, a watched field's value
 *              over HTTP_VALUE_MAX
 * After an error the decoder is spent: the connection must be closed.
 * After DONE the next byte starts the next response (a bare LF or CRLF
 * between responses is not allowed). */
ssize_t http_dec_feed(struct http_dec *d, const uint8_t *buf, size_t len, unsigned *ev);

/* The server closed the connection. HTTP_EV_DONE when that ends a
 * read-to-EOF body (the response is whole), 0 when no response was in
 * progress (between responses: nothing lost), -EPROTO when it cut a
 * response short. */
int http_dec_eof(struct http_dec *d);

/* Whether the decoder sits between responses (no byte of the next one
 * read yet): the next fed byte is that response's first byte. */
static inline bool http_dec_idle(const struct http_dec *d)
{
	return !d->started;
}

/* ---- whole responses, remembered ---- */

/* A server answering the same request again mostly sends the same bytes
 * (a fixed 200; nginx's differ once a second, by Date). http_memo keeps
 * the last response a decoder read whole, from idle, in one call of
 * http_dec_feed_resp, with the state that reading it left; the next
 * response that starts with the same bytes is then taken with one
 * memcmp. The decoder is a function of its bytes from idle (and of
 * head_req and its limits, which must match too), so the result is the
 * same as reading it afresh. One memo may serve many decoders (a worker's
 * connections to the same server). */
#define HTTP_MEMO_MAX 256 /* longest response remembered */

struct http_memo {
	uint16_t len;         /* bytes remembered; 0: none */
	unsigned ev;          /* the events reading them raised */
	bool head_req;        /* the decoder's settings when they were read */
	uint32_t max_head;
	uint64_t max_body;
	struct http_dec after; /* the decoder's state after them */
	uint8_t bytes[HTTP_MEMO_MAX];
};

/* http_dec_feed over buf, going on past HTTP_EV_HEAD: it stops after the
 * byte that ends a response (DONE) or a 1xx head (INTERIM), at the end of
 * buf, or at an error (returned as http_dec_feed would). *ev is every
 * event raised. memo may be NULL; else a response that starts at buf
 * while d is idle and matches memo is taken from it, and one read whole
 * from idle here (at most HTTP_MEMO_MAX bytes, no 1xx) replaces it. */
ssize_t http_dec_feed_resp(struct http_dec *d, struct http_memo *memo, const uint8_t *buf,
			   size_t len, unsigned *ev);

#endif
