# Shared helpers for integration tests (bash). Each test gets its own run
# dir so that "nothing left behind" can be checked exactly.
set -u
PODVM=${PODVM:-build/podvm}
export PODVM_STATE_DIR=${PODVM_STATE_DIR:-/var/lib/podvm}
export PODVM_RUN_DIR=/run/podvm-test-$$
TMP=$(mktemp -d /tmp/podvm-it.XXXXXX)
FAILS=0

cleanup_lib() {
	# Anything still running from this test is a bug, but never leak it.
	pkill -9 -f "$PODVM_RUN_DIR/" 2>/dev/null || true
	rm -rf "$TMP" "$PODVM_RUN_DIR"
}
trap cleanup_lib EXIT

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

# expect_eq WHAT GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', want '$3'"; fi
}
# expect_grep WHAT PATTERN FILE
expect_grep() {
	if grep -qE -- "$2" "$3"; then ok "$1"; else fail "$1: no line matching '$2' in:"; sed 's/^/    | /' "$3"; fi
}
expect_no_grep() {
	if grep -qE -- "$2" "$3"; then fail "$1: unexpected line matching '$2' in:"; sed 's/^/    | /' "$3"; else ok "$1"; fi
}

# Nothing of ours may remain: no QEMU process using our run dir, no files
# in the run dir (but $CLEAN_ALLOW, e.g. podvmd's libvirt root, which it
# keeps across restarts), no conversion temp files in the store.
expect_clean() {
	local what=$1
	if pgrep -f "$PODVM_RUN_DIR/" >/dev/null; then
		fail "$what: a VMM process is still running:"; pgrep -af "$PODVM_RUN_DIR/" | sed 's/^/    | /'
	elif [ -d "$PODVM_RUN_DIR" ] && [ -n "$(ls -A "$PODVM_RUN_DIR" | grep -vxF "${CLEAN_ALLOW:-/}")" ]; then
		fail "$what: files left in $PODVM_RUN_DIR:"; ls -la "$PODVM_RUN_DIR" | sed 's/^/    | /'
	elif [ -d "$PODVM_STATE_DIR/images/tmp" ] && [ -n "$(ls -A "$PODVM_STATE_DIR/images/tmp")" ]; then
		fail "$what: temp files left in $PODVM_STATE_DIR/images/tmp"
	else
		ok "$what: nothing left behind"
	fi
}

# run_pod MANIFEST [ARGS...]: runs podvm, output in $TMP/out, $TMP/err, status in $RC
run_pod() {
	local m=$1; shift
	set +e
	timeout 600 "$PODVM" run "$@" "$m" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	set -e
}

finish() {
	if [ "$FAILS" -ne 0 ]; then echo "$FAILS check(s) failed"; exit 1; fi
	exit 0
}
