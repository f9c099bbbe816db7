/* Receipt times from the kernel: every receiving socket asks for
 * SO_TIMESTAMPNS, reads go through multishot recvmsg, and each read's
 * stamp (when its newest segment reached the host, CLOCK_REALTIME) is
 * turned into blast's clock (CLOCK_MONOTONIC). A receipt is then timed by
 * the wire, not by when the loop got round to it, so the loop may sleep
 * through several completions without adding error to any latency. */
#ifndef BLAST_RXSTAMP_H
#define BLAST_RXSTAMP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

/* Control bytes each receive buffer reserves for the stamp. */
#define RXSTAMP_CONTROL_LEN CMSG_SPACE(sizeof(struct timespec))
/* A stamp this far behind the loop's clock is not believed (a clock step):
 * the loop's time is used instead. */
#define RXSTAMP_MAX_AGE_NS (10ULL * 1000000000ULL)

/* CLOCK_REALTIME - CLOCK_MONOTONIC, measured again at every loop turn so
 * that a slewing wall clock adds no drift. */
struct rx_clock {
	int64_t real_minus_mono;
};

/* Asks the kernel to stamp fd's receives. Returns 0 or -errno. */
int rxstamp_enable(int fd);

/* Measures the offset; returns CLOCK_MONOTONIC now (ns). */
uint64_t rx_clock_sync(struct rx_clock *k);

/* The monotonic time of a realtime stamp, never later than now (the stamp
 * cannot be in the future) and now itself when there is no stamp or it is
 * older than RXSTAMP_MAX_AGE_NS. */
uint64_t rx_clock_mono(const struct rx_clock *k, const struct timespec *real, uint64_t now);

/* One multishot recvmsg buffer as the kernel filled it (struct
 * io_uring_recvmsg_out, then control bytes, then payload). */
struct rx_read {
	uint8_t *data;          /* payload */
	size_t len;             /* payload bytes: 0 = end of stream */
	struct timespec stamp;  /* SCM_TIMESTAMPNS, or zero when absent */
};

/* Splits buf (res bytes, the completion's result) for a recvmsg whose
 * msghdr is msgh. Returns 0, or -EBADMSG when the buffer is not a
 * well-formed recvmsg result. */
int rxstamp_parse(void *buf, int res, struct msghdr *msgh, struct rx_read *out);

#endif
