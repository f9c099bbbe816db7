#!/usr/bin/env bash
# Bad command lines: each must make ./blast exit with status 2, print
# exactly one line on stderr that starts with "blast: " and names the
# problem, and print nothing on stdout. Exits 0 pass, 1 fail, 77 skip.
# BLAST=path runs another binary with the same command line contract.
set -u
cd "$(dirname "$0")/../.." || exit 1
blast=${BLAST:-./blast}
if [ ! -x "$blast" ]; then
	echo "skip: $blast is not built (make blast)"
	exit 77
fi

tmp=$(mktemp -d /tmp/bad_input.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# A loopback port nobody listens on: bind port 0, note it, let it go.
free_port() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
		return
	fi
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		# A failed connect through bash's /dev/tcp means nothing is there.
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	return 1
}

checks=0
failed=0

# check WANT ARG...: runs blast with ARG...; WANT must appear in the line.
check() {
	local want=$1 problem="" err
	shift
	timeout 20 "$blast" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	local rc=$?
	err=$(cat "$tmp/err")
	checks=$((checks + 1))
	[ "$rc" -eq 2 ] || problem="exit status $rc, not 2"
	[ -s "$tmp/out" ] && problem="${problem:+$problem; }stdout is not empty"
	# One line: one newline, and it is the last byte.
	if [ "$(wc -l <"$tmp/err")" -ne 1 ] || [ -n "$(tail -c 1 "$tmp/err")" ]; then
		problem="${problem:+$problem; }stderr is not exactly one line"
	fi
	[[ $err == "blast: "* ]] || problem="${problem:+$problem; }stderr does not start with \"blast: \""
	[[ $err == *"$want"* ]] || problem="${problem:+$problem; }stderr does not say \"$want\""
	if [ -z "$problem" ]; then
		printf 'ok    %s\n      -> %s\n' "$(printf '%q ' "$@")" "$err"
	else
		failed=$((failed + 1))
		printf 'FAIL  %s: %s\n' "$(printf '%q ' "$@")" "$problem"
		sed 's/^/      stderr| /' "$tmp/err"
		sed 's/^/      stdout| /' "$tmp/out" | head -5
	fi
}

port=$(free_port) || { echo "skip: no free port found"; exit 77; }
: >"$tmp/empty"
printf 'a\nb\n' >"$tmp/two"

