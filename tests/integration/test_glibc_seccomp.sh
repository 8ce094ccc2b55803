#!/bin/bash
# What users run, under podvm's seccomp and container hardening:
#   - a dynamically linked, threaded glibc program (built here with gcc, its
#     libraries copied into an image) starts threads under RuntimeDefault,
#     Unconfined and no profile (glibc's clone3 gets ENOSYS and falls back);
#   - a syscall outside the allow-list gets EPERM; unshare -U is gated by
#     CAP_SYS_ADMIN as in containerd's profile;
#   - runc's masked and read-only paths: /proc/sys/kernel/core_pattern and
#     /proc/sysrq-trigger cannot be written, /proc/kcore is empty;
#   - the image's User given as a name (its /etc/passwd, /etc/group) and
#     its StopSignal on stop;
#   - Localhost profiles: one works; a broken one is refused with its path
#     and the parse error by podvm run (exit 125) and by podvmd (422).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon_lib.sh"
set -e
trap 'daemon_cleanup; cleanup_lib' EXIT
# the test's own image store: the images it builds go away with it
export PODVM_STATE_DIR=$TMP/state
IMG=podvm.io/test/glibc:1
IMG_USER=podvm.io/test/glibc-user:1

# ---- the image: busybox for the shell, the probe and its glibc ----
ROOT=$TMP/rootfs
mkdir -p "$ROOT/bin" "$ROOT/app" "$ROOT/etc" "$ROOT/tmp" "$ROOT/home/app"
gcc -O2 -pthread -o "$ROOT/app/probe" tests/integration/glibc_probe.c
if ! ldd "$ROOT/app/probe" | grep -q 'libc\.so\.6'; then
	fail "the probe is not dynamically linked against glibc"
fi
for lib in $(ldd "$ROOT/app/probe" | grep -o '/[^ ]*'); do
	mkdir -p "$ROOT$(dirname "$lib")"
	cp -L "$lib" "$ROOT$lib"
done
cp "${PODVM_BUSYBOX:-/bin/busybox}" "$ROOT/bin/busybox"
for a in sh cat echo id wc ls grep sleep unshare true; do
	ln -s busybox "$ROOT/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1234:1234::/home/app:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\napp:x:1234:\nextra:x:2000:app\n' >"$ROOT/etc/group"
chmod 1777 "$ROOT/tmp"
"$PODVM" image import --ref "$IMG" --cmd '["/app/probe","threads"]' \
	--env PATH=/bin:/app "$ROOT" >/dev/null
"$PODVM" image import --ref "$IMG_USER" --cmd '["/app/probe","threads"]' \
	--env PATH=/bin:/app --user app --stop-signal SIGUSR1 "$ROOT" >/dev/null
ok "glibc images imported"

cat >"$TMP/glibc.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: glibc
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 20
  containers:
  - name: noprof
    image: $IMG
    command: ["/app/probe", "threads", "keyctl", "clone3", "unshare"]
  - name: rtdefault
    image: $IMG
    command: ["/app/probe", "threads", "keyctl", "clone3"]
    securityContext: {seccompProfile: {type: RuntimeDefault}}
  - name: unconfined
    image: $IMG
    command: ["/app/probe", "threads", "keyctl", "clone3"]
    securityContext: {seccompProfile: {type: Unconfined}}
  - name: userns
    image: $IMG
    command: ["sh", "-c", "unshare -U true 2>&1; echo unshare-U-rc=\$?"]
  - name: admin
    image: $IMG
    command: ["sh", "-c", "unshare -U true; echo unshare-U-rc=\$?; /app/probe clone3 threads"]
    securityContext: {capabilities: {add: [SYS_ADMIN]}}
  - name: proc
    image: $IMG
    command: ["sh", "-c"]
    args:
    - |
      echo "id=\$(id -u)"
      echo '|/tmp/x' > /proc/sys/kernel/core_pattern && echo core_pattern-written || echo core_pattern-refused
      echo h > /proc/sysrq-trigger && echo sysrq-written || echo sysrq-refused
      echo "kcore-bytes=\$(wc -c < /proc/kcore 2>/dev/null || echo absent)"
      echo "keys-bytes=\$(wc -c < /proc/keys 2>/dev/null || echo absent)"
      echo "firmware=[\$(ls /sys/firmware 2>/dev/null)]"
      grep -q ' /proc/sys proc ro,' /proc/self/mounts && echo proc-sys-ro
      true
  - name: user
    image: $IMG_USER
    command: ["sh", "-c"]
    args:
    - |
      echo "id=\$(id -u):\$(id -g) groups=\$(id -G)"
      trap 'echo got-USR1; exit 3' USR1
      trap 'echo got-TERM; exit 4' TERM
      echo ready
      while true; do sleep 0.2; done
