#!/bin/bash
# Bad registries and bad images: each pull fails with one line naming the
# image and the cause, a non-zero exit, and nothing partial in the store
# (no name, no blob, no temporary). Also retries with back-off, the stall
# timeout and three parallel layer downloads, against a misbehaving
# registry (tests/registry/fake_registry.py). All in this test's own
# network namespace and store.
. "$(dirname "$0")/../registry/registry_lib.sh"
reg_netns "$@"
. "$(dirname "$0")/lib.sh"
trap 'set +e; reg_stop_all; cleanup_lib' EXIT
export PODVM_STATE_DIR=$TMP/state
P="$PODVM"
set -e

blobs() { ls "$PODVM_STATE_DIR/images/blobs/sha256" 2>/dev/null | wc -l; }

# bad WHAT REF PATTERN [podvm options]: refused, named, nothing kept
bad() {
	local what=$1 ref=$2 pat=$3; shift 3
	local before
	before=$(blobs)
	set +e
	timeout 300 "$P" "$@" image pull "$ref" >"$TMP/bad.out" 2>"$TMP/bad.err"
	RC=$?
	set -e
	[ "$RC" -ne 0 ] && ok "$what: non-zero exit" || fail "$what: exit 0"
	expect_eq "$what: one line" "$(grep -c 'podvm:' "$TMP/bad.err")" 1
	expect_grep "$what: names the image and the cause" "^podvm: pull [^ ]*${ref#*/}: .*$pat" "$TMP/bad.err"
	"$P" image ls -q >"$TMP/names"
	expect_no_grep "$what: no name in the store" "${ref#*/}" "$TMP/names"
	expect_eq "$what: no blob kept" "$(blobs)" "$before"
	expect_clean "$what"
}

BIG_MB=3 reg_images
reg_start plain 5000
reg_start bad 5010
reg_push busybox 5000 test/busybox:1 --format v2s2
reg_push noamd64 5000 test/noamd64:1 --all
reg_push notar 5000 test/notar:1 --format oci --preserve-digests
reg_push busybox 5010 test/corrupt:1 --format oci
reg_push glibc 5010 test/trunc:1 --format oci

bad "unknown host" nonexistent.invalid/x/y:1 'unknown host nonexistent\.invalid'
bad "connection refused" 127.0.0.1:5999/x:1 'cannot connect to 127\.0\.0\.1:5999'
bad "tag not found" 127.0.0.1:5000/test/busybox:nope 'not found'
bad "repository not found" 127.0.0.1:5000/test/nothing:1 'not found'
bad "no linux/amd64 in the index" 127.0.0.1:5000/test/noamd64:1 'no linux/amd64 image in the index \(it has: linux/arm64, linux/s390x\)'
bad "a layer that is not a tar" 127.0.0.1:5000/test/notar:1 'layer 1 .*not a tar archive'

# The registry's own files, damaged behind its back: it serves them as
# they are.
layer() { skopeo inspect --raw --tls-verify=false "docker://127.0.0.1:5010/$1" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])'; }
f=$(reg_blob_file bad "$(layer test/corrupt:1)")
printf 'X' | dd of="$f" bs=1 seek=1000 conv=notrunc status=none
bad "layer digest mismatch" 127.0.0.1:5010/test/corrupt:1 'layer 1 .*digest mismatch'
f=$(reg_blob_file bad "$(layer test/trunc:1)")
truncate -s 1000 "$f"
bad "truncated layer" 127.0.0.1:5010/test/trunc:1 'layer 1 .*truncated: got 1000 of'

# --- a misbehaving registry: retries, stall timeout, parallel downloads ---
reg_fake 5020
set +e
timeout 120 "$P" image pull 127.0.0.1:5020/flaky/glibc:glibc >"$TMP/flaky.out" 2>"$TMP/flaky.err"
RC=$?
set -e
expect_eq "503 then a dropped connection: retried to success" "$RC" 0
expect_grep "the retry was shown" 'retrying' "$TMP/flaky.err"
start=$(date +%s)
set +e
PODVM_PULL_STALL_TIMEOUT=2 timeout 120 "$P" image pull 127.0.0.1:5020/stall/busybox:busybox \
	>"$TMP/stall.out" 2>"$TMP/stall.err"
RC=$?
set -e
[ "$RC" -ne 0 ] && ok "stalled transfer: failed" || fail "stalled transfer: exit 0"
expect_grep "stalled transfer: said so" 'stalled' "$TMP/stall.err"
[ $(( $(date +%s) - start )) -lt 60 ] && ok "stall noticed in time" || fail "stall took $(( $(date +%s) - start ))s"
expect_clean "after the stall"
set +e
timeout 120 "$P" image pull 127.0.0.1:5020/slow/big:big >"$TMP/slow.out" 2>"$TMP/slow.err"
RC=$?
set -e
expect_eq "slow registry: pulled" "$RC" 0
bad "manifest over 4 MiB" 127.0.0.1:5020/huge/busybox:busybox 'manifest is larger than 4194304 bytes'
max=$(curl -s http://127.0.0.1:5020/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["max_concurrent"])')
expect_eq "three layers downloaded at once, never more" "$max" 3
finish
