#!/bin/bash
# Restart policy with Kubernetes' back-off: restartPolicy OnFailure, a
# container that exits 1 twice then 0 is started three times, 10 s and
# then 20 s apart (back-off 10 s doubling); a container whose liveness
# probe fails is killed (SIGTERM, then SIGKILL at the grace period) and
# restarted. Runs are counted in an emptyDir, which outlives restarts
# while each run gets a fresh root filesystem.
. "$(dirname "$0")/lib.sh"
set -e

cat >"$TMP/restart.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: restarts
spec:
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 1
  volumes:
  - name: state
    emptyDir: {}
  containers:
  - name: flaky
    image: busybox
    command: ["sh", "-c"]
    args:
    - |
      [ -e /fresh ] && echo "rootfs-kept"; touch /fresh
      n=$(cat /s/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /s/n
      echo "run=$n t=$(date +%s)"; [ $n -ge 3 ]
    volumeMounts: [{name: state, mountPath: /s}]
  - name: unhealthy
    image: busybox
    command: ["sh", "-c"]
    args:
    - |
      n=$(cat /s/l 2>/dev/null || echo 0); n=$((n+1)); echo $n > /s/l
      echo "live-run=$n"; [ $n -ge 2 ] && exit 0
      rm -f /tmp/ok; sleep 600
    livenessProbe:
      exec: {command: ["cat", "/tmp/ok"]}
      periodSeconds: 1
      failureThreshold: 2
    volumeMounts: [{name: state, mountPath: /s}]
YAML
run_pod "$TMP/restart.yaml" --verbose
expect_grep "first run" '^\[pod/restarts/flaky\] run=1 ' "$TMP/out"
expect_grep "restarted after a failure" '^\[pod/restarts/flaky\] run=2 ' "$TMP/out"
expect_grep "restarted again" '^\[pod/restarts/flaky\] run=3 ' "$TMP/out"
expect_no_grep "no fourth run after success" 'run=4' "$TMP/out"
expect_no_grep "each run gets a fresh root filesystem" 'rootfs-kept' "$TMP/out"
t1=$(sed -n 's/^\[pod\/restarts\/flaky\] run=1 t=\([0-9]*\)$/\1/p' "$TMP/out")
t2=$(sed -n 's/^\[pod\/restarts\/flaky\] run=2 t=\([0-9]*\)$/\1/p' "$TMP/out")
t3=$(sed -n 's/^\[pod\/restarts\/flaky\] run=3 t=\([0-9]*\)$/\1/p' "$TMP/out")
if [ -n "$t1" ] && [ -n "$t2" ] && [ $((t2 - t1)) -ge 10 ]; then ok "second start waited >= 10 s ($((t2 - t1)) s)"; else fail "second start after ${t1:-?}..${t2:-?}"; fi
if [ -n "$t2" ] && [ -n "$t3" ] && [ $((t3 - t2)) -ge 20 ]; then ok "third start waited >= 20 s ($((t3 - t2)) s)"; else fail "third start after ${t2:-?}..${t3:-?}"; fi
expect_grep "first termination is reported" 'container flaky terminated: Error, exit code 1' "$TMP/err"
expect_grep "liveness failure kills the container" 'container unhealthy terminated: Error, exit code 137' "$TMP/err"
expect_grep "and it is restarted" '^\[pod/restarts/unhealthy\] live-run=2$' "$TMP/out"
expect_clean "after the restarting pod"
finish
