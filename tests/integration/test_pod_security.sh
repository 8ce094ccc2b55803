#!/bin/bash
# Resources and securityContext seen from inside a real VM: a memory
# limit enforced by the container's cgroup (OOMKilled, 137), cpu.max and
# the container's own cgroup view, runAsUser / runAsGroup / fsGroup,
# readOnlyRootFilesystem, capabilities drop/add, allowPrivilegeEscalation,
# and the RuntimeDefault seccomp filter (EPERM) against Unconfined.
. "$(dirname "$0")/lib.sh"
set -e

cat >"$TMP/sec.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: sec
spec:
  restartPolicy: Never
  securityContext:
    runAsGroup: 3000
    fsGroup: 2000
  volumes:
  - name: data
    emptyDir: {}
  containers:
  - name: oom
    image: busybox
    command: ["sh", "-c", "echo allocating; head -c 64m /dev/zero | tail > /dev/null; echo survived"]
    resources:
      limits: {memory: 32Mi, cpu: 250m}
  - name: user
    image: busybox
    command: ["sh", "-c"]
    args:
    - |
      echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"
      touch /x 2>/dev/null && echo root-writable || echo root-readonly
      touch /data/f && echo "volume-group=$(stat -c %g /data/f)"
      echo "cgroup=$(cat /proc/self/cgroup) cpu=$(cat /sys/fs/cgroup/cpu.max)"
      grep NoNewPrivs /proc/self/status
    securityContext:
      runAsUser: 1000
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
    volumeMounts: [{name: data, mountPath: /data}]
  - name: caps
    image: busybox
    command: ["sh", "-c", "grep CapBnd /proc/self/status; chown 1 /tmp 2>/dev/null && echo chown-ok || echo chown-denied"]
    securityContext:
      runAsUser: 0
      capabilities:
        drop: ["ALL"]
        add: ["NET_BIND_SERVICE"]
  - name: seccomp-default
    image: busybox
    command: ["sh", "-c", "unshare -U true 2>&1; echo unshare-rc=$?"]
    securityContext: {runAsUser: 0}
  - name: seccomp-unconfined
    image: busybox
    command: ["sh", "-c", "unshare -U true 2>&1; echo unshare-rc=$?"]
    securityContext:
      runAsUser: 0
      seccompProfile: {type: Unconfined}
YAML
run_pod "$TMP/sec.yaml" --verbose
expect_grep "memory limit: OOMKilled, 137" 'container oom terminated: OOMKilled, exit code 137' "$TMP/err"
expect_no_grep "the allocation did not survive" 'survived' "$TMP/out"
expect_grep "runAsUser, runAsGroup, fsGroup as supplementary group" '^\[pod/sec/user\] uid=1000 gid=3000 groups=3000 2000$' "$TMP/out"
expect_grep "readOnlyRootFilesystem" '^\[pod/sec/user\] root-readonly$' "$TMP/out"
expect_grep "fsGroup owns new files in the volume (setgid dir)" '^\[pod/sec/user\] volume-group=2000$' "$TMP/out"
expect_grep "own cgroup namespace, cpu.max from limits.cpu" '^\[pod/sec/user\] cgroup=0::/ cpu=max 100000$' "$TMP/out"
expect_grep "allowPrivilegeEscalation false sets no_new_privs" '^\[pod/sec/user\] NoNewPrivs:[[:space:]]+1$' "$TMP/out"
expect_grep "drop ALL, add NET_BIND_SERVICE: bounding set" '^\[pod/sec/caps\] CapBnd:[[:space:]]+0000000000000400$' "$TMP/out"
expect_grep "no CAP_CHOWN after drop ALL" '^\[pod/sec/caps\] chown-denied$' "$TMP/out"
expect_grep "RuntimeDefault blocks unshare with EPERM" '^\[pod/sec/seccomp-default\] .*Operation not permitted' "$TMP/out"
expect_grep "RuntimeDefault: unshare fails" '^\[pod/sec/seccomp-default\] unshare-rc=1$' "$TMP/out"
expect_grep "Unconfined: unshare works" '^\[pod/sec/seccomp-unconfined\] unshare-rc=0$' "$TMP/out"
expect_clean "after the security pod"
finish
