/* Where and how the control link connects: the --control URL
 * (mqtt://[USER[:PASS]@]HOST:PORT or mqtts://...) and the --control-*
 * flags shared by `blast agent`, the coordinator and `blast dashboard`
 * (docs/distributed.md). */
#ifndef BLAST_DIST_LINK_CFG_H
#define BLAST_DIST_LINK_CFG_H

#include <stdbool.h>
#include <stddef.h>

struct link_cfg {
	char url[300];        /* as shown in lines: scheme://HOST:PORT, never the credentials */
	char host[256];
	char port[8];
	bool tls;             /* mqtts:// */
	const char *cacert;   /* --control-cacert FILE; NULL = the system's store */
	const char *cert;     /* --control-cert FILE */
	const char *key;      /* --control-key FILE */
	bool insecure;        /* --control-insecure: no certificate or host verification */
	bool has_user, has_pass;
	char username[256];   /* in the URL or --control-username */
	char password[256];   /* in the URL, --control-password or $BLAST_CONTROL_PASSWORD */
};

/* Reads url into c (kept otherwise). 0, or -1 with one line in err. */
int link_cfg_url(struct link_cfg *c, const char *url, char *err, size_t cap);
/* Takes flag (with value v when it needs one) if it is a control link
 * flag, --control included: 1 taken with v, 0 taken alone
 * (--control-insecure), -1 not one of them, -2 after one line in err. */
int link_cfg_flag(struct link_cfg *c, const char *flag, const char *v, char *err, size_t cap);
/* Once every flag is in: the password from $BLAST_CONTROL_PASSWORD when a
 * user has none, and the flags against each other. 0, or -1 with err. */
int link_cfg_done(struct link_cfg *c, char *err, size_t cap);
/* The two above for a command's argument loop: a bad flag is one line
 * "WHO: why" on stderr (link_cfg_arg returns -2, link_cfg_check -1). */
int link_cfg_arg(struct link_cfg *c, const char *who, const char *flag, const char *v);
int link_cfg_check(struct link_cfg *c, const char *who);

/* The flags, for usage lines. */
#define LINK_CFG_USAGE                                                                      \
	"[--control-cacert FILE] [--control-cert FILE --control-key FILE] [--control-insecure]" \
	" [--control-username USER] [--control-password PASS]"

#endif
