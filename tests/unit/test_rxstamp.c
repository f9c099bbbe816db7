/* Receipt timing by the kernel's receive stamp (userspace/engine/rxstamp.c): the
 * realtime -> monotonic conversion and its clamps, the parse of a multishot
 * recvmsg buffer, and the whole chain on a real loopback TCP connection
 * read through io_uring: the stamp lands between the send and the read. */
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../t.h"
#include "stats/clock.h"
#include "engine/rxstamp.h"

static struct timespec ts_of(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / NSEC_PER_SEC),
			       .tv_nsec = (long)(ns % NSEC_PER_SEC) };
	return ts;
}

static void test_convert(void)
{
	struct rx_clock k = { .real_minus_mono = 1700000000LL * (int64_t)NSEC_PER_SEC + 123 };
	uint64_t now = 5000 * NSEC_PER_SEC;
	struct timespec ts;

	/* 40 us before now, in wall-clock terms. */
	ts = ts_of(now - 40000 + (uint64_t)k.real_minus_mono);
	CHECK_EQ_INT(rx_clock_mono(&k, &ts, now), now - 40000);
	/* A stamp after now (offset error) is clamped to now. */
	ts = ts_of(now + 500 + (uint64_t)k.real_minus_mono);
	CHECK_EQ_INT(rx_clock_mono(&k, &ts, now), now);
	/* No stamp, or one older than RXSTAMP_MAX_AGE_NS (a clock step): now. */
	ts = ts_of(0);
	CHECK_EQ_INT(rx_clock_mono(&k, &ts, now), now);
	ts = ts_of(now - RXSTAMP_MAX_AGE_NS - 1 + (uint64_t)k.real_minus_mono);
	CHECK_EQ_INT(rx_clock_mono(&k, &ts, now), now);
	ts = ts_of(now - RXSTAMP_MAX_AGE_NS + (uint64_t)k.real_minus_mono);
	CHECK_EQ_INT(rx_clock_mono(&k, &ts, now), now - RXSTAMP_MAX_AGE_NS);

	/* The measured offset agrees with the two clocks read here. */
	struct timespec r, m;
	uint64_t mono = rx_clock_sync(&k);
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	int64_t off = (int64_t)((uint64_t)r.tv_sec * NSEC_PER_SEC + (uint64_t)r.tv_nsec -
				((uint64_t)m.tv_sec * NSEC_PER_SEC + (uint64_t)m.tv_nsec));
	CHECK(llabs(off - k.real_minus_mono) < 1000000); /* 1 ms: a busy machine */
	CHECK(mono <= (uint64_t)m.tv_sec * NSEC_PER_SEC + (uint64_t)m.tv_nsec);
}

/* A buffer laid out as the kernel fills it: header, control, payload. */
static size_t build(uint8_t *buf, const struct timespec *ts, size_t cmsg_len, const char *payload)
{
	struct io_uring_recvmsg_out o = { .controllen = ts ? RXSTAMP_CONTROL_LEN : 0,
					  .payloadlen = (unsigned)strlen(payload) };
	memset(buf, 0, 512);
	memcpy(buf, &o, sizeof(o));
	if (ts) {
		struct cmsghdr cm = { .cmsg_len = cmsg_len, .cmsg_level = SOL_SOCKET,
				      .cmsg_type = SCM_TIMESTAMPNS };
		memcpy(buf + sizeof(o), &cm, sizeof(cm));
		memcpy(CMSG_DATA((struct cmsghdr *)(buf + sizeof(o))), ts, sizeof(*ts));
	}
	memcpy(buf + sizeof(o) + RXSTAMP_CONTROL_LEN, payload, strlen(payload));
	return sizeof(o) + RXSTAMP_CONTROL_LEN + strlen(payload);
}

static void test_parse(void)
{
	static _Alignas(16) uint8_t buf[512];
	struct msghdr mh = { .msg_controllen = RXSTAMP_CONTROL_LEN };
	struct timespec ts = { .tv_sec = 1764500000, .tv_nsec = 987654321 };
	struct rx_read rd;

	int n = (int)build(buf, &ts, CMSG_LEN(sizeof(ts)), "hello");
	CHECK_EQ_INT(rxstamp_parse(buf, n, &mh, &rd), 0);
	CHECK_MEM(rd.data, rd.len, "hello", 5);
	CHECK_EQ_INT(rd.stamp.tv_sec, ts.tv_sec);
	CHECK_EQ_INT(rd.stamp.tv_nsec, ts.tv_nsec);

	/* End of stream: the header and control space, no payload. */
	n = (int)build(buf, &ts, CMSG_LEN(sizeof(ts)), "");
	CHECK_EQ_INT(rxstamp_parse(buf, n, &mh, &rd), 0);
	CHECK_EQ_INT(rd.len, 0);

	/* No control message: no stamp (the loop's time is used). */
	n = (int)build(buf, NULL, 0, "abc");
	CHECK_EQ_INT(rxstamp_parse(buf, n, &mh, &rd), 0);
	CHECK_EQ_INT(rd.len, 3);
	CHECK_EQ_INT(rd.stamp.tv_sec, 0);

	/* A control message longer than the control bytes is not read. */
	n = (int)build(buf, &ts, 4096, "abc");
	CHECK_EQ_INT(rxstamp_parse(buf, n, &mh, &rd), 0);
	CHECK_EQ_INT(rd.stamp.tv_sec, 0);

	/* Shorter than the header and control space, or claiming more
	 * control bytes than reserved: not a recvmsg result. */
	CHECK_EQ_INT(rxstamp_parse(buf, 20, &mh, &rd), -EBADMSG);
	CHECK_EQ_INT(rxstamp_parse(buf, -1, &mh, &rd), -EBADMSG);
	n = (int)build(buf, &ts, CMSG_LEN(sizeof(ts)), "x");
	((struct io_uring_recvmsg_out *)buf)->controllen = RXSTAMP_CONTROL_LEN + 8;
	CHECK_EQ_INT(rxstamp_parse(buf, n, &mh, &rd), -EBADMSG);
}

