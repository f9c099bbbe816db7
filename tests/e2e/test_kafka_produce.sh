#!/usr/bin/env bash
# Produces 5000 records to a 1-broker librdkafka mock cluster (topic t, 4
# partitions) with --acks 0, 1 and all, and reads them back with
# librdkafka's consumer: exactly 5000 records, each value intact (32 bytes:
# blast's marker then filler, no (conn, seq) twice), header h1=v1 on each,
# records on all 4 partitions, CRCs valid; and the report agrees: sent ==
# acked == 5000, nothing failed or unacked, exit 0.
#
# The mock answers every Produce, even acks=0 (librdkafka 2.0.2 ignores
# Acks), and blast counts an acks=0 record acked once written, so all 5000
# must arrive for acks 0 as well.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
require_blast
require_kafka_tools

N=5000
CONNS=2
for acks in 0 1 all; do
	log "== acks $acks"
	topic=t
	start_kafka_mock 1 "$topic:4" || die "acks $acks: cannot start the Kafka mock"
	report=$T/report-$acks.json
	run_blast 60 --proto kafka --target "$KAFKA_BOOTSTRAP" --topic "$topic" --acks "$acks" \
		--conns $CONNS --messages $N --payload-size 32 --record-header h1=v1 \
		--report "$report" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "acks $acks: blast exited $BLAST_RC: $(blast_why "$report")"
	out=$T/records-$acks.txt
	kafka_consume "$topic" $N 5 >"$out" || fail "acks $acks: consumer reported errors (bad CRC?)"
	check_kafka_records "$out" count=$N size=32 header=h1=v1 partitions=4
	if [ -s "$report" ]; then
		expect_json "$report" proto eq kafka
		expect_json "$report" sent == $N
		expect_json "$report" acked == $N
		expect_json "$report" failed == 0
		expect_json "$report" unacked == 0
		expect_json "$report" errors eq '{}'
		expect_json "$report" exit_status == 0
		check_accounting "$report"
	else
		fail "acks $acks: no report written"
	fi
	stop_kafka_mock
done
pass
