/* The coordinator with its live page (see coord_page.h). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/opts.h"
#include "config/tmpdir.h"
#include "dist/coord_dash.h"
#include "dist/coord_page.h"

static volatile sig_atomic_t cdash_signals;

static void on_signal(int sig)
{
	(void)sig;
	cdash_signals++;
}

/* mkstemp's template made into a file, or kept as is when asked for. */
static int temp_file(char **path, char *tmpl, const char *what)
{
	int fd;

	if (*path)
		return 0;
	fd = mkstemp(tmpl);
	if (fd < 0) {
		fprintf(stderr, "blast: --dashboard: cannot make a file for %s: %s\n", what,
			strerror(errno));
		return -1;
	}
	close(fd);
	*path = tmpl;
	return 0;
}

int coord_page_main(struct coord_cfg *c, const struct split_whole *whole)
{
	char json_tmp[PATH_MAX], html_tmp[PATH_MAX];
	char err[200];
	struct dashboard *d = NULL;
	struct coord_dash *cd = NULL;
	int r = BLAST_EXIT_USAGE;

	tmp_path(json_tmp, sizeof(json_tmp), "blast-coord-report-XXXXXX");
	tmp_path(html_tmp, sizeof(html_tmp), "blast-coord-page-XXXXXX");
	if (temp_file(&c->report, json_tmp, "the merged report") ||
	    temp_file(&c->html, html_tmp, "the final page"))
		goto out;
	d = dashboard_start(c->dashboard, err, sizeof(err));
	if (!d) {
		fprintf(stderr, "blast: %s\n", err);
		goto out;
	}
	cd = coord_dash_new(d, NULL);
	if (!cd) {
		r = 3;
		goto out;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	c->dash = cd;
	c->signals = &cdash_signals;
	r = coord_run(c, whole);
	coord_dash_finish(cd, c->report, c->html);
	/* No run (the agents never came, the link failed): nothing to show. */
	if (r != BLAST_EXIT_USAGE)
		dashboard_linger(d, c->dashboard_linger_ns, &cdash_signals);
out:
	dashboard_free(d);
	coord_dash_free(cd);
	if (c->report == json_tmp)
		unlink(json_tmp);
	if (c->html == html_tmp)
		unlink(html_tmp);
	return r;
}
