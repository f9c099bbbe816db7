# Sourced by tests/lib.sh: nginx as the HTTP server of the HTTP tests, run
# in the foreground as the test's own process, everything in the test's
# temp dir.

# start_nginx [server line]...: nginx on a free port of 127.0.0.1 (or
# $NG_PORT) with the given lines inside its server block; lines for the
# http block may be put in NG_HTTP_LINES (newline-separated) first, and a
# second listener's line (listen 127.0.0.1:P ssl) is just a server line.
# The document root is $NG_DIR/www. Exports NG_PORT, NG_PID, NG_DIR,
# NG_LOG. Returns 1 if nginx does not accept connections within 5 s.
# NG_ADDR (default 127.0.0.1) is the address it listens on; with NG_NETNS
# set, it runs in that network namespace (give NG_PORT: free_port looks
# at this one).
start_nginx() {
	local port line i
	[ -x /usr/sbin/nginx ] || skip "nginx not installed (scripts/install-deps.sh)"
	port=${NG_PORT:-}
	[ -n "$port" ] || port=$(free_port) || return 1
	NG_DIR=${NG_DIR:-$(mktemp -d "$T/nginx.XXXXXX")}
	NG_LOG=$NG_DIR/error.log
	chmod 755 "$NG_DIR"
	mkdir -p "$NG_DIR/www" "$NG_DIR/tmp"
	{
		echo "worker_processes 1;"
		echo "pid $NG_DIR/nginx.pid;"
		echo "error_log $NG_LOG warn;"
		# As root the workers would switch to nobody; stay who we are.
		[ "$(id -u)" -eq 0 ] && echo "user root;"
		echo "events { worker_connections 4096; }"
		echo "http {"
		echo "  access_log off;"
		for d in client_body proxy fastcgi uwsgi scgi; do
			echo "  ${d}_temp_path $NG_DIR/tmp/$d;"
		done
		echo "  ${NG_HTTP_LINES:-}"
		echo "  server {"
		echo "    listen ${NG_ADDR:-127.0.0.1}:$port;"
		echo "    root $NG_DIR/www;"
		for line in "$@"; do echo "    $line"; done
		echo "  }"
		echo "}"
	} >"$NG_DIR/nginx.conf"
	${NG_NETNS:+ip netns exec "$NG_NETNS"} \
		/usr/sbin/nginx -p "$NG_DIR" -c "$NG_DIR/nginx.conf" -g 'daemon off;' \
		>>"$NG_DIR/stderr" 2>&1 &
	NG_PID=$!
	track "$NG_PID"
	NG_PORT=$port
	export NG_PORT NG_PID NG_DIR NG_LOG
	for ((i = 0; i < 50; i++)); do
		if ! kill -0 "$NG_PID" 2>/dev/null; then
			wait "$NG_PID" 2>/dev/null
			echo "nginx exited at start:" >&2
			tail -n 5 "$NG_DIR/stderr" "$NG_LOG" >&2 2>/dev/null
			NG_PID=
			return 1
		fi
		if [ -n "${NG_NETNS:-}" ]; then
			ip netns exec "$NG_NETNS" bash -c "(exec 3<>/dev/tcp/${NG_ADDR:-127.0.0.1}/$port) 2>/dev/null" &&
				return 0
		else
			port_open "$port" && return 0
		fi
		sleep 0.1
	done
	echo "nginx not accepting on ${NG_ADDR:-127.0.0.1}:$port after 5 s" >&2
	stop_pid "$NG_PID"
	NG_PID=
	return 1
}

# Stops nginx (SIGTERM: fast shutdown) and reaps it.
stop_nginx() {
	stop_pid "$NG_PID" 3
	NG_PID=
}
