#!/bin/bash
# podvmd's HTTP API end to end: starts its own podvmd (own state dir, unix
# socket, HTTPS on 127.0.0.1 with a bearer token, own run dir), then checks
# discovery, create/get/list/delete, error Statuses (404 405 409 422 400
# 413 401 503), a watch stream, logs, real pods through the supervisor,
# and kubectl (create, apply, get, -o wide/json, -w, logs, logs -f, -c,
# delete). SIGTERM stops podvmd with exit 0. Nothing leaves 127.0.0.1.
. "$(dirname "$0")/lib.sh"
# podvmd keeps its embedded libvirt root across restarts: not a leftover
CLEAN_ALLOW=libvirt
PODVMD=${PODVMD:-build/podvmd}
KUBECTL=${KUBECTL:-kubectl}
[ -x "$PODVMD" ] || { echo "FAIL: $PODVMD not built"; exit 1; }

STATE=$TMP/state
SOCK=$TMP/podvmd.sock
mkdir -p "$STATE"
# Share the image cache (samples are imported there by `make sample-image`).
[ -d "$PODVM_STATE_DIR/images" ] && ln -s "$PODVM_STATE_DIR/images" "$STATE/images"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
head -c 32 /dev/urandom | base64 | tr -d '=+/\n' >"$TMP/token"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 1 -subj /CN=podvmd \
	-addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
TOKEN=$(cat "$TMP/token")
BASE=https://127.0.0.1:$PORT
U=http://localhost
NS=/api/v1/namespaces/default/pods

DPID=
stop_daemon() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	DPID=
}
cleanup_api() {
	# delete whatever is left, so no VM outlives the test
	if [ -n "$DPID" ]; then
		for p in $(curl -s --unix-socket "$SOCK" "$U/api/v1/pods" | python3 -c \
			'import json,sys; [print(i["metadata"]["namespace"]+"/"+i["metadata"]["name"]) for i in json.load(sys.stdin).get("items",[])]' 2>/dev/null); do
			curl -s --unix-socket "$SOCK" -X DELETE "$U/api/v1/namespaces/${p%/*}/pods/${p#*/}?gracePeriodSeconds=0" >/dev/null
		done
		sleep 3
	fi
	stop_daemon
	cleanup_lib
}
trap cleanup_api EXIT

start_daemon() {
	"$PODVMD" --state-dir "$STATE" --socket "$SOCK" --listen "127.0.0.1:$PORT" \
		--token-file "$TMP/token" --tls-cert-file "$TMP/cert.pem" \
		--tls-key-file "$TMP/key.pem" --run-dir "$PODVM_RUN_DIR" \
		--max-connections 8 --log-level debug "$@" 2>>"$TMP/podvmd.log" &
	DPID=$!
	for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
}

# req METHOD PATH [curl args...]: body in $TMP/body, code in $CODE (unix socket)
req() {
	local m=$1 p=$2; shift 2
	CODE=$(curl -sS -o "$TMP/body" -w '%{http_code}' --unix-socket "$SOCK" -X "$m" "$@" "$U$p")
}
# treq: the same over HTTPS with the token
treq() {
	local m=$1 p=$2; shift 2
	CODE=$(curl -sS -o "$TMP/body" -w '%{http_code}' --cacert "$TMP/cert.pem" \
		-H "Authorization: Bearer $TOKEN" -X "$m" "$@" "$BASE$p")
}
jget() { python3 -c "import json,sys; d=json.load(open('$TMP/body')); print($1)" 2>/dev/null; }
expect_code() { expect_eq "$1" "$CODE" "$2"; }

# pod_json NAME SCRIPT [extra container JSON]
pod_json() {
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","labels":{"test":"api"}},"spec":{"restartPolicy":"Never","terminationGracePeriodSeconds":2,"containers":[{"name":"main","image":"busybox","command":["sh","-c","%s"]}%s]}}' "$1" "$2" "${3:-}"
}
# wait_phase NAME PHASE...: up to 300 s (TCG boots are slow)
wait_phase() {
	local name=$1 ph; shift
	for _ in $(seq 1 600); do
		req GET "$NS/$name"
		ph=$(jget 'd["status"]["phase"]')
		for want in "$@"; do [ "$ph" = "$want" ] && return 0; done
		sleep 0.5
	done
	echo "    phase of $name: $ph"
	return 1
}
wait_gone() {
	for _ in $(seq 1 200); do
		req GET "$NS/$1"; [ "$CODE" = 404 ] && return 0; sleep 0.3
	done
	return 1
}

