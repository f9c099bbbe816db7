/* The control protocol's messages (see control.h). */
#include <errno.h>
#include <string.h>

#include "control.h"
#include "rbuf.h"
#include "wbuf.h"

static const char *const type_names[CTL__COUNT] = {
	[CTL_REGISTER] = "register", [CTL_HEARTBEAT] = "heartbeat", [CTL_ASSIGN] = "assign",
	[CTL_READY] = "ready",       [CTL_GO] = "go",               [CTL_SECOND] = "second",
	[CTL_DONE] = "done",         [CTL_BYE] = "bye",             [CTL_TIME_REQUEST] = "time-request",
	[CTL_TIME_REPLY] = "time-reply",
};

const char *ctl_type_name(unsigned type)
{
	return type > 0 && type < CTL__COUNT ? type_names[type] : "unknown";
}

static void put_str(struct wbuf *w, const struct ctl_str *s, int *err)
{
	if (s->len > UINT16_MAX || (s->len && !s->p)) {
		*err = -EINVAL;
		return;
	}
	wb_u16be(w, (uint16_t)s->len);
	wb_bytes(w, s->p, s->len);
}

static void put_blob(struct wbuf *w, const struct ctl_str *s, int *err)
{
	if (s->len > CTL_MAX_BLOB || (s->len && !s->p)) {
		*err = -EINVAL;
		return;
	}
	wb_u32be(w, (uint32_t)s->len);
	wb_bytes(w, s->p, s->len);
}

static void put_counts(struct wbuf *w, const struct ctl_counts *c)
{
	const uint64_t v[] = { c->sent, c->acked, c->failed, c->unacked, c->errors, c->inflight,
			       c->conns_up };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		wb_u64be(w, v[i]);
}

static void put_share(struct wbuf *w, const struct ctl_share *s)
{
	wb_u32be(w, s->index);
	wb_u32be(w, s->count);
	wb_u32be(w, s->conns);
	wb_u32be(w, s->conn_base);
	wb_u64be(w, s->rate);
	wb_u64be(w, s->messages);
	wb_u8(w, s->has_messages);
	wb_u32be(w, s->publishers);
	wb_u32be(w, s->publisher_base);
	wb_u32be(w, s->receivers);
	wb_u32be(w, s->receiver_base);
	wb_u32be(w, s->partitions);
	wb_u32be(w, s->partition_base);
}

ssize_t ctl_encode(const struct ctl_msg *m, uint8_t *buf, size_t cap)
{
	struct wbuf w;
	int err = 0;

	if (m->type < 1 || m->type >= CTL__COUNT)
		return -EINVAL;
	wb_init(&w, buf, cap);
	wb_bytes(&w, CTL_MAGIC, 4);
	wb_u8(&w, CTL_VERSION);
	wb_u8(&w, m->type);
	if (m->type != CTL_GO && m->type != CTL_ASSIGN)
		put_str(&w, &m->agent, &err);
	switch (m->type) {
	case CTL_REGISTER:
		put_str(&w, &m->u.reg.version, &err);
		wb_u32be(&w, m->u.reg.cores);
		break;
	case CTL_HEARTBEAT:
		wb_u64be(&w, m->u.hb.seq);
		wb_u8(&w, m->u.hb.state);
		break;
	case CTL_ASSIGN:
		wb_u64be(&w, m->run_id);
		put_str(&w, &m->u.assign.agent_to, &err);
		put_share(&w, &m->u.assign.share);
		if (m->u.assign.n_args > CTL_MAX_ARGS)
			return -EINVAL;
		wb_u16be(&w, (uint16_t)m->u.assign.n_args);
		for (uint32_t i = 0; i < m->u.assign.n_args; i++)
			put_str(&w, &m->u.assign.args[i], &err);
		break;
	case CTL_READY:
		wb_u64be(&w, m->run_id);
		break;
	case CTL_GO:
		wb_u64be(&w, m->run_id);
		wb_u64be(&w, m->u.go.t0_wall_ns);
		wb_u32be(&w, m->u.go.hb_timeout_ms);
		break;
	case CTL_TIME_REQUEST:
		wb_u32be(&w, m->u.time.seq);
		wb_u64be(&w, m->u.time.t1);
		break;
	case CTL_TIME_REPLY:
		wb_u32be(&w, m->u.time.seq);
		wb_u64be(&w, m->u.time.t1);
		wb_u64be(&w, m->u.time.t2);
		wb_u64be(&w, m->u.time.t3);
		break;
	case CTL_SECOND:
		wb_u64be(&w, m->run_id);
		wb_u64be(&w, m->u.sec.wall_sec);
		wb_u32be(&w, m->u.sec.len_ms);
		put_counts(&w, &m->u.sec.c);
		put_blob(&w, &m->u.sec.hist, &err);
		if (m->u.sec.n_errors > CTL_MAX_ERRORS)
			return -EINVAL;
		wb_u16be(&w, m->u.sec.n_errors);
		for (uint16_t i = 0; i < m->u.sec.n_errors; i++) {
			put_str(&w, &m->u.sec.errors[i].name, &err);
			wb_u64be(&w, m->u.sec.errors[i].count);
		}
		put_blob(&w, &m->u.sec.wire, &err);
		break;
	case CTL_DONE:
		wb_u64be(&w, m->run_id);
		wb_u32be(&w, (uint32_t)m->u.done.exit_status);
		put_counts(&w, &m->u.done.c);
		put_blob(&w, &m->u.done.hist, &err);
		put_blob(&w, &m->u.done.report, &err);
		break;
	case CTL_BYE:
		put_str(&w, &m->u.bye.reason, &err);
		break;
	}
	return err ? err : wb_result(&w);
}

