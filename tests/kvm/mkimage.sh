#!/bin/sh
# Build, once, the first-level (L1) guest image of the nested KVM harness
# and print its directory. Cached outside the clone by the hash of what
# goes into it:
#   CACHE/HASH/root.img     ext4 root: Debian (same release and apt sources
#                           as the host, made with mmdebstrap) with exactly
#                           what podvm needs at run time
#   CACHE/HASH/vmlinuz      the Debian cloud kernel (kvm_amd is a module)
#   CACHE/HASH/initrd.img   its initramfs (Debian's initramfs-tools)
#   CACHE/HASH/ready        written last: the image is complete
# The image never changes once built: VMs boot it with a throw-away
# overlay; the cache keeps the three newest. Usage: mkimage.sh
# PODVM_BINARY... (the host binaries whose shared libraries the image must
# hold). Environment: KVM_L1_CACHE
# (default /var/cache/podvm/kvm-l1), KVM_L1_MIRROR (a mirror URL instead
# of the host's apt sources).
# Failures print one line "test-kvm: ..." on stderr and exit non-zero,
# leaving no partial image and no mount behind.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${KVM_L1_CACHE:-/var/cache/podvm/kvm-l1}

die() { echo "test-kvm: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: mkimage.sh PODVM_BINARY..."
for t in mmdebstrap mkfs.ext4 unshare flock; do
	command -v "$t" >/dev/null || die "$t not found (run make deps)"
done

# The host's release and its Debian apt sources (disabled files skipped).
. /etc/os-release
SUITE=${VERSION_CODENAME:-}
[ -n "$SUITE" ] || die "cannot tell the host's Debian release from /etc/os-release"
SOURCES=""
if [ -n "${KVM_L1_MIRROR:-}" ]; then
	SOURCES=$KVM_L1_MIRROR
else
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		 /etc/apt/sources.list.d/*.sources; do
		[ -s "$f" ] && SOURCES="$SOURCES $f"
	done
fi
[ -n "$SOURCES" ] || die "the host has no apt sources to build the first-level image from"

# Shared libraries of the podvm binaries -> the packages that ship them
# (one dpkg query; a library may be known under /lib or /usr/lib).
libpkgs() {
	for bin in "$@"; do
		[ -x "$bin" ] || die "$bin not built"
	done
	ldd "$@" | awk '/=> \// {print $3}' | sort -u | while read -r lib; do
		real=$(readlink -f "$lib")
		for p in "$lib" "$real"; do
			echo "$p"
			case $p in
			/usr/lib/*) echo "${p#/usr}" ;;
			/lib/*) echo "/usr$p" ;;
			esac
		done
	done | sort -u | xargs dpkg -S 2>/dev/null | cut -d: -f1 | sort -u
}
LIBPKGS=$(libpkgs "$@" | tr '\n' ' ')
# What podvm needs besides its libraries: the VMM and libvirt's embedded
# QEMU driver (libvirt-daemon-system creates the libvirt-qemu user),
# mkfs.erofs for image conversion, busybox-static for the sample image,
# kmod for kvm_amd, procps for the checks, and a kernel with kvm_amd.
PKGS="linux-image-cloud-amd64 qemu-system-x86 libvirt-daemon-driver-qemu
libvirt-daemon-system erofs-utils busybox-static kmod procps $LIBPKGS"
PKGS=$(echo $PKGS | tr ' ' '\n' | sort -u | tr '\n' ',' | sed 's/,$//')

HASH=$( {
	cat "$0" "$HERE/l1-init.sh"
	echo "$SUITE $PKGS ${KVM_L1_MIRROR:-}"
	for f in $SOURCES; do [ -f "$f" ] && cat "$f"; done
} | sha256sum | cut -c1-16)
IMG=$CACHE/$HASH
if [ -f "$IMG/ready" ]; then
	echo "$IMG"
	exit 0
fi

mkdir -p "$CACHE"
# One builder at a time; a second one waits and then finds it ready.
exec 9>"$CACHE/.lock"
flock 9
if [ -f "$IMG/ready" ]; then
	echo "$IMG"
	exit 0
fi

WORK=$(mktemp -d "$CACHE/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM HUP
LOG=$WORK/mmdebstrap.log
echo "test-kvm: building the first-level image $HASH (once; cached in $CACHE)" >&2
start=$(date +%s)
# A private mount namespace: mmdebstrap's mounts inside the chroot (proc,
# sys, dev) vanish with it, even if it is killed.
# shellcheck disable=SC2086
if ! unshare --mount --propagation private \
	mmdebstrap --mode=root --variant=essential --format=directory \
	--include="$PKGS" \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--customize-hook="copy-in $HERE/l1-init.sh /sbin" \
	--customize-hook='mv "$1/sbin/l1-init.sh" "$1/sbin/podvm-l1-init"' \
	--customize-hook='chmod 0755 "$1/sbin/podvm-l1-init"' \
	"$SUITE" "$WORK/root" $SOURCES >"$LOG" 2>&1; then
	why=$(grep -m1 -E "^(E|W): (Failed to fetch|Could not|Unable to|Some index)|Temporary failure|Connection refused|Could not connect" "$LOG" | sed 's/^ *//' || true)
	if [ -n "$why" ]; then
		die "building the first-level image failed: apt cannot fetch from the apt sources ($why)"
	fi
	die "building the first-level image failed: mmdebstrap: $(grep -m1 -E '^E: ' "$LOG" || tail -n1 "$LOG")"
fi

ROOT=$WORK/root
KVER=$(ls "$ROOT/lib/modules" | head -n1)
[ -n "$KVER" ] && [ -f "$ROOT/boot/vmlinuz-$KVER" ] && [ -f "$ROOT/boot/initrd.img-$KVER" ] ||
	die "building the first-level image failed: no kernel and initramfs in the root"
find "$ROOT/lib/modules/$KVER" -name 'kvm-amd.ko*' | grep -q . ||
	die "building the first-level image failed: kernel $KVER has no kvm_amd module"
mkdir -p "$WORK/img"
cp "$ROOT/boot/vmlinuz-$KVER" "$WORK/img/vmlinuz"
cp "$ROOT/boot/initrd.img-$KVER" "$WORK/img/initrd.img"
# Room for the image store and the pods' files: a sparse file, so the
# free space costs nothing until used.
mb=$(( $(du -sm "$ROOT" | cut -f1) + 1024 ))
mkfs.ext4 -q -F -L podvm-l1 -d "$ROOT" "$WORK/img/root.img" "${mb}M" >>"$LOG" 2>&1 ||
	die "building the first-level image failed: mkfs.ext4: $(tail -n1 "$LOG")"
rm -rf "$ROOT"
echo "$KVER" > "$WORK/img/kernel.version"
echo "$(( $(date +%s) - start ))" > "$WORK/img/build-seconds"
rm -rf "$IMG"
mv "$WORK/img" "$IMG"
date -u +%FT%TZ > "$IMG/ready"
# Keep the three newest images (other branches may use another); older
# ones go, so the cache does not grow with every change to the image.
ls -1td "$CACHE"/*/ready 2>/dev/null | tail -n +4 | while read -r old; do
	rm -rf "${old%/ready}"
done
echo "test-kvm: first-level image built in $(cat "$IMG/build-seconds")s:" \
	"$(du -sh --apparent-size "$IMG/root.img" | cut -f1) root" \
	"($(du -sh "$IMG/root.img" | cut -f1) used)" >&2
echo "$IMG"
