#!/bin/bash
# Kill a pod's QEMU process: the pod becomes Failed with a reason within
# seconds and its resources are released.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
set -e
trap 'daemon_cleanup; cleanup_lib' EXIT

daemon_prepare
daemon_start
pod_json victim 'while true; do echo alive; sleep 1; done' >"$TMP/v.json"
api POST /api/v1/namespaces/default/pods "$TMP/v.json" >/dev/null
expect_eq "create" "$CODE" 201
wait_phase victim Running 240 || fail "not Running"
uid=$(api GET /api/v1/namespaces/default/pods/victim | jget 'o["metadata"]["uid"]')
qpid=$(pgrep -f "guest=podvm-$uid" | head -1)
kill -9 "$qpid"
t0=$(date +%s)
wait_phase victim Failed 30 && ok "Failed after $(( $(date +%s) - t0 ))s" || fail "pod not Failed after QEMU was killed"
reason=$(api GET /api/v1/namespaces/default/pods/victim | jget 'o["status"].get("reason","")')
[ -n "$reason" ] && ok "status.reason: $reason" || fail "no status.reason"
short=${uid:0:12}
for _ in $(seq 1 50); do [ -e "$PODVM_RUN_DIR/$short" ] || break; sleep 0.1; done
[ -e "$PODVM_RUN_DIR/$short" ] && fail "run dir $PODVM_RUN_DIR/$short not released" || ok "run dir released"
api DELETE /api/v1/namespaces/default/pods/victim >/dev/null
expect_eq "delete" "$CODE" 200
daemon_stop
expect_clean "after the fault test"
finish