# ---- refuses an unsafe listener
set +e
"$PODVMD" --state-dir "$TMP/st2" --socket "$TMP/x.sock" --listen 0.0.0.0:1 \
	--run-dir "$PODVM_RUN_DIR" 2>"$TMP/refuse.log"
RC=$?
set -e
[ "$RC" -ne 0 ] && ok "non-loopback --listen without --token-file refused" ||
	fail "non-loopback listener started without a token"
set +e

start_daemon
[ -S "$SOCK" ] && ok "unix socket created" || { fail "no socket"; sed 's/^/    | /' "$TMP/podvmd.log"; finish; }
expect_eq "socket mode 0660" "$(stat -c %a "$SOCK")" 660

# ---- discovery and health
req GET /api; expect_code "GET /api" 200; expect_eq "APIVersions" "$(jget 'd["kind"]+":"+d["versions"][0]')" "APIVersions:v1"
req GET /api/v1; expect_eq "pods resource" "$(jget '[r["name"] for r in d["resources"]]')" "['pods', 'pods/log']"
req GET /apis; expect_eq "APIGroupList" "$(jget 'd["kind"]')" APIGroupList
req GET /version; expect_eq "version" "$(jget 'd["gitVersion"]')" v1.32.0-podvm
for h in healthz readyz livez; do req GET /$h; expect_eq "/$h" "$CODE $(cat "$TMP/body")" "200 ok"; done
req GET /openapi/v2; expect_code "openapi 404" 404

# ---- errors
req GET /no/such/path; expect_code "unknown path 404" 404; expect_eq "404 Status" "$(jget 'd["kind"]+":"+d["reason"]')" Status:NotFound
req PUT /api/v1; expect_code "wrong method 405" 405; expect_eq "405 reason" "$(jget 'd["reason"]')" MethodNotAllowed
req GET "$NS/nothere"; expect_code "missing pod 404" 404
req POST "$NS" -H 'Content-Type: application/json' -d '{"apiVersion":"v1",'; expect_code "malformed JSON 400" 400
req POST "$NS" -H 'Content-Type: application/json' -d '{"apiVersion":"v1"} junk'; expect_code "trailing garbage 400" 400
req POST "$NS" -H 'Content-Type: application/json' -d "$(pod_json bad 'true' | sed 's/"image":"busybox"/"image":"busybox","bogus":1/')"
expect_code "unknown field 422" 422
expect_eq "422 field path" "$(jget 'd["details"]["causes"][0]["field"]')" "spec.containers[0].bogus"
# What Fargate refuses is refused with 422 and the field path, before any VM
req POST "$NS" -H 'Content-Type: application/json' -d "$(pod_json priv 'true' | sed 's/"image":"busybox"/"image":"busybox","securityContext":{"privileged":true}/')"
expect_code "privileged 422" 422
expect_eq "privileged field path" "$(jget 'd["details"]["causes"][0]["field"]+" "+d["details"]["causes"][0]["reason"]')" "spec.containers[0].securityContext.privileged FieldValueForbidden"
req POST "$NS" -H 'Content-Type: application/json' -d "$(pod_json hnet 'true' | sed 's/"spec":{/"spec":{"hostNetwork":true,/')"
expect_code "hostNetwork 422" 422
expect_eq "hostNetwork field path" "$(jget 'd["details"]["causes"][0]["field"]')" "spec.hostNetwork"
head -c 2000000 /dev/zero | tr '\0' ' ' >"$TMP/big"
req POST "$NS" -H 'Content-Type: application/json' --data-binary @"$TMP/big"; expect_code "oversize body 413" 413
req POST "$NS" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/big"
expect_code "oversize chunked body 413" 413
req POST "$NS" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' -H 'Content-Length: 10' -d '{}'
expect_code "Content-Length + Transfer-Encoding 400" 400
CODE=$(curl -sS -o "$TMP/body" -w '%{http_code}' --cacert "$TMP/cert.pem" "$BASE/api/v1/pods")
expect_code "TCP without token 401" 401; expect_eq "401 reason" "$(jget 'd["reason"]')" Unauthorized
CODE=$(curl -sS -o "$TMP/body" -w '%{http_code}' --cacert "$TMP/cert.pem" -H "Authorization: Bearer ${TOKEN}x" "$BASE/api/v1/pods")
expect_code "TCP with wrong token 401" 401
treq GET /api/v1/pods; expect_code "TCP with token 200" 200

