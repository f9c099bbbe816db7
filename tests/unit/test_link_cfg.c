/* The control link's URL and flags (userspace/dist/link_cfg.c): mqtt:// and
 * mqtts://, a user and password in the URL (percent-decoded) kept out of the
 * URL shown, the --control-* flags, the password from
 * $BLAST_CONTROL_PASSWORD, and the refusals. */
#include <stdlib.h>
#include <string.h>

#include "dist/link_cfg.h"
#include "t.h"

int main(void)
{
	char err[300];
	struct link_cfg c = { 0 };

	CHECK(!link_cfg_url(&c, "mqtt://127.0.0.1:1883", err, sizeof(err)));
	CHECK(!c.tls && !strcmp(c.host, "127.0.0.1") && !strcmp(c.port, "1883") && !c.has_user);
	CHECK(!strcmp(c.url, "mqtt://127.0.0.1:1883"));
	memset(&c, 0, sizeof(c));
	CHECK(!link_cfg_url(&c, "host:99", err, sizeof(err)) && !c.tls && !strcmp(c.url, "mqtt://host:99"));

	memset(&c, 0, sizeof(c));
	CHECK(!link_cfg_url(&c, "mqtts://ctl:p%3Aw%40x@broker.example:8883", err, sizeof(err)));
	CHECK(c.tls && !strcmp(c.host, "broker.example") && !strcmp(c.port, "8883"));
	CHECK(c.has_user && c.has_pass && !strcmp(c.username, "ctl") && !strcmp(c.password, "p:w@x"));
	CHECK(!strcmp(c.url, "mqtts://broker.example:8883")); /* no credentials shown */
	CHECK(!link_cfg_done(&c, err, sizeof(err)));

	/* A user without a password takes $BLAST_CONTROL_PASSWORD. */
	memset(&c, 0, sizeof(c));
	setenv("BLAST_CONTROL_PASSWORD", "from-env", 1);
	CHECK(!link_cfg_url(&c, "mqtts://ctl@h:1", err, sizeof(err)) && c.has_user && !c.has_pass);
	CHECK(!link_cfg_done(&c, err, sizeof(err)) && c.has_pass && !strcmp(c.password, "from-env"));
	/* ... not when it has one, nor without a user. */
	memset(&c, 0, sizeof(c));
	CHECK(!link_cfg_url(&c, "mqtt://ctl:given@h:1", err, sizeof(err)));
	CHECK(!link_cfg_done(&c, err, sizeof(err)) && !strcmp(c.password, "given"));
	memset(&c, 0, sizeof(c));
	CHECK(!link_cfg_url(&c, "mqtt://h:1", err, sizeof(err)));
	CHECK(!link_cfg_done(&c, err, sizeof(err)) && !c.has_pass);
	unsetenv("BLAST_CONTROL_PASSWORD");

	/* The flags. */
	memset(&c, 0, sizeof(c));
	CHECK(link_cfg_flag(&c, "--control", "mqtts://h:8883", err, sizeof(err)) == 1 && c.tls);
	CHECK(link_cfg_flag(&c, "--control-cacert", "ca.pem", err, sizeof(err)) == 1);
	CHECK(link_cfg_flag(&c, "--control-cert", "c.pem", err, sizeof(err)) == 1);
	CHECK(link_cfg_flag(&c, "--control-key", "c.key", err, sizeof(err)) == 1);
	CHECK(link_cfg_flag(&c, "--control-insecure", "--next", err, sizeof(err)) == 0 && c.insecure);
	CHECK(link_cfg_flag(&c, "--control-username", "u", err, sizeof(err)) == 1);
	CHECK(link_cfg_flag(&c, "--control-password", "p", err, sizeof(err)) == 1);
	CHECK(link_cfg_flag(&c, "--cacert", "x", err, sizeof(err)) == -1); /* the run's */
	CHECK(link_cfg_flag(&c, "--agents", "2", err, sizeof(err)) == -1);
	CHECK(!link_cfg_done(&c, err, sizeof(err)));
	CHECK(!strcmp(c.cacert, "ca.pem") && !strcmp(c.username, "u") && !strcmp(c.password, "p"));

	/* Refusals: one line each. */
	memset(&c, 0, sizeof(c));
	CHECK(link_cfg_flag(&c, "--control-cacert", NULL, err, sizeof(err)) == -2 && strstr(err, "needs a value"));
	CHECK(link_cfg_flag(&c, "--control-username", "", err, sizeof(err)) == -2);
	CHECK(link_cfg_flag(&c, "--control", "http://h:1", err, sizeof(err)) == -2 && strstr(err, "mqtts://"));
	CHECK(link_cfg_url(&c, "mqtt://h", err, sizeof(err)) == -1);
	CHECK(link_cfg_url(&c, "mqtt://h:port", err, sizeof(err)) == -1);
	CHECK(link_cfg_url(&c, "mqtt://h:123456789", err, sizeof(err)) == -1);
	CHECK(link_cfg_url(&c, "mqtt://:pw@h:1", err, sizeof(err)) == -1);     /* no user */
	CHECK(link_cfg_url(&c, "mqtt://u:p%zz@h:1", err, sizeof(err)) == -1);  /* bad escape */
	CHECK(link_cfg_url(&c, "mqtt://u:p%00@h:1", err, sizeof(err)) == -1);  /* a NUL */
	memset(&c, 0, sizeof(c));
	CHECK(!link_cfg_url(&c, "mqtt://h:1", err, sizeof(err)));
	c.cacert = "ca.pem";
	CHECK(link_cfg_done(&c, err, sizeof(err)) == -1 && strstr(err, "mqtts://"));
	memset(&c, 0, sizeof(c));
	CHECK(!link_cfg_url(&c, "mqtts://h:1", err, sizeof(err)));
	c.cert = "c.pem";
	CHECK(link_cfg_done(&c, err, sizeof(err)) == -1 && strstr(err, "go together"));
	memset(&c, 0, sizeof(c));
	CHECK(!link_cfg_url(&c, "mqtt://h:1", err, sizeof(err)));
	CHECK(link_cfg_flag(&c, "--control-password", "p", err, sizeof(err)) == 1);
	CHECK(link_cfg_done(&c, err, sizeof(err)) == -1 && strstr(err, "needs a user"));
	return t_done("link_cfg");
}
