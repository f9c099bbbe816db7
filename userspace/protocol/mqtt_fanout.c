/* MQTT fan-out subscribers (see mqtt_fanout.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "payload/marker.h"
#include "stats/clock.h"
#include "encoders/mqtt.h"
#include "protocol/mqtt_fanout.h"
#include "protocol/receipts.h"
#include "stats/fanout.h"
#include "engine/worker.h"

/* The one SUBSCRIBE of a connection; its id is free again long before the
 * first PUBLISH, which waits for every SUBACK. */
#define SUB_PACKET_ID 1

/* Per connection. */
struct mqfo_conn {
	struct receipt_set rs; /* what this connection has received */
	uint32_t *owed;    /* acks owed: type << 16 | packet id */
	uint32_t n_owed, cap_owed;
	uint32_t n_filters; /* in its SUBSCRIBE: the SUBACK has a code for each */
	bool connacked;
};

/* Per worker: room to put the marker in front of a line or protobuf. */
struct mqfo_worker {
	uint8_t *buf;
	size_t cap;
};

int mqfo_setup(struct worker *w)
{
	w->pstate = calloc(1, sizeof(struct mqfo_worker));
	if (!w->pstate)
		return -ENOMEM;
	for (uint32_t i = 0; i < w->n_conns; i++) {
		w->conns[i].pstate = calloc(1, sizeof(struct mqfo_conn));
		if (!w->conns[i].pstate)
			return -ENOMEM;
	}
	return 0;
}

void mqfo_teardown(struct worker *w)
{
	for (uint32_t i = 0; i < w->n_conns; i++) {
		struct mqfo_conn *s = w->conns[i].pstate;
		if (s) {
			receipt_set_free(&s->rs);
			free(s->owed);
		}
		free(s);
		w->conns[i].pstate = NULL;
	}
	struct mqfo_worker *fw = w->pstate;
	if (fw)
		free(fw->buf);
	free(fw);
	w->pstate = NULL;
}

uint64_t mqfo_wall_off(const struct worker *w)
{
	return w->shm->start_wall_ns - w->shm->start_ns;
}

bool mqfo_subscribes(const struct worker *w, const struct conn *c)
{
	return w->o->chat || c->idx >= w->o->publishers;
}

ssize_t mqfo_subscribe(struct worker *w, struct conn *c, uint8_t *out, size_t cap)
{
	struct mqfo_conn *s = c->pstate;
	const struct blast_opts *o = w->o;
	const char *filters[BLAST_MAX_SUB_TOPICS];
	uint8_t qos[BLAST_MAX_SUB_TOPICS];
	/* Shared filters are dealt in turn over the subscribing connections,
	 * so each group has its own members and a message one group delivers
	 * lands on a connection no other group's copy can collide with. */
	uint32_t receiver = o->chat ? c->idx : c->idx - o->publishers;
	uint32_t groups = fanout_share_groups(o), group = 0, n = 0;
	size_t name_len;

	for (uint32_t i = 0; i < o->n_sub_topics; i++) {
		if (fanout_share_filter(o->sub_topics[i], &name_len) &&
		    group++ != receiver % groups)
			continue;
		filters[n] = o->sub_topics[i];
		qos[n++] = o->sub_qos;
	}
	/* A new session: acks owed on the last one mean nothing now. */
	s->n_owed = 0;
	s->n_filters = n;
	s->connacked = false;
	return mqtt_encode_subscribe(out, cap, (enum mqtt_version)o->mqtt_version, SUB_PACKET_ID,
				     filters, qos, n);
}

void mqfo_connacked(struct conn *c)
{
	struct mqfo_conn *s = c->pstate;

	s->connacked = true;
}

int mqfo_on_suback(struct worker *w, struct conn *c, const struct mqtt_frame *f)
{
	struct mqfo_conn *s = c->pstate;
	struct mqtt_suback sa;

	if (c->state != CS_HANDSHAKE || !s->connacked ||
	    mqtt_parse_suback(f, (enum mqtt_version)w->o->mqtt_version, &sa) < 0 ||
	    sa.packet_id != SUB_PACKET_ID || sa.n_codes != s->n_filters) {
		conn_fail(w, c, ERR_PROTOCOL);
		return -1;
	}
	/* Refused: counted by its code, and the connection stays up (what
	 * it does not receive shows as missing). */
	for (size_t i = 0; i < sa.n_codes; i++)
		if (sa.codes[i] >= 0x80)
			w->t.suback[sa.codes[i]]++;
	conn_handshake_done(w, c);
	return 0;
}

