#!/bin/sh
# Run every benchmark under tests/bench/ (bench_*.sh).
set -eu
cd "$(dirname "$0")/../.."
for b in tests/bench/bench_*.sh; do
	echo "=== $(basename "$b" .sh)"
	bash "$b"
done
