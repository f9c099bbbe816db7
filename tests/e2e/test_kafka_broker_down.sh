#!/usr/bin/env bash
# A broker goes down mid-run and comes back: blast's connection to it
# breaks, reconnects are refused until it is back, then everything it
# carried and everything queued for its partitions is sent again. Every
# message is acked exactly once; the outage shows in the corrected latency.
# A dropped connection makes the exit status 1, as documented.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
require_blast
require_kafka_tools

start_kafka_mock 3 "d:6:3" || die "cannot start the Kafka mock"
for p in 0 1 2 3 4 5; do
	kafka_mock_cmd "leader d $p $((p % 3 + 1))"
done
report=$T/report.json
timeout -k 5 40 "$BLAST" --proto kafka --target "$KAFKA_BOOTSTRAP" --topic d --acks all \
	--rate 2000 --messages 12000 --payload-size 40 --report "$report" --quiet \
	>"$T/blast.out" 2>"$T/blast.err" &
bpid=$!
track "$bpid"
sleep 2
kafka_mock_cmd "broker_down 2"
sleep 1.5
kafka_mock_cmd "broker_up 2"
wait "$bpid"
BLAST_RC=$?
[ "$BLAST_RC" -ne 124 ] || fail "blast still running after 40 s"
[ "$BLAST_RC" -eq 1 ] || fail "blast exited $BLAST_RC, want 1 (a connection dropped): $(blast_why "$report")"
[ -s "$report" ] || die "no report written"
expect_json "$report" sent == 12000
expect_json "$report" acked == 12000
expect_json "$report" failed == 0
expect_json "$report" unacked == 0
expect_json "$report" conns_dropped -ge 1
expect_json "$report" reconnects -ge 1
check_accounting "$report"
# Messages waited out the outage: the corrected p99.9 shows it.
p999=$(json_get "$report" latency_us.p999)
[ "$(echo "$p999 > 500000" | bc)" = 1 ] || fail "corrected p99.9 $p999 us hides a 1.5 s outage"
kafka_consume d 12000 5 >"$T/records.txt" || fail "consumer reported errors"
check_kafka_records "$T/records.txt" count=12000 size=40 partitions=6
stop_kafka_mock
pass
