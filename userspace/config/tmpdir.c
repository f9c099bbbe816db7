#include <stdio.h>
#include <stdlib.h>

#include "config/tmpdir.h"

const char *tmp_dir(void)
{
	const char *d = getenv("TMPDIR");

	return d && d[0] == '/' ? d : "/tmp";
}

int tmp_path(char *buf, size_t n, const char *name)
{
	int len = snprintf(buf, n, "%s/%s", tmp_dir(), name);

	if (len < 0 || (size_t)len >= n) {
		if (n)
			buf[0] = '\0';
		return -1;
	}
	return 0;
}
