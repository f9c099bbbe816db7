/* Broker addresses: --target and --listen-target are parsed and resolved
 * at start, and each must accept a connection before the run begins. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/opts.h"
#include "cli/fail.h"
#include "cli/targets.h"

#define CONNECT_TIMEOUT_MS 2000
/* "host:port" as the user would write it, brackets back on IPv6. */
static void target_name(const struct blast_target *t, char *buf, size_t cap)
{
	if (strchr(t->host, ':'))
		snprintf(buf, cap, "[%s]:%u", t->host, t->port);
	else
		snprintf(buf, cap, "%s:%u", t->host, t->port);
}

int target_add(struct blast_opts *o, const char *s)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai, *pick = NULL;
	struct blast_target *t;
	int r;

	if (o->n_targets >= BLAST_MAX_TARGETS)
		return cli_fail("--target %s: at most %d targets", cli_quote(s), BLAST_MAX_TARGETS);
	t = &o->targets[o->n_targets];
	const char *given = s;
	char hostport[300];
	strcpy(t->path, "/");
	bool ws = !strncmp(s, "ws://", 5) || !strncmp(s, "wss://", 6);
	bool http = !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
	t->tls = !strncmp(s, "wss://", 6) || !strncmp(s, "mqtts://", 8) || !strncmp(s, "https://", 8);
	if (ws || http) {
		/* ws://HOST:PORT/PATH: the path goes in the upgrade request;
		 * http://HOST[:PORT][/PATH]: in every request. */
		const char *hp = strstr(s, "://") + 3, *slash = strchr(hp, '/');
		size_t n = slash ? (size_t)(slash - hp) : strlen(hp);
		if (n >= sizeof(hostport) || (slash && strlen(slash) >= sizeof(t->path)))
			return cli_fail("--target %s: too long", cli_quote(given));
		memcpy(hostport, hp, n);
		hostport[n] = 0;
		if (slash)
			strcpy(t->path, slash);
		t->ws = ws;
		t->http = http;
		/* HTTP's default ports when none is given ("[::1]" or "host"). */
		const char *close = strrchr(hostport, ']');
		if (http && !strchr(close ? close : hostport, ':') && n + 5 < sizeof(hostport))
			strcat(hostport, t->tls ? ":443" : ":80");
		s = hostport;
	} else if (!strncmp(s, "mqtts://", 8) || !strncmp(s, "mqtt://", 7)) {
		s = strstr(s, "://") + 3;
		if (strlen(s) >= sizeof(hostport) || strchr(s, '/'))
			return cli_fail("--target %s: expected mqtts://HOST:PORT (no path)",
					cli_quote(given));
	} else if (strstr(s, "://")) {
		return cli_fail("--target %s: the schemes are mqtt://, mqtts://, ws://, wss://, http:// "
				"and https://",
			    cli_quote(given));
	}
	if (parse_hostport(s, t->host, sizeof(t->host), &t->port))
		return cli_fail("--target %s: expected HOST:PORT, mqtts://HOST:PORT or ws[s]://HOST:PORT/PATH with a port from 1 to 65535 (IPv6 as [::1]:1883)",
			    cli_quote(given));
	r = getaddrinfo(t->host, NULL, &hints, &res);
	if (r)
		return cli_fail("--target %s: name does not resolve (%s)", cli_quote(s),
			    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
	/* IPv4 first: "localhost" often lists ::1 first, and a broker is more
	 * often listening on 127.0.0.1 only than on ::1 only. */
	for (ai = res; ai && !pick; ai = ai->ai_next)
		if (ai->ai_family == AF_INET)
			pick = ai;
	for (ai = res; ai && !pick; ai = ai->ai_next)
		if (ai->ai_family == AF_INET6)
			pick = ai;
	if (!pick || pick->ai_addrlen > sizeof(t->addr)) {
		freeaddrinfo(res);
		return cli_fail("--target %s: no IPv4 or IPv6 address", cli_quote(s));
	}
	memcpy(&t->addr, pick->ai_addr, pick->ai_addrlen);
	t->addr_len = pick->ai_addrlen;
	if (pick->ai_family == AF_INET)
		((struct sockaddr_in *)&t->addr)->sin_port = htons(t->port);
	else
		((struct sockaddr_in6 *)&t->addr)->sin6_port = htons(t->port);
	freeaddrinfo(res);
	o->n_targets++;
	return 0;
}

int listen_target_add(struct blast_opts *o, const char *s)
{
	/* Parsed like a target, then moved to the listen list. */
	if (o->n_listen >= BLAST_MAX_TARGETS)
		return cli_fail("--listen-target: at most %d", BLAST_MAX_TARGETS);
	unsigned keep = o->n_targets;
	struct blast_target saved = o->targets[keep];
	int r = target_add(o, s);
	if (r)
		return r;
	o->listen[o->n_listen++] = o->targets[keep];
	o->targets[keep] = saved;
	o->n_targets = keep;
	return 0;
}

/* Returns 0 or a positive errno. */
static int connect_once(const struct blast_target *t)
{
	struct pollfd pfd = { .events = POLLOUT };
	socklen_t len = sizeof(int);
	int fd, err = 0;

	fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, (const struct sockaddr *)&t->addr, t->addr_len) == 0)
		goto out;
	if (errno != EINPROGRESS) {
		err = errno;
		goto out;
	}
	pfd.fd = fd;
	for (;;) {
		int r = poll(&pfd, 1, CONNECT_TIMEOUT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = errno;
		else if (r == 0)
			err = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		break;
	}
out:
	close(fd);
	return err;
}

int opts_check_targets(const struct blast_opts *o)
{
	for (unsigned i = 0; i < o->n_targets; i++) {
		int err = connect_once(&o->targets[i]);
		if (err) {
			char name[300];
			target_name(&o->targets[i], name, sizeof(name));
			return cli_fail("cannot connect to %s: %s", name, strerror(err));
		}
	}
	for (unsigned i = 0; i < o->n_listen; i++) {
		int err = connect_once(&o->listen[i]);
		if (err) {
			char name[300];
			target_name(&o->listen[i], name, sizeof(name));
			return cli_fail("cannot connect to --listen-target %s: %s", name, strerror(err));
		}
	}
	return 0;
}
