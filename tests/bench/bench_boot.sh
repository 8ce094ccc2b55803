#!/bin/bash
# `podvm run` of the hello pod N times beside a bare qemu-system-x86_64 boot
# of the same kernel and initramfs up to the moment podvm-init starts, N
# times, interleaved in one run (these machines are noisy). Prints both
# medians and the ratio podvm/bare.
#
#   N=5 bash tests/bench/bench_boot.sh
set -eu
cd "$(dirname "$0")/../.."
N=${N:-5}
PODVM=${PODVM:-build/podvm}
GUEST=${PODVM_GUEST_DIR:-build/guest}
MANIFEST=${MANIFEST:-images/samples/hello.yaml}
export PODVM_RUN_DIR=/run/podvm-bench-$$
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$PODVM_RUN_DIR"' EXIT

accel=tcg
case "${PODVM_ACCEL:-}" in
kvm) accel=kvm ;;
tcg) accel=tcg ;;
*) # ask podvm which accelerator it picks (it probes /dev/kvm for real)
   if "$PODVM" run --verbose "$MANIFEST" 2>&1 >/dev/null | grep -q 'run on KVM'; then accel=kvm; fi ;;
esac
cpu="max"; extra="tsc_early_khz=$(awk -F: '/cpu MHz/ {printf "%d", $2*1000; exit}' /proc/cpuinfo)"
[ "$accel" = kvm ] && { cpu=host; extra=""; }

now_ms() { date +%s%3N; }

bare_once() {
	local t0 t1 fifo=$tmp/serial
	rm -f "$fifo"; mkfifo "$fifo"
	t0=$(now_ms)
	qemu-system-x86_64 -M microvm,accel=$accel,acpi=on -cpu $cpu -m 512 \
		-nodefaults -no-user-config -nographic -display none \
		-serial "file:$fifo" -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initramfs.img" \
		-append "console=ttyS0 reboot=k panic=-1 rdinit=/init $extra" -no-reboot &
	local qpid=$!
	# "Run /init as init process" is the kernel handing over to podvm-init
	grep -m1 -q 'Run /init as init process' <"$fifo" || true
	t1=$(now_ms)
	kill -9 $qpid 2>/dev/null; wait $qpid 2>/dev/null || true
	echo $((t1 - t0))
}

podvm_once() {
	local t0 t1
	t0=$(now_ms)
	"$PODVM" run "$MANIFEST" >/dev/null 2>&1
	t1=$(now_ms)
	echo $((t1 - t0))
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }

: >"$tmp/p"; : >"$tmp/b"
for i in $(seq 1 "$N"); do
	podvm_once >>"$tmp/p"
	bare_once >>"$tmp/b"
done
p=$(median <"$tmp/p"); b=$(median <"$tmp/b")
echo "accelerator:            $accel"
echo "runs:                   $N (interleaved)"
echo "podvm run hello (ms):   $(tr '\n' ' ' <"$tmp/p")  median $p"
echo "bare qemu to init (ms): $(tr '\n' ' ' <"$tmp/b")  median $b"
awk -v p="$p" -v b="$b" 'BEGIN {printf "ratio podvm/bare:       %.2f\n", p / b}'
