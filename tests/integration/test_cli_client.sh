#!/bin/bash
# podvm as a client of podvmd: apply / get / describe / logs / delete
# against a podvmd this test starts on its own socket, state and run dirs
# (under /tmp), and stops at the end.
#
# PODVM_CLI_TEST_SOCKET=PATH runs the same checks against a podvmd that is
# already running there (the test then starts and stops nothing).
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
set -e

PODVMD=${PODVMD:-build/podvmd}
SOCK=${PODVM_CLI_TEST_SOCKET:-}
DPID=""

stop_daemon() {
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$DPID" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$DPID" 2>/dev/null || true
		wait "$DPID" 2>/dev/null || true
	fi
	DPID=""
}
trap 'stop_daemon; cleanup_lib' EXIT

if [ -z "$SOCK" ]; then
	if [ ! -x "$PODVMD" ]; then
		echo "SKIP: $PODVMD not built yet (the podvm client needs podvmd)"
		exit 0
	fi
	SOCK=$TMP/podvmd.sock
	mkdir -p "$TMP/state" "$PODVM_RUN_DIR"
	# Pods need the images `make sample-image` put in the shared store.
	if [ -d "$PODVM_STATE_DIR/images" ]; then
		ln -s "$PODVM_STATE_DIR/images" "$TMP/state/images"
	fi
	"$PODVMD" --state-dir "$TMP/state" --run-dir "$PODVM_RUN_DIR" \
		--socket "$SOCK" >"$TMP/podvmd.log" 2>&1 &
	DPID=$!
	for _ in $(seq 1 100); do
		[ -S "$SOCK" ] && break
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	if [ ! -S "$SOCK" ]; then
		fail "podvmd did not create $SOCK"
		sed 's/^/    | /' "$TMP/podvmd.log"
		finish
	fi
fi
export PODVM_SOCKET=$SOCK
unset PODVM_SERVER PODVM_TOKEN_FILE

# pv ARGS...: podvm, output in $TMP/out and $TMP/err, status in $RC
pv() {
	set +e
	timeout 120 "$PODVM" "$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	set -e
}

# A unique pod so a shared daemon is not confused by earlier runs.
NAME=cli-$$
sed "s/^  name: hello$/  name: $NAME/" images/samples/hello.yaml >"$TMP/pod.yaml"
sed 's/Hello from podvm/Changed/' "$TMP/pod.yaml" >"$TMP/pod2.yaml"

# --- connection errors
set +e
PODVM_SOCKET=$TMP/nothing "$PODVM" get pods >"$TMP/out" 2>"$TMP/err"
RC=$?
set -e
expect_eq "no daemon: exit 1" "$RC" 1
expect_grep "no daemon: message" "^podvm: cannot connect to podvmd at $TMP/nothing: .*\(is podvmd running\?\)$" "$TMP/err"

# --- apply
pv get pods -l "podvm-test=$NAME"
expect_eq "get on empty: exit 0" "$RC" 0
expect_grep "get on empty: message" "^No resources found in default namespace\.$" "$TMP/err"

pv apply -f "$TMP/pod.yaml"
expect_eq "apply: exit 0" "$RC" 0
expect_grep "apply: created" "^pod/$NAME created$" "$TMP/out"
pv apply -f "$TMP/pod.yaml"
expect_eq "apply again: exit 0" "$RC" 0
expect_grep "apply again: unchanged" "^pod/$NAME unchanged$" "$TMP/out"
pv apply -f "$TMP/pod2.yaml"
expect_eq "apply changed spec: exit 1" "$RC" 1
expect_grep "apply changed spec: says delete first" "cannot be updated, delete it first" "$TMP/err"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s-bad}\nspec:\n  containers: [{name: c}]\n' "$NAME" >"$TMP/bad.yaml"
pv apply -f "$TMP/bad.yaml"
expect_eq "apply invalid: exit 1" "$RC" 1
expect_grep "apply invalid: Kubernetes-style message" "is invalid" "$TMP/err"

# --- get
pv get pods
expect_eq "get: exit 0" "$RC" 0
expect_grep "get: header" "^NAME +READY +STATUS +RESTARTS +AGE$" "$TMP/out"
expect_grep "get: row" "^$NAME +[0-9]+/2 +[A-Za-z:0-9]+ +[0-9]+ +[0-9]+[smhdy]" "$TMP/out"
pv get pods -o wide
expect_grep "get -o wide: header" "^NAME +READY +STATUS +RESTARTS +AGE +IP +NODE$" "$TMP/out"
pv get pods -A
expect_grep "get -A: namespace column" "^default +$NAME " "$TMP/out"
pv get pod "$NAME" -o json
expect_eq "get -o json: exit 0" "$RC" 0
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["metadata"]["name"]==sys.argv[2]' "$TMP/out" "$NAME"; then
	ok "get -o json: the pod as JSON"
