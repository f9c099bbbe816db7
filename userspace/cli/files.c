/* Files the command line names: lists read now (--payload-file,
 * --tokens-file), outputs checked for writability now, not after the run. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/opts.h"
#include "cli/fail.h"
#include "cli/files.h"

#define LIST_FILE_MAX (1ul << 30) /* bytes read from a --payload-file or --tokens-file */

void line_list_free(struct line_list *l)
{
	free(l->lines);
	free(l->lens);
	free(l->data);
	memset(l, 0, sizeof(*l));
}

/* Reads path into l, one entry per non-empty line, without the newline
 * or a '\r' before it. Returns 0 or -errno. */
static int line_list_read(struct line_list *l, const char *path)
{
	size_t cap = 4096, len = 0, max_lines = 1;
	char *data = malloc(cap);
	int fd, err = 0;

	if (!data)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	/* Read to EOF rather than trust st_size: works for pipes too. */
	for (;;) {
		if (cap - len < 2) {
			/* /dev/zero must not eat all memory. */
			if (cap >= LIST_FILE_MAX) {
				err = -EFBIG;
				goto out;
			}
			char *bigger = realloc(data, cap * 2);
			if (!bigger) {
				err = -ENOMEM;
				goto out;
			}
			data = bigger;
			cap *= 2;
		}
		ssize_t n = read(fd, data + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	data[len] = '\0';
	for (size_t i = 0; i < len; i++)
		max_lines += data[i] == '\n';

	line_list_free(l);
	l->lines = malloc(max_lines * sizeof(*l->lines));
	l->lens = malloc(max_lines * sizeof(*l->lens));
	if (!l->lines || !l->lens) {
		line_list_free(l);
		err = -ENOMEM;
		goto out;
	}
	for (size_t start = 0; start < len;) {
		char *nl = memchr(data + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - data) : len;
		size_t next = end + 1;

		if (end > start && data[end - 1] == '\r')
			end--;
		data[end] = '\0';
		if (end > start) {
			l->lines[l->n] = data + start;
			l->lens[l->n] = end - start;
			l->n++;
		}
		start = next;
	}
	l->data = data;
	data = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(data);
	return err;
}

int list_arg(struct line_list *l, const char *flag, const char *path, size_t max_len)
{
	int r = line_list_read(l, path);

	if (r)
		return cli_fail("%s %s: %s", flag, cli_quote(path), strerror(-r));
	if (!l->n)
		return cli_fail("%s %s: file has no non-empty line", flag, cli_quote(path));
	for (size_t i = 0; i < l->n; i++)
		if (l->lens[i] > max_len)
			return cli_fail("%s %s: an entry is longer than %zu bytes", flag, cli_quote(path),
				    max_len);
	return 0;
}

/* Opens FILE.tmp the way the report writer will, so a report that cannot
 * be written fails now, not after a 30-minute run. */
int report_check(const char *flag, const char *path)
{
	struct stat st;
	size_t n = strlen(path) + sizeof(".tmp");
	char *tmp;
	int fd, e;
	bool created;

	if (!*path)
		return cli_fail("%s '': needs a file name", flag);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return cli_fail("%s %s: %s", flag, cli_quote(path), strerror(EISDIR));
	tmp = malloc(n);
	if (!tmp)
		return cli_fail("out of memory");
	snprintf(tmp, n, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	created = fd >= 0;
	/* A .tmp left by an earlier run is not ours to delete. */
	if (fd < 0 && errno == EEXIST)
		fd = open(tmp, O_WRONLY | O_CLOEXEC);
	e = errno;
	if (fd >= 0) {
		close(fd);
		if (created)
			unlink(tmp);
	}
	free(tmp);
	if (fd < 0)
		return cli_fail("%s %s: %s", flag, cli_quote(path), strerror(e));
	return 0;
}

/* --pcap FILE: the capture file must be creatable now, not after the run
 * (one line, exit 2). A file we created to check is removed again. */
int pcap_check(const char *path)
{
	struct stat st;
	bool existed = stat(path, &st) == 0;
	int fd;

	if (!*path)
		return cli_fail("--pcap '': needs a file name");
	if (existed && S_ISDIR(st.st_mode))
		return cli_fail("--pcap %s: %s", cli_quote(path), strerror(EISDIR));
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return cli_fail("--pcap %s: %s", cli_quote(path), strerror(errno));
	close(fd);
	if (!existed)
		unlink(path);
	return 0;
}
