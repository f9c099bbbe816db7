/* Segment receive stamps (userspace/engine/rxseg.c, bpf/rx_stamp.bpf.c): the ring
 * lookup on hand-made rings (in order, several messages in a segment, a
 * message over several segments, a lapped ring, an entry being written,
 * sequence wrap), then the filter on real loopback TCP connections: five
 * segments sent 3 ms apart and read in one read are each timed by their
 * own arrival, and a slot given to a new socket times the new stream. The
 * live part needs root (CAP_BPF) and is skipped without it. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../t.h"
#include "stats/clock.h"
#include "engine/rxseg.h"

#define MASK 7u

static struct rxs_head H;
static struct rxs_entry R[MASK + 1];

/* Writes entry idx as the filter would: bytes [seq, end) at ns. */
static void put(uint64_t idx, uint32_t seq, uint32_t end, uint64_t ns)
{
	R[idx & MASK] = (struct rxs_entry){ .ns = ns, .seq = seq, .end = end,
					    .tag = (uint32_t)idx + 1 };
	if (H.head < idx + 1)
		H.head = idx + 1;
}

static struct rxseg_cur start(uint32_t irs)
{
	struct rxseg_cur c = { .seq = irs + 1, .contig = irs + 1, .started = true };
	memset(&H, 0, sizeof(H));
	memset(R, 0, sizeof(R));
	return c;
}

#define FIND(target, want_rc, want_ns)                                          \
	do {                                                                    \
		uint64_t _ns = 0;                                               \
		CHECK_EQ_INT(rxseg_find(&H, R, MASK, &c, (target), &_ns), (want_rc)); \
		if ((want_rc) >= 0)                                             \
			CHECK_EQ_INT(_ns, (want_ns));                           \
	} while (0)

static void test_in_order(void)
{
	struct rxseg_cur c = start(999); /* the stream starts at 1000 */

	put(0, 1000, 1100, 10);
	put(1, 1100, 1300, 20);
	put(2, 1300, 1310, 30);
	/* Two messages in the first segment, both timed by it. */
	FIND(1050, 1, 10);
	FIND(1100, 1, 10);
	/* One that ends in the second: by the second, even a byte into it. */
	FIND(1101, 1, 20);
	/* Straddling two segments: by the one with its last byte. */
	FIND(1305, 1, 30);
	/* Bytes the ring has no entry for yet: nothing, *ns left alone. */
	uint64_t ns = 77;
	CHECK_EQ_INT(rxseg_find(&H, R, MASK, &c, 1400, &ns), -1);
	CHECK_EQ_INT(ns, 77);
	/* An index reserved but not written yet (its tag still old):
	 * nothing until it is. */
	H.head = 4;
	R[3] = (struct rxs_entry){ .ns = 40, .seq = 1310, .end = 1500, .tag = 0 };
	FIND(1400, -1, 0);
	R[3].tag = 4;
	FIND(1400, 1, 40);
}

static void test_retransmit_and_hole(void)
{
	struct rxseg_cur c = start(0); /* the stream starts at 1 */

	put(0, 1, 101, 10);
	put(1, 1, 101, 15);   /* a retransmission: changes nothing */
	put(2, 201, 301, 20); /* beyond a hole: not readable yet */
	put(3, 301, 401, 25); /* still beyond it */
	put(4, 101, 201, 30); /* fills it: 101..400 readable at 30 */
	FIND(101, 1, 10);
	FIND(150, 1, 30);
	FIND(250, 1, 30);
	FIND(401, 1, 30);
	/* Two CPUs: the later segment took the earlier index. Its bytes are
	 * readable once the one before them is, at the later time. */
	c = start(0);
	put(0, 101, 201, 50);
	put(1, 1, 101, 40);
	FIND(50, 1, 50);
	FIND(150, 1, 50);
}

static void test_lapped(void)
{
	struct rxseg_cur c = start(0);

	/* Twenty segments of 10 bytes while the reader sat at index 0: the
	 * first twelve are overwritten. Byte 50 can only be timed by the
	 * oldest entry left (index 12, at 112), an upper bound; index 13
	 * follows it in order, so from there on it is exact. */
	for (uint64_t i = 0; i < 20; i++)
		put(i, 1 + 10 * (uint32_t)i, 1 + 10 * (uint32_t)(i + 1), 100 + i);
	FIND(51, 0, 112);
	FIND(131, 0, 112);
	FIND(135, 1, 113);
	FIND(201, 1, 119);
	/* An entry overwritten while being looked at (a newer tag): passed
	 * over, and what follows it is only an upper bound. */
	c = start(0);
	put(0, 1, 11, 1);
	put(1, 11, 21, 2);
	put(2, 21, 31, 3);
	R[1].tag = 1 + 1 + 8; /* index 9's */
	FIND(5, 1, 1);
	FIND(15, 0, 3);
	FIND(25, 0, 3);
}