YAML

timeout --foreground 600 "$PODVM" run --verbose "$TMP/glibc.yaml" >"$TMP/out" 2>"$TMP/err" &
pid=$!
# every short-lived container done and the user container waiting
for _ in $(seq 1 1500); do
	grep -q '^\[pod/glibc/user\] ready$' "$TMP/out" 2>/dev/null &&
		[ "$(grep -c 'container .* terminated' "$TMP/err")" -ge 6 ] && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.2
done
kill -TERM $pid 2>/dev/null || true
set +e; wait $pid; RC=$?; set -e
P='^\[pod/glibc'
expect_grep "no profile: glibc threads start" "$P/noprof\] threads: ok$" "$TMP/out"
expect_grep "no profile: keyctl is EPERM" "$P/noprof\] keyctl: EPERM$" "$TMP/out"
expect_grep "no profile: clone3 is ENOSYS" "$P/noprof\] clone3: ENOSYS$" "$TMP/out"
expect_grep "no profile: unshare(CLONE_NEWUSER) is EPERM" "$P/noprof\] unshare: EPERM$" "$TMP/out"
expect_grep "RuntimeDefault: glibc threads start" "$P/rtdefault\] threads: ok$" "$TMP/out"
expect_grep "RuntimeDefault: keyctl is EPERM" "$P/rtdefault\] keyctl: EPERM$" "$TMP/out"
expect_grep "RuntimeDefault: clone3 is ENOSYS" "$P/rtdefault\] clone3: ENOSYS$" "$TMP/out"
expect_grep "Unconfined: glibc threads start" "$P/unconfined\] threads: ok$" "$TMP/out"
expect_grep "Unconfined: keyctl reaches the kernel" "$P/unconfined\] keyctl: EINVAL$" "$TMP/out"
expect_grep "Unconfined: clone3 reaches the kernel" "$P/unconfined\] clone3: EINVAL$" "$TMP/out"
expect_grep "unshare -U without CAP_SYS_ADMIN: EPERM" "$P/userns\] .*Operation not permitted" "$TMP/out"
expect_grep "unshare -U without CAP_SYS_ADMIN fails" "$P/userns\] unshare-U-rc=1$" "$TMP/out"
expect_grep "unshare -U with CAP_SYS_ADMIN works" "$P/admin\] unshare-U-rc=0$" "$TMP/out"
expect_grep "CAP_SYS_ADMIN: clone3 allowed" "$P/admin\] clone3: EINVAL$" "$TMP/out"
expect_grep "CAP_SYS_ADMIN: threads start" "$P/admin\] threads: ok$" "$TMP/out"
expect_grep "masks checked as root" "$P/proc\] id=0$" "$TMP/out"
expect_grep "core_pattern cannot be written" "$P/proc\] core_pattern-refused$" "$TMP/out"
expect_grep "sysrq-trigger cannot be written" "$P/proc\] sysrq-refused$" "$TMP/out"
expect_grep "/proc/kcore is empty" "$P/proc\] kcore-bytes=(0|absent)$" "$TMP/out"
expect_grep "/proc/keys is empty" "$P/proc\] keys-bytes=(0|absent)$" "$TMP/out"
expect_grep "/sys/firmware is empty" "$P/proc\] firmware=\[\]$" "$TMP/out"
expect_grep "/proc/sys is read-only" "$P/proc\] proc-sys-ro$" "$TMP/out"
expect_grep "image User by name, groups from /etc/group" "$P/user\] id=1234:1234 groups=1234 2000$" "$TMP/out"
expect_grep "image StopSignal SIGUSR1 on stop" "$P/user\] got-USR1$" "$TMP/out"
expect_no_grep "no SIGTERM when the image names another signal" "got-TERM" "$TMP/out"
expect_eq "exit code is the stopped container's" "$RC" 3
expect_clean "after the glibc pod"