static struct ctl_str get_str(struct rbuf *r)
{
	size_t n;
	const uint8_t *p = rb_bytes16(r, &n);

	return (struct ctl_str){ (const char *)p, n };
}

static struct ctl_str get_blob(struct rbuf *r)
{
	uint32_t n = rb_u32be(r);
	const uint8_t *p = r->bad || n > CTL_MAX_BLOB ? NULL : rb_take(r, n);

	if (n > CTL_MAX_BLOB)
		rb_fail(r);

	return (struct ctl_str){ (const char *)p, p ? n : 0 };
}

static void get_counts(struct rbuf *r, struct ctl_counts *c)
{
	uint64_t *v[] = { &c->sent, &c->acked, &c->failed, &c->unacked, &c->errors, &c->inflight,
			  &c->conns_up };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		*v[i] = rb_u64be(r);
}

static void get_share(struct rbuf *r, struct ctl_share *s)
{
	s->index = rb_u32be(r);
	s->count = rb_u32be(r);
	s->conns = rb_u32be(r);
	s->conn_base = rb_u32be(r);
	s->rate = rb_u64be(r);
	s->messages = rb_u64be(r);
	s->has_messages = rb_u8(r);
	s->publishers = rb_u32be(r);
	s->publisher_base = rb_u32be(r);
	s->receivers = rb_u32be(r);
	s->receiver_base = rb_u32be(r);
	s->partitions = rb_u32be(r);
	s->partition_base = rb_u32be(r);
}

/* A share that no split could give: what a coordinator must never send. */
static const char *share_wrong(const struct ctl_share *s)
{
	if (!s->count || s->index >= s->count)
		return "share index not below its count";
	if (s->has_messages > 1)
		return "has_messages is not 0 or 1";
	if ((uint64_t)s->conn_base + s->conns > UINT32_MAX ||
	    (uint64_t)s->publisher_base + s->publishers > UINT32_MAX ||
	    (uint64_t)s->receiver_base + s->receivers > UINT32_MAX ||
	    (uint64_t)s->partition_base + s->partitions > UINT32_MAX)
		return "share range past 2^32";
	return NULL;
}

