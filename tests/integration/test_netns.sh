#!/bin/bash
# VPC networking library (netns/) against the real kernel, without VMs.
# Everything happens inside a network + mount namespace this test creates
# (unshare), on a tmpfs: the "host" namespace where the persistent taps are
# made is the test's own, never the machine's.  A fake VM per pod
# (netns_helper wire) opens the pod's tap by name exactly as QEMU does and
# relays its frames to a tap "eth0" inside a per-pod namespace, so the
# traffic below really crosses the library's taps and bridges.
#
# Checks: two VPCs with the same CIDR and the same pod IPs; reachability
# inside a VPC (pod to pod, pod to gateway); isolation between VPCs; a tap
# fd opened before the move still carries frames (ARP to the gateway);
# release + batched flush; restart/adoption; orphan cleanup; fault
# injection at every library step; 50 create/delete cycles; nothing left.
set -u
cd "$(dirname "$0")/../.."
H=build/tests/netns_helper

if [ "${NETNS_IT_INNER:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ]; then echo "SKIP: test_netns needs root"; exit 0; fi
	for t in nsenter unshare ip python3; do
		command -v $t >/dev/null || { echo "FAIL: $t not installed"; exit 1; }
	done
	mkdir -p build/tests
	# same flags as the Makefile's sanitizer build, only the objects we need
	cc -std=gnu11 -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wno-unused-parameter \
		-D_GNU_SOURCE -I. -fno-strict-aliasing $(pkg-config --cflags libnl-route-3.0) \
		-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
		-fno-sanitize-recover=undefined -o $H tests/integration/netns_helper.c \
		tests/integration/netns_helper_faults.c \
		netns/*.c util/err.c util/util.c $(pkg-config --libs libnl-route-3.0) -lpthread \
		|| { echo "FAIL: build netns_helper"; exit 1; }
	NETNS_IT_INNER=1 exec unshare --net --mount --propagation private bash "$0" "$@"
fi

. tests/integration/lib.sh
D=$TMP/net
mkdir -p "$D" && mount -t tmpfs tmpfs "$D" || { echo "FAIL: tmpfs"; exit 1; }
export NETNS_DIR=$D/netns NETNS_STATE=$D/state
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	umount -R "$D" 2>/dev/null
	cleanup_lib
}
trap cleanup EXIT
ip link set lo up

vpcns() { nsenter --net="$NETNS_DIR/podvm-vpc-$1" "${@:2}"; }
podns() { nsenter --net="$D/pod-$1" "${@:2}"; }

# start_pod NAME VPC UID [ADDR]: lease + tap, fake VM, attach, configure eth0
start_pod() {
	local name=$1 vpc=$2 uid=$3 want=${4:-} out tap mac addr gw
	out=$($H prepare "$vpc" "$uid" $want) || { fail "prepare $name"; return; }
	tap=$(sed -n 's/.*tap=\([^ ]*\).*/\1/p' <<<"$out")
	mac=$(sed -n 's/.*mac=\([^ ]*\).*/\1/p' <<<"$out")
	addr=$(sed -n 's/.*ip=\([^ ]*\).*/\1/p' <<<"$out")
	gw=$(sed -n 's/.*gw=\([^ ]*\).*/\1/p' <<<"$out")
	eval "IP_$name=$addr TAP_$name=$tap"
	touch "$D/pod-$name" && unshare --net="$D/pod-$name" true
	$H wire "$tap" "$D/pod-$name" >"$D/wire-$name" 2>&1 &
	PIDS="$PIDS $!"
	for _ in $(seq 1 50); do grep -q ready "$D/wire-$name" && break; sleep 0.1; done
	$H attach "$vpc" "$uid" || fail "attach $name"
	podns "$name" sh -c "ip link set lo up && ip link set eth0 address $mac &&
		ip link set eth0 up && ip addr add $addr/24 dev eth0 &&
		ip route add default via $gw" || fail "configure $name"
	serve "$name" "$D/pod-$name"
}

# serve WHO NSFILE: a TCP server on port 7000 in that namespace that answers
# its name (nsenter execs python: $! is the server, so kill reaches it)
serve() {
	nsenter --net="$2" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7000)); s.listen(8)
while True:
    c, _ = s.accept(); c.sendall(sys.argv[1].encode()); c.close()' "$1" &
	PIDS="$PIDS $!"
}

# ask POD ADDR: who answers at ADDR:7000, seen from POD ("-" when no one)
ask() {
	podns "$1" python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], 7000), timeout=2); print(s.recv(64).decode())
except OSError:
    print("-")' "$2"
}

echo "--- two VPCs, same CIDR"
$H vpc-create blue 10.0.0.0/24 10.0.0.1 || fail "create blue"
$H vpc-create green 10.0.0.0/24 || fail "create green"
expect_eq "blue bridge has the gateway address" \
	"$(vpcns blue ip -o -4 addr show dev pvbr0 | awk '{print $4}')" "10.0.0.1/24"
expect_eq "blue bridge is up" "$(vpcns blue ip -o link show pvbr0 | grep -c '[<,]UP[,>]')" 1
expect_eq "lo is up in green" "$(vpcns green ip -o link show lo | grep -c '[<,]UP[,>]')" 1
$H vpc-create blue 10.0.0.0/24 10.0.0.1 && ok "create again with the same settings adopts it" \
	|| fail "create again"
$H vpc-create blue 10.0.1.0/24 2>"$D/err" && fail "other cidr accepted" || \
	expect_grep "other cidr refused" "exists with cidr 10.0.0.0/24" "$D/err"

