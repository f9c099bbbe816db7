/* WebSocket golden vectors shared by test_ws_frame.c and
 * test_ws_handshake.c. Sources: "RFC 6455 x.y" is the section of RFC 6455
 * the bytes are copied from. */
#ifndef BLAST_WS_VECTORS_H
#define BLAST_WS_VECTORS_H

#include <stdint.h>

/* RFC 6455 5.7: "A single-frame unmasked text message" */
static const uint8_t hello_unmasked[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
/* RFC 6455 5.7: "A single-frame masked text message" */
static const uint8_t hello_masked[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
					0x7f, 0x9f, 0x4d, 0x51, 0x58 };
static const uint8_t rfc_key[4] = { 0x37, 0xfa, 0x21, 0x3d };
/* RFC 6455 5.7: "A fragmented unmasked text message", "Hel" then "lo" */
static const uint8_t frag1[] = { 0x01, 0x03, 0x48, 0x65, 0x6c };
static const uint8_t frag2[] = { 0x80, 0x02, 0x6c, 0x6f };
/* RFC 6455 5.7: "Unmasked Ping request and masked Ping response" (the
 * response is a Pong, opcode 0xA, with the ping's "Hello") */
static const uint8_t ping_unmasked[] = { 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
static const uint8_t pong_masked[] = { 0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d,
				       0x7f, 0x9f, 0x4d, 0x51, 0x58 };
/* RFC 6455 5.7: "256 bytes binary message in a single unmasked frame" and
 * "64KiB binary message in a single unmasked frame" (headers) */
static const uint8_t bin256_hdr[] = { 0x82, 0x7e, 0x01, 0x00 };
static const uint8_t bin64k_hdr[] = { 0x82, 0x7f, 0x00, 0x00, 0x00, 0x00,
				      0x00, 0x01, 0x00, 0x00 };

/* RFC 6455 1.3 and 4.2.2: the sample key and the accept it implies; 4.1:
 * the key is the base64 of the nonce "the sample nonce". */
static const char rfc_key_b64[] = "dGhlIHNhbXBsZSBub25jZQ==";
static const char rfc_accept[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/* RFC 6455 1.2: the server's handshake (with the subprotocol it picks). */
static const char rfc_response[] = "HTTP/1.1 101 Switching Protocols\r\n"
				   "Upgrade: websocket\r\n"
				   "Connection: Upgrade\r\n"
				   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
				   "Sec-WebSocket-Protocol: chat\r\n"
				   "\r\n";

/* RFC 6455 1.2's client handshake with its values, in the order
 * ws_encode_upgrade writes the fields (the Origin is an extra header). */
static const char rfc_request[] = "GET /chat HTTP/1.1\r\n"
				  "Host: server.example.com\r\n"
				  "Upgrade: websocket\r\n"
				  "Connection: Upgrade\r\n"
				  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				  "Sec-WebSocket-Version: 13\r\n"
				  "Sec-WebSocket-Protocol: chat, superchat\r\n"
				  "Origin: http://example.com\r\n"
				  "\r\n";

#endif