# ---- watch + create + get + list + logs + delete through the real supervisor
curl -sSN --unix-socket "$SOCK" "$U$NS?watch=true&labelSelector=test%3Dapi&timeoutSeconds=400" >"$TMP/watch" 2>&1 &
WPID=$!
sleep 0.5
req POST "$NS" -H 'Content-Type: application/json' -d "$(pod_json hello 'for i in 1 2 3; do echo line $i; sleep 1; done')"
expect_code "create 201" 201
expect_eq "created Pending" "$(jget 'd["status"]["phase"]')" Pending
req POST "$NS" -H 'Content-Type: application/json' -d "$(pod_json hello 'true')"; expect_code "duplicate 409" 409
expect_eq "409 reason" "$(jget 'd["reason"]')" AlreadyExists
req GET "$NS/hello"; expect_code "get 200" 200
req GET "$NS"; expect_eq "list has hello" "$(jget '[i["metadata"]["name"] for i in d["items"]]')" "['hello']"
req GET "/api/v1/pods?labelSelector=test%3Dnone"; expect_eq "label selector filters" "$(jget 'len(d["items"])')" 0
# follow the log while the pod runs
timeout 400 curl -sSN --unix-socket "$SOCK" "$U$NS/hello/log?follow=true" >"$TMP/follow" 2>&1 &
FPID=$!
if wait_phase hello Succeeded Failed; then ok "pod finished"; else fail "pod did not finish"; fi
expect_eq "pod Succeeded" "$(jget 'd["status"]["phase"]')" Succeeded
wait $FPID
expect_eq "log follow ends at container exit with all lines" "$(tr '\n' ' ' <"$TMP/follow")" "line 1 line 2 line 3 "
req GET "$NS/hello/log"; expect_eq "log" "$(tr '\n' ' ' <"$TMP/body")" "line 1 line 2 line 3 "
req GET "$NS/hello/log?tailLines=1&timestamps=true"
expect_grep "tailLines + timestamps" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z line 3$' "$TMP/body"
req GET "$NS/hello/log?container=nope"; expect_code "log of unknown container 400" 400
req DELETE "$NS/hello" -H 'Content-Type: application/json' -d '{"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0,"propagationPolicy":"Background"}'
expect_code "delete 200" 200
wait_gone hello && ok "deleted pod disappears" || fail "pod still there after delete"
sleep 1
kill $WPID 2>/dev/null; wait $WPID 2>/dev/null
for t in ADDED MODIFIED DELETED; do expect_grep "watch saw $t" "\"type\":\"$t\"" "$TMP/watch"; done
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]' "$TMP/watch" &&
	ok "watch lines are JSON" || fail "watch stream is not line-delimited JSON"
req GET "$NS?watch=true&resourceVersion=1&timeoutSeconds=1"
[ "$CODE" = 200 ] || [ "$CODE" = 410 ] && ok "watch from an old resourceVersion answers ($CODE)" || fail "watch rv=1: $CODE"

# ---- kubectl over HTTPS (kubectl sends tokens only over TLS)
cat >"$TMP/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: podvm
  cluster: {server: "$BASE", certificate-authority: "$TMP/cert.pem"}
users:
- name: podvm
  user: {token: "$TOKEN"}
contexts:
- name: podvm
  context: {cluster: podvm, user: podvm, namespace: default}
current-context: podvm
KC
K() { timeout 400 "$KUBECTL" --kubeconfig "$TMP/kubeconfig" --cache-dir "$TMP/kcache" "$@"; }
cat >"$TMP/kpod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: kpod
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "for i in 1 2 3 4; do echo main $i; sleep 1; done"]
  - name: side
    image: busybox
    command: ["sh", "-c", "echo side says hi"]
