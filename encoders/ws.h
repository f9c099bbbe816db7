/* WebSocket (RFC 6455) wire code for a client: the opening handshake, frame
 * encoding with masking, incremental frame decoding, message reassembly and
 * Close bodies. Pure: no I/O, no globals, no allocation, nothing outside
 * libc (ws_accept_for_key's SHA-1 is sha1.c's).
 *
 * Encoder contract: returns the number of bytes written, or -ENOSPC when cap
 * is too small (nothing useful is left in out then), or -EINVAL for values
 * the RFC forbids (unknown opcode, control payload over 125 bytes, a CR or
 * LF inside a handshake field...). Never writes past out + cap.
 *
 * Decoder contract: never reads past buf + len, whatever the bytes are.
 * Incremental decoders return > 0 (bytes of a whole unit), 0 (need more
 * bytes: call again with the same bytes plus more), or a negative errno:
 * -EPROTO malformed, -EMSGSIZE over a size limit. Outputs point into the
 * caller's bytes. Section numbers below are RFC 6455's. */
#ifndef BLAST_WS_H
#define BLAST_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* 1.3: appended to the key before hashing. */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_LEN 24    /* base64 of a 16-byte nonce (4.1) */
#define WS_ACCEPT_LEN 28 /* base64 of a 20-byte SHA-1 */
/* Largest frame header: 2 + 8-byte length + 4-byte mask key (5.2). */
#define WS_MAX_HEADER 14
#define WS_MAX_CONTROL_PAYLOAD 125 /* 5.5 */
/* A response header block longer than this is refused (-EMSGSIZE). */
#define WS_UPGRADE_MAX 16384

enum ws_opcode { /* 5.2; 0x3-0x7 and 0xB-0xF are reserved */
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA,
};

/* 7.4.1, and the IANA "WebSocket Close Code Number Registry" for 1012-1014. */
enum ws_close_code {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL_ERROR = 1002,
	WS_CLOSE_UNSUPPORTED_DATA = 1003,
	WS_CLOSE_NO_STATUS = 1005,      /* never on the wire: empty Close body */
	WS_CLOSE_ABNORMAL = 1006,       /* never on the wire */
	WS_CLOSE_INVALID_PAYLOAD = 1007,
	WS_CLOSE_POLICY_VIOLATION = 1008,
	WS_CLOSE_MESSAGE_TOO_BIG = 1009,
	WS_CLOSE_MANDATORY_EXT = 1010,
	WS_CLOSE_INTERNAL_ERROR = 1011,
	WS_CLOSE_SERVICE_RESTART = 1012,
	WS_CLOSE_TRY_AGAIN_LATER = 1013,
	WS_CLOSE_BAD_GATEWAY = 1014,
	WS_CLOSE_TLS_HANDSHAKE = 1015,  /* never on the wire */
};

static inline bool ws_opcode_is_control(uint8_t op)
{
	return op & 0x8;
}

/* ---- opening handshake (4.1, 4.2.2) ---- */

/* Sec-WebSocket-Key from a 16-byte nonce: 24 base64 characters and a NUL.
 * 4.1 wants the nonce random per connection. */
void ws_make_key(const uint8_t nonce[16], char out[WS_KEY_LEN + 1]);

/* Sec-WebSocket-Accept the server must send for key_b64:
 * base64(SHA-1(key_b64 + WS_GUID)), 28 characters and a NUL. Returns 0, or
 * -EINVAL when key_b64 is not 24 characters long. */
int ws_accept_for_key(const char *key_b64, char out[WS_ACCEPT_LEN + 1]);

/* The client's GET request, ending with the empty line:
 *   GET path HTTP/1.1, Host, Upgrade: websocket, Connection: Upgrade,
 *   Sec-WebSocket-Key, Sec-WebSocket-Version: 13,
 *   Sec-WebSocket-Protocol (when subprotocol is not NULL),
 *   then the n extra_headers, each a whole "Name: value" line without CRLF.
 * host is sent as given (add ":port" when it is not the default). Bytes
 * written, -ENOSPC, or -EINVAL: empty host, path not starting with '/',
 * key not 24 characters, an empty subprotocol, an extra header without a
 * "Name:" part, or a control byte (CR, LF, anything < 0x20 but tab, DEL)
 * anywhere, which would let a value inject headers or split the request. */
ssize_t ws_encode_upgrade(uint8_t *out, size_t cap, const char *host, const char *path,
			  const char *key_b64, const char *subprotocol,
			  const char *const *extra_headers, size_t n);

