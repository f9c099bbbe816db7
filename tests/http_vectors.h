/* HTTP/1.1 responses for the decoder's tests and the fuzzer's seeds: the
 * RFC's example, and bytes nginx 1.22.1 (Debian 12) sent to GET/HEAD
 * requests (captured from a socket: return 200 "PONG", a static file, an
 * SSI page it answers chunked, return 503). */
#ifndef BLAST_HTTP_VECTORS_H
#define BLAST_HTTP_VECTORS_H

/* RFC 7230 2.1's example response (RFC 9110's overview repeats it). */
static const char rfc_example[] =
	"HTTP/1.1 200 OK\r\n"
	"Date: Mon, 27 Jul 2009 12:28:53 GMT\r\n"
	"Server: Apache\r\n"
	"Last-Modified: Wed, 22 Jul 2009 19:15:56 GMT\r\n"
	"ETag: \"34aa387-d-1568eb00\"\r\n"
	"Accept-Ranges: bytes\r\n"
	"Content-Length: 51\r\n"
	"Vary: Accept-Encoding\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"Hello World! My content includes a trailing CRLF.\r\n";

static const char nginx_pong[] =
	"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 02:50:50 GMT\r\n"
	"Content-Type: text/plain\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\nPONG";

static const char nginx_static[] =
	"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 02:50:52 GMT\r\n"
	"Content-Type: text/plain\r\nContent-Length: 25\r\n"
	"Last-Modified: Mon, 07 Dec 2026 02:50:50 GMT\r\nConnection: keep-alive\r\n"
	"ETag: \"6b161f0a-19\"\r\nAccept-Ranges: bytes\r\n\r\nhello from a static file\n";

/* The answer to HEAD /static.txt: Content-Length, and no body. */
static const char nginx_head[] =
	"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 02:51:03 GMT\r\n"
	"Content-Type: text/plain\r\nContent-Length: 25\r\n"
	"Last-Modified: Mon, 07 Dec 2026 02:51:01 GMT\r\nConnection: keep-alive\r\n"
	"ETag: \"6b161f15-19\"\r\nAccept-Ranges: bytes\r\n\r\n";

static const char nginx_chunked[] =
	"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 02:51:01 GMT\r\n"
	"Content-Type: text/html\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
	"e\r\n<p>a</p>41557\n\r\n0\r\n\r\n";

static const char nginx_503[] =
	"HTTP/1.1 503 Service Temporarily Unavailable\r\nServer: nginx/1.22.1\r\n"
	"Date: Mon, 07 Dec 2026 02:50:55 GMT\r\nContent-Type: text/html\r\n"
	"Content-Length: 197\r\nConnection: keep-alive\r\n\r\n"
	"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n"
	"<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
	"<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n";

/* The last answer on a connection nginx closes (keepalive_requests). */
static const char nginx_last[] =
	"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 02:50:50 GMT\r\n"
	"Content-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\nPONG";

/* 7.1 with chunk extensions and a trailer section (7.1.2). */
static const char chunked_trailer[] =
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	"4;name=value\r\nWiki\r\n5 ; x\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
	"000\r\nExpires: never\r\nX-Sum: 1\r\n\r\n";

#endif
