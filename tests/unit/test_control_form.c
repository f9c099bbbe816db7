/* `blast dashboard`'s run form into a coordinator's argv (dist/control_form.c):
 * each field its flag, several targets each their --target, QoS only for
 * MQTT, and bad values refused with one line naming the field. */
#include <stdio.h>
#include <string.h>

#include "dist/control_form.h"
#include "t.h"

/* The fields as "key=value" strings, NULL-terminated. */
static const char *get(void *q, const char *key)
{
	size_t n = strlen(key);

	for (const char **kv = q; *kv; kv++)
		if (!strncmp(*kv, key, n) && (*kv)[n] == '=')
			return *kv + n + 1;
	return NULL;
}

/* argv after "blast" joined by spaces, or "ERR: the line". */
static const char *form(const char **kv)
{
	static struct control_form f;
	static char out[1024];
	char err[200];

	if (control_form_argv(&f, "mqtt://c:1883", get, kv, err, sizeof(err))) {
		snprintf(out, sizeof(out), "ERR: %s", err);
		return out;
	}
	out[0] = '\0';
	for (int i = 1; i < f.argc; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i > 1 ? " " : "",
			 f.argv[i]);
	CHECK(f.argv[f.argc] == NULL);
	return out;
}

static void test_fields(void)
{
	const char *a[] = { "proto=mqtt", "target= 10.0.0.1:1883, 10.0.0.2:1883 ", "conns=40",
			    "rate=", "think=", "qos=1", "duration=5s", "messages=", "agents=3", NULL };
	CHECK(!strcmp(form(a), "--control mqtt://c:1883 --agents 3 --proto mqtt --target "
			       "10.0.0.1:1883 --target 10.0.0.2:1883 --conns 40 --duration 5s --qos 1"));
	/* QoS is MQTT's: not passed for HTTP; think time is. */
	const char *b[] = { "proto=http", "target=127.0.0.1:80", "think=500ms", "qos=1", "agents=1",
			    "messages=100", NULL };
	CHECK(!strcmp(form(b), "--control mqtt://c:1883 --agents 1 --proto http --target "
			       "127.0.0.1:80 --messages 100 --think-time 500ms"));
}

static void test_refused(void)
{
	const char *no_agents[] = { "target=x:1", NULL };
	CHECK(strstr(form(no_agents), "ERR: agents:") != NULL);
	const char *zero[] = { "target=x:1", "agents=0", NULL };
	CHECK(strstr(form(zero), "ERR: agents:") != NULL);
	const char *proto[] = { "target=x:1", "agents=1", "proto=smtp", NULL };
	CHECK(!strcmp(form(proto), "ERR: protocol smtp: one of mqtt, kafka, ws, http"));
	const char *no_target[] = { "agents=1", "target= ", NULL };
	CHECK(strstr(form(no_target), "ERR: target:") != NULL);
	const char *flag[] = { "agents=1", "target=--report", NULL };
	CHECK(strstr(form(flag), "ERR: target --report") != NULL);
	const char *conns[] = { "agents=1", "target=x:1", "conns=4x", NULL };
	CHECK(!strcmp(form(conns), "ERR: conns 4x: a whole number is needed"));
	const char *dur[] = { "agents=1", "target=x:1", "duration=-1s", NULL };
	CHECK(strstr(form(dur), "ERR: duration -1s") != NULL);
	const char *qos[] = { "agents=1", "target=x:1", "qos=3", NULL };
	CHECK(!strcmp(form(qos), "ERR: QoS 3: 0, 1 or 2"));
	/* Too many targets for the form's room: refused, not cut short. */
	static char many[6000];
	strcpy(many, "target=");
	for (int i = 0; i < 400; i++)
		strcat(many, "10.0.0.1:1,");
	const char *big[] = { "agents=1", many, NULL };
	CHECK(!strcmp(form(big), "ERR: the form's values are too long"));
}

int main(void)
{
	test_fields();
	test_refused();
	return t_failures ? T_FAIL : T_PASS;
}
