#!/usr/bin/env bash
# Keyed records: with --key 'dev-{seq}' every record must land on the
# partition Java's default partitioner picks, toPositive(murmur2(key)) % 6
# (Utils.murmur2, computed independently in lib.sh's check_kafka_records and
# checked there against Kafka's own test vectors), and carry the key with
# the marker's seq expanded.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
require_blast
require_kafka_tools

N=3000
PARTS=6
start_kafka_mock 1 "keys:$PARTS" || die "cannot start the Kafka mock"
report=$T/report.json
run_blast 60 --proto kafka --target "$KAFKA_BOOTSTRAP" --topic keys --acks 1 --conns 2 \
	--messages $N --payload-size 24 --key 'dev-{seq}' --report "$report" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "blast exited $BLAST_RC: $(blast_why "$report")"
kafka_consume keys $N 5 >"$T/records.txt" || fail "consumer reported errors (bad CRC?)"
check_kafka_records "$T/records.txt" count=$N size=24 murmur2=$PARTS partitions=$PARTS \
	'key=dev-{seq}'
if [ -s "$report" ]; then
	expect_json "$report" sent == $N
	expect_json "$report" acked == $N
	expect_json "$report" failed == 0
	check_accounting "$report"
else
	fail "no report written"
fi
stop_kafka_mock
pass
