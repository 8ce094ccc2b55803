#!/bin/sh
# Install, idempotently, every Debian package podvm's build, tests and
# runtime need, and prepare what libvirt's embedded QEMU driver needs.
# Safe to re-run: it only calls apt-get when something is missing.
set -eu

PKGS="
build-essential pkg-config
libvirt-dev libvirt-daemon-driver-qemu libvirt-daemon-system
qemu-system-x86
libjson-c-dev libyaml-dev libarchive-dev libssl-dev
libnl-3-dev libnl-route-3-dev libseccomp-dev
libmicrohttpd-dev libcurl4-openssl-dev
libcmocka-dev wrk
erofs-utils busybox-static cpio kmod gzip iproute2 curl python3
prometheus
clang libclang-rt-14-dev
zlib1g-dev libzstd-dev
docker-registry skopeo umoci openssl
mmdebstrap
"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# libvirt-daemon-system's postinst creates the libvirt-qemu user that
	# the embedded QEMU driver requires; services need not start.
	apt-get install -y -q --no-install-recommends $missing
fi

# The embedded driver refuses to start without this user; Debian creates it
# in libvirt-daemon-system, but a minimal image may have skipped the
# postinst.
if ! getent passwd libvirt-qemu >/dev/null; then
	getent group kvm >/dev/null || groupadd -r kvm
	useradd -r -g kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
fi
echo "deps: ok"
