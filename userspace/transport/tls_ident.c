/* Client certificates per connection (--cert-dir, --cert-list): platforms
 * that give each device its own identity see one device per connection.
 * Every pair is read and checked (the key is the certificate's) when the
 * context is built, so a bad file is one line before any connection;
 * connection {conn} then presents pair {conn} mod their number. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/tls.h"

#define LIST_LINE_MAX 8192

/* Never prompt on the terminal for a passphrase: an encrypted key is an
 * error, said as one. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static FILE *open_file(const char *what, const char *path, char *err, size_t cap)
{
	FILE *f = fopen(path, "r");

	if (!f)
		snprintf(err, cap, "%s: %s: %s", what, path, strerror(errno));
	return f;
}

/* A certificate chain (leaf first) and its key, checked to belong
 * together. what names the flag (and the line) in the words. */
static int load_pair(const char *what, const char *crt, const char *key, struct tls_ident *id,
		     char *err, size_t cap)
{
	FILE *f = open_file(what, crt, err, cap);

	if (!f)
		return -1;
	id->cert = PEM_read_X509_AUX(f, NULL, no_passphrase, NULL);
	id->chain = sk_X509_new_null();
	X509 *x;
	while (id->cert && id->chain && (x = PEM_read_X509(f, NULL, no_passphrase, NULL)))
		if (!sk_X509_push(id->chain, x))
			X509_free(x);
	fclose(f);
	ERR_clear_error(); /* the end of the chain is an error to PEM_read */
	if (!id->cert || !id->chain) {
		snprintf(err, cap, "%s: %s: not a PEM certificate", what, crt);
		return -1;
	}
	if (!(f = open_file(what, key, err, cap)))
		return -1;
	id->key = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
	fclose(f);
	ERR_clear_error();
	if (!id->key) {
		snprintf(err, cap, "%s: %s: not a PEM private key (or one with a passphrase)", what,
			 key);
		return -1;
	}
	if (X509_check_private_key(id->cert, id->key) != 1) {
		ERR_clear_error();
		snprintf(err, cap, "%s: the key %s does not match the certificate %s", what, key, crt);
		return -1;
	}
	return 0;
}

static int grow(struct tls_run *r, unsigned want, char *err, size_t cap)
{
	struct tls_ident *v = realloc(r->idents, (size_t)want * sizeof(*v));

	if (!v) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	r->idents = v;
	memset(v + r->n_idents, 0, (size_t)(want - r->n_idents) * sizeof(*v));
	return 0;
}

static int is_crt(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 4 && !strcmp(d->d_name + n - 4, ".crt");
}

/* DIR's NAME.crt files in version order (dev-2 before dev-10), each with
 * NAME.key beside it. */
static int load_dir(struct tls_run *r, const char *dir, char *err, size_t cap)
{
	struct dirent **names;
	char what[PATH_MAX + 32], crt[PATH_MAX], key[PATH_MAX];
	int n = scandir(dir, &names, is_crt, versionsort), rc = 0;

	snprintf(what, sizeof(what), "--cert-dir %s", dir);
	if (n < 0) {
		snprintf(err, cap, "%s: %s", what, strerror(errno));
		return -1;
	}
	if (n == 0)
		snprintf(err, cap, "%s: no NAME.crt files in it (each with NAME.key beside it)", what);
	if (n == 0 || grow(r, (unsigned)n, err, cap) < 0)
		rc = -1;
	for (int i = 0; i < n; i++) {
		if (!rc) {
			size_t stem = strlen(names[i]->d_name) - 4;
			snprintf(crt, sizeof(crt), "%s/%s", dir, names[i]->d_name);
			snprintf(key, sizeof(key), "%s/%.*s.key", dir, (int)stem, names[i]->d_name);
			rc = load_pair(what, crt, key, &r->idents[r->n_idents], err, cap);
			r->n_idents++; /* freed with the rest, loaded or not */
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

/* path, or dir/path when it is relative: a list names files beside it. */
static void beside(char *out, size_t cap, const char *dir, size_t dir_len, const char *path)
{
	if (path[0] == '/' || !dir_len)
		snprintf(out, cap, "%s", path);
	else
		snprintf(out, cap, "%.*s/%s", (int)dir_len, dir, path);
}

/* Lines "CERT KEY"; blank lines and # comments skipped. */
static int load_list(struct tls_run *r, const char *list, char *err, size_t cap)
{
	char line[LIST_LINE_MAX], what[PATH_MAX + 48], crt[PATH_MAX], key[PATH_MAX];
	const char *slash = strrchr(list, '/');
	size_t dir_len = slash ? (size_t)(slash - list) : 0;
	FILE *f = open_file("--cert-list", list, err, cap);
	unsigned lineno = 0;
	int rc = 0;

	if (!f)
		return -1;
	while (!rc && fgets(line, sizeof(line), f)) {
		char *save, *c, *k, *extra;
		lineno++;
		snprintf(what, sizeof(what), "--cert-list %s line %u", list, lineno);
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, cap, "%s: longer than %d bytes", what, LIST_LINE_MAX - 1);
			rc = -1;
			break;
		}
		c = strtok_r(line, " \t\r\n", &save);
		if (!c || c[0] == '#')
			continue;
		k = strtok_r(NULL, " \t\r\n", &save);
		extra = strtok_r(NULL, " \t\r\n", &save);
		if (!k || extra) {
			snprintf(err, cap, "%s: want \"CERT KEY\" (two file names)", what);
			rc = -1;
			break;
		}
		if ((rc = grow(r, r->n_idents + 1, err, cap)) < 0)
			break;
		beside(crt, sizeof(crt), list, dir_len, c);
		beside(key, sizeof(key), list, dir_len, k);
		rc = load_pair(what, crt, key, &r->idents[r->n_idents], err, cap);
		r->n_idents++;
	}
	fclose(f);
	if (!rc && !r->n_idents) {
		snprintf(err, cap, "--cert-list %s: no \"CERT KEY\" lines in it", list);
		rc = -1;
	}
	return rc;
}

int tls_idents_load(struct tls_run *r, char *err, size_t cap)
{
	if (r->o->cert_dir)
		return load_dir(r, r->o->cert_dir, err, cap);
	if (r->o->cert_list)
		return load_list(r, r->o->cert_list, err, cap);
	return 0;
}

void tls_idents_free(struct tls_run *r)
{
	for (unsigned i = 0; i < r->n_idents; i++) {
		X509_free(r->idents[i].cert);
		sk_X509_pop_free(r->idents[i].chain, X509_free);
		EVP_PKEY_free(r->idents[i].key);
		if (r->idents[i].session)
			SSL_SESSION_free(r->idents[i].session);
	}
	free(r->idents);
	r->idents = NULL;
	r->n_idents = 0;
}

int tls_ident_use(struct tls_run *r, SSL *ssl, uint32_t conn)
{
	if (!r->n_idents)
		return 0;
	const struct tls_ident *id = &r->idents[conn % r->n_idents];
	return SSL_use_cert_and_key(ssl, id->cert, id->key, id->chain, 1) == 1 ? 0 : -1;
}
