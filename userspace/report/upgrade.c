/* The lines that explain a refused WebSocket upgrade, printed after the
 * summary (report_upgrade_refusals in report.h). */
#include <inttypes.h>
#include <stdio.h>

#include "config/opts.h"
#include "report/report.h"

void report_upgrade_refusals(FILE *f, const struct blast_totals *t, const struct blast_opts *o)
{
	static const char *const why[] = {
		[ERR_UPGRADE_NO_UPGRADE - ERR_UPGRADE_NO_UPGRADE] = "no \"Upgrade: websocket\" header",
		[ERR_UPGRADE_NO_CONNECTION - ERR_UPGRADE_NO_UPGRADE] = "no \"Connection: Upgrade\" header",
		[ERR_UPGRADE_WRONG_ACCEPT - ERR_UPGRADE_NO_UPGRADE] =
			"its Sec-WebSocket-Accept is not the one for the key sent",
		[ERR_UPGRADE_EXTENSIONS - ERR_UPGRADE_NO_UPGRADE] = "it chose an extension none was offered",
		[ERR_UPGRADE_SUBPROTOCOL - ERR_UPGRADE_NO_UPGRADE] = "it chose a subprotocol not asked for",
	};
	const char *sub = o && o->ws_subprotocol ? o->ws_subprotocol : NULL;

	if (t->errors[ERR_UPGRADE_CLOSED])
		fprintf(f, "blast: WebSocket upgrade refused: the server closed %" PRIu64
			   " connection(s) without answering it%s%s%s\n",
			t->errors[ERR_UPGRADE_CLOSED], sub ? " (subprotocol asked for: " : "",
			sub ? sub : "", sub ? "; one it does not speak?)" : "");
	for (unsigned e = ERR_UPGRADE_NO_UPGRADE; e <= ERR_UPGRADE_SUBPROTOCOL; e++)
		if (t->errors[e])
			fprintf(f, "blast: WebSocket upgrade answered 101 but invalid on %" PRIu64
				   " connection(s): %s (%s)\n",
				t->errors[e], why[e - ERR_UPGRADE_NO_UPGRADE], blast_err_names[e]);
}
