/* Kernel receive stamps: see rxstamp.h. */
#include <errno.h>
#include <liburing.h>
#include <string.h>

#include "stats/clock.h"
#include "engine/rxstamp.h"

int rxstamp_enable(int fd)
{
	int one = 1;

	return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0 ? -errno : 0;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * NSEC_PER_SEC + (uint64_t)ts->tv_nsec;
}

uint64_t rx_clock_sync(struct rx_clock *k)
{
	struct timespec m0, r, m1;

	/* The wall clock read between two monotonic reads: the offset is
	 * taken at their midpoint, good to a fraction of a microsecond. */
	clock_gettime(CLOCK_MONOTONIC, &m0);
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m1);
	uint64_t a = ts_ns(&m0), b = ts_ns(&m1);
	k->real_minus_mono = (int64_t)(ts_ns(&r) - (a + (b - a) / 2));
	return b;
}

uint64_t rx_clock_mono(const struct rx_clock *k, const struct timespec *real, uint64_t now)
{
	if (!real->tv_sec && !real->tv_nsec)
		return now;
	uint64_t t = ts_ns(real) - (uint64_t)k->real_minus_mono;
	if (t > now)
		return now;
	if (now - t > RXSTAMP_MAX_AGE_NS)
		return now;
	return t;
}

int rxstamp_parse(void *buf, int res, struct msghdr *msgh, struct rx_read *out)
{
	memset(out, 0, sizeof(*out));
	struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(buf, res, msgh);
	if (!o || o->controllen > msgh->msg_controllen)
		return -EBADMSG;
	out->data = io_uring_recvmsg_payload(o, msgh);
	out->len = io_uring_recvmsg_payload_length(o, res, msgh);
	uint8_t *ctl_end = (uint8_t *)io_uring_recvmsg_name(o) + msgh->msg_namelen + o->controllen;
	for (struct cmsghdr *cm = io_uring_recvmsg_cmsg_firsthdr(o, msgh); cm;
	     cm = io_uring_recvmsg_cmsg_nexthdr(o, msgh, cm)) {
		/* liburing checks every header but the first against the end. */
		if (cm->cmsg_len > (size_t)(ctl_end - (uint8_t *)cm))
			break;
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct timespec)))
			memcpy(&out->stamp, CMSG_DATA(cm), sizeof(out->stamp));
	}
	return 0;
}
