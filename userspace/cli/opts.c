/* Command line: parse, resolve, read and check everything before the run
 * starts, so bad input costs one line on stderr and exit status 2 instead
 * of a half-started run with thousands of sockets open. The flags are the
 * table in flags.c; the checks between them are checks.c. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/opts.h"
#include "cli/checks.h"
#include "cli/config.h"
#include "cli/fail.h"
#include "cli/files.h"
#include "cli/flags.h"

/* The option as typed, without any "=value". */
static const char *opt_text(const char *arg, char *buf, size_t cap)
{
	size_t n = strcspn(arg, "=");

	if (n >= cap)
		n = cap - 1;
	memcpy(buf, arg, n);
	buf[n] = '\0';
	return buf;
}

static int unknown_option(const char *text)
{
	const char *near = !strncmp(text, "--", 2) ? flag_nearest(text + 2) : NULL;

	if (near)
		return cli_fail("unknown option %s (see blast --help); did you mean --%s?",
				cli_quote(text), near);
	return cli_fail("unknown option %s (see blast --help)", cli_quote(text));
}

/* getopt_long's view of the flag table. */
static void long_options(struct option *out)
{
	for (int id = 0; id < F__COUNT; id++) {
		const struct flag *f = &flags[id];
		int has_arg = f->kind == FLAG_SWITCH || f->kind == FLAG_ACTION ? no_argument :
			      f->fallback ? optional_argument : required_argument;

		out[id] = (struct option){ f->name, has_arg, NULL, FLAG_VAL_BASE + id };
	}
	out[F__COUNT] = (struct option){ NULL, 0, NULL, 0 };
}

/* getopt's short options: "+:" (stop at the first positional, which is an
 * error anyway; report a missing value as ':'), then each flag's letter,
 * with ':' when it takes a value. */
static void short_options(char *out, size_t cap)
{
	size_t n = 0;

	out[n++] = '+';
	out[n++] = ':';
	for (int id = 0; id < F__COUNT && n + 3 < cap; id++) {
		const struct flag *f = &flags[id];
		if (!f->letter)
			continue;
		out[n++] = f->letter;
		if (f->kind != FLAG_SWITCH && f->kind != FLAG_ACTION)
			out[n++] = ':';
	}
	out[n] = '\0';
}

/* parse_args's flag_apply, with a run file's line named in its errors. */
static int apply_at(struct blast_opts *o, const struct flag *f, const char *flag, const char *arg,
		    const struct config_args *ca, int at)
{
	bool from_file = ca && ca->line && ca->line[at];
	int r;

	if (from_file)
		cli_fail_at(ca->path, ca->line[at]);
	r = flag_apply(o, f, flag, arg);
	cli_fail_at(NULL, 0);
	return r;
}

static int parse_args(struct blast_opts *o, int argc, char **argv, const struct config_args *ca)
{
	struct option long_opts[F__COUNT + 1];
	struct parse_state ps = { 0 };
	char shorts[2 * F__COUNT + 3];
	int r;

	long_options(long_opts);
	short_options(shorts, sizeof(shorts));
	opterr = 0; /* our one line replaces getopt's messages */
	optind = 0; /* 0, not 1: glibc then resets fully, so tests can parse again */
	for (;;) {
		int start = optind ? optind : 1;
		int idx = -1;
		int c = getopt_long(argc, argv, shorts, long_opts, &idx);
		char text[64], flag[32];
		const char *arg = optarg;

		if (c == -1)
			break;
		opt_text(argv[start], text, sizeof(text));
		if (c == '?') {
			if (optopt >= FLAG_VAL_BASE)
				return cli_fail("%s does not take a value", text);
			if (optopt)
				return cli_fail("unknown option -%c (see blast --help)", optopt);
			return unknown_option(text);
		}
		if (c == ':')
			return cli_fail("%s needs a value", text);
		if (c < FLAG_VAL_BASE) {
			/* A short form: the long flag's row, named as both. */
			int id = flag_by_letter(c);
			if (id < 0)
				return cli_fail("unhandled option -%c", c);
			snprintf(flag, sizeof(flag), "-%c/--%s", c, flags[id].name);
			/* "-conns 5" is --conns with one dash, not -c "onns". */
			if (argv[start][1] == c && argv[start][2] && flag_nearest(argv[start] + 1))
				return cli_fail("unknown option %s (see blast --help); did you mean --%s?",
						cli_quote(text), flag_nearest(argv[start] + 1));
			/* "-c -r 5" would take "-r" as the count. */
			if (arg && arg == argv[start + 1] && arg[0] == '-' && arg[1] && !isdigit((unsigned char)arg[1]))
				return cli_fail("%s needs a value", flag);
			if (!ps.at[id])
				ps.at[id] = start;
			ps.value[id] = arg;
			if ((r = apply_at(o, &flags[id], flag, arg, ca, start)))
				return r;
			continue;
		}
		/* getopt_long also takes unique prefixes ("--con"); a script
		 * written that way breaks as soon as a flag is added. */
		if (idx < 0 || strncmp(text, "--", 2) || strcmp(text + 2, long_opts[idx].name))
			return unknown_option(text);
		snprintf(flag, sizeof(flag), "--%s", long_opts[idx].name);
		/* "--qos --rate 5" would take "--rate" as the QoS. */
		if (arg && !strchr(argv[start], '=') && !strncmp(arg, "--", 2))
			return cli_fail("%s needs a value", flag);
		if (c < FLAG_VAL_BASE || c >= FLAG_VAL_BASE + F__COUNT)
			return cli_fail("unhandled option %s", text);

		int id = c - FLAG_VAL_BASE;
		const struct flag *f = &flags[id];
		if (!ps.at[id])
			ps.at[id] = start;
		/* An optional value may also come as the next word
		 * ("--find-limit conns"), not only after '='. */
		if (f->fallback && !arg && optind < argc && argv[optind][0] != '-')
			arg = argv[optind++];
		if (!arg)
			arg = f->fallback;
		ps.value[id] = arg;
		if ((r = apply_at(o, f, flag, arg, ca, start)))
			return r;
	}
	if (optind < argc)
		return cli_fail("unexpected argument %s (every setting is a --flag)",
				cli_quote(argv[optind]));
	return opts_finish(o, &ps);
}

