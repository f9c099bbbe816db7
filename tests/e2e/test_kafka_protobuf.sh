#!/usr/bin/env bash
# Protobuf payloads through Kafka: blast produces TagData readings filled by
# generators; each record read back by librdkafka's consumer decodes with
# protoc (Google's decoder, not blast's) into the values the generators
# promise: distance in [0, 5), timestamp = now, detached = false, and
# battery_low always true here (bernoulli:1).
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3 protoc xxd
require_blast
require_kafka_tools

N=60
start_kafka_mock 1 "packet_data:2" || die "cannot start the Kafka mock"
report=$T/report.json
t0=$(date +%s)
run_blast 60 --proto kafka --target "$KAFKA_BOOTSTRAP" --topic packet_data --messages $N \
	--payload-proto TagData --field distance=uniform:0:5 --field battery_low=bernoulli:1 \
	--field timestamp=now --field detached=false --report "$report" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "blast exited $BLAST_RC: $(blast_why "$report")"
expect_json "$report" acked == $N
check_accounting "$report"
kafka_consume packet_data $N 5 >"$T/records.txt" || fail "consumer reported errors"
[ "$(wc -l <"$T/records.txt")" -eq $N ] || fail "read $(wc -l <"$T/records.txt") records, want $N"

bad=0
while read -r _part _off _key value _hdrs; do
	echo "$value" | xxd -r -p >"$T/one.bin"
	if ! protoc --decode=TagData -Iproto -I/usr/include proto/tagdata.proto \
		<"$T/one.bin" >"$T/one.txt" 2>"$T/one.err"; then
		fail "protoc cannot decode record $value: $(cat "$T/one.err")"
		bad=$((bad + 1))
		continue
	fi
	python3 - "$T/one.txt" "$t0" <<'PY' || bad=$((bad + 1))
import re, sys, time
text = open(sys.argv[1]).read()
t0 = int(sys.argv[2])
def field(name):
    m = re.search(r"^\s*%s: (\S+)" % name, text, re.M)
    return m.group(1) if m else None
errors = []
d = field("distance")
if d is None or not (0.0 <= float(d) < 5.0):
    errors.append("distance %s not in [0, 5)" % d)
if field("battery_low") != "true":
    errors.append("battery_low %s, want true" % field("battery_low"))
if field("detached") not in (None, "false"):
    errors.append("detached %s, want false" % field("detached"))
s = field("seconds")
if s is None or not (t0 - 5 <= int(s) <= time.time() + 5):
    errors.append("timestamp seconds %s not now" % s)
if errors:
    print("record: " + "; ".join(errors) + "\n" + text)
    sys.exit(1)
PY
done <"$T/records.txt"
[ "$bad" -eq 0 ] || fail "$bad of $N records did not decode to the promised values"
stop_kafka_mock
pass
