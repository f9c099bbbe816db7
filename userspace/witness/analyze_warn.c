/* Why a capture's figures cannot be taken as the whole truth: the lines
 * `blast analyze` and a --pcap run print, and the reports carry. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "witness/analyze.h"

__attribute__((format(printf, 3, 4)))
static void say(struct analyze_warnings *w, enum analyze_warning kind, const char *fmt, ...)
{
	va_list ap;

	if (w->n == ANALYZE_MAX_WARN)
		return;
	w->kind[w->n] = kind;
	va_start(ap, fmt);
	vsnprintf(w->line[w->n], sizeof(w->line[0]), fmt, ap);
	va_end(ap);
	w->n++;
}

/* "--port 1883" or "--ports 1883, 8883" (the first few), "" without. */
static void ports_text(char *buf, size_t cap, const struct wm_opts *o)
{
	size_t n = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < o->n_ports && i < 4 && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s%u", i ? ", " : " to --port ", o->ports[i]);
	if (o->n_ports > 4 && n < cap)
		snprintf(buf + n, cap - n, ", ...");
}

void analyze_warnings(const struct wire_stats *s, const struct wm_counts *c,
		      const struct wm_opts *o, struct analyze_warnings *w)
{
	char ports[64];

	w->n = 0;
	ports_text(ports, sizeof(ports), o);
	if (c->read_err[0])
		say(w, AW_READ, "the file is damaged (%s): the figures are the %" PRIu64
			" packets read before it", c->read_err, c->packets);
	if (c->drops_known && (c->ifdrop || c->osdrop))
		say(w, AW_DROPS, "the file records %" PRIu64 " packets dropped (%" PRIu64
			" by the capture, %" PRIu64 " by the interface): the streams have holes",
			c->osdrop + c->ifdrop, c->osdrop, c->ifdrop);
	if (c->gaps)
		say(w, AW_GAPS, "%" PRIu64 " gaps: TCP bytes a peer acknowledged (or the snap length"
			" cut) that the capture does not hold; requests and acks in them are not"
			" counted", c->gaps);
	if (s->unmatched)
		say(w, AW_UNMATCHED, "%" PRIu64 " acks matched no request: the capture missed their"
			" requests, or began after them", s->unmatched);
	if (s->tls_no_key && !o->keylog)
		say(w, AW_TLS_NO_KEY, "%" PRIu64 " flow%s TLS-encrypted and not read: %s; give"
			" --keylog FILE (blast --keylog, SSLKEYLOGFILE) to decrypt", s->tls_no_key,
			s->tls_no_key == 1 ? " is" : "s are", c->tls_no_key_names);
	else if (s->tls_no_key)
		say(w, AW_TLS_NO_KEY, "%" PRIu64 " TLS flow%s no key in the --keylog file, not"
			" decrypted: %s", s->tls_no_key, s->tls_no_key == 1 ? " has" : "s have",
			c->tls_no_key_names);
	if (s->tls_failed)
		say(w, AW_TLS_FAILED, "%" PRIu64 " TLS flow%s could not be decrypted: %s",
		    s->tls_failed, s->tls_failed == 1 ? "" : "s", c->tls_failed_names);
	if (!s->flows)
		say(w, AW_NO_FLOW, "no TCP flow%s in the capture", ports);
	else if (!c->req_frames && !c->ack_frames && s->tls_no_key + s->tls_failed < s->flows)
		say(w, AW_NO_MESSAGE, "none of the %" PRIu64 " flows%s carried a request or an ack%s%s",
		    s->flows, ports, o->proto == WM_AUTO ? "" : " as --proto ",
		    o->proto == WM_AUTO ? "" : wm_proto_name(o->proto));
}

const char *analyze_warning_name(enum analyze_warning kind)
{
	static const char *const names[] = {
		[AW_READ] = "damaged_file", [AW_DROPS] = "drops_recorded", [AW_GAPS] = "gaps",
		[AW_UNMATCHED] = "unmatched_acks", [AW_NO_FLOW] = "no_flow",
		[AW_NO_MESSAGE] = "no_message", [AW_TLS_NO_KEY] = "tls_no_key",
		[AW_TLS_FAILED] = "tls_failed",
	};
	return names[kind];
}
