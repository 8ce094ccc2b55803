#!/bin/bash
# podvmd and registries: imagePullPolicy (kubelet's defaults), a missing
# tag leaves the pod Pending with ErrImagePull then ImagePullBackOff (never
# Failed) until it is pushed, imagePullSecrets (kubernetes.io/
# dockerconfigjson) for a private registry, Never, imageID = the repo
# digest, pull events in podvmd's log, delete during back-off, and image GC
# that never removes an image a pod uses. Own netns, store and run dir.
. "$(dirname "$0")/../registry/registry_lib.sh"
reg_netns "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
trap 'set +e; daemon_cleanup; reg_stop_all; cleanup_lib' EXIT
export PODVM_STATE_DIR=$DSTATE
set -e

reg_images
reg_start plain 5000
reg_start basic 5002 basic
reg_push busybox 5000 test/unused:1 --format v2s2
REG_PUSH_AUTH=1 reg_push glibc 5002 test/private:1 --format oci
daemon_prepare
# an image no pod uses: GC (thresholds 1 % -> 0 %: always) removes it
"$PODVM" image pull -q 127.0.0.1:5000/test/unused:1 >/dev/null
mkdir -p "$TMP/secrets/default"
python3 - "$TMP/secrets/default/regcred.json" "$REG_USER" "$REG_PASS" <<'PY'
import base64, json, sys
path, user, pw = sys.argv[1:4]
cfg = {"auths": {"127.0.0.1:5002": {"auth": base64.b64encode(f"{user}:{pw}".encode()).decode()}}}
json.dump({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "regcred"},
           "type": "kubernetes.io/dockerconfigjson",
           "data": {".dockerconfigjson": base64.b64encode(json.dumps(cfg).encode()).decode()}},
          open(path, "w"))
PY
daemon_start --secrets-dir "$TMP/secrets" --image-gc-high-threshold 1 --image-gc-low-threshold 0

podspec() {  # podspec NAME IMAGE [EXTRA-SPEC-JSON] [EXTRA-CONTAINER-JSON]
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},"spec":{"restartPolicy":"Never","terminationGracePeriodSeconds":2%s,"containers":[{"name":"main","image":"%s"%s}]}}' \
		"$1" "${3:-}" "$2" "${4:-}"
}
ctr() {  # ctr NAME EXPR over the first containerStatus `c`
	api GET "/api/v1/namespaces/default/pods/$1" |
		jget "(lambda c: $2)(o['status']['containerStatuses'][0])" 2>/dev/null
}
wait_reason() {  # wait_reason NAME REASON TIMEOUT; its message in $WMSG
	local got=
	for _ in $(seq 1 $(($3 * 5))); do
		got=$(ctr "$1" 'c["state"].get("waiting",{}).get("reason","") + "|" + c["state"].get("waiting",{}).get("message","")')
		WMSG=${got#*|}
		got=${got%%|*}
		[ "$got" = "$2" ] && return 0
		sleep 0.2
	done
	echo "pod $1: waiting reason '$got', want '$2'"
	return 1
}

# --- a tag that is not there yet: Pending, ErrImagePull, ImagePullBackOff --
podspec late 127.0.0.1:5000/test/late:1 "" ',"args":["late"]' >"$TMP/late.json"
api POST /api/v1/namespaces/default/pods "$TMP/late.json" >/dev/null
expect_eq "create late" "$CODE" 201
wait_reason late ErrImagePull 60 && ok "missing tag: ErrImagePull" || fail "no ErrImagePull"
expect_grep "ErrImagePull message names image and cause" 'test/late:1.*not found' <(echo "$WMSG")
wait_reason late ImagePullBackOff 30 && ok "then ImagePullBackOff" || fail "no ImagePullBackOff"
expect_eq "still Pending, not Failed" \
	"$(api GET /api/v1/namespaces/default/pods/late | jget 'o["status"]["phase"]')" Pending
# Pushed while the pod waits: the next retry (10 s back-off) takes it.
reg_push glibc 5000 test/late:1 --format v2s2
wait_phase late Succeeded 180 && ok "the pushed tag was picked up" || fail "late pod did not run"
want=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' docker://127.0.0.1:5000/test/late:1)
expect_eq "imageID is the repo digest" "$(ctr late 'c["imageID"]')" "127.0.0.1:5000/test/late@$want"
api GET '/api/v1/namespaces/default/pods/late/log' >"$TMP/late.log"
expect_grep "late pod's glibc program ran" 'hello from a glibc thread \(late\)' "$TMP/late.log"

# --- imagePullSecrets --------------------------------------------------------
podspec private 127.0.0.1:5002/test/private:1 ',"imagePullSecrets":[{"name":"missing"},{"name":"regcred"}]' \
	',"args":["secret"]' >"$TMP/private.json"
api POST /api/v1/namespaces/default/pods "$TMP/private.json" >/dev/null
wait_phase private Succeeded 180 && ok "imagePullSecrets: private image pulled and run" ||
	fail "private pod did not run"
expect_grep "a missing Secret is a warning, not a failure" '"event":"FailedToRetrieveImagePullSecret".*default/missing' "$DLOG"
expect_no_grep "the password never reaches the log" "$REG_PASS" "$DLOG"

# --- Never ---------------------------------------------------------------------
podspec never 127.0.0.1:5000/test/absent:1 "" ',"imagePullPolicy":"Never"' >"$TMP/never.json"
api POST /api/v1/namespaces/default/pods "$TMP/never.json" >/dev/null
wait_reason never ErrImageNeverPull 60 && ok "Never + missing: ErrImageNeverPull" || fail "no ErrImageNeverPull"
expect_no_grep "Never: no pull attempted" '"event":"Pulling".*test/absent' "$DLOG"
start=$(date +%s)
api DELETE /api/v1/namespaces/default/pods/never >/dev/null
for _ in $(seq 1 50); do
	api GET /api/v1/namespaces/default/pods/never >/dev/null
	[ "$CODE" = 404 ] && break
	sleep 0.2
done
expect_eq "delete during back-off: gone" "$CODE" 404
[ $(( $(date +%s) - start )) -lt 10 ] && ok "delete ended the back-off at once" || fail "delete took long"

# --- events and GC ----------------------------------------------------------------
for ev in Pulling Pulled Failed BackOff; do
	expect_grep "event $ev logged" "\"event\":\"$ev\"" "$DLOG"
done
expect_grep "Pulled event has size and duration" '"event":"Pulled".*Successfully pulled image .* in [0-9.]+s\. Image size: [0-9]+ bytes' "$DLOG"
"$PODVM" image ls -q >"$TMP/images"
expect_no_grep "GC removed the unused image" 'test/unused:1' "$TMP/images"
expect_grep "GC kept the late pod's image" 'test/late:1' "$TMP/images"
expect_grep "GC kept the private pod's image" 'test/private:1' "$TMP/images"
expect_grep "GC logged" '"msg":"image GC"' "$DLOG"
for p in late private; do api DELETE "/api/v1/namespaces/default/pods/$p" >/dev/null; done
daemon_stop
expect_clean "after podvmd"
finish
