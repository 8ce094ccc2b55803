#!/bin/sh
# Build OUTDIR/initramfs.img for the guest:
#   /init                          INIT (podvm-init), mode 0755
#   /lib/modules/podvm/*.ko        MODLIST's modules and their dependencies
#   /lib/modules/podvm/load.list   their file names, in load order
#   /dev /proc /sys /run /tmp      empty mount points
# Needs OUTDIR/kernel (images/fetch-kernel.sh). Rebuilds only when INIT,
# MODLIST, the kernel version, the compressor or this script changed (a
# checksum stamp), and the output is reproducible: sorted entries, uid 0,
# fixed mtimes.
set -eu

die() { echo "mkinitramfs: $*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: mkinitramfs.sh OUTDIR INIT MODLIST"
OUTDIR=$1 INIT=$2 MODLIST=$3

[ -f "$OUTDIR/kernel.version" ] ||
	die "$OUTDIR/kernel.version missing: run images/fetch-kernel.sh $OUTDIR first"
VERSION=$(cat "$OUTDIR/kernel.version")
MODDIR=$OUTDIR/kernel/lib/modules/$VERSION
[ -f "$MODDIR/modules.dep" ] || die "$MODDIR/modules.dep missing"
[ -f "$INIT" ] || die "init binary $INIT not found"
[ -f "$MODLIST" ] || die "module list $MODLIST not found"
CONFIG=$OUTDIR/kernel/boot/config-$VERSION
[ -f "$CONFIG" ] || die "$CONFIG missing"

# Fastest decompressor the kernel has built in (CONFIG_RD_*) and the host
# has a tool for; zstd decompresses several times faster than gzip, which
# matters under TCG where the guest's CPU is emulated.
# PODVM_INITRAMFS_COMPRESS=zstd|gzip|none overrides.
has_rd() { grep -q "^CONFIG_RD_$1=y" "$CONFIG"; }
COMP=${PODVM_INITRAMFS_COMPRESS:-}
if [ -z "$COMP" ]; then
	if has_rd ZSTD && command -v zstd >/dev/null; then
		COMP=zstd
	elif has_rd GZIP; then
		COMP=gzip
	else
		COMP=none
	fi
fi
case $COMP in
zstd) has_rd ZSTD || die "kernel $VERSION cannot unpack a zstd initramfs" ;;
gzip) has_rd GZIP || die "kernel $VERSION cannot unpack a gzip initramfs" ;;
none) ;;
*) die "unknown compression '$COMP' (zstd, gzip or none)" ;;
esac

SELF=$0
STAMP=$OUTDIR/initramfs.stamp
IMG=$OUTDIR/initramfs.img
want=$( {
	printf 'version %s\ncompress %s\n' "$VERSION" "$COMP"
	sha256sum "$INIT" "$MODLIST" "$SELF" | cut -d' ' -f1
} )
if [ -f "$IMG" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
	exit 0
fi

# Module names from MODLIST, comments and blanks dropped.
mods=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$MODLIST")
[ -n "$mods" ] || die "$MODLIST names no module"

# Dependencies first, each module once: depth-first over modules.dep. A
# dependency's own line is followed rather than trusting the order of a
# line, so "a: b c" loads c's deps, c and b's deps, b before a. '-' and '_'
# are the same in module names.
order=$(printf '%s\n' $mods | awk -v depfile="$MODDIR/modules.dep" '
	function norm(s,  b) {
		b = s; sub(/.*\//, "", b); sub(/\.ko(\.[a-z]+)?$/, "", b)
		gsub(/-/, "_", b); return b
	}
	function visit(p, stack,  n, i, d) {
		if (p in done) return
		if (p in onstack) { print "dependency loop at " p > "/dev/stderr"; bad = 1; return }
		onstack[p] = 1
		n = split(deps[p], d, " ")
		for (i = n; i >= 1; i--) visit(d[i])
		delete onstack[p]
		done[p] = 1; out[++nout] = p
	}
	BEGIN {
		while ((getline line < depfile) > 0) {
			c = index(line, ":"); p = substr(line, 1, c - 1)
			deps[p] = substr(line, c + 1); path[norm(p)] = p
		}
		close(depfile)
	}
	{
		m = $0; gsub(/-/, "_", m)
		if (!(m in path)) { print "module " $0 " not in modules.dep" > "/dev/stderr"; bad = 1; next }
		visit(path[m])
	}
	END { if (bad) exit 1; for (i = 1; i <= nout; i++) print out[i] }
') || die "cannot resolve the modules in $MODLIST for kernel $VERSION"

WORK=$(mktemp -d "$OUTDIR/.initramfs.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
ROOT=$WORK/root
mkdir -p "$ROOT/lib/modules/podvm"
for d in dev proc sys run tmp; do mkdir -p "$ROOT/$d"; done
chmod 0755 "$ROOT" "$ROOT/dev" "$ROOT/proc" "$ROOT/sys" "$ROOT/run" \
	"$ROOT/lib" "$ROOT/lib/modules" "$ROOT/lib/modules/podvm"
chmod 1777 "$ROOT/tmp"
cp "$INIT" "$ROOT/init"
chmod 0755 "$ROOT/init"

: > "$ROOT/lib/modules/podvm/load.list"
for p in $order; do
	src=$MODDIR/$p
	base=${p##*/}
	case $p in
	*.ko.xz)  base=${base%.xz};  xz -dc "$src" > "$ROOT/lib/modules/podvm/$base" ;;
	*.ko.zst) base=${base%.zst}; zstd -q -dc "$src" > "$ROOT/lib/modules/podvm/$base" ;;
	*.ko.gz)  base=${base%.gz};  gzip -dc "$src" > "$ROOT/lib/modules/podvm/$base" ;;
	*.ko)     cp "$src" "$ROOT/lib/modules/podvm/$base" ;;
	*) die "unexpected module file $p" ;;
	esac
	chmod 0644 "$ROOT/lib/modules/podvm/$base"
	printf '%s\n' "$base" >> "$ROOT/lib/modules/podvm/load.list"
done
chmod 0644 "$ROOT/lib/modules/podvm/load.list"

# Reproducible archive: sorted names, owner 0:0, every mtime at the epoch.
find "$ROOT" -exec touch -h -d @0 {} +
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) > "$WORK/initramfs.cpio" ||
	die "cpio failed"
case $COMP in
zstd) zstd -q -19 -T0 -c "$WORK/initramfs.cpio" > "$WORK/initramfs.img" ;;
gzip) gzip -9 -n -c "$WORK/initramfs.cpio" > "$WORK/initramfs.img" ;;
none) mv "$WORK/initramfs.cpio" "$WORK/initramfs.img" ;;
esac || die "$COMP compression failed"

mv -f "$WORK/initramfs.img" "$IMG"
printf '%s\n' "$want" > "$WORK/stamp"
mv -f "$WORK/stamp" "$STAMP"
echo "mkinitramfs: $IMG ($COMP, $(wc -c < "$IMG") bytes," \
	"modules: $(tr '\n' ' ' < "$ROOT/lib/modules/podvm/load.list"| sed 's/ $//'))"