static void test_wrap(void)
{
	struct rxseg_cur c = start(0xFFFFFFF0u); /* the stream starts at 0xFFFFFFF1 */

	put(0, 0xFFFFFFF1u, 0xFFFFFFFFu, 5);
	put(1, 0xFFFFFFFFu, 0x00000010u, 6); /* across the wrap */
	FIND(0xFFFFFFF8u, 1, 5);
	FIND(0x00000002u, 1, 6);
}

/* ---- live: the filter on real connections ---- */

static uint64_t mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static int listener(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &al) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return l;
}

/* A client socket with the filter as `slot`, connected to port; *srv is
 * the accepted end. */
static int connect_stamped(struct rxseg *s, uint32_t slot, struct rxseg_cur *cur, int l,
			   uint16_t port, int *srv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	CHECK(fd >= 0);
	CHECK_EQ_INT(rxseg_attach(s, slot, fd, cur), 0);
	CHECK_EQ_INT(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	*srv = accept(l, NULL, NULL);
	CHECK(*srv >= 0);
	setsockopt(*srv, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

#define SEGS 5
#define SEG_LEN 100
#define GAP_NS (3 * NSEC_PER_MSEC)

/* SEGS segments GAP_NS apart from srv, then one read of them all at cli:
 * each SEG_LEN-byte message is timed by its own segment. */
static void check_stream(struct rxseg *s, uint32_t slot, struct rxseg_cur *cur, int cli, int srv)
{
	uint8_t buf[SEGS * SEG_LEN];
	uint64_t sent[SEGS], got[SEGS];

	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < SEGS; i++) {
		struct timespec gap = { 0, (long)GAP_NS };
		sent[i] = mono();
		CHECK_EQ_INT(write(srv, buf, SEG_LEN), SEG_LEN);
		nanosleep(&gap, NULL);
	}
	uint64_t before_read = mono();
	size_t have = 0;
	while (have < sizeof(buf)) {
		ssize_t r = read(cli, buf + have, sizeof(buf) - have);
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	CHECK_EQ_INT(have, sizeof(buf));
	CHECK(rxseg_ready(s, slot, cur));
	for (int i = 0; i < SEGS; i++) {
		got[i] = 0;
		CHECK_EQ_INT(rxseg_time(s, slot, cur, cur->seq + (uint32_t)((i + 1) * SEG_LEN), &got[i]),
			     1);
		/* Reached the socket after it was written and well before the
		 * next one was: not at the read, 3 ms per segment later. */
		CHECK(got[i] >= sent[i]);
		CHECK(got[i] < sent[i] + GAP_NS / 2);
		CHECK(got[i] < before_read);
	}
	cur->seq += (uint32_t)have;
}

static int test_live(void)
{
	struct rxseg *s = NULL;
	struct rxseg_cur cur;
	char err[256];
	uint16_t port = 0;
	int srv;

	if (rxseg_open(&s, 4, err, sizeof(err)) < 0) {
		fprintf(stderr, "test_rxseg: %s\n", err);
		return -1;
	}
	CHECK(rxseg_ring_len(s) >= 64);
	int l = listener(&port);
	CHECK(l >= 0);
	int cli = connect_stamped(s, 2, &cur, l, port, &srv);
	check_stream(s, 2, &cur, cli, srv);
	/* The same again on this connection: the cursor goes on. */
	check_stream(s, 2, &cur, cli, srv);
	/* The slot for a new socket: a new stream, a new origin. */
	rxseg_detach(s, 2);
	close(cli);
	close(srv);
	cli = connect_stamped(s, 2, &cur, l, port, &srv);
	check_stream(s, 2, &cur, cli, srv);
	/* A socket without the filter's slot: never ready. */
	struct rxseg_cur none = { 0 };
	CHECK(!rxseg_ready(s, 3, &none));
	close(cli);
	close(srv);
	close(l);
	rxseg_close(s);
	return 0;
}

int main(void)
{
	test_in_order();
	test_retransmit_and_hole();
	test_lapped();
	test_wrap();
	if (geteuid() != 0) {
		fprintf(stderr, "test_rxseg: live part needs root to load the filter\n");
		return t_failures ? T_FAIL : T_SKIP;
	}
	if (test_live() < 0)
		return T_FAIL;
	return t_done("test_rxseg");
}
