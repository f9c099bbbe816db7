#!/usr/bin/env bash
# --compression gzip: librdkafka's consumer decompresses every batch and
# finds each of the N records intact (marker, filler, header), CRCs valid.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
require_blast
require_kafka_tools

N=4000
start_kafka_mock 1 "gz:3" || die "cannot start the Kafka mock"
report=$T/report.json
run_blast 60 --proto kafka --target "$KAFKA_BOOTSTRAP" --topic gz --acks all --conns 2 \
	--messages $N --payload-size 100 --compression gzip --record-header h1=v1 \
	--report "$report" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "blast exited $BLAST_RC: $(blast_why "$report")"
kafka_consume gz $N 5 >"$T/records.txt" || fail "consumer reported errors (bad CRC or gzip?)"
check_kafka_records "$T/records.txt" count=$N size=100 header=h1=v1 partitions=3
if [ -s "$report" ]; then
	expect_json "$report" sent == $N
	expect_json "$report" acked == $N
	expect_json "$report" failed == 0
	expect_json "$report" unacked == 0
	check_accounting "$report"
else
	fail "no report written"
fi
stop_kafka_mock
pass
