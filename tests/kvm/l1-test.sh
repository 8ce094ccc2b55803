#!/bin/bash
# Runs inside the first-level VM (tests/kvm/run.sh boots it): podvm on a
# real /dev/kvm. Usage: l1-test.sh RESULT_FILE [full|reduced]
#   reduced: SVM, kvm_amd, /dev/kvm, the probe, one pod with podvm run
#   full:    also a second two-container pod and a pod through podvmd
# Writes to RESULT_FILE the checks that failed, "kvm: N passed, N failed"
# and the stage timings of the second-level pod start; a problem that
# stops everything is one line "fatal: ...".
set -u
RESULT=$1
MODE=${2:-full}
PASS=0
FAIL=0
ok() { echo "ok: $*"; PASS=$((PASS + 1)); }
fail() {
	echo "FAIL: $*" | tee -a "$RESULT"
	FAIL=$((FAIL + 1))
}
. /podvm/tests/kvm/l1-lib.sh
W=$(mktemp -d /tmp/l1.XXXXXX)
: > "$RESULT"

# check WHAT PATTERN FILE
check() {
	if grep -qE -- "$2" "$3"; then ok "$1"; else
		fail "$1: no line matching '$2'"; sed 's/^/    | /' "$3" | tail -n 20
	fi
}

echo "== first-level VM up at $(secs)s, kernel $(uname -r), mode $MODE"
l1_kvm_setup

# podvm's probe must say yes here.
if "$PODVM" kvm-probe >"$W/probe" 2>&1; then
	ok "podvm kvm-probe: $(cat "$W/probe")"
else
	fail "podvm kvm-probe says no: $(cat "$W/probe")"
fi
l1_samples

# run_pod NAME MANIFEST: podvm run --verbose, output in $W/NAME.{out,err}
run_pod() {
	local t0=$(secs)
	timeout 600 "$PODVM" run --verbose "$2" >"$W/$1.out" 2>"$W/$1.err"
	RC=$?
	echo "   $1: exit $RC after $(awk -v a="$t0" -v b="$(secs)" 'BEGIN {printf "%.1f", b - a}')s"
}

# The hello pod (two busybox containers), KVM picked by podvm itself.
run_pod hello $SRC/images/samples/hello.yaml
[ $RC = 0 ] && ok "hello: podvm run exits 0" || fail "hello: podvm run exited $RC"
check "hello: podvm says it picked KVM" '^podvm: VMs run on KVM$' "$W/hello.err"
check "hello: the hello container ran" '^\[pod/hello/hello\] Hello from podvm' "$W/hello.out"
check "hello: the counter container ran" '^\[pod/hello/counter\] counter: done' "$W/hello.out"
check "hello: stage timings" 'podvm: pod done' "$W/hello.err"
stage_lines "$W/hello.err" > "$W/timings"

if [ "$MODE" = full ]; then
	# Two containers that meet in an emptyDir; the guest's clock
	# source shows it runs under KVM (kvm-clock exists only there).
	run_pod two $SRC/tests/kvm/two.yaml
	[ $RC = 0 ] && ok "two: podvm run exits 0" || fail "two: podvm run exited $RC"
	check "two: podvm says it picked KVM" '^podvm: VMs run on KVM$' "$W/two.err"
	check "two: the reader saw the writer's file" '^\[pod/two/reader\] got: written by writer$' "$W/two.out"
	check "two: the guest kernel runs on kvm-clock" '^\[pod/two/writer\] clocksource: .*kvm-clock' "$W/two.out"
	if grep -q '^\[pod/two/writer\] cmdline: ' "$W/two.out" &&
	   ! grep -q '^\[pod/two/writer\] cmdline: .*tsc_early_khz' "$W/two.out"; then
		ok "two: no tsc_early_khz on the guest command line under KVM"
	else
		fail "two: guest command line: $(grep '\] cmdline: ' "$W/two.out")"
	fi
	stage_lines "$W/two.err" > "$W/timings2"

	# The same through podvmd: create, Running, logs, delete.
	. $SRC/tests/kvm/l1-daemon.sh
	daemon_checks
fi

# Nothing left behind: no VMM process, nothing in the run dir but
# podvmd's embedded libvirt root (kept across restarts).
if pgrep -f qemu-system >"$W/left" || [ -n "$(ls -A $PODVM_RUN_DIR 2>/dev/null | grep -vx libvirt)" ]; then
	fail "something was left behind: $(cat "$W/left") $(ls -A $PODVM_RUN_DIR 2>/dev/null | tr '\n' ' ')"
else
	ok "nothing left behind"
fi

{
	echo "kvm: $PASS passed, $FAIL failed"
	echo "stage timings of the second-level pod start under KVM inside the first-level VM:"
	echo " hello (first pod: libvirt probes QEMU's capabilities):"
	cat "$W/timings"
	if [ -s "$W/timings2" ]; then
		echo " two (second pod):"
		cat "$W/timings2"
	fi
} >> "$RESULT"
rm -rf "$W"
[ $FAIL = 0 ]
