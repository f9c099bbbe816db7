#!/usr/bin/env bash
# Kafka runs that cannot work must end at once with a clear message:
#  - a topic the cluster does not have: exit 2, one stderr line naming the
#    topic (the mock would auto-create any topic a Metadata v0-2 request
#    names, so it is told to report UNKNOWN_TOPIC_OR_PART for it, which is
#    what a real broker without auto-creation answers);
#  - a target that is not Kafka (mosquitto, if installed; a server that
#    writes garbage; one that accepts and never answers): non-zero exit
#    within 15 s, a "blast: " line on stderr naming the target;
#  - --acks 2 and --compression lz4: exit 2, one line.
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
skip_unless_cmd python3
require_blast
require_kafka_tools

start_kafka_mock 1 "t:2" || die "cannot start the Kafka mock"

# expect_one_line WHAT WANT_RC WORD: blast's stderr is one line starting
# with "blast: " and containing WORD; exit status WANT_RC (or nonzero).
expect_one_line() {
	local what=$1 want=$2 word=$3 err
	err=$(cat "$T/blast.err")
	if [ "$want" = nonzero ]; then
		[ "$BLAST_RC" -ne 0 ] || fail "$what: blast exited 0"
	else
		[ "$BLAST_RC" -eq "$want" ] || fail "$what: blast exited $BLAST_RC, want $want: $err"
	fi
	[ "$(wc -l <"$T/blast.err")" -eq 1 ] || fail "$what: stderr is not one line: $err"
	[[ $err == "blast: "* ]] || fail "$what: stderr does not start with \"blast: \": $err"
	[[ $err == *"$word"* ]] || fail "$what: stderr does not name $word: $err"
	log "$what -> rc $BLAST_RC: $err"
}

log "== unknown topic"
kafka_mock_cmd "topic_error nosuch-topic UNKNOWN_TOPIC_OR_PART"
run_blast 20 --proto kafka --target "$KAFKA_BOOTSTRAP" --topic nosuch-topic --messages 10 --quiet
expect_one_line "unknown topic" 2 nosuch-topic
[ "$(echo "$BLAST_SECS < 10" | bc)" -eq 1 ] || fail "unknown topic: took ${BLAST_SECS}s"

log "== bad flags"
run_blast 20 --proto kafka --target "$KAFKA_BOOTSTRAP" --topic t --acks 2 --messages 10 --quiet
expect_one_line "--acks 2" 2 "--acks"
run_blast 20 --proto kafka --target "$KAFKA_BOOTSTRAP" --topic t --compression lz4 --messages 10 --quiet
expect_one_line "--compression lz4" 2 lz4

log "== garbage server"
port=$(free_port) || die "no free port"
python3 - "$port" >"$T/garbage.out" 2>&1 <<'PY' &
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
def serve(c):
    try:
        c.sendall(b"\xff\xff\xff\xf0HTTP/1.0 400 garbage, not Kafka\r\n\r\n" * 4)
        while c.recv(65536):
            c.sendall(b"\x00\x00\x00\x05\x00\x00\x00\x7fZ" + b"junk" * 8)
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
gpid=$!
track "$gpid"
wait_until 5 port_open "$port" || die "garbage server not listening"
run_blast 30 --proto kafka --target "127.0.0.1:$port" --topic t --messages 10 --quiet
expect_one_line "garbage server" nonzero "127.0.0.1:$port"
[ "$(echo "$BLAST_SECS < 15" | bc)" -eq 1 ] || fail "garbage server: took ${BLAST_SECS}s"
stop_pid "$gpid"

log "== silent server"
port=$(free_port) || die "no free port"
python3 - "$port" >"$T/silent.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
conns = []
while True:
    c, _ = s.accept()
    conns.append(c)  # keep it open, read nothing, answer nothing
PY
gpid=$!
track "$gpid"
wait_until 5 port_open "$port" || die "silent server not listening"
run_blast 30 --proto kafka --target "127.0.0.1:$port" --topic t --messages 10 --quiet
expect_one_line "silent server" nonzero "127.0.0.1:$port"
[ "$(echo "$BLAST_SECS < 15" | bc)" -eq 1 ] || fail "silent server: took ${BLAST_SECS}s"
stop_pid "$gpid"

if [ -x /usr/sbin/mosquitto ]; then
	log "== mosquitto"
	start_mosquitto || die "cannot start mosquitto"
	run_blast 30 --proto kafka --target "127.0.0.1:$MQ_PORT" --topic t --messages 10 --quiet
	expect_one_line "mosquitto" nonzero "127.0.0.1:$MQ_PORT"
	[ "$(echo "$BLAST_SECS < 15" | bc)" -eq 1 ] || fail "mosquitto: took ${BLAST_SECS}s"
	stop_mosquitto
fi
stop_kafka_mock
pass
