/* Receive timing: when the message being parsed arrived, by the kernel's
 * stamp of its read or of the segment that completed it. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/protocol.h"
#include "engine/ring.h"
#include "engine/rx.h"
#include "engine/worker.h"
#include "payload/protobuf.h"
#include "stats/clock.h"
#include "transport/transport.h"

/* Opens a recvmsg result in receive buffer bid: points data at the
 * payload, sets the receipt time (w->rx_ns) from the kernel's stamp, and
 * returns the payload bytes (0 = end of stream) or -EBADMSG. */
int rx_open(struct worker *w, unsigned bid, int res, uint8_t **data)
{
	struct rx_read rd;

	if (rxstamp_parse(w->rbufs + (size_t)bid * w->rbuf_size, res, &w->rx_msg, &rd) < 0)
		return -EBADMSG;
	*data = rd.data;
	w->rx_ns = rx_clock_mono(&w->rxc, &rd.stamp, w->now);
	return (int)rd.len;
}

/* Opens the read of res bytes at data on c for segment timing. */
void rx_begin(struct worker *w, struct conn *c, const uint8_t *data, int res)
{
	w->rx_conn = c;
	w->rx_buf = data;
	w->rx_len = (uint32_t)res;
	w->rx_mark = (uint32_t)res; /* unmarked: by the read's last byte */
	w->rx_seg = false;
	w->rx_first_ns = w->rx_last_ns = 0;
	if (!c->seg_stamped)
		return;
	if (!rxseg_ready(w->rxs, (uint32_t)(c - w->conns), &c->rxs)) {
		/* Bytes read before the origin is known would shift every
		 * offset after them: this connection goes without. */
		rxseg_detach(w->rxs, (uint32_t)(c - w->conns));
		c->seg_stamped = 0;
		return;
	}
	w->rx_seg = true;
	w->rx_seq0 = c->rxs.seq;
}

void rx_end(struct worker *w, struct conn *c)
{
	if (w->rx_seg && c->seg_stamped)
		c->rxs.seq = w->rx_seq0 + w->rx_len;
	w->rx_conn = NULL;
	w->rx_buf = NULL;
	w->rx_seg = false;
}

int64_t worker_rx_offset(const struct worker *w, const uint8_t *p)
{
	if (!w->rx_buf || p < w->rx_buf || p > w->rx_buf + w->rx_len)
		return -1;
	return p - w->rx_buf;
}

void worker_rx_mark(struct worker *w, const uint8_t *p)
{
	int64_t off = worker_rx_offset(w, p);

	if (off >= 0)
		worker_rx_mark_at(w, off);
}

void worker_rx_mark_at(struct worker *w, int64_t off)
{
	if (!w->rx_seg)
		return;
	/* A message finished by this read has a byte in it. */
	w->rx_mark = off < 1 ? 1 : off > (int64_t)w->rx_len ? w->rx_len : (uint32_t)off;
}

uint64_t worker_rx_ns(struct worker *w)
{
	uint64_t t = w->rx_ns ? w->rx_ns : w->now;

	if (w->rx_seg) {
		uint64_t ns;
		int r = rxseg_time(w->rxs, (uint32_t)(w->rx_conn - w->conns), &w->rx_conn->rxs,
				   w->rx_seq0 + w->rx_mark, &ns);
		if (r == 1 && ns <= w->now) {
			if (!w->rx_first_ns)
				w->rx_first_ns = ns;
			w->rx_last_ns = ns;
			w->t.rx_by_segment++;
			return ns;
		}
		if (r == 0 && ns < t)
			t = ns; /* a later segment's: still closer than the read's */
	}
	if (w->rx_ns)
		w->t.rx_by_read++;
	else
		w->t.rx_by_loop++;
	return t;
}

void rbuf_recycle(struct worker *w, unsigned bid)
{
	io_uring_buf_ring_add(w->br, w->rbufs + (size_t)bid * w->rbuf_size, w->rbuf_size,
			      (unsigned short)bid, io_uring_buf_ring_mask(w->rbuf_count), 0);
	io_uring_buf_ring_advance(w->br, 1);
}
