#!/bin/bash
# Scrape latency of GET /metrics with 10 and with 1000 pod records, beside
# GET /healthz on the same server in the same run, plus the in-process
# render cost and how long the registry lock is held (the snapshot).
#
# The server is tests/bench/bench_metrics.c: the real API server and the
# real scrape listener with fake pod records in the real registry (no VMs:
# 1000 real microVMs do not fit these machines).
#
#   N=200 bash tests/bench/bench_metrics.sh
#   bash tests/bench/bench_metrics.sh --build     (only build the program)
set -eu
cd "$(dirname "$0")/../.."
N=${N:-200}
BIN=build/tests/bench_metrics

build() {
	# the Makefile links it from the host objects' list
	make -s "$BIN" >/dev/null
}

if [ "${1:-}" = --build ]; then
	build
	exit 0
fi
build

tmp=$(mktemp -d /tmp/podvm-bench-metrics.XXXXXX)
srv=""
cleanup() {
	[ -n "$srv" ] && { exec 3>&-; wait "$srv" 2>/dev/null || true; }
	rm -rf "$tmp"
}
trap cleanup EXIT

# stats FILE: p50 p99 mean of seconds, printed in ms
stats() {
	sort -n "$1" | awk '{a[NR]=$1; s+=$1} END {
		printf "p50=%.2fms p99=%.2fms mean=%.2fms", a[int(NR*0.5)+1]*1000,
		a[int(NR*0.99)+(NR*0.99>int(NR*0.99))]*1000, s/NR*1000 }'
}

for pods in 10 1000; do
	sock=$tmp/api-$pods.sock
	mkfifo "$tmp/in-$pods"
	"$BIN" serve "$pods" "$sock" <"$tmp/in-$pods" >"$tmp/out-$pods" &
	srv=$!
	exec 3>"$tmp/in-$pods"
	for _ in $(seq 1 100); do
		grep -q '^metrics=' "$tmp/out-$pods" 2>/dev/null && break
		sleep 0.05
	done
	port=$(sed -n 's/^metrics=//p' "$tmp/out-$pods")
	[ -n "$port" ] || { echo "bench_metrics: server did not start"; exit 1; }
	size=$(curl -s "http://127.0.0.1:$port/metrics" | wc -c)
	: >"$tmp/m"; : >"$tmp/h"
	# interleaved, one curl per request: the time inside curl only
	for _ in $(seq 1 "$N"); do
		curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/metrics" >>"$tmp/m"
		curl -s -o /dev/null -w '%{time_total}\n' --unix-socket "$sock" \
			http://localhost/healthz >>"$tmp/h"
	done
	echo "pods=$pods bytes=$size  /metrics: $(stats "$tmp/m")  /healthz: $(stats "$tmp/h")  (N=$N)"
	"$BIN" render "$pods" 50
	exec 3>&-
	wait "$srv"
	srv=""
done
