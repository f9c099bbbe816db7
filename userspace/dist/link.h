/* The control link: a small blocking MQTT 3.1.1 client (blast's own
 * encoders, one TCP socket, poll; TLS for mqtts:// through
 * transport/tls_block.c, a user and password when given) that agents and the coordinator speak
 * through a control broker. QoS 0 publishes, retained where asked; a Will
 * when opened with one; PINGREQ when idle. Not for load: for a handful of
 * messages a second. */
#ifndef BLAST_DIST_LINK_H
#define BLAST_DIST_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dist/link_cfg.h"

struct blast_opts;
struct tls_run;
struct tls_block;

#define LINK_MAX_FRAME (64u << 20)

struct link {
	int fd;
	uint8_t *in;          /* bytes received, not yet a whole frame */
	size_t in_len, in_cap;
	size_t consumed;      /* the last frame handed out, dropped on the next poll */
	uint64_t last_send_ns;
	uint16_t next_id;
	uint64_t bytes_in;    /* read from the socket, all told */
	/* mqtts://: the context (made from the --control-* flags) and the
	 * connection; NULL over plain TCP. */
	struct blast_opts *tls_opts;
	struct tls_run *tls;
	struct tls_block *tb;
	char tls_why[128];    /* OpenSSL's reason when a read failed (an alert) */
	bool up;              /* CONNACK accepted: a DISCONNECT is owed */
};

struct link_msg {
	const char *topic;    /* not NUL-terminated */
	size_t topic_len;
	const uint8_t *payload;
	size_t payload_len;
};

/* Connects to the control broker c names as client_id, with a Will when
 * will_topic is given (retained or not). 0, or -1 with one line in err
 * naming the broker and why (refused, TLS, credentials). */
int link_open(struct link *l, const struct link_cfg *c, const char *client_id, const char *will_topic,
	      const uint8_t *will, size_t will_len, bool will_retain, char *err, size_t err_cap);
/* 0 or -1 (the connection is gone). */
int link_subscribe(struct link *l, const char *filter);
int link_publish(struct link *l, const char *topic, const uint8_t *p, size_t n, bool retain);
/* Waits up to timeout_ms for a PUBLISH: 1 with *m (valid until the next
 * call), 0 on timeout, -1 when the connection is gone or broken. */
int link_poll(struct link *l, int timeout_ms, struct link_msg *m);
/* DISCONNECT (the Will is not sent), then close. */
void link_close(struct link *l);

/* Topics. */
#define CTL_TOPIC_AGENT "blast/ctl/agent/"  /* + name: retained register, or its bye */
#define CTL_TOPIC_HB "blast/ctl/hb/"        /* + name: heartbeats */
#define CTL_TOPIC_FROM "blast/ctl/from/"    /* + name: ready, second, done */
#define CTL_TOPIC_TO "blast/ctl/to/"        /* + name: assign, go, bye, time request, the
					     * coordinator's heartbeat */
#define CTL_TOPIC_COORD "blast/ctl/coord/"  /* + the coordinator's name: its Will (bye) */

#endif
