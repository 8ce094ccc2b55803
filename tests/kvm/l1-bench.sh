#!/bin/bash
# Runs inside the first-level VM (tests/bench/bench_kvm_nested.sh): the
# hello pod's start under KVM against the same start under TCG, both as
# second-level VMs of the same first-level VM. Usage:
#   l1-bench.sh RESULT_FILE [KVM_RUNS] [TCG_RUNS]
# One warm-up run first (libvirt probes QEMU's capabilities once). Prints
# each stage's median time since the start of `podvm run`, side by side,
# and the ratio TCG/KVM; then the same kernel booted by a bare QEMU to
# podvm-init under both (a TCG pod inside TCG may miss podvm's 180 s boot
# deadline; the bare boot has none).
set -u
RESULT=$1
KRUNS=${2:-3}
TRUNS=${3:-1}
ok() { echo "ok: $*"; }
. /podvm/tests/kvm/l1-lib.sh
W=$(mktemp -d /tmp/l1b.XXXXXX)
: > "$RESULT"
STAGES="VM started|agent ready|containers started|pod done"

l1_kvm_setup
l1_samples

# once ACCEL N: one podvm run; the stage times (s) in $W/ACCEL.N
once() {
	local accel=$1 n=$2
	if [ "$accel" = tcg ]; then export PODVM_ACCEL=tcg; else unset PODVM_ACCEL; fi
	timeout 900 "$PODVM" run --verbose $SRC/images/samples/hello.yaml \
		>/dev/null 2>"$W/err"
	local rc=$?
	unset PODVM_ACCEL
	grep -q "^podvm: VMs run on KVM$" "$W/err" && got=kvm || got=tcg
	[ "$got" = "$accel" ] || fatal "asked for $accel, podvm ran $got"
	stage_lines "$W/err" | sed -E 's/^  (.*[a-z]) +([0-9.]+)s .*/\1=\2/' > "$W/$accel.$n"
	echo "   $accel run $n: exit $rc, $(tr '\n' ' ' < "$W/$accel.$n")"
	[ $rc = 0 ] || echo "$accel run $n failed (exit $rc): $(grep -v '^\[pod' "$W/err" | tail -n1)" >>"$RESULT"
}

# bare ACCEL N: the same kernel and initramfs in a bare QEMU, seconds to
# the kernel handing over to podvm-init (no podvm, no boot timeout: under
# TCG inside TCG a pod may miss podvm's 180 s boot deadline)
bare() {
	local accel=$1 cpu=host,pmu=off extra="" fifo=$W/serial t0 t1 qpid
	[ "$accel" = tcg ] && { cpu=max; extra="tsc_early_khz=$(awk -F: '/cpu MHz/ {printf "%d", $2 * 1000; exit}' /proc/cpuinfo)"; }
	rm -f "$fifo"; mkfifo "$fifo"
	t0=$(secs)
	qemu-system-x86_64 -M microvm,accel=$accel,acpi=on -cpu $cpu -m 512 \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial "file:$fifo" -kernel $SRC/build/guest/vmlinuz \
		-initrd $SRC/build/guest/initramfs.img \
		-append "console=ttyS0 reboot=k panic=-1 rdinit=/init $extra" &
	qpid=$!
	timeout 900 grep -m1 -q 'Run /init as init process' <"$fifo"
	t1=$(secs)
	kill -9 $qpid 2>/dev/null; wait $qpid 2>/dev/null
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "boot=%.3f\n", b - a}' > "$W/bare-$accel.$2"
	echo "   bare $accel $2: $(cat "$W/bare-$accel.$2")"
}

once kvm 0   # warm-up, not counted
for i in $(seq 1 "$KRUNS"); do once kvm "$i"; done
for i in $(seq 1 "$TRUNS"); do once tcg "$i"; done
for i in $(seq 1 "$TRUNS"); do bare kvm "$i"; bare tcg "$i"; done

median() { sort -n | awk '{a[NR]=$1} END {if (!NR) print "-"; else if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
stage_median() {  # ACCEL STAGE
	cat "$W/$1".[1-9]* 2>/dev/null | sed -n "s/^$2=//p" | median
}
{
	echo "second-level hello pod start inside one first-level VM (TCG, nested SVM):"
	echo "medians of $KRUNS KVM and $TRUNS TCG runs after one warm-up; seconds since podvm run began"
	printf '  %-20s %9s %9s %9s\n' stage KVM TCG TCG/KVM
	IFS='|'
	for st in $STAGES; do
		k=$(stage_median kvm "$st"); t=$(stage_median tcg "$st")
		r=$(awk -v k="$k" -v t="$t" 'BEGIN {if (k > 0 && t > 0) printf "%.1fx", t / k; else print "-"}')
		printf '  %-20s %9s %9s %9s\n' "$st" "$k" "$t" "$r"
	done
	unset IFS
	echo "guest boot alone (VM started -> agent ready):"
	for a in kvm tcg; do
		for f in "$W/$a".[1-9]*; do
			[ -f "$f" ] || continue
			awk -F= '$1=="VM started" {v=$2} $1=="agent ready" {a=$2} END {if (v && a) print a - v}' "$f"
		done | median > "$W/boot.$a"
	done
	k=$(cat "$W/boot.kvm"); t=$(cat "$W/boot.tcg")
	printf '  %-20s %9s %9s %9s\n' "boot" "$k" "$t" \
		"$(awk -v k="$k" -v t="$t" 'BEGIN {if (k > 0 && t > 0) printf "%.1fx", t / k; else print "-"}')"
	echo "bare QEMU, same kernel and initramfs, to podvm-init (no podvm):"
	k=$(cat "$W"/bare-kvm.* 2>/dev/null | sed -n 's/^boot=//p' | median)
	t=$(cat "$W"/bare-tcg.* 2>/dev/null | sed -n 's/^boot=//p' | median)
	printf '  %-20s %9s %9s %9s\n' "kernel to init" "$k" "$t" \
		"$(awk -v k="$k" -v t="$t" 'BEGIN {if (k > 0 && t > 0) printf "%.1fx", t / k; else print "-"}')"
} | tee -a "$RESULT"
rm -rf "$W"
