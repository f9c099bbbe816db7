/* --ok-status read into a table (see http_ok.h). */
#include <errno.h>
#include <string.h>

#include "config/http_ok.h"

int http_ok_parse(const char *s, size_t len, bool ok[HTTP_STATUS_SLOTS])
{
	bool want[HTTP_STATUS_SLOTS] = { false };

	for (size_t i = 0;; i += 4) {
		const char *p = s + i;
		size_t n = 0;
		while (i + n < len && p[n] != ',')
			n++;
		int d0 = n == 3 ? p[0] - '0' : 0;
		if (d0 < 1 || d0 > 5)
			return -EINVAL;
		if ((p[1] | 0x20) == 'x' && (p[2] | 0x20) == 'x') {
			for (int st = d0 * 100; st < d0 * 100 + 100; st++)
				want[st] = true;
		} else if (p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9') {
			want[d0 * 100 + (p[1] - '0') * 10 + (p[2] - '0')] = true;
		} else {
			return -EINVAL;
		}
		if (i + 3 >= len)
			break;
	}
	memcpy(ok, want, sizeof(want));
	return 0;
}
