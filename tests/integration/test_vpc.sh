#!/bin/bash
# VPC networking through podvmd with real VMs (issue 5), host side: flags,
# the VPC API, admission, each pod's lease + tap + attach, podIP and the
# status.podIP fieldRef, restart (lease, tap and API VPCs kept), a killed
# VM, a failed start, DELETE, IPAM exhaustion in a /29, create/delete
# cycles with real VMs, and nothing left behind.  Traffic between pods
# needs the guest side: tests/integration/test_vpc_e2e.sh.
#
# podvmd runs inside a network + mount namespace this test creates
# (unshare), so its VPC namespaces and even the persistent taps it makes
# "in the host namespace" are the test's own, never the machine's.
set -u
cd "$(dirname "$0")/../.."

if [ "${VPC_IT_INNER:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ]; then echo "SKIP: test_vpc needs root"; exit 0; fi
	for t in nsenter unshare ip curl python3; do
		command -v $t >/dev/null || { echo "FAIL: $t not installed"; exit 1; }
	done
	VPC_IT_INNER=1 exec unshare --net --mount --propagation private bash "$0" "$@"
fi

. tests/integration/lib.sh
. tests/integration/daemon_lib.sh
NSDIR=$PODVM_RUN_DIR/netns
# podvmd keeps its libvirt root and the VPC namespace dir across restarts
CLEAN_ALLOW=$'libvirt\nnetns'
cleanup() {
	daemon_cleanup
	umount -R "$NSDIR" 2>/dev/null
	cleanup_lib
}
trap cleanup EXIT
ip link set lo up

section() { echo "--- $* ($(( $(date +%s) - T0 ))s)"; }
T0=$(date +%s)
vpcns() { nsenter --net="$NSDIR/podvm-vpc-$1" "${@:2}"; }
taps_in() { if [ "$1" = host ]; then ip -o link; else vpcns "$1" ip -o link; fi | grep -c ' pvt-'; }
leases() { cat "$DSTATE"/net/"$1".ipam 2>/dev/null | grep -c '^lease'; }

# podv NAME VPC IP SCRIPT: a busybox pod with the VPC annotations ("" = none)
# and MY_IP from the status.podIP fieldRef
podv() {
	python3 - "$@" <<'EOF'
import json, sys
name, vpc, ip, script = sys.argv[1:5]
ann = {}
if vpc: ann["podvm.io/vpc"] = vpc
if ip: ann["podvm.io/ip"] = ip
print(json.dumps({"apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": name, "annotations": ann},
  "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
    "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", script],
      "env": [{"name": "MY_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]}]}}))
EOF
}
create() { podv "$@" >"$TMP/p.json"; api POST /api/v1/namespaces/default/pods "$TMP/p.json" >"$TMP/create.out"; }
getf() { api GET "/api/v1/namespaces/default/pods/$1" | jget "$2" 2>/dev/null; }
uid_of() { getf "$1" 'o["metadata"]["uid"]'; }
delete_wait() {
	api DELETE "/api/v1/namespaces/default/pods/$1" >/dev/null
	for _ in $(seq 1 150); do
		api GET "/api/v1/namespaces/default/pods/$1" >/dev/null
		[ "$CODE" = 404 ] && return 0
		sleep 0.2
	done
	fail "pod $1 not gone after delete"
}
# wait_settled NAME SECONDS: until the pod is past Pending; phase in $PHASE
wait_settled() {
	for _ in $(seq 1 $(($2 * 5))); do
		PHASE=$(getf "$1" 'o["status"].get("phase","")')
		[ -n "$PHASE" ] && [ "$PHASE" != Pending ] && return 0
		sleep 0.2
	done
}
# create_running NAME VPC IP SCRIPT: create and wait for Running.  A boot
# that fails with "unable to wait for process" is retried: that is
# vmm/libvirt's reaper racing libvirt for its daemonizing child (it reaps
# the setsid'd intermediate process libvirt waits for), not the network.
create_running() {
	local try msg
	for try in 1 2 3; do
		create "$@"
		wait_settled "$1" 240
		[ "$PHASE" = Running ] && return 0
		msg=$(getf "$1" 'o["status"].get("message","")')
		case "$msg" in *"unable to wait for process"*) ;; *) break;; esac
		echo "    $1: VM start lost to the reaper race, again ($try)"
		delete_wait "$1"
	done
	fail "$1 not Running: $msg"
	return 1
}
vpc_body() { printf '{"apiVersion":"podvm.io/v1","kind":"VPC","metadata":{"name":"%s"},"spec":%s}' "$1" "$2" >"$TMP/vpc.json"; }
VPCS=/apis/podvm.io/v1/vpcs

section "flags"
daemon_prepare
out=$("$PODVMD" --state-dir "$DSTATE" --vpc x=10.0.0.0/24,egress=nat 2>&1); rc=$?
expect_eq "--vpc egress=nat refused" "$rc" 2
grep -q "not supported yet" <<<"$out" && ok "egress=nat: says not supported yet" || fail "egress=nat message: $out"
out=$("$PODVMD" --state-dir "$DSTATE" --vpc x=10.0.0.1/24 2>&1); rc=$?
expect_eq "--vpc with host bits refused" "$rc" 2

section "start with two VPCs"
daemon_start --log-level debug --vpc default --vpc blue=10.20.0.0/24,dns=10.20.0.1 || exit 1
expect_grep "start-up cleanup logged" '"msg":"network orphans removed"' "$DLOG"
expect_eq "default VPC bridge has its gateway" \
	"$(vpcns default ip -o -4 addr show dev pvbr0 | awk '{print $4}')" "10.88.0.1/24"
expect_eq "blue VPC bridge has its gateway" \
	"$(vpcns blue ip -o -4 addr show dev pvbr0 | awk '{print $4}')" "10.20.0.1/24"

section "VPC API"
api GET /apis | grep -q '"podvm.io"' && ok "/apis lists podvm.io" || fail "/apis lacks podvm.io"
api GET /apis/podvm.io/v1 | grep -q '"name":"vpcs"' && ok "podvm.io/v1 lists vpcs" || fail "podvm.io/v1"
expect_eq "list" "$(api GET $VPCS | jget '[(i["metadata"]["name"], i["status"]["source"]) for i in o["items"]]' )" \
	"[('blue', 'flag'), ('default', 'flag')]"
vpc_body red '{"cidr":"10.20.0.0/24","dns":["10.20.0.53"]}'
api POST $VPCS "$TMP/vpc.json" >"$TMP/red.json"
expect_eq "create red (same CIDR as blue)" "$CODE" 201
expect_eq "red object" "$(jget '(o["kind"], o["spec"]["cidr"], o["spec"]["dns"], o["status"]["gateway"], o["status"]["podCount"])' <"$TMP/red.json")" \
	"('VPC', '10.20.0.0/24', ['10.20.0.53'], '10.20.0.1', 0)"
api POST $VPCS "$TMP/vpc.json" >/dev/null
expect_eq "create red again: 409" "$CODE" 409
vpc_body bad '{"cidr":"10.20.0.1/24"}'
api POST $VPCS "$TMP/vpc.json" >"$TMP/o"
expect_eq "bad cidr: field" "$(jget 'o["details"]["causes"][0]["field"]' <"$TMP/o")" "spec.cidr"
expect_eq "bad cidr: 422" "$CODE" 422
vpc_body Bad_Name '{"cidr":"10.21.0.0/24"}'
api POST $VPCS "$TMP/vpc.json" >"$TMP/o"
expect_eq "bad name: field" "$(jget 'o["details"]["causes"][0]["field"]' <"$TMP/o")" "metadata.name"
expect_eq "bad name: 422" "$CODE" 422
vpc_body nat '{"cidr":"10.21.0.0/24","egress":"nat"}'
api POST $VPCS "$TMP/vpc.json" >"$TMP/o"
grep -q "not supported yet" "$TMP/o" && ok "egress nat: not supported yet" || fail "egress nat"
expect_eq "egress nat: 422" "$CODE" 422
vpc_body odd '{"cidr":"10.21.0.0/24","color":"red"}'
api POST $VPCS "$TMP/vpc.json" >"$TMP/o"
expect_eq "unknown spec field: 422" "$CODE" 422
expect_eq "unknown spec field" "$(jget 'o["details"]["causes"][0]["field"]' <"$TMP/o")" "spec.color"
api GET $VPCS/red >/dev/null; expect_eq "get red" "$CODE" 200
api GET $VPCS/nope >/dev/null; expect_eq "get unknown: 404" "$CODE" 404
api DELETE $VPCS/blue >/dev/null; expect_eq "delete a --vpc VPC: 409" "$CODE" 409
[ -f "$DSTATE/vpcs/red.json" ] && ok "red's definition persisted" || fail "no $DSTATE/vpcs/red.json"

section "admission"
create x1 nope "" 'true'
expect_eq "unknown VPC: 422" "$CODE" 422
expect_eq "unknown VPC: field" "$(jget 'o["details"]["causes"][0]["field"]' <"$TMP/create.out")" \
	"metadata.annotations[podvm.io/vpc]"
create x2 blue 10.99.0.5 'true'
expect_eq "ip outside the VPC: 422" "$CODE" 422
expect_eq "ip outside the VPC: field" "$(jget 'o["details"]["causes"][0]["field"]' <"$TMP/create.out")" \
	"metadata.annotations[podvm.io/ip]"

section "pods get a lease, a tap and podIP"
create_running a1 blue "" 'echo "ip=$MY_IP"; sleep 3600'
IP_a1=$(getf a1 'o["status"].get("podIP","")')
case "$IP_a1" in 10.20.0.*) ok "a1 podIP $IP_a1";; *) fail "a1 podIP '$IP_a1'";; esac
expect_eq "a1 podIPs" "$(getf a1 'o["status"]["podIPs"]')" "[{'ip': '$IP_a1'}]"
create_running r1 red "$IP_a1" 'echo "ip=$MY_IP"; sleep 3600'
create_running d1 "" "" 'echo "ip=$MY_IP"; sleep 3600'
expect_eq "r1 has a1's address" "$(getf r1 'o["status"].get("podIP","")')" "$IP_a1"
case "$(getf d1 'o["status"].get("podIP","")')" in 10.88.0.*) ok "d1 (no annotation) is in default";; *) fail "d1 podIP";; esac
sleep 1
expect_grep "status.podIP fieldRef resolves" "ip=$IP_a1" <(api GET /api/v1/namespaces/default/pods/a1/log)
expect_eq "a1's tap is in blue, enslaved and up" \
	"$(vpcns blue ip -o link show master pvbr0 | grep -c 'pvt-.*[<,]UP[,>]')" 1
