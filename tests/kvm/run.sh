#!/bin/bash
# The nested KVM harness behind `make test-kvm` (docs/kvm.md).
#
# Boots a first-level (L1) Debian VM under TCG with AMD SVM exposed, with
# the build tree on a read-only disk; inside, kvm_amd gives a real
# /dev/kvm, and podvm runs its pods as second-level (L2) VMs under KVM.
#
#   tests/kvm/run.sh [full|reduced]           the tests (l1-test.sh)
#   tests/kvm/run.sh --script NAME [ARGS...]  another script in tests/kvm/
#
# Prints the L1 script's result: "kvm: N passed, N failed" and the L2 pod
# start's stage timings. Exits non-zero on any failure; a problem that
# stops the run (no SVM, kvm_amd refused, image build failed, L1 crashed
# or timed out) is one line "test-kvm: ...". Leaves nothing behind: the
# L1 VM, its overlay, disks and console log go whatever happens.
#
# Environment: KVM_L1_CPU (QEMU -cpu for L1, default max), KVM_L1_MEM_MB
# (default 3072), KVM_L1_SMP (default 2), KVM_L1_APPEND (extra L1 kernel
# arguments), KVM_TIMEOUT (seconds for the whole L1 run, default 1800),
# KVM_L1_CACHE and KVM_L1_MIRROR (see mkimage.sh).
set -u
cd "$(dirname "$0")/../.."

die() { echo "test-kvm: $*" >&2; exit 1; }

