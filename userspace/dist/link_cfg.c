/* The control link's URL and flags (link_cfg.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/link_cfg.h"

/* Percent-decoded (a ':' or '@' in a password is written %3A, %40). */
static int decode(char *out, size_t cap, const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (k + 1 >= cap)
			return -1;
		if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = { s[i + 1], s[i + 2], 0 };
			long v = strtol(hex, NULL, 16);
			if (!v)
				return -1;
			out[k++] = (char)v;
			i += 2;
		} else if (s[i] == '%') {
			return -1;
		} else {
			out[k++] = s[i];
		}
	}
	out[k] = '\0';
	return 0;
}

int link_cfg_url(struct link_cfg *c, const char *url, char *err, size_t cap)
{
	const char *s = url;
	const char *scheme = "mqtt://";

	if (!strncmp(s, "mqtts://", 8)) {
		c->tls = true;
		scheme = "mqtts://";
		s += 8;
	} else if (!strncmp(s, "mqtt://", 7)) {
		c->tls = false;
		s += 7;
	} else if (strstr(s, "://")) {
		snprintf(err, cap, "--control: must be mqtt://HOST:PORT or mqtts://HOST:PORT");
		return -1;
	}
	const char *at = strrchr(s, '@');
	if (at) {
		const char *colon = memchr(s, ':', (size_t)(at - s));
		size_t ulen = colon ? (size_t)(colon - s) : (size_t)(at - s);
		if (!ulen || decode(c->username, sizeof(c->username), s, ulen) ||
		    (colon && decode(c->password, sizeof(c->password), colon + 1,
				     (size_t)(at - colon - 1)))) {
			snprintf(err, cap, "--control: the user in %sUSER:PASS@HOST:PORT is empty or "
				 "too long, or a %% is not followed by two hex digits", scheme);
			return -1;
		}
		c->has_user = true;
		c->has_pass = colon != NULL;
		s = at + 1;
	}
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(c->host) || !colon[1] ||
	    strlen(colon + 1) >= sizeof(c->port) || strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
		snprintf(err, cap, "--control: must be mqtt://HOST:PORT or mqtts://HOST:PORT");
		return -1;
	}
	memcpy(c->host, s, (size_t)(colon - s));
	c->host[colon - s] = '\0';
	snprintf(c->port, sizeof(c->port), "%s", colon + 1);
	snprintf(c->url, sizeof(c->url), "%s%s:%s", scheme, c->host, c->port);
	return 0;
}

int link_cfg_flag(struct link_cfg *c, const char *flag, const char *v, char *err, size_t cap)
{
	if (!strcmp(flag, "--control-insecure")) {
		c->insecure = true;
		return 0;
	}
	const char **file = !strcmp(flag, "--control-cacert") ? &c->cacert :
			    !strcmp(flag, "--control-cert")   ? &c->cert :
			    !strcmp(flag, "--control-key")    ? &c->key : NULL;
	char *text = !strcmp(flag, "--control-username") ? c->username :
		     !strcmp(flag, "--control-password") ? c->password : NULL;
	if (!file && !text && strcmp(flag, "--control"))
		return -1;
	if (!v) {
		snprintf(err, cap, "%s needs a value", flag);
		return -2;
	}
	if (file) {
		*file = v;
	} else if (text) {
		if (!*v || strlen(v) >= sizeof(c->username)) {
			snprintf(err, cap, "%s: empty or longer than %zu bytes", flag,
				 sizeof(c->username) - 1);
			return -2;
		}
		snprintf(text, sizeof(c->username), "%s", v);
		*(text == c->username ? &c->has_user : &c->has_pass) = true;
	} else if (link_cfg_url(c, v, err, cap)) {
		return -2;
	}
	return 1;
}

int link_cfg_done(struct link_cfg *c, char *err, size_t cap)
{
	const char *env = getenv("BLAST_CONTROL_PASSWORD");

	if (c->has_user && !c->has_pass && env && *env) {
		if (strlen(env) >= sizeof(c->password)) {
			snprintf(err, cap, "BLAST_CONTROL_PASSWORD: longer than %zu bytes",
				 sizeof(c->password) - 1);
			return -1;
		}
		snprintf(c->password, sizeof(c->password), "%s", env);
		c->has_pass = true;
	}
	if (c->has_pass && !c->has_user) {
		snprintf(err, cap, "--control-password needs a user (--control-username or "
			 "mqtt://USER:PASS@HOST:PORT)");
		return -1;
	}
	if (!c->cert != !c->key) {
		snprintf(err, cap, "--control-cert and --control-key go together");
		return -1;
	}
	if (!c->tls && (c->cacert || c->cert || c->insecure)) {
		snprintf(err, cap, "--control-cacert, --control-cert and --control-insecure need an "
			 "mqtts:// control URL");
		return -1;
	}
	return 0;
}

int link_cfg_arg(struct link_cfg *c, const char *who, const char *flag, const char *v)
{
	char err[300];
	int t = link_cfg_flag(c, flag, v, err, sizeof(err));

	if (t == -2)
		fprintf(stderr, "%s: %s\n", who, err);
	return t;
}

int link_cfg_check(struct link_cfg *c, const char *who)
{
	char err[300];

	if (!link_cfg_done(c, err, sizeof(err)))
		return 0;
	fprintf(stderr, "%s: %s\n", who, err);
	return -1;
}
