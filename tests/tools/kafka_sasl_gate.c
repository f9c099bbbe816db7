/* kafka_sasl_gate: Kafka's SASL authentication in front of librdkafka's
 * mock cluster (which has none), for blast's end-to-end tests. The SASL
 * mechanisms themselves are Cyrus SASL's (libsasl2's PLAIN and SCRAM
 * plugins, a server implementation blast shares no code with); this
 * program only carries them in Kafka's framing, as a broker does:
 *
 *   kafka_sasl_gate --listen UNIX_PATH --upstream 127.0.0.1:PORT
 *                   --user U --password P [--mechs "PLAIN SCRAM-SHA-256"]
 *                   [--forge-signature] [--refuse-after N]
 *
 * Each connection accepted on UNIX_PATH gets its own process and its own
 * connection to the broker. Until it has authenticated, the gate answers
 * SaslHandshake (v0-1) and SaslAuthenticate (v0-1) itself, passes
 * ApiVersions to the broker and adds those two APIs to the answer, and
 * closes the connection on anything else (as a broker does). Once
 * authenticated, bytes pass through both ways unchanged. A refused
 * SaslAuthenticate gets SASL_AUTHENTICATION_FAILED with Kafka's message,
 * and the connection is closed. --forge-signature plays an impostor that
 * does not know the password: one character of SCRAM's server signature
 * (server-final "v=") is changed before it is sent. --refuse-after N
 * refuses every authentication after the first N that succeeded (a
 * broker whose credentials were revoked while a client runs). */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#define FRAME_MAX (64u << 20)

static const char *g_user, *g_pass, *g_mechs = "PLAIN SCRAM-SHA-256 SCRAM-SHA-512";
static bool g_forge;
static long g_refuse_after = -1;
static long *g_auth_ok; /* authentications that succeeded, shared by the children */

/* ---- credentials: one user, given on the command line ---- */

static int gate_lookup(void *glob, sasl_server_params_t *sp, unsigned flags, const char *user,
		       unsigned ulen)
{
	const struct propval *to_fetch, *cur;
	size_t n = strlen(g_user);

	(void)glob;
	if (!sp || !user || (flags & SASL_AUXPROP_AUTHZID))
		return SASL_NOUSER;
	/* Cyrus may add "@realm": compare the name before it. */
	if (ulen < n || memcmp(user, g_user, n) || (ulen > n && user[n] != '@'))
		return SASL_NOUSER;
	to_fetch = sp->utils->prop_get(sp->propctx);
	for (cur = to_fetch; cur && cur->name; cur++) {
		if (strcmp(cur->name, "*userPassword"))
			continue;
		if (cur->values)
			sp->utils->prop_erase(sp->propctx, cur->name);
		sp->utils->prop_set(sp->propctx, cur->name, g_pass, (int)strlen(g_pass));
	}
	return SASL_OK;
}

static sasl_auxprop_plug_t gate_plug = {
	.auxprop_lookup = gate_lookup,
	.name = "gate",
};

static int gate_auxprop_init(const sasl_utils_t *u, int max, int *out, sasl_auxprop_plug_t **plug,
			     const char *name)
{
	(void)u, (void)name;
	if (max < SASL_AUXPROP_PLUG_VERSION)
		return SASL_BADVERS;
	*out = SASL_AUXPROP_PLUG_VERSION;
	*plug = &gate_plug;
	return SASL_OK;
}

static int getopt_cb(void *ctx, const char *plugin, const char *option, const char **result,
		     unsigned *len)
{
	(void)ctx, (void)plugin;
	if (!strcmp(option, "auxprop_plugin"))
		*result = "gate";
	else if (!strcmp(option, "mech_list"))
		*result = g_mechs;
	else if (!strcmp(option, "pwcheck_method"))
		*result = "auxprop";
	else
		return SASL_FAIL;
	if (len)
		*len = 0;
	return SASL_OK;
}

/* ---- bytes ---- */

