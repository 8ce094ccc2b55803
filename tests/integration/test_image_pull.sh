#!/bin/bash
# Images from real registries: Debian's docker-registry on loopback in this
# test's own network namespace, filled by skopeo with images built here
# (busybox-static; a dynamically linked threaded glibc program). Docker v2s2
# and OCI manifests, gzip, zstd and uncompressed layers, a multi-arch index,
# Basic auth, Bearer tokens from a token server, a mirror, an insecure
# (non-loopback-named) registry, concurrent pulls, and a pod run from a
# pulled image. The store is the test's own.
. "$(dirname "$0")/../registry/registry_lib.sh"
reg_netns "$@"
. "$(dirname "$0")/lib.sh"
trap 'set +e; reg_stop_all; cleanup_lib' EXIT
export PODVM_STATE_DIR=$TMP/state
P="$PODVM"

# pull NAME REF [podvm global options...]: output in $TMP/NAME.{out,err}, rc in $RC
pull() {
	local name=$1 ref=$2; shift 2
	set +e
	timeout 300 "$P" "$@" image pull "$ref" >"$TMP/$name.out" 2>"$TMP/$name.err"
	RC=$?
	set -e
}
set -e

reg_images
reg_start plain 5000
reg_start basic 5002 basic
reg_start token 5004 token          # token service on 5005
reg_start mirror 5006
# zstd images get a registry of their own: skopeo would otherwise reuse the
# gzip blob it already pushed for the same content instead of recompressing.
reg_start zstd 5008
reg_push busybox 5000 test/busybox:v2s2 --format v2s2
reg_push busybox 5000 test/busybox:oci --format oci
reg_push glibc 5008 test/glibc:zstd --format oci --dest-compress-format zstd
reg_push glibc-plain 5006 test/glibc:plain --format oci --preserve-digests
reg_push multi 5000 test/multi:1 --all
reg_push busybox 5006 test/onlymirror:1 --format v2s2
REG_PUSH_AUTH=1 reg_push busybox 5002 test/private:1 --format v2s2
REG_PUSH_AUTH=1 reg_push glibc 5004 test/private:1 --format oci

# --- formats ---------------------------------------------------------------
skopeo inspect --raw --tls-verify=false docker://127.0.0.1:5008/test/glibc:zstd >"$TMP/zstd.json"
expect_grep "the zstd image really has a zstd layer" 'tar\+zstd' "$TMP/zstd.json"
skopeo inspect --raw --tls-verify=false docker://127.0.0.1:5006/test/glibc:plain >"$TMP/plain.json"
expect_grep "the plain image really has an uncompressed layer" 'layer\.v1\.tar"' "$TMP/plain.json"
for r in 5000/test/busybox:v2s2 5000/test/busybox:oci 5008/test/glibc:zstd 5006/test/glibc:plain \
	 5000/test/multi:1; do
	pull fmt "127.0.0.1:$r"
	expect_eq "pull $r" "$RC" 0
	[ "$RC" -eq 0 ] || sed 's/^/    | /' "$TMP/fmt.err"
	expect_grep "pull $r prints the repo digest" "^127\.0\.0\.1:${r%%:*}@sha256:[0-9a-f]{64}$" "$TMP/fmt.out"
done
expect_grep "multi-arch index: the linux/amd64 busybox layer is the one already stored" \
	'already exists' "$TMP/fmt.err"
"$P" image ls >"$TMP/ls"
expect_grep "image ls lists a pulled image with digest and size" \
	'^127\.0\.0\.1:5008/test/glibc:zstd +sha256:[0-9a-f]{12} +[0-9.]+ [kM]B +' "$TMP/ls"
# The busybox layer is stored once for its three names (v2s2, oci, multi).
n=$(ls "$PODVM_STATE_DIR/images/blobs/sha256" | wc -l)
"$P" image ls -q > "$TMP/names"
expect_eq "five names" "$(wc -l < "$TMP/names")" 5
for r in 5008/test/glibc:zstd 5006/test/glibc:plain 5000/test/busybox:oci; do
	"$P" image convert "127.0.0.1:$r" >"$TMP/conv" 2>&1 && ok "erofs from $r" ||
		{ fail "erofs from $r"; sed 's/^/    | /' "$TMP/conv"; }
done
expect_clean "after pulls"

# --- a pod from a registry image: the glibc program, threads and all --------
cat >"$TMP/glibc.yaml" <<Y
apiVersion: v1
kind: Pod
metadata: {name: glibc}
spec:
  restartPolicy: Never
  containers:
  - name: hello
    image: 127.0.0.1:5000/test/glibc:1
    args: ["from the registry"]
