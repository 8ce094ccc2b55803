#!/bin/sh
# Run every integration test (tests/integration/test_*.sh). They boot real
# microVMs; each test cleans up after itself and checks that nothing was
# left behind. Prints "integration: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
pass=0; fail=0; failed=""
for t in tests/integration/test_*.sh; do
	name=$(basename "$t" .sh)
	echo "=== $name"
	start=$(date +%s)
	if bash "$t"; then
		pass=$((pass + 1)); echo "--- PASS $name ($(( $(date +%s) - start ))s)"
	else
		fail=$((fail + 1)); failed="$failed $name"; echo "--- FAIL $name ($(( $(date +%s) - start ))s)"
	fi
done
[ -n "$failed" ] && echo "integration: failing:$failed"
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
