#!/bin/bash
# podvm exec through podvmd: output streams, stdin, exit codes, -c, a
# missing command, a missing pod, the container's user; nothing left behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
set -e
trap 'daemon_cleanup; cleanup_lib' EXIT

daemon_prepare
daemon_start
X() { PODVM_SOCKET="$DSOCK" "$PODVM" exec "$@"; }

cat >"$TMP/ex.json" <<'JSON'
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"ex"},"spec":{"restartPolicy":"Never","terminationGracePeriodSeconds":2,
 "containers":[{"name":"main","image":"busybox","command":["sh","-c","sleep 3600"]},
               {"name":"side","image":"busybox","command":["sh","-c","echo side >/tmp/who; sleep 3600"],
                "securityContext":{"runAsUser":1000}}]}}
JSON
api POST /api/v1/namespaces/default/pods "$TMP/ex.json" >/dev/null
expect_eq "create" "$CODE" 201
wait_phase ex Running 240 || fail "not Running"

set +e
X ex -c main -- sh -c 'echo out; echo err >&2; exit 3' >"$TMP/o" 2>"$TMP/e"; rc=$?
set -e
expect_eq "exit code" "$rc" 3
expect_eq "stdout" "$(cat "$TMP/o")" out
expect_eq "stderr" "$(cat "$TMP/e")" err

out=$(echo hello | X -i ex -c main -- cat)
expect_eq "stdin relayed" "$out" hello

set +e
X ex -- true 2>"$TMP/e"; rc=$?
set -e
expect_eq "default container" "$rc" 0
grep -q 'Defaulted container "main"' "$TMP/e" && ok "Defaulted container message" || fail "no Defaulted message: $(cat "$TMP/e")"

out=$(X ex -c side -- cat /tmp/who)
expect_eq "exec into -c side" "$out" side
out=$(X ex -c side -- id -u)
expect_eq "same user as the container" "$out" 1000

set +e
X ex -c main -- /no/such/cmd >"$TMP/o" 2>"$TMP/e"; rc=$?
set -e
[ "$rc" = 126 ] || [ "$rc" = 127 ] && ok "missing command: $rc" || fail "missing command: exit $rc"
[ -s "$TMP/e" ] && ok "error shown: $(head -1 "$TMP/e")" || fail "no error on stderr"

set +e
X nosuchpod -- true 2>"$TMP/e"; rc=$?
set -e
[ "$rc" != 0 ] && grep -q NotFound "$TMP/e" && ok "missing pod: NotFound" || fail "missing pod: rc $rc $(cat "$TMP/e")"

set +e
X ex -c nosuch -- true 2>"$TMP/e"; rc=$?
set -e
[ "$rc" != 0 ] && grep -q 'not valid' "$TMP/e" && ok "bad container refused" || fail "bad container: rc $rc $(cat "$TMP/e")"

# raw API: no Upgrade header -> 400; no command -> 422
api POST "/api/v1/namespaces/default/pods/ex/exec?command=true" >/dev/null
expect_eq "no upgrade header" "$CODE" 400

api DELETE /api/v1/namespaces/default/pods/ex >/dev/null
expect_eq "delete" "$CODE" 200
for _ in $(seq 1 150); do
	api GET /api/v1/namespaces/default/pods/ex >/dev/null
	[ "$CODE" = 404 ] && break
	sleep 0.2
done
daemon_stop
expect_clean "after the exec test"
finish
