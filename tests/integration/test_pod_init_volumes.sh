#!/bin/bash
# Init containers run one by one, in order, before the regular containers,
# which share an emptyDir with them and with each other (subPath,
# readOnly; a Memory emptyDir with sizeLimit over /dev/shm); /etc/hosts,
# /etc/hostname and resolv.conf come from init. A failing init container
# with restartPolicy Never fails the pod: the containers behind it never
# start.
. "$(dirname "$0")/lib.sh"
set -e

cat >"$TMP/init.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: initvol
spec:
  restartPolicy: Never
  volumes:
  - name: shared
    emptyDir: {}
  - name: mem
    emptyDir:
      medium: Memory
      sizeLimit: 1Mi
  initContainers:
  - name: first
    image: busybox
    command: ["sh", "-c", "sleep 1; echo first >> /v/order"]
    volumeMounts: [{name: shared, mountPath: /v}]
  - name: second
    image: busybox
    command: ["sh", "-c", "echo second >> /v/order"]
    volumeMounts: [{name: shared, mountPath: /v}]
  containers:
  - name: writer
    image: busybox
    command: ["sh", "-c", "echo from-writer > /v/sub/msg; dd if=/dev/zero of=/dev/shm/big bs=1k count=2048 2>/dev/null || echo sizeLimit-enforced"]
    volumeMounts:
    - {name: shared, mountPath: /v/sub, subPath: dir}
    - {name: mem, mountPath: /dev/shm}
  - name: reader
    image: busybox
    command: ["sh", "-c"]
    args:
    - |
      echo "order=$(cat /v/order | tr '\n' ,)"
      while [ ! -f /v/dir/msg ]; do sleep 0.2; done; echo "shared=$(cat /v/dir/msg)"
      touch /ro/x 2>/dev/null || echo readonly-mount
      echo "hostname=$(cat /etc/hostname)"; grep -c localhost /etc/hosts; cat /etc/resolv.conf
    volumeMounts:
    - {name: shared, mountPath: /v}
    - {name: shared, mountPath: /ro, readOnly: true}
YAML
run_pod "$TMP/init.yaml" --verbose
expect_eq "pod succeeds" "$RC" 0
expect_grep "init containers ran in order before the others" '^\[pod/initvol/reader\] order=first,second,$' "$TMP/out"
expect_grep "emptyDir shared between containers (subPath)" '^\[pod/initvol/reader\] shared=from-writer$' "$TMP/out"
expect_grep "Memory emptyDir over /dev/shm, sizeLimit enforced" '^\[pod/initvol/writer\] sizeLimit-enforced$' "$TMP/out"
expect_grep "readOnly volumeMount" '^\[pod/initvol/reader\] readonly-mount$' "$TMP/out"
expect_grep "/etc/hostname is the pod name" '^\[pod/initvol/reader\] hostname=initvol$' "$TMP/out"
expect_grep "/etc/hosts has localhost" '^\[pod/initvol/reader\] 2$' "$TMP/out"
expect_grep "resolv.conf without DNS" '^\[pod/initvol/reader\] # no DNS configured$' "$TMP/out"
expect_clean "after the init/volumes pod"

cat >"$TMP/initfail.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: initfail
spec:
  restartPolicy: Never
  initContainers:
  - name: broken
    image: busybox
    command: ["sh", "-c", "echo init-failing; exit 7"]
  - name: never
    image: busybox
    command: ["sh", "-c", "echo must-not-run"]
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo must-not-run"]
YAML
run_pod "$TMP/initfail.yaml" --verbose
expect_eq "failing init container's exit code" "$RC" 7
expect_grep "init container output" '^\[pod/initfail/broken\] init-failing$' "$TMP/out"
expect_grep "failure is reported" 'container broken terminated: Error, exit code 7' "$TMP/err"
expect_no_grep "nothing after a failed init container runs" 'must-not-run' "$TMP/out"
expect_clean "after the failed init pod"
finish
