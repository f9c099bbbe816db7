/* The transport stack (transport.h): which layers a run uses, and the
 * walk through them, down for sends and handshakes, up for receipts. */
#include <errno.h>
#include <string.h>

#include "transport/transport.h"

int tstack_build(struct tstack *s, const struct blast_opts *o, const struct transport_env *env,
		 char *err, size_t err_cap)
{
	*s = (struct tstack){ .env = env };
	s->layer[s->n++] = &tcp_transport;
	if (o->tls)
		s->layer[s->n++] = &tls_transport;
	if (o->transport == TRANSPORT_WS)
		s->layer[s->n++] = o->proto == PROTO_WS ? &ws_message_transport : &ws_transport;
	for (unsigned i = 0; i < s->n; i++) {
		s->headroom += s->layer[i]->headroom;
		if (i > 0)
			s->framed = true;
		if (s->layer[i]->wrap)
			s->wraps = true;
		if (s->layer[i]->bye)
			s->byes = true;
		int r = s->layer[i]->stack_open ? s->layer[i]->stack_open(s, i, err, err_cap) : 0;
		if (r < 0) {
			s->n = i; /* the layers below are freed */
			tstack_free(s);
			return r;
		}
	}
	return 0;
}

void tstack_free(struct tstack *s)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->layer[i]->stack_close)
			s->layer[i]->stack_close(s, i);
	s->n = 0;
}

uint32_t tstack_tailroom(const struct tstack *s, uint32_t cap)
{
	uint32_t r = 0;

	for (unsigned i = 0; i < s->n; i++)
		if (s->layer[i]->tailroom)
			r += s->layer[i]->tailroom(cap + r);
	return r;
}

enum blast_err tlink_cut_short(struct tlink *l, bool closed)
{
	const struct transport_ops *t = l->s && l->up < l->s->n ? l->s->layer[l->up] : NULL;

	if (t && t->cut_short)
		return t->cut_short(l, l->up, closed);
	return closed ? ERR_CONN_CLOSED : ERR_CONNECT_TIMEOUT;
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

/* Layers [0, top) frame data[*off, *len), the one just below top first. */
static int wrap_below(struct tlink *l, unsigned top, uint8_t *data, uint32_t *off, uint32_t *len,
		      uint32_t room)
{
	for (unsigned i = top; i-- > 0;) {
		int r = l->s->layer[i]->wrap ? l->s->layer[i]->wrap(l, i, data, off, len, room) : 0;
		if (r < 0)
			return r;
	}
	return 0;
}

/* Headroom of the layers below top. */
static uint32_t room_below(const struct tstack *s, unsigned top)
{
	uint32_t r = 0;

	for (unsigned i = 0; i < top; i++)
		r += s->layer[i]->headroom;
	return r;
}

int tlink_hello(struct tlink *l, uint8_t *data, uint32_t cap, uint32_t room, uint32_t *off,
		uint32_t *len)
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
			int w = wrap_below(l, l->up, data, off, len, room);
			return w < 0 ? w : 1;
		}
		l->up++;
	}
	return 0;
}

int tlink_wrap(struct tlink *l, uint8_t *data, uint32_t *off, uint32_t *len, uint32_t room)
{
	return wrap_below(l, l->s->n, data, off, len, room);
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

enum blast_err tlink_closed_err(struct tlink *l, bool reset)
{
	const struct tstack *s = l->s;

	if (s && l->up < s->n && s->layer[l->up]->cut_short)
		return s->layer[l->up]->cut_short(l, l->up, true);
	if (s && l->up < s->n && s->layer[l->up]->closed_in_hello)
		return s->layer[l->up]->closed_in_hello;
	return reset ? ERR_CONN_RESET : ERR_CONN_CLOSED;
}

size_t tlink_take_control(struct tlink *l, uint8_t *out, size_t cap, size_t room)
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
			uint32_t off = start, len = start + (uint32_t)n;
			if (wrap_below(l, i, out, &off, &len, (uint32_t)room) < 0)
				return 0;
			/* Sends start at out[0]: move the framed bytes there. */
			size_t total = len - off;
			if (off)
				memmove(out, out + off, total);
			return total;
		}
	}
	return 0;
}

uint32_t tlink_bye(struct tlink *l, uint8_t *data, uint32_t len, uint32_t room)
{
	const struct tstack *s = l->s;

	if (!s || !tlink_is_up(l))
		return len;
	for (unsigned i = s->n; i-- > 0;) {
		const struct transport_ops *t = s->layer[i];
		uint32_t start = len + room_below(s, i);
		if (!t->bye || start >= room)
			continue;
		size_t n = t->bye(l, i, data + start, room - start);
		if (!n)
			continue;
		uint32_t off = start, end = start + (uint32_t)n;
		if (wrap_below(l, i, data, &off, &end, room) < 0)
			return len;
		if (off > len)
			memmove(data + len, data + off, end - off);
		len += end - off;
	}
	return len;
}
