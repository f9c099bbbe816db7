#!/usr/bin/env bash
# A 3-broker mock cluster, topic t with 6 partitions (replicas 1,2,3),
# leaders set to 1,2,3,1,2,3. blast produces at --rate 2000 for 6 s with
# --acks all; after 2 s partition 0's leader moves from broker 1 to 2 and
# partition 4's from 2 to 3 (the old leader then answers
# NOT_LEADER_FOR_PARTITION, error 6, and blast must refresh metadata and
# resend). Afterwards the consumer reads back exactly the report's acked
# count, none twice, every value intact; with nothing failed or unacked
# that means no acked record is missing either. Accounting holds.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
require_blast
require_kafka_tools

start_kafka_mock 3 "t:6:3" || die "cannot start the Kafka mock"
for p in 0 1 2 3 4 5; do
	kafka_mock_cmd "leader t $p $((p % 3 + 1))"
done
report=$T/report.json
timeout -k 5 40 "$BLAST" --proto kafka --target "$KAFKA_BOOTSTRAP" --topic t --acks all \
	--conns 2 --rate 2000 --duration 6s --payload-size 40 --report "$report" --quiet \
	>"$T/blast.out" 2>"$T/blast.err" &
bpid=$!
track "$bpid"
sleep 2
kafka_mock_cmd "leader t 0 2"
kafka_mock_cmd "leader t 4 3"
wait "$bpid"
BLAST_RC=$?
[ "$BLAST_RC" -ne 124 ] || fail "blast still running after 40 s"
[ "$BLAST_RC" -eq 0 ] || fail "blast exited $BLAST_RC: $(blast_why "$report")"
[ -s "$report" ] || die "no report written"
acked=$(json_get "$report" acked) || die "report has no acked"
log "acked $acked"
[ "$acked" -ge 10000 ] || fail "only $acked records acked in 6 s at 2000/s"
kafka_consume t "$acked" 5 >"$T/records.txt" || fail "consumer reported errors (bad CRC?)"
check_kafka_records "$T/records.txt" count="$acked" size=40 partitions=6
expect_json "$report" failed == 0
expect_json "$report" unacked == 0
expect_json "$report" sent == "$acked"
check_accounting "$report"
stop_kafka_mock
pass
