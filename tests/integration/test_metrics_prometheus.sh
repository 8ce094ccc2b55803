#!/bin/bash
# A real Prometheus server scrapes a real podvmd's --metrics-listen every
# second: podvm_pods{phase="Running"} equals the pods that run, and a busy
# container's CPU counters grow (the VM's, from the VMM, and the
# container's cAdvisor-named one, from the guest's cgroups via STATS).
#
#   podvmd --state-dir D --socket S --run-dir R --listen 127.0.0.1:P
#          --metrics-listen 127.0.0.1:M
#   prometheus --config.file C --storage.tsdb.path T --web.listen-address Q
# Skips (exit 0, "SKIP") only when build/podvmd is not built yet.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

PODVMD=${PODVMD:-build/podvmd}
if [ ! -x "$PODVMD" ]; then
	echo "SKIP: $PODVMD is not built yet"
	exit 0
fi
command -v prometheus >/dev/null || { echo "FAIL: prometheus not installed (make deps)"; exit 1; }

# A free loopback port (nothing listening on it now).
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
	done
}
API_PORT=$(free_port); MET_PORT=$(free_port); PROM_PORT=$(free_port)
STATE=$TMP/state
SOCK=$TMP/podvmd.sock
mkdir -p "$STATE"
# Pod records in a private state dir; the image store is the shared one
# (make sample-image fills it; the store locks itself).
ln -s "${PODVM_STATE_DIR}/images" "$STATE/images"

DPID=""; PPID_PROM=""
stop_all() {
	# pods first: podvmd leaves running VMs behind on purpose when stopped
	for p in busy idle; do
		curl -s -o /dev/null --unix-socket "$SOCK" -X DELETE \
			"http://localhost/api/v1/namespaces/default/pods/$p?gracePeriodSeconds=0" || true
	done
	for _ in $(seq 1 60); do
		n=$(curl -s --unix-socket "$SOCK" http://localhost/api/v1/namespaces/default/pods |
			grep -o '"name":"\(busy\|idle\)"' | wc -l)
		[ "$n" = 0 ] && break
		sleep 1
	done
	[ -n "$PPID_PROM" ] && kill "$PPID_PROM" 2>/dev/null && wait "$PPID_PROM" 2>/dev/null
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	DPID=""; PPID_PROM=""
}
trap 'stop_all; cleanup_lib' EXIT

"$PODVMD" --state-dir "$STATE" --socket "$SOCK" --run-dir "$PODVM_RUN_DIR" \
	--listen "127.0.0.1:$API_PORT" --metrics-listen "127.0.0.1:$MET_PORT" \
	--log-level warn 2>"$TMP/podvmd.log" &
DPID=$!
for _ in $(seq 1 100); do
	curl -sf -o /dev/null --unix-socket "$SOCK" http://localhost/healthz && break
	sleep 0.1
done
curl -sf -o /dev/null "http://127.0.0.1:$MET_PORT/metrics" ||
	{ fail "podvmd's --metrics-listen does not answer"; sed 's/^/    | /' "$TMP/podvmd.log"; finish; }

create() {   # NAME SHELL-COMMAND
	local body code
	body=$(printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},"spec":{"restartPolicy":"Never","terminationGracePeriodSeconds":0,"containers":[{"name":"main","image":"busybox","command":["/bin/sh","-c","%s"]}]}}' "$1" "$2")
	code=$(curl -s -o "$TMP/create-$1" -w '%{http_code}' --unix-socket "$SOCK" \
		-H 'Content-Type: application/json' -X POST --data "$body" \
		http://localhost/api/v1/namespaces/default/pods)
	expect_eq "create pod $1" "$code" 201
}
create busy 'while :; do :; done'
create idle 'sleep 3600'

running=0
for _ in $(seq 1 300); do
	running=0
	for p in busy idle; do
		curl -s --unix-socket "$SOCK" "http://localhost/api/v1/namespaces/default/pods/$p" |
			grep -q '"phase":"Running"' && running=$((running + 1))
	done
	[ "$running" = 2 ] && break
	sleep 1
done
expect_eq "pods running" "$running" 2

cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: podvm
    scrape_interval: 1s
    static_configs:
      - targets: ['127.0.0.1:$MET_PORT']
EOF
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
	--web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn \
	>"$TMP/prom.log" 2>&1 &
PPID_PROM=$!

# query PROMQL: the first sample's value, or "" when none
query() {
	curl -s -G "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" |
		grep -o '"value":\[[^]]*\]' | head -1 | sed 's/.*,"\([^"]*\)"\]/\1/'
}
wait_query() {   # WHAT PROMQL WANT [SECONDS]
	local v="" i
	for i in $(seq 1 "${4:-60}"); do
		v=$(query "$2")
		[ "$v" = "$3" ] && break
		sleep 1
	done
	expect_eq "$1" "$v" "$3"
}

wait_query "target up" 'up{job="podvm"}' 1
wait_query 'podvm_pods{phase="Running"} = running pods' 'podvm_pods{phase="Running"}' "$running"
wait_query "podvm_vms counts both VMs" 'sum(podvm_vms)' 2 30

grows() {   # WHAT METRIC-SELECTOR
	local a b i
	for i in $(seq 1 30); do
		a=$(query "$2")
		[ -n "$a" ] && break
		sleep 1
	done
	[ -n "$a" ] || { fail "$1: no sample for $2"; return; }
	for i in $(seq 1 40); do
		sleep 1
		b=$(query "$2")
		awk -v a="$a" -v b="$b" 'BEGIN { exit !(b > a) }' && break
	done
	if awk -v a="$a" -v b="$b" 'BEGIN { exit !(b > a) }'; then
		ok "$1 grows ($a -> $b)"
	else
		fail "$1 does not grow ($a -> $b)"
	fi
}
grows "VM CPU of the busy pod" 'podvm_pod_vm_cpu_seconds_total{namespace="default",pod="busy"}'
grows "container CPU of the busy container" \
	'container_cpu_usage_seconds_total{namespace="default",pod="busy",container="main"}'
# the busy container is close to a full vCPU, the idle one near zero
wait_query "busy container uses > 0.3 cores" \
	'podvm_container_cpu_usage_cores{pod="busy"} > bool 0.3' 1 30

if [ "$FAILS" -ne 0 ]; then
	echo "--- podvmd log (tail)"; tail -20 "$TMP/podvmd.log"
	echo "--- /metrics (podvm_ lines)"
	curl -s "http://127.0.0.1:$MET_PORT/metrics" | grep -v '^#' | grep -E 'podvm_(pods|vms|pod_vm)|container_cpu' | head -20
fi
stop_all
# podvmd's embedded libvirt root stays in its run dir by design
rm -rf "$PODVM_RUN_DIR/libvirt"
expect_clean "after the pods are deleted"
finish