check "unknown option --frobnicate" --frobnicate
check "unknown option --frobnicate" --conns 5 --frobnicate=1
check "unexpected argument extra" --conns 5 extra
check "--conns needs a value" --conns
check "--qos needs a value" --qos --rate 5
check "--retain does not take a value" --retain=yes
check "--probe does not take a value" --probe=yes
check "--qos is for MQTT only, not --proto ws" --proto ws --qos 1
check "--conns 12x: not a number" --conns 12x
check "--conns -1: not a number" --conns -1
check "--conns 0: must be between 1 and 1000000" --conns 0
check "--messages 99999999999999999999: too large" --messages 99999999999999999999
check "--inflight 70000: must be between 1 and 65535" --inflight 70000
check "--duration 10y: not a duration" --duration 10y
check "--duration 0: must be greater than zero" --duration 0
check "--drain-timeout 1.5s: not a duration" --drain-timeout 1.5s
check "--rate 0: must be at least 1" --rate 0
check "--qos 3: must be 0, 1 or 2" --qos 3
check "--mqtt-version 3: must be 3.1.1 or 5" --mqtt-version 3
check "--payload-file $tmp/nope: No such file or directory" --payload-file "$tmp/nope"
check "--payload-file $tmp: Is a directory" --payload-file "$tmp"
check "--payload-file $tmp/empty: file has no non-empty line" --payload-file "$tmp/empty"
check "--payload-size and --payload-file cannot be used together" --payload-size 8 --payload-file "$tmp/two"
check "--tokens-file $tmp/nope: No such file or directory" --tokens-file "$tmp/nope"
check "--tokens-file $tmp/two: 2 non-empty lines for --conns 3" --tokens-file "$tmp/two" --conns 3
check "--topic a/+/b: wildcards + and # are not allowed in a publish topic" --topic 'a/+/b'
check "--topic a/#: wildcards + and # are not allowed in a publish topic" --topic 'a/#'
check "--topic '': must not be empty" --topic ''
check "--client-id fixed: must contain {conn}" --client-id fixed --conns 2
check "--target localhost: expected HOST:PORT" --target localhost
check "--target nosuch.invalid:1883: name does not resolve (" --target nosuch.invalid:1883
check "cannot connect to 127.0.0.1:$port: Connection refused" --target "127.0.0.1:$port"
check "--report $tmp/nodir/out.json: No such file or directory" --report "$tmp/nodir/out.json"
# --pcap: the file must be creatable before the run; analyze needs a file.
check "--pcap $tmp/nodir/cap.pcapng: No such file or directory" --pcap "$tmp/nodir/cap.pcapng"
check "--pcap $tmp: Is a directory" --pcap "$tmp"
check "--pcap-snaplen 10: must be between 128 and 262144" --pcap-snaplen 10
check "--pcap-max-bytes 1: must be at least 4096" --pcap-max-bytes 1
check "analyze $tmp/none.pcap: No such file or directory" analyze "$tmp/none.pcap"
check "analyze: needs a capture file" analyze
check "analyze: --proto amqp: must be mqtt, kafka, ws or http" analyze x.pcap --proto amqp
check "analyze: --port 0: must be a port number" analyze x.pcap --port 0
printf 'not a capture' >"$tmp/junk.pcap"
check "analyze $tmp/junk.pcap: not a pcap or pcapng file" analyze "$tmp/junk.pcap"
check "--hlog $tmp/nodir/out.hlog: No such file or directory" --hlog "$tmp/nodir/out.hlog"
check "--csv $tmp/nodir/out.csv: No such file or directory" --csv "$tmp/nodir/out.csv"
check "--html $tmp/nodir/out.html: No such file or directory" --html "$tmp/nodir/out.html"
check "--html $tmp: Is a directory" --html "$tmp"
check "--csv '': needs a file name" --csv ''

# Kafka: flags of the other protocol, values, topic names.
check "--qos is for MQTT only, not --proto kafka" --proto kafka --qos 1
check "--client-id is for MQTT only" --client-id 'c{conn}' --proto kafka
check "--acks is for Kafka only (needs --proto kafka)" --acks all
check "--acks 2: must be 0, 1 or all" --proto kafka --acks 2
check "--compression lz4: not supported (none or gzip)" --proto kafka --compression lz4
check "--partitions 3-1: range 3-1 runs backwards" --proto kafka --partitions 3-1
check "--partitions 0-2147483647: at most 65536 partitions" --proto kafka --partitions 0-2147483647
check "--linger 5x: not a duration" --proto kafka --linger 5x
check "--batch-size 100: must be between 1024 and 67108864" --proto kafka --batch-size 100
check "--topic blast/{conn}: a Kafka topic is one name" --proto kafka --topic 'blast/{conn}'
check "--topic a/b: a Kafka topic name has only letters" --proto kafka --topic a/b
check "cannot connect to 127.0.0.1:$port: Connection refused" --proto kafka --target "127.0.0.1:$port"

# Protobuf payloads: every field is checked before anything starts.
check "--field nosuch=uniform:0:1: TagData has no field nosuch" --payload-proto TagData --field nosuch=uniform:0:1
check "--field distance=bernoulli:2: distance is a double, bernoulli needs a bool" \
	--payload-proto TagData --field distance=bernoulli:2
check "--field detached=bernoulli:2: bernoulli needs a probability P from 0 to 1" \
	--proto kafka --payload-proto TagData --field detached=bernoulli:2
check "--field timestamp.nanos=1: timestamp is already set by --field timestamp=now" \
	--payload-proto TagData --field timestamp=now --field timestamp.nanos=1
