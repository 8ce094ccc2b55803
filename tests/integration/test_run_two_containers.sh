#!/bin/bash
# A two-container pod in a real microVM: both outputs (prefixed), env,
# workingDir, the exit code of the failing container, stderr, and nothing
# left behind afterwards.
. "$(dirname "$0")/lib.sh"
set -e

cat >"$TMP/pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: two
spec:
  restartPolicy: Never
  containers:
  - name: first
    image: busybox
    command: ["sh", "-c"]
    args:
    - 'echo "greeting=$GREETING"; echo "cwd=$(pwd)"; echo "host=$(hostname)"; echo to-stderr >&2; printf "no newline"'
    env:
    - name: GREETING
      value: "hello world"
    workingDir: /tmp
  - name: second
    image: busybox
    command: ["sh", "-c", "echo second says hi; sleep 1; exit 3"]
YAML

run_pod "$TMP/pod.yaml" --verbose
expect_eq "exit code is the failing container's" "$RC" 3
expect_grep "env reaches the container" '^\[pod/two/first\] greeting=hello world$' "$TMP/out"
expect_grep "workingDir applies" '^\[pod/two/first\] cwd=/tmp$' "$TMP/out"
expect_grep "hostname is the pod name" '^\[pod/two/first\] host=two$' "$TMP/out"
expect_grep "partial last line is printed" '^\[pod/two/first\] no newline$' "$TMP/out"
expect_grep "stderr is streamed to stderr" '^\[pod/two/first\] to-stderr$' "$TMP/err"
expect_grep "second container output" '^\[pod/two/second\] second says hi$' "$TMP/out"
expect_grep "failure is reported" 'container second terminated: Error, exit code 3' "$TMP/err"
for s in "image ready" "VM started" "agent ready" "containers started" "pod done"; do
	expect_grep "--verbose prints stage '$s'" "podvm: $s +[0-9.]+s" "$TMP/err"
done
expect_clean "after a pod that ran"

# Image config rules: args replace Cmd but keep Entrypoint; image env and
# WorkingDir apply; command replaces Entrypoint and drops Cmd.
cat >"$TMP/rules.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: rules
spec:
  restartPolicy: Never
  containers:
  - name: defaults
    image: podvm.io/test/entrypoint
  - name: args
    image: podvm.io/test/entrypoint
    args: ["from-args"]
  - name: command
    image: podvm.io/test/entrypoint:latest
    command: ["sh", "-c", "echo \"cwd=$(pwd) var=$IMAGE_VAR\""]
YAML
run_pod "$TMP/rules.yaml"
expect_eq "all rule containers succeed" "$RC" 0
expect_grep "Entrypoint + Cmd" '^\[pod/rules/defaults\] entrypoint cmd-default$' "$TMP/out"
expect_grep "args replace Cmd" '^\[pod/rules/args\] entrypoint from-args$' "$TMP/out"
expect_grep "command replaces Entrypoint; image WorkingDir and Env apply" '^\[pod/rules/command\] cwd=/tmp var=from-image$' "$TMP/out"
expect_clean "after the rules pod"
finish
