#!/bin/sh
# The static guest init must carry no host code: pod/ and util/ are leaves
# that it links without the image store, launch, the VMM or the daemon.
# Fails when build/podvm-init defines any global symbol that a host-only
# object defines, or any image-store symbol.
#   usage: check-guest-link.sh BUILD_DIR
set -eu
B=${1:-build}
init=$B/podvm-init
[ -x "$init" ] || { echo "guest-link: $init missing" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# global text/data symbols defined by the host-only folders' objects
find "$B/host" -name '*.o' ! -path "$B/host/pod/*" ! -path "$B/host/util/*" \
	-exec nm --defined-only -g {} + 2>/dev/null |
	awk 'NF == 3 && $3 != "main" { print $3 }' | sort -u > "$tmp/host"
nm --defined-only "$init" | awk 'NF == 3 { print $3 }' | sort -u > "$tmp/init"
comm -12 "$tmp/host" "$tmp/init" > "$tmp/both"
grep -E '^(image_|images_|store_|runtime_build$|runtime_env_|runtime_expand$)' \
	"$tmp/init" >> "$tmp/both" || true
if [ -s "$tmp/both" ]; then
	echo "guest-link: podvm-init carries host-only symbols:" >&2
	sort -u "$tmp/both" | sed 's/^/  /' >&2
	exit 1
fi
n=$(wc -l < "$tmp/host")
echo "guest-link: podvm-init defines none of the $n host-only symbols"