int ctl_decode(const uint8_t *buf, size_t len, struct ctl_msg *m, const char **why)
{
	struct rbuf r;

	memset(m, 0, offsetof(struct ctl_msg, u));
	*why = NULL;
	if (len < CTL_HEADER_LEN || memcmp(buf, CTL_MAGIC, 4)) {
		*why = "not a control message";
		return -EPROTO;
	}
	if (buf[4] != CTL_VERSION) {
		*why = "another control protocol version";
		return -EPROTO;
	}
	m->type = buf[5];
	if (m->type < 1 || m->type >= CTL__COUNT) {
		*why = "unknown type";
		return -EPROTO;
	}
	rb_init(&r, buf + CTL_HEADER_LEN, len - CTL_HEADER_LEN);
	if (m->type != CTL_GO && m->type != CTL_ASSIGN) {
		m->agent = get_str(&r);
		if (!r.bad && !m->agent.len) {
			*why = "empty agent name";
			return -EPROTO;
		}
	}
	switch (m->type) {
	case CTL_REGISTER:
		m->u.reg.version = get_str(&r);
		m->u.reg.cores = rb_u32be(&r);
		break;
	case CTL_HEARTBEAT:
		m->u.hb.seq = rb_u64be(&r);
		m->u.hb.state = rb_u8(&r);
		if (!r.bad && m->u.hb.state >= CTL__STATES)
			*why = "unknown agent state";
		break;
	case CTL_ASSIGN:
		m->run_id = rb_u64be(&r);
		m->u.assign.agent_to = get_str(&r);
		get_share(&r, &m->u.assign.share);
		m->u.assign.n_args = rb_u16be(&r);
		if (!r.bad && (*why = share_wrong(&m->u.assign.share)))
			break;
		if (m->u.assign.n_args > CTL_MAX_ARGS) {
			*why = "too many arguments";
			break;
		}
		for (uint32_t i = 0; i < m->u.assign.n_args && !r.bad; i++)
			m->u.assign.args[i] = get_str(&r);
		break;
	case CTL_READY:
		m->run_id = rb_u64be(&r);
		break;
	case CTL_GO:
		m->run_id = rb_u64be(&r);
		m->u.go.t0_wall_ns = rb_u64be(&r);
		m->u.go.hb_timeout_ms = rb_u32be(&r);
		break;
	case CTL_TIME_REQUEST:
		m->u.time.seq = rb_u32be(&r);
		m->u.time.t1 = rb_u64be(&r);
		break;
	case CTL_TIME_REPLY:
		m->u.time.seq = rb_u32be(&r);
		m->u.time.t1 = rb_u64be(&r);
		m->u.time.t2 = rb_u64be(&r);
		m->u.time.t3 = rb_u64be(&r);
		if (!r.bad && m->u.time.t3 < m->u.time.t2)
			*why = "answered before it came (t3 < t2)";
		break;
	case CTL_SECOND:
		m->run_id = rb_u64be(&r);
		m->u.sec.wall_sec = rb_u64be(&r);
		m->u.sec.len_ms = rb_u32be(&r);
		get_counts(&r, &m->u.sec.c);
		m->u.sec.hist = get_blob(&r);
		m->u.sec.n_errors = rb_u16be(&r);
		if (m->u.sec.n_errors > CTL_MAX_ERRORS) {
			*why = "more than 64 error reasons";
			m->u.sec.n_errors = 0;
			break;
		}
		for (uint16_t i = 0; i < m->u.sec.n_errors; i++) {
			m->u.sec.errors[i].name = get_str(&r);
			m->u.sec.errors[i].count = rb_u64be(&r);
		}
		m->u.sec.wire = get_blob(&r);
		if (!r.bad && m->u.sec.len_ms > 1000)
			*why = "a second longer than 1000 ms";
		break;
	case CTL_DONE:
		m->run_id = rb_u64be(&r);
		m->u.done.exit_status = (int32_t)rb_u32be(&r);
		get_counts(&r, &m->u.done.c);
		m->u.done.hist = get_blob(&r);
		m->u.done.report = get_blob(&r);
		break;
	case CTL_BYE:
		m->u.bye.reason = get_str(&r);
		break;
	}
	if (!*why && r.bad)
		*why = "truncated";
	if (!*why && rb_done(&r))
		*why = "bytes after the message";
	return *why ? -EPROTO : 0;
}