# ---- Localhost profiles ----
mkdir -p "$TMP/seccomp/profiles"
cat >"$TMP/seccomp/profiles/no-getcwd.json" <<'JSON'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  "syscalls": [
    {"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
    {"names": ["keyctl", "add_key"], "action": "SCMP_ACT_ERRNO"}
  ]
}
JSON
printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_DENY"}]}\n' \
	>"$TMP/seccomp/profiles/broken.json"
local_pod() {   # NAME PROFILE
	cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  restartPolicy: Never
  securityContext:
    seccompProfile: {type: Localhost, localhostProfile: $2}
  containers:
  - name: main
    image: $IMG
    command: ["/app/probe", "getcwd", "keyctl", "clone3", "threads"]
YAML
}
local_pod local profiles/no-getcwd.json >"$TMP/local.yaml"
run_pod "$TMP/local.yaml" --seccomp-profile-root "$TMP/seccomp"
expect_eq "Localhost pod exit code" "$RC" 0
expect_grep "Localhost: getcwd gets the profile's errno" '^\[pod/local/main\] getcwd: EACCES$' "$TMP/out"
expect_grep "Localhost: keyctl gets EPERM" '^\[pod/local/main\] keyctl: EPERM$' "$TMP/out"
expect_grep "Localhost: clone3 allowed by the profile" '^\[pod/local/main\] clone3: EINVAL$' "$TMP/out"
expect_grep "Localhost: threads start" '^\[pod/local/main\] threads: ok$' "$TMP/out"

local_pod broken profiles/broken.json >"$TMP/broken.yaml"
run_pod "$TMP/broken.yaml" --seccomp-profile-root "$TMP/seccomp"
expect_eq "podvm run refuses a broken profile (125)" "$RC" 125
expect_grep "the error names the field, the file and the parse error" \
	"spec.securityContext.seccompProfile.localhostProfile: Invalid value: \"profiles/broken.json\": $TMP/seccomp/profiles/broken.json: syscalls\[0\].action: unknown action \"SCMP_ACT_DENY\"" "$TMP/err"
local_pod missing profiles/none.json >"$TMP/missing.yaml"
run_pod "$TMP/missing.yaml" --seccomp-profile-root "$TMP/seccomp"
expect_eq "podvm run refuses a missing profile (125)" "$RC" 125
expect_grep "the error names the missing file" "profiles/none.json: open: No such file or directory" "$TMP/err"
expect_clean "after the refused pods"

# podvmd: 422 at creation, nothing stored
daemon_start --seccomp-profile-root "$TMP/seccomp"
for name in broken missing; do
	prof=profiles/$name.json; [ $name = missing ] && prof=profiles/none.json
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},"spec":{"securityContext":{"seccompProfile":{"type":"Localhost","localhostProfile":"%s"}},"containers":[{"name":"main","image":"%s"}]}}' \
		"$name" "$prof" "$IMG" >"$TMP/$name.json"
	api POST /api/v1/namespaces/default/pods "$TMP/$name.json" >"$TMP/resp.json"
	expect_eq "podvmd refuses the $name profile with 422" "$CODE" 422
	expect_eq "the cause names the field" \
		"$(jget 'o["details"]["causes"][0]["field"]' <"$TMP/resp.json")" \
		"spec.securityContext.seccompProfile.localhostProfile"
	expect_grep "the message names the file" "$TMP/seccomp/$prof" "$TMP/resp.json"
	api GET /api/v1/namespaces/default/pods/$name >/dev/null
	expect_eq "the refused pod $name was not stored" "$CODE" 404
done
daemon_stop
expect_clean "after podvmd"
finish
