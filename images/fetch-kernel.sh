#!/bin/sh
# Fetch the Debian cloud kernel into OUTDIR without installing it:
#   OUTDIR/dl/linux-image-*.deb   the downloaded package
#   OUTDIR/kernel/                the unpacked package (boot/, lib/modules/)
#   OUTDIR/vmlinuz                symlink to the kernel image
#   OUTDIR/kernel.version         the kernel version (uname -r in the guest)
# Re-runs are offline and instant once kernel.version matches what is
# unpacked. Nothing is ever written to / or the host's /boot.
set -eu

die() { echo "fetch-kernel: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: fetch-kernel.sh OUTDIR"
OUTDIR=$1
META=${PODVM_KERNEL_META:-linux-image-cloud-amd64}

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

# Fast path: already unpacked and consistent. No apt lookup at all, so
# re-runs work offline.
if [ -f "$OUTDIR/kernel.version" ]; then
	v=$(cat "$OUTDIR/kernel.version")
	if [ -n "$v" ] && [ -f "$OUTDIR/kernel/boot/vmlinuz-$v" ] &&
	   [ -f "$OUTDIR/kernel/lib/modules/$v/modules.dep" ] &&
	   [ -e "$OUTDIR/vmlinuz" ]; then
		exit 0
	fi
fi

command -v apt-cache >/dev/null || die "apt-cache not found (Debian host needed)"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found"
command -v depmod >/dev/null || die "depmod not found (install kmod)"

# The metapackage depends on exactly one versioned kernel package.
lookup() {
	apt-cache depends "$META" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1
}
PKG=$(lookup || true)
if [ -z "$PKG" ]; then
	echo "fetch-kernel: $META unknown to apt, running apt-get update" >&2
	apt-get update -q >/dev/null || die "apt-get update failed"
	PKG=$(lookup || true)
fi
[ -n "$PKG" ] || die "cannot find the kernel package $META depends on"
VERSION=${PKG#linux-image-}
echo "fetch-kernel: $PKG"

mkdir -p "$OUTDIR/dl"
DEB=$(ls "$OUTDIR/dl/${PKG}_"*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$DEB" ]; then
	# Download into a private dir and move the .deb into dl/ only once
	# apt has verified it, so an interrupted run leaves no truncated
	# package behind. As root, apt-get download drops to the _apt user,
	# which cannot write here; APT::Sandbox::User=root avoids the warning.
	DLTMP=$(mktemp -d "$OUTDIR/dl/.tmp.XXXXXX")
	trap 'rm -rf "$DLTMP"' EXIT INT TERM
	(cd "$DLTMP" &&
	 apt-get download -q -o APT::Sandbox::User=root "$PKG") ||
		die "apt-get download $PKG failed"
	for f in "$DLTMP/${PKG}_"*.deb; do
		[ -f "$f" ] || die "apt-get download $PKG left no .deb"
		mv "$f" "$OUTDIR/dl/"
	done
	rm -rf "$DLTMP"
	trap - EXIT INT TERM
	DEB=$(ls "$OUTDIR/dl/${PKG}_"*.deb 2>/dev/null | head -n 1 || true)
	[ -n "$DEB" ] || die "no .deb for $PKG in $OUTDIR/dl"
fi

# Unpack into a temp dir next to the target, then swap it in with rename so
# an interrupted run never leaves a half-unpacked kernel behind.
TMP=$(mktemp -d "$OUTDIR/.kernel.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
dpkg-deb -x "$DEB" "$TMP" || die "dpkg-deb -x $DEB failed"
[ -f "$TMP/boot/vmlinuz-$VERSION" ] ||
	die "$DEB has no boot/vmlinuz-$VERSION"
[ -d "$TMP/lib/modules/$VERSION" ] ||
	die "$DEB has no lib/modules/$VERSION"
# The .deb ships no modules.dep (the postinst makes it): build it here.
depmod -b "$TMP" "$VERSION" || die "depmod failed for $VERSION"
[ -f "$TMP/lib/modules/$VERSION/modules.dep" ] ||
	die "depmod wrote no modules.dep"

rm -f "$OUTDIR/kernel.version"
rm -rf "$OUTDIR/kernel.old"
[ ! -e "$OUTDIR/kernel" ] || mv "$OUTDIR/kernel" "$OUTDIR/kernel.old"
mv "$TMP" "$OUTDIR/kernel"
trap - EXIT INT TERM
rm -rf "$OUTDIR/kernel.old"

ln -sfn "kernel/boot/vmlinuz-$VERSION" "$OUTDIR/vmlinuz.tmp"
mv -f "$OUTDIR/vmlinuz.tmp" "$OUTDIR/vmlinuz"
# Written last: its presence means everything above is complete.
printf '%s\n' "$VERSION" > "$OUTDIR/kernel.version.tmp"
mv -f "$OUTDIR/kernel.version.tmp" "$OUTDIR/kernel.version"
echo "fetch-kernel: $VERSION ready in $OUTDIR"
