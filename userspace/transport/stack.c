/* The transport stack (transport.h): which layers a run uses, and the
 * walk through them, down for sends and handshakes, up for receipts. */
#include <errno.h>
#include <string.h>

#include "transport/transport.h"

void tstack_build(struct tstack *s, const struct blast_opts *o, const struct transport_env *env)
{
	*s = (struct tstack){ .env = env };
	s->layer[s->n++] = &tcp_transport;
	/* A TLS layer goes here, under WebSocket. */
	if (o->transport == TRANSPORT_WS)
		s->layer[s->n++] = o->proto == PROTO_WS ? &ws_message_transport : &ws_transport;
	for (unsigned i = 0; i < s->n; i++) {
		s->headroom += s->layer[i]->headroom;
		if (i > 0)
			s->framed = true;
	}
}

int tlink_open(struct tlink *l, const struct tstack *s, const struct blast_target *target,
	       uint32_t id)
{
	l->s = s;
	l->target = target;
	l->id = id;
	l->up = 0;
	for (unsigned i = 0; i < s->n; i++) {
		int r = s->layer[i]->open ? s->layer[i]->open(l, i) : 0;
		if (r < 0)
			return r;
	}
	return 0;
}

void tlink_close(struct tlink *l)
{
	if (!l->s)
		return;
	for (unsigned i = 0; i < l->s->n; i++)
		if (l->s->layer[i]->close)
			l->s->layer[i]->close(l, i);
	l->up = 0;
}

/* Layers [0, top) frame data[*off, len), the one just below top first. */
static void wrap_below(struct tlink *l, unsigned top, uint8_t *data, uint32_t *off, uint32_t len)
{
	for (unsigned i = top; i-- > 0;)
		if (l->s->layer[i]->wrap)
			l->s->layer[i]->wrap(l, i, data, off, len);
}

/* Headroom of the layers below top. */
static uint32_t room_below(const struct tstack *s, unsigned top)
{
	uint32_t r = 0;

	for (unsigned i = 0; i < top; i++)
		r += s->layer[i]->headroom;
	return r;
}

int tlink_hello(struct tlink *l, uint8_t *data, uint32_t cap, uint32_t *off, uint32_t *len)
{
	const struct tstack *s = l->s;

	while (l->up < s->n) {
		const struct transport_ops *t = s->layer[l->up];
		uint32_t start = room_below(s, l->up);
		ssize_t r = t->hello && start < cap ? t->hello(l, l->up, data + start, cap - start) :
			    t->hello ? -ENOSPC : 0;
		if (r < 0)
			return (int)r;
		if (r > 0) {
			*off = start;
			*len = start + (uint32_t)r;
			wrap_below(l, l->up, data, off, *len);
			return 1;
		}
		l->up++;
	}
	return 0;
}

void tlink_wrap(struct tlink *l, uint8_t *data, uint32_t *off, uint32_t len)
{
	wrap_below(l, l->s->n, data, off, len);
}

int tlink_up(struct tlink *l, unsigned i, const uint8_t *buf, size_t len)
{
	const struct tstack *s = l->s;

	while (i < s->n) {
		const struct transport_ops *t = s->layer[i];
		if (i >= l->up) {
			/* Its handshake is going: the bytes are the answer. */
			ssize_t used = t->hello_feed ? t->hello_feed(l, i, buf, len) : (ssize_t)len;
			if (used < 0) {
				s->env->fail(s->env->ctx, l, ERR__COUNT); /* counted by the layer */
				return -1;
			}
			if (used == 0)
				return 0;
			l->up = (uint8_t)(i + 1);
			s->env->layer_up(s->env->ctx, l);
			buf += used;
			len -= (size_t)used;
			if (!len)
				return 0;
			/* The rest is payload, from a layer that is up now. */
		}
		if (t->unwrap)
			return t->unwrap(l, i, buf, len);
		i++;
	}
	return s->env->deliver(s->env->ctx, l, buf, len);
}

int tlink_recv(struct tlink *l, const uint8_t *buf, size_t len)
{
	return tlink_up(l, 0, buf, len);
}

enum blast_err tlink_closed_err(const struct tlink *l, bool reset)
{
	const struct tstack *s = l->s;

	if (s && l->up < s->n && s->layer[l->up]->closed_in_hello)
		return s->layer[l->up]->closed_in_hello;
	return reset ? ERR_CONN_RESET : ERR_CONN_CLOSED;
}

size_t tlink_take_control(struct tlink *l, uint8_t *out, size_t cap)
{
	const struct tstack *s = l->s;

	if (!s)
		return 0;
	for (unsigned i = s->n; i-- > 0;) {
		const struct transport_ops *t = s->layer[i];
		uint32_t start = room_below(s, i);
		if (!t->take_control || start >= cap)
			continue;
		size_t n = t->take_control(l, i, out + start, cap - start);
		if (n) {
			uint32_t off = start;
			wrap_below(l, i, out, &off, start + (uint32_t)n);
			/* Sends start at out[0]: move the framed bytes there. */
			size_t total = start + n - off;
			if (off)
				memmove(out, out + off, total);
			return total;
		}
	}
	return 0;
}
