/* A run's JSON report (blast ... --report FILE) read back: the client
 * figures `blast analyze --against` sets beside a capture's. */
#ifndef BLAST_REPORT_READ_H
#define BLAST_REPORT_READ_H

#include <stddef.h>

#include "report/wire.h"

/* From the report's bytes: proto, sent, acked (ws: received +
 * duplicates), peak_conns, and the latency the wire is compared with
 * (latency_uncorrected_us; ws: e2e_latency_us). Pure. 0, or -EINVAL with
 * err saying in one line what is not JSON or which figure is missing. */
int report_read_client(const char *buf, size_t len, struct wire_client *c, char *err,
		       size_t err_cap);

#endif