else
	fail "get -o json: not the pod"
fi
pv get pod "$NAME" -o yaml
expect_grep "get -o yaml" "^  name: $NAME$" "$TMP/out"
pv get pods -o name -l app=hello
expect_grep "get -o name -l" "^pod/$NAME$" "$TMP/out"
pv get pod "$NAME-nope"
expect_eq "get missing: exit 1" "$RC" 1
expect_grep "get missing: NotFound" "^Error from server \(NotFound\): " "$TMP/err"

# Wait for the pod to finish (it runs two short containers).
status=""
for _ in $(seq 1 300); do
	pv get pod "$NAME" --no-headers
	status=$(awk '{print $3}' "$TMP/out")
	case $status in Completed|Error|Failed|Succeeded|StartError|*Err*) break ;; esac
	sleep 1
done
expect_eq "pod completes: STATUS column" "$status" "Completed"

# --- describe
pv describe pod "$NAME"
expect_eq "describe: exit 0" "$RC" 0
expect_grep "describe: name" "^Name: +$NAME$" "$TMP/out"
expect_grep "describe: labels" "^Labels: +app=hello$" "$TMP/out"
expect_grep "describe: containers" "^  counter:$" "$TMP/out"
expect_grep "describe: image" "^    Image: +busybox$" "$TMP/out"
expect_grep "describe: state" "^    State: +Terminated$" "$TMP/out"
expect_grep "describe: exit code" "^      Exit Code: +0$" "$TMP/out"
expect_grep "describe: conditions" "^  Type +Status$" "$TMP/out"

# --- logs
pv logs -c hello "$NAME"
expect_eq "logs: exit 0" "$RC" 0
expect_grep "logs: output" "^Hello from podvm: " "$TMP/out"
pv logs "$NAME"
expect_grep "logs: default container noted" "^Defaulted container \"hello\" out of: hello, counter$" "$TMP/err"
pv logs -c counter --tail 1 "$NAME"
expect_eq "logs --tail 1" "$(cat "$TMP/out")" "counter: done"
pv logs -f -c counter --timestamps "$NAME"
expect_eq "logs -f on a finished container: exit 0" "$RC" 0
expect_grep "logs --timestamps" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z counter: 1$" "$TMP/out"
pv logs -c nope "$NAME"
expect_eq "logs unknown container: exit 1" "$RC" 1
expect_grep "logs unknown container: error" "^Error from server" "$TMP/err"

# --- watch + delete
set +e
timeout 60 "$PODVM" get pods -w >"$TMP/watch" 2>&1 &
WPID=$!
set -e
sleep 1
pv delete pod "$NAME"
expect_eq "delete: exit 0" "$RC" 0
expect_grep "delete: message" "^pod \"$NAME\" deleted$" "$TMP/out"
pv get pod "$NAME"
expect_eq "deleted pod is gone (delete waited)" "$RC" 1
sleep 1
kill -INT "$WPID" 2>/dev/null || true
set +e
wait "$WPID"
WRC=$?
set -e
expect_eq "get -w ends on Ctrl-C with 130" "$WRC" 130
expect_grep "get -w: listed row" "^$NAME +" "$TMP/watch"
if [ "$(grep -c "^$NAME " "$TMP/watch")" -ge 2 ]; then
	ok "get -w: rows for the events"
else
	fail "get -w: no event rows:"; sed 's/^/    | /' "$TMP/watch"
fi
pv delete "$NAME"
expect_eq "delete missing: exit 1" "$RC" 1
expect_grep "delete missing: NotFound" "^Error from server \(NotFound\): " "$TMP/err"

# delete --wait=false returns at once
pv apply -f "$TMP/pod.yaml"
pv delete "pod/$NAME" --wait=false --grace-period 0
expect_eq "delete --wait=false: exit 0" "$RC" 0
expect_grep "delete --wait=false: message" "^pod \"$NAME\" deleted$" "$TMP/out"
for _ in $(seq 1 120); do
	pv get pod "$NAME"
	[ "$RC" -ne 0 ] && break
	sleep 1
done
expect_eq "pod gone after delete --wait=false" "$RC" 1

stop_daemon
finish