static int read_full(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = write(fd, p, n);
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* One frame (Size included) into a malloc'd buffer; its length, or -1. */
static ssize_t read_frame(int fd, uint8_t **out)
{
	uint8_t h[4];

	if (read_full(fd, h, 4) < 0)
		return -1;
	uint32_t n = be32(h);
	if (n < 8 || n > FRAME_MAX)
		return -1;
	uint8_t *b = malloc(n + 4);
	if (!b)
		return -1;
	memcpy(b, h, 4);
	if (read_full(fd, b + 4, n) < 0) {
		free(b);
		return -1;
	}
	*out = b;
	return (ssize_t)n + 4;
}

/* ---- the exchange ---- */

struct resp {
	uint8_t b[8192];
	size_t n;
};

static void r_begin(struct resp *r, uint32_t corr)
{
	r->n = 4;
	put32(r->b + r->n, corr);
	r->n += 4;
}

static void r_bytes(struct resp *r, const void *p, size_t n)
{
	if (r->n + n <= sizeof(r->b)) {
		memcpy(r->b + r->n, p, n);
		r->n += n;
	}
}

static void r_u16(struct resp *r, uint16_t v)
{
	uint8_t b[2];
	put16(b, v);
	r_bytes(r, b, 2);
}

static void r_u32(struct resp *r, uint32_t v)
{
	uint8_t b[4];
	put32(b, v);
	r_bytes(r, b, 4);
}

static int r_send(int fd, struct resp *r)
{
	put32(r->b, (uint32_t)r->n - 4);
	return write_full(fd, r->b, r->n);
}

static size_t uvarint(const uint8_t *p, size_t n, uint32_t *v)
{
	uint32_t x = 0;
	for (size_t i = 0; i < n && i < 5; i++) {
		x |= (uint32_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

static size_t put_uvarint(uint8_t *p, uint32_t v)
{
	size_t i = 0;
	while (v >= 0x80) {
		p[i++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[i++] = (uint8_t)v;
	return i;
}

/* The broker's ApiVersions answer with SaslHandshake 0-1 and
 * SaslAuthenticate 0-1 added (version: the request's). */
static int api_versions(int cfd, int ufd, const uint8_t *req, size_t len, int16_t version)
{
	uint8_t *rs;
	ssize_t n;

	if (write_full(ufd, req, len) < 0 || (n = read_frame(ufd, &rs)) < 0)
		return -1;
	bool flex = version >= 3;
	/* Size, corr, error_code, then the array. */
	if (n < 14 || rs[8] || rs[9]) {
		int r = write_full(cfd, rs, (size_t)n);
		free(rs);
		return r;
	}
	uint8_t *o = malloc((size_t)n + 32);
	uint32_t cnt;
	size_t at = 10, used;
	if (flex) {
		used = uvarint(rs + at, (size_t)n - at, &cnt);
		cnt = cnt ? cnt - 1 : 0;
	} else {
		cnt = be32(rs + at);
		used = 4;
	}
	if (!o || !used) {
		free(o);
		free(rs);
		return -1;
	}
	memcpy(o, rs, at);
	size_t w = at;
	if (flex)
		w += put_uvarint(o + w, cnt + 2 + 1);
	else
		put32(o + w, cnt + 2), w += 4;
	static const uint16_t add[2][3] = { { 17, 0, 1 }, { 36, 0, 1 } };
	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < 3; j++)
			put16(o + w + 2 * j, add[i][j]);
		w += 6;
		if (flex)
			o[w++] = 0; /* no tagged fields */
	}
	memcpy(o + w, rs + at + used, (size_t)n - at - used);
	w += (size_t)n - at - used;
	put32(o, (uint32_t)w - 4);
	int r = write_full(cfd, o, w);
	free(o);
	free(rs);
	return r;
}

/* Copies bytes both ways until either side closes. */
static void relay(int a, int b)
{
	uint8_t buf[65536];
	struct pollfd p[2] = { { .fd = a, .events = POLLIN }, { .fd = b, .events = POLLIN } };

	for (;;) {
		if (poll(p, 2, -1) < 0)
			return;
		for (int i = 0; i < 2; i++) {
			if (!p[i].revents)
				continue;
			ssize_t n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0 || write_full(p[1 - i].fd, buf, (size_t)n) < 0)
				return;
		}
	}
}

static void serve(int cfd, const struct sockaddr_in *up)
{
	int ufd = socket(AF_INET, SOCK_STREAM, 0);
	sasl_conn_t *conn = NULL;
	char mech[64] = "";
	bool started = false;

	if (ufd < 0 || connect(ufd, (const struct sockaddr *)up, sizeof(*up)) < 0 ||
	    sasl_server_new("kafka", "localhost", NULL, NULL, NULL, NULL, SASL_SUCCESS_DATA, &conn) != SASL_OK)
		return;
	for (;;) {
		uint8_t *f;
		ssize_t n = read_frame(cfd, &f);
		if (n < 0)
			return;
		int16_t key = (int16_t)(f[4] << 8 | f[5]), ver = (int16_t)(f[6] << 8 | f[7]);
		uint32_t corr = be32(f + 8);
		size_t at = 12;
		uint16_t cid = (uint16_t)(f[at] << 8 | f[at + 1]);
		at += 2 + (cid == 0xffff ? 0 : cid);
		struct resp r;
		if (key == 18) {
			int rc = api_versions(cfd, ufd, f, (size_t)n, ver);
			free(f);
			if (rc < 0)
				return;
			continue;
		}
		if (key == 17 && ver <= 1 && at + 2 <= (size_t)n) {
			uint16_t ml = (uint16_t)(f[at] << 8 | f[at + 1]);
			snprintf(mech, sizeof(mech), "%.*s", (int)ml, (const char *)f + at + 2);
			free(f);
			bool known = false;
			char list[256], *save = NULL;
			snprintf(list, sizeof(list), "%s", g_mechs);
			for (char *m = strtok_r(list, " ", &save); m; m = strtok_r(NULL, " ", &save))
				known |= !strcmp(m, mech);
			r_begin(&r, corr);
			r_u16(&r, known ? 0 : 33); /* UNSUPPORTED_SASL_MECHANISM */
			snprintf(list, sizeof(list), "%s", g_mechs);
			uint32_t cnt = 0;
			for (char *m = strtok_r(list, " ", &save); m; m = strtok_r(NULL, " ", &save))
				cnt++;
			r_u32(&r, cnt);
			snprintf(list, sizeof(list), "%s", g_mechs);
			for (char *m = strtok_r(list, " ", &save); m; m = strtok_r(NULL, " ", &save)) {
				r_u16(&r, (uint16_t)strlen(m));
				r_bytes(&r, m, strlen(m));
			}
			if (r_send(cfd, &r) < 0 || !known)
				return;
			continue;
		}
		if (key == 36 && ver <= 1 && mech[0] && at + 4 <= (size_t)n) {
			uint32_t al = be32(f + at);
			const char *in = (const char *)f + at + 4;
			const char *out = NULL;
			unsigned olen = 0;
			if (al > (size_t)n - at - 4) {
				free(f);
				return;
			}
			int rc = started ? sasl_server_step(conn, in, al, &out, &olen) :
					   sasl_server_start(conn, mech, in, al, &out, &olen);
			if (rc == SASL_OK && g_refuse_after >= 0 &&
			    __atomic_fetch_add(g_auth_ok, 1, __ATOMIC_SEQ_CST) >= g_refuse_after)
				rc = SASL_BADAUTH, out = NULL, olen = 0;
			started = true;
			free(f);
			r_begin(&r, corr);
			bool ok = rc == SASL_OK || rc == SASL_CONTINUE;
			r_u16(&r, ok ? 0 : 58); /* SASL_AUTHENTICATION_FAILED */
			if (ok) {
				r_u16(&r, 0xffff); /* no message */
			} else {
				char msg[300];
				snprintf(msg, sizeof(msg), "Authentication failed during authentication due "
					 "to invalid credentials with SASL mechanism %s", mech);
				fprintf(stderr, "kafka_sasl_gate: %s refused: %s\n", mech,
					out || rc != SASL_BADAUTH ? sasl_errdetail(conn) : "--refuse-after");
				r_u16(&r, (uint16_t)strlen(msg));
				r_bytes(&r, msg, strlen(msg));
			}
			r_u32(&r, olen);
			size_t at_sig = r.n + 2;
			r_bytes(&r, out, olen);
			if (g_forge && rc == SASL_OK && olen > 2 && !memcmp(out, "v=", 2) &&
			    at_sig < r.n)
				r.b[at_sig] = r.b[at_sig] == 'A' ? 'B' : 'A';
			if (ver >= 1)
				r_u32(&r, 0), r_u32(&r, 0); /* session_lifetime_ms */
			if (r_send(cfd, &r) < 0 || !ok)
				return;
			if (rc == SASL_OK)
				break;
			continue;
		}
		/* Anything else before authentication: a broker closes. */
		fprintf(stderr, "kafka_sasl_gate: API %d v%d before authentication: closing\n", key,
			ver);
		free(f);
		return;
	}
	relay(cfd, ufd);
}

int main(int argc, char **argv)
{
	const char *listen_path = NULL, *upstream = NULL;
	static sasl_callback_t cbs[] = {
		{ SASL_CB_GETOPT, (int (*)(void))(void (*)(void))getopt_cb, NULL },
		{ SASL_CB_LIST_END, NULL, NULL },
	};

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--forge-signature"))
			g_forge = true;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--forge-signature"))
			i--;
		else if (!strcmp(argv[i], "--listen"))
			listen_path = argv[i + 1];
		else if (!strcmp(argv[i], "--upstream"))
			upstream = argv[i + 1];
		else if (!strcmp(argv[i], "--user"))
			g_user = argv[i + 1];
		else if (!strcmp(argv[i], "--password"))
			g_pass = argv[i + 1];
		else if (!strcmp(argv[i], "--mechs"))
			g_mechs = argv[i + 1];
		else if (!strcmp(argv[i], "--refuse-after"))
			g_refuse_after = atol(argv[i + 1]);
	}
	const char *colon = upstream ? strrchr(upstream, ':') : NULL;
	if (!listen_path || !colon || !g_user || !g_pass) {
		fprintf(stderr, "usage: kafka_sasl_gate --listen UNIX_PATH --upstream 127.0.0.1:PORT "
				"--user U --password P [--mechs LIST]\n");
		return 2;
	}
	struct sockaddr_in up = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1)) };
	char host[64];
	snprintf(host, sizeof(host), "%.*s", (int)(colon - upstream), upstream);
	if (inet_pton(AF_INET, host, &up.sin_addr) != 1) {
		fprintf(stderr, "kafka_sasl_gate: --upstream: an IPv4 address and port\n");
		return 2;
	}
	g_auth_ok = mmap(NULL, sizeof(*g_auth_ok), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			 -1, 0);
	if (g_auth_ok == MAP_FAILED) {
		perror("kafka_sasl_gate: mmap");
		return 1;
	}
	if (sasl_auxprop_add_plugin("gate", gate_auxprop_init) != SASL_OK ||
	    sasl_server_init(cbs, "kafka_sasl_gate") != SASL_OK) {
		fprintf(stderr, "kafka_sasl_gate: cannot start Cyrus SASL\n");
		return 1;
	}
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", listen_path);
	unlink(listen_path);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(ls, 64) < 0) {
		perror("kafka_sasl_gate: listen");
		return 1;
	}
	signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		int c = accept(ls, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		pid_t pid = fork();
		if (pid == 0) {
			close(ls);
			serve(c, &up);
			_exit(0);
		}
		close(c);
	}
}
