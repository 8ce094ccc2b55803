# Helpers for tests that run podvmd: start/stop it, talk to it with curl.
# Source after lib.sh.
PODVMD=${PODVMD:-build/podvmd}
DSTATE=$TMP/state
DSOCK=$TMP/podvmd.sock
DLOG=$TMP/podvmd.log
DPID=
# podvmd keeps its embedded libvirt root across restarts: not a leftover
CLEAN_ALLOW=libvirt

daemon_prepare() {
	mkdir -p "$DSTATE"
	# the test's own image store, built from the same sample images
	sh images/mksample.sh "$PODVM" "$DSTATE" >/dev/null
}

daemon_start() {
	"$PODVMD" --state-dir "$DSTATE" --run-dir "$PODVM_RUN_DIR" --socket "$DSOCK" \
		--guest-dir "$(dirname "$PODVM")/guest" "$@" 2>>"$DLOG" &
	DPID=$!
	for _ in $(seq 1 100); do
		curl -sf --unix-socket "$DSOCK" http://x/healthz >/dev/null 2>&1 && return 0
		kill -0 $DPID 2>/dev/null || break
		sleep 0.1
	done
	echo "podvmd did not start:"; tail -20 "$DLOG"; return 1
}

daemon_stop() {
	[ -n "$DPID" ] || return 0
	kill -TERM $DPID 2>/dev/null
	wait $DPID 2>/dev/null
	DPID=
}

# api METHOD PATH [BODY-FILE] -> body on stdout, HTTP code in $CODE
api() {
	local m=$1 p=$2 body=${3:-}
	local args=(-s -o "$TMP/api.out" -w '%{http_code}' --unix-socket "$DSOCK" -X "$m")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "@$body")
	CODE=$(curl "${args[@]}" "http://x$p")
	cat "$TMP/api.out"
}

# pod_json NAME SCRIPT -> a busybox pod running SCRIPT
pod_json() {
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},"spec":{"restartPolicy":"Never","terminationGracePeriodSeconds":2,"containers":[{"name":"main","image":"busybox","command":["sh","-c",%s]}]}}' \
		"$1" "$(printf '%s' "$2" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')"
}

# field JSON-FILE-OR-STDIN EXPR: a python expression over `o`
jget() { python3 -c "import json,sys; o=json.load(sys.stdin); print($1)"; }

# wait_phase NAME PHASE [TIMEOUT]
wait_phase() {
	local name=$1 want=$2 t=${3:-120} got=
	for _ in $(seq 1 $((t * 5))); do
		got=$(api GET "/api/v1/namespaces/default/pods/$name" | jget 'o.get("status",{}).get("phase","")' 2>/dev/null)
		[ "$got" = "$want" ] && return 0
		case $got in Failed|Succeeded) break ;; esac   # terminal: no use waiting
		sleep 0.2
	done
	echo "pod $name: phase '$got', want '$want'"; api GET "/api/v1/namespaces/default/pods/$name" | python3 -c "import json,sys; o=json.load(sys.stdin); print(json.dumps(o.get(\"status\"),indent=1))" || true
	return 1
}

daemon_cleanup() {
	daemon_stop
	pkill -9 -f "$PODVM_RUN_DIR/" 2>/dev/null || true
}
