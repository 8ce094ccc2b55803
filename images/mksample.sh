#!/bin/sh
# Build the sample images from Debian's busybox-static into STATE_DIR:
#   docker.io/library/busybox:latest   like the official image: everything
#                                      in /bin, Cmd ["sh"]
#   podvm.io/test/entrypoint:latest    same rootfs; Entrypoint/Cmd/
#                                      WorkingDir/Env set, for the tests of
#                                      Kubernetes' command/args rules
# and convert both to erofs so the first pod does not pay for it.
# Idempotent: a stamp records the busybox build and this script's checksum.
set -eu

die() { echo "mksample: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: mksample.sh PODVM STATE_DIR"
PODVM=$1 STATE_DIR=$2
BUSYBOX=${PODVM_BUSYBOX:-/bin/busybox}
BUSYBOX_REF=docker.io/library/busybox:latest
TEST_REF=podvm.io/test/entrypoint:latest

[ -x "$PODVM" ] || die "$PODVM not built"
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (apt-get install busybox-static)"
# The rootfs has no libc: the busybox must be static.
if command -v file >/dev/null && ! file -L "$BUSYBOX" | grep -q 'statically linked'; then
	die "$BUSYBOX is not statically linked (install busybox-static)"
fi

mkdir -p "$STATE_DIR"
STAMP=$STATE_DIR/sample-images.stamp
want=$( {
	sha256sum "$BUSYBOX" "$0" | cut -d' ' -f1
	printf '%s\n%s\n' "$BUSYBOX_REF" "$TEST_REF"
} )
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] &&
   "$PODVM" --state-dir "$STATE_DIR" image ls 2>/dev/null | grep -q "^$BUSYBOX_REF " &&
   "$PODVM" --state-dir "$STATE_DIR" image ls 2>/dev/null | grep -q "^$TEST_REF "; then
	exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/podvm-sample.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
ROOT=$WORK/rootfs
mkdir -p "$ROOT/bin" "$ROOT/etc" "$ROOT/root" "$ROOT/home" "$ROOT/var" \
	"$ROOT/tmp" "$ROOT/usr" "$ROOT/dev" "$ROOT/proc" "$ROOT/sys"
chmod 0755 "$ROOT" "$ROOT/bin" "$ROOT/etc" "$ROOT/home" "$ROOT/var" \
	"$ROOT/usr" "$ROOT/dev" "$ROOT/proc" "$ROOT/sys"
chmod 0700 "$ROOT/root"
chmod 1777 "$ROOT/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
chmod 0755 "$ROOT/bin/busybox"
# One symlink per applet, all in /bin like the official busybox image.
for applet in $("$BUSYBOX" --list); do
	case $applet in
	busybox|*/*|'') continue ;;
	esac
	ln -s busybox "$ROOT/bin/$applet"
done
cat > "$ROOT/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
PASSWD
cat > "$ROOT/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP
chmod 0644 "$ROOT/etc/passwd" "$ROOT/etc/group"
printf 'hosts: files dns\n' > "$ROOT/etc/nsswitch.conf"
chown -R 0:0 "$ROOT" 2>/dev/null || true

PATHENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
"$PODVM" --state-dir "$STATE_DIR" image import --ref "$BUSYBOX_REF" \
	--cmd '["sh"]' --env "$PATHENV" "$ROOT" ||
	die "importing $BUSYBOX_REF failed"
"$PODVM" --state-dir "$STATE_DIR" image import --ref "$TEST_REF" \
	--entrypoint '["/bin/echo","entrypoint"]' --cmd '["cmd-default"]' \
	--workdir /tmp --env "$PATHENV" --env IMAGE_VAR=from-image "$ROOT" ||
	die "importing $TEST_REF failed"
for ref in "$BUSYBOX_REF" "$TEST_REF"; do
	"$PODVM" --state-dir "$STATE_DIR" image convert "$ref" >/dev/null ||
		die "converting $ref to erofs failed"
done
printf '%s\n' "$want" > "$STAMP.tmp"
mv -f "$STAMP.tmp" "$STAMP"
echo "mksample: $BUSYBOX_REF and $TEST_REF ready in $STATE_DIR"
