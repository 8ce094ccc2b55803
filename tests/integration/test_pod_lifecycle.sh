#!/bin/bash
# Lifecycle in a real VM: postStart runs inside the container after it
# started; activeDeadlineSeconds stops the pod, running each preStop hook
# before SIGTERM (the hook writes to an emptyDir, the container's TERM
# trap prints it); terminationMessagePath and FallbackToLogsOnError
# become the terminated message.
. "$(dirname "$0")/lib.sh"
set -e

cat >"$TMP/life.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: life
spec:
  restartPolicy: Never
  activeDeadlineSeconds: 6
  terminationGracePeriodSeconds: 5
  volumes:
  - name: shared
    emptyDir: {}
  containers:
  - name: hooked
    image: busybox
    command: ["sh", "-c"]
    args:
    - |
      trap 'echo "got TERM, preStop wrote: $(cat /shared/prestop)"; exit 0' TERM
      while [ ! -f /shared/post ]; do sleep 0.2; done; echo "postStart wrote: $(cat /shared/post)"
      while true; do sleep 0.2; done
    volumeMounts: [{name: shared, mountPath: /shared}]
    lifecycle:
      postStart:
        exec: {command: ["sh", "-c", "echo post-$(hostname) > /shared/post"]}
      preStop:
        exec: {command: ["sh", "-c", "echo stop-hook > /shared/prestop"]}
  - name: message
    image: busybox
    command: ["sh", "-c", "echo -n 'custom message' > /tmp/msg; exit 3"]
    terminationMessagePath: /tmp/msg
  - name: fallback
    image: busybox
    command: ["sh", "-c", "echo one; echo last-line-of-log; exit 4"]
    terminationMessagePolicy: FallbackToLogsOnError
YAML
run_pod "$TMP/life.yaml" --verbose
expect_grep "postStart ran in the container" '^\[pod/life/hooked\] postStart wrote: post-life$' "$TMP/out"
expect_grep "preStop ran before SIGTERM" '^\[pod/life/hooked\] got TERM, preStop wrote: stop-hook$' "$TMP/out"
expect_grep "terminationMessagePath" 'container message terminated: Error, exit code 3: custom message' "$TMP/err"
expect_grep "FallbackToLogsOnError" 'container fallback terminated: Error, exit code 4: one' "$TMP/err"
expect_grep "the fallback message ends with the log's last line" '^last-line-of-log$' "$TMP/err"
expect_clean "after the lifecycle pod"
finish
