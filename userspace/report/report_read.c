/* Reads the client's figures back from a run's JSON report, by the keys
 * report.c and report_wire.c write them under. */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "report/json_read.h"
#include "report/report_read.h"

/* "no parent.key": parent is NULL for the report's top level. */
static int missing(char *err, size_t err_cap, const char *parent, const char *key)
{
	snprintf(err, err_cap, "no %s%s%s (not a report of blast --report?)", parent ? parent : "",
		 parent ? "." : "", key);
	return -EINVAL;
}

static int get_u64(const struct json_val *o, const char *parent, const char *key, uint64_t *out,
		   char *err, size_t err_cap)
{
	struct json_val v;

	if (!json_member(o, key, &v) || json_as_u64(&v, out))
		return missing(err, err_cap, parent, key);
	return 0;
}

/* Microseconds with three decimals, as written: exact nanoseconds. */
static int get_ns(const struct json_val *o, const char *obj, const char *key, int64_t *out,
		  char *err, size_t err_cap)
{
	struct json_val v;
	double us;

	if (!json_member(o, key, &v) || json_as_double(&v, &us) || !(fabs(us) < 9e12))
		return missing(err, err_cap, obj, key);
	*out = llround(us * 1e3);
	return 0;
}

int report_read_client(const char *buf, size_t len, struct wire_client *c, char *err,
		       size_t err_cap)
{
	static const char *const protos[] = { "mqtt", "kafka", "ws" };
	struct json_val root, v, lat;
	char why[160];

	*c = (struct wire_client){ 0 };
	if (json_read(buf, len, &root, why, sizeof(why))) {
		snprintf(err, err_cap, "not JSON: %s", why);
		return -EINVAL;
	}
	if (json_type_of(&root) != JSON_OBJECT) {
		snprintf(err, err_cap, "not a JSON object");
		return -EINVAL;
	}
	if (!json_member(&root, "proto", &v))
		return missing(err, err_cap, NULL, "proto");
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (json_string_eq(&v, protos[i]))
			c->proto = protos[i];
	if (!c->proto) {
		snprintf(err, err_cap, "proto is not \"mqtt\", \"kafka\" or \"ws\"");
		return -EINVAL;
	}
	bool ws = wire_client_is_ws(c);
	const char *lat_key = ws ? "e2e_latency_us" : "latency_uncorrected_us";
	if (get_u64(&root, NULL, "sent", &c->sent, err, err_cap))
		return -EINVAL;
	if (ws) {
		uint64_t received, dups;
		if (get_u64(&root, NULL, "received", &received, err, err_cap) ||
		    get_u64(&root, NULL, "duplicates", &dups, err, err_cap))
			return -EINVAL;
		c->acked = received + dups;
	} else if (get_u64(&root, NULL, "acked", &c->acked, err, err_cap)) {
		return -EINVAL;
	}
	if (json_member(&root, "peak_conns", &v) && json_as_u64(&v, &c->conns))
		return missing(err, err_cap, NULL, "peak_conns");
	if (!json_member(&root, lat_key, &lat) || json_type_of(&lat) != JSON_OBJECT)
		return missing(err, err_cap, NULL, lat_key);
	for (unsigned i = 0; i < WIRE_NCOLS; i++)
		if (get_ns(&lat, lat_key, wire_cols[i].key, &c->ns[i], err, err_cap))
			return -EINVAL;
	return get_u64(&lat, lat_key, "count", &c->count, err, err_cap);
}
