#!/usr/bin/env bash
# Several worker processes against several brokers: every worker queues
# messages for every partition, so each must hold a connection to every
# broker, whatever --conns and --workers are. All messages arrive once.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
require_blast
require_kafka_tools

# One topic per run: each run numbers its messages from 0.
start_kafka_mock 3 "w1:6:3" "w2:6:3" "w3:6:3" || die "cannot start the Kafka mock"
for t in w1 w2 w3; do
	for p in 0 1 2 3 4 5; do
		kafka_mock_cmd "leader $t $p $((p % 3 + 1))"
	done
done
for conns in 1 2 3; do
	report=$T/report-$conns.json
	run_blast 60 --proto kafka --target "$KAFKA_BOOTSTRAP" --topic w$conns --conns $conns --workers 2 \
		--messages 20000 --payload-size 40 --report "$report" --quiet
	[ "$BLAST_RC" -eq 0 ] || fail "--conns $conns --workers 2: blast exited $BLAST_RC: $(blast_why "$report")"
	expect_json "$report" acked == 20000
	expect_json "$report" conns_ok == $((conns * 3))
	# Never more workers than --conns: each needs its own connection per broker.
	expect_json "$report" config.workers == $((conns < 2 ? conns : 2))
	check_accounting "$report"
	kafka_consume w$conns 20000 5 >"$T/records-$conns.txt" || fail "consumer reported errors"
	check_kafka_records "$T/records-$conns.txt" count=20000 size=40 partitions=6
done
stop_kafka_mock
pass