SCRIPT=l1-test.sh
ARGS=full
case "${1:-full}" in
full|reduced) ARGS=${1:-full} ;;
--script) [ $# -ge 2 ] || die "usage: run.sh --script NAME [ARGS...]"
	  SCRIPT=$2; shift 2; ARGS="$*" ;;
*) die "usage: run.sh [full|reduced] | --script NAME [ARGS...]" ;;
esac
case $SCRIPT in
*/*|'') die "script name $SCRIPT: want a file name in tests/kvm/" ;;
esac
[ -f "tests/kvm/$SCRIPT" ] || die "no tests/kvm/$SCRIPT"

L1_CPU=${KVM_L1_CPU:-max}
L1_MEM=${KVM_L1_MEM_MB:-3072}
L1_SMP=${KVM_L1_SMP:-2}
TIMEOUT=${KVM_TIMEOUT:-1800}
GUEST=build/guest

[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap, libvirt's embedded driver inside)"
for t in qemu-system-x86_64 mkfs.erofs; do
	command -v $t >/dev/null || die "$t not found (run make deps)"
done
for f in build/podvm build/podvmd $GUEST/vmlinuz $GUEST/initramfs.img; do
	[ -e "$f" ] || die "$f missing (make all guest-image)"
done

T0=$(date +%s)
IMG=$(sh tests/kvm/mkimage.sh build/podvm build/podvmd) || exit 1

RUN=
QPID=
TPID=
cleanup() {
	[ -n "$QPID" ] && kill -9 "$QPID" 2>/dev/null && wait "$QPID" 2>/dev/null
	[ -n "$TPID" ] && kill "$TPID" 2>/dev/null && wait "$TPID" 2>/dev/null
	[ -n "$RUN" ] && rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

RUN=$(mktemp -d /tmp/podvm-kvm.XXXXXX) || die "mktemp failed"

# The shared build tree: what podvm needs inside, on a read-only erofs
# disk (the Debian cloud kernel has no 9p). Dereferenced copies, mode
# preserved, so the unprivileged QEMU user inside can read the guest files.
S=$RUN/share
mkdir -p "$S/build/guest" "$S/images" "$S/tests"
cp build/podvm build/podvmd "$S/build/" &&
cp -L $GUEST/vmlinuz $GUEST/initramfs.img "$S/build/guest/" &&
cp -r images/samples images/mksample.sh "$S/images/" &&
cp -r tests/kvm "$S/tests/" ||
	die "staging the build tree failed"
printf 'KVM_SCRIPT=%s\nKVM_ARGS="%s"\n' "$SCRIPT" "$ARGS" > "$S/l1.env"
chmod -R a+rX "$S"
mkfs.erofs --quiet --all-root "$RUN/share.img" "$S" >"$RUN/mkfs.log" 2>&1 ||
	die "mkfs.erofs of the build tree failed: $(tail -n1 "$RUN/mkfs.log")"
rm -rf "$S"
truncate -s 1M "$RUN/result.img"
: > "$RUN/console.log"

# Under TCG a busy host can hang the kernel's TSC calibration.
khz=$(awk -F: '/cpu MHz/ {printf "%d", $2 * 1000; exit}' /proc/cpuinfo)
echo "test-kvm: booting the first-level VM (TCG, -cpu $L1_CPU, ${L1_MEM} MiB, $L1_SMP vCPUs)"
# No network: the image holds everything. snapshot=on: writes go to a
# temp file QEMU unlinks at once, the cached image stays as built.
qemu-system-x86_64 -M microvm,acpi=on -accel tcg,thread=multi,tb-size=256 \
	-cpu "$L1_CPU" -smp "$L1_SMP" -m "$L1_MEM" \
	-nodefaults -no-user-config -display none -no-reboot -nic none \
	-kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.img" \
	-append "console=ttyS0 root=/dev/vda rw init=/sbin/podvm-l1-init panic=-1 loglevel=4 tsc_early_khz=${khz:-2000000} ${KVM_L1_APPEND:-}" \
	-drive id=root,file="$IMG/root.img",format=raw,if=none,snapshot=on \
	-device virtio-blk-device,drive=root,serial=podvm-root \
	-drive id=share,file="$RUN/share.img",format=raw,if=none,readonly=on \
	-device virtio-blk-device,drive=share,serial=podvm-share \
	-drive id=result,file="$RUN/result.img",format=raw,if=none \
	-device virtio-blk-device,drive=result,serial=podvm-result \
	-serial file:"$RUN/console.log" 2>"$RUN/qemu.err" &
QPID=$!
# Show the L1 script's progress as it runs.
tail -n +1 -f --pid=$QPID "$RUN/console.log" 2>/dev/null |
	sed -u -n '/^podvm-l1: start/,$p' &
TPID=$!

timed_out=0
deadline=$(( $(date +%s) + TIMEOUT ))
while kill -0 $QPID 2>/dev/null; do
	if [ "$(date +%s)" -ge $deadline ]; then
		timed_out=1
		kill -9 $QPID 2>/dev/null
		break
	fi
	sleep 1
done
wait $QPID 2>/dev/null
qrc=$?
QPID=
wait $TPID 2>/dev/null
TPID=

tr -d '\000' < "$RUN/result.img" > "$RUN/result.txt"
fatal=$(sed -n 's/^fatal: //p' "$RUN/result.txt" | head -n1)
[ -n "$fatal" ] && die "$fatal"
l1rc=$(sed -n 's/^l1-exit: \([0-9]*\)$/\1/p' "$RUN/result.txt" | tail -n1)
if [ -z "$l1rc" ]; then
	[ $timed_out = 1 ] && die "the first-level VM did not finish within ${TIMEOUT}s (console: $(grep -v '^\s*$' "$RUN/console.log" | tail -n1))"
	[ -s "$RUN/qemu.err" ] && [ $qrc -ne 0 ] && die "QEMU failed: $(tail -n1 "$RUN/qemu.err")"
	die "the first-level VM stopped without a result (console: $(grep -v '^\s*$' "$RUN/console.log" | tail -n1))"
fi
sed -i '/^l1-exit: /d' "$RUN/result.txt"
echo "test-kvm: the first-level run took $(( $(date +%s) - T0 ))s"
if [ "$SCRIPT" != l1-test.sh ]; then
	cat "$RUN/result.txt"
	exit "$l1rc"
fi
grep -qE '^kvm: [0-9]+ passed, [0-9]+ failed$' "$RUN/result.txt" ||
	die "the first-level test ended without its result line (exit $l1rc)"
# The failed checks, the result line, then what follows it (stage timings).
grep -E '^FAIL' "$RUN/result.txt"
sed -n '/^kvm: [0-9]* passed, [0-9]* failed$/,$p' "$RUN/result.txt"
[ "$l1rc" = 0 ] && grep -qE '^kvm: [0-9]+ passed, 0 failed$' "$RUN/result.txt"