Y
reg_push glibc 5000 test/glibc:1 --format v2s2
run_pod "$TMP/glibc.yaml"
expect_eq "podvm run pulls and runs the glibc image" "$RC" 0
expect_grep "glibc program's thread ran" 'hello from a glibc thread \(from the registry\)' "$TMP/out"
expect_grep "podvm run said it pulled" 'pulled 127\.0\.0\.1:5000/test/glibc:1' "$TMP/err"
expect_clean "after run"

# --- Basic auth ----------------------------------------------------------------
pull basic-anon 127.0.0.1:5002/test/private:1
[ "$RC" -ne 0 ] && ok "basic: anonymous refused" || fail "basic: anonymous pulled"
expect_grep "basic: says unauthorized, names the image" 'pull 127\.0\.0\.1:5002/test/private:1: .*unauthorized' "$TMP/basic-anon.err"
printf '{"auths":{"127.0.0.1:5002":{"auth":"%s"}}}' "$(printf 'nobody:wrong' | base64)" >"$TMP/bad-auth.json"
pull basic-bad 127.0.0.1:5002/test/private:1 --registry-auth "$TMP/bad-auth.json"
[ "$RC" -ne 0 ] && ok "basic: wrong password refused" || fail "basic: wrong password pulled"
expect_grep "basic: wrong credentials are unauthorized" 'unauthorized' "$TMP/basic-bad.err"
expect_no_grep "basic: the credential is never printed" 'wrong|bm9ib2R5' "$TMP/basic-bad.err"
printf '{"auths":{"http://127.0.0.1:5002/v1/":{"auth":"%s"},"127.0.0.1:5004":{"username":"%s","password":"%s"}}}' \
	"$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64 -w0)" "$REG_USER" "$REG_PASS" >"$TMP/auth.json"
pull basic-ok 127.0.0.1:5002/test/private:1 --registry-auth "$TMP/auth.json"
expect_eq "basic: pull with auth.json" "$RC" 0
expect_no_grep "basic: password not in output" "$REG_PASS" "$TMP/basic-ok.err"

# --- Bearer tokens ----------------------------------------------------------------
pull token-anon 127.0.0.1:5004/test/private:1
[ "$RC" -ne 0 ] && ok "token: anonymous refused" || fail "token: anonymous pulled"
expect_grep "token: unauthorized" 'unauthorized' "$TMP/token-anon.err"
pull token-ok 127.0.0.1:5004/test/private:1 --registry-auth "$TMP/auth.json"
expect_eq "token: pull through the token service" "$RC" 0
[ "$RC" -eq 0 ] || sed 's/^/    | /' "$TMP/token-ok.err"
expect_grep "token: the token service was asked" 'GET /token\?' "$TMP/reg-token/token.log"

# --- mirrors -------------------------------------------------------------------
pull mirror 127.0.0.1:5000/test/onlymirror:1 --registry-mirror 127.0.0.1:5000=http://127.0.0.1:5006
expect_eq "mirror: an image only the mirror has" "$RC" 0
pull deadmirror 127.0.0.1:5000/test/busybox:v2s2 --registry-mirror 127.0.0.1:5000=http://127.0.0.1:5999
expect_eq "mirror: a dead mirror falls back to the registry" "$RC" 0
pull nomirror 127.0.0.1:5000/test/onlymirror:2
[ "$RC" -ne 0 ] && ok "mirror: without the mirror, not found" || fail "mirror: found without mirror"

# --- insecure registries: plain HTTP only for loopback or when listed ----------
pull tls reg.test:5000/test/busybox:oci
[ "$RC" -ne 0 ] && ok "reg.test (not loopback by name) is HTTPS" || fail "reg.test pulled over HTTP"
expect_grep "HTTPS failure named" 'pull reg\.test:5000/test/busybox:oci: .*(TLS|SSL|reg\.test)' "$TMP/tls.err"
pull insecure reg.test:5000/test/busybox:oci --insecure-registry reg.test:5000
expect_eq "--insecure-registry reg.test:5000: plain HTTP" "$RC" 0

# --- two pulls of one image at once share one download --------------------------
reg_push busybox 5008 test/shared:1 --format oci --dest-compress-format zstd
( timeout 300 "$P" image pull 127.0.0.1:5008/test/shared:1 >/dev/null 2>"$TMP/c1.err"; echo $? >"$TMP/c1.rc" ) &
c1=$!
( timeout 300 "$P" image pull 127.0.0.1:5008/test/shared:1 >/dev/null 2>"$TMP/c2.err"; echo $? >"$TMP/c2.rc" ) &
wait $c1 $!
expect_eq "concurrent pull 1" "$(cat "$TMP/c1.rc")" 0
expect_eq "concurrent pull 2" "$(cat "$TMP/c2.rc")" 0
downloads=$(cat "$TMP/c1.err" "$TMP/c2.err" | grep -c 'downloading' || true)
expect_eq "the layer was downloaded once for both" "$downloads" 1
expect_clean "at the end"
finish
