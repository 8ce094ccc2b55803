#!/bin/sh
# Run every unit test binary (built with ASan/UBSan) and print one summary
# line that CI reads: "unit: N passed, N failed".
set -u
pass=0; fail=0; failed=""
for t in "$@"; do
	name=$(basename "$t")
	if out=$("$t" 2>&1); then
		pass=$((pass + 1))
		printf '%s\n' "$out" | grep -E '^\[  (PASSED|FAILED)  \]' | sed "s/^/$name: /"
	else
		fail=$((fail + 1)); failed="$failed $name"
		printf '%s\n' "$out"
	fi
done
[ -n "$failed" ] && echo "unit: failing:$failed"
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
