/* The BIOs between OpenSSL and blast's buffers (tls.h, struct tls_io).
 * Memory BIOs would cost a copy each way and the zeroing of every growth
 * of their buffers; these hand OpenSSL the ring's receive buffer as it is
 * and write the records straight into the send buffer being sealed. Only
 * what has no buffer to go to waits in a memory BIO (a spill): records made
 * outside a send (handshake flights, alerts) and the tail of a record a
 * read cut in two. */
#include <string.h>

#include "transport/tls.h"

static long out_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b, (void)num, (void)ptr;
	return cmd == BIO_CTRL_FLUSH; /* written already */
}

static long in_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct tls_io *io = BIO_get_data(b);

	(void)num, (void)ptr;
	return cmd == BIO_CTRL_PENDING && io ? (long)tls_io_unread(io) : 0;
}

static int io_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* In a send (dst set) into the send buffer, otherwise into the spill. */
static int out_write(BIO *b, const char *in, int n)
{
	struct tls_io *io = BIO_get_data(b);

	if (!io->dst)
		return BIO_write(io->spill_out, in, n);
	if (n < 0 || io->dst_len + (size_t)n > io->dst_cap)
		return -1; /* more than the tailroom allows for: the send fails */
	memcpy(io->dst + io->dst_len, in, (size_t)n);
	io->dst_len += (size_t)n;
	return n;
}

/* The spill first (older bytes), then the buffer being fed. */
static int in_read(BIO *b, char *out, int n)
{
	struct tls_io *io = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (n <= 0)
		return 0;
	if (BIO_ctrl_pending(io->spill_in))
		return BIO_read(io->spill_in, out, n);
	if (!io->src_len) {
		BIO_set_retry_read(b); /* wait for the next read, not EOF */
		return -1;
	}
	size_t k = io->src_len < (size_t)n ? io->src_len : (size_t)n;
	memcpy(out, io->src, k);
	io->src += k;
	io->src_len -= k;
	return (int)k;
}

static BIO_METHOD *method(const char *name, int (*wr)(BIO *, const char *, int),
			  int (*rd)(BIO *, char *, int), long (*ctrl)(BIO *, int, long, void *))
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, name);

	if (m && ((wr && !BIO_meth_set_write(m, wr)) || (rd && !BIO_meth_set_read(m, rd)) ||
		  !BIO_meth_set_ctrl(m, ctrl) || !BIO_meth_set_create(m, io_create))) {
		BIO_meth_free(m);
		m = NULL;
	}
	return m;
}

int tls_io_methods(struct tls_run *r)
{
	r->in = method("blast tls in", NULL, in_read, in_ctrl);
	r->out = method("blast tls out", out_write, NULL, out_ctrl);
	return r->in && r->out ? 0 : -1;
}

void tls_io_methods_free(struct tls_run *r)
{
	if (r->in)
		BIO_meth_free(r->in);
	if (r->out)
		BIO_meth_free(r->out);
	r->in = r->out = NULL;
}

int tls_io_open(struct tls_io *io, const struct tls_run *r, SSL *ssl)
{
	BIO *rb = BIO_new(r->in), *wb = BIO_new(r->out);

	io->spill_in = BIO_new(BIO_s_mem());
	io->spill_out = BIO_new(BIO_s_mem());
	if (!rb || !wb || !io->spill_in || !io->spill_out) {
		BIO_free(rb);
		BIO_free(wb);
		return -1; /* the spills go in tls_io_close */
	}
	BIO_set_data(rb, io);
	BIO_set_data(wb, io);
	SSL_set_bio(ssl, rb, wb); /* ssl owns them now */
	return 0;
}

void tls_io_close(struct tls_io *io)
{
	BIO_free(io->spill_in);
	BIO_free(io->spill_out);
	io->spill_in = io->spill_out = NULL;
}

int tls_io_feed(struct tls_io *io, const uint8_t *buf, size_t len)
{
	io->src = NULL;
	io->src_len = 0;
	if (!BIO_ctrl_pending(io->spill_in)) {
		io->src = buf;
		io->src_len = len;
		return 0;
	}
	return len && BIO_write(io->spill_in, buf, (int)len) != (int)len ? -1 : 0;
}

int tls_io_keep(struct tls_io *io)
{
	int r = 0;

	if (io->src_len && BIO_write(io->spill_in, io->src, (int)io->src_len) != (int)io->src_len)
		r = -1;
	io->src = NULL;
	io->src_len = 0;
	return r;
}

size_t tls_io_unread(const struct tls_io *io)
{
	return BIO_ctrl_pending(io->spill_in) + io->src_len;
}

size_t tls_io_drain(struct tls_io *io, uint8_t *out, size_t cap)
{
	size_t pending = BIO_ctrl_pending(io->spill_out);
	size_t n = pending < cap ? pending : cap;

	if (!n)
		return 0;
	int got = BIO_read(io->spill_out, out, (int)n);
	return got > 0 ? (size_t)got : 0;
}