expect_eq "r1's tap is in red" "$(taps_in red)" 1
expect_eq "no tap left in the host namespace" "$(taps_in host)" 0
expect_eq "blue lease" "$(leases blue)" 1
expect_eq "blue podCount" "$(api GET $VPCS/blue | jget 'o["status"]["podCount"]')" 1
api DELETE $VPCS/red >/dev/null; expect_eq "delete red with a pod: 409" "$CODE" 409

section "restart keeps leases, taps and API VPCs"
tap_a1=$(vpcns blue ip -o link | grep -o 'pvt-[0-9a-f]*' | head -1)
daemon_stop
daemon_start --log-level debug --vpc default --vpc blue=10.20.0.0/24,dns=10.20.0.1 || exit 1
wait_phase a1 Running 60 || fail "a1 not Running after restart"
api GET $VPCS/red >/dev/null; expect_eq "red (API-created) restored" "$CODE" 200
expect_eq "a1 keeps its IP" "$(getf a1 'o["status"].get("podIP","")')" "$IP_a1"
expect_eq "a1 keeps its tap" "$(vpcns blue ip -o link | grep -o 'pvt-[0-9a-f]*' | head -1)" "$tap_a1"
expect_eq "blue lease kept" "$(leases blue)" 1
expect_eq "blue podCount after restart" "$(api GET $VPCS/blue | jget 'o["status"]["podCount"]')" 1