YAML
sed 's/name: kpod/name: kapply/' "$TMP/kpod.yaml" >"$TMP/kapply.yaml"
K get pods -w >"$TMP/kwatch" 2>&1 &
KWPID=$!
K create -f "$TMP/kpod.yaml" --validate=false >"$TMP/out" 2>&1; expect_grep "kubectl create" '^pod/kpod created$' "$TMP/out"
K apply -f "$TMP/kapply.yaml" --validate=false >"$TMP/out" 2>&1; expect_grep "kubectl apply (create)" '^pod/kapply created$' "$TMP/out"
K get pods >"$TMP/out" 2>&1; expect_grep "kubectl get pods columns" '^NAME +READY +STATUS +RESTARTS +AGE$' "$TMP/out"
expect_grep "kubectl get pods row" '^kpod +[0-9]/2 +[A-Za-z]+ +0 +[0-9]+s$' "$TMP/out"
K get pods -o wide >"$TMP/out" 2>&1; expect_grep "kubectl -o wide columns" '^NAME +READY +STATUS +RESTARTS +AGE +IP +NODE +NOMINATED NODE +READINESS GATES$' "$TMP/out"
K get pods -o json >"$TMP/out" 2>&1
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["kind"]=="List" or d["kind"]=="PodList"; assert len(d["items"])==2' "$TMP/out" &&
	ok "kubectl -o json" || fail "kubectl -o json: $(head -c 300 "$TMP/out")"
K get pods -A >"$TMP/out" 2>&1; expect_grep "kubectl get pods -A" '^NAMESPACE +NAME ' "$TMP/out"
K logs -f kpod -c main >"$TMP/out" 2>&1; expect_eq "kubectl logs -f" "$(tr '\n' ' ' <"$TMP/out")" "main 1 main 2 main 3 main 4 "
K logs kpod -c side >"$TMP/out" 2>&1; expect_eq "kubectl logs -c" "$(cat "$TMP/out")" "side says hi"
K logs kpod >"$TMP/out" 2>&1; expect_grep "kubectl logs (default container)" '^main 4$' "$TMP/out"
wait_phase kpod Succeeded Failed >/dev/null
K get pod kpod >"$TMP/out" 2>&1; expect_grep "kubectl shows Completed" '^kpod +0/2 +Completed +0 ' "$TMP/out"
K delete pod kpod >"$TMP/out" 2>&1; expect_grep "kubectl delete (waits for the watch)" '^pod "kpod" deleted$' "$TMP/out"
K delete pod kapply --grace-period=0 --force >"$TMP/out" 2>&1; expect_grep "kubectl delete --force" 'deleted' "$TMP/out"
K get pod kpod >"$TMP/out" 2>&1; expect_grep "kubectl get deleted pod" 'NotFound' "$TMP/out"
sleep 1
kill $KWPID 2>/dev/null; wait $KWPID 2>/dev/null
expect_grep "kubectl get -w printed the pod" '^kpod +' "$TMP/kwatch"
expect_grep "kubectl get -w saw it running or done" '^kpod +[0-9]/2 +(Running|Completed)' "$TMP/kwatch"

# ---- connection limit: 8 idle connections held, the next one gets 503
python3 - "$SOCK" <<'PY' &
import socket, sys, time
ss = []
for _ in range(9):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); ss.append(s)
time.sleep(3)
PY
HPID=$!
sleep 1
req GET /healthz; expect_code "over --max-connections 503" 503
expect_eq "503 reason" "$(jget 'd["reason"]')" ServiceUnavailable
wait $HPID
sleep 0.5
req GET /healthz; expect_code "below the limit again" 200

# ---- SIGTERM: exit 0, socket removed
kill -TERM "$DPID"; wait "$DPID"; RC=$?; DPID=
expect_eq "podvmd exits 0 on SIGTERM" "$RC" 0
[ -e "$SOCK" ] && fail "socket left behind" || ok "socket removed"
expect_grep "logs are JSON lines" '^\{"ts":"[0-9T:.-]+Z","level":"(debug|info)","msg":' "$TMP/podvmd.log"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]' "$TMP/podvmd.log" &&
	ok "every log line parses" || fail "a log line is not JSON"
expect_clean "after the API test"
finish