echo "--- a tap fd opened before the move keeps working"
out=$($H arpcheck blue arp-probe) && ok "${out#ok: }" || fail "arpcheck: $out"

echo "--- pods: a1 a2 in blue, b1 b2 in green; b1 gets a1's address"
start_pod a1 blue uid-a1
start_pod a2 blue uid-a2
start_pod b1 green uid-b1 "$IP_a1"
start_pod b2 green uid-b2 10.0.0.4
serve gw-blue "$NETNS_DIR/podvm-vpc-blue"
serve gw-green "$NETNS_DIR/podvm-vpc-green"
expect_eq "a1 and b1 have the same address" "$IP_b1" "$IP_a1"
sleep 0.3
expect_eq "a2 reaches a1 by its address" "$(ask a2 "$IP_a1")" a1
expect_eq "b2 reaches b1 at the same address" "$(ask b2 "$IP_b1")" b1
expect_eq "a1 reaches a2" "$(ask a1 "$IP_a2")" a2
expect_eq "a1 reaches its gateway" "$(ask a1 10.0.0.1)" gw-blue
expect_eq "b1 reaches its gateway" "$(ask b1 10.0.0.1)" gw-green
expect_eq "a1 does not reach b2 (other VPC)" "$(ask a1 10.0.0.4)" -
mac_a1=$(podns a1 ip -o link show eth0 | sed -n 's/.*link\/ether \([^ ]*\).*/\1/p')
expect_eq "a1's MAC never shows in green's bridge" \
	"$(vpcns green bridge fdb show br pvbr0 2>/dev/null | grep -c "$mac_a1")" 0
expect_eq "pod MAC is locally administered unicast" \
	"$(( 0x${mac_a1%%:*} & 3 ))" 2

echo "--- release, batched deletion"
for p in $PIDS; do kill "$p" 2>/dev/null; done
for p in $PIDS; do wait "$p" 2>/dev/null; done
PIDS=""
for x in a1 a2; do $H release blue uid-$x || fail "release $x"; done
for x in b1 b2; do $H release green uid-$x || fail "release $x"; done
expect_eq "blue taps tagged for deletion, not deleted" \
	"$(vpcns blue ip -d -o link | grep -c 'pvt-.* group 1886809444')" 2
expect_eq "leases freed at once" "$(cat "$NETNS_STATE"/*.ipam | grep -c '^lease')" 0
$H flush blue green || fail "flush"
expect_eq "no tap left in blue" "$(vpcns blue ip -o link | grep -c pvt-)" 0
expect_eq "no tap left in green" "$(vpcns green ip -o link | grep -c pvt-)" 0
$H vpc-destroy blue && $H vpc-destroy green || fail "destroy"

echo "--- restart: a missing namespace is rebuilt from the state file"
$H vpc-create red 10.3.0.0/28 || fail "create red"
umount "$NETNS_DIR/podvm-vpc-red" && rm -f "$NETNS_DIR/podvm-vpc-red"
$H vpc-open red || fail "reopen red"
expect_eq "red rebuilt with its gateway" \
	"$(vpcns red ip -o -4 addr show dev pvbr0 | awk '{print $4}')" "10.3.0.1/28"
$H vpc-destroy red || fail "destroy red"

echo "--- orphan cleanup"
$H vpc-create keep 10.5.0.0/24 && $H vpc-create orphan 10.5.0.0/24 || fail "create"
$H prepare keep uid-keep >/dev/null && $H attach keep uid-keep || fail "keep pod"
$H prepare keep uid-gone1 >/dev/null && $H attach keep uid-gone1 || fail "gone1 pod"
$H prepare keep uid-gone2 >/dev/null || fail "gone2 pod (tap left in the host ns)"
$H prepare orphan uid-x >/dev/null || fail "orphan pod"
out=$($H cleanup vpc=keep uid=uid-keep) || fail "cleanup"
expect_eq "cleanup report" "$out" "namespaces=1 states=1 links=3 leases=2"
expect_eq "orphan VPC gone" "$(ls "$NETNS_DIR" "$NETNS_STATE" | grep -c orphan)" 0
expect_eq "only the claimed tap is left in keep" "$(vpcns keep ip -o link | grep -c pvt-)" 1
expect_eq "only the claimed lease is left" "$(grep '^lease' "$NETNS_STATE/keep.ipam" | cut -d' ' -f2)" uid-keep
expect_eq "no tap left in the host namespace" "$(ip -o link | grep -c pvt-)" 0
$H release keep uid-keep && $H flush keep && $H vpc-destroy keep || fail "teardown keep"

echo "--- fault injection at every step"
$H faults >"$D/faults" 2>&1; rc=$?
tail -n 5 "$D/faults" | sed 's/^/    /'
expect_eq "every injected fault rolled back" "$rc" 0

echo "--- 50 create/delete cycles"
out=$($H cycles 50) ; rc=$?
echo "    $out"
expect_eq "cycles left nothing" "$rc" 0

echo "--- nothing left behind"
expect_eq "host namespace holds only lo" "$(ip -o link | awk -F': ' '{print $2}' | tr '\n' ' ')" "lo "
expect_eq "no namespace file" "$(ls -A "$NETNS_DIR")" ""
expect_eq "no state file" "$(ls -A "$NETNS_STATE")" ""
expect_eq "no namespace mounted" "$(grep -c "$NETNS_DIR/" /proc/self/mountinfo)" 0
finish