section "a killed VM releases tap and IP"
uid=$(uid_of a1)
kill -9 "$(pgrep -f "guest=podvm-$uid" | head -1)"
wait_phase a1 Failed 30 || fail "a1 not Failed after kill"
sleep 2.5   # release now, flush within a second or two
expect_eq "a1's lease freed" "$(leases blue)" 0
expect_eq "a1's tap deleted" "$(taps_in blue)" 0

section "a pod whose image cannot be pulled holds no address"
# Pending in ErrImagePull / ImagePullBackOff (kubelet), pulled before the
# network is set up: nothing of the VPC is taken while it waits. The
# registry is loopback with nothing listening: no traffic leaves the host.
podv f1 blue "" 'true' | sed 's/"image": "busybox"/"image": "127.0.0.1:9\/no\/such:1"/' >"$TMP/p.json"
api POST /api/v1/namespaces/default/pods "$TMP/p.json" >/dev/null
for _ in $(seq 1 150); do
	r=$(api GET /api/v1/namespaces/default/pods/f1 |
		jget 'o["status"]["containerStatuses"][0]["state"].get("waiting",{}).get("reason","")' 2>/dev/null)
	case $r in ErrImagePull|ImagePullBackOff) break ;; esac
	sleep 0.2
done
case $r in ErrImagePull|ImagePullBackOff) ok "f1 waits for its image ($r)" ;; *) fail "f1: waiting reason '$r'" ;; esac
expect_eq "f1 Pending" "$(api GET /api/v1/namespaces/default/pods/f1 | jget 'o["status"]["phase"]')" Pending
expect_eq "f1 holds no lease" "$(leases blue)" 0
expect_eq "f1 has no tap (host)" "$(taps_in host)" 0

