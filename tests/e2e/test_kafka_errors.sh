#!/usr/bin/env bash
# Produce errors injected by the mock (each error fails one whole Produce
# request, every partition in it, and nothing of it is written; the topics
# have one partition, so each injected error is one partition error):
#  1. three NOT_ENOUGH_REPLICAS (19, retriable): the report's errors counts
#     them under their Kafka name, blast resends, and every record arrives
#     exactly once; nothing failed.
#  2. one CORRUPT_MESSAGE (2) then one INVALID_RECORD (87), not retriable:
#     the records of those two requests count as failed (at least 2), the
#     errors show both names, the rest arrive exactly once, and the
#     consumer's count is acked; exit status 1 (some messages failed).
# Accounting holds in both.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
require_blast
require_kafka_tools

N=2000
start_kafka_mock 1 "r:1" "nr:1" || die "cannot start the Kafka mock"

log "== retriable: NOT_ENOUGH_REPLICAS x3"
kafka_mock_cmd "errors 0 19 19 19"
report=$T/report-retriable.json
run_blast 60 --proto kafka --target "$KAFKA_BOOTSTRAP" --topic r --acks all --conns 1 \
	--messages $N --payload-size 32 --report "$report" --quiet
[ "$BLAST_RC" -eq 0 ] || fail "retriable: blast exited $BLAST_RC: $(blast_why "$report")"
kafka_consume r $N 5 >"$T/records-r.txt" || fail "retriable: consumer reported errors"
check_kafka_records "$T/records-r.txt" count=$N size=32
if [ -s "$report" ]; then
	expect_json "$report" sent == $N
	expect_json "$report" acked == $N
	expect_json "$report" failed == 0
	expect_json "$report" unacked == 0
	expect_json "$report" errors.NOT_ENOUGH_REPLICAS == 3
	check_accounting "$report"
else
	fail "retriable: no report written"
fi

log "== not retriable: CORRUPT_MESSAGE, INVALID_RECORD"
kafka_mock_cmd "errors 0 2 87"
report=$T/report-fatal.json
run_blast 60 --proto kafka --target "$KAFKA_BOOTSTRAP" --topic nr --acks all --conns 1 \
	--messages $N --payload-size 32 --report "$report" --quiet
[ "$BLAST_RC" -eq 1 ] || fail "not retriable: blast exited $BLAST_RC, want 1: $(blast_why "$report")"
if [ -s "$report" ]; then
	expect_json "$report" sent == $N
	expect_json "$report" failed -ge 2
	expect_json "$report" unacked == 0
	expect_json "$report" errors.CORRUPT_MESSAGE == 1
	expect_json "$report" errors.INVALID_RECORD == 1
	check_accounting "$report"
	acked=$(json_get "$report" acked)
	if [ -n "$acked" ]; then
		kafka_consume nr "$acked" 5 >"$T/records-nr.txt" || fail "not retriable: consumer reported errors"
		check_kafka_records "$T/records-nr.txt" count="$acked" size=32
	fi
else
	fail "not retriable: no report written"
fi
stop_kafka_mock
pass