/* A loopback TCP pair: *cli connected to *srv. */
static int tcp_pair(int *cli, int *srv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &al) < 0)
		return -1;
	*cli = socket(AF_INET, SOCK_STREAM, 0);
	if (*cli < 0 || connect(*cli, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	*srv = accept(l, NULL, NULL);
	close(l);
	return *srv < 0 ? -1 : 0;
}

/* What the engine does: SO_TIMESTAMPNS, multishot recvmsg with provided
 * buffers; the stamp converted to CLOCK_MONOTONIC lies between the send
 * and the completion, and a read well after the bytes arrived still
 * carries their arrival time, not the read's. */
static int test_kernel_chain(void)
{
	struct io_uring ring;
	int cli = -1, srv = -1;

	if (io_uring_queue_init(8, &ring, 0) < 0) {
		fprintf(stderr, "io_uring unavailable: skipped the kernel chain\n");
		return 0;
	}
	if (tcp_pair(&cli, &srv) < 0) {
		CHECK(!"loopback TCP pair");
		return -1;
	}
	CHECK_EQ_INT(rxstamp_enable(cli), 0);
	/* The first socket to ask turns stamping on through a deferred work
	 * item: bytes that arrive before it runs carry no stamp (the engine
	 * then uses its own clock). Wait until a byte comes stamped. */
	bool stamped = false;
	for (int i = 0; i < 200 && !stamped; i++) {
		char b, ctl[RXSTAMP_CONTROL_LEN];
		struct iovec iov = { .iov_base = &b, .iov_len = 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
				    .msg_controllen = sizeof(ctl) };
		if (write(srv, "w", 1) != 1 || recvmsg(cli, &m, 0) != 1)
			break;
		stamped = CMSG_FIRSTHDR(&m) != NULL;
		if (!stamped)
			usleep(1000);
	}
	CHECK(stamped);

	enum { NBUF = 4, BSZ = 256 };
	static _Alignas(16) uint8_t bufs[NBUF][BSZ];
	struct io_uring_buf_ring *br = mmap(NULL, NBUF * sizeof(struct io_uring_buf),
					    PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	CHECK(br != MAP_FAILED);
	io_uring_buf_ring_init(br);
	struct io_uring_buf_reg reg = { .ring_addr = (unsigned long)br, .ring_entries = NBUF, .bgid = 7 };
	CHECK_EQ_INT(io_uring_register_buf_ring(&ring, &reg, 0), 0);
	for (int i = 0; i < NBUF; i++)
		io_uring_buf_ring_add(br, bufs[i], BSZ, (unsigned short)i, io_uring_buf_ring_mask(NBUF), i);
	io_uring_buf_ring_advance(br, NBUF);

	struct msghdr mh = { .msg_controllen = RXSTAMP_CONTROL_LEN };
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	io_uring_prep_recvmsg_multishot(sqe, cli, &mh, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = 7;
	io_uring_submit(&ring);

	struct rx_clock k;
	uint64_t t_send = rx_clock_sync(&k);
	CHECK_EQ_INT(write(srv, "ping", 4), 4);
	usleep(20000); /* the read comes 20 ms after the bytes */
	struct io_uring_cqe *cqe;
	CHECK_EQ_INT(io_uring_wait_cqe(&ring, &cqe), 0);
	uint64_t t_read = rx_clock_sync(&k);
	CHECK(cqe->flags & IORING_CQE_F_BUFFER);
	CHECK(cqe->flags & IORING_CQE_F_MORE);
	struct rx_read rd;
	unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	CHECK_EQ_INT(rxstamp_parse(bufs[bid % NBUF], cqe->res, &mh, &rd), 0);
	CHECK_MEM(rd.data, rd.len, "ping", 4);
	CHECK(rd.stamp.tv_sec != 0);
	uint64_t t_rx = rx_clock_mono(&k, &rd.stamp, t_read);
	CHECK(t_rx >= t_send);
	CHECK(t_rx + 15 * NSEC_PER_MSEC < t_read);
	fprintf(stderr, "stamp %.1f us after the send, %.1f us before the read\n",
		(double)(t_rx - t_send) / 1e3, (double)(t_read - t_rx) / 1e3);
	io_uring_cqe_seen(&ring, cqe);

	/* End of stream: a buffer with no payload and no more reads. */
	shutdown(srv, SHUT_WR);
	CHECK_EQ_INT(io_uring_wait_cqe(&ring, &cqe), 0);
	bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		CHECK_EQ_INT(rxstamp_parse(bufs[bid % NBUF], cqe->res, &mh, &rd), 0);
		CHECK_EQ_INT(rd.len, 0);
	} else {
		CHECK_EQ_INT(cqe->res, 0);
	}
	CHECK(!(cqe->flags & IORING_CQE_F_MORE));
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
	munmap(br, NBUF * sizeof(struct io_uring_buf));
	close(cli);
	close(srv);
	return 0;
}

int main(void)
{
	test_convert();
	test_parse();
	test_kernel_chain();
	return t_done("test_rxstamp");
}
