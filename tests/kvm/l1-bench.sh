#!/bin/bash
# Runs inside the first-level VM (tests/bench/bench_kvm_nested.sh): the
# hello pod's start under KVM against the same start under TCG, both as
# second-level VMs of the same first-level VM. Usage:
#   l1-bench.sh RESULT_FILE [KVM_RUNS] [TCG_RUNS]
# One warm-up run first (libvirt probes QEMU's capabilities once). Prints
# each stage's median time since the start of `podvm run`, side by side,
# and the ratio TCG/KVM.
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

once kvm 0   # warm-up, not counted
for i in $(seq 1 "$KRUNS"); do once kvm "$i"; done
for i in $(seq 1 "$TRUNS"); do once tcg "$i"; done

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
} | tee -a "$RESULT"
rm -rf "$W"
