/* Run counters: names for the error enum, and the sums the parent takes
 * over every worker's totals. */
#include <stddef.h>
#include <stdint.h>

#include "stats/stats.h"

/* Names are part of the JSON report format: never rename one. */
const char *const blast_err_names[ERR__COUNT] = {
	[ERR_CONNECT_REFUSED] = "connect_refused",
	[ERR_CONNECT_TIMEOUT] = "connect_timeout",
	[ERR_CONNECT_FAILED] = "connect_failed",
	[ERR_ADDR_UNAVAILABLE] = "addr_unavailable",
	[ERR_FD_LIMIT] = "fd_limit",
	[ERR_CONN_RESET] = "conn_reset",
	[ERR_CONN_CLOSED] = "conn_closed",
	[ERR_SEND] = "send_error",
	[ERR_RECV] = "recv_error",
	[ERR_PROTOCOL] = "protocol_error",
	[ERR_UNEXPECTED_ACK] = "unexpected_ack",
	[ERR_FRAME_TOO_LARGE] = "frame_too_large",
	[ERR_TLS_VERIFY] = "tls_verify",
	[ERR_TLS_HOSTNAME] = "tls_hostname",
	[ERR_TLS_ALERT] = "tls_alert",
	[ERR_TLS_VERSION] = "tls_version",
	[ERR_TLS_NOT_TLS] = "tls_not_tls",
	[ERR_TLS_HANDSHAKE] = "tls_handshake",
	[ERR_TLS_TIMEOUT] = "tls_handshake_timeout",
	[ERR_TLS_RECORD] = "tls_record",
	[ERR_SASL] = "sasl_failed",
	[ERR_TLS_CLOSE_NOTIFY] = "tls_close_notify",
	[ERR_TLS_PLAIN_CLIENT] = "tls_server_plain_client",
	[ERR_UPGRADE_CLOSED] = "upgrade_refused:closed",
	[ERR_UPGRADE_NO_UPGRADE] = "upgrade_invalid:upgrade",
	[ERR_UPGRADE_NO_CONNECTION] = "upgrade_invalid:connection",
	[ERR_UPGRADE_WRONG_ACCEPT] = "upgrade_invalid:accept",
	[ERR_UPGRADE_EXTENSIONS] = "upgrade_invalid:extensions",
	[ERR_UPGRADE_SUBPROTOCOL] = "upgrade_invalid:subprotocol",
	[ERR_HTTP_RETRIES] = "http_retries_exhausted",
};

const char *const hs_stage_names[HS__COUNT] = {
	[HS_TCP] = "tcp_connect",
	[HS_TLS_FULL] = "tls_full",
	[HS_TLS_RESUMED] = "tls_resumed",
	[HS_WS_UPGRADE] = "ws_upgrade",
	[HS_PROTO] = "protocol",
};

/* A new field in struct blast_totals must be summed below; this breaks the
 * build until it is. */
#define TOTALS_SCALARS 25
_Static_assert(sizeof(struct blast_totals) ==
		       (TOTALS_SCALARS + ERR__COUNT + 4 * 256 + KAFKA_ERR_SLOTS + 3 * 600 + WS_CLOSE_SLOTS) * sizeof(uint64_t),
	       "struct blast_totals changed: update totals_add()");

void totals_add(struct blast_totals *dst, const struct blast_totals *src)
{
	dst->sent += src->sent;
	dst->acked += src->acked;
	dst->failed += src->failed;
	dst->unacked += src->unacked;
	dst->not_sent += src->not_sent;

	dst->conns_ok += src->conns_ok;
	dst->conns_failed += src->conns_failed;
	dst->conns_dropped += src->conns_dropped;
	dst->conns_up += src->conns_up;
	dst->reconnects += src->reconnects;
	dst->inflight += src->inflight;

	dst->bytes_out += src->bytes_out;
	dst->bytes_in += src->bytes_in;
	dst->tls_records_out += src->tls_records_out;
	dst->received += src->received;
	dst->duplicates += src->duplicates;
	dst->rx_by_segment += src->rx_by_segment;
	dst->rx_by_read += src->rx_by_read;
	dst->rx_by_loop += src->rx_by_loop;

	for (int i = 0; i < ERR__COUNT; i++)
		dst->errors[i] += src->errors[i];
	for (int i = 0; i < 256; i++) {
		dst->connack[i] += src->connack[i];
		dst->pub_reason[i] += src->pub_reason[i];
		dst->disconnect[i] += src->disconnect[i];
	}
	for (int i = 0; i < KAFKA_ERR_SLOTS; i++)
		dst->kafka_error[i] += src->kafka_error[i];
	for (int i = 0; i < 600; i++) {
		dst->http_status[i] += src->http_status[i];
		dst->http_resp[i] += src->http_resp[i];
		dst->http_refused[i] += src->http_refused[i];
	}
	dst->http_interim += src->http_interim;
	dst->http_body_bytes += src->http_body_bytes;
	dst->http_server_closed += src->http_server_closed;
	dst->http_retried += src->http_retried;
	for (int i = 0; i < WS_CLOSE_SLOTS; i++)
		dst->ws_close[i] += src->ws_close[i];
	dst->matched += src->matched;
	dst->share_receipts += src->share_receipts;
	for (int i = 0; i < 256; i++)
		dst->suback[i] += src->suback[i];
}

uint64_t totals_error_count(const struct blast_totals *t)
{
	uint64_t n = 0;

	for (int i = 0; i < ERR__COUNT; i++)
		n += t->errors[i];
	/* CONNACK code 0 is "accepted", not an error. */
	for (int i = 1; i < 256; i++)
		n += t->connack[i];
	for (int i = 0; i < 256; i++)
		n += t->pub_reason[i] + t->disconnect[i];
	for (int i = 0; i < KAFKA_ERR_SLOTS; i++)
		n += t->kafka_error[i];
	for (int i = 0; i < 600; i++)
		n += t->http_status[i] + t->http_refused[i];
	/* A normal closure (1000) is not an error. */
	for (int i = 1; i < WS_CLOSE_SLOTS; i++)
		n += t->ws_close[i];
	for (int i = 0; i < 256; i++)
		n += t->suback[i];
	return n;
}
