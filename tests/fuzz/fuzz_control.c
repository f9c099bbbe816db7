/* libFuzzer target for the control protocol's decoder (encoders/control.c):
 * any bytes are decoded or refused with a reason; what decodes points
 * inside the input and encodes back to the same bytes.
 *
 * Built with -DWITH_MAIN it is a plain program that replays files (see
 * replay.h). */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoders/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(struct ctl_str s, const uint8_t *data, size_t size)
{
	const uint8_t *p = (const uint8_t *)s.p;

	assert(!s.len || (p >= data && s.len <= size && (size_t)(p - data) <= size - s.len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_msg m;
	const char *why;

	if (ctl_decode(data, size, &m, &why)) {
		assert(why && *why);
		return 0;
	}
	assert(!why);
	inside(m.agent, data, size);
	if (m.type == CTL_ASSIGN)
		for (uint32_t i = 0; i < m.u.assign.n_args; i++)
			inside(m.u.assign.args[i], data, size);
	if (m.type == CTL_SECOND)
		inside(m.u.sec.hist, data, size);
	if (m.type == CTL_TIME_REPLY)
		assert(m.u.time.t3 >= m.u.time.t2); /* the decoder's rule */
	if (m.type == CTL_DONE) {
		inside(m.u.done.hist, data, size);
		inside(m.u.done.report, data, size);
	}
	/* The encoding is canonical: decoding then encoding gives the input. */
	uint8_t *out = malloc(size);
	if (out) {
		ssize_t n = ctl_encode(&m, out, size);
		assert(n == (ssize_t)size && !memcmp(out, data, size));
	}
	free(out);
	return 0;
}

#ifdef WITH_MAIN
#include "replay.h"
#endif