/* What the server answered. Pointers are into the caller's bytes. */
struct ws_upgrade_resp {
	int status;              /* 100..599 */
	const char *reason;      /* reason phrase, may be empty */
	size_t reason_len;
	bool upgrade_ok;         /* exactly one Upgrade, and it is "websocket" */
	bool connection_ok;      /* a Connection header lists the token "Upgrade" */
	bool accept_ok;          /* exactly one Sec-WebSocket-Accept, equal to expected */
	bool extensions;         /* Sec-WebSocket-Extensions present: none was offered */
	const char *subprotocol; /* Sec-WebSocket-Protocol value, NULL when absent */
	size_t subprotocol_len;
	unsigned n_subprotocol;  /* how many Sec-WebSocket-Protocol headers */
};

/* Incremental parse of the response's status line and header block from
 * the start of buf (case-insensitive names, optional whitespace around
 * values, lines ending in CRLF):
 *   > 0        the block is complete; that many bytes (through the empty
 *              line) belong to it, the rest are frames. *out is filled in
 *              for any status, so a refusal can be reported with its code
 *              and reason ("upgrade refused: 400 Bad Request").
 *   0          need more bytes
 *   -EPROTO    not an HTTP/1.x status line, a status outside 100..599, a
 *              bare LF, a header line without a name and colon, obs-fold
 *   -EMSGSIZE  no end of block within WS_UPGRADE_MAX bytes
 * expected_accept is ws_accept_for_key's output; NULL leaves accept_ok
 * false. Whether to go on is ws_upgrade_problem's call. */
ssize_t ws_parse_upgrade_response(const uint8_t *buf, size_t len, const char *expected_accept,
				  struct ws_upgrade_resp *out);

/* NULL when the upgrade succeeded per 4.1 (101, Upgrade, Connection,
 * Accept right; no extension; at most one Sec-WebSocket-Protocol, and only
 * naming one of the offered, comma-separated subprotocols; its absence is
 * allowed, as in 4.1: a caller that needs one checks r->subprotocol).
 * Otherwise a short stable
 * reason: "status", "upgrade", "connection", "accept", "extensions",
 * "subprotocol". For "status", print r->status and r->reason. */
const char *ws_upgrade_problem(const struct ws_upgrade_resp *r, const char *offered_subprotocol);

/* ---- frames (5.2) ---- */

/* Header bytes for a payload of len bytes: 2, 4 or 10, plus 4 when masked. */
size_t ws_frame_header_size(uint64_t len, bool masked);

/* One frame: header, then the payload masked with mask_key (a client MUST
 * mask every frame, 5.3; mask_key NULL writes an unmasked frame, as a
 * server would). payload may be NULL when len is 0; it may not overlap out.
 * Bytes written (ws_frame_header_size + len), -ENOSPC, or -EINVAL: opcode
 * not in enum ws_opcode, or a control frame with !fin or len > 125 (5.5). */
ssize_t ws_encode_frame(uint8_t *out, size_t cap, uint8_t opcode, bool fin,
			const uint8_t *mask_key, const uint8_t *payload, size_t len);

/* XORs p[i] with key[(offset + i) % 4] for i < n (5.3): masks and unmasks.
 * offset is p's position inside the frame payload, so a payload can be
 * masked in pieces. Works a 64-bit word at a time, any alignment. */
void ws_mask(uint8_t *p, size_t n, const uint8_t key[4], size_t offset);

/* Re-stamping a template. The engine encodes a frame once, copies it per
 * send and overwrites some payload bytes (sequence number, timestamp). The
 * bytes on the wire are masked, so the new bytes must be masked with the
 * frame's own key at their payload offset; writing them plain corrupts the
 * payload the server sees. This copies n bytes of src to payload offset
 * `at` of the encoded frame (frame_len bytes at frame) and masks them
 * there. Returns 0, or -EINVAL when the frame header does not parse or
 * [at, at + n) is not inside its payload. */
int ws_frame_restamp(uint8_t *frame, size_t frame_len, size_t at, const void *src, size_t n);

/* 5.3 wants a fresh unpredictable key per frame: switches an encoded
 * masked frame to new_key in place (payload ^= old_key ^ new_key, so the
 * plain payload is unchanged; no copy). Returns 0, or -EINVAL when the
 * frame is unmasked or its header does not parse or fit frame_len. */
int ws_frame_rekey(uint8_t *frame, size_t frame_len, const uint8_t new_key[4]);

/* One whole frame found at the start of a byte stream. */
struct ws_frame {
	uint8_t opcode; /* enum ws_opcode */
	bool fin;
	const uint8_t *payload; /* into buf; never masked (see below) */
	size_t payload_len;
	size_t header_len;
	size_t frame_len; /* header_len + payload_len */
};

