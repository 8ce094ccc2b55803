#!/bin/bash
# Bad input: a one-line error naming the problem, a non-zero exit, and
# nothing left behind.
. "$(dirname "$0")/lib.sh"
set -e

pod() {  # pod NAME CONTAINER-YAML...
	local name=$1; shift
	printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  restartPolicy: Never\n  containers:\n' "$name"
	printf '%s\n' "$@"
}

# check WHAT FILE EXPECTED-RC PATTERN
check() {
	run_pod "$2"
	if [ "$3" = nonzero ]; then
		[ "$RC" -ne 0 ] && ok "$1: non-zero exit ($RC)" || fail "$1: exit 0"
	else
		expect_eq "$1: exit code" "$RC" "$3"
	fi
	expect_grep "$1: error names the problem" "$4" "$TMP/err"
	expect_clean "$1"
}

check "missing file" "$TMP/nope.yaml" 125 'nope.yaml: .*No such file'

printf 'apiVersion: v1\nkind: Pod\nmetadata: [\n' >"$TMP/badyaml.yaml"
check "invalid YAML" "$TMP/badyaml.yaml" 125 'badyaml.yaml:[0-9]+:[0-9]+: '

printf '{"apiVersion":"v1","kind":"Pod",' >"$TMP/bad.json"
check "invalid JSON" "$TMP/bad.json" 125 'bad.json: .*JSON'

pod unknown '  - name: a' '    image: busybox' '  - name: b' '    image: busybox' '    foo: bar' >"$TMP/unknown.yaml"
check "unknown field" "$TMP/unknown.yaml" 125 'spec\.containers\[1\]\.foo: unknown field'

pod Bad_Name '  - name: a' '    image: busybox' >"$TMP/badname.yaml"
check "invalid name" "$TMP/badname.yaml" 125 'metadata\.name: Invalid value: "Bad_Name"'

pod dup '  - name: a' '    image: busybox' '  - name: a' '    image: busybox' >"$TMP/dup.yaml"
check "duplicate container names" "$TMP/dup.yaml" 125 'spec\.containers\[1\]\.name: Duplicate value: "a"'

pod noimg '  - name: a' >"$TMP/noimg.yaml"
check "missing image" "$TMP/noimg.yaml" 125 'spec\.containers\[0\]\.image: Required value'

# Missing images are pulled; this registry (loopback, nothing listening)
# cannot be reached. (tests/integration/test_image_*.sh: real registries.)
pod unknownimg '  - name: a' '    image: 127.0.0.1:9/no-such-image:1.0' >"$TMP/unknownimg.yaml"
check "unknown image" "$TMP/unknownimg.yaml" 125 'spec\.containers\[0\]\.image: pull 127\.0\.0\.1:9/no-such-image:1\.0: cannot connect'
pod neverimg '  - name: a' '    image: no-such-image:1.0' '    imagePullPolicy: Never' >"$TMP/neverimg.yaml"
check "missing image, pull policy Never" "$TMP/neverimg.yaml" 125 'spec\.containers\[0\]\.image: container image "no-such-image:1\.0" is not present with pull policy of Never'

pod nocmd '  - name: a' '    image: busybox' '    command: ["no-such-command", "x"]' >"$TMP/nocmd.yaml"
check "command missing in the image" "$TMP/nocmd.yaml" 128 'container a terminated: StartError, exit code 128: .*no-such-command'

# Refused like Fargate, before any VM boots, with the field path.
pod priv '  - name: a' '    image: busybox' '    securityContext:' '      privileged: true' >"$TMP/priv.yaml"
check "privileged refused" "$TMP/priv.yaml" 125 'spec\.containers\[0\]\.securityContext\.privileged: Forbidden'
pod hport '  - name: a' '    image: busybox' '    ports:' '    - containerPort: 80' '      hostPort: 8080' >"$TMP/hport.yaml"
check "hostPort refused" "$TMP/hport.yaml" 125 'spec\.containers\[0\]\.ports\[0\]\.hostPort: Forbidden'
printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: hnet\nspec:\n  hostNetwork: true\n  containers:\n  - name: a\n    image: busybox\n' >"$TMP/hnet.yaml"
check "hostNetwork refused" "$TMP/hnet.yaml" 125 'spec\.hostNetwork: Forbidden'
printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: hpid\nspec:\n  hostPID: true\n  hostIPC: true\n  containers:\n  - name: a\n    image: busybox\n' >"$TMP/hpid.yaml"
check "hostPID refused" "$TMP/hpid.yaml" 125 'spec\.hostPID: Forbidden'
printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: hpath\nspec:\n  volumes:\n  - name: v\n    hostPath:\n      path: /etc\n  containers:\n  - name: a\n    image: busybox\n' >"$TMP/hpath.yaml"
check "hostPath refused" "$TMP/hpath.yaml" 125 'spec\.volumes\[0\]\.hostPath: Forbidden'
pod cfgmap '  - name: a' '    image: busybox' '    env:' '    - name: X' '      valueFrom:' '        configMapKeyRef:' '          name: c' '          key: k' >"$TMP/cfgmap.yaml"
check "unsupported field refused" "$TMP/cfgmap.yaml" 125 'spec\.containers\[0\]\.env\[0\]\.valueFrom\.configMapKeyRef'

pod okpod '  - name: a' '    image: busybox' '    command: ["true"]' >"$TMP/ok.yaml"
PODVM_GUEST_DIR=$TMP/no-guest check "missing kernel" "$TMP/ok.yaml" 125 'missing kernel .*no-guest/vmlinuz'
mkdir -p "$TMP/half-guest"
ln -s "$(cd "$(dirname "$PODVM")" && pwd)/guest/vmlinuz" "$TMP/half-guest/vmlinuz"
PODVM_GUEST_DIR=$TMP/half-guest check "missing initramfs" "$TMP/ok.yaml" 125 'missing initramfs .*half-guest/initramfs.img'
finish
