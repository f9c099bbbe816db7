/* HTTP/1.1 request heads (RFC 9112 3 and 5) and the checks that keep a
 * flag's value from splitting a request. */
#include <errno.h>
#include <string.h>

#include "http.h"
#include "wbuf.h"

/* RFC 9110 5.6.2: tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

bool http_token_ok(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	return true;
}

bool http_value_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

bool http_path_ok(const char *s, size_t n)
{
	if (!n || s[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}

static void wb_str(struct wbuf *w, const char *s)
{
	wb_bytes(w, s, strlen(s));
}

static void wb_dec(struct wbuf *w, uint64_t v)
{
	char d[20];
	size_t n = 0;

	do {
		d[sizeof(d) - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	wb_bytes(w, d + sizeof(d) - n, n);
}

/* The path with its templates expanded. */
static void wb_path(struct wbuf *w, const char *path, uint64_t conn, uint64_t seq)
{
	const char *p = path;

	for (;;) {
		const char *b = strchr(p, '{');

		if (!b) {
			wb_str(w, p);
			return;
		}
		wb_bytes(w, p, (size_t)(b - p));
		if (!strncmp(b, "{conn}", 6)) {
			wb_dec(w, conn);
			p = b + 6;
		} else if (!strncmp(b, "{seq}", 5)) {
			wb_dec(w, seq);
			p = b + 5;
		} else {
			wb_u8(w, '{');
			p = b + 1;
		}
	}
}

ssize_t http_expand_path(char *out, size_t cap, const char *path, uint64_t conn, uint64_t seq)
{
	struct wbuf w;

	wb_init(&w, (uint8_t *)out, cap);
	wb_path(&w, path, conn, seq);
	wb_u8(&w, 0);
	ssize_t n = wb_result(&w);
	return n < 0 ? n : n - 1;
}

int http_req_check(const struct http_req *r)
{
	char path[8192];

	if (!r->method || !http_token_ok(r->method, strlen(r->method)))
		return -EINVAL;
	if (!r->path || http_expand_path(path, sizeof(path), r->path, r->conn, r->seq) < 0 ||
	    !http_path_ok(path, strlen(path)))
		return -EINVAL;
	if (!r->host || !*r->host || !http_value_ok(r->host, strlen(r->host)) ||
	    strchr(r->host, ' ') || strchr(r->host, '\t'))
		return -EINVAL;
	if (r->content_type && !http_value_ok(r->content_type, strlen(r->content_type)))
		return -EINVAL;
	for (size_t i = 0; i < r->n_headers; i++) {
		const char *h = r->headers[i], *colon = strchr(h, ':');

		if (!colon || !http_token_ok(h, (size_t)(colon - h)) ||
		    !http_value_ok(colon + 1, strlen(colon + 1)))
			return -EINVAL;
	}
	return 0;
}

ssize_t http_encode_head(uint8_t *out, size_t cap, const struct http_req *r)
{
	struct wbuf w;

	wb_init(&w, out, cap);
	wb_str(&w, r->method);
	wb_u8(&w, ' ');
	wb_path(&w, r->path, r->conn, r->seq);
	wb_str(&w, " HTTP/1.1\r\nHost: ");
	wb_str(&w, r->host);
	wb_str(&w, "\r\n");
	for (size_t i = 0; i < r->n_headers; i++) {
		wb_str(&w, r->headers[i]);
		wb_str(&w, "\r\n");
	}
	if (r->content_type) {
		wb_str(&w, "Content-Type: ");
		wb_str(&w, r->content_type);
		wb_str(&w, "\r\n");
	}
	if (r->body_len || r->send_length) {
		wb_str(&w, "Content-Length: ");
		wb_dec(&w, r->body_len);
		wb_str(&w, "\r\n");
	}
	if (r->close)
		wb_str(&w, "Connection: close\r\n");
	wb_str(&w, "\r\n");
	return wb_result(&w);
}