section "DELETE releases tap and IP"
for p in a1 r1 d1 f1; do delete_wait $p; done
sleep 2
expect_eq "red: no lease" "$(leases red)" 0
expect_eq "red: no tap" "$(taps_in red)" 0
expect_eq "default: no lease, no tap" "$(leases default) $(taps_in default)" "0 0"
api DELETE $VPCS/red >/dev/null; expect_eq "delete red" "$CODE" 200
[ -e "$NSDIR/podvm-vpc-red" ] && fail "red's namespace left" || ok "red's namespace gone"
[ -e "$DSTATE/vpcs/red.json" ] || [ -e "$DSTATE/net/red.ipam" ] && fail "red's state left" || ok "red's state gone"
api GET $VPCS/red >/dev/null; expect_eq "red: 404" "$CODE" 404

section "IPAM exhaustion in a /29 (5 pod addresses)"
vpc_body tiny '{"cidr":"10.30.0.0/29"}'
api POST $VPCS "$TMP/vpc.json" >/dev/null; expect_eq "create tiny" "$CODE" 201
# one at a time (see create_running)
for i in 1 2 3 4 5; do create_running t$i tiny "" 'sleep 3600'; done
create t6 tiny "" 'sleep 3600'
wait_phase t6 Failed 30 && ok "t6 failed fast" || fail "t6 not Failed"
expect_eq "t6 reason" "$(getf t6 'o["status"].get("reason","")')" VPCFull
getf t6 'o["status"].get("message","")' | grep -q "no free address in 10.30.0.0/29" \
	&& ok "t6 message names the CIDR" || fail "t6 message: $(getf t6 'o["status"]')"
expect_eq "tiny: 5 leases" "$(leases tiny)" 5
for i in 1 2 3 4 5 6; do delete_wait t$i; done
sleep 2
expect_eq "tiny: no lease, no tap" "$(leases tiny) $(taps_in tiny)" "0 0"
api DELETE $VPCS/tiny >/dev/null; expect_eq "delete tiny" "$CODE" 200

section "create/delete cycles with real VMs"
N=${VPC_CYCLES:-4}
for i in $(seq 1 "$N"); do
	create_running c$i blue "" 'sleep 3600'
	[ "$(taps_in blue) $(leases blue)" = "1 1" ] || fail "cycle $i: tap/lease $(taps_in blue) $(leases blue)"
	delete_wait c$i
done
sleep 2
expect_eq "after $N cycles: no tap, no lease in blue" "$(taps_in blue) $(leases blue)" "0 0"
expect_eq "after $N cycles: no tap in the host namespace" "$(taps_in host)" 0

section "nothing left behind"
daemon_stop
expect_eq "host namespace holds only lo" "$(ip -o link | awk -F': ' '{print $2}' | tr '\n' ' ')" "lo "
expect_eq "VPC namespaces: the configured ones" "$(ls "$NSDIR" | tr '\n' ' ')" "podvm-vpc-blue podvm-vpc-default "
expect_eq "bridges only" "$(vpcns blue ip -o link | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | tr '\n' ' ')" "lo pvbr0 "
expect_eq "no lease anywhere" "$(cat "$DSTATE"/net/*.ipam | grep -c '^lease')" 0
expect_clean "after the VPC test"
finish
