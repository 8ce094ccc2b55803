#!/bin/bash
# Ctrl-C / SIGTERM stops the pod gracefully: SIGTERM to the containers, then
# SIGKILL after terminationGracePeriodSeconds; nothing is left behind.
. "$(dirname "$0")/lib.sh"
set -e

cat >"$TMP/stop.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: stopper
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 3
  containers:
  - name: polite
    image: busybox
    command: ["sh", "-c", "trap 'echo got SIGTERM; exit 0' TERM; echo ready; while true; do sleep 0.2; done"]
  - name: stubborn
    image: busybox
    command: ["sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.2; done"]
YAML

# --foreground: otherwise timeout also sends our SIGINT to its process group,
# so podvm gets it twice, and a second Ctrl-C means "kill now"
timeout --foreground 600 "$PODVM" run "$TMP/stop.yaml" >"$TMP/out" 2>"$TMP/err" &
pid=$!
# wait for both containers to say ready
for _ in $(seq 1 600); do
	[ "$(grep -c '] ready$' "$TMP/out" 2>/dev/null)" -ge 2 ] && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.2
done
expect_eq "both containers running" "$(grep -c '] ready$' "$TMP/out")" 2
t0=$(date +%s)
kill -INT $pid
set +e; wait $pid; RC=$?; set -e
t1=$(date +%s)
expect_grep "polite container got SIGTERM" '^\[pod/stopper/polite\] got SIGTERM$' "$TMP/out"
expect_eq "exit code is SIGKILL's (stubborn container)" "$RC" 137
if [ $((t1 - t0)) -ge 3 ]; then ok "waited the grace period ($((t1 - t0))s)"; else fail "stopped after $((t1 - t0))s, before the grace period"; fi
expect_clean "after a stopped pod"
finish