static int owe(struct worker *w, struct conn *c, uint8_t type, uint16_t id)
{
	struct mqfo_conn *s = c->pstate;

	if (s->n_owed == s->cap_owed) {
		uint32_t cap = s->cap_owed ? s->cap_owed * 2 : 16;
		uint32_t *n = realloc(s->owed, cap * sizeof(*n));
		if (!n) {
			conn_fail(w, c, ERR_RECV);
			return -1;
		}
		s->owed = n;
		s->cap_owed = cap;
	}
	s->owed[s->n_owed++] = (uint32_t)type << 16 | id;
	return 0;
}

/* Subscribe only (--publishers 0): every delivery counts, whoever sent
 * it; one whose payload starts with blast's fan-out marker (another blast
 * run: the send time is on the wall clock) is timed end to end too. Receipts cannot be told apart (sequence numbers of
 * different publishers collide), so none is a duplicate. */
static int subscribe_only_count(struct worker *w, const struct mqtt_publish *p)
{
	struct marker_fanout m;
	uint64_t t = worker_rx_ns(w), wall = t + mqfo_wall_off(w);

	w->t.received++;
	w->last_recv_ns = t;
	/* A send time in the future or over an hour back is not a clock's. */
	if (!marker_read_fanout(p->payload, p->payload_len, &m) && m.sent_ns <= wall &&
	    wall - m.sent_ns < 3600 * NSEC_PER_SEC)
		hist_record(w->e2e, (int64_t)(wall - m.sent_ns));
	return 0;
}

int mqfo_on_publish(struct worker *w, struct conn *c, const struct mqtt_frame *f)
{
	struct mqtt_publish p;
	struct marker_fanout m;

	if (mqtt_parse_publish(f, (enum mqtt_version)w->o->mqtt_version, &p) < 0) {
		conn_fail(w, c, ERR_PROTOCOL);
		return -1;
	}
	/* Every delivery is answered, ours or not (3.1.1 4.3, 5.0 4.3). */
	if (p.qos && owe(w, c, p.qos == 1 ? MQTT_PUBACK : MQTT_PUBREC, p.packet_id) < 0)
		return -1;
	if (opts_subscribe_only(w->o))
		return subscribe_only_count(w, &p);
	/* Another run's message (retained, or queued for an old session) or
	 * someone else's: not counted. A sequence number past anything this
	 * run can send is not ours either. */
	if (marker_read_fanout(p.payload, p.payload_len, &m) || m.run != w->shm->run_id ||
	    m.seq >= (1ull << 40))
		return 0;
	struct mqfo_conn *s = c->pstate;
	/* The send time back on this host's monotonic clock, as the receipt is. */
	return receipt_count(w, c, &s->rs, m.seq, m.sent_ns - mqfo_wall_off(w));
}

int mqfo_on_pubrel(struct worker *w, struct conn *c, const struct mqtt_frame *f)
{
	struct mqtt_ack a;

	if (mqtt_parse_ack(f, (enum mqtt_version)w->o->mqtt_version, &a) < 0) {
		conn_fail(w, c, ERR_PROTOCOL);
		return -1;
	}
	return owe(w, c, MQTT_PUBCOMP, a.packet_id);
}

size_t mqfo_put_acks(struct worker *w, struct conn *c, uint8_t *out, size_t cap, uint32_t *frames)
{
	struct mqfo_conn *s = c->pstate;
	enum mqtt_version v = (enum mqtt_version)w->o->mqtt_version;
	size_t len = 0;
	uint32_t i = 0;

	if (!s->n_owed)
		return 0;
	for (; i < s->n_owed; i++) {
		ssize_t r = mqtt_encode_ack(out + len, cap - len, v, (uint8_t)(s->owed[i] >> 16),
					    (uint16_t)s->owed[i], 0);
		if (r < 0)
			break;
		len += (size_t)r;
		(*frames)++;
	}
	/* In order: what did not fit goes first next time. */
	memmove(s->owed, s->owed + i, (s->n_owed - i) * sizeof(*s->owed));
	s->n_owed -= i;
	return len;
}

bool mqfo_owes(const struct conn *c)
{
	const struct mqfo_conn *s = c->pstate;

	return s && s->n_owed;
}

const uint8_t *mqfo_payload(struct worker *w, const uint8_t *body, size_t n, size_t *len)
{
	struct mqfo_worker *fw = w->pstate;

	if (fw->cap < MARKER_FANOUT_LEN + n) {
		uint8_t *b = realloc(fw->buf, MARKER_FANOUT_LEN + n);
		if (!b)
			return NULL;
		fw->buf = b;
		fw->cap = MARKER_FANOUT_LEN + n;
	}
	memset(fw->buf, 0, MARKER_FANOUT_LEN); /* stamped once encoded */
	memcpy(fw->buf + MARKER_FANOUT_LEN, body, n);
	*len = MARKER_FANOUT_LEN + n;
	return fw->buf;
}
