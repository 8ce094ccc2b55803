#!/bin/bash
# VPC networking end to end, inside the guests (issue 5): needs podvm-init
# to call guest_net_setup() after POD_SPEC (guest/net.h).  Two pods in one
# VPC exchange data over TCP (busybox nc) and ping their gateway; the
# guest's eth0 has the pod's address and default route, /etc/hosts and
# resolv.conf come from the VPC; a pod in a second VPC with the same CIDR,
# given the same address as one of them, reaches neither.
#
# podvmd runs inside a network + mount namespace this test creates, so
# every tap and VPC is the test's own; traffic stays in its namespaces.
set -u
cd "$(dirname "$0")/../.."

if [ "${VPC_IT_INNER:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ]; then echo "SKIP: test_vpc_e2e needs root"; exit 0; fi
	for t in nsenter unshare ip curl python3; do
		command -v $t >/dev/null || { echo "FAIL: $t not installed"; exit 1; }
	done
	VPC_IT_INNER=1 exec unshare --net --mount --propagation private bash "$0" "$@"
fi

. tests/integration/lib.sh
. tests/integration/daemon_lib.sh
NSDIR=$PODVM_RUN_DIR/netns
CLEAN_ALLOW=$'libvirt\nnetns'
cleanup() {
	daemon_cleanup
	umount -R "$NSDIR" 2>/dev/null
	cleanup_lib
}
trap cleanup EXIT
ip link set lo up

# podv NAME VPC IP SCRIPT
podv() {
	python3 - "$@" <<'EOF'
import json, sys
name, vpc, ip, script = sys.argv[1:5]
ann = {"podvm.io/vpc": vpc}
if ip: ann["podvm.io/ip"] = ip
print(json.dumps({"apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": name, "annotations": ann},
  "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
    "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", script]}]}}))
EOF
}
create() { podv "$@" >"$TMP/p.json"; api POST /api/v1/namespaces/default/pods "$TMP/p.json" >/dev/null; expect_eq "create $1" "$CODE" 201; }
podlog() { api GET "/api/v1/namespaces/default/pods/$1/log"; }
podip() { api GET "/api/v1/namespaces/default/pods/$1" | jget 'o["status"].get("podIP","")'; }
# wait_log POD PATTERN [SECONDS]
wait_log() {
	for _ in $(seq 1 $((${3:-60} * 5))); do
		podlog "$1" | grep -qE -- "$2" && return 0
		sleep 0.2
	done
	return 1
}

daemon_prepare
daemon_start --vpc a=10.40.0.0/24,dns=10.40.0.1 --vpc b=10.40.0.0/24 || exit 1

echo "--- guest network"
create s1 a "" 'ip -4 addr show eth0; ip route; cat /etc/hosts /etc/resolv.conf; echo READY
while true; do echo "hello-from-s1" | nc -l -p 8080; done'
wait_phase s1 Running 240 || fail "s1 not Running"
S1=$(podip s1)
wait_log s1 READY 60 || fail "s1 never printed READY"
podlog s1 >"$TMP/s1.log"
expect_grep "eth0 has the pod address" "inet $S1/24" "$TMP/s1.log"
expect_grep "default route via the gateway" "default via 10.40.0.1 dev eth0" "$TMP/s1.log"
expect_grep "/etc/hosts names the pod" "^$S1[[:space:]]+s1" "$TMP/s1.log"
expect_grep "resolv.conf from the VPC" "^nameserver 10.40.0.1" "$TMP/s1.log"

echo "--- two pods in one VPC: TCP and the gateway"
create c1 a "" "ping -c 2 -W 2 10.40.0.1 >/dev/null && echo PING_GW_OK
for i in 1 2 3 4 5 6 7 8 9 10; do r=\$(echo hi-from-c1 | nc -w 3 $S1 8080) && [ -n \"\$r\" ] && break; sleep 1; done
echo \"got=\$r\"; sleep 3600"
wait_phase c1 Running 240 || fail "c1 not Running"
C1=$(podip c1)
wait_log c1 'got=' 90 || fail "c1 never finished its TCP exchange"
podlog c1 >"$TMP/c1.log"
expect_grep "c1 pings its gateway" PING_GW_OK "$TMP/c1.log"
expect_grep "c1 gets s1's answer over TCP" "got=hello-from-s1" "$TMP/c1.log"
wait_log s1 hi-from-c1 10 && ok "s1 got c1's data" || fail "s1 did not get c1's data"

echo "--- a pod in VPC b with c1's address reaches neither"
create x1 b "$C1" "ping -c 1 -W 2 10.40.0.1 >/dev/null && echo GW_B_OK
r=\$(echo intruder | nc -w 3 $S1 8080); echo \"got=[\$r]\"
ping -c 1 -W 2 $S1 >/dev/null && echo REACHED_S1 || echo UNREACHED_S1; echo DONE; sleep 3600"
wait_phase x1 Running 240 || fail "x1 not Running"
expect_eq "x1 has c1's address" "$(podip x1)" "$C1"
wait_log x1 DONE 60 || fail "x1 never finished"
podlog x1 >"$TMP/x1.log"
expect_grep "x1 reaches its own gateway" GW_B_OK "$TMP/x1.log"
expect_grep "x1 gets nothing from s1's address" 'got=\[\]' "$TMP/x1.log"
expect_grep "x1 cannot ping s1's address" UNREACHED_S1 "$TMP/x1.log"
podlog s1 | grep -q intruder && fail "s1 saw x1's data" || ok "s1 never saw x1"
podlog c1 | grep -q intruder && fail "c1 saw x1's data" || ok "c1 never saw x1"

echo "--- teardown"
for p in s1 c1 x1; do api DELETE "/api/v1/namespaces/default/pods/$p" >/dev/null; done
for p in s1 c1 x1; do
	for _ in $(seq 1 150); do
		api GET "/api/v1/namespaces/default/pods/$p" >/dev/null
		[ "$CODE" = 404 ] && break
		sleep 0.2
	done
done
sleep 2
for v in a b; do
	expect_eq "no tap left in $v" \
		"$(nsenter --net="$NSDIR/podvm-vpc-$v" ip -o link | grep -c ' pvt-')" 0
done
expect_eq "no lease left" "$(cat "$DSTATE"/net/*.ipam | grep -c '^lease')" 0
daemon_stop
expect_eq "host namespace holds only lo" "$(ip -o link | awk -F': ' '{print $2}' | tr '\n' ' ')" "lo "
expect_clean "after the VPC end-to-end test"
finish
