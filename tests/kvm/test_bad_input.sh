#!/bin/bash
# Bad input for the nested KVM harness: each case must stop `run.sh` with
# one line "test-kvm: CAUSE" as its last output line and a non-zero exit,
# and leave nothing behind (no QEMU, no run dir, no mount, no partial
# image). Cases: no SVM in the emulated CPU, kvm_amd refusing to load, a
# first-level image that cannot be built (apt sources unreachable).
# Prints "kvm-bad-input: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
PASS=0
FAIL=0
TMP=$(mktemp -d /tmp/podvm-kvm-bad.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

snapshot() {
	{
		ls -d /tmp/podvm-kvm.* 2>/dev/null
		grep -E 'podvm|kvm-l1' /proc/mounts
		pgrep -af 'qemu-system-x86_64 -M microvm,acpi=on -accel tcg' | grep -v pgrep
	} | sort
}

# case NAME WANT-REGEX ENV...: run the harness with ENV, check its end
case_() {
	local name=$1 want=$2 rc last
	shift 2
	snapshot > "$TMP/before"
	env "$@" KVM_TIMEOUT=600 bash tests/kvm/run.sh reduced >"$TMP/out" 2>&1
	rc=$?
	snapshot > "$TMP/after"
	last=$(tail -n1 "$TMP/out")
	if [ $rc -ne 0 ] && [[ $last =~ $want ]] &&
	   [ "$(grep -c '^test-kvm: .*\(no SVM\|refused\|failed\|without\|did not\)' "$TMP/out")" = 1 ]; then
		echo "ok: $name: exit $rc: $last"
		PASS=$((PASS + 1))
	else
		echo "FAIL: $name: exit $rc, last line '$last', want /$want/:"
		sed 's/^/    | /' "$TMP/out" | tail -n 15
		FAIL=$((FAIL + 1))
	fi
	if cmp -s "$TMP/before" "$TMP/after"; then
		echo "ok: $name: nothing left behind"
		PASS=$((PASS + 1))
	else
		echo "FAIL: $name: left behind:"; diff "$TMP/before" "$TMP/after" | sed 's/^/    | /'
		FAIL=$((FAIL + 1))
	fi
}

# (qemu64 without svm: QEMU 7.2's TCG runs glibc wrongly under max,-svm)
case_ "no SVM" '^test-kvm: the emulated CPU has no SVM' KVM_L1_CPU=qemu64,-svm
case_ "kvm_amd refused" '^test-kvm: kvm_amd refused to load: ' \
	KVM_L1_APPEND=module_blacklist=kvm_amd
# A cache of its own, so the unreachable mirror forces a build.
mkdir -p "$TMP/cache"
case_ "image build without the apt sources" \
	'^test-kvm: building the first-level image failed: apt cannot fetch from the apt sources' \
	KVM_L1_CACHE="$TMP/cache" KVM_L1_MIRROR=http://127.0.0.1:9/debian
if [ -n "$(ls -A "$TMP/cache" | grep -vx .lock)" ]; then
	echo "FAIL: image build: a partial image was left in the cache: $(ls -A "$TMP/cache")"
	FAIL=$((FAIL + 1))
else
	echo "ok: image build: no partial image left"
	PASS=$((PASS + 1))
fi
echo "kvm-bad-input: $PASS passed, $FAIL failed"
[ $FAIL = 0 ]