check "--field needs --payload-proto MESSAGE" --field distance=1
check "--payload-proto and --payload-size cannot be used together" --payload-proto TagData --payload-size 8
check "--payload-proto Nope: not a compiled-in message" --payload-proto Nope
check "--payload-proto-desc $tmp/nope.desc: No such file or directory" \
	--payload-proto TagData --payload-proto-desc "$tmp/nope.desc"
check "--payload-proto-desc $tmp/two: not a FileDescriptorSet" \
	--payload-proto TagData --payload-proto-desc "$tmp/two"
# WebSocket transport.
check "must be tcp or ws" --transport udp
check "the schemes are mqtt://, mqtts://, ws://, wss://, kafka://, kafka+ssl://, http:// and https://" --target tcp://127.0.0.1:1/mqtt
check "--target http(s)://...: for --proto http" --target http://127.0.0.1:1/mqtt
check "--cacert is for TLS targets" --cacert /etc/hostname
check "Kafka speaks TCP only" --proto kafka --target ws://127.0.0.1:9092/
check "either every target is ws://" --target ws://127.0.0.1:1/mqtt --target 127.0.0.1:2
check "expected 'Name: value'" --transport ws --header nocolon
check "--transport is for MQTT only" --proto kafka --transport ws
# MQTT fan-out.
check "--subscribers is for MQTT only, not --proto kafka" --proto kafka --subscribers 2
check "--sub-qos is for MQTT only, not --proto ws" --proto ws --sub-qos 1
check "--sub-topic a/#/b: not a valid MQTT topic filter" --sub-topic 'a/#/b'
check "--sub-topic sport+: not a valid MQTT topic filter" --subscribers 1 --sub-topic 'sport+'
check "--sub-qos 3: must be 0, 1 or 2" --subscribers 1 --sub-qos 3
check "--publishers is for fan-out" --publishers 2
check "--listeners is for --proto ws only" --subscribers 1 --listeners 2
check "--payload-size 16: fan-out needs at least 32 bytes" --subscribers 1 --payload-size 16
check "--conns and --publishers cannot be used together" --subscribers 1 --conns 2 --publishers 2
check "--steps and --messages cannot be used together" --subscribers 1 --steps 10 --messages 5
check "--sub-topic \$share/+/x: a shared subscription is \$share/NAME/FILTER" --sub-topic '$share/+/x'
check "--sub-topic: 2 shared subscriptions but 1 subscribing connection(s)" \
	--sub-topic '$share/a/x' --sub-topic '$share/b/x'
check "--chat is for MQTT only, not --proto kafka" --proto kafka --chat
if [ "$(id -u)" -ne 0 ]; then
	# root reads anything, so this only means something for others.
	printf 'x' >"$tmp/locked.desc"
	chmod 0 "$tmp/locked.desc"
	check "--payload-proto-desc $tmp/locked.desc: Permission denied" \
		--payload-proto TagData --payload-proto-desc "$tmp/locked.desc"
fi
if command -v protoc >/dev/null 2>&1; then
	printf 'syntax = "proto3";\npackage demo;\nmessage Reading { string device = 1; sint32 temp = 2; }\n' \
		>"$tmp/demo.proto"
	if protoc -I"$tmp" -o "$tmp/demo.desc" --include_imports "$tmp/demo.proto"; then
		check "--payload-proto Nope: no such message in $tmp/demo.desc" \
			--payload-proto Nope --payload-proto-desc "$tmp/demo.desc"
		check "--field temp=bernoulli:0.5: temp is a sint32, bernoulli needs a bool" \
			--payload-proto demo.Reading --payload-proto-desc "$tmp/demo.desc" --field temp=bernoulli:0.5
	fi
fi
check "--find-limit bogus: must be rate (the default) or conns" --find-limit bogus
check "--slo p99=abc: expected p50, p90, p99, p999 or connect" --find-limit --slo p99=abc
check "--max-loss x: expected a count of messages" --find-limit --max-loss x
check "--slo needs --find-limit" --slo p99=50ms

echo "bad_input: $checks checks, $failed failed"
[ "$failed" -eq 0 ]
