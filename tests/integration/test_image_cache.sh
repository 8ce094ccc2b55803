#!/bin/bash
# Archives and cache management: image load of docker-save (docker-archive)
# and OCI archives written by skopeo, image export read back by skopeo,
# image ls (digest, size, last used), rm, prune, an image in use by a pod
# (its hold, as a running pod keeps it) is never removed, corrupt archives
# leave nothing, and temporaries of a crashed pull are swept. Own store.
. "$(dirname "$0")/../registry/registry_lib.sh"
. "$(dirname "$0")/lib.sh"
export PODVM_STATE_DIR=$TMP/state
P="$PODVM"
set -e
blobs() { ls "$PODVM_STATE_DIR/images/blobs/sha256" 2>/dev/null | wc -l; }

reg_images
skopeo copy -q "oci:$REG_LAYOUT:busybox" "docker-archive:$TMP/bb-docker.tar:test/bb:1"
skopeo copy -q "oci:$REG_LAYOUT:glibc" "oci-archive:$TMP/glibc-oci.tar:example.com/glibc:1"
skopeo copy -q "oci:$REG_LAYOUT:busybox" "oci-archive:$TMP/bb-notag.tar"

# --- load ------------------------------------------------------------------
"$P" image load -i "$TMP/bb-docker.tar" >"$TMP/load1" 2>&1 || { fail "load docker-archive"; cat "$TMP/load1"; }
expect_grep "docker-archive loaded under its RepoTag" '^Loaded image: docker\.io/test/bb:1$' "$TMP/load1"
"$P" image load -i "$TMP/glibc-oci.tar" >"$TMP/load2" 2>&1 || { fail "load oci-archive"; cat "$TMP/load2"; }
expect_grep "oci-archive loaded under its name" '^Loaded image: example\.com/glibc:1$' "$TMP/load2"
set +e
"$P" image load -i "$TMP/bb-notag.tar" >"$TMP/load3" 2>&1; RC=$?
set -e
[ "$RC" -ne 0 ] && ok "an unnamed archive needs --ref" || fail "unnamed archive loaded"
expect_grep "unnamed archive: says --ref" 'give --ref REF' "$TMP/load3"
"$P" image load -i "$TMP/bb-notag.tar" --ref local/bb:2 >"$TMP/load4" 2>&1
expect_grep "--ref names it" 'Loaded image: docker\.io/local/bb:2' "$TMP/load4"
"$P" image convert example.com/glibc:1 >/dev/null && ok "a loaded image converts to erofs" || fail "convert loaded"

# --- export, read back by skopeo, and loaded again ----------------------------
"$P" image export example.com/glibc:1 -o "$TMP/export.tar"
skopeo inspect "oci-archive:$TMP/export.tar" >"$TMP/inspect" 2>&1 && ok "skopeo reads our OCI archive" ||
	{ fail "skopeo reads our OCI archive"; cat "$TMP/inspect"; }
d1=$("$P" image ls --digests | awk '$1=="example.com/glibc:1"{print $2}')

# --- ls / rm ------------------------------------------------------------------
"$P" image ls >"$TMP/ls"
expect_grep "ls: header" '^REFERENCE +DIGEST +SIZE +LAST USED +IN USE$' "$TMP/ls"
expect_grep "ls: a row" '^example\.com/glibc:1 +sha256:[0-9a-f]{12} +[0-9.]+ MB +[0-9]+s ago +no$' "$TMP/ls"
"$P" image rm example.com/glibc:1 >"$TMP/rm" 2>&1
expect_grep "rm says what it freed" 'Untagged: example.com/glibc:1 \([0-9.]+ [kM]B freed\)' "$TMP/rm"
ls "$PODVM_STATE_DIR/images/erofs" | grep -q . && fail "erofs file left after rm" || ok "erofs conversion went with its image"
"$P" image load -i "$TMP/export.tar" >"$TMP/load5" 2>&1
expect_grep "our export loads back" 'Loaded image: example\.com/glibc:1' "$TMP/load5"
d2=$("$P" image ls --digests | awk '$1=="example.com/glibc:1"{print $2}')
expect_eq "same manifest digest after export + load" "$d2" "$d1"

# --- an image a pod holds is never removed; prune removes the rest -------------
bb=$("$P" image ls --digests | awk '$1=="docker.io/test/bb:1"{print $2}')
mkdir -p "$PODVM_STATE_DIR/images/inuse"
# What launch does for a running pod: a shared lock, held for its life.
exec 7>"$PODVM_STATE_DIR/images/inuse/${bb#sha256:}.lock"
flock -s 7
"$P" image ls >"$TMP/ls2"
expect_grep "ls: in use" '^docker\.io/test/bb:1 .* yes$' "$TMP/ls2"
set +e
"$P" image rm docker.io/test/bb:1 >"$TMP/rm2" 2>&1; RC=$?
set -e
[ "$RC" -ne 0 ] && ok "rm refuses an image in use" || fail "rm removed an image in use"
expect_grep "rm: says in use" 'in use by a running pod' "$TMP/rm2"
"$P" image prune >"$TMP/prune" 2>&1
expect_grep "prune removed the unused ones" 'Removed 2 images' "$TMP/prune"
"$P" image ls -q >"$TMP/left"
expect_eq "only the held image is left" "$(cat "$TMP/left")" "docker.io/test/bb:1"
exec 7>&-   # the pod ended
"$P" image prune >/dev/null
expect_eq "all blobs gone once nothing is held" "$(blobs)" 0

# --- corrupt archives ------------------------------------------------------------
head -c 300000 "$TMP/bb-docker.tar" >"$TMP/cut.tar"
printf 'not a tar at all' >"$TMP/junk.tar"
mkdir -p "$TMP/fake" && printf '[{"Config":"c.json","RepoTags":["x:1"],"Layers":["l.tar"]}]' >"$TMP/fake/manifest.json"
tar -C "$TMP/fake" -cf "$TMP/missing.tar" manifest.json
for a in cut junk missing; do
	set +e
	"$P" image load -i "$TMP/$a.tar" >"$TMP/bad" 2>&1; RC=$?
	set -e
	[ "$RC" -ne 0 ] && ok "corrupt archive ($a): refused" || fail "corrupt archive ($a) loaded"
	expect_grep "corrupt archive ($a): named" "^podvm: load $TMP/$a.tar: " "$TMP/bad"
	expect_eq "corrupt archive ($a): nothing kept" "$(blobs)" 0
	expect_clean "corrupt archive ($a)"
done

# --- a crashed pull's temporaries are swept at the next start ----------------------
mkdir -p "$PODVM_STATE_DIR/images/tmp/p999999-1-pull.abcdef"
touch "$PODVM_STATE_DIR/images/tmp/p999999-1-pull.abcdef/partial"
touch "$PODVM_STATE_DIR/images/index.json.tmp.p999999-1.abcdef"
"$P" image ls >/dev/null
[ -e "$PODVM_STATE_DIR/images/tmp/p999999-1-pull.abcdef" ] && fail "dead pull's staging left" || ok "dead pull's staging swept"
[ -e "$PODVM_STATE_DIR/images/index.json.tmp.p999999-1.abcdef" ] && fail "dead index temp left" || ok "dead index temp swept"
finish
