#!/bin/bash
# Pod-to-pod TCP throughput inside one VPC (two microVMs, virtio-net, taps
# on the VPC's bridge) beside the same transfer between two plain network
# namespaces joined by a veth pair (the baseline).  Both sides use the same
# tools and timing: busybox `dd if=/dev/zero bs=1M count=MB | nc IP PORT`
# into `nc -l -p PORT >/dev/null`, timed by the sender from /proc/uptime
# (10 ms resolution) until the receiver closed; RUNS runs each, median.
# Needs podvm-init with guest_net_setup() wired (see docs/networking.md).
# Everything runs inside a network + mount namespace of its own.
#
#   MB=64 RUNS=3 bash tests/bench/bench_net_pods.sh
set -u
cd "$(dirname "$0")/../.."
MB=${MB:-64}
RUNS=${RUNS:-3}

if [ "${NET_PODS_BENCH_INNER:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || { echo "bench_net_pods: needs root"; exit 1; }
	NET_PODS_BENCH_INNER=1 exec unshare --net --mount --propagation private bash "$0" "$@"
fi

. tests/integration/lib.sh
. tests/integration/daemon_lib.sh
NSDIR=$PODVM_RUN_DIR/netns
BB=${PODVM_BUSYBOX:-/bin/busybox}
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	daemon_cleanup
	umount -R "$NSDIR" 2>/dev/null
	umount "$TMP/ns1" "$TMP/ns2" 2>/dev/null
	cleanup_lib
}
trap cleanup EXIT
ip link set lo up

# The sender's loop, the same text in the baseline and in the client pod:
# prints "cs=CENTISECONDS" per run.
SENDER='for r in $(seq 1 '$RUNS'); do
  s=$(sed "s/ .*//; s/\.//" /proc/uptime)
  dd if=/dev/zero bs=1M count='$MB' 2>/dev/null | nc $DST 9000 >/dev/null
  e=$(sed "s/ .*//; s/\.//" /proc/uptime); echo "cs=$((e - s))"; sleep 1
done; echo SENDER_DONE'
# The receiver: stdin is a FIFO held open read-write, so nc never sees EOF
# on it and only the sender's close ends a transfer.
RECEIVER='mkfifo /tmp/hold; exec 3<>/tmp/hold
while true; do nc -l -p 9000 <&3 >/dev/null; done'

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mbps() { awk -v mb="$MB" -v cs="$1" 'BEGIN { printf "%.1f", (cs > 0) ? mb * 100 / cs : 0 }'; }

echo "--- baseline: two namespaces, one veth pair"
touch "$TMP/ns1" "$TMP/ns2"
unshare --net="$TMP/ns1" true && unshare --net="$TMP/ns2" true
ip link add bv1 type veth peer name bv2
ip link set bv1 netns "$TMP/ns1" && ip link set bv2 netns "$TMP/ns2"
nsenter --net="$TMP/ns1" sh -c 'ip link set lo up; ip link set bv1 up; ip addr add 10.77.0.1/24 dev bv1'
nsenter --net="$TMP/ns2" sh -c 'ip link set lo up; ip link set bv2 up; ip addr add 10.77.0.2/24 dev bv2'
# busybox applets first in PATH: the same tools as inside the pods
mkdir -p "$TMP/bin"
for a in sh nc dd sed seq sleep mkfifo; do ln -sf "$BB" "$TMP/bin/$a"; done
nsenter --net="$TMP/ns2" env PATH="$TMP/bin" sh -c "${RECEIVER//\/tmp\/hold/$TMP/hold}" &
PIDS="$PIDS $!"
sleep 0.5
nsenter --net="$TMP/ns1" env PATH="$TMP/bin" DST=10.77.0.2 sh -c "$SENDER" >"$TMP/base.out"
base_cs=$(sed -n 's/^cs=//p' "$TMP/base.out" | median)
echo "    runs (cs): $(sed -n 's/^cs=//p' "$TMP/base.out" | tr '\n' ' ')"

echo "--- pods: two microVMs in one VPC"
daemon_prepare
daemon_start --vpc bench=10.78.0.0/24 || exit 1
pod() {
	python3 - "$@" <<'EOF'
import json, sys
name, script = sys.argv[1:3]
print(json.dumps({"apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": name, "annotations": {"podvm.io/vpc": "bench"}},
  "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
    "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", script],
      "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]}}))
EOF
}
pod rx "$RECEIVER" >"$TMP/rx.json"
api POST /api/v1/namespaces/default/pods "$TMP/rx.json" >/dev/null
wait_phase rx Running 240 || { echo "receiver pod not Running"; exit 1; }
RX=$(api GET /api/v1/namespaces/default/pods/rx | jget 'o["status"]["podIP"]')
pod tx "DST=$RX; sleep 2; $SENDER; sleep 3600" >"$TMP/tx.json"
api POST /api/v1/namespaces/default/pods "$TMP/tx.json" >/dev/null
wait_phase tx Running 240 || { echo "sender pod not Running"; exit 1; }
for _ in $(seq 1 600); do
	api GET /api/v1/namespaces/default/pods/tx/log >"$TMP/pods.out"
	grep -q SENDER_DONE "$TMP/pods.out" && break
	sleep 1
done
grep -q SENDER_DONE "$TMP/pods.out" || { echo "the sender pod did not finish"; cat "$TMP/pods.out"; exit 1; }
pods_cs=$(sed -n 's/^cs=//p' "$TMP/pods.out" | median)
echo "    runs (cs): $(sed -n 's/^cs=//p' "$TMP/pods.out" | tr '\n' ' ')"
for p in rx tx; do api DELETE /api/v1/namespaces/default/pods/$p >/dev/null; done

accel=$(grep -o '"accel":"[a-z]*"' "$DLOG" | head -1 | cut -d'"' -f4)
echo
echo "transfer: $MB MiB per run, $RUNS runs, medians; VMs under ${accel:-?}"
printf '%-40s %10s\n' "baseline (netns + veth)" "$(mbps "$base_cs") MB/s" \
	"pod to pod (VPC bridge, taps, virtio)" "$(mbps "$pods_cs") MB/s"
awk -v b="$base_cs" -v p="$pods_cs" 'BEGIN { if (p > 0 && b > 0) printf "ratio pods/baseline: %.3f\n", b / p }'
