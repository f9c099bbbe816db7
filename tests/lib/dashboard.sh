# Sourced by tests/lib.sh: blast with --dashboard in the background, and
# reading its endpoints and its page.

# dash_start NAME ARGS...: blast with --dashboard on a port of its choice,
# output to $T/NAME.out and $T/NAME.err; sets DASH_PID, DASH_URL
# (http://127.0.0.1:PORT) and DASH_TOKEN once the start-up line is out.
dash_start() {
	local name=$1 line
	shift
	"$BLAST" --dashboard 127.0.0.1:0 "$@" >"$T/$name.out" 2>"$T/$name.err" &
	DASH_PID=$!
	track "$DASH_PID"
	wait_until 10 grep -q 'dashboard on http' "$T/$name.err" || die "$name: no dashboard line"
	line=$(grep -o 'http://[0-9.:]*/#token=[0-9a-f]*' "$T/$name.err" | head -n1)
	DASH_URL=${line%%/#*}
	DASH_TOKEN=${line##*token=}
	[ ${#DASH_TOKEN} -eq 32 ] || die "$name: no token in: $line"
}

# dash_api PATH: the body of GET PATH.
dash_api() { curl -sf --max-time 5 "$DASH_URL$1"; }

# dash_done SECS: waits until /api/now says the run is over.
dash_done() {
	wait_until "$1" sh -c "curl -sf --max-time 3 '$DASH_URL/api/now' | grep -q '\"done\":true'"
}

# dash_dom OUT: the page as headless Chromium leaves it after its script
# ran (3 s of virtual time), into OUT.
dash_dom() {
	local ud
	ud=$(mktemp -d "$T/chrome.XXXXXX")
	timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$ud" \
		--virtual-time-budget=3000 --dump-dom "$DASH_URL/" >"$1" 2>>"$T/chromium.err"
}

# dash_end: Ctrl-C ends the lingering; returns blast's exit status.
dash_end() {
	kill -INT "$DASH_PID"
	wait_until 10 sh -c "! kill -0 $DASH_PID 2>/dev/null" || fail "Ctrl-C did not end the lingering"
	wait "$DASH_PID"
}
