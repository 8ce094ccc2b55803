#!/bin/bash
# Build the registry tests' images into an OCI image layout with umoci:
#   busybox   Debian's busybox-static, every applet in /bin, Cmd ["sh"]
#   glibc     a dynamically linked threaded glibc program with its
#             libraries (ldd), Entrypoint ["/hello"]
#   glibc-plain  the same with an uncompressed layer
#   notar     hostile: its layer is gzip'd random bytes (digests all right)
#   multi     an index: linux/arm64 (a copy) + linux/amd64 (busybox)
#   noamd64   an index: linux/arm64 + linux/s390x only
#   big       (with BIG_MB=N) busybox plus 3 layers of N/3 MB of random
#             data, for the pull benchmark
# usage: mkimages.sh LAYOUT_DIR
set -eu
L=$1
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/podvm-mkimages.XXXXXX")
trap 'rm -rf "$W"' EXIT
PATHENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

umoci init --layout "$L"

new_image() {   # new_image TAG -> unpacked bundle in $W/TAG
	umoci new --image "$L:$1"
	umoci unpack --image "$L:$1" "$W/$1" >/dev/null
}

repack() {      # repack TAG
	umoci repack --image "$L:$1" "$W/$1" >/dev/null
	rm -rf "$W/$1"
}

busybox_root() {   # busybox_root DIR
	local r=$1
	mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/root"
	chmod 1777 "$r/tmp"
	cp /bin/busybox "$r/bin/busybox"
	for a in $(/bin/busybox --list); do
		case $a in busybox|*/*|'') ;; *) ln -sf busybox "$r/bin/$a" ;; esac
	done
	printf 'root:x:0:0:root:/root:/bin/sh\n' > "$r/etc/passwd"
	printf 'root:x:0:\n' > "$r/etc/group"
}

new_image busybox
busybox_root "$W/busybox/rootfs"
repack busybox
umoci config --image "$L:busybox" --config.cmd sh --config.env "$PATHENV" \
	--architecture amd64 --os linux

# glibc: the program and exactly the libraries it needs, at their paths.
new_image glibc
R=$W/glibc/rootfs
gcc -O2 -pthread -o "$W/hello" "$HERE/glibc_hello.c"
cp "$W/hello" "$R/hello"
for lib in $(ldd "$W/hello" | grep -o '/[^ ]*'); do
	mkdir -p "$R$(dirname "$lib")"
	cp -L "$lib" "$R$lib"
done
repack glibc
umoci config --image "$L:glibc" --config.entrypoint /hello --config.env "$PATHENV" \
	--architecture amd64 --os linux

python3 "$HERE/oci_plain.py" "$L" glibc glibc-plain
python3 "$HERE/oci_notar.py" "$L" busybox notar
python3 "$HERE/oci_index.py" "$L" busybox multi linux/arm64 linux/amd64
python3 "$HERE/oci_index.py" "$L" busybox noamd64 linux/arm64 linux/s390x

if [ -n "${BIG_MB:-}" ]; then
	umoci new --image "$L:big"
	for i in 1 2 3; do
		umoci unpack --image "$L:big" "$W/big" >/dev/null
		[ "$i" = 1 ] && busybox_root "$W/big/rootfs"
		head -c $((BIG_MB * 1024 * 1024 / 3)) /dev/urandom > "$W/big/rootfs/data$i"
		repack big
	done
	umoci config --image "$L:big" --config.cmd sh --config.env "$PATHENV" \
		--architecture amd64 --os linux
fi
umoci gc --layout "$L"
