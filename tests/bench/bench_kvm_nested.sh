#!/bin/bash
# What KVM buys even when it is nested: the hello pod's start as a
# second-level VM under KVM against the same under TCG, inside one
# first-level VM that the nested KVM harness boots (tests/kvm/, docs/kvm.md).
# Prints each stage's median for both, side by side, and the ratio TCG/KVM.
# Slow: TCG inside TCG takes minutes per pod.
#
#   KVM_RUNS=3 TCG_RUNS=1 bash tests/bench/bench_kvm_nested.sh
set -eu
cd "$(dirname "$0")/../.."
exec bash tests/kvm/run.sh --script l1-bench.sh "${KVM_RUNS:-3}" "${TCG_RUNS:-1}"