int opts_parse(struct blast_opts *o, int argc, char **argv)
{
	int r;

	memset(o, 0, sizeof(*o));
	o->proto = PROTO_MQTT;
	o->conns = 1;
	o->drain_timeout_ns = 5000000000ull;
	o->pace_batch_ns = PACE_BATCH_DEFAULT_NS;
	o->pcap_snaplen = PCAP_SNAPLEN_DEFAULT;
	o->inflight = 64;
	o->payload_size = 32;
	o->keepalive = 60;
	o->mqtt_version = 4;
	o->acks = 1;
	o->batch_size = 16384;
	o->linger_ns = 5000000ull;
	o->compression = KCOMP_NONE;
	o->topic = strdup("blast/{conn}");
	o->client_id = strdup("blast-{pid}-{conn}");
	struct config_args ca = { 0 };
	if (!o->topic || !o->client_id) {
		r = cli_fail("out of memory");
	} else if (!(r = config_expand(argc, argv, &ca))) {
		r = parse_args(o, ca.argc, ca.argv, &ca);
		if (!r && ca.path)
			o->config_text = config_take_text(&ca);
	}
	config_args_free(&ca);
	/* The caller exits on anything but 0, so leave nothing behind. */
	if (r)
		opts_free(o);
	return r;
}

void opts_free(struct blast_opts *o)
{
	free(o->topic);
	free(o->cacert);
	free(o->cert);
	free(o->key_file);
	free(o->cert_dir);
	free(o->cert_list);
	free(o->sni);
	free(o->alpn);
	free(o->ciphers);
	free(o->ciphersuites);
	free(o->groups);
	free(o->keylog);
	free(o->sasl_user);
	free(o->sasl_pass);
	o->sasl_user = o->sasl_pass = NULL;
	o->cacert = o->cert = o->key_file = o->sni = o->alpn = NULL;
	o->ciphers = o->ciphersuites = o->groups = o->keylog = NULL;
	o->cert_dir = o->cert_list = NULL;
	free(o->client_id);
	free(o->username);
	free(o->password);
	free(o->report_path);
	o->topic = o->client_id = o->username = o->password = o->report_path = NULL;
	free(o->hlog_path);
	free(o->seconds_to);
	o->seconds_to = NULL;
	free(o->csv_path);
	free(o->html_path);
	free(o->dashboard);
	o->dashboard = NULL;
	o->hlog_path = o->csv_path = o->html_path = NULL;
	line_list_free(&o->payloads);
	line_list_free(&o->tokens);
	free(o->key);
	free(o->partitions);
	for (uint32_t i = 0; i < o->n_headers; i++) {
		free(o->headers[i].name);
		free(o->headers[i].value);
	}
	free(o->headers);
	free(o->payload_proto);
	free(o->payload_proto_desc);
	for (uint32_t i = 0; i < o->n_fields; i++) {
		free(o->fields[i].name);
		free(o->fields[i].gen);
	}
	free(o->fields);
	o->key = o->payload_proto = o->payload_proto_desc = NULL;
	o->partitions = NULL;
	o->headers = NULL;
	o->fields = NULL;
	o->n_partitions = o->n_headers = o->n_fields = 0;
	free(o->steps);
	o->steps = NULL;
	free(o->sub_topic);
	o->sub_topic = NULL;
	for (uint32_t i = 0; i < o->n_sub_topics; i++)
		free(o->sub_topics[i]);
	free(o->sub_topics);
	o->sub_topics = NULL;
	o->n_sub_topics = 0;
	o->n_steps = 0;
	free(o->ws_subprotocol);
	for (uint32_t i = 0; i < o->n_ws_headers; i++)
		free(o->ws_headers[i]);
	free(o->ws_headers);
	o->ws_subprotocol = NULL;
	o->ws_headers = NULL;
	o->n_ws_headers = 0;
	free(o->pcap_path);
	o->pcap_path = NULL;
	free(o->http_method);
	free(o->content_type);
	free(o->ok_status);
	o->http_method = o->content_type = o->ok_status = NULL;
	free(o->config_path);
	free(o->config_text);
	o->config_path = o->config_text = NULL;
}
