/* Protobuf payloads: every bad --payload-proto, --payload-proto-desc or
 * --field must fail at setup with one clear line (the checks a .desc
 * brings are in test_protobuf_desc.c). */
#include <string.h>
#include <unistd.h>

#include "protobuf_t.h"

static void test_errors(void)
{
	char junk[] = "this is not a descriptor set \x01\x02\x03";
	char *junk_path = tmp_path("junk.desc"), *empty_path = tmp_path("empty.desc");

	write_file(junk_path, junk, sizeof(junk) - 1);
	write_file(empty_path, "", 0);
	BAD("no --payload-proto", NULL, NULL, NULL);
	BAD("--payload-proto Nope: not a compiled-in message (TagData, Alive); describe others "
	    "with --payload-proto-desc FILE.desc",
	    "Nope", NULL, NULL);
	BAD("--payload-proto-desc /nonexistent/x.desc: No such file or directory", "TagData",
	    "/nonexistent/x.desc", NULL);
	BAD("not a FileDescriptorSet (make one with protoc -o FILE.desc --include_imports",
	    "TagData", junk_path, NULL);
	BAD("not a FileDescriptorSet", "TagData", empty_path, NULL);
	BAD("--payload-proto-desc /tmp: Is a directory", "TagData", "/tmp", NULL);
	BAD("--field nosuch=uniform:0:1: TagData has no field nosuch (its fields: detached, "
	    "battery_low, distance, timestamp)",
	    "TagData", NULL, "nosuch=uniform:0:1");
	/* The brief's own example, word for word. */
	BAD("--field distance=bernoulli:0.1: distance is a double, bernoulli needs a bool",
	    "TagData", NULL, "distance=bernoulli:0.1");
	BAD("--field detached=bernoulli:2: bernoulli needs a probability P from 0 to 1",
	    "TagData", NULL, "detached=bernoulli:2");
	BAD("--field detached=bernoulli:-0.1: bernoulli needs", "TagData", NULL,
	    "detached=bernoulli:-0.1");
	BAD("--field detached=uniform:0:1: detached is a bool, uniform needs a number", "TagData",
	    NULL, "detached=uniform:0:1");
	BAD("--field detached=maybe: detached is a bool, const maybe is not true or false",
	    "TagData", NULL, "detached=maybe");
	BAD("--field distance=abc: distance is a double, const abc is not a number", "TagData",
	    NULL, "distance=abc");
	BAD("--field distance=seq: distance is a double, seq needs an integer", "TagData", NULL,
	    "distance=seq");
	BAD("--field distance=now: distance is a double, now needs a google.protobuf.Timestamp "
	    "or a 64-bit integer (unix ms)",
	    "TagData", NULL, "distance=now");
	BAD("--field distance=uniform:5: uniform needs LO:HI", "TagData", NULL,
	    "distance=uniform:5");
	BAD("--field distance=uniform:a:b: uniform needs two numbers", "TagData", NULL,
	    "distance=uniform:a:b");
	BAD("--field distance=uniform:9:1: uniform LO 9 is more than HI 1", "TagData", NULL,
	    "distance=uniform:9:1");
	BAD("--field distance=normal:0:-1: normal SD -1 must not be negative", "TagData", NULL,
	    "distance=normal:0:-1");
	BAD("--field distance=normal:x: normal needs two numbers MEAN:SD", "TagData", NULL,
	    "distance=normal:x");
	BAD("--field distance=choice:1|x: distance is a double, choice value x is not a number",
	    "TagData", NULL, "distance=choice:1|x");
	BAD("--field distance=bytes:4: distance is a double, bytes needs a bytes or string field",
	    "TagData", NULL, "distance=bytes:4");
	BAD("--field timestamp.nanos=uniform:0:3000000000: nanos is an int32: 3000000000 is not "
	    "an integer from -2147483648 to 2147483647",
	    "TagData", NULL, "timestamp.nanos=uniform:0:3000000000");
	BAD("--field tag_id=-1: tag_id is a uint32: -1 is not an integer from 0 to 4294967295",
	    "Alive", NULL, "tag_id=-1");
	BAD("--field rssi=uniform:5:1: uniform LO 5 is more than HI 1", "Alive", NULL,
	    "rssi=uniform:5:1");
	BAD("--field timestamp=const:1: timestamp is a message google.protobuf.Timestamp: give "
	    "it now, or set its fields (timestamp.seconds=...)",
	    "TagData", NULL, "timestamp=const:1");
	BAD("--field distance.x=1: distance is a double, not a message", "TagData", NULL,
	    "distance.x=1");
	BAD("--field timestamp.foo=1: google.protobuf.Timestamp has no field foo (its fields: "
	    "seconds, nanos)",
	    "TagData", NULL, "timestamp.foo=1");
	BAD("--field timestamp..seconds=1: timestamp..seconds is not a field name", "TagData", NULL,
	    "timestamp..seconds=1");
	BAD("--field distance=2: distance is given twice", "TagData", NULL, "distance=1",
	    "distance=2");
	BAD("--field timestamp.nanos=1: timestamp is already set by --field timestamp=now",
	    "TagData", NULL, "timestamp=now", "timestamp.nanos=1");
	BAD("--field timestamp=now: timestamp is already set through its fields by --field "
	    "timestamp.nanos=1",
	    "TagData", NULL, "timestamp.nanos=1", "timestamp=now");
	BAD("--field timestamp.nanos=2: timestamp.nanos is given twice", "TagData", NULL,
	    "timestamp.nanos=1", "timestamp.nanos=2");

	/* A tiny error buffer is cut, never overrun. */
	struct popts p;
	char small[8];
	popts_set(&p, "TagData", NULL, FIELDS("nosuch=1"));
	memset(small, 'x', sizeof(small));
	CHECK(!payload_gen_new(&p.o, small, 6));
	CHECK(strlen(small) == 5 && small[6] == 'x');
	unlink(junk_path);
	unlink(empty_path);
}

int main(void)
{
	tmpdir_make("test_protobuf_errors");
	test_errors();
	run("rm -rf %s", tmpdir);
	return t_done("test_protobuf_errors");
}