/* Incremental decoding of server-to-client frames:
 *   > 0        a whole frame of that many bytes is there; *f describes it
 *   0          need more bytes
 *   -EPROTO    RSV bits set (no extension is negotiated), reserved opcode,
 *              MASK set (5.1: a client MUST close on a masked frame),
 *              control frame fragmented or over 125 bytes (5.5), length
 *              not in its minimal form or a 64-bit length with the top
 *              bit set (5.2)
 *   -EMSGSIZE  payload longer than max_payload (0: no limit but SSIZE_MAX)
 * Errors are found as soon as the header bytes that show them arrive, so a
 * bad frame is refused before its payload is waited for. */
ssize_t ws_decode_frame(const uint8_t *buf, size_t len, size_t max_payload, struct ws_frame *f);
/* The whole size (header and payload) of the frame starting at buf, read
 * from its header alone, or 0 while the len bytes there do not hold the
 * whole header. UINT64_MAX when it would not fit. No other check: that is
 * ws_decode_frame's. */
uint64_t ws_frame_size(const uint8_t *buf, size_t len);

/* ---- messages (5.4) ---- */

/* Reassembles fragmented messages into a caller-provided buffer. Control
 * frames may come between fragments and are passed straight through. */
struct ws_msg_assembler {
	uint8_t *buf;
	size_t cap;     /* largest message, fragmented or not */
	size_t len;     /* bytes of the message in progress */
	uint8_t opcode; /* WS_OP_TEXT or WS_OP_BINARY in progress, 0 = none */
	bool check_utf8;
};

struct ws_msg {
	uint8_t opcode;      /* TEXT, BINARY, CLOSE, PING or PONG */
	const uint8_t *data; /* the frame's payload, or the assembler's buffer */
	size_t len;
};

/* cap bounds every data message, fragmented or not (buf may be NULL when
 * cap is 0: then only empty data messages pass). check_utf8: text messages
 * must be valid UTF-8 (8.1; the close code for a failure is 1007). */
void ws_asm_init(struct ws_msg_assembler *a, uint8_t *buf, size_t cap, bool check_utf8);

/* Feeds one decoded frame:
 *   1          *m is a whole message. Data of an unfragmented message or a
 *              control frame points at the frame's payload (no copy); a
 *              reassembled one points at a->buf, valid until the next feed.
 *   0          a fragment was stored; no message yet
 *   -EPROTO    continuation with no message started, or a text/binary
 *              frame while one is in progress (5.4)
 *   -EMSGSIZE  the message would exceed cap
 *   -EILSEQ    a text message that is not UTF-8 (with check_utf8)
 * After an error the assembler is reset; the connection must be failed
 * (7.1.7: close code 1002, 1009 or 1007 for the three errors). */
int ws_asm_feed(struct ws_msg_assembler *a, const struct ws_frame *f, struct ws_msg *m);

/* ---- control frames (5.5) ---- */

/* May code be sent in a Close frame, and is it valid when received? 7.4:
 * 1000-1003, 1007-1014 and 3000-4999. */
bool ws_close_code_valid(uint16_t code);

/* A Close frame. code 0 sends an empty body (then reason must be empty);
 * otherwise the 2-byte code and reason_len bytes of UTF-8 reason. -EINVAL
 * for a code ws_close_code_valid refuses, reason_len > 123, or a reason
 * that is not UTF-8 (5.5.1). */
ssize_t ws_encode_close(uint8_t *out, size_t cap, const uint8_t *mask_key, uint16_t code,
			const char *reason, size_t reason_len);

/* Parses a Close frame's payload. An empty body gives WS_CLOSE_NO_STATUS
 * (1005) and an empty reason. Returns 0, or -EPROTO: a 1-byte body, a body
 * over 125 bytes, a code ws_close_code_valid refuses, a reason that is not
 * UTF-8. *reason points into payload. */
int ws_parse_close(const uint8_t *payload, size_t len, uint16_t *code, const char **reason,
		   size_t *reason_len);

/* A Ping, and the Pong that answers one with the same payload (5.5.3: pass
 * the ping's payload and payload_len). -EINVAL when len > 125. */
ssize_t ws_encode_ping(uint8_t *out, size_t cap, const uint8_t *mask_key, const uint8_t *payload,
		       size_t len);
ssize_t ws_encode_pong(uint8_t *out, size_t cap, const uint8_t *mask_key, const uint8_t *payload,
		       size_t len);

/* UTF-8 as RFC 3629 defines it (no overlongs, no surrogates, nothing over
 * U+10FFFF); used for text messages and Close reasons. */
bool ws_utf8_valid(const uint8_t *s, size_t n);

#endif
