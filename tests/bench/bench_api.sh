#!/bin/bash
# podvmd API latency and pod start throughput, in one run:
#  - GET one pod and LIST with 1000 pod records, p50/p99 at concurrency 1
#    and 16 (wrk), beside GET /healthz as the baseline, printed as ratios;
#  - pods started per minute with 8 concurrent creates (real VMs).
# The 1000 records are real pods whose image does not exist: they fail at
# once without a VM, so the records are real but cheap.
#
#   bash tests/bench/bench_api.sh        (DURATION=5 ROUNDS=2 to change;
#                                         SKIP_LATENCY=1: throughput only)
set -eu
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
. tests/integration/daemon_lib.sh
trap 'daemon_cleanup; cleanup_lib' EXIT
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-2}
command -v wrk >/dev/null || { echo "bench_api: wrk missing (make deps)"; exit 1; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
daemon_prepare
daemon_start --listen 127.0.0.1:$PORT
BASE=http://127.0.0.1:$PORT

RECORDS=${RECORDS:-1000}
echo "creating $RECORDS pod records..."
for i in $(seq 1 "$RECORDS"); do
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"rec-%d","labels":{"bench":"yes"}},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"bench.invalid/none:%d"}]}}\n' $i $i
done | python3 -c '
import sys, json, http.client
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for d in sys.stdin.read().splitlines():
    c.request("POST", "/api/v1/namespaces/bench/pods", d, {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status == 201, r.status
' $PORT
pod_json one 'sleep 1' >"$TMP/one.json"
curl -sf -XPOST -H 'Content-Type: application/json' --data-binary @"$TMP/one.json" $BASE/api/v1/namespaces/default/pods >/dev/null

# wrk --latency prints "50% 1.23ms" lines; convert to microseconds
lat() {  # lat CONC URL -> "p50 p99" in us
	wrk -t"$(( $1 < 2 ? 1 : 2 ))" -c"$1" -d"${DURATION}s" --latency "$2" 2>/dev/null |
	awk '/^ +(50|99)%/ {v=$2; u=v; sub(/[a-z]+$/,"",v); sub(/^[0-9.]+/,"",u);
	     m = (u=="us") ? 1 : (u=="ms") ? 1000 : 1000000; printf "%d ", v*m} END {print ""}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}'; }

if [ -z "${SKIP_LATENCY:-}" ]; then
printf '%-28s %5s %10s %10s %10s %10s\n' endpoint conc p50_us p99_us p50/healthz p99/healthz
for c in 1 16; do
	for r in $(seq 1 "$ROUNDS"); do
		read -r h50 h99 <<<"$(lat $c $BASE/healthz)"
		read -r g50 g99 <<<"$(lat $c $BASE/api/v1/namespaces/default/pods/one)"
		read -r l50 l99 <<<"$(lat $c $BASE/api/v1/pods)"
		printf '%-28s %5d %10d %10d %10s %10s\n' "GET /healthz" $c $h50 $h99 1.00 1.00
		printf '%-28s %5d %10d %10d %10s %10s\n' "GET pod" $c $g50 $g99 \
			"$(ratio $g50 $h50)" "$(ratio $g99 $h99)"
		printf '%-28s %5d %10d %10d %10s %10s\n' "LIST 1001 pods" $c $l50 $l99 \
			"$(ratio $l50 $h50)" "$(ratio $l99 $h99)"
	done
done

fi

# pods started per minute: 8 concurrent creates, until all are Running
for i in $(seq 1 8); do pod_json "tp-$i" 'sleep 600' >"$TMP/tp-$i.json"; done
t0=$(date +%s%3N)
pids=()
for i in $(seq 1 8); do
	curl -sf -XPOST -H 'Content-Type: application/json' --data-binary @"$TMP/tp-$i.json" \
		$BASE/api/v1/namespaces/default/pods >/dev/null &
	pids+=($!)
done
wait "${pids[@]}"   # not a bare wait: podvmd is a child too
for i in $(seq 1 8); do wait_phase "tp-$i" Running 600 >/dev/null || echo "tp-$i did not start"; done
t1=$(date +%s%3N)
echo "8 concurrent creates: all Running after $((t1 - t0)) ms"
echo "pods started per minute: $(awk -v ms=$((t1 - t0)) 'BEGIN {printf "%.1f", 8 * 60000 / ms}')"
for i in $(seq 1 8); do curl -sf -XDELETE "$BASE/api/v1/namespaces/default/pods/tp-$i?gracePeriodSeconds=0" >/dev/null; done
for i in $(seq 1 200); do
	[ "$(curl -sf "$BASE/api/v1/namespaces/default/pods" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')" -le 1 ] && break
	sleep 0.3
done
